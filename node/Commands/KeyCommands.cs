using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The generic family: commands on keys of any type (DEL, EXISTS, EXPIRE, SCAN, ...).</summary>
internal static class KeyCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("del", -2, Del)
        {
            Flags = CommandFlags.Write, Keys = (1, -1, 1), Acl = "@keyspace @write @slow", Complexity = "O(N) where N is the number of keys that will be removed.",
            Summary = "Deletes one or more keys.", Syntax = "key [key ...]",
        },
        new("exists", -2, Exists)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, -1, 1), Acl = "@keyspace @read @fast", Complexity = "O(N) where N is the number of keys to check.",
            Summary = "Determines whether one or more keys exist.", Syntax = "key [key ...]",
        },
    ];

    private static void Del(Session s, ArgList a)
    {
        long deleted = 0;
        for (int i = 1; i < a.Count; i++)
        {
            if (s.Db.Delete(a[i]))
            {
                deleted++;
            }
        }
        s.Reply.WriteInteger(deleted);
    }

    private static void Exists(Session s, ArgList a)
    {
        long found = 0;
        for (int i = 1; i < a.Count; i++)
        {
            if (s.Db.Find(a[i], touch: false) >= 0)
            {
                found++;
            }
        }
        s.Reply.WriteInteger(found);
    }
}
