using System.Buffers.Binary;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// Redis's ziplist (ziplist.c), the compact blob of RDB versions before 10, read only: a 10-byte header
/// (total bytes, tail offset, count), entries of previous-length + encoding + data, a 0xFF end.
/// </summary>
public static class Ziplist
{
    private const int HeaderSize = 10;
    private const byte End = 0xFF;

    /// <summary>
    /// The elements of <paramref name="ziplist"/> (integers as their decimal text), or null when it is not a
    /// well-formed ziplist: sizes, tail offset, every previous-length, encodings and the count are checked.
    /// </summary>
    public static List<byte[]>? TryDecode(ReadOnlySpan<byte> ziplist)
    {
        if (ziplist.Length < HeaderSize + 1 || BinaryPrimitives.ReadUInt32LittleEndian(ziplist) != (uint)ziplist.Length || ziplist[^1] != End)
        {
            return null;
        }
        uint tail = BinaryPrimitives.ReadUInt32LittleEndian(ziplist[4..]);
        int declared = BinaryPrimitives.ReadUInt16LittleEndian(ziplist[8..]);
        var elements = new List<byte[]>(Math.Min(declared, ziplist.Length));
        int p = HeaderSize;
        int end = ziplist.Length - 1;
        int previousLength = 0;
        int last = HeaderSize;
        while (p < end)
        {
            var entry = ziplist[p..end];
            int prevlenSize;
            int prevlen;
            if (entry[0] < 254)
            {
                prevlenSize = 1;
                prevlen = entry[0];
            }
            else if (entry[0] == 254 && entry.Length >= 5)
            {
                prevlenSize = 5;
                uint raw = BinaryPrimitives.ReadUInt32LittleEndian(entry[1..]);
                if (raw > int.MaxValue)
                {
                    return null;
                }
                prevlen = (int)raw;
            }
            else
            {
                return null;
            }
            if (prevlen != previousLength || !TryReadBody(entry[prevlenSize..], out var element, out int bodyLength))
            {
                return null;
            }
            elements.Add(element);
            last = p;
            previousLength = prevlenSize + bodyLength;
            p += previousLength;
        }
        if (tail != (uint)last || (declared != ushort.MaxValue && declared != elements.Count))
        {
            return null;
        }
        return elements;
    }

    private static bool TryReadBody(ReadOnlySpan<byte> span, out byte[] element, out int length)
    {
        element = [];
        length = 0;
        if (span.IsEmpty)
        {
            return false;
        }
        byte b = span[0];
        int header;
        long stringLength;
        switch (b >> 6)
        {
            case 0:
                header = 1;
                stringLength = b & 0x3F;
                break;
            case 1:
                if (span.Length < 2)
                {
                    return false;
                }
                header = 2;
                stringLength = ((b & 0x3F) << 8) | span[1];
                break;
            case 2:
                if (span.Length < 5)
                {
                    return false;
                }
                header = 5;
                stringLength = BinaryPrimitives.ReadUInt32BigEndian(span[1..]);
                break;
            default:
                return TryReadInteger(span, out element, out length);
        }
        if (stringLength > span.Length - header)
        {
            return false;
        }
        element = span.Slice(header, (int)stringLength).ToArray();
        length = header + (int)stringLength;
        return true;
    }

    private static bool TryReadInteger(ReadOnlySpan<byte> span, out byte[] element, out int length)
    {
        element = [];
        length = 0;
        byte b = span[0];
        long value;
        int width = b switch { 0xC0 => 2, 0xD0 => 4, 0xE0 => 8, 0xF0 => 3, 0xFE => 1, _ => 0 };
        if (width == 0)
        {
            if (b is < 0xF1 or > 0xFD)
            {
                return false;
            }
            value = (b & 0x0F) - 1;
        }
        else
        {
            if (span.Length < 1 + width)
            {
                return false;
            }
            ulong raw = 0;
            for (int i = 0; i < width; i++)
            {
                raw |= (ulong)span[1 + i] << (8 * i);
            }
            int shift = 64 - (8 * width);
            value = (long)(raw << shift) >> shift;
        }
        element = RdbStrings.FormatInt64(value);
        length = 1 + width;
        return true;
    }
}

/// <summary>Redis's intset (intset.c): encoding width, count, then sorted little-endian integers.</summary>
public static class Intset
{
    /// <summary>An intset of <paramref name="values"/> (ascending, distinct) in the narrowest width that holds them.</summary>
    public static byte[] Encode(IReadOnlyList<long> values)
    {
        int width = 2;
        foreach (long v in values)
        {
            width = Math.Max(width, v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8);
        }
        var result = new byte[8 + (values.Count * width)];
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)width);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)values.Count);
        for (int i = 0; i < values.Count; i++)
        {
            var at = result.AsSpan(8 + (i * width));
            switch (width)
            {
                case 2:
                    BinaryPrimitives.WriteInt16LittleEndian(at, (short)values[i]);
                    break;
                case 4:
                    BinaryPrimitives.WriteInt32LittleEndian(at, (int)values[i]);
                    break;
                default:
                    BinaryPrimitives.WriteInt64LittleEndian(at, values[i]);
                    break;
            }
        }
        return result;
    }

    /// <summary>The integers of <paramref name="intset"/>, or null unless it is well-formed, non-empty and strictly ascending.</summary>
    public static long[]? TryDecode(ReadOnlySpan<byte> intset)
    {
        if (intset.Length < 8)
        {
            return null;
        }
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(intset);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(intset[4..]);
        if (width is not (2 or 4 or 8) || count == 0 || (ulong)(intset.Length - 8) != count * (ulong)width)
        {
            return null;
        }
        var values = new long[count];
        for (int i = 0; i < values.Length; i++)
        {
            var at = intset[(8 + (i * (int)width))..];
            values[i] = width switch
            {
                2 => BinaryPrimitives.ReadInt16LittleEndian(at),
                4 => BinaryPrimitives.ReadInt32LittleEndian(at),
                _ => BinaryPrimitives.ReadInt64LittleEndian(at),
            };
            if (i > 0 && values[i] <= values[i - 1])
            {
                return null;
            }
        }
        return values;
    }
}

/// <summary>
/// Redis's zipmap (zipmap.c), the hash blob of RDB versions before 4, read only: a count byte, then
/// length + field, length + free byte + value + free padding, ending with 0xFF. A length below 254 is one
/// byte; 254 is followed by a 4-byte little-endian length.
/// </summary>
public static class Zipmap
{
    private const byte BigLength = 254;
    private const byte End = 0xFF;

    /// <summary>Fields and values alternately, or null when <paramref name="zipmap"/> is malformed or empty.</summary>
    public static List<byte[]>? TryDecode(ReadOnlySpan<byte> zipmap)
    {
        if (zipmap.Length < 2)
        {
            return null;
        }
        var pairs = new List<byte[]>();
        int p = 1;
        while (true)
        {
            if (p >= zipmap.Length)
            {
                return null;
            }
            if (zipmap[p] == End)
            {
                // The end marker must be the last byte.
                return p == zipmap.Length - 1 && pairs.Count > 0 ? pairs : null;
            }
            if (!TryReadLength(zipmap, ref p, out int fieldLength) || fieldLength > zipmap.Length - p)
            {
                return null;
            }
            pairs.Add(zipmap.Slice(p, fieldLength).ToArray());
            p += fieldLength;
            if (!TryReadLength(zipmap, ref p, out int valueLength) || p >= zipmap.Length)
            {
                return null;
            }
            int free = zipmap[p++];
            if (valueLength > zipmap.Length - p || free > zipmap.Length - p - valueLength)
            {
                return null;
            }
            pairs.Add(zipmap.Slice(p, valueLength).ToArray());
            p += valueLength + free;
        }
    }

    private static bool TryReadLength(ReadOnlySpan<byte> zipmap, ref int p, out int length)
    {
        length = 0;
        if (p >= zipmap.Length || zipmap[p] == End)
        {
            return false;
        }
        if (zipmap[p] < BigLength)
        {
            length = zipmap[p++];
            return true;
        }
        if (zipmap[p] != BigLength || p + 5 > zipmap.Length)
        {
            return false;
        }
        uint big = BinaryPrimitives.ReadUInt32LittleEndian(zipmap[(p + 1)..]);
        p += 5;
        if (big > int.MaxValue)
        {
            return false;
        }
        length = (int)big;
        return true;
    }
}
