using System.Buffers.Binary;
using System.IO.Pipelines;

namespace CacheOperator.Node.Cluster.Bus;

/// <summary>The outcome of reading one frame from a bus link.</summary>
internal enum BusFrameStatus
{
    /// <summary>A whole frame was read.</summary>
    Frame,

    /// <summary>The peer closed the link between frames.</summary>
    End,

    /// <summary>The 8-byte prefix is not a frame's (signature, or a length below the header or above the maximum), or the link closed mid-frame: the link must close.</summary>
    Rejected,
}

/// <summary>
/// Cuts a bus link's byte stream into frames as Redis's clusterReadHandler does: the first 8 bytes
/// ("RCmb" and totlen) give the frame's length; unlike Redis, a totlen above a maximum is refused
/// before anything is buffered, so a hostile peer cannot make the node allocate without bound.
/// </summary>
internal sealed class BusFrameReader(PipeReader input, int maxFrameLength = BusFrameReader.DefaultMaxFrameLength)
{
    /// <summary>Largest frame accepted by default: far above any PING (a 1000-node gossip is about 110 KB) yet bounded.</summary>
    public const int DefaultMaxFrameLength = 64 * 1024 * 1024;

    /// <summary>Why the last read returned <see cref="BusFrameStatus.Rejected"/>.</summary>
    public BusRejection Rejection { get; private set; }

    /// <summary>Checks a frame's 8-byte prefix; returns the frame length, or a rejection.</summary>
    public static BusRejection CheckPrefix(ReadOnlySpan<byte> prefix, int maxFrameLength, out int length)
    {
        length = 0;
        if (!prefix[..4].SequenceEqual(ClusterMessageCodec.Signature))
        {
            return BusRejection.BadSignature;
        }
        uint total = BinaryPrimitives.ReadUInt32BigEndian(prefix[4..]);
        if (total < ClusterMessage.HeaderLength)
        {
            return BusRejection.TooShort;
        }
        if (total > (uint)maxFrameLength)
        {
            return BusRejection.BadTotalLength;
        }
        length = (int)total;
        return BusRejection.None;
    }

    private static BusRejection CheckPrefix(in ReadOnlySequence<byte> buffer, int maxFrameLength, out int length)
    {
        Span<byte> prefix = stackalloc byte[8];
        buffer.Slice(0, 8).CopyTo(prefix);
        return CheckPrefix(prefix, maxFrameLength, out length);
    }

    /// <summary>Reads the next frame into a new array.</summary>
    public async ValueTask<(BusFrameStatus Status, byte[]? Frame)> ReadAsync(CancellationToken cancellation)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellation).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= 8)
            {
                var rejection = CheckPrefix(buffer, maxFrameLength, out int length);
                if (rejection != BusRejection.None)
                {
                    Rejection = rejection;
                    input.AdvanceTo(buffer.Start);
                    return (BusFrameStatus.Rejected, null);
                }
                if (buffer.Length >= length)
                {
                    var frame = buffer.Slice(0, length).ToArray();
                    input.AdvanceTo(buffer.GetPosition(length));
                    return (BusFrameStatus.Frame, frame);
                }
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                bool partial = !buffer.IsEmpty;
                input.AdvanceTo(buffer.End);
                if (partial)
                {
                    Rejection = BusRejection.Truncated;
                    return (BusFrameStatus.Rejected, null);
                }
                return (BusFrameStatus.End, null);
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
