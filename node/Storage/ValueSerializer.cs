using System.Buffers;
using System.Buffers.Binary;

namespace CacheOperator.Node.Storage;

/// <summary>
/// The node's own binary form of a stored value, one layout per type, for DUMP/RESTORE and later snapshots
/// and MIGRATE. A value is a type code then its body; lengths are unsigned LEB128 varints, scores 8-byte
/// little-endian IEEE doubles:
/// <code>
/// string: 0x00 len bytes
/// list:   0x01 count (len bytes)*
/// set:    0x02 count (len bytes)*
/// zset:   0x03 count (len bytes score)*   in rank order
/// hash:   0x04 count (len field len value)*
/// </code>
/// Reading never trusts the input: every length is checked against what is left, so any byte string
/// either decodes to a value or is refused, never throws.
/// </summary>
public static class ValueSerializer
{
    /// <summary>Format version written in the trailer of <see cref="Dump"/>; payloads of a later version are refused.</summary>
    public const ushort Version = 1;

    /// <summary>Bytes after the value in a DUMP payload: 2-byte version, 8-byte CRC64 (as Redis lays out its own).</summary>
    public const int TrailerLength = 10;

    private const byte StringCode = 0;
    private const byte ListCode = 1;
    private const byte SetCode = 2;
    private const byte SortedSetCode = 3;
    private const byte HashCode = 4;

    /// <summary>Appends the serialized form of <paramref name="value"/> (a string or a collection) to <paramref name="output"/>.</summary>
    public static void Write(object value, IBufferWriter<byte> output)
    {
        switch (value)
        {
            case byte[] text:
                WriteByte(output, StringCode);
                WriteBytes(output, text);
                break;
            case ListValue list:
                WriteByte(output, ListCode);
                WriteLength(output, (ulong)list.Length);
                for (int i = 0; i < list.Length; i++)
                {
                    WriteBytes(output, list[i]);
                }
                break;
            case SetValue set:
                WriteByte(output, SetCode);
                WriteLength(output, (ulong)set.Count);
                Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
                for (int i = 0; i < set.Count; i++)
                {
                    WriteBytes(output, set.MemberAt(i, scratch));
                }
                break;
            case SortedSetValue zset:
                WriteByte(output, SortedSetCode);
                WriteLength(output, (ulong)zset.Count);
                var reader = zset.Read(0, descending: false);
                while (reader.Next(out var member, out double score))
                {
                    WriteBytes(output, member);
                    var span = output.GetSpan(8);
                    BinaryPrimitives.WriteDoubleLittleEndian(span, score);
                    output.Advance(8);
                }
                break;
            case HashValue hash:
                WriteByte(output, HashCode);
                WriteLength(output, (ulong)hash.Count);
                for (int i = 0; i < hash.Count; i++)
                {
                    WriteBytes(output, hash.FieldAt(i));
                    WriteBytes(output, hash.ValueAt(i));
                }
                break;
            default:
                throw new ArgumentException($"Cannot serialize a {value.GetType().Name}", nameof(value));
        }
    }

    /// <summary>Appends the serialized form of <paramref name="value"/> to <paramref name="output"/>.</summary>
    public static void Write(object value, Stream output)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(value, buffer);
        output.Write(buffer.WrittenSpan);
    }

    /// <summary>
    /// Reads one value from the start of <paramref name="input"/>; <paramref name="consumed"/> says how many bytes
    /// it took. False (never an exception) when the bytes are not a well-formed value. Collections are built
    /// within <paramref name="limits"/>, so their encodings are those the keyspace's limits give them.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> input, EncodingLimits limits, out object? value, out int consumed)
    {
        var reader = new Reader(input, limits);
        value = reader.TryReadValue();
        consumed = reader.Position;
        return value is not null;
    }

    /// <summary>A DUMP payload: the value, then the format version and a CRC64 of everything before it.</summary>
    public static byte[] Dump(object value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Write(value, buffer);
        var trailer = buffer.GetSpan(TrailerLength);
        BinaryPrimitives.WriteUInt16LittleEndian(trailer, Version);
        buffer.Advance(2);
        ulong crc = Crc64.Compute(buffer.WrittenSpan);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), crc);
        buffer.Advance(8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>True when <paramref name="payload"/> has a known version and an intact checksum (Redis's verifyDumpPayload).</summary>
    public static bool VerifyPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < TrailerLength)
        {
            return false;
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(payload[^TrailerLength..]);
        if (version > Version)
        {
            return false;
        }
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(payload[^8..]);
        return Crc64.Compute(payload[..^8]) == expected;
    }

    /// <summary>The value of a verified payload, or null when its body is malformed (Redis's "Bad data format").</summary>
    public static object? Restore(ReadOnlySpan<byte> payload, EncodingLimits limits)
    {
        var body = payload[..^TrailerLength];
        return TryRead(body, limits, out var value, out int consumed) && consumed == body.Length ? value : null;
    }

    private static void WriteByte(IBufferWriter<byte> output, byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private static void WriteLength(IBufferWriter<byte> output, ulong length)
    {
        var span = output.GetSpan(10);
        int i = 0;
        while (length >= 0x80)
        {
            span[i++] = (byte)(length | 0x80);
            length >>= 7;
        }
        span[i++] = (byte)length;
        output.Advance(i);
    }

    private static void WriteBytes(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        WriteLength(output, (ulong)bytes.Length);
        output.Write(bytes);
    }

    /// <summary>A bounds-checked cursor over serialized bytes.</summary>
    private ref struct Reader(ReadOnlySpan<byte> input, EncodingLimits limits)
    {
        private readonly ReadOnlySpan<byte> _input = input;
        private readonly EncodingLimits _limits = limits;

        public int Position { get; private set; }

        public object? TryReadValue()
        {
            if (Position >= _input.Length)
            {
                return null;
            }
            byte code = _input[Position++];
            switch (code)
            {
                case StringCode:
                    return TryReadBytes(out var text) ? text : null;
                case ListCode:
                    return ReadList();
                case SetCode:
                    return ReadSet();
                case SortedSetCode:
                    return ReadSortedSet();
                case HashCode:
                    return ReadHash();
                default:
                    return null;
            }
        }

        private ListValue? ReadList()
        {
            // Each element takes at least one byte: a count beyond what is left is corrupt (and must not size an allocation).
            if (!TryReadCount(minBytesPerItem: 1, out int count))
            {
                return null;
            }
            var list = new ListValue(Math.Max(count, 1));
            for (int i = 0; i < count; i++)
            {
                if (!TryReadBytes(out var element))
                {
                    return null;
                }
                list.PushRight(element);
            }
            return list;
        }

        private SetValue? ReadSet()
        {
            if (!TryReadCount(minBytesPerItem: 1, out int count))
            {
                return null;
            }
            var set = new SetValue(_limits);
            for (int i = 0; i < count; i++)
            {
                if (!TryReadBytes(out var member) || !set.Add(member))
                {
                    return null;
                }
            }
            return set;
        }

        private SortedSetValue? ReadSortedSet()
        {
            if (!TryReadCount(minBytesPerItem: 9, out int count))
            {
                return null;
            }
            var zset = count > _limits.ZsetMaxListpackEntries ? SortedSetValue.CreateSkipList(_limits) : new SortedSetValue(_limits);
            for (int i = 0; i < count; i++)
            {
                if (!TryReadBytes(out var member) || Position + 8 > _input.Length)
                {
                    return null;
                }
                double score = BinaryPrimitives.ReadDoubleLittleEndian(_input.Slice(Position, 8));
                Position += 8;
                if (double.IsNaN(score) || zset.TryGetScore(member, out _))
                {
                    return null;
                }
                zset.Add(member, score);
            }
            return zset;
        }

        private HashValue? ReadHash()
        {
            if (!TryReadCount(minBytesPerItem: 2, out int count))
            {
                return null;
            }
            var hash = new HashValue(_limits);
            for (int i = 0; i < count; i++)
            {
                if (!TryReadBytes(out var field) || !TryReadBytes(out var value) || !hash.Set(field, value))
                {
                    return null;
                }
            }
            return hash;
        }

        private bool TryReadCount(int minBytesPerItem, out int count)
        {
            count = 0;
            if (!TryReadLength(out ulong length) || length == 0 || length > (ulong)((_input.Length - Position) / minBytesPerItem))
            {
                return false;
            }
            count = (int)length;
            return true;
        }

        private bool TryReadBytes(out byte[] bytes)
        {
            bytes = [];
            if (!TryReadLength(out ulong length) || length > (ulong)(_input.Length - Position))
            {
                return false;
            }
            bytes = _input.Slice(Position, (int)length).ToArray();
            Position += (int)length;
            return true;
        }

        private bool TryReadLength(out ulong length)
        {
            length = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (Position >= _input.Length)
                {
                    return false;
                }
                byte b = _input[Position++];
                length |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0)
                {
                    return true;
                }
            }
            return false;
        }
    }
}

/// <summary>CRC-64/Jones (reflected, polynomial 0xad93d23594c935a9), the checksum Redis puts on DUMP payloads and RDB files.</summary>
public static class Crc64
{
    private static readonly ulong[] Table = BuildTable();

    /// <summary>The CRC of <paramref name="data"/>, starting from 0 as Redis's crc64(0, ...).</summary>
    public static ulong Compute(ReadOnlySpan<byte> data, ulong crc = 0)
    {
        foreach (byte b in data)
        {
            crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
        }
        return crc;
    }

    private static ulong[] BuildTable()
    {
        // 0x95ac9329ac4bc9b5 is the bit-reversed form of the Jones polynomial.
        const ulong reflected = 0x95ac9329ac4bc9b5;
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ reflected : crc >> 1;
            }
            table[i] = crc;
        }
        return table;
    }
}
