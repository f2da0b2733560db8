using System.Buffers.Binary;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// Reads a value in Redis's RDB object format (rdb.c's rdbLoadObjectType + rdbLoadObject) into the node's
/// value types, each built as the node's own commands would build it (so OBJECT ENCODING follows the
/// encoding limits). Reads every type redis-server 7.0 loads except modules.
/// Nothing is trusted: every length is checked against what is left, listpacks, ziplists and intsets are
/// validated entry by entry, empty collections and duplicate members are refused, as Redis's deep
/// sanitization does; malformed input yields null, never an exception.
/// </summary>
public ref struct RdbObjectReader(ReadOnlySpan<byte> input, EncodingLimits limits)
{
    private readonly ReadOnlySpan<byte> _input = input;
    private readonly EncodingLimits _limits = limits;

    /// <summary>Bytes consumed so far.</summary>
    public int Position { get; private set; }

    /// <summary>One object (type byte and body), or null when the bytes are not a well-formed, supported object.</summary>
    public object? TryReadObject()
    {
        if (Position >= _input.Length)
        {
            return null;
        }
        byte type = _input[Position++];
        return TryReadBody(type);
    }

    /// <summary>The body of an object of RDB type <paramref name="type"/> (read apart, as an RDB file puts the key between them), or null.</summary>
    public object? TryReadBody(byte type)
    {
        return type switch
        {
            RdbType.String => TryReadString(),
            RdbType.List => ReadPlainList(),
            RdbType.Set => ReadSet(),
            RdbType.SortedSet => ReadSortedSet(binaryScores: false),
            RdbType.SortedSet2 => ReadSortedSet(binaryScores: true),
            RdbType.Hash => ReadHash(),
            RdbType.HashZipmap => TryReadString() is { } blob ? ToHash(Zipmap.TryDecode(blob)) : null,
            RdbType.ListZiplist => TryReadString() is { } blob ? ToList(Ziplist.TryDecode(blob)) : null,
            RdbType.SetIntset => ReadIntset(),
            RdbType.SortedSetZiplist => TryReadString() is { } blob ? ToSortedSet(Ziplist.TryDecode(blob)) : null,
            RdbType.HashZiplist => TryReadString() is { } blob ? ToHash(Ziplist.TryDecode(blob)) : null,
            RdbType.ListQuicklist => ReadQuicklist(listpackNodes: false),
            RdbType.HashListpack => TryReadString() is { } blob ? ToHash(Listpack.TryDecode(blob)) : null,
            RdbType.SortedSetListpack => TryReadString() is { } blob ? ToSortedSet(Listpack.TryDecode(blob)) : null,
            RdbType.ListQuicklist2 => ReadQuicklist(listpackNodes: true),
            RdbType.StreamListpacks => ReadStream(version2: false),
            RdbType.StreamListpacks2 => ReadStream(version2: true),
            _ => null,
        };
    }

    /// <summary>rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed.</summary>
    public byte[]? TryReadString()
    {
        if (!TryReadLength(out ulong length, out bool encoded))
        {
            return null;
        }
        if (!encoded)
        {
            return TryTake(length, out var plain) ? plain.ToArray() : null;
        }
        switch (length)
        {
            case 0:
                return TryTake(1, out var int8) ? RdbStrings.FormatInt64((sbyte)int8[0]) : null;
            case 1:
                return TryTake(2, out var int16) ? RdbStrings.FormatInt64(BinaryPrimitives.ReadInt16LittleEndian(int16)) : null;
            case 2:
                return TryTake(4, out var int32) ? RdbStrings.FormatInt64(BinaryPrimitives.ReadInt32LittleEndian(int32)) : null;
            case 3:
                if (!TryReadLength(out ulong compressedLength, out bool e1) || e1 || !TryReadLength(out ulong textLength, out bool e2) || e2
                    || textLength == 0 || !TryTake(compressedLength, out var compressed)
                    // LZF expands at most 264 bytes from 3: a claimed length beyond that is corrupt and must not size an allocation.
                    || textLength > (ulong)compressed.Length * 88 + 32)
                {
                    return null;
                }
                var text = new byte[textLength];
                return Lzf.TryDecompress(compressed, text) ? text : null;
            default:
                return null;
        }
    }

    /// <summary>rdbLoadObject's stream case: nodes (key, listpack), length, IDs and counters, then the consumer groups.</summary>
    private StreamValue? ReadStream(bool version2)
    {
        if (!TryReadLength(out ulong nodes, out bool encoded) || encoded || nodes > (ulong)(_input.Length - Position))
        {
            return null;
        }
        var stream = new StreamValue(_limits);
        for (ulong i = 0; i < nodes; i++)
        {
            if (TryReadString() is not { Length: 16 } key || TryReadString() is not { } listpack)
            {
                return null;
            }
            var master = new StreamId(BinaryPrimitives.ReadUInt64BigEndian(key), BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(8)));
            if (!stream.TryAddNode(master, listpack))
            {
                return null;
            }
        }
        if (!TryReadPlainLength(out ulong length) || !stream.TrySetLoadedLength((long)length)
            || !TryReadPlainLength(out ulong lastMs) || !TryReadPlainLength(out ulong lastSeq))
        {
            return null;
        }
        stream.LastId = new StreamId(lastMs, lastSeq);
        if (version2)
        {
            if (!TryReadPlainLength(out ulong firstMs) || !TryReadPlainLength(out ulong firstSeq)
                || !TryReadPlainLength(out ulong deletedMs) || !TryReadPlainLength(out ulong deletedSeq)
                || !TryReadPlainLength(out ulong added))
            {
                return null;
            }
            stream.FirstId = new StreamId(firstMs, firstSeq);
            stream.MaxDeletedEntryId = new StreamId(deletedMs, deletedSeq);
            stream.EntriesAdded = added;
        }
        else
        {
            // As Redis migrating an older stream: entries added is the length, the first ID the first live entry's.
            stream.EntriesAdded = length;
            var first = stream.Range(StreamId.Min, StreamId.Max, reverse: false);
            stream.FirstId = first.MoveNext() ? first.Id : StreamId.Max;
        }
        return TryReadStreamGroups(stream, version2) ? stream : null;
    }

    /// <summary>
    /// The consumer groups of a stream (Redis's rdbLoadObject): the global PEL first, with delivery times and counts,
    /// then the consumers, whose own PELs name entries of the global one. Duplicates, a consumer entry missing from
    /// the global PEL, or a global entry no consumer owns make the object invalid, as Redis's deep sanitization.
    /// </summary>
    private bool TryReadStreamGroups(StreamValue stream, bool version2)
    {
        if (!TryReadPlainLength(out ulong groups))
        {
            return false;
        }
        for (ulong i = 0; i < groups; i++)
        {
            if (TryReadString() is not { } name || !TryReadPlainLength(out ulong ms) || !TryReadPlainLength(out ulong seq))
            {
                return false;
            }
            long entriesRead;
            if (version2)
            {
                if (!TryReadPlainLength(out ulong read))
                {
                    return false;
                }
                entriesRead = (long)read;
            }
            else
            {
                // Saved before Redis 7.0 counted reads: estimated from the group's last ID, as Redis's loader does.
                entriesRead = StreamLag.EstimateDistanceFromFirstEverEntry(stream, new StreamId(ms, seq));
            }
            var group = new StreamConsumerGroup(name, new StreamId(ms, seq), entriesRead);
            if (!stream.Groups.TryAdd(name, group) || !TryReadGroupPel(group) || !TryReadConsumers(group))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The global PEL of <paramref name="group"/>: entries without an owner until the consumers are read.</summary>
    private bool TryReadGroupPel(StreamConsumerGroup group)
    {
        if (!TryReadPlainLength(out ulong count) || count > (ulong)(_input.Length - Position) / 17)
        {
            return false;
        }
        for (ulong j = 0; j < count; j++)
        {
            if (!TryReadRawId(out var id) || !TryTake(8, out var time) || !TryReadPlainLength(out ulong deliveries)
                || !group.AddPending(new StreamPendingEntry(id, null!, BinaryPrimitives.ReadInt64LittleEndian(time), (long)deliveries)))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The consumers of <paramref name="group"/>, each taking its entries of the global PEL.</summary>
    private bool TryReadConsumers(StreamConsumerGroup group)
    {
        if (!TryReadPlainLength(out ulong count))
        {
            return false;
        }
        long owned = 0;
        for (ulong j = 0; j < count; j++)
        {
            if (TryReadString() is not { } name || !TryTake(8, out var seen) || !TryReadPlainLength(out ulong pending)
                || pending > (ulong)(_input.Length - Position) / 16)
            {
                return false;
            }
            var consumer = new StreamConsumer(name, BinaryPrimitives.ReadInt64LittleEndian(seen));
            if (!group.AddConsumer(consumer))
            {
                return false;
            }
            for (ulong k = 0; k < pending; k++)
            {
                if (!TryReadRawId(out var id) || group.FindPending(id) is not { } entry || entry.Consumer is not null)
                {
                    return false;
                }
                entry.Consumer = consumer;
                consumer.Add(entry);
                owned++;
            }
        }
        return owned == group.Pending.Count;
    }

    /// <summary>A stream ID in its raw radix-tree form: ms and seq, 64-bit big-endian each.</summary>
    private bool TryReadRawId(out StreamId id)
    {
        id = default;
        if (!TryTake(16, out var raw))
        {
            return false;
        }
        id = new StreamId(BinaryPrimitives.ReadUInt64BigEndian(raw), BinaryPrimitives.ReadUInt64BigEndian(raw[8..]));
        return true;
    }

    private bool TryReadPlainLength(out ulong value) => TryReadLength(out value, out bool encoded) && !encoded;

    private ListValue? ReadPlainList()
    {
        if (!TryReadCount(out int count))
        {
            return null;
        }
        var list = new ListValue();
        for (int i = 0; i < count; i++)
        {
            if (TryReadString() is not { } element)
            {
                return null;
            }
            list.PushRight(element);
        }
        return list;
    }

    private ListValue? ReadQuicklist(bool listpackNodes)
    {
        if (!TryReadCount(out int nodes))
        {
            return null;
        }
        var list = new ListValue();
        for (int i = 0; i < nodes; i++)
        {
            ulong container = RdbType.QuicklistNodePacked;
            if (listpackNodes && (!TryReadLength(out container, out bool encoded) || encoded
                || container is not (RdbType.QuicklistNodePlain or RdbType.QuicklistNodePacked)))
            {
                return null;
            }
            if (TryReadString() is not { } blob)
            {
                return null;
            }
            if (container == RdbType.QuicklistNodePlain)
            {
                list.PushRight(blob);
                continue;
            }
            // Redis skips empty nodes rather than refusing them.
            var elements = listpackNodes ? Listpack.TryDecode(blob) : Ziplist.TryDecode(blob);
            if (elements is null)
            {
                return null;
            }
            foreach (var element in elements)
            {
                list.PushRight(element);
            }
        }
        return list.Length == 0 ? null : list;
    }

    private SetValue? ReadSet()
    {
        if (!TryReadCount(out int count))
        {
            return null;
        }
        var set = new SetValue(_limits);
        for (int i = 0; i < count; i++)
        {
            if (TryReadString() is not { } member || !set.Add(member))
            {
                return null;
            }
        }
        return set;
    }

    private SetValue? ReadIntset()
    {
        if (TryReadString() is not { } blob || Intset.TryDecode(blob) is not { } values)
        {
            return null;
        }
        var set = new SetValue(_limits);
        foreach (long value in values)
        {
            set.Add(RdbStrings.FormatInt64(value));
        }
        return set;
    }

    private SortedSetValue? ReadSortedSet(bool binaryScores)
    {
        if (!TryReadCount(out int count))
        {
            return null;
        }
        var zset = new SortedSetValue(_limits);
        for (int i = 0; i < count; i++)
        {
            if (TryReadString() is not { } member || !TryReadScore(binaryScores, out double score) || !TryAdd(zset, member, score))
            {
                return null;
            }
        }
        return zset;
    }

    private HashValue? ReadHash()
    {
        if (!TryReadCount(out int count))
        {
            return null;
        }
        var hash = new HashValue(_limits);
        for (int i = 0; i < count; i++)
        {
            if (TryReadString() is not { } field || TryReadString() is not { } value || !hash.Set(field, value))
            {
                return null;
            }
        }
        return hash;
    }

    private static ListValue? ToList(List<byte[]>? elements)
    {
        if (elements is not { Count: > 0 })
        {
            return null;
        }
        var list = new ListValue(elements.Count);
        foreach (var element in elements)
        {
            list.PushRight(element);
        }
        return list;
    }

    private readonly SortedSetValue? ToSortedSet(List<byte[]>? pairs)
    {
        if (pairs is not { Count: > 0 } || pairs.Count % 2 != 0)
        {
            return null;
        }
        var zset = new SortedSetValue(_limits);
        for (int i = 0; i < pairs.Count; i += 2)
        {
            if (!NumberFormat.TryParseDouble(pairs[i + 1], out double score) || !TryAdd(zset, pairs[i], score))
            {
                return null;
            }
        }
        return zset;
    }

    private readonly HashValue? ToHash(List<byte[]>? pairs)
    {
        if (pairs is not { Count: > 0 } || pairs.Count % 2 != 0)
        {
            return null;
        }
        var hash = new HashValue(_limits);
        for (int i = 0; i < pairs.Count; i += 2)
        {
            if (!hash.Set(pairs[i], pairs[i + 1]))
            {
                return null;
            }
        }
        return hash;
    }

    private static bool TryAdd(SortedSetValue zset, byte[] member, double score)
    {
        if (double.IsNaN(score) || zset.TryGetScore(member, out _))
        {
            return false;
        }
        zset.Add(member, score);
        return true;
    }

    /// <summary>rdbLoadDoubleValue (text: a length byte, 253/254/255 for nan/inf/-inf) or rdbLoadBinaryDoubleValue.</summary>
    private bool TryReadScore(bool binary, out double score)
    {
        score = 0;
        if (binary)
        {
            if (!TryTake(8, out var bytes))
            {
                return false;
            }
            score = BinaryPrimitives.ReadDoubleLittleEndian(bytes);
            return true;
        }
        if (!TryTake(1, out var lengthByte))
        {
            return false;
        }
        switch (lengthByte[0])
        {
            case 253:
                score = double.NaN;
                return true;
            case 254:
                score = double.PositiveInfinity;
                return true;
            case 255:
                score = double.NegativeInfinity;
                return true;
            default:
                return TryTake(lengthByte[0], out var text) && NumberFormat.TryParseDouble(text, out score);
        }
    }

    /// <summary>A collection's element count: non-zero (Redis refuses empty keys) and no more than bytes left.</summary>
    private bool TryReadCount(out int count)
    {
        count = 0;
        if (!TryReadLength(out ulong length, out bool encoded) || encoded || length == 0 || length > (ulong)(_input.Length - Position))
        {
            return false;
        }
        count = (int)length;
        return true;
    }

    /// <summary>rdbLoadLenByRef: 6/14/32/64-bit lengths, or an encoding marker (11xxxxxx) for special strings.</summary>
    public bool TryReadLength(out ulong length, out bool encoded)
    {
        length = 0;
        encoded = false;
        if (!TryTake(1, out var first))
        {
            return false;
        }
        byte b = first[0];
        switch (b >> 6)
        {
            case 0:
                length = (ulong)(b & 0x3F);
                return true;
            case 1:
                if (!TryTake(1, out var next))
                {
                    return false;
                }
                length = ((ulong)(b & 0x3F) << 8) | next[0];
                return true;
            case 3:
                encoded = true;
                length = (ulong)(b & 0x3F);
                return true;
        }
        if (b == 0x80 && TryTake(4, out var be32))
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(be32);
            return true;
        }
        if (b == 0x81 && TryTake(8, out var be64))
        {
            length = BinaryPrimitives.ReadUInt64BigEndian(be64);
            return true;
        }
        return false;
    }

    /// <summary>The next <paramref name="count"/> bytes as they are, or false when fewer are left.</summary>
    public bool TryTake(ulong count, out ReadOnlySpan<byte> bytes)
    {
        if (count > (ulong)(_input.Length - Position))
        {
            bytes = default;
            return false;
        }
        bytes = _input.Slice(Position, (int)count);
        Position += (int)count;
        return true;
    }
}
