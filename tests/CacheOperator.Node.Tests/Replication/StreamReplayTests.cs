using System.Buffers;
using System.Globalization;
using CacheOperator.Client;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// The "done means" for the write path: a random workload of every kind runs on node A (with eviction
/// under maxmemory and active expiry) while its change stream is captured; the stream, applied as plain
/// commands to an empty node B, or to a real redis-server 7.0, leaves the same dataset key by key
/// (type, value, absolute expiry) in every database.
/// </summary>
public class StreamReplayTests
{
    private const int Steps = 1500;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Replaying_the_stream_into_an_empty_node_gives_the_same_dataset(int seed)
    {
        await using var a = TestNode.Start("--maxmemory-policy", "allkeys-lru", "--hz", "50");
        var stream = StreamCapture.Attach(a.Server);
        var dataset = RunWorkload(a, seed);

        // Node B applies the stream's bytes as a replica will: through the engine's local entry point, no socket.
        await using var b = TestNode.Start();
        // One copy of the stream for both the replay and the count: node A's active expiry may still append a DEL of
        // a key that was already logically gone (and so absent from the dataset) after this point.
        byte[] captured = stream.Bytes;
        byte[] replies = await b.Server.ConnectLocal().RunRespAsync(new ReadOnlySequence<byte>(captured));
        var reader = new RespFrameReader();
        reader.Append(replies);
        int count = 0;
        while (reader.TryRead(out var reply))
        {
            if (reply.Kind == RespReplyKind.Error)
            {
                Assert.Fail($"command {count} of the stream failed on node B: {reply.AsString()}");
            }
            count++;
        }
        Assert.Equal(StreamCapture.Parse(captured).Count, count);
        using var replica = b.Client();
        Dataset.Read(replica).AssertSameAs(dataset, $"node B after the stream of seed {seed}");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task Replaying_the_stream_into_redis_gives_the_same_dataset(int seed)
    {
        await using var a = TestNode.Start("--maxmemory-policy", "allkeys-lru", "--hz", "50");
        var stream = StreamCapture.Attach(a.Server);
        var dataset = RunWorkload(a, seed);

        using var redis = RedisServerProcess.Start();
        using var replica = redis.Client();
        Replay(stream, replica);
        Dataset.Read(replica).AssertSameAs(dataset, $"redis-server after the stream of seed {seed}");
    }

    /// <summary>Runs the workload on <paramref name="node"/> and returns its dataset once every short TTL has run out.</summary>
    private static Dataset RunWorkload(TestNode node, int seed)
    {
        using var main = node.Client();
        using var other = node.Client();
        new Workload(seed, main, other).Run(Steps, step =>
        {
            if (step == Steps / 3)
            {
                // Under maxmemory for the middle third: writes evict keys from here on.
                main.Call("CONFIG", "SET", "maxmemory", Text(UsedMemory(main) * 3 / 4));
            }
            else if (step == Steps * 2 / 3)
            {
                main.Call("CONFIG", "SET", "maxmemory", "0");
            }
        });
        Assert.True(Evicted(main) > 0, "the workload evicted keys");
        // Wait until every short-lived key is gone (reading expires it; the active cycle may be first).
        Dataset dataset = Dataset.Read(main);
        Wait.Until(() =>
        {
            dataset = Dataset.Read(main);
            long soon = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + Workload.LongTtlMs / 2;
            return dataset.Keys.Values.All(k => k.ExpireAtMs == -1 || k.ExpireAtMs > soon);
        }, "every short TTL has run out");
        Assert.True(ExpiredKeys(main) > 0, "the workload expired keys");
        return dataset;
    }

    /// <summary>Sends every command of the stream; none may fail.</summary>
    private static void Replay(StreamCapture stream, RespClient replica)
    {
        var commands = stream.Commands;
        Assert.True(commands.Count > Steps / 2, $"the stream holds {commands.Count} commands");
        foreach (var argv in commands)
        {
            var reply = replica.Call(argv);
            Assert.False(reply.IsError, $"{StreamCapture.Format(argv)} failed: {reply}");
        }
    }

    private static string Text(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static long Field(RespClient c, string section, string name)
    {
        var line = c.Call("INFO", section).Text!.Split("\r\n").First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return long.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private static long UsedMemory(RespClient c) => Field(c, "memory", "used_memory");

    private static long Evicted(RespClient c) => Field(c, "stats", "evicted_keys");

    private static long ExpiredKeys(RespClient c) => Field(c, "stats", "expired_keys");
}
