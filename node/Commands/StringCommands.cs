using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The string family: GET, SET and the commands that read or change string values.</summary>
internal static class StringCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("get", 2, Get)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), Acl = "@read @string @fast",
            Summary = "Returns the string value of a key.", Complexity = "O(1)", Syntax = "key",
        },
        new("set", -3, Set)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), Acl = "@write @string @slow",
            Summary = "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Complexity = "O(1)",
            Syntax = "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        },
    ];

    private static void Get(Session s, ArgList a)
    {
        if (!s.TryReadString(a[1], out var value))
        {
            return;
        }
        if (value is null)
        {
            s.Reply.WriteNullBulk();
        }
        else
        {
            s.Reply.WriteBulk(value);
        }
    }

    [Flags]
    private enum SetOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Expire = 16,
    }

    private static void Set(Session s, ArgList a)
    {
        var options = SetOptions.None;
        long expireAt = 0;
        for (int i = 3; i < a.Count; i++)
        {
            var word = a[i];
            if (Ascii.EqualsIgnoreCase(word, "NX"u8) && (options & (SetOptions.Nx | SetOptions.Xx)) == 0)
            {
                options |= SetOptions.Nx;
            }
            else if (Ascii.EqualsIgnoreCase(word, "XX"u8) && (options & (SetOptions.Nx | SetOptions.Xx)) == 0)
            {
                options |= SetOptions.Xx;
            }
            else if (Ascii.EqualsIgnoreCase(word, "GET"u8) && (options & SetOptions.Get) == 0)
            {
                options |= SetOptions.Get;
            }
            else if (Ascii.EqualsIgnoreCase(word, "KEEPTTL"u8) && (options & (SetOptions.KeepTtl | SetOptions.Expire)) == 0)
            {
                options |= SetOptions.KeepTtl;
            }
            else if (ExpireOption.TryParseUnit(word, out var unit) && (options & (SetOptions.KeepTtl | SetOptions.Expire)) == 0 && i + 1 < a.Count)
            {
                options |= SetOptions.Expire;
                if (!ExpireOption.TryResolve(s, a[++i], unit, "set", out expireAt))
                {
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }

        var db = s.Db;
        int index = db.Find(a[1], touch: false);
        object? old = index >= 0 ? db.Table[index].Value : null;
        if ((options & SetOptions.Get) != 0 && old is not null and not byte[])
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        bool allowed = (options & SetOptions.Nx) != 0 ? index < 0 : (options & SetOptions.Xx) == 0 || index >= 0;
        if (allowed)
        {
            var value = a.Detach(2);
            if (index >= 0)
            {
                db.Table[index].Value = value;
                db.Table[index].Access = s.Keyspace.AccessClock;
                if ((options & SetOptions.KeepTtl) == 0)
                {
                    db.SetExpire(index, expireAt);
                }
            }
            else
            {
                index = db.Add(a.Detach(1), value);
                db.SetExpire(index, expireAt);
            }
            if (expireAt != 0 && expireAt <= s.Keyspace.NowMs)
            {
                // An absolute time already past: the key is set and gone at once, as in Redis.
                db.DeleteExpired(index);
            }
        }
        if ((options & SetOptions.Get) != 0)
        {
            if (old is byte[] previous)
            {
                s.Reply.WriteBulk(previous);
            }
            else
            {
                s.Reply.WriteNullBulk();
            }
        }
        else if (allowed)
        {
            s.Reply.WriteOk();
        }
        else
        {
            s.Reply.WriteNullBulk();
        }
    }
}
