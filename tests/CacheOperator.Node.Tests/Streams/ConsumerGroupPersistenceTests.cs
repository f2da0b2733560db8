using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Consumer groups in RDB_TYPE_STREAM_LISTPACKS_2: groups with entries-read, the global PEL with delivery times and
/// counts, consumers with seen times and their own PELs travel through DUMP/RESTORE between the node and redis-server
/// 7.0.15 in both directions unchanged (the payloads are the same bytes), and a snapshot holding them passes
/// redis-check-rdb and loads into redis-server and back.
/// </summary>
public sealed class ConsumerGroupPersistenceTests(RedisAndNode servers) : IClassFixture<RedisAndNode>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xgroups-rdb-").FullName;

    private static readonly string[] Keys = ["jobs", "quiet", "gone"];

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Streams with several groups: pending entries owned by several consumers, consumers with none, acked and claimed entries, deleted pending entries.</summary>
    private static void Populate(RespClient c)
    {
        c.Call("FLUSHALL");
        for (int i = 1; i <= 60; i++)
        {
            c.Call("XADD", "jobs", $"{1000 + i}-{i % 3}", "job", $"j{i}", "payload", new string('x', i % 7));
        }
        c.Call("XGROUP", "CREATE", "jobs", "workers", "0");
        c.Call("XGROUP", "CREATE", "jobs", "audit", "$");
        c.Call("XGROUP", "CREATE", "jobs", "replay", "1020-0", "ENTRIESREAD", "7");
        c.Call("XREADGROUP", "GROUP", "workers", "alice", "COUNT", "20", "STREAMS", "jobs", ">");
        c.Call("XREADGROUP", "GROUP", "workers", "bob", "COUNT", "15", "STREAMS", "jobs", ">");
        c.Call("XREADGROUP", "GROUP", "workers", "carol", "NOACK", "COUNT", "5", "STREAMS", "jobs", ">");
        c.Call("XGROUP", "CREATECONSUMER", "jobs", "workers", "idle-one");
        c.Call("XACK", "jobs", "workers", "1001-1", "1002-2", "1005-2");
        c.Call("XCLAIM", "jobs", "workers", "dave", "0", "1010-1", "1011-2", "TIME", "1700000000123", "RETRYCOUNT", "9");
        c.Call("XREADGROUP", "GROUP", "replay", "r1", "COUNT", "3", "STREAMS", "jobs", ">");
        c.Call("XDEL", "jobs", "1003-0");
        c.Call("XGROUP", "CREATE", "quiet", "g", "$", "MKSTREAM");
        c.Call("XADD", "gone", "1-1", "f", "v");
        c.Call("XGROUP", "CREATE", "gone", "g", "0");
        c.Call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "gone", ">");
        c.Call("XDEL", "gone", "1-1");
    }

    private static string Contents(RespClient c, string key) =>
        c.Call("XINFO", "STREAM", key, "FULL", "COUNT", "0") + "\n" + c.Call("XINFO", "GROUPS", key) + "\n"
        + string.Join('\n', c.Call("XINFO", "GROUPS", key).Elements.Select(g => c.Call("XPENDING", key, g.Elements[1].Text!).ToString()));

    [Fact]
    public void Dump_with_groups_restores_both_ways_unchanged()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        Populate(node);
        Populate(redis);
        foreach (var key in Keys)
        {
            var fromNode = node.Call("DUMP", key).Bytes!;
            Assert.Equal("OK", redis.Call([B("RESTORE"), B(key + ":fromnode"), B("0"), fromNode]).Text);
            Assert.Equal(Contents(node, key), Contents(redis, key + ":fromnode"));
            Assert.True(fromNode.AsSpan().SequenceEqual(redis.Call("DUMP", key + ":fromnode").Bytes!), $"{key}: redis dumps what it restored from the node unchanged");

            var fromRedis = redis.Call("DUMP", key).Bytes!;
            Assert.Equal("OK", node.Call([B("RESTORE"), B(key + ":fromredis"), B("0"), fromRedis]).Text);
            Assert.Equal(Contents(redis, key), Contents(node, key + ":fromredis"));
            Assert.True(fromRedis.AsSpan().SequenceEqual(node.Call("DUMP", key + ":fromredis").Bytes!), $"{key}: the node dumps what it restored from redis unchanged");
        }
        // A restored group keeps serving: its PEL and consumers are live structures, not a copy of a reply.
        Assert.Equal(
            redis.Call("XAUTOCLAIM", "jobs:fromnode", "workers", "zed", "0", "0", "COUNT", "4", "JUSTID").ToString(),
            node.Call("XAUTOCLAIM", "jobs:fromredis", "workers", "zed", "0", "0", "COUNT", "4", "JUSTID").ToString());
        Assert.Equal(redis.Call("XPENDING", "jobs:fromnode", "workers").ToString(), node.Call("XPENDING", "jobs:fromredis", "workers").ToString());
    }

    [Fact]
    public void Corrupt_group_payloads_are_refused_without_a_crash()
    {
        using var node = servers.Node.Client();
        Populate(node);
        CorruptPayloads.AssertRefusedOrHarmless(node, node.Call("DUMP", "gone").Bytes!, c =>
        {
            c.Call("XINFO", "STREAM", "corrupt", "FULL");
            c.Call("XPENDING", "corrupt", "g");
            c.Call("XAUTOCLAIM", "corrupt", "g", "x", "0", "0");
        });
    }

    [Fact]
    public async Task Snapshot_with_groups_passes_redis_check_rdb_and_loads_both_ways()
    {
        await using var node = TestNode.Start();
        using (var client = node.Client())
        {
            Populate(client);
        }
        await SnapshotRoundTrip.AssertSameEverywhere(node, _dir, c => Keys.Select(k => Contents(c, k)).ToArray());
    }
}
