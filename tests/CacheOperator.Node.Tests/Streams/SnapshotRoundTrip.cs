using CacheOperator.Node.Persistence;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Persistence;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// A node's keyspace through a snapshot file and back: written by the node, checked by redis-check-rdb, loaded by
/// redis-server (which saves it again), and that file loaded into a fresh node; what <c>contents</c> reads must be the
/// same on all three.
/// </summary>
internal static class SnapshotRoundTrip
{
    /// <summary>Runs the round trip for the keys of <paramref name="node"/> in <paramref name="dir"/> (a directory of the test's own).</summary>
    public static async Task AssertSameEverywhere(TestNode node, string dir, Func<RespClient, string[]> contents)
    {
        string[] expected;
        using (var client = node.Client())
        {
            expected = contents(client);
        }
        var path = Path.Combine(dir, "node.rdb");
        using (var file = File.Create(path))
        {
            lock (node.Server.Keyspace.Sync)
            {
                RdbWriter.WriteKeyspace(file, node.Server.Keyspace, new RdbHeader("7.0.15", 1_700_000_000, node.Server.Keyspace.UsedMemory()), true, true);
            }
        }
        Assert.Contains("RDB looks OK", RdbFileTests.CheckRdb(path), StringComparison.Ordinal);
        using (var redis = RedisServerProcess.Start("--dir", dir, "--dbfilename", "node.rdb"))
        using (var redisClient = redis.Client())
        {
            Assert.Equal(expected, contents(redisClient));
            Assert.Equal("OK", redisClient.Call("SAVE").Text);
        }
        await using var target = TestNode.Start();
        lock (target.Server.Keyspace.Sync)
        {
            target.Server.Keyspace.UpdateClock();
            RdbReader.LoadInto(new MemoryStream(File.ReadAllBytes(path)), target.Server.Keyspace, target.Server.Keyspace.NowMs);
        }
        using var targetClient = target.Client();
        Assert.Equal(expected, contents(targetClient));
    }
}
