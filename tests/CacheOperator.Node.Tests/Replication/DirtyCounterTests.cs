using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>INFO persistence rdb_changes_since_last_save moves by what each command changed, as redis-server 7.0's dirty counter.</summary>
public class DirtyCounterTests
{
    private static readonly string[][] Commands =
    [
        ["SET", "s", "v"], ["SET", "s", "v"], ["SET", "s", "w", "NX"], ["SET", "s", "x", "EX", "100"], ["SETNX", "s", "y"],
        ["MSET", "a", "1", "b", "2", "c", "3"], ["MSETNX", "a", "1", "z", "2"], ["INCR", "a"], ["INCRBYFLOAT", "a", "1.5"], ["APPEND", "b", "x"],
        ["GET", "a"], ["GETDEL", "c"], ["GETDEL", "c"], ["GETEX", "b", "EX", "10"], ["GETEX", "b", "PERSIST"], ["GETEX", "b", "PERSIST"], ["GETSET", "b", "n"],
        ["SETRANGE", "b", "1", "zz"], ["DEL", "a", "b", "missing"], ["UNLINK", "s", "missing"],
        ["EXPIRE", "missing", "10"], ["SET", "e", "1"], ["EXPIRE", "e", "100"], ["EXPIRE", "e", "50", "GT"], ["PERSIST", "e"], ["PERSIST", "e"], ["EXPIRE", "e", "-1"],
        ["SET", "r", "1"], ["RENAME", "r", "r2"], ["RENAMENX", "r2", "r3"], ["COPY", "r3", "r4"], ["MOVE", "r4", "2"], ["SWAPDB", "0", "2"], ["SWAPDB", "0", "2"],
        ["RPUSH", "l", "a"], ["LPOP", "l"], ["LPUSHX", "l", "a"], ["LPOP", "missing"], ["RPUSH", "l2", "a"], ["LSET", "l2", "0", "b"], ["LMOVE", "l2", "l3", "LEFT", "LEFT"],
        ["HSET", "h", "f", "1"], ["HSETNX", "h", "f", "2"], ["HINCRBY", "h", "f", "2"], ["HINCRBYFLOAT", "h", "g", "1.5"], ["HDEL", "h", "missing"],
        ["SADD", "t", "a"], ["SADD", "t", "a"], ["SREM", "t", "b"], ["SPOP", "t"], ["SADD", "t2", "a"], ["SMOVE", "t2", "t3", "a"],
        ["ZADD", "z", "1", "a"], ["ZADD", "z", "1", "a"], ["ZINCRBY", "z", "1", "a"], ["ZREM", "z", "b"], ["ZPOPMIN", "z"],
        ["SADD", "u1", "x"], ["SUNIONSTORE", "u2", "u1"], ["SINTERSTORE", "u3", "u1", "missing"],
        ["MSET", "m1", "1", "m2", "2"], ["DEL", "m1", "m2", "m3"], ["RPUSH", "pl", "a", "b", "c"], ["LPUSH", "pl", "d", "e"], ["HSET", "ph", "a", "1", "b", "2"],
        ["HSET", "ph", "a", "1", "c", "3"], ["HDEL", "ph", "a", "b", "x"], ["SADD", "ps", "a", "b", "c"], ["SADD", "ps", "c", "d"], ["SREM", "ps", "a", "b", "x"],
        ["SMOVE", "ps", "ps2", "c"], ["SADD", "ps2", "d"], ["SMOVE", "ps", "ps2", "d"], ["ZADD", "pz", "1", "a", "2", "b", "3", "c"], ["ZADD", "pz", "5", "a", "2", "b", "9", "d"],
        ["ZADD", "pz", "CH", "1", "a", "2", "b"], ["ZREM", "pz", "a", "b", "x"], ["ZINCRBY", "pz", "2", "c"],
        ["RPUSH", "q", "1", "2", "3", "4", "5", "6", "7", "8", "9", "1", "1"], ["LPOP", "q", "2"], ["RPOP", "q", "2"], ["LREM", "q", "0", "1"], ["LTRIM", "q", "1", "2"],
        ["LMPOP", "1", "q", "LEFT", "COUNT", "5"], ["SADD", "qs", "1", "2", "3", "4", "5"], ["SPOP", "qs", "2"], ["SPOP", "qs", "10"],
        ["ZADD", "qz", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"], ["ZPOPMIN", "qz", "2"], ["ZMPOP", "1", "qz", "MAX", "COUNT", "1"], ["ZREMRANGEBYSCORE", "qz", "0", "10"],
        ["ZADD", "qz", "1", "a", "2", "b", "3", "c"], ["ZREMRANGEBYRANK", "qz", "0", "1"], ["ZUNIONSTORE", "qz2", "1", "qz"], ["ZRANGESTORE", "qz3", "qz2", "0", "-1"],
        ["HSET", "qh", "a", "1"], ["HDEL", "qh", "a"], ["LINSERT", "l3", "BEFORE", "b", "x"], ["RPUSHX", "l3", "y", "z"], ["SETEX", "se", "100", "v"], ["PSETEX", "se", "100000", "v"],
        ["INCRBY", "ib", "5"], ["DECR", "ib"], ["SETRANGE", "sr", "3", "abc"], ["GETEX", "sr", "PX", "100000"], ["EXPIREAT", "sr", "1"],
        ["SETBIT", "bm", "7", "1"], ["SETBIT", "bm", "7", "1"], ["SETBIT", "bm", "6", "0"], ["SETBIT", "bm", "20", "0"], ["BITOP", "OR", "bm2", "bm"],
        ["BITOP", "AND", "bm2", "missing"], ["BITOP", "AND", "bm2", "missing"], ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "0", "300"],
        ["BITFIELD", "bf", "SET", "u4", "0", "1", "SET", "u4", "4", "1", "SET", "u4", "0", "1"], ["BITFIELD", "bf", "SET", "u8", "16", "0", "SET", "u8", "16", "0"],
        ["BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u8", "100", "300"], ["BITFIELD", "bf", "GET", "u8", "0"],
        ["FLUSHDB"], ["SET", "k", "v"], ["FLUSHALL"], ["FLUSHALL"],
    ];

    [Fact]
    public async Task Each_command_moves_the_counter_as_redis_does()
    {
        using var redis = RedisServerProcess.Start();
        await using var node = TestNode.Start();
        using var r = redis.Client();
        using var n = node.Client();
        var differences = new List<string>();
        foreach (var command in Commands)
        {
            long redisBefore = Changes(r), nodeBefore = Changes(n);
            var redisReply = r.Call(command);
            var nodeReply = n.Call(command);
            if (command[0] != "SPOP")
            {
                // SPOP's members are random: only the counter is compared.
                Assert.Equal(redisReply.ToString(), nodeReply.ToString());
            }
            long redisDelta = Changes(r) - redisBefore, nodeDelta = Changes(n) - nodeBefore;
            if (redisDelta != nodeDelta)
            {
                differences.Add($"{string.Join(' ', command)}: redis {redisDelta}, node {nodeDelta}");
            }
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    private static long Changes(RespClient c)
    {
        var line = c.Call("INFO", "persistence").Text!.Split("\r\n").First(l => l.StartsWith("rdb_changes_since_last_save:", StringComparison.Ordinal));
        return long.Parse(line["rdb_changes_since_last_save:".Length..], CultureInfo.InvariantCulture);
    }
}
