using System.Globalization;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The string family: GET, SET and the commands that read or change string values.</summary>
internal static class StringCommands
{
    private const string GetRangeComplexity =
        "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.";

    public static IEnumerable<CommandSpec> All =>
    [
        new("get", 2, Get)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), Acl = "@read @string @fast",
            Summary = "Returns the string value of a key.", Complexity = "O(1)", Syntax = "key",
        },
        new("set", -3, Set)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @string @slow",
            KeySpecs = [KeySpec.Range("RW access update variable_flags", 1) with { Notes = "RW and ACCESS due to the optional `GET` argument" }],
            GetKeysProcedure = KeyExtractor.SetKeys,
            Summary = "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Complexity = "O(1)",
            Syntax = "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        },
        new("setnx", 3, SetNx)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "OW insert", Acl = "@write @string @fast",
            Summary = "Set the value of a key, only if the key does not exist", Complexity = "O(1)", Syntax = "key value",
        },
        new("setex", 4, SetEx)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), KeySpecFlags = "OW update", Acl = "@write @string @slow",
            Summary = "Set the value and expiration of a key", Since = "2.0.0", Complexity = "O(1)", Syntax = "key seconds value",
        },
        new("psetex", 4, PSetEx)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), KeySpecFlags = "OW update", Acl = "@write @string @slow",
            Summary = "Set the value and expiration in milliseconds of a key", Since = "2.6.0", Complexity = "O(1)", Syntax = "key milliseconds value",
        },
        new("getset", 3, GetSet)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Set the string value of a key and return its old value", Complexity = "O(1)", Syntax = "key value",
        },
        new("getdel", 2, GetDel)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access delete", Acl = "@write @string @fast",
            Summary = "Get the value of a key and delete the key", Since = "6.2.0", Complexity = "O(1)", Syntax = "key",
        },
        new("getex", -2, GetEx)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Acl = "@write @string @fast",
            KeySpecs = [KeySpec.Range("RW access update", 1) with { Notes = "RW and UPDATE because it changes the TTL" }],
            Summary = "Get the value of a key and optionally set its expiration", Since = "6.2.0", Complexity = "O(1)",
            Syntax = "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
        },
        new("mget", -2, MGet)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, -1, 1), Acl = "@read @string @fast",
            Summary = "Get the values of all the given keys", Complexity = "O(N) where N is the number of keys to retrieve.", Syntax = "key [key ...]",
        },
        new("mset", -3, MSet)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, -1, 2), KeySpecFlags = "OW update", Acl = "@write @string @slow",
            Summary = "Set multiple keys to multiple values", Since = "1.0.1", Complexity = "O(N) where N is the number of keys to set.",
            Syntax = "key value [key value ...]",
        },
        new("msetnx", -3, MSetNx)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, -1, 2), KeySpecFlags = "OW insert", Acl = "@write @string @slow",
            Summary = "Set multiple keys to multiple values, only if none of the keys exist", Since = "1.0.1",
            Complexity = "O(N) where N is the number of keys to set.", Syntax = "key value [key value ...]",
        },
        new("incr", 2, Incr)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Increment the integer value of a key by one", Complexity = "O(1)", Syntax = "key",
        },
        new("decr", 2, Decr)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Decrement the integer value of a key by one", Complexity = "O(1)", Syntax = "key",
        },
        new("incrby", 3, IncrBy)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Increment the integer value of a key by the given amount", Complexity = "O(1)", Syntax = "key increment",
        },
        new("decrby", 3, DecrBy)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Decrement the integer value of a key by the given number", Complexity = "O(1)", Syntax = "key decrement",
        },
        new("incrbyfloat", 3, IncrByFloat)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @string @fast",
            Summary = "Increment the float value of a key by the given amount", Since = "2.6.0", Complexity = "O(1)", Syntax = "key increment",
        },
        new("append", 3, Append)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @string @fast",
            Summary = "Append a value to a key", Since = "2.0.0",
            Complexity = "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
            Syntax = "key value",
        },
        new("strlen", 2, StrLen)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @string @fast",
            Summary = "Get the length of the value stored in a key", Since = "2.2.0", Complexity = "O(1)", Syntax = "key",
        },
        new("getrange", 4, GetRange)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @string @slow",
            Summary = "Get a substring of the string stored at a key", Since = "2.4.0", Complexity = GetRangeComplexity, Syntax = "key start end",
        },
        new("substr", 4, GetRange)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @string @slow",
            Summary = "Get a substring of the string stored at a key", Complexity = GetRangeComplexity, Syntax = "key start end",
        },
        new("setrange", 4, SetRange)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), Acl = "@write @string @slow",
            Summary = "Overwrite part of a string at key starting at the specified offset", Since = "2.2.0",
            Complexity = "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
            Syntax = "key offset value",
        },
    ];

    private static void Get(Session s, ArgList a)
    {
        if (s.TryReadString(a[1], out var value))
        {
            WriteBulkOrNull(s, value);
        }
    }

    /// <summary>SET and GETEX options; which may combine follows Redis's parseExtendedStringArgumentsOrReply.</summary>
    [Flags]
    private enum StringOptions
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Persist = 16,
        Ex = 32,
        Px = 64,
        ExAt = 128,
        PxAt = 256,
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    /// <summary>The options of SET (from argument 3) or GETEX (from argument 2), and where the expiry amount is.</summary>
    private struct ParsedOptions
    {
        public StringOptions Flags;
        public ExpireOption.Unit Unit;
        public int ExpireArg;
    }

    /// <summary>
    /// Parses SET/GETEX options as Redis does: a repeated option is allowed (the last expiry wins) but
    /// conflicting ones (NX with XX, two different expiry units, KEEPTTL or PERSIST with an expiry) and
    /// options of the other command are a syntax error. Writes the error and returns false on failure.
    /// </summary>
    private static bool TryParseOptions(Session s, ArgList a, bool forSet, out ParsedOptions parsed)
    {
        parsed = default;
        for (int i = forSet ? 3 : 2; i < a.Count; i++)
        {
            var word = a[i];
            var flags = parsed.Flags;
            bool hasNext = i + 1 < a.Count;
            if (forSet && Ascii.EqualsIgnoreCase(word, "NX"u8) && (flags & StringOptions.Xx) == 0)
            {
                parsed.Flags |= StringOptions.Nx;
            }
            else if (forSet && Ascii.EqualsIgnoreCase(word, "XX"u8) && (flags & StringOptions.Nx) == 0)
            {
                parsed.Flags |= StringOptions.Xx;
            }
            else if (forSet && Ascii.EqualsIgnoreCase(word, "GET"u8))
            {
                parsed.Flags |= StringOptions.Get;
            }
            else if (forSet && Ascii.EqualsIgnoreCase(word, "KEEPTTL"u8) && (flags & StringOptions.AnyExpire) == 0)
            {
                parsed.Flags |= StringOptions.KeepTtl;
            }
            else if (!forSet && Ascii.EqualsIgnoreCase(word, "PERSIST"u8) && (flags & StringOptions.AnyExpire) == 0)
            {
                parsed.Flags |= StringOptions.Persist;
            }
            else if (ExpireOption.TryParseUnit(word, out var unit) && hasNext
                && (flags & (StringOptions.KeepTtl | StringOptions.Persist)) == 0
                && (flags & StringOptions.AnyExpire & ~UnitFlag(unit)) == 0)
            {
                parsed.Flags |= UnitFlag(unit);
                parsed.Unit = unit;
                parsed.ExpireArg = ++i;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return false;
            }
        }
        return true;
    }

    private static StringOptions UnitFlag(ExpireOption.Unit unit) => unit switch
    {
        ExpireOption.Unit.Seconds => StringOptions.Ex,
        ExpireOption.Unit.Milliseconds => StringOptions.Px,
        ExpireOption.Unit.UnixSeconds => StringOptions.ExAt,
        _ => StringOptions.PxAt,
    };

    private static void Set(Session s, ArgList a)
    {
        if (!TryParseOptions(s, a, forSet: true, out var options))
        {
            return;
        }
        long expireAt = 0;
        if (options.ExpireArg > 0 && !ExpireOption.TryResolve(s, a[options.ExpireArg], options.Unit, "set", out expireAt))
        {
            return;
        }
        bool get = (options.Flags & StringOptions.Get) != 0;
        var db = s.Db;
        int index = get ? s.FindForRead(a[1]) : db.Find(a[1]);
        object? old = index >= 0 ? db.Table[index].Value : null;
        if (get && old is not null and not byte[])
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        bool allowed = (options.Flags & StringOptions.Nx) != 0 ? index < 0 : (options.Flags & StringOptions.Xx) == 0 || index >= 0;
        if (allowed)
        {
            // A value of the same length is overwritten in place (the stored array belongs to its key alone,
            // as SETRANGE relies on): a cache's overwrites then allocate nothing and leave no garbage behind.
            // Not with GET, which replies with the old bytes afterwards.
            var value = !get && old is byte[] current && current.Length == a[2].Length ? current : null;
            if (value is not null)
            {
                a[2].CopyTo(value);
            }
            index = StoreString(s, a, 1, index, value ?? a.Detach(2), keepTtl: (options.Flags & StringOptions.KeepTtl) != 0);
            s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[1]);
            if (expireAt != 0)
            {
                // A relative time becomes absolute, so a replica applying it later sets the same instant.
                s.Server.Propagator.Rewrite("SET"u8)?.Add(a[1]).Add(a[2]).Add("PXAT"u8).Add(expireAt);
                s.Db.Notify(KeyspaceEventTypes.Generic, "expire"u8, a[1]);
                ApplyExpiry(s, index, expireAt);
            }
        }
        if (get)
        {
            WriteBulkOrNull(s, old as byte[]);
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

    /// <summary>
    /// Stores a string under the key of argument <paramref name="keyArg"/> found at <paramref name="index"/>
    /// (-1: absent, the key bytes are then taken from the arguments); a replaced value loses its TTL
    /// unless <paramref name="keepTtl"/>. Returns the entry index.
    /// </summary>
    private static int StoreString(Session s, ArgList a, int keyArg, int index, byte[] value, bool keepTtl)
    {
        var db = s.Db;
        if (index < 0)
        {
            return db.Add(a.Detach(keyArg), value);
        }
        ref var entry = ref db.Table[index];
        entry.Value = value;
        entry.Access = s.Keyspace.Touched(entry.Access);
        if (!keepTtl && entry.HasExpiry)
        {
            db.SetExpire(index, 0);
        }
        else
        {
            db.SignalModified(entry.Key);
        }
        return index;
    }

    /// <summary>
    /// Sets an absolute expiry; a time already past removes the key at once, as Redis's GETEX does, and the
    /// change stream carries that deletion instead of the command.
    /// </summary>
    private static void ApplyExpiry(Session s, int index, long expireAt)
    {
        s.Db.SetExpire(index, expireAt);
        if (expireAt <= s.Keyspace.NowMs)
        {
            s.Db.DeleteExpired(index);
            s.Server.Propagator.Prevent();
        }
    }

    private static void WriteBulkOrNull(Session s, byte[]? value)
    {
        if (value is null)
        {
            s.Reply.WriteNullBulk();
        }
        else
        {
            s.Reply.WriteBulk(value);
        }
    }

    private static void SetNx(Session s, ArgList a)
    {
        int index = s.Db.Find(a[1]);
        if (index >= 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        s.Db.Add(a.Detach(1), a.Detach(2));
        s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[1]);
        s.Reply.WriteInteger(1);
    }

    private static void SetEx(Session s, ArgList a) => SetWithExpiry(s, a, ExpireOption.Unit.Seconds, "setex");

    private static void PSetEx(Session s, ArgList a) => SetWithExpiry(s, a, ExpireOption.Unit.Milliseconds, "psetex");

    /// <summary>SETEX and PSETEX: key, relative expiry, value.</summary>
    private static void SetWithExpiry(Session s, ArgList a, ExpireOption.Unit unit, string command)
    {
        if (!ExpireOption.TryResolve(s, a[2], unit, command, out long expireAt))
        {
            return;
        }
        int index = StoreString(s, a, 1, s.Db.Find(a[1]), a.Detach(3), keepTtl: true);
        s.Db.SetExpire(index, expireAt);
        s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[1]);
        s.Db.Notify(KeyspaceEventTypes.Generic, "expire"u8, a[1]);
        s.Server.Propagator.Rewrite("SET"u8)?.Add(a[1]).Add(a[3]).Add("PXAT"u8).Add(expireAt);
        s.Reply.WriteOk();
    }

    private static void GetSet(Session s, ArgList a)
    {
        int index = s.FindForRead(a[1]);
        object? old = index >= 0 ? s.Db.Table[index].Value : null;
        if (old is not null and not byte[])
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        StoreString(s, a, 1, index, a.Detach(2), keepTtl: false);
        s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[1]);
        WriteBulkOrNull(s, (byte[]?)old);
    }

    private static void GetDel(Session s, ArgList a)
    {
        int index = s.FindForRead(a[1]);
        if (index < 0)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        if (s.Db.Table[index].Value is not byte[] value)
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        s.Reply.WriteBulk(value);
        s.Db.DeleteAt(index);
        s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[1]);
        s.Server.Propagator.Rewrite(s.Server.Config.LazyFreeLazyUserDel.Number != 0 ? "UNLINK"u8 : "DEL"u8)?.Add(a[1]);
    }

    private static void GetEx(Session s, ArgList a)
    {
        if (!TryParseOptions(s, a, forSet: false, out var options))
        {
            return;
        }
        int index = s.FindForRead(a[1]);
        if (index < 0)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        if (s.Db.Table[index].Value is not byte[] value)
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        long expireAt = 0;
        if (options.ExpireArg > 0 && !ExpireOption.TryResolve(s, a[options.ExpireArg], options.Unit, "getex", out expireAt))
        {
            return;
        }
        s.Reply.WriteBulk(value);
        if (expireAt != 0)
        {
            s.Server.Propagator.Rewrite("PEXPIREAT"u8)?.Add(a[1]).Add(expireAt);
            bool past = expireAt <= s.Keyspace.NowMs;
            ApplyExpiry(s, index, expireAt);
            s.Db.Notify(KeyspaceEventTypes.Generic, past ? "del"u8 : "expire"u8, a[1]);
        }
        else if ((options.Flags & StringOptions.Persist) != 0 && s.Db.Table[index].HasExpiry)
        {
            s.Db.SetExpire(index, 0);
            s.Db.Notify(KeyspaceEventTypes.Generic, "persist"u8, a[1]);
            s.Server.Propagator.Rewrite("PERSIST"u8)?.Add(a[1]);
        }
    }

    private static void MGet(Session s, ArgList a)
    {
        s.Reply.WriteArrayHeader(a.Count - 1);
        for (int i = 1; i < a.Count; i++)
        {
            int index = s.FindForRead(a[i]);
            // A key of another type reads as missing here, not as an error.
            WriteBulkOrNull(s, index >= 0 ? s.Db.Table[index].Value as byte[] : null);
        }
    }

    private static void MSet(Session s, ArgList a)
    {
        if (a.Count % 2 == 0)
        {
            s.Reply.WriteError(Errors.WrongArgs("mset"));
            return;
        }
        StorePairs(s, a);
        s.Reply.WriteOk();
    }

    private static void MSetNx(Session s, ArgList a)
    {
        if (a.Count % 2 == 0)
        {
            s.Reply.WriteError(Errors.WrongArgs("msetnx"));
            return;
        }
        for (int i = 1; i < a.Count; i += 2)
        {
            if (s.Db.Find(a[i]) >= 0)
            {
                s.Reply.WriteInteger(0);
                return;
            }
        }
        StorePairs(s, a);
        s.Reply.WriteInteger(1);
    }

    /// <summary>MSET's work: every key/value pair in order (a repeated key ends with its last value).</summary>
    private static void StorePairs(Session s, ArgList a)
    {
        for (int i = 1; i < a.Count; i += 2)
        {
            StoreString(s, a, i, s.Db.Find(a[i]), a.Detach(i + 1), keepTtl: false);
            s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[i]);
        }
        s.Db.CountChanges(a.Count / 2);
    }

    private static void Incr(Session s, ArgList a) => IncrementBy(s, a, 1);

    private static void Decr(Session s, ArgList a) => IncrementBy(s, a, -1);

    private static void IncrBy(Session s, ArgList a)
    {
        if (s.TryParseLong(a[2], out long increment))
        {
            IncrementBy(s, a, increment);
        }
    }

    private static void DecrBy(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long decrement))
        {
            return;
        }
        if (decrement == long.MinValue)
        {
            s.Reply.WriteError("ERR decrement would overflow");
            return;
        }
        IncrementBy(s, a, -decrement);
    }

    /// <summary>The INCR family: the value must be a 64-bit integer and stay one; the TTL is kept.</summary>
    private static void IncrementBy(Session s, ArgList a, long increment)
    {
        int index = s.Db.Find(a[1]);
        long current = 0;
        if (index >= 0)
        {
            if (s.Db.Table[index].Value is not byte[] bytes)
            {
                s.Reply.WriteError(Errors.WrongType);
                return;
            }
            if (!s.TryParseLong(bytes, out current))
            {
                return;
            }
        }
        if ((increment < 0 && current < 0 && increment < long.MinValue - current)
            || (increment > 0 && current > 0 && increment > long.MaxValue - current))
        {
            s.Reply.WriteError(Errors.Overflow);
            return;
        }
        long result = current + increment;
        Span<byte> digits = stackalloc byte[20];
        result.TryFormat(digits, out int length, default, CultureInfo.InvariantCulture);
        StoreString(s, a, 1, index, digits[..length].ToArray(), keepTtl: true);
        s.Db.Notify(KeyspaceEventTypes.String, "incrby"u8, a[1]);
        s.Reply.WriteInteger(result);
    }

    private static void IncrByFloat(Session s, ArgList a)
    {
        int index = s.Db.Find(a[1]);
        var current = default(ExtendedFloat);
        if (index >= 0)
        {
            if (s.Db.Table[index].Value is not byte[] bytes)
            {
                s.Reply.WriteError(Errors.WrongType);
                return;
            }
            if (!ExtendedFloat.TryParse(bytes, out current))
            {
                s.Reply.WriteError(Errors.NotFloat);
                return;
            }
        }
        if (!ExtendedFloat.TryParse(a[2], out var increment))
        {
            s.Reply.WriteError(Errors.NotFloat);
            return;
        }
        var sum = ExtendedFloat.Add(current, increment);
        if (sum.IsInfinity)
        {
            s.Reply.WriteError("ERR increment would produce NaN or Infinity");
            return;
        }
        var text = sum.ToRedisText();
        StoreString(s, a, 1, index, text, keepTtl: true);
        s.Db.Notify(KeyspaceEventTypes.String, "incrbyfloat"u8, a[1]);
        // The sum as text, so a replica with other float arithmetic stores the same bytes.
        s.Server.Propagator.Rewrite("SET"u8)?.Add(a[1]).Add(text).Add("KEEPTTL"u8);
        s.Reply.WriteBulk(text);
    }

    private static void Append(Session s, ArgList a)
    {
        var db = s.Db;
        int index = db.Find(a[1]);
        if (index < 0)
        {
            var created = a.Detach(2);
            db.Add(a.Detach(1), created);
            db.Notify(KeyspaceEventTypes.String, "append"u8, a[1]);
            s.Reply.WriteInteger(created.Length);
            return;
        }
        if (db.Table[index].Value is not byte[] old)
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        var suffix = a[2];
        if (!CheckStringLength(s, old.Length, suffix.Length))
        {
            return;
        }
        var combined = new byte[old.Length + suffix.Length];
        old.CopyTo(combined, 0);
        suffix.CopyTo(combined.AsSpan(old.Length));
        db.Table[index].Value = combined;
        db.SignalModified(a[1]);
        db.Notify(KeyspaceEventTypes.String, "append"u8, a[1]);
        s.Reply.WriteInteger(combined.Length);
    }

    /// <summary>Refuses a string that would grow past proto-max-bulk-len, with Redis's error.</summary>
    internal static bool CheckStringLength(Session s, long size, long append)
    {
        // Compared unsigned so an offset near long.MaxValue cannot wrap around to a small total.
        if ((ulong)size + (ulong)append > (ulong)s.Server.Config.ProtoMaxBulkLen.Number)
        {
            s.Reply.WriteError(Errors.StringTooLong);
            return false;
        }
        return true;
    }

    private static void StrLen(Session s, ArgList a)
    {
        if (s.TryReadString(a[1], out var value))
        {
            s.Reply.WriteInteger(value?.Length ?? 0);
        }
    }

    private static void GetRange(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long start) || !s.TryParseLong(a[3], out long end) || !s.TryReadString(a[1], out var value))
        {
            return;
        }
        long length = value?.Length ?? 0;
        if (start < 0 && end < 0 && start > end)
        {
            s.Reply.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0)
        {
            start = Math.Max(length + start, 0);
        }
        if (end < 0)
        {
            end = Math.Max(length + end, 0);
        }
        end = Math.Min(end, length - 1);
        if (start > end || length == 0)
        {
            s.Reply.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        s.Reply.WriteBulk(value.AsSpan((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long offset))
        {
            return;
        }
        if (offset < 0)
        {
            s.Reply.WriteError("ERR offset is out of range");
            return;
        }
        var db = s.Db;
        var patch = a[3];
        int index = db.Find(a[1]);
        byte[]? old = null;
        if (index >= 0)
        {
            old = db.Table[index].Value as byte[];
            if (old is null)
            {
                s.Reply.WriteError(Errors.WrongType);
                return;
            }
        }
        if (patch.IsEmpty)
        {
            // Setting nothing creates nothing and changes nothing.
            s.Reply.WriteInteger(old?.Length ?? 0);
            return;
        }
        if (!CheckStringLength(s, offset, patch.Length))
        {
            return;
        }
        var target = GrowZeroed(s, a, index, old, offset + patch.Length);
        patch.CopyTo(target.AsSpan((int)offset));
        db.Notify(KeyspaceEventTypes.String, "setrange"u8, a[1]);
        s.Reply.WriteInteger(target.Length);
    }

    /// <summary>
    /// The string of argument 1's key, at least <paramref name="length"/> bytes long, zero-padded and
    /// created when absent (<paramref name="index"/> -1), ready to be changed in place; the TTL is kept.
    /// Shared by SETRANGE and SETBIT. The stored array belongs to its key alone, so in-place writes are safe;
    /// the key counts as modified for WATCH, since the caller writes into it at once.
    /// </summary>
    internal static byte[] GrowZeroed(Session s, ArgList a, int index, byte[]? old, long length)
    {
        if (old is not null && old.Length >= length)
        {
            s.Db.SignalModified(a[1]);
            return old;
        }
        var grown = new byte[length];
        if (old is not null)
        {
            old.CopyTo(grown, 0);
            s.Db.Table[index].Value = grown;
            s.Db.SignalModified(a[1]);
        }
        else
        {
            s.Db.Add(a.Detach(1), grown);
        }
        return grown;
    }
}
