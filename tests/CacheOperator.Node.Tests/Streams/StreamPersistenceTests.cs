using System.Globalization;
using System.Text;
using CacheOperator.Node.Server;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Streams in Redis's RDB format (RDB_TYPE_STREAM_LISTPACKS_2): DUMP payloads are the bytes redis-server 7.0.15 dumps
/// and travel both ways through RESTORE; a snapshot file holding streams passes redis-check-rdb and loads into
/// redis-server, and redis-server's file loads into the node, with the same entries, IDs and counters.
/// </summary>
public sealed class StreamPersistenceTests(RedisAndNode servers) : IClassFixture<RedisAndNode>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("stream-rdb-").FullName;

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string N(long i) => i.ToString(CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Commands building streams of every shape: one node, many nodes, deletions, trims, empty, XSETID'd, big values.</summary>
    private static List<string[]> Build()
    {
        var commands = new List<string[]>
        {
            new[] { "XADD", "one", "1-1", "f", "v" },
            new[] { "XADD", "mixed", "5-0", "a", "1", "b", "-4096", "c", "9223372036854775807" },
            new[] { "XADD", "mixed", "5-1", "a", "x", "b", "y", "c", "z" },
            new[] { "XADD", "mixed", "6-*", "other", new string('q', 70) },
            new[] { "XADD", "mixed", "18446744073709551615-0", "big", new string('w', 5000), "e", "" },
            new[] { "XADD", "emptied", "7-7", "f", "v" },
            new[] { "XDEL", "emptied", "7-7" },
            new[] { "XADD", "set", "1-0", "f", "v" },
            new[] { "XSETID", "set", "100-5", "ENTRIESADDED", "40", "MAXDELETEDID", "50-1" },
        };
        for (int i = 1; i <= 500; i++)
        {
            commands.Add(["XADD", "many", $"{1_700_000_000_000 + (i * 3)}-{i % 5}", "sensor", N(i % 7), "reading", N(i * 31), "note", i % 9 == 0 ? "odd-" + N(i) : "n"]);
        }
        commands.Add(["XDEL", "many", "1700000000003-1", "1700000000300-0", "1700000000600-0", "1700000001500-0"]);
        commands.Add(["XTRIM", "many", "MAXLEN", "450"]);
        commands.Add(["XTRIM", "many", "MINID", "~", "1700000000400"]);
        return commands;
    }

    private static readonly string[] Keys = ["one", "mixed", "emptied", "set", "many"];

    private static string Contents(RespClient client, string key) =>
        client.Call("XINFO", "STREAM", key, "FULL", "COUNT", "0") + "\n" + client.Call("XINFO", "STREAM", key) + "\n" + client.Call("XREVRANGE", key, "+", "-");

    private static void Populate(RespClient client)
    {
        client.Call("FLUSHALL");
        foreach (var command in Build())
        {
            var reply = client.Call(command);
            Assert.False(reply.IsError, $"{string.Join(' ', command.Take(3))}: {reply}");
        }
    }

    [Theory]
    [InlineData(100, 4096)]
    [InlineData(7, 200)]
    public void Dump_bytes_match_redis_and_restore_both_ways(int nodeMaxEntries, int nodeMaxBytes)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            client.Call("CONFIG", "SET", "stream-node-max-entries", N(nodeMaxEntries));
            client.Call("CONFIG", "SET", "stream-node-max-bytes", N(nodeMaxBytes));
            Populate(client);
        }
        foreach (var key in Keys)
        {
            var expected = redis.Call("DUMP", key).Bytes!;
            var actual = node.Call("DUMP", key).Bytes!;
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{key}\n  redis: {Convert.ToHexString(expected)}\n  node:  {Convert.ToHexString(actual)}");

            // The node's payload restores on redis, and redis's on the node, to the same stream.
            Assert.Equal("OK", redis.Call([B("RESTORE"), B(key + ":fromnode"), B("0"), actual]).Text);
            Assert.Equal("OK", node.Call([B("RESTORE"), B(key + ":fromredis"), B("0"), expected]).Text);
            Assert.Equal(Contents(redis, key), Contents(redis, key + ":fromnode"));
            Assert.Equal(Contents(redis, key), Contents(node, key + ":fromredis"));
            Assert.True(expected.AsSpan().SequenceEqual(node.Call("DUMP", key + ":fromredis").Bytes!));
        }
        // A restored stream keeps working as the original: appends land in nodes laid out as redis lays them.
        for (int i = 0; i < 30; i++)
        {
            redis.Call("XADD", "many:fromnode", $"{1_800_000_000_000 + i}-0", "sensor", "1", "reading", N(i), "note", "n");
            node.Call("XADD", "many:fromredis", $"{1_800_000_000_000 + i}-0", "sensor", "1", "reading", N(i), "note", "n");
        }
        var redisInfo = redis.Call("XINFO", "STREAM", "many:fromnode").Elements;
        var nodeInfo = node.Call("XINFO", "STREAM", "many:fromredis").Elements;
        Assert.Equal(redisInfo.Take(6).Select(v => v.ToString()), nodeInfo.Take(6).Select(v => v.ToString()));
        foreach (var client in new[] { redis, node })
        {
            client.Call("CONFIG", "SET", "stream-node-max-entries", "100");
            client.Call("CONFIG", "SET", "stream-node-max-bytes", "4096");
        }
    }

    [Fact]
    public void Corrupt_stream_payloads_are_refused_without_a_crash()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        Populate(redis);
        CorruptPayloads.AssertRefusedOrHarmless(node, redis.Call("DUMP", "mixed").Bytes!, c =>
        {
            c.Call("XINFO", "STREAM", "corrupt", "FULL");
            c.Call("XRANGE", "corrupt", "-", "+");
        });
    }

    [Fact]
    public async Task Snapshot_passes_redis_check_rdb_and_loads_both_ways()
    {
        await using var node = TestNode.Start();
        using (var client = node.Client())
        {
            Populate(client);
        }
        await SnapshotRoundTrip.AssertSameEverywhere(node, _dir, c => Keys.Select(k => Contents(c, k)).ToArray());
    }
}
