using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// The node's change stream against what a real redis-server 7.0 sends its replicas for the same commands:
/// the same commands, rewritten the same way, with the same SELECTs and MULTI/EXEC blocks. Absolute times
/// derived from the clock may differ by the time between the two runs.
/// </summary>
public class RedisStreamDifferentialTests
{
    private static readonly string[][] Script =
    [
        ["SET", "k", "v", "EX", "100"], ["SET", "k", "v", "PX", "100000", "GET"], ["SET", "k", "w", "NX"], ["SET", "k2", "v", "KEEPTTL"],
        ["SETEX", "k3", "100", "v"], ["PSETEX", "k3", "100000", "v"], ["SET", "k4", "v", "EXAT", "4000000000"], ["SET", "k4", "v", "PXAT", "4000000000000"],
        ["GETEX", "k2", "EX", "100"], ["GETEX", "k2", "PERSIST"], ["GETEX", "k2", "PERSIST"], ["GETEX", "k2"], ["GETEX", "k2", "PXAT", "1"],
        ["GETDEL", "k3"], ["GETDEL", "k3"], ["SET", "n", "10.5"], ["INCRBYFLOAT", "n", "0.1"], ["HINCRBYFLOAT", "h", "f", "2.5e3"],
        ["EXPIRE", "k", "100"], ["PEXPIRE", "k", "100000", "XX"], ["EXPIREAT", "k", "4000000000", "GT"], ["PEXPIREAT", "k", "4000000000001"],
        ["EXPIRE", "k", "200", "NX"], ["EXPIRE", "missing", "10"], ["PERSIST", "k"], ["EXPIRE", "k", "-5"],
        ["SADD", "s1", "a"], ["SPOP", "s1"], ["SADD", "s2", "a", "b"], ["SPOP", "s2", "5"], ["SADD", "s3", "a"], ["SADD", "s3", "a"], ["SPOP", "s3", "0"],
        ["SADD", "s4", "a", "b", "c", "d", "e", "f", "g"], ["SPOP", "s4", "3"], ["SPOP", "s4", "1"],
        ["RPUSH", "l", "a", "b", "c", "d", "e", "f"], ["BLPOP", "none", "l", "1"], ["BRPOP", "l", "1"], ["BLMOVE", "l", "l2", "LEFT", "RIGHT", "1"],
        ["BRPOPLPUSH", "l", "l2", "1"], ["LMPOP", "2", "none", "l", "LEFT", "COUNT", "5"], ["BLMPOP", "1", "1", "l2", "RIGHT", "COUNT", "1"],
        ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"], ["BZPOPMIN", "z", "1"], ["BZPOPMAX", "z", "1"], ["ZMPOP", "1", "z", "MIN", "COUNT", "1"],
        ["BZMPOP", "1", "1", "z", "MAX", "COUNT", "3"], ["LPOP", "l2", "1"], ["RPOP", "l2"], ["LMOVE", "x", "y", "LEFT", "LEFT"],
        ["MULTI"], ["SET", "t1", "1"], ["GET", "t1"], ["INCR", "t1"], ["EXEC"], ["MULTI"], ["SET", "t2", "1"], ["EXEC"], ["MULTI"], ["GET", "t2"], ["EXEC"],
        ["MULTI"], ["SET", "t3", "1", "EX", "100"], ["SELECT", "3"], ["SADD", "t4", "x"], ["EXEC"],
        ["SET", "d3", "1"], ["SELECT", "0"], ["COPY", "t1", "t5", "DB", "2"], ["MOVE", "t1", "4"], ["SWAPDB", "2", "4"], ["FLUSHDB"], ["FLUSHALL"], ["FLUSHALL", "ASYNC"],
        ["DEL", "missing"], ["SET", "after", "1"],
    ];

    [Fact]
    public async Task The_stream_matches_what_redis_sends_its_replicas()
    {
        var (expected, actual) = await PropagationDifferential.CaptureAsync(
            connect =>
            {
                using var c = connect();
                using var other = connect();
                Run(c, other);
            },
            "--enable-debug-command", "yes");
        AssertSameStream(expected, actual);
    }

    /// <summary>The script, then a blocked client served by a push (the helper's sentinel ends the stream).</summary>
    private static void Run(RespClient c, RespClient other)
    {
        foreach (var command in Script)
        {
            c.Call(command);
        }
        LazyExpiry(c);
        other.Call("SELECT", "5");
        other.Send("BLMPOP", "0", "2", "q1", "q2", "RIGHT", "COUNT", "2");
        Wait.Until(() => c.Call("INFO", "clients").Text!.Contains("blocked_clients:1\r\n", StringComparison.Ordinal), "BLMPOP blocks");
        c.Call("SELECT", "5");
        c.Call("LPUSH", "q2", "a", "b", "c");
        Assert.Equal("q2", other.Read().Elements[0].Text);
    }

    /// <summary>
    /// Keys that expired and are then read, written or found inside a transaction: the deletions go out
    /// with the command that found them. The active cycle is off, so only commands find them.
    /// </summary>
    private static void LazyExpiry(RespClient c)
    {
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0");
        c.Call("SELECT", "6");
        foreach (var key in new[] { "e1", "e2", "e3", "e4", "e5" })
        {
            c.Call("SET", key, "v", "PX", "1");
        }
        long setAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // The server's own clock says when the keys are past their time (reading them would expire them).
        Wait.Until(() => ServerMs(c) > setAt + 20, "the keys are past their time");
        c.Call("GET", "e1");
        c.Call("SET", "e2", "new");
        c.Call("RPUSH", "e3", "x");
        c.Call("MULTI");
        c.Call("EXISTS", "e4");
        c.Call("SET", "other", "1");
        c.Call("EXEC");
        c.Call("MULTI");
        c.Call("GET", "e5");
        c.Call("EXEC");
        c.Call("DEBUG", "SET-ACTIVE-EXPIRE", "1");
        c.Call("SELECT", "0");
    }

    private static long ServerMs(RespClient c)
    {
        var time = c.Call("TIME").Texts;
        return long.Parse(time[0]!, CultureInfo.InvariantCulture) * 1000 + long.Parse(time[1]!, CultureInfo.InvariantCulture) / 1000;
    }

    /// <summary>Equal command by command; numbers that are unix times in ms (after 2020) may differ by a minute.</summary>
    private static void AssertSameStream(List<string> expected, List<string> actual)
    {
        string Describe() => $"redis:\n{string.Join('\n', expected)}\n\nnode:\n{string.Join('\n', actual)}";
        Assert.True(expected.Count == actual.Count, $"{expected.Count} commands from redis, {actual.Count} from the node\n{Describe()}");
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i].Split(' ');
            var a = actual[i].Split(' ');
            // SPOP's members are random: an SREM must name as many members of the same key.
            bool same = e.Length == a.Length
                && (e[0] == "SREM" ? a[0] == "SREM" && a[1] == e[1] : e.Zip(a).All(p => p.First == p.Second || CloseTimes(p.First, p.Second)));
            Assert.True(same, $"command {i}: redis '{expected[i]}', node '{actual[i]}'\n{Describe()}");
        }
    }

    private static bool CloseTimes(string a, string b) =>
        long.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out long x) && long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out long y)
        && x > 1_577_836_800_000 && Math.Abs(x - y) < 60_000;
}
