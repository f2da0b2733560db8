using System.Diagnostics.CodeAnalysis;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>Commands on whole databases: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB (SELECT is a connection command).</summary>
internal static class DatabaseCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("dbsize", 1, DbSize)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Acl = "@keyspace @read @fast", Complexity = "O(1)",
            Summary = "Return the number of keys in the selected database",
        },
        new("flushdb", -1, FlushDb)
        {
            Flags = CommandFlags.Write, Acl = "@keyspace @write @slow @dangerous", Complexity = "O(N) where N is the number of keys in the selected database",
            Summary = "Remove all keys from the current database", Syntax = "[ASYNC | SYNC]",
        },
        new("flushall", -1, FlushAll)
        {
            Flags = CommandFlags.Write, Acl = "@keyspace @write @slow @dangerous", Complexity = "O(N) where N is the total number of keys in all databases",
            Summary = "Remove all keys from all databases", Syntax = "[ASYNC | SYNC]",
        },
        new("swapdb", 3, SwapDb)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Acl = "@keyspace @write @fast @dangerous", Since = "4.0.0",
            Complexity = "O(N) where N is the count of clients watching or blocking on keys from both databases.",
            Summary = "Swaps two Redis databases", Syntax = "index1 index2",
        },
    ];

    /// <summary>
    /// Parses a database number as Redis's getIntFromObjectOrReply: an integer that fits 32 bits. With an
    /// <paramref name="error"/> that is the only error; without, Redis tells a non-number from a number out of range.
    /// </summary>
    private static bool TryParseDbIndex(Session s, ReadOnlySpan<byte> text, string? error, out int id)
    {
        id = 0;
        if (!NumberFormat.TryParseInt64(text, out long value))
        {
            s.Reply.WriteError(error ?? Errors.NotInteger);
            return false;
        }
        if (value is < int.MinValue or > int.MaxValue)
        {
            s.Reply.WriteError(error ?? "ERR value is out of range, value must between -2147483648 and 2147483647");
            return false;
        }
        id = (int)value;
        return true;
    }

    private static bool Exists(Session s, int id) => (uint)id < (uint)s.Keyspace.DatabaseCount;

    /// <summary>The database numbered by a MOVE or COPY argument; false after writing Redis's error.</summary>
    internal static bool TryGetDatabase(Session s, ReadOnlySpan<byte> text, [NotNullWhen(true)] out Database? db)
    {
        db = null;
        if (!TryParseDbIndex(s, text, error: null, out int id))
        {
            return false;
        }
        if (!Exists(s, id))
        {
            s.Reply.WriteError(Errors.DbIndexOutOfRange);
            return false;
        }
        db = s.Keyspace[id];
        return true;
    }

    private static void DbSize(Session s, ArgList a) => s.Reply.WriteInteger(s.Db.Count);

    /// <summary>SYNC or ASYNC, or nothing; anything else is a syntax error (written here).</summary>
    private static bool TryParseFlushMode(Session s, ArgList a)
    {
        if (a.Count == 1 || (a.Count == 2 && (a.Is(1, "SYNC"u8) || a.Is(1, "ASYNC"u8))))
        {
            return true;
        }
        s.Reply.WriteError(Errors.Syntax);
        return false;
    }

    /// <summary>
    /// SYNC and ASYNC both drop the key table at once: the old table is left to the garbage collector,
    /// which is what ASYNC's background freeing achieves in Redis.
    /// </summary>
    private static void FlushDb(Session s, ArgList a)
    {
        if (!TryParseFlushMode(s, a))
        {
            return;
        }
        s.Db.CountChanges(s.Db.Count);
        s.Db.Clear();
        // Propagated even when the database was empty already, as Redis does.
        s.Server.Propagator.Force();
        s.Reply.WriteOk();
    }

    private static void FlushAll(Session s, ArgList a)
    {
        if (!TryParseFlushMode(s, a))
        {
            return;
        }
        for (int i = 0; i < s.Keyspace.DatabaseCount; i++)
        {
            s.Db.CountChanges(s.Keyspace[i].Count);
            s.Keyspace[i].Clear();
        }
        // As Redis: a background save of the old data must not land after this, and with save rules the empty dataset is saved now.
        s.Server.Snapshots.DatasetFlushed();
        // Propagated even when every database was empty already, as Redis does.
        s.Server.Propagator.Force();
        s.Reply.WriteOk();
    }

    private static void SwapDb(Session s, ArgList a)
    {
        if (s.Server.Cluster is not null)
        {
            s.Reply.WriteError("ERR SWAPDB is not allowed in cluster mode");
            return;
        }
        if (!TryParseDbIndex(s, a[1], "ERR invalid first DB index", out int first)
            || !TryParseDbIndex(s, a[2], "ERR invalid second DB index", out int second))
        {
            return;
        }
        if (!Exists(s, first) || !Exists(s, second))
        {
            s.Reply.WriteError(Errors.DbIndexOutOfRange);
            return;
        }
        s.Keyspace.Swap(first, second);
        s.Reply.WriteOk();
    }
}
