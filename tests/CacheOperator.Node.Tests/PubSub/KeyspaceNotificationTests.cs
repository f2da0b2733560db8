using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.PubSub;

/// <summary>
/// Keyspace notifications against redis-server 7.0.15: with the same notify-keyspace-events, a PSUBSCRIBE
/// '__key*__:*' subscriber on each server must receive the same messages, in the same order, for a corpus of
/// commands; the directive's normalisation and errors are Redis's.
/// </summary>
public sealed class KeyspaceNotificationTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[][] Corpus =
    [
        ["SET", "s", "1"], ["SET", "s", "2", "EX", "100"], ["SET", "s", "3", "GET"], ["SETNX", "s", "x"], ["SETNX", "s2", "x"],
        ["SETEX", "s3", "100", "v"], ["PSETEX", "s4", "100000", "v"], ["GETSET", "s", "4"], ["MSET", "m1", "a", "m2", "b"], ["MSETNX", "m3", "a", "m4", "b"],
        ["INCR", "n"], ["INCRBY", "n", "5"], ["DECR", "n"], ["DECRBY", "n", "2"], ["INCRBYFLOAT", "n", "1.5"], ["APPEND", "s", "x"], ["APPEND", "new", "x"],
        ["SETRANGE", "s", "2", "yy"], ["SETRANGE", "sr", "1", "z"], ["SETRANGE", "sr", "0", ""], ["GETDEL", "m1"], ["GETEX", "m2", "EX", "100"], ["GETEX", "m2", "PERSIST"],
        ["GETEX", "m3", "PX", "-1"], ["GET", "missing"], ["MGET", "s", "missing2"],
        ["EXPIRE", "s", "100"], ["PEXPIRE", "s", "100000"], ["EXPIREAT", "s", "99999999999"], ["PERSIST", "s"], ["PERSIST", "s"], ["EXPIRE", "s2", "-1"],
        ["RENAME", "s", "t"], ["SET", "u", "1"], ["RENAME", "t", "u"], ["RENAMENX", "u", "v"], ["COPY", "v", "w"], ["COPY", "v", "w", "REPLACE"],
        ["MOVE", "w", "1"], ["DEL", "v", "w", "nope"], ["UNLINK", "n"], ["TYPE", "missing"], ["TTL", "missing"],
        ["HSET", "h", "a", "1", "b", "2"], ["HSET", "h", "a", "3"], ["HSETNX", "h", "a", "1"], ["HSETNX", "h", "c", "1"], ["HMSET", "h", "d", "4"],
        ["HINCRBY", "h", "a", "1"], ["HINCRBYFLOAT", "h", "a", "0.5"], ["HDEL", "h", "zz"], ["HDEL", "h", "a", "b"], ["HDEL", "h", "c", "d"], ["HGET", "h", "a"],
        ["SADD", "st", "a", "b", "c", "d"], ["SADD", "st", "a"], ["SREM", "st", "zz"], ["SREM", "st", "a"], ["SMOVE", "st", "st2", "b"], ["SMOVE", "st", "st2", "zz"],
        ["SADD", "st3", "c", "x"], ["SINTERSTORE", "dst", "st", "st3"], ["SUNIONSTORE", "dst", "st", "st2"], ["SDIFFSTORE", "dst", "st", "st"], ["SDIFFSTORE", "dst", "st", "st"],
        ["SPOP", "st2"], ["SADD", "st6", "q"], ["SPOP", "st6", "1"], ["SREM", "st3", "x"], ["SPOP", "st3", "5"], ["SMOVE", "st", "st4", "c"], ["SMOVE", "st", "st4", "d"],
        ["LPUSH", "l", "a", "b"], ["RPUSH", "l", "c"], ["LPUSHX", "nol", "a"], ["RPUSHX", "l", "d"], ["LSET", "l", "0", "z"], ["LINSERT", "l", "BEFORE", "c", "y"],
        ["LINSERT", "l", "BEFORE", "nope", "y"], ["LPOP", "l"], ["RPOP", "l", "2"], ["LREM", "l", "0", "nope"], ["LREM", "l", "0", "a"], ["RPUSH", "l2", "1", "2", "3"],
        ["LMOVE", "l2", "l3", "LEFT", "RIGHT"], ["RPOPLPUSH", "l2", "l3"], ["LMOVE", "l2", "l2", "RIGHT", "LEFT"], ["LMPOP", "2", "nol", "l2", "LEFT"], ["LTRIM", "l3", "0", "0"],
        ["LTRIM", "l3", "5", "10"], ["BLPOP", "l", "0.01"], ["RPUSH", "l4", "x"], ["BRPOP", "l4", "0"],
        ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["ZADD", "z", "1", "a"], ["ZADD", "z", "XX", "5", "a"], ["ZADD", "nz", "XX", "1", "a"], ["ZINCRBY", "z", "1", "b"],
        ["ZADD", "z", "INCR", "1", "c"], ["ZREM", "z", "nope"], ["ZREM", "z", "a"], ["ZREMRANGEBYRANK", "z", "0", "0"], ["ZREMRANGEBYSCORE", "z", "100", "200"],
        ["ZADD", "z", "0", "m", "0", "n"], ["ZREMRANGEBYLEX", "z", "[m", "[m"], ["ZREMRANGEBYSCORE", "z", "0", "3"], ["ZPOPMIN", "z"], ["ZPOPMAX", "z", "5"],
        ["ZADD", "z1", "1", "a", "2", "b"], ["ZADD", "z2", "1", "b"], ["ZUNIONSTORE", "zd", "2", "z1", "z2"], ["ZINTERSTORE", "zd", "2", "z1", "z2"], ["ZDIFFSTORE", "zd", "2", "z1", "z1"],
        ["ZDIFFSTORE", "zd", "2", "z1", "z1"], ["ZRANGESTORE", "zd", "z1", "0", "0"], ["ZMPOP", "1", "z1", "MIN"], ["BZPOPMAX", "z1", "0"],
        ["SETBIT", "bits", "7", "1"], ["SETBIT", "bits", "100", "0"], ["RPUSH", "tosort", "3", "1", "2"], ["SORT", "tosort", "STORE", "sorted"],
        ["SORT", "nolist", "STORE", "sorted"], ["SORT", "nolist", "STORE", "sorted"],
        ["BITOP", "OR", "bitsdst", "bits", "u"], ["BITOP", "NOT", "bitsdst", "bitsdst"], ["BITOP", "AND", "bitsdst", "nobits"], ["BITOP", "AND", "bitsdst", "nobits"],
        ["SETBIT", "bits", "7", "1"], ["SETBIT", "bits", "6", "0"], ["SETBIT", "bits", "6", "1"], ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"],
        ["BITFIELD", "bf", "SET", "u8", "0", "0"], ["BITFIELD", "bf", "SET", "u8", "0", "1"], ["BITFIELD", "bf", "SET", "u8", "16", "0"], ["BITFIELD", "bf", "GET", "u8", "0"],
        ["BITFIELD", "bf", "SET", "u4", "0", "0", "SET", "u4", "4", "1"], ["BITFIELD_RO", "bf", "GET", "u8", "0"],
    ];

    [Theory]
    [InlineData("KEA", 2)]
    [InlineData("KEA", 3)]
    [InlineData("AKEnm", 2)]
    [InlineData("Kg$", 2)]
    [InlineData("Ehs", 3)]
    public void A_command_corpus_notifies_as_redis(string classes, int protocol)
    {
        using var talk = new PubSubConversation(servers, 2, protocol == 3 ? [0] : []);
        talk.Run(1, "FLUSHALL");
        talk.Run(1, "CONFIG", "SET", "notify-keyspace-events", classes);
        talk.Run(1, "CONFIG", "GET", "notify-keyspace-events");
        talk.Run(0, "PSUBSCRIBE", "__key*__:*");
        int messages = 0;
        foreach (var command in Corpus)
        {
            talk.Run(1, command);
            // Each command's notifications, compared as they come.
            messages += talk.Drain(0).Count - 2;
        }
        talk.Run(1, "CONFIG", "SET", "notify-keyspace-events", "");
        talk.Run(1, "SET", "after", "off");
        talk.Drain(0);
        Assert.True(messages > 20, $"only {messages} notifications");
    }

    [Fact]
    public void Restore_notifies_as_redis()
    {
        var seen = new List<string>();
        foreach (var port in new[] { servers.Redis.Port, servers.Node.Port })
        {
            using var client = new RespClient(port);
            using var subscriber = new RespClient(port);
            client.Call("FLUSHALL");
            client.Call("SET", "src", "value");
            var payload = client.Call("DUMP", "src").Bytes!;
            client.Call("CONFIG", "SET", "notify-keyspace-events", "KEA");
            subscriber.Call("PSUBSCRIBE", "__key*__:*");
            byte[] B(string text) => System.Text.Encoding.UTF8.GetBytes(text);
            Assert.Equal("OK", client.Call(B("RESTORE"), B("dst"), B("0"), payload).Text);
            Assert.Equal("OK", client.Call(B("RESTORE"), B("dst"), B("0"), payload, B("REPLACE")).Text);
            client.Call("CONFIG", "SET", "notify-keyspace-events", "");
            var messages = subscriber.ReadMessagesUntilPing().Select(m => string.Join(' ', m.Texts)).ToList();
            seen.Add(string.Join('\n', messages));
        }
        Assert.Equal(seen[0], seen[1]);
        Assert.Contains("restore", seen[0], StringComparison.Ordinal);
    }

    [Fact]
    public void The_directive_normalises_and_refuses_as_redis()
    {
        using var talk = new PubSubConversation(servers, 1);
        foreach (var value in new[] { "An", "KEA", "mnE$", "gg", "lshzxetd", "A$", "", "Kq", "K E", "KEA" })
        {
            talk.Run(0, "CONFIG", "SET", "notify-keyspace-events", value);
            talk.Run(0, "CONFIG", "GET", "notify-keyspace-events");
        }
        talk.Run(0, "CONFIG", "SET", "notify-keyspace-events", "");
    }

    [Fact]
    public async Task Expired_and_evicted_keys_are_notified()
    {
        await using var node = TestNode.Start("--notify-keyspace-events", "Exe");
        using var subscriber = node.Client();
        using var client = node.Client();
        Assert.Equal("xeE", client.Call("CONFIG", "GET", "notify-keyspace-events").Texts[1]);
        subscriber.Call("SUBSCRIBE", "__keyevent@0__:expired", "__keyevent@0__:evicted");
        subscriber.Read();
        client.Call("SET", "short", "v", "PX", "1");
        // Found by a read (lazily) or by the active cycle, whichever comes first: one "expired" either way.
        Wait.Until(() => client.Call("EXISTS", "short").Integer == 0, "the key expires");
        Assert.Equal(new[] { "message", "__keyevent@0__:expired", "short" }, subscriber.Read().Texts);

        client.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        client.Call("SET", "big", new string('x', 100_000));
        client.Call("CONFIG", "SET", "maxmemory", "1");
        Assert.Equal(new[] { "message", "__keyevent@0__:evicted", "big" }, subscriber.Read().Texts);
        client.Call("CONFIG", "SET", "maxmemory", "0");
    }
}
