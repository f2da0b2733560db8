using CacheOperator.Node.Replication;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>The backlog against a plain copy of the whole stream: offsets, wrap-around, oversized writes and resizing.</summary>
public sealed class ReplicationBacklogTests
{
    [Fact]
    public void HoldsExactlyTheNewestBytesWithRedisOffsets()
    {
        var random = new Random(7);
        const long Start = 1000;
        var backlog = new ReplicationBacklog(16 * 1024, Start);
        var stream = new List<byte>();
        long held = 0;
        Assert.Equal(Start + 1, backlog.FirstByteOffset);
        Assert.True(backlog.Holds(Start + 1));
        Assert.Empty(backlog.CopyFrom(Start + 1));
        for (int round = 0; round < 400; round++)
        {
            // Mostly small writes, now and then one larger than the whole ring.
            var chunk = new byte[round % 97 == 0 ? 40_000 : random.Next(1, 3000)];
            random.NextBytes(chunk);
            backlog.Receive(chunk);
            stream.AddRange(chunk);
            held = Math.Min(held + chunk.Length, backlog.Size);
            long end = Start + stream.Count;
            Assert.Equal(held, backlog.HistoryLength);
            Assert.Equal(end - backlog.HistoryLength + 1, backlog.FirstByteOffset);
            Assert.False(backlog.Holds(backlog.FirstByteOffset - 1));
            Assert.False(backlog.Holds(end + 2));
            long from = backlog.FirstByteOffset + random.NextInt64(backlog.HistoryLength + 1);
            Assert.True(backlog.Holds(from));
            Assert.Equal(stream.Skip((int)(from - Start - 1)).ToArray(), backlog.CopyFrom(from));
            if (round == 200)
            {
                backlog.Resize(20 * 1024);
                held = Math.Min(held, backlog.Size);
                Assert.Equal(held, backlog.HistoryLength);
                Assert.Equal(stream.Skip((int)(backlog.FirstByteOffset - Start - 1)).ToArray(), backlog.CopyFrom(backlog.FirstByteOffset));
            }
        }
        backlog.Reset(5000);
        Assert.Equal(5001, backlog.FirstByteOffset);
        Assert.Equal(0, backlog.HistoryLength);
    }
}
