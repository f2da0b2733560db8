using System.Buffers.Binary;
using System.IO.Pipelines;
using CacheOperator.Node.Cluster.Bus;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>The cluster bus codec on its own: every message type round-trips, and hostile bytes are refused with a reason, never an exception.</summary>
public class ClusterBusCodecTests
{
    private static ClusterMessage Sample(ClusterMessageType type)
    {
        var m = new ClusterMessage
        {
            Type = type,
            Port = 7000,
            CPort = 17000,
            PPort = 0,
            CurrentEpoch = 0x0102030405060708,
            ConfigEpoch = 42,
            Offset = 123456789,
            Sender = new string('a', 40),
            SlaveOf = type == ClusterMessageType.FailoverAuthRequest ? new string('b', 40) : null,
            MyIp = "10.1.2.3",
            Flags = 17,
            State = 1,
        };
        m.Slots[0] = 0x81;
        m.Slots[2047] = 0xff;
        switch (type)
        {
            case ClusterMessageType.Ping or ClusterMessageType.Pong or ClusterMessageType.Meet:
                m.Gossip.Add(new GossipEntry { Name = new string('c', 40), PingSent = 1, PongReceived = 2, Ip = "127.0.0.1", Port = 7001, CPort = 17001, Flags = 1 });
                m.Gossip.Add(new GossipEntry { Name = new string('d', 40), Ip = "::1", Port = 7002, CPort = 17002, Flags = 4 | 1 });
                m.Extensions.Add(PingExtension.Hostname("node-1.example"));
                break;
            case ClusterMessageType.Fail:
                m.FailingNode = new string('e', 40);
                break;
            case ClusterMessageType.Publish or ClusterMessageType.PublishShard:
                m.Channel = "chan"u8.ToArray();
                m.Payload = "hello world"u8.ToArray();
                break;
            case ClusterMessageType.Update:
                m.UpdateConfigEpoch = 9;
                m.UpdateNode = new string('f', 40);
                m.UpdateSlots[5] = 0x10;
                break;
            case ClusterMessageType.Module:
                m.ModuleId = 77;
                m.ModuleType = 3;
                m.Payload = [1, 2, 3, 4, 5];
                break;
        }
        return m;
    }

    [Theory]
    [InlineData(0, 2256 + 2 * 104 + 8 + 16)]
    [InlineData(1, 2256 + 2 * 104 + 8 + 16)]
    [InlineData(2, 2256 + 2 * 104 + 8 + 16)]
    [InlineData(3, 2256 + 40)]
    [InlineData(4, 2256 + 8 + 4 + 11)]
    [InlineData(10, 2256 + 8 + 4 + 11)]
    [InlineData(5, 2256)]
    [InlineData(6, 2256)]
    [InlineData(8, 2256)]
    [InlineData(7, 2256 + 2096)]
    [InlineData(9, 2256 + 13 + 5)]
    public void EveryTypeRoundTripsWithRedisLength(int typeNumber, int length)
    {
        var type = (ClusterMessageType)typeNumber;
        var frame = ClusterMessageCodec.Encode(Sample(type));
        Assert.Equal(length, frame.Length);
        Assert.Equal("RCmb"u8.ToArray(), frame[..4]);
        Assert.Equal((uint)length, BinaryPrimitives.ReadUInt32BigEndian(frame.AsSpan(4)));
        Assert.Equal(BusRejection.None, ClusterMessageCodec.Decode(frame, out var decoded));
        Assert.Equal(frame, ClusterMessageCodec.Encode(decoded!));
        Assert.Equal(type, decoded!.Type);
        Assert.Equal(0x0102030405060708UL, decoded.CurrentEpoch);
        Assert.Equal("10.1.2.3", decoded.MyIp);
        Assert.True(decoded.ClaimsSlot(0) && decoded.ClaimsSlot(7) && !decoded.ClaimsSlot(1) && decoded.ClaimsSlot(16383));
    }

    [Fact]
    public void HeaderFieldsSitAtRedisOffsetsBigEndian()
    {
        var frame = ClusterMessageCodec.Encode(Sample(ClusterMessageType.Ping));
        var span = frame.AsSpan();
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(span[8..]));
        Assert.Equal(7000, BinaryPrimitives.ReadUInt16BigEndian(span[10..]));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(span[12..]));
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(span[14..]));
        Assert.Equal(0x0102030405060708UL, BinaryPrimitives.ReadUInt64BigEndian(span[16..]));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64BigEndian(span[24..]));
        Assert.Equal((byte)'a', span[40]);
        Assert.Equal(0x81, span[80]);
        Assert.Equal((byte)'1', span[2168]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16BigEndian(span[2214..]));
        Assert.Equal(17000, BinaryPrimitives.ReadUInt16BigEndian(span[2248..]));
        Assert.Equal(17, BinaryPrimitives.ReadUInt16BigEndian(span[2250..]));
        Assert.Equal(1, span[2252]);
        Assert.Equal(ClusterMessage.Flag0ExtData, span[2253]);
        // Gossip entry 0: name, then ping_sent, pong_received, ip, port, cport, flags.
        Assert.Equal((byte)'c', span[2256]);
        Assert.Equal(1U, BinaryPrimitives.ReadUInt32BigEndian(span[(2256 + 40)..]));
        Assert.Equal(7001, BinaryPrimitives.ReadUInt16BigEndian(span[(2256 + 94)..]));
        Assert.Equal(17001, BinaryPrimitives.ReadUInt16BigEndian(span[(2256 + 96)..]));
        // Hostname extension: length 24 (8 + "node-1.example\0" padded to 16), type 0.
        int ext = 2256 + 2 * 104;
        Assert.Equal(24U, BinaryPrimitives.ReadUInt32BigEndian(span[ext..]));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16BigEndian(span[(ext + 4)..]));
        Assert.Equal("node-1.example\0\0"u8.ToArray(), span.Slice(ext + 8, 16).ToArray());
    }

    [Fact]
    public void ExtensionsAreIgnoredWithoutTheExtDataFlag()
    {
        var m = Sample(ClusterMessageType.Ping);
        m.Extensions.Clear();
        m.ExtensionCountField = 3;
        var frame = ClusterMessageCodec.Encode(m);
        Assert.Equal(BusRejection.None, ClusterMessageCodec.Decode(frame, out var decoded));
        Assert.Empty(decoded!.Extensions);
        Assert.Equal(frame, ClusterMessageCodec.Encode(decoded));
    }

    [Fact]
    public void InvalidFramesAreRefusedWithTheirReason()
    {
        var ping = ClusterMessageCodec.Encode(Sample(ClusterMessageType.Ping));

        var badSig = (byte[])ping.Clone();
        badSig[0] = (byte)'X';
        Assert.Equal(BusRejection.BadSignature, ClusterMessageCodec.Decode(badSig, out _));

        var badVersion = (byte[])ping.Clone();
        badVersion[9] = 2;
        Assert.Equal(BusRejection.BadVersion, ClusterMessageCodec.Decode(badVersion, out _));

        var moreGossip = (byte[])ping.Clone();
        moreGossip[15] = 200;
        Assert.Equal(BusRejection.LengthMismatch, ClusterMessageCodec.Decode(moreGossip, out _));

        var fewerGossip = (byte[])ping.Clone();
        fewerGossip[15] = 1;
        Assert.NotEqual(BusRejection.None, ClusterMessageCodec.Decode(fewerGossip, out _));

        int ext = 2256 + 2 * 104;
        var unpadded = (byte[])ping.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(unpadded.AsSpan(ext), 21);
        Assert.Equal(BusRejection.ExtensionPadding, ClusterMessageCodec.Decode(unpadded, out _));

        var zeroExt = (byte[])ping.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(zeroExt.AsSpan(ext), 0);
        Assert.Equal(BusRejection.ExtensionPadding, ClusterMessageCodec.Decode(zeroExt, out _));

        var overrun = (byte[])ping.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(overrun.AsSpan(ext), 1024);
        Assert.Equal(BusRejection.ExtensionOverrun, ClusterMessageCodec.Decode(overrun, out _));

        var twoExtensions = (byte[])ping.Clone();
        twoExtensions[2215] = 2;
        Assert.Equal(BusRejection.ExtensionOverrun, ClusterMessageCodec.Decode(twoExtensions, out _));

        var longer = new byte[ping.Length + 8];
        ping.CopyTo(longer, 0);
        Assert.Equal(BusRejection.BadTotalLength, ClusterMessageCodec.Decode(longer, out _));
        BinaryPrimitives.WriteUInt32BigEndian(longer.AsSpan(4), (uint)longer.Length);
        Assert.Equal(BusRejection.LengthMismatch, ClusterMessageCodec.Decode(longer, out _));

        var publish = ClusterMessageCodec.Encode(Sample(ClusterMessageType.Publish));
        BinaryPrimitives.WriteUInt32BigEndian(publish.AsSpan(2256), uint.MaxValue);
        Assert.Equal(BusRejection.LengthMismatch, ClusterMessageCodec.Decode(publish, out _));

        var module = ClusterMessageCodec.Encode(Sample(ClusterMessageType.Module));
        BinaryPrimitives.WriteUInt32BigEndian(module.AsSpan(2256 + 8), uint.MaxValue);
        Assert.Equal(BusRejection.LengthMismatch, ClusterMessageCodec.Decode(module, out _));

        var fail = ClusterMessageCodec.Encode(Sample(ClusterMessageType.Fail));
        var shortFail = fail[..^1];
        BinaryPrimitives.WriteUInt32BigEndian(shortFail.AsSpan(4), (uint)shortFail.Length);
        Assert.Equal(BusRejection.LengthMismatch, ClusterMessageCodec.Decode(shortFail, out _));

        var header = new byte[100];
        "RCmb"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), 100);
        Assert.Equal(BusRejection.TooShort, ClusterMessageCodec.Decode(header, out _));
    }

    [Fact]
    public void UnknownTypesAreAcceptedAsRedisAcceptsThem()
    {
        var m = Sample(ClusterMessageType.Ping);
        m.RawType = 99;
        m.UnknownBody = [9, 8, 7];
        var frame = ClusterMessageCodec.Encode(m);
        Assert.Equal(BusRejection.None, ClusterMessageCodec.Decode(frame, out var decoded));
        Assert.Equal(99, decoded!.RawType);
        Assert.Equal(frame, ClusterMessageCodec.Encode(decoded));
    }

    [Fact]
    public void TruncationsAndRandomBytesNeverThrow()
    {
        var random = new Random(11);
        var frames = Enum.GetValues<ClusterMessageType>().Select(t => ClusterMessageCodec.Encode(Sample(t))).ToList();
        foreach (var frame in frames)
        {
            for (int cut = 0; cut < frame.Length; cut++)
            {
                var prefix = frame[..cut];
                Assert.NotEqual(BusRejection.None, ClusterMessageCodec.Decode(prefix, out _));
                // The same prefix claiming its own length as totlen.
                if (cut >= 8)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(4), (uint)cut);
                    _ = ClusterMessageCodec.Decode(prefix, out _);
                }
            }
            for (int i = 0; i < 2000; i++)
            {
                var mutated = (byte[])frame.Clone();
                for (int k = random.Next(1, 8); k > 0; k--)
                {
                    // Mostly the header's counts and lengths, where a decoder is most likely to trip.
                    int at = random.Next(3) == 0 ? random.Next(mutated.Length) : random.Next(Math.Min(mutated.Length, 2260 + 120));
                    mutated[at] = (byte)random.Next(256);
                }
                if (ClusterMessageCodec.Decode(mutated, out var decoded) == BusRejection.None)
                {
                    _ = ClusterMessageCodec.Encode(decoded!);
                }
            }
        }
        for (int i = 0; i < 5000; i++)
        {
            var noise = new byte[random.Next(0, 5000)];
            random.NextBytes(noise);
            if (noise.Length >= 8 && random.Next(2) == 0)
            {
                "RCmb"u8.CopyTo(noise);
                BinaryPrimitives.WriteUInt32BigEndian(noise.AsSpan(4), (uint)noise.Length);
                noise[8] = 0;
                noise[9] = 1;
            }
            _ = ClusterMessageCodec.Decode(noise, out _);
        }
    }

    [Fact]
    public async Task FrameReaderCutsAStreamAndRefusesOversizedOrTruncatedFrames()
    {
        var frames = Enum.GetValues<ClusterMessageType>().Select(t => ClusterMessageCodec.Encode(Sample(t))).ToList();
        var pipe = new Pipe();
        var reader = new BusFrameReader(pipe.Reader);
        var all = frames.SelectMany(f => f).ToArray();
        var writing = Task.Run(async () =>
        {
            // Dribble the bytes in odd-sized pieces so frames and prefixes straddle reads.
            for (int i = 0; i < all.Length; i += 777)
            {
                await pipe.Writer.WriteAsync(all.AsMemory(i, Math.Min(777, all.Length - i)));
            }
            await pipe.Writer.CompleteAsync();
        });
        foreach (var expected in frames)
        {
            var (status, frame) = await reader.ReadAsync(CancellationToken.None);
            Assert.Equal(BusFrameStatus.Frame, status);
            Assert.Equal(expected, frame);
        }
        Assert.Equal(BusFrameStatus.End, (await reader.ReadAsync(CancellationToken.None)).Status);
        await writing;

        async Task<BusRejection> Feed(byte[] bytes, int max = BusFrameReader.DefaultMaxFrameLength)
        {
            var p = new Pipe();
            await p.Writer.WriteAsync(bytes);
            await p.Writer.CompleteAsync();
            var r = new BusFrameReader(p.Reader, max);
            var (status, _) = await r.ReadAsync(CancellationToken.None);
            Assert.Equal(BusFrameStatus.Rejected, status);
            return r.Rejection;
        }

        var huge = new byte[8];
        "RCmb"u8.CopyTo(huge);
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(4), uint.MaxValue);
        Assert.Equal(BusRejection.BadTotalLength, await Feed(huge));
        Assert.Equal(BusRejection.BadTotalLength, await Feed(frames[0], max: 2400));
        BinaryPrimitives.WriteUInt32BigEndian(huge.AsSpan(4), 2255);
        Assert.Equal(BusRejection.TooShort, await Feed(huge));
        Assert.Equal(BusRejection.BadSignature, await Feed("GET / HTTP/1.1\r\n\r\n"u8.ToArray()));
        Assert.Equal(BusRejection.Truncated, await Feed(frames[0][..2000]));
    }
}
