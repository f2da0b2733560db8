using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using static CacheOperator.Node.Commands.CollectionCommandHelpers;

namespace CacheOperator.Node.Commands;

/// <summary>The hash family: HSET, HGET, HGETALL, HINCRBY, HRANDFIELD, HSCAN and the other commands on hashes.</summary>
internal static class HashCommands
{
    private const CommandFlags WriteFast = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
    private const CommandFlags ReadFast = CommandFlags.ReadOnly | CommandFlags.Fast;

    public static IEnumerable<CommandSpec> All =>
    [
        new("hset", -4, HSet)
        {
            Flags = WriteFast, Keys = (1, 1, 1), Acl = "@write @hash @fast", Since = "2.0.0", Syntax = "key field value [field value ...]",
            Summary = "Set the string value of a hash field",
            Complexity = "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
        },
        new("hmset", -4, HMSet)
        {
            Flags = WriteFast, Keys = (1, 1, 1), Acl = "@write @hash @fast", Since = "2.0.0", Syntax = "key field value [field value ...]",
            Summary = "Set multiple hash fields to multiple values", Complexity = "O(N) where N is the number of fields being set.",
        },
        new("hsetnx", 4, HSetNx)
        {
            Flags = WriteFast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @hash @fast", Since = "2.0.0", Syntax = "key field value",
            Summary = "Set the value of a hash field, only if the field does not exist", Complexity = "O(1)",
        },
        new("hget", 3, HGet)
        {
            Flags = ReadFast, Keys = (1, 1, 1), Acl = "@read @hash @fast", Since = "2.0.0", Syntax = "key field",
            Summary = "Get the value of a hash field", Complexity = "O(1)",
        },
        new("hmget", -3, HMGet)
        {
            Flags = ReadFast, Keys = (1, 1, 1), Acl = "@read @hash @fast", Since = "2.0.0", Syntax = "key field [field ...]",
            Summary = "Get the values of all the given hash fields", Complexity = "O(N) where N is the number of fields being requested.",
        },
        new("hgetall", 2, HGetAll)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @hash @slow", Since = "2.0.0", Syntax = "key",
            Summary = "Get all the fields and values in a hash", Complexity = "O(N) where N is the size of the hash.",
        },
        new("hkeys", 2, HKeys)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @hash @slow", Since = "2.0.0", Syntax = "key",
            Summary = "Get all the fields in a hash", Complexity = "O(N) where N is the size of the hash.",
        },
        new("hvals", 2, HVals)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @hash @slow", Since = "2.0.0", Syntax = "key",
            Summary = "Get all the values in a hash", Complexity = "O(N) where N is the size of the hash.",
        },
        new("hdel", -3, HDel)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @hash @fast", Since = "2.0.0", Syntax = "key field [field ...]",
            Summary = "Delete one or more hash fields", Complexity = "O(N) where N is the number of fields to be removed.",
        },
        new("hexists", 3, HExists)
        {
            Flags = ReadFast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @hash @fast", Since = "2.0.0", Syntax = "key field",
            Summary = "Determine if a hash field exists", Complexity = "O(1)",
        },
        new("hlen", 2, HLen)
        {
            Flags = ReadFast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @hash @fast", Since = "2.0.0", Syntax = "key",
            Summary = "Get the number of fields in a hash", Complexity = "O(1)",
        },
        new("hstrlen", 3, HStrLen)
        {
            Flags = ReadFast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @hash @fast", Since = "3.2.0", Syntax = "key field",
            Summary = "Get the length of the value of a hash field", Complexity = "O(1)",
        },
        new("hincrby", 4, HIncrBy)
        {
            Flags = WriteFast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @hash @fast", Since = "2.0.0", Syntax = "key field increment",
            Summary = "Increment the integer value of a hash field by the given number", Complexity = "O(1)",
        },
        new("hincrbyfloat", 4, HIncrByFloat)
        {
            Flags = WriteFast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @hash @fast", Since = "2.6.0", Syntax = "key field increment",
            Summary = "Increment the float value of a hash field by the given amount", Complexity = "O(1)",
        },
        new("hrandfield", -2, HRandField)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @hash @slow", Since = "6.2.0", Syntax = "key [count [WITHVALUES]]",
            Summary = "Get one or multiple random fields from a hash", Complexity = "O(N) where N is the number of fields returned",
        },
        new("hscan", -3, HScan)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @hash @slow", Since = "2.8.0", Syntax = "key cursor [MATCH pattern] [COUNT count]",
            Summary = "Incrementally iterate hash fields and associated values",
            Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        },
    ];

    private static void HSet(Session s, ArgList a)
    {
        if (SetPairs(s, a, out long added))
        {
            s.Reply.WriteInteger(added);
        }
    }

    private static void HMSet(Session s, ArgList a)
    {
        if (SetPairs(s, a, out _))
        {
            s.Reply.WriteOk();
        }
    }

    /// <summary>HSET and HMSET: field/value pairs from argument 2 on; false when an error was written.</summary>
    private static bool SetPairs(Session s, ArgList a, out long added)
    {
        added = 0;
        if (a.Count % 2 != 0)
        {
            s.Reply.WriteError(Errors.WrongArgs(a.Is(0, "HMSET"u8) ? "hmset" : "hset"));
            return false;
        }
        if (!TryFind<HashValue>(s, a[1], forRead: false, out int index, out var hash))
        {
            return false;
        }
        hash ??= new HashValue(s.Keyspace.EncodingLimits);
        for (int i = 2; i < a.Count; i += 2)
        {
            if (hash.Set(a[i], a[i + 1]))
            {
                added++;
            }
        }
        // Redis counts every field set, new or not.
        s.Db.CountChanges((a.Count - 2) / 2);
        Settle(s, a, 1, index, hash, KeyspaceEventTypes.Hash, "hset"u8);
        return true;
    }

    private static void HSetNx(Session s, ArgList a)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: false, out int index, out var hash))
        {
            return;
        }
        hash ??= new HashValue(s.Keyspace.EncodingLimits);
        if (hash.Contains(a[2]))
        {
            s.Reply.WriteInteger(0);
            return;
        }
        hash.Set(a[2], a[3]);
        Settle(s, a, 1, index, hash, KeyspaceEventTypes.Hash, "hset"u8);
        s.Reply.WriteInteger(1);
    }

    private static void HGet(Session s, ArgList a)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        WriteValueOrNull(s, hash, a[2]);
    }

    private static void HMGet(Session s, ArgList a)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int i = 2; i < a.Count; i++)
        {
            WriteValueOrNull(s, hash, a[i]);
        }
    }

    private static void HGetAll(Session s, ArgList a)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        int count = (int)(hash?.Count ?? 0);
        s.Reply.WriteMapHeader(count);
        for (int i = 0; i < count; i++)
        {
            s.Reply.WriteBulk(hash!.FieldAt(i));
            s.Reply.WriteBulk(hash.ValueAt(i));
        }
    }

    private static void HKeys(Session s, ArgList a) => WriteColumn(s, a, values: false);

    private static void HVals(Session s, ArgList a) => WriteColumn(s, a, values: true);

    /// <summary>HKEYS and HVALS: every field, or every value, as an array.</summary>
    private static void WriteColumn(Session s, ArgList a, bool values)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        int count = (int)(hash?.Count ?? 0);
        s.Reply.WriteArrayHeader(count);
        for (int i = 0; i < count; i++)
        {
            s.Reply.WriteBulk(values ? hash!.ValueAt(i) : hash!.FieldAt(i));
        }
    }

    private static void HDel(Session s, ArgList a)
    {
        if (!TryFind<HashValue>(s, a[1], forRead: false, out int index, out var hash))
        {
            return;
        }
        long removed = 0;
        if (hash is not null)
        {
            for (int i = 2; i < a.Count && hash.Count > 0; i++)
            {
                if (hash.Remove(a[i]))
                {
                    removed++;
                }
            }
            s.Db.CountChanges(removed);
            Settle(s, a, 1, index, hash, KeyspaceEventTypes.Hash, "hdel"u8, changed: removed > 0);
        }
        s.Reply.WriteInteger(removed);
    }

    private static void HExists(Session s, ArgList a)
    {
        if (TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            s.Reply.WriteInteger(hash is not null && hash.Contains(a[2]) ? 1 : 0);
        }
    }

    private static void HLen(Session s, ArgList a)
    {
        if (TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            s.Reply.WriteInteger(hash?.Count ?? 0);
        }
    }

    private static void HStrLen(Session s, ArgList a)
    {
        if (TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            s.Reply.WriteInteger(hash is not null && hash.TryGet(a[2], out var value) ? value.Length : 0);
        }
    }

    private static void HIncrBy(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[3], out long increment) || !TryFind<HashValue>(s, a[1], forRead: false, out int index, out var hash))
        {
            return;
        }
        hash ??= new HashValue(s.Keyspace.EncodingLimits);
        long current = 0;
        if (hash.TryGet(a[2], out var stored) && !NumberFormat.TryParseInt64(stored, out current))
        {
            s.Reply.WriteError("ERR hash value is not an integer");
            return;
        }
        if ((increment < 0 && current < 0 && increment < long.MinValue - current) ||
            (increment > 0 && current > 0 && increment > long.MaxValue - current))
        {
            s.Reply.WriteError(Errors.Overflow);
            return;
        }
        long result = current + increment;
        hash.Set(a[2], Encoding.ASCII.GetBytes(result.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Settle(s, a, 1, index, hash, KeyspaceEventTypes.Hash, "hincrby"u8);
        s.Reply.WriteInteger(result);
    }

    private static void HIncrByFloat(Session s, ArgList a)
    {
        // Redis computes in long double; ExtendedFloat reproduces its sums and digits exactly.
        if (!ExtendedFloat.TryParse(a[3], out var increment))
        {
            s.Reply.WriteError(Errors.NotFloat);
            return;
        }
        if (increment.IsInfinity)
        {
            s.Reply.WriteError("ERR value is NaN or Infinity");
            return;
        }
        if (!TryFind<HashValue>(s, a[1], forRead: false, out int index, out var hash))
        {
            return;
        }
        hash ??= new HashValue(s.Keyspace.EncodingLimits);
        var current = default(ExtendedFloat);
        if (hash.TryGet(a[2], out var stored) && !ExtendedFloat.TryParse(stored, out current))
        {
            s.Reply.WriteError("ERR hash value is not a float");
            return;
        }
        var result = ExtendedFloat.Add(current, increment);
        if (result.IsInfinity)
        {
            s.Reply.WriteError("ERR increment would produce NaN or Infinity");
            return;
        }
        var text = result.ToRedisText();
        hash.Set(a[2], text);
        Settle(s, a, 1, index, hash, KeyspaceEventTypes.Hash, "hincrbyfloat"u8);
        s.Server.Propagator.Rewrite("HSET"u8)?.Add(a[1]).Add(a[2]).Add(text);
        s.Reply.WriteBulk(text);
    }

    private static void HRandField(Session s, ArgList a)
    {
        if (a.Count == 2)
        {
            if (TryFind<HashValue>(s, a[1], forRead: true, out _, out var single))
            {
                if (single is null)
                {
                    s.Reply.WriteNullBulk();
                }
                else
                {
                    s.Reply.WriteBulk(single.FieldAt(Random.Shared.Next((int)single.Count)));
                }
            }
            return;
        }
        bool withValues = false;
        if (a.Count >= 4)
        {
            if (a.Count > 4 || !a.Is(3, "WITHVALUES"u8))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
            withValues = true;
        }
        if (!TryParseRandomCount(s, a[2], out long count))
        {
            return;
        }
        if (withValues && count < -(long.MaxValue / 2))
        {
            // The reply would count 2 * |count| elements: refused before it could overflow.
            s.Reply.WriteError("ERR value is out of range");
            return;
        }
        if (!TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        if (hash is null || count == 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        int size = (int)hash.Count;
        if (count < 0)
        {
            WriteRandomHeader(s, -count, withValues);
            for (long i = 0; i < -count; i++)
            {
                WriteRandomField(s, hash, Random.Shared.Next(size), withValues);
            }
            return;
        }
        if (count >= size)
        {
            WriteRandomHeader(s, size, withValues);
            for (int i = 0; i < size; i++)
            {
                WriteRandomField(s, hash, i, withValues);
            }
            return;
        }
        var positions = DistinctPositions(size, (int)count);
        WriteRandomHeader(s, positions.Length, withValues);
        foreach (int position in positions)
        {
            WriteRandomField(s, hash, position, withValues);
        }
    }

    /// <summary>HRANDFIELD's array: RESP3 WITHVALUES gives one [field, value] pair per pick, RESP2 a flat list.</summary>
    private static void WriteRandomHeader(Session s, long picks, bool withValues) =>
        s.Reply.WriteArrayHeader(checked((int)(withValues && s.Reply.Protocol == 2 ? picks * 2 : picks)));

    private static void WriteRandomField(Session s, HashValue hash, int position, bool withValues)
    {
        if (withValues && s.Reply.Protocol == 3)
        {
            s.Reply.WriteArrayHeader(2);
        }
        s.Reply.WriteBulk(hash.FieldAt(position));
        if (withValues)
        {
            s.Reply.WriteBulk(hash.ValueAt(position));
        }
    }

    private static void HScan(Session s, ArgList a)
    {
        if (!TryParseCursor(s, a[2], out ulong cursor) || !TryFind<HashValue>(s, a[1], forRead: true, out _, out var hash))
        {
            return;
        }
        if (hash is null)
        {
            WriteEmptyScan(s);
            return;
        }
        if (!TryParseScanOptions(s, a, out long count, out int patternArg))
        {
            return;
        }
        // Positions (compact form) or slots (table) of the fields to return; a scan of the compact form
        // returns it whole in one call, as Redis does.
        var picked = new List<int>();
        ulong next = 0;
        var table = hash.Table;
        if (table is not null)
        {
            var slots = new List<int>();
            next = ScanSlots(table, cursor, count, slots);
            foreach (int slot in slots)
            {
                if (patternArg < 0 || Glob.IsMatch(a[patternArg], table.KeyAt(slot)))
                {
                    picked.Add(slot);
                }
            }
        }
        else
        {
            for (int i = 0; i < hash.Count; i++)
            {
                if (patternArg < 0 || Glob.IsMatch(a[patternArg], hash.FieldAt(i)))
                {
                    picked.Add(i);
                }
            }
        }
        s.Reply.WriteArrayHeader(2);
        WriteCursor(s, next);
        s.Reply.WriteArrayHeader(picked.Count * 2);
        foreach (int at in picked)
        {
            s.Reply.WriteBulk(table is not null ? table.KeyAt(at) : hash.FieldAt(at));
            s.Reply.WriteBulk(table is not null ? table.RecordValueAt(at) : hash.ValueAt(at));
        }
    }

    private static void WriteValueOrNull(Session s, HashValue? hash, ReadOnlySpan<byte> field)
    {
        if (hash is not null && hash.TryGet(field, out var value))
        {
            s.Reply.WriteBulk(value);
        }
        else
        {
            s.Reply.WriteNullBulk();
        }
    }
}
