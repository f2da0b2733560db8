using System.Text;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// A DUMP payload with each body byte flipped in turn (the checksum kept valid, so the body itself is parsed) restored on
/// the node: each is refused with Redis's "Bad data format" or restored into a key that <c>use</c> can read, and the node
/// keeps answering; most flips must be refused.
/// </summary>
internal static class CorruptPayloads
{
    /// <summary>Restores every one-byte corruption of <paramref name="payload"/> under "corrupt" and runs <paramref name="use"/> on those that load.</summary>
    public static void AssertRefusedOrHarmless(RespClient node, byte[] payload, Action<RespClient> use)
    {
        int restored = 0;
        for (int i = 0; i < payload.Length - 10; i++)
        {
            var copy = (byte[])payload.Clone();
            copy[i] ^= 0x5A;
            ulong crc = Crc64.Compute(copy.AsSpan(0, copy.Length - 8));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(copy.Length - 8), crc);
            var reply = node.Call([B("RESTORE"), B("corrupt"), B("0"), copy, B("REPLACE")]);
            Assert.True(reply.Text is "OK" or "ERR Bad data format", reply.ToString());
            if (!reply.IsError)
            {
                restored++;
                use(node);
            }
        }
        Assert.Equal("PONG", node.Call("PING").Text);
        Assert.True(restored < payload.Length / 2, $"{restored} corrupt payloads restored");
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);
}
