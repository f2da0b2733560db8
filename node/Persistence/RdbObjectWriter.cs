using System.Buffers;
using System.Buffers.Binary;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// Writes a stored value in Redis's RDB object format (rdb.c's rdbSaveObjectType + rdbSaveObject), the body
/// of DUMP payloads and of RDB snapshots. Encodings follow what redis-server 7.0 writes for the same value:
/// strings with integer and LZF encodings, intset sets as SET_INTSET and others as SET, compact hashes and
/// sorted sets as listpacks (HASH_LISTPACK, ZSET_LISTPACK), large ones as HASH and ZSET_2, lists as
/// QUICKLIST_2 of packed listpack nodes.
/// </summary>
public static class RdbObjectWriter
{
    /// <summary>Bytes a quicklist node's listpack may reach, as list-max-listpack-size -2 (8 KiB).</summary>
    private const int QuicklistNodeBytes = 8192;

    /// <summary>
    /// Appends the object type byte and body of <paramref name="value"/> (a string or a collection); strings over
    /// 20 bytes are LZF-compressed when that pays, unless <paramref name="compress"/> is false (rdbcompression no).
    /// </summary>
    public static void Write(IBufferWriter<byte> output, object value, bool compress = true)
    {
        WriteByte(output, TypeOf(value));
        WriteBody(output, value, compress);
    }

    /// <summary>The RDB type byte <see cref="WriteBody"/> writes <paramref name="value"/> as (rdbSaveObjectType).</summary>
    public static byte TypeOf(object value) => value switch
    {
        byte[] => RdbType.String,
        ListValue => RdbType.ListQuicklist2,
        SetValue set => set.EncodingName == "intset" ? RdbType.SetIntset : RdbType.Set,
        SortedSetValue zset => zset.IsCompact ? RdbType.SortedSetListpack : RdbType.SortedSet2,
        HashValue hash => hash.IsCompact ? RdbType.HashListpack : RdbType.Hash,
        StreamValue => RdbType.StreamListpacks2,
        _ => throw new ArgumentException($"Cannot serialize a {value.GetType().Name}", nameof(value)),
    };

    /// <summary>The body of <paramref name="value"/> in the encoding <see cref="TypeOf"/> names (rdbSaveObject), without the type byte.</summary>
    public static void WriteBody(IBufferWriter<byte> output, object value, bool compress = true)
    {
        switch (value)
        {
            case byte[] text:
                WriteString(output, text, compress);
                break;
            case ListValue list:
                WriteList(output, list, compress);
                break;
            case SetValue set:
                WriteSet(output, set, compress);
                break;
            case SortedSetValue zset:
                WriteSortedSet(output, zset, compress);
                break;
            case HashValue hash:
                WriteHash(output, hash, compress);
                break;
            case StreamValue stream:
                WriteStream(output, stream, compress);
                break;
            default:
                throw new ArgumentException($"Cannot serialize a {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>
    /// RDB_TYPE_STREAM_LISTPACKS_2 (rdbSaveObject's stream case): the nodes as (128-bit big-endian master ID, listpack)
    /// pairs, then length, last ID, first ID, max deleted ID, entries added, then the consumer groups.
    /// </summary>
    private static void WriteStream(IBufferWriter<byte> output, StreamValue stream, bool compress)
    {
        var nodes = stream.Nodes;
        WriteLength(output, (ulong)nodes.Count);
        Span<byte> key = stackalloc byte[16];
        foreach (var node in nodes)
        {
            BinaryPrimitives.WriteUInt64BigEndian(key, node.Master.Ms);
            BinaryPrimitives.WriteUInt64BigEndian(key[8..], node.Master.Seq);
            WriteString(output, key, compress);
            WriteString(output, node.ToListpack(), compress);
        }
        WriteLength(output, (ulong)stream.Length);
        WriteLength(output, stream.LastId.Ms);
        WriteLength(output, stream.LastId.Seq);
        WriteLength(output, stream.FirstId.Ms);
        WriteLength(output, stream.FirstId.Seq);
        WriteLength(output, stream.MaxDeletedEntryId.Ms);
        WriteLength(output, stream.MaxDeletedEntryId.Seq);
        WriteLength(output, stream.EntriesAdded);
        WriteStreamGroups(output, stream, compress);
    }

    /// <summary>
    /// The consumer groups part of a stream, as Redis's rdbSaveObject: per group its name, last ID, entries read, the
    /// global PEL (raw 128-bit IDs with delivery time and count), then each consumer with its seen time and its own PEL
    /// of IDs (resolved against the global one on load).
    /// </summary>
    private static void WriteStreamGroups(IBufferWriter<byte> output, StreamValue stream, bool compress)
    {
        WriteLength(output, (ulong)stream.Groups.Count);
        foreach (var (name, group) in stream.Groups)
        {
            WriteString(output, name, compress);
            WriteLength(output, group.LastDeliveredId.Ms);
            WriteLength(output, group.LastDeliveredId.Seq);
            WriteLength(output, (ulong)group.EntriesRead);
            WriteLength(output, (ulong)group.Pending.Count);
            foreach (var entry in group.Pending)
            {
                WriteRawId(output, entry.Id);
                WriteMilliseconds(output, entry.DeliveryTimeMs);
                WriteLength(output, (ulong)entry.DeliveryCount);
            }
            WriteLength(output, (ulong)group.Consumers.Count);
            foreach (var consumer in group.Consumers.Values)
            {
                WriteString(output, consumer.Name, compress);
                WriteMilliseconds(output, consumer.SeenTimeMs);
                WriteLength(output, (ulong)consumer.Pending.Count);
                foreach (var entry in consumer.Pending)
                {
                    WriteRawId(output, entry.Id);
                }
            }
        }
    }

    /// <summary>A stream ID as its radix-tree key: ms and seq, 64-bit big-endian each.</summary>
    private static void WriteRawId(IBufferWriter<byte> output, StreamId id)
    {
        var span = output.GetSpan(16);
        BinaryPrimitives.WriteUInt64BigEndian(span, id.Ms);
        BinaryPrimitives.WriteUInt64BigEndian(span[8..], id.Seq);
        output.Advance(16);
    }

    /// <summary>rdbSaveMillisecondTime: a 64-bit little-endian integer.</summary>
    private static void WriteMilliseconds(IBufferWriter<byte> output, long ms)
    {
        var span = output.GetSpan(8);
        BinaryPrimitives.WriteInt64LittleEndian(span, ms);
        output.Advance(8);
    }

    /// <summary>rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length.</summary>
    public static void WriteLength(IBufferWriter<byte> output, ulong length)
    {
        var span = output.GetSpan(9);
        if (length < 1 << 6)
        {
            span[0] = (byte)length;
            output.Advance(1);
        }
        else if (length < 1 << 14)
        {
            span[0] = (byte)(0x40 | (length >> 8));
            span[1] = (byte)length;
            output.Advance(2);
        }
        else if (length <= uint.MaxValue)
        {
            span[0] = 0x80;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            output.Advance(5);
        }
        else
        {
            span[0] = 0x81;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], length);
            output.Advance(9);
        }
    }

    /// <summary>
    /// rdbSaveRawString: a short string that is an integer within 32 bits as an integer, a string over 20
    /// bytes LZF-compressed when that saves at least 4 bytes and <paramref name="compress"/> (rdbcompression yes),
    /// otherwise length + bytes.
    /// </summary>
    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> text, bool compress = true)
    {
        if (text.Length <= 11 && RdbStrings.TryParseCanonicalInt64(text, out long v) && v is >= int.MinValue and <= int.MaxValue)
        {
            var span = output.GetSpan(5);
            if (v is >= sbyte.MinValue and <= sbyte.MaxValue)
            {
                span[0] = 0xC0;
                span[1] = (byte)v;
                output.Advance(2);
            }
            else if (v is >= short.MinValue and <= short.MaxValue)
            {
                span[0] = 0xC1;
                BinaryPrimitives.WriteInt16LittleEndian(span[1..], (short)v);
                output.Advance(3);
            }
            else
            {
                span[0] = 0xC2;
                BinaryPrimitives.WriteInt32LittleEndian(span[1..], (int)v);
                output.Advance(5);
            }
            return;
        }
        if (compress && text.Length > 20 && Lzf.Compress(text, text.Length - 4) is { } compressed)
        {
            WriteByte(output, 0xC3);
            WriteLength(output, (ulong)compressed.Length);
            WriteLength(output, (ulong)text.Length);
            output.Write(compressed);
            return;
        }
        WriteLength(output, (ulong)text.Length);
        output.Write(text);
    }

    private static void WriteList(IBufferWriter<byte> output, ListValue list, bool compress)
    {
        var nodes = new List<byte[]>();
        var node = new Listpack.Builder();
        for (int i = 0; i < list.Length; i++)
        {
            var element = list[i];
            // quicklist's own estimate of what an element adds: its length and 8 bytes of header and back-length.
            if (node.Count > 0 && node.Length + element.Length + 8 > QuicklistNodeBytes)
            {
                nodes.Add(node.ToArray());
                node = new Listpack.Builder();
            }
            node.Append(element);
        }
        nodes.Add(node.ToArray());
        WriteLength(output, (ulong)nodes.Count);
        foreach (var packed in nodes)
        {
            WriteLength(output, RdbType.QuicklistNodePacked);
            WriteString(output, packed, compress);
        }
    }

    private static void WriteSet(IBufferWriter<byte> output, SetValue set, bool compress)
    {
        Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
        if (set.EncodingName == "intset")
        {
            var values = new long[set.Count];
            for (int i = 0; i < values.Length; i++)
            {
                RdbStrings.TryParseCanonicalInt64(set.MemberAt(i, scratch), out values[i]);
            }
            Array.Sort(values);
            WriteString(output, Intset.Encode(values), compress);
            return;
        }
        WriteLength(output, (ulong)set.Count);
        for (int i = 0; i < set.Count; i++)
        {
            WriteString(output, set.MemberAt(i, scratch), compress);
        }
    }

    private static void WriteSortedSet(IBufferWriter<byte> output, SortedSetValue zset, bool compress)
    {
        if (zset.IsCompact)
        {
            var packed = new Listpack.Builder();
            Span<byte> score = stackalloc byte[64];
            var ascending = zset.Read(0, descending: false);
            while (ascending.Next(out var member, out double value))
            {
                packed.Append(member);
                packed.Append(score[..NumberFormat.FormatDoubleD2String(value, score)]);
            }
            WriteString(output, packed.ToArray(), compress);
            return;
        }
        // Highest score first, as Redis walks its skiplist from the tail so that loading appends in order.
        WriteLength(output, (ulong)zset.Count);
        var descending = zset.Read(zset.Count - 1, descending: true);
        while (descending.Next(out var member, out double value))
        {
            WriteString(output, member, compress);
            BinaryPrimitives.WriteDoubleLittleEndian(output.GetSpan(8), value);
            output.Advance(8);
        }
    }

    private static void WriteHash(IBufferWriter<byte> output, HashValue hash, bool compress)
    {
        if (hash.IsCompact)
        {
            var packed = new Listpack.Builder();
            for (int i = 0; i < hash.Count; i++)
            {
                packed.Append(hash.FieldAt(i));
                packed.Append(hash.ValueAt(i));
            }
            WriteString(output, packed.ToArray(), compress);
            return;
        }
        WriteLength(output, (ulong)hash.Count);
        for (int i = 0; i < hash.Count; i++)
        {
            WriteString(output, hash.FieldAt(i), compress);
            WriteString(output, hash.ValueAt(i), compress);
        }
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }
}

/// <summary>RDB object type codes (rdb.h) and quicklist container kinds.</summary>
public static class RdbType
{
    /// <summary>RDB_TYPE_STRING.</summary>
    public const byte String = 0;

    /// <summary>RDB_TYPE_LIST: count then strings (before quicklists).</summary>
    public const byte List = 1;

    /// <summary>RDB_TYPE_SET: count then member strings.</summary>
    public const byte Set = 2;

    /// <summary>RDB_TYPE_ZSET: members with scores as text.</summary>
    public const byte SortedSet = 3;

    /// <summary>RDB_TYPE_HASH: count then field and value strings.</summary>
    public const byte Hash = 4;

    /// <summary>RDB_TYPE_ZSET_2: members with binary double scores.</summary>
    public const byte SortedSet2 = 5;

    /// <summary>RDB_TYPE_MODULE (pre-release module values, refused).</summary>
    public const byte ModulePreRelease = 6;

    /// <summary>RDB_TYPE_MODULE_2 (module values, refused).</summary>
    public const byte Module = 7;

    /// <summary>RDB_TYPE_HASH_ZIPMAP: the hash blob of RDB versions before 4.</summary>
    public const byte HashZipmap = 9;

    /// <summary>RDB_TYPE_LIST_ZIPLIST.</summary>
    public const byte ListZiplist = 10;

    /// <summary>RDB_TYPE_SET_INTSET.</summary>
    public const byte SetIntset = 11;

    /// <summary>RDB_TYPE_ZSET_ZIPLIST.</summary>
    public const byte SortedSetZiplist = 12;

    /// <summary>RDB_TYPE_HASH_ZIPLIST.</summary>
    public const byte HashZiplist = 13;

    /// <summary>RDB_TYPE_LIST_QUICKLIST: nodes of ziplists.</summary>
    public const byte ListQuicklist = 14;

    /// <summary>RDB_TYPE_STREAM_LISTPACKS (streams of Redis 5 and 6).</summary>
    public const byte StreamListpacks = 15;

    /// <summary>RDB_TYPE_HASH_LISTPACK.</summary>
    public const byte HashListpack = 16;

    /// <summary>RDB_TYPE_ZSET_LISTPACK.</summary>
    public const byte SortedSetListpack = 17;

    /// <summary>RDB_TYPE_LIST_QUICKLIST_2: nodes of listpacks (packed) or single elements (plain).</summary>
    public const byte ListQuicklist2 = 18;

    /// <summary>RDB_TYPE_STREAM_LISTPACKS_2 (streams of Redis 7.0).</summary>
    public const byte StreamListpacks2 = 19;

    /// <summary>QUICKLIST_NODE_CONTAINER_PLAIN: a node holding one large element as is.</summary>
    public const ulong QuicklistNodePlain = 1;

    /// <summary>QUICKLIST_NODE_CONTAINER_PACKED: a node holding a listpack.</summary>
    public const ulong QuicklistNodePacked = 2;
}
