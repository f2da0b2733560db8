using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// Writes that change a stored value in place must fail the transactions WATCHing the key, as in Redis;
/// differential where the outcome is observable over the protocol. Also RESET leaving a transaction.
/// </summary>
public class WatchInPlaceTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Prepares the key, WATCHes it on one connection, runs <paramref name="change"/> on another, then EXEC.</summary>
    private static RespValue ExecAfter(TestClientPair pair, string[][] prepare, string[] change)
    {
        pair.Other.Call("FLUSHALL");
        foreach (var command in prepare)
        {
            pair.Other.Call(command);
        }
        pair.Watcher.Call("WATCH", "k");
        pair.Other.Call(change);
        pair.Watcher.Call("MULTI");
        pair.Watcher.Call("PING");
        return pair.Watcher.Call("EXEC");
    }

    /// <summary>Two connections to one server.</summary>
    private sealed class TestClientPair(RespClient watcher, RespClient other) : IDisposable
    {
        public RespClient Watcher { get; } = watcher;

        public RespClient Other { get; } = other;

        public void Dispose()
        {
            Watcher.Dispose();
            Other.Dispose();
        }
    }

    public static TheoryData<string[][], string[]> Changes() => new()
    {
        { [["SET", "k", "v", "EX", "100"]], ["SET", "k", "w", "KEEPTTL"] },
        { [["SET", "k", "v"]], ["SET", "k", "w"] },
        { [["SET", "k", "v"]], ["SET", "k", "v"] },
        { [["SET", "k", "v"]], ["SET", "k", "w", "XX"] },
        { [["SET", "k", "v"]], ["GETSET", "k", "w"] },
        { [["SET", "k", "v"]], ["MSET", "k", "w", "other", "x"] },
        { [["SET", "k", "v"]], ["APPEND", "k", "more"] },
        { [["SET", "k", "v"]], ["SETRANGE", "k", "0", "x"] },
        { [["SET", "k", "v"]], ["SETRANGE", "k", "10", "x"] },
        { [["SET", "k", "v"]], ["SETBIT", "k", "0", "1"] },
        { [["SET", "k", "v"]], ["SETBIT", "k", "100", "1"] },
        { [["SET", "k", "5"]], ["INCR", "k"] },
        { [["SET", "k", "5"]], ["DECRBY", "k", "2"] },
        { [["SET", "k", "5"]], ["INCRBYFLOAT", "k", "1.5"] },
        { [["SET", "k", "5", "EX", "100"]], ["INCR", "k"] },
        { [["HSET", "k", "f", "v"]], ["HSET", "k", "f", "w"] },
        { [["HSET", "k", "f", "v"]], ["HDEL", "k", "f"] },
        { [["HSET", "k", "f", "v", "g", "x"]], ["HDEL", "k", "f"] },
        { [["HSET", "k", "f", "1"]], ["HINCRBY", "k", "f", "1"] },
        { [["SADD", "k", "a"]], ["SADD", "k", "b"] },
        { [["SADD", "k", "a", "b"]], ["SREM", "k", "a"] },
        { [["SADD", "k", "a", "b"]], ["SPOP", "k"] },
        { [["SADD", "k", "a", "b"], ["SADD", "src", "c"]], ["SMOVE", "src", "k", "c"] },
        { [["ZADD", "k", "1", "a"]], ["ZADD", "k", "2", "a"] },
        { [["ZADD", "k", "1", "a", "2", "b"]], ["ZREMRANGEBYRANK", "k", "0", "0"] },
        { [["ZADD", "k", "1", "a", "2", "b"]], ["BZPOPMIN", "k", "0"] },
        { [["RPUSH", "k", "a"]], ["RPUSH", "k", "b"] },
        { [["SET", "k", "v"]], ["SET", "k", "v", "NX"] },
        { [["HSET", "k", "f", "v"]], ["HSETNX", "k", "f", "w"] },
        { [["SADD", "k", "a"]], ["SADD", "k", "a"] },
        { [["SADD", "k", "a"]], ["SREM", "k", "zz"] },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void An_in_place_change_fails_watchers_exactly_when_redis_does(string[][] prepare, string[] change)
    {
        using var redis = new TestClientPair(servers.Redis.Client(), servers.Redis.Client());
        using var node = new TestClientPair(servers.Node.Client(), servers.Node.Client());
        var expected = ExecAfter(redis, prepare, change);
        var actual = ExecAfter(node, prepare, change);
        Assert.True(expected.Kind == actual.Kind, $"{string.Join(' ', change)}: redis {expected}, node {actual}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reset_forgets_watched_keys_as_redis(int protocol)
    {
        foreach (var (name, server) in new (string, Func<RespClient>)[] { ("redis", servers.Redis.Client), ("node", servers.Node.Client) })
        {
            using var client = server();
            using var other = server();
            if (protocol == 3)
            {
                client.Call("HELLO", "3");
            }
            other.Call("SET", "rk", "1");
            client.Call("WATCH", "rk");
            Assert.Equal("RESET", client.Call("RESET").Text);
            other.Call("SET", "rk", "2");
            Assert.Equal("OK", client.Call("MULTI").Text);
            client.Call("INCR", "rk");
            var exec = client.Call("EXEC");
            Assert.True(exec.Kind == RespKind.Array, $"{name}: {exec}");
            Assert.Equal(3, exec.Elements[0].Integer);
        }
    }
}
