using System.Buffers.Binary;

namespace CacheOperator.Node.Cluster.Bus;

/// <summary>Why a cluster bus frame was refused (the decoder never throws: it names one of these).</summary>
internal enum BusRejection
{
    /// <summary>Accepted.</summary>
    None = 0,

    /// <summary>Fewer bytes than the 2256-byte header (CLUSTERMSG_MIN_LEN).</summary>
    TooShort,

    /// <summary>The first four bytes are not "RCmb".</summary>
    BadSignature,

    /// <summary>totlen differs from the frame's length, or is beyond the link's maximum.</summary>
    BadTotalLength,

    /// <summary>Protocol version other than 1.</summary>
    BadVersion,

    /// <summary>totlen differs from the length the type and its counts require.</summary>
    LengthMismatch,

    /// <summary>A ping extension whose length is not a multiple of 8 (or shorter than its header).</summary>
    ExtensionPadding,

    /// <summary>A ping extension that runs past the end of the frame.</summary>
    ExtensionOverrun,

    /// <summary>The link closed in the middle of a frame.</summary>
    Truncated,
}

/// <summary>
/// Encodes and decodes Redis 7.0 cluster bus frames byte for byte (clusterMsg in cluster.h; every
/// integer big-endian as Redis's htons/htonl/htonu64 write it), validating as clusterProcessPacket does.
/// </summary>
internal static class ClusterMessageCodec
{
    private const int OffTotalLength = 4;
    private const int OffVersion = 8;
    private const int OffPort = 10;
    private const int OffType = 12;
    private const int OffCount = 14;
    private const int OffCurrentEpoch = 16;
    private const int OffConfigEpoch = 24;
    private const int OffOffset = 32;
    private const int OffSender = 40;
    private const int OffSlots = 80;
    private const int OffSlaveOf = 2128;
    private const int OffMyIp = 2168;
    private const int OffExtensions = 2214;
    private const int OffReserved = 2216;
    private const int OffPPort = 2246;
    private const int OffCPort = 2248;
    private const int OffFlags = 2250;
    private const int OffState = 2252;
    private const int OffMFlags = 2253;
    private const int OffData = ClusterMessage.HeaderLength;

    /// <summary>sizeof(clusterMsgDataPublish) - 8: the two lengths before the channel and message bytes.</summary>
    private const int PublishFixedLength = 8;

    /// <summary>sizeof(clusterMsgModule) - 3: id, length and type before the payload.</summary>
    private const int ModuleFixedLength = 13;

    /// <summary>sizeof(clusterMsgPingExt): length, type, unused.</summary>
    private const int ExtensionHeaderLength = 8;

    /// <summary>"RCmb".</summary>
    public static ReadOnlySpan<byte> Signature => "RCmb"u8;

    /// <summary>The frame Redis would send for <paramref name="message"/> (totlen computed per type as Redis does).</summary>
    public static byte[] Encode(ClusterMessage message)
    {
        bool ping = IsPingKind(message.RawType);
        int bodyLength = message.RawType switch
        {
            _ when ping => message.Gossip.Count * ClusterMessage.GossipEntryLength + message.Extensions.Sum(e => ExtensionHeaderLength + e.Payload.Length),
            (ushort)ClusterMessageType.Fail => ClusterMessage.NameLength,
            (ushort)ClusterMessageType.Publish or (ushort)ClusterMessageType.PublishShard => PublishFixedLength + message.Channel.Length + message.Payload.Length,
            (ushort)ClusterMessageType.FailoverAuthRequest or (ushort)ClusterMessageType.FailoverAuthAck or (ushort)ClusterMessageType.MfStart => 0,
            (ushort)ClusterMessageType.Update => ClusterMessage.UpdateBodyLength,
            (ushort)ClusterMessageType.Module => ModuleFixedLength + message.Payload.Length,
            _ => message.UnknownBody.Length,
        };
        var frame = new byte[ClusterMessage.HeaderLength + bodyLength];
        var span = frame.AsSpan();
        Signature.CopyTo(span);
        BinaryPrimitives.WriteUInt32BigEndian(span[OffTotalLength..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffVersion..], message.Version);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffPort..], message.Port);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffType..], message.RawType);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffCount..], ping ? (ushort)message.Gossip.Count : (ushort)0);
        BinaryPrimitives.WriteUInt64BigEndian(span[OffCurrentEpoch..], message.CurrentEpoch);
        BinaryPrimitives.WriteUInt64BigEndian(span[OffConfigEpoch..], message.ConfigEpoch);
        BinaryPrimitives.WriteUInt64BigEndian(span[OffOffset..], message.Offset);
        WriteFixed(span.Slice(OffSender, ClusterMessage.NameLength), message.Sender);
        CopyFixed(message.Slots, span.Slice(OffSlots, ClusterMessage.SlotBitmapLength));
        WriteFixed(span.Slice(OffSlaveOf, ClusterMessage.NameLength), message.SlaveOf ?? "");
        // The last byte of an IP field stays NUL, as Redis's strncpy into NET_IP_STR_LEN-1 leaves it.
        WriteFixed(span.Slice(OffMyIp, ClusterMessage.IpLength - 1), message.MyIp);
        ushort extensionCount = ping && message.Extensions.Count > 0 ? (ushort)message.Extensions.Count : message.ExtensionCountField;
        BinaryPrimitives.WriteUInt16BigEndian(span[OffExtensions..], extensionCount);
        CopyFixed(message.Reserved, span.Slice(OffReserved, 30));
        BinaryPrimitives.WriteUInt16BigEndian(span[OffPPort..], message.PPort);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffCPort..], message.CPort);
        BinaryPrimitives.WriteUInt16BigEndian(span[OffFlags..], message.Flags);
        span[OffState] = message.State;
        span[OffMFlags] = (byte)(message.MFlags0 | (ping && message.Extensions.Count > 0 ? ClusterMessage.Flag0ExtData : 0));
        span[OffMFlags + 1] = message.MFlags1;
        span[OffMFlags + 2] = message.MFlags2;

        var body = span[OffData..];
        switch (message.RawType)
        {
            case var _ when ping:
                foreach (var entry in message.Gossip)
                {
                    WriteGossip(body, entry);
                    body = body[ClusterMessage.GossipEntryLength..];
                }
                foreach (var extension in message.Extensions)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(body, (uint)(ExtensionHeaderLength + extension.Payload.Length));
                    // Redis 7.0 stores the type without htons (writeHostnamePingExt); the hostname type is 0,
                    // so either order gives the same bytes, and its reader swaps: big-endian it is.
                    BinaryPrimitives.WriteUInt16BigEndian(body[4..], extension.Type);
                    extension.Payload.CopyTo(body[ExtensionHeaderLength..]);
                    body = body[(ExtensionHeaderLength + extension.Payload.Length)..];
                }
                break;
            case (ushort)ClusterMessageType.Fail:
                WriteFixed(body[..ClusterMessage.NameLength], message.FailingNode);
                break;
            case (ushort)ClusterMessageType.Publish or (ushort)ClusterMessageType.PublishShard:
                BinaryPrimitives.WriteUInt32BigEndian(body, (uint)message.Channel.Length);
                BinaryPrimitives.WriteUInt32BigEndian(body[4..], (uint)message.Payload.Length);
                message.Channel.CopyTo(body[PublishFixedLength..]);
                message.Payload.CopyTo(body[(PublishFixedLength + message.Channel.Length)..]);
                break;
            case (ushort)ClusterMessageType.Update:
                BinaryPrimitives.WriteUInt64BigEndian(body, message.UpdateConfigEpoch);
                WriteFixed(body.Slice(8, ClusterMessage.NameLength), message.UpdateNode);
                CopyFixed(message.UpdateSlots, body.Slice(8 + ClusterMessage.NameLength, ClusterMessage.SlotBitmapLength));
                break;
            case (ushort)ClusterMessageType.Module:
                BinaryPrimitives.WriteUInt64BigEndian(body, message.ModuleId);
                BinaryPrimitives.WriteUInt32BigEndian(body[8..], (uint)message.Payload.Length);
                body[12] = message.ModuleType;
                message.Payload.CopyTo(body[ModuleFixedLength..]);
                break;
            case (ushort)ClusterMessageType.FailoverAuthRequest or (ushort)ClusterMessageType.FailoverAuthAck or (ushort)ClusterMessageType.MfStart:
                break;
            default:
                message.UnknownBody.CopyTo(body);
                break;
        }
        return frame;
    }

    /// <summary>
    /// Decodes one whole frame. Checks as Redis's read handler and clusterProcessPacket do: signature,
    /// totlen (equal to the frame, at least the header), version, and the exact length each type
    /// requires (gossip count, extension lengths, publish and module lengths). Types this node does not
    /// know are accepted as Redis accepts them, with their body kept raw.
    /// </summary>
    public static BusRejection Decode(ReadOnlySpan<byte> frame, out ClusterMessage? message)
    {
        message = null;
        if (frame.Length < 8)
        {
            return BusRejection.TooShort;
        }
        if (!frame[..4].SequenceEqual(Signature))
        {
            return BusRejection.BadSignature;
        }
        uint totalLength = BinaryPrimitives.ReadUInt32BigEndian(frame[OffTotalLength..]);
        if (totalLength != (uint)frame.Length)
        {
            return BusRejection.BadTotalLength;
        }
        if (frame.Length < ClusterMessage.HeaderLength)
        {
            return BusRejection.TooShort;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame[OffVersion..]) != ClusterMessage.ProtocolVersion)
        {
            return BusRejection.BadVersion;
        }
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[OffType..]);
        ushort count = BinaryPrimitives.ReadUInt16BigEndian(frame[OffCount..]);
        ushort extensionCount = BinaryPrimitives.ReadUInt16BigEndian(frame[OffExtensions..]);
        byte mflags0 = frame[OffMFlags];
        var body = frame[OffData..];
        long expected = ClusterMessage.HeaderLength;
        var extensions = new List<PingExtension>();
        if (IsPingKind(type))
        {
            expected += (long)count * ClusterMessage.GossipEntryLength;
            if (expected > frame.Length)
            {
                return BusRejection.LengthMismatch;
            }
            if ((mflags0 & ClusterMessage.Flag0ExtData) != 0)
            {
                for (int i = 0; i < extensionCount; i++)
                {
                    if (frame.Length - expected < ExtensionHeaderLength)
                    {
                        return BusRejection.ExtensionOverrun;
                    }
                    var at = frame[(int)expected..];
                    uint length = BinaryPrimitives.ReadUInt32BigEndian(at);
                    // Redis would loop on a zero length; an extension shorter than its own header is malformed.
                    if (length % 8 != 0 || length < ExtensionHeaderLength)
                    {
                        return BusRejection.ExtensionPadding;
                    }
                    if (frame.Length - expected < length)
                    {
                        return BusRejection.ExtensionOverrun;
                    }
                    extensions.Add(new PingExtension(BinaryPrimitives.ReadUInt16BigEndian(at[4..]), at[ExtensionHeaderLength..(int)length].ToArray()));
                    expected += length;
                }
            }
        }
        else
        {
            switch ((ClusterMessageType)type)
            {
                case ClusterMessageType.Fail:
                    expected += ClusterMessage.NameLength;
                    break;
                case ClusterMessageType.Publish or ClusterMessageType.PublishShard:
                    if (body.Length < PublishFixedLength)
                    {
                        return BusRejection.LengthMismatch;
                    }
                    expected += PublishFixedLength + (long)BinaryPrimitives.ReadUInt32BigEndian(body) + BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                    break;
                case ClusterMessageType.FailoverAuthRequest or ClusterMessageType.FailoverAuthAck or ClusterMessageType.MfStart:
                    break;
                case ClusterMessageType.Update:
                    expected += ClusterMessage.UpdateBodyLength;
                    break;
                case ClusterMessageType.Module:
                    if (body.Length < ModuleFixedLength)
                    {
                        return BusRejection.LengthMismatch;
                    }
                    expected += ModuleFixedLength + (long)BinaryPrimitives.ReadUInt32BigEndian(body[8..]);
                    break;
                default:
                    expected = frame.Length;
                    break;
            }
        }
        if (expected != frame.Length)
        {
            return BusRejection.LengthMismatch;
        }

        var m = new ClusterMessage
        {
            Version = ClusterMessage.ProtocolVersion,
            Port = BinaryPrimitives.ReadUInt16BigEndian(frame[OffPort..]),
            RawType = type,
            CurrentEpoch = BinaryPrimitives.ReadUInt64BigEndian(frame[OffCurrentEpoch..]),
            ConfigEpoch = BinaryPrimitives.ReadUInt64BigEndian(frame[OffConfigEpoch..]),
            Offset = BinaryPrimitives.ReadUInt64BigEndian(frame[OffOffset..]),
            Sender = Encoding.Latin1.GetString(frame.Slice(OffSender, ClusterMessage.NameLength)),
            Slots = frame.Slice(OffSlots, ClusterMessage.SlotBitmapLength).ToArray(),
            SlaveOf = IsZero(frame.Slice(OffSlaveOf, ClusterMessage.NameLength)) ? null : Encoding.Latin1.GetString(frame.Slice(OffSlaveOf, ClusterMessage.NameLength)),
            MyIp = ReadCString(frame.Slice(OffMyIp, ClusterMessage.IpLength)),
            ExtensionCountField = extensionCount,
            Reserved = frame.Slice(OffReserved, 30).ToArray(),
            PPort = BinaryPrimitives.ReadUInt16BigEndian(frame[OffPPort..]),
            CPort = BinaryPrimitives.ReadUInt16BigEndian(frame[OffCPort..]),
            Flags = BinaryPrimitives.ReadUInt16BigEndian(frame[OffFlags..]),
            State = frame[OffState],
            MFlags0 = mflags0,
            MFlags1 = frame[OffMFlags + 1],
            MFlags2 = frame[OffMFlags + 2],
            Extensions = extensions,
        };
        if (IsPingKind(type))
        {
            for (int i = 0; i < count; i++)
            {
                m.Gossip.Add(ReadGossip(body.Slice(i * ClusterMessage.GossipEntryLength, ClusterMessage.GossipEntryLength)));
            }
        }
        else
        {
            switch ((ClusterMessageType)type)
            {
                case ClusterMessageType.Fail:
                    m.FailingNode = Encoding.Latin1.GetString(body[..ClusterMessage.NameLength]);
                    break;
                case ClusterMessageType.Publish or ClusterMessageType.PublishShard:
                    int channelLength = (int)BinaryPrimitives.ReadUInt32BigEndian(body);
                    m.Channel = body.Slice(PublishFixedLength, channelLength).ToArray();
                    m.Payload = body[(PublishFixedLength + channelLength)..].ToArray();
                    break;
                case ClusterMessageType.Update:
                    m.UpdateConfigEpoch = BinaryPrimitives.ReadUInt64BigEndian(body);
                    m.UpdateNode = Encoding.Latin1.GetString(body.Slice(8, ClusterMessage.NameLength));
                    m.UpdateSlots = body.Slice(8 + ClusterMessage.NameLength, ClusterMessage.SlotBitmapLength).ToArray();
                    break;
                case ClusterMessageType.Module:
                    m.ModuleId = BinaryPrimitives.ReadUInt64BigEndian(body);
                    m.ModuleType = body[12];
                    m.Payload = body[ModuleFixedLength..].ToArray();
                    break;
                case ClusterMessageType.FailoverAuthRequest or ClusterMessageType.FailoverAuthAck or ClusterMessageType.MfStart:
                    break;
                default:
                    m.UnknownBody = body.ToArray();
                    break;
            }
        }
        message = m;
        return BusRejection.None;
    }

    /// <summary>PING, PONG and MEET share one layout (gossip then extensions).</summary>
    public static bool IsPingKind(ushort type) => type <= (ushort)ClusterMessageType.Meet;

    private static GossipEntry ReadGossip(ReadOnlySpan<byte> at) => new()
    {
        Name = Encoding.Latin1.GetString(at[..ClusterMessage.NameLength]),
        PingSent = BinaryPrimitives.ReadUInt32BigEndian(at[40..]),
        PongReceived = BinaryPrimitives.ReadUInt32BigEndian(at[44..]),
        Ip = ReadCString(at.Slice(48, ClusterMessage.IpLength)),
        Port = BinaryPrimitives.ReadUInt16BigEndian(at[94..]),
        CPort = BinaryPrimitives.ReadUInt16BigEndian(at[96..]),
        Flags = BinaryPrimitives.ReadUInt16BigEndian(at[98..]),
        PPort = BinaryPrimitives.ReadUInt16BigEndian(at[100..]),
    };

    private static void WriteGossip(Span<byte> at, GossipEntry entry)
    {
        WriteFixed(at[..ClusterMessage.NameLength], entry.Name);
        BinaryPrimitives.WriteUInt32BigEndian(at[40..], entry.PingSent);
        BinaryPrimitives.WriteUInt32BigEndian(at[44..], entry.PongReceived);
        WriteFixed(at.Slice(48, ClusterMessage.IpLength - 1), entry.Ip);
        BinaryPrimitives.WriteUInt16BigEndian(at[94..], entry.Port);
        BinaryPrimitives.WriteUInt16BigEndian(at[96..], entry.CPort);
        BinaryPrimitives.WriteUInt16BigEndian(at[98..], entry.Flags);
        BinaryPrimitives.WriteUInt16BigEndian(at[100..], entry.PPort);
        // notused1 (2 bytes) stays zero.
    }

    /// <summary>Latin-1 text into a fixed field, truncated to it; the rest stays zero.</summary>
    private static void WriteFixed(Span<byte> field, string text)
    {
        int n = Math.Min(text.Length, field.Length);
        Encoding.Latin1.GetBytes(text.AsSpan(0, n), field);
    }

    private static void CopyFixed(byte[] source, Span<byte> field) => source.AsSpan(0, Math.Min(source.Length, field.Length)).CopyTo(field);

    private static string ReadCString(ReadOnlySpan<byte> field)
    {
        int end = field.IndexOf((byte)0);
        return Encoding.Latin1.GetString(end < 0 ? field : field[..end]);
    }

    private static bool IsZero(ReadOnlySpan<byte> field) => !field.ContainsAnyExcept((byte)0);
}
