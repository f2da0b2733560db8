using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// A seeded random workload of every kind of write (strings with every TTL option, hashes, lists, sets,
/// sorted sets, the expire family, SPOP, INCRBYFLOAT, GETEX, RESTORE, MOVE, COPY, SWAPDB, FLUSHDB,
/// MULTI/EXEC, WATCH, blocking pops served by pushes from another client), run against one server with
/// two clients. TTLs are at least <see cref="LongTtlMs"/>, so that a comparison after the run never races an
/// expiry, except on the "e:" keys, whose TTLs are a few milliseconds (they expire during the run, read
/// lazily or found by the active cycle). A stream replayed later applies those writes after their time has
/// passed, where a replica (which leaves expiry to its master) would not: so "e:" keys only take writes whose
/// result does not depend on what the key held (SET, PSETEX, RESTORE REPLACE) and reads.
/// </summary>
public sealed class Workload(int seed, RespClient main, RespClient other)
{
    /// <summary>The shortest TTL given that is not meant to run out during a test.</summary>
    public const long LongTtlMs = 1_000_000;

    private const int Databases = 4;
    private readonly Random _random = new(seed);
    private int _db;
    private int _blockingKeys;

    /// <summary>Runs <paramref name="steps"/> steps; <paramref name="between"/> is called before each with its index.</summary>
    public void Run(int steps, Action<int>? between = null)
    {
        for (int i = 0; i < steps; i++)
        {
            between?.Invoke(i);
            Step();
        }
    }

    private void Step()
    {
        int roll = _random.Next(100);
        if (roll < 3)
        {
            Transaction();
        }
        else if (roll < 5)
        {
            Watched();
        }
        else if (roll < 7)
        {
            BlockedThenServed();
        }
        else if (roll < 9)
        {
            _db = _random.Next(Databases);
            main.Call("SELECT", Text(_db));
        }
        else
        {
            main.Call(Command());
        }
    }

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private T Pick<T>(params T[] choices) => choices[_random.Next(choices.Length)];

    private string Key(string prefix) => $"{prefix}:{_random.Next(8)}";

    private string Value() => _random.Next(20) == 0 ? new string((char)('a' + _random.Next(26)), 300 + _random.Next(1500)) : $"v{_random.Next(1000)}";

    private string Member() => $"m{_random.Next(12)}";

    private string Score() => Pick("1", "2.5", "-3", "10", "0.125", Text(_random.Next(100)));

    /// <summary>A TTL argument pair for SET/GETEX: relative or absolute, long, or a few milliseconds when <paramref name="shortLived"/>.</summary>
    private string[] Ttl(bool forSet, bool shortLived = false)
    {
        long ms = shortLived ? 1 + _random.Next(40) : LongTtlMs + _random.Next(1_000_000);
        string[] options = forSet ? ["EX", "PX", "EXAT", "PXAT", "KEEPTTL"] : ["EX", "PX", "EXAT", "PXAT", "PERSIST"];
        return Pick(options) switch
        {
            "EX" when shortLived => ["PX", Text(ms)],
            "EX" => ["EX", Text(ms / 1000)],
            "PX" => ["PX", Text(ms)],
            "EXAT" when shortLived => ["PXAT", Text(Now() + ms)],
            "EXAT" => ["EXAT", Text((Now() + ms) / 1000)],
            "PXAT" => ["PXAT", Text(Now() + ms)],
            var word when shortLived => ["PX", Text(ms)],
            var word => [word],
        };
    }

    private string[] Command()
    {
        switch (_random.Next(58))
        {
            case 46: return ["SETBIT", Key("s"), Text(_random.Next(64)), Pick("0", "1")];
            case 47: return ["LSET", Key("l"), Text(_random.Next(-2, 3)), Value()];
            case 48: return ["LINSERT", Key("l"), Pick("BEFORE", "AFTER"), Value(), Value()];
            case 49: return ["HSETNX", Key("h"), Member(), Value()];
            case 50: return ["HMSET", Key("h"), Member(), Value()];
            case 51: return ["ZADD", Key("z"), .. Pick<string[]>([], ["NX"], ["XX"], ["GT"], ["LT", "CH"], ["INCR"]), Score(), Member()];
            case 52: return [Pick("ZREMRANGEBYRANK", "ZREMRANGEBYSCORE"), Key("z"), Pick("0", "1"), Pick("1", "5")];
            // Lex ranges are defined for members of one score only (mixed scores differ between Redis and the node).
            case 53: return Pick<string[]>(["ZADD", Key("zl"), "0", Member()], ["ZREMRANGEBYLEX", Key("zl"), "[m1", "[m5"]);
            case 54: return ["ZDIFFSTORE", Key("z"), "2", Key("z"), Key("z")];
            case 55: return ["SORT", Key(Pick("l", "t")), .. Pick<string[]>(["ALPHA"], ["BY", "nosort", "ALPHA"], ["ALPHA", "DESC", "LIMIT", "0", "3"]), "STORE", Key("l")];
            case 56: return [Pick("LPUSHX", "RPUSHX"), Key("l"), Value()];
            case 57: return Pick<string[]>(["MSETNX", Key("s"), Value(), Key("s"), Value()], ["DECRBY", Key("n"), "3"], ["RPOPLPUSH", Key("l"), Key("l")]);
            case 0: return ["SET", Key("s"), Value(), .. _random.Next(2) == 0 ? Ttl(forSet: true) : [], .. Pick<string[]>([], ["NX"], ["XX"], ["GET"])];
            case 1: return ["SETEX", Key("s"), Text(1000 + _random.Next(1000)), Value()];
            case 2: return ["PSETEX", Key(Pick("s", "e")), Pick("2000000", "3000000"), Value()];
            case 3: return ["APPEND", Key("s"), Value()];
            case 4: return ["INCRBY", Key("n"), Text(_random.Next(-5, 20))];
            case 5: return ["INCRBYFLOAT", Key("n"), Pick("0.1", "1.5", "-2.25", "3e2", "1")];
            case 6: return ["GETEX", Key("s"), .. _random.Next(3) == 0 ? [] : Ttl(forSet: false)];
            case 7: return ["GETDEL", Key("s")];
            case 8: return ["SETRANGE", Key("s"), Text(_random.Next(10)), Value()];
            case 9: return ["MSET", Key("s"), Value(), Key("s"), Value()];
            case 10: return ["GETSET", Key("s"), Value()];
            case 11: return [Pick("EXPIRE", "PEXPIRE"), Key(Pick("s", "h", "l", "t", "z")), Pick("-1", "0", Text(LongTtlMs + _random.Next(1000))), .. Pick<string[]>([], ["NX"], ["XX"], ["GT"], ["LT"])];
            case 12: return Pick<string[]>(["SET", Key("e"), Value(), .. Ttl(forSet: true, shortLived: true)], ["PSETEX", Key("e"), Text(1 + _random.Next(30)), Value()], ["GET", Key("e")]);
            case 13: return [Pick("EXPIREAT", "PEXPIREAT"), Key(Pick("s", "h", "z")), Pick("1", Text((Now() + LongTtlMs) * 1000))];
            case 14: return ["PERSIST", Key(Pick("s", "h", "l", "t", "z"))];
            case 15: return ["HSET", Key("h"), Member(), Value(), Member(), Value()];
            case 16: return ["HDEL", Key("h"), Member(), Member()];
            case 17: return ["HINCRBY", Key("h"), "cnt", Text(_random.Next(10))];
            case 18: return ["HINCRBYFLOAT", Key("h"), "f", Pick("0.5", "1.25", "-7.125")];
            case 19: return [Pick("LPUSH", "RPUSH"), Key("l"), Value(), Value(), Value()];
            case 20: return [Pick("LPOP", "RPOP"), Key("l"), .. Pick<string[]>([], ["2"])];
            case 21: return ["LTRIM", Key("l"), Text(_random.Next(3)), Text(_random.Next(-3, 10))];
            case 22: return ["LMOVE", Key("l"), Key("l"), Pick("LEFT", "RIGHT"), Pick("LEFT", "RIGHT")];
            case 23: return ["LMPOP", "2", Key("l"), Key("l"), Pick("LEFT", "RIGHT"), "COUNT", Text(1 + _random.Next(3))];
            case 24: return ["LREM", Key("l"), "0", Value()];
            case 25: return ["SADD", Key("t"), Member(), Member(), Member()];
            case 26: return ["SREM", Key("t"), Member()];
            case 27: return ["SPOP", Key("t"), .. Pick<string[]>([], ["2"], ["0"], ["20"])];
            case 28: return ["SMOVE", Key("t"), Key("t"), Member()];
            case 29: return [Pick("SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"), Key("t"), Key("t"), Key("t")];
            case 30: return ["ZADD", Key("z"), Score(), Member(), Score(), Member()];
            case 31: return ["ZINCRBY", Key("z"), Score(), Member()];
            case 32: return ["ZREM", Key("z"), Member()];
            case 33: return [Pick("ZPOPMIN", "ZPOPMAX"), Key("z"), .. Pick<string[]>([], ["2"])];
            case 34: return ["ZMPOP", "2", Key("z"), Key("z"), Pick("MIN", "MAX"), "COUNT", "2"];
            case 35: return [Pick("ZUNIONSTORE", "ZINTERSTORE"), Key("z"), "2", Key("z"), Key("z")];
            case 36: return ["ZRANGESTORE", Key("z"), Key("z"), "0", "2"];
            case 37: return [Pick("DEL", "UNLINK"), Key(Pick("s", "h", "l", "t", "z")), Key(Pick("s", "n"))];
            case 38: return [Pick("RENAME", "RENAMENX"), Key(Pick("s", "h", "l")), Key(Pick("s", "h", "l"))];
            case 39: return ["COPY", Key(Pick("s", "h", "l", "t", "z")), Key("c"), .. Pick<string[]>([], ["REPLACE"], ["DB", Text(_random.Next(Databases))])];
            case 40: return ["MOVE", Key(Pick("s", "h", "l", "t", "z", "c")), Text(_random.Next(Databases))];
            case 41: return _random.Next(10) == 0 ? ["SWAPDB", Text(_random.Next(Databases)), Text(_random.Next(Databases))] : ["SET", Key("s"), Value()];
            case 42: return _random.Next(25) == 0 ? ["FLUSHDB"] : ["INCR", Key("n")];
            case 43: return Restore();
            case 44: return ["BLPOP", Key("l"), Key("l"), "0.01"];
            default: return ["SETNX", Key("s"), Value()];
        }
    }

    /// <summary>DUMP of some key restored under another name with a relative, absolute or no TTL.</summary>
    private string[] Restore()
    {
        var payload = main.Call("DUMP", Key(Pick("l", "h", "t", "z", "s")));
        if (payload.Kind != RespKind.Bulk)
        {
            return ["SET", Key("s"), Value()];
        }
        string ttl = Pick("0", Text(LongTtlMs), Text(Now() + LongTtlMs), "5");
        string key = ttl == "5" ? "e:r" : Key("r");
        var args = new List<byte[]> { "RESTORE"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(ttl), payload.Bytes!, "REPLACE"u8.ToArray() };
        if (ttl.Length > 10)
        {
            args.Add("ABSTTL"u8.ToArray());
        }
        main.Call([.. args]);
        return ["EXISTS", "r:0"];
    }

    private void Transaction()
    {
        main.Call("MULTI");
        int count = 1 + _random.Next(4);
        for (int i = 0; i < count; i++)
        {
            main.Call(Command());
        }
        main.Call("EXEC");
    }

    /// <summary>WATCH a key, maybe let the other client change it, then a transaction that runs or is refused.</summary>
    private void Watched()
    {
        string key = Key(Pick("s", "n"));
        main.Call("WATCH", key);
        if (_random.Next(2) == 0)
        {
            other.Call("SELECT", Text(_db));
            other.Call("SET", key, Value());
        }
        main.Call("MULTI");
        main.Call("INCR", key);
        main.Call(Command());
        main.Call("EXEC");
    }

    /// <summary>The other client blocks on a fresh key in the main client's database; the main client's push serves it.</summary>
    private void BlockedThenServed()
    {
        string key = $"bk:{_blockingKeys++}";
        other.Call("SELECT", Text(_db));
        long blockedBefore = Blocked();
        string[] wait = _random.Next(6) switch
        {
            0 => ["BLPOP", "nothing", key, "0"],
            1 => ["BRPOP", key, "0"],
            2 => ["BLMOVE", key, Key("l"), Pick("LEFT", "RIGHT"), Pick("LEFT", "RIGHT"), "0"],
            3 => ["BLMPOP", "0", "1", key, Pick("LEFT", "RIGHT"), "COUNT", "2"],
            4 => ["BZPOPMIN", key, "0"],
            _ => ["BZMPOP", "0", "1", key, "MAX", "COUNT", "2"],
        };
        other.Send(wait);
        Wait.Until(() => Blocked() > blockedBefore, $"{wait[0]} blocks");
        if (wait[0].StartsWith("BZ", StringComparison.Ordinal))
        {
            main.Call("ZADD", key, "1", "a", "2", "b", "3", "c");
        }
        else
        {
            main.Call("RPUSH", key, "a", "b", "c");
        }
        other.Read();
    }

    private long Blocked()
    {
        var line = main.Call("INFO", "clients").Text!.Split("\r\n").First(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal));
        return long.Parse(line["blocked_clients:".Length..], CultureInfo.InvariantCulture);
    }
}
