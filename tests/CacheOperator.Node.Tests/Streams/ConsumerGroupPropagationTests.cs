using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Replication;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// What consumer-group commands send to replicas: the node's change stream against what redis-server 7.0.15 sends for
/// the same script (XREADGROUP as XCLAIM ... FORCE JUSTID LASTID, NOACK as XGROUP CREATECONSUMER + SETID, XCLAIM and
/// XAUTOCLAIM per claimed or vanished entry, a blocked XREADGROUP served later); and replicas of the node (a node and a
/// redis-server) ending with the master's groups, consumers and pending entries, delivery counts and times (within the
/// servers' clock difference) included.
/// </summary>
public partial class ConsumerGroupPropagationTests
{
    private static readonly string[][] Script =
    [
        ["XADD", "s", "1-1", "a", "1"], ["XADD", "s", "2-1", "b", "2"], ["XADD", "s", "3-1", "c", "3"], ["XGROUP", "CREATE", "s", "g", "$"],
        ["XREADGROUP", "GROUP", "g", "ca", "NOACK", "STREAMS", "s", ">"], ["XGROUP", "SETID", "s", "g", "0"],
        ["XREADGROUP", "GROUP", "g", "ce", "COUNT", "2", "STREAMS", "s", ">"], ["XCLAIM", "s", "g", "cf", "0", "1-1", "9-9"],
        ["XCLAIM", "s", "g", "cg", "100000000", "1-1"], ["XAUTOCLAIM", "s", "g", "ch", "0", "0", "COUNT", "1"], ["XDEL", "s", "2-1"],
        ["XAUTOCLAIM", "s", "g", "ch2", "0", "0", "JUSTID"], ["XREADGROUP", "GROUP", "g", "cn", "NOACK", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g", "cn2", "NOACK", "STREAMS", "s", "0"], ["XCLAIM", "s", "g", "cx", "0", "3-1", "LASTID", "5-0"],
        ["XCLAIM", "s", "g", "cx", "0", "1", "FORCE"], ["XCLAIM", "s", "g", "cy", "0", "9-9", "LASTID", "7-0"], ["XADD", "s", "8-1", "a", "1"],
        ["XREADGROUP", "GROUP", "g", "cn3", "STREAMS", "s", "0"], ["XACK", "s", "g", "1-1", "3-1"], ["XACK", "s", "g", "1-1"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c5"], ["XGROUP", "CREATECONSUMER", "s", "g", "c5"], ["XGROUP", "DELCONSUMER", "s", "g", "c5"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c5"], ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "1"], ["XGROUP", "SETID", "s", "g2", "1-1", "ENTRIESREAD", "1"],
        ["MULTI"], ["XREADGROUP", "GROUP", "g2", "m", "STREAMS", "s", ">"], ["XACK", "s", "g2", "3-1"], ["EXEC"],
        ["XGROUP", "DESTROY", "s", "g2"], ["XGROUP", "DESTROY", "s", "g2"], ["XPENDING", "s", "g"], ["XINFO", "GROUPS", "s"],
    ];

    [Fact]
    public async Task The_stream_matches_what_redis_sends_its_replicas()
    {
        var (expected, actual) = await PropagationDifferential.CaptureAsync(connect =>
        {
            using var c = connect();
            using var other = connect();
            Run(c, other);
        });
        Assert.Contains(expected, c => c.StartsWith("XCLAIM s g ce 0 1-1 TIME ", StringComparison.Ordinal));
        // Delivery times are the clock of each server: the rest of every command is compared exactly.
        Assert.Equal(string.Join('\n', expected.Select(WithoutTime)), string.Join('\n', actual.Select(WithoutTime)));
    }

    [Fact]
    public async Task A_node_replica_and_a_redis_replica_end_with_the_masters_groups()
    {
        await using var master = TestNode.Start();
        await using var nodeReplica = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var redisReplica = RedisServerProcess.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var m = master.Client();
        using var other = master.Client();
        using var r1 = nodeReplica.Client();
        using var r2 = redisReplica.Client();
        Wait.Until(() => ReplicationInfo.Info(r1, "master_link_status") == "up" && ReplicationInfo.Info(r2, "master_link_status") == "up", "both replicas are in sync");
        // Not the feed script: a new consumer reading only its (empty) history exists on the master alone, in Redis too.
        m.Call("XADD", "s", "1-1", "a", "1");
        m.Call("XADD", "s", "2-1", "b", "2");
        m.Call("XGROUP", "CREATE", "s", "g", "0");
        m.Call("XREADGROUP", "GROUP", "g", "reader", "COUNT", "1", "STREAMS", "s", ">");
        m.Call("XREADGROUP", "GROUP", "g", "quick", "NOACK", "STREAMS", "s", ">");
        m.Call("XDEL", "s", "1-1");
        m.Call("XADD", "s", "3-1", "c", "3");
        for (int i = 0; i < 50; i++)
        {
            m.Call("XADD", "q", "*", "n", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        m.Call("XGROUP", "CREATE", "q", "workers", "0");
        m.Call("XREADGROUP", "GROUP", "workers", "w1", "COUNT", "20", "STREAMS", "q", ">");
        m.Call("XREADGROUP", "GROUP", "workers", "w2", "COUNT", "20", "STREAMS", "q", ">");
        m.Call("XREADGROUP", "GROUP", "workers", "w3", "NOACK", "COUNT", "5", "STREAMS", "q", ">");
        var firstTen = m.Call("XPENDING", "q", "workers", "-", "+", "10", "w1").Elements.Select(e => e.Elements[0].Text!).ToArray();
        m.Call(["XACK", "q", "workers", .. firstTen]);
        m.Call("XCLAIM", "q", "workers", "w3", "0", firstTenOf(m, "w2")[0], firstTenOf(m, "w2")[1], "RETRYCOUNT", "5");
        m.Call("XAUTOCLAIM", "q", "workers", "w4", "0", "0", "COUNT", "7");
        // (A history read counts a delivery on the master only: Redis does not propagate it either.)
        m.Call("XGROUP", "DELCONSUMER", "q", "workers", "w2");
        m.Call("SET", "sentinel", "2");

        foreach (var (replica, name) in new[] { (r1, "node replica"), (r2, "redis-server replica") })
        {
            Wait.Until(() => replica.Call("GET", "sentinel").Text == "2", $"the {name} received everything");
            foreach (var key in new[] { "s", "q" })
            {
                var expected = Comparable(m.Call("XINFO", "STREAM", key, "FULL"));
                var actual = Comparable(replica.Call("XINFO", "STREAM", key, "FULL"));
                Assert.True(SameButClock(expected, actual), $"{name}, XINFO STREAM {key} FULL\n  master:  {expected}\n  replica: {actual}");
                foreach (var group in m.Call("XINFO", "GROUPS", key).Elements.Select(g => g.Elements[1].Text!))
                {
                    Assert.Equal(m.Call("XPENDING", key, group).ToString(), replica.Call("XPENDING", key, group).ToString());
                    Assert.Equal(Names(m.Call("XINFO", "CONSUMERS", key, group)), Names(replica.Call("XINFO", "CONSUMERS", key, group)));
                }
            }
        }

        static string[] firstTenOf(RespClient c, string consumer) =>
            c.Call("XPENDING", "q", "workers", "-", "+", "10", consumer).Elements.Select(e => e.Elements[0].Text!).ToArray();
    }

    /// <summary>The script, then a blocked XREADGROUP served by a later XADD (the helper's sentinel ends the stream).</summary>
    private static void Run(RespClient c, RespClient other)
    {
        foreach (var command in Script)
        {
            c.Call(command);
        }
        c.Call("XGROUP", "CREATE", "b", "g", "$", "MKSTREAM");
        other.Send("XREADGROUP", "GROUP", "g", "waiter", "BLOCK", "0", "STREAMS", "b", ">");
        Wait.Until(() => c.Call("INFO", "clients").Text!.Contains("blocked_clients:1\r\n", StringComparison.Ordinal), "XREADGROUP blocks");
        c.Call("XADD", "b", "1-1", "x", "y");
        Assert.Equal("b", other.Read().Elements[0].Elements[0].Text);
        other.Send("XREADGROUP", "GROUP", "g", "waiter2", "NOACK", "BLOCK", "0", "STREAMS", "b", ">");
        Wait.Until(() => c.Call("INFO", "clients").Text!.Contains("blocked_clients:1\r\n", StringComparison.Ordinal), "XREADGROUP NOACK blocks");
        c.Call("XADD", "b", "2-1", "x", "y");
        Assert.Equal("b", other.Read().Elements[0].Elements[0].Text);
    }

    private static string WithoutTime(string command) => TimeArgument().Replace(command, " TIME <ms> ");

    /// <summary>XINFO STREAM FULL with the consumers' seen times (local to each server) zeroed; delivery times are replicated.</summary>
    private static RespValue Comparable(RespValue value)
    {
        if (value.Items is not { } items)
        {
            return value;
        }
        var copy = items.Select(Comparable).ToList();
        for (int i = 0; i + 1 < copy.Count; i++)
        {
            if (copy[i].Text == "seen-time")
            {
                copy[i + 1] = copy[i + 1] with { Integer = 0 };
            }
        }
        return value with { Items = copy };
    }

    /// <summary>
    /// Structural equality, except that delivery times (unix ms) may differ by a few ms: a replica sets a TIME that is
    /// ahead of its own clock to its now, as Redis does, and two servers' clocks are never exactly together.
    /// </summary>
    private static bool SameButClock(RespValue a, RespValue b) =>
        a.Kind == b.Kind && (a.Integer == b.Integer || (a.Integer > 1_000_000_000_000 && Math.Abs(a.Integer - b.Integer) <= 5))
        && (a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? [])
        && (a.Items ?? []).Count == (b.Items ?? []).Count && (a.Items ?? []).Zip(b.Items ?? []).All(p => SameButClock(p.First, p.Second));

    private static string Names(RespValue consumers) =>
        string.Join(',', consumers.Elements.Select(c => $"{c.Elements[1].Text}:{c.Elements[3].Integer}"));

    [GeneratedRegex(" TIME [0-9]+ ")]
    private static partial Regex TimeArgument();
}
