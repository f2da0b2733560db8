using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// Redis's listpack (listpack.c), the blob inside RDB's compact hash, sorted-set and list-node types:
/// a 6-byte header (total bytes, entry count), entries of encoding + data + back-length, a 0xFF end.
/// </summary>
public static class Listpack
{
    private const int HeaderSize = 6;
    private const byte End = 0xFF;

    /// <summary>Builds a listpack the way lpAppend does: integer-looking strings are stored as integers.</summary>
    public sealed class Builder
    {
        private readonly ArrayBufferWriter<byte> _bytes = new(64);

        /// <summary>Entries appended so far.</summary>
        public int Count { get; private set; }

        /// <summary>Bytes of the listpack if it were finished now.</summary>
        public int Length => HeaderSize + _bytes.WrittenCount + 1;

        /// <summary>Appends one element.</summary>
        public void Append(ReadOnlySpan<byte> element)
        {
            Span<byte> header = stackalloc byte[9];
            int entryLength;
            if (RdbStrings.TryParseCanonicalInt64(element, out long v))
            {
                entryLength = EncodeInteger(v, header);
                _bytes.Write(header[..entryLength]);
            }
            else
            {
                int len = element.Length;
                int headerLength;
                if (len < 64)
                {
                    header[0] = (byte)(0x80 | len);
                    headerLength = 1;
                }
                else if (len < 4096)
                {
                    header[0] = (byte)(0xE0 | (len >> 8));
                    header[1] = (byte)len;
                    headerLength = 2;
                }
                else
                {
                    header[0] = 0xF0;
                    BinaryPrimitives.WriteInt32LittleEndian(header[1..], len);
                    headerLength = 5;
                }
                _bytes.Write(header[..headerLength]);
                _bytes.Write(element);
                entryLength = headerLength + len;
            }
            Span<byte> backlen = stackalloc byte[5];
            _bytes.Write(backlen[..EncodeBacklen(entryLength, backlen)]);
            Count++;
        }

        /// <summary>The finished listpack.</summary>
        public byte[] ToArray()
        {
            var result = new byte[Length];
            BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(4), (ushort)Math.Min(Count, ushort.MaxValue));
            _bytes.WrittenSpan.CopyTo(result.AsSpan(HeaderSize));
            result[^1] = End;
            return result;
        }

        private static int EncodeInteger(long v, Span<byte> entry)
        {
            if (v is >= 0 and <= 127)
            {
                entry[0] = (byte)v;
                return 1;
            }
            if (v is >= -4096 and <= 4095)
            {
                long u = v < 0 ? (1L << 13) + v : v;
                entry[0] = (byte)(0xC0 | (u >> 8));
                entry[1] = (byte)u;
                return 2;
            }
            int width = v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= -8388608 and <= 8388607 ? 3 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8;
            entry[0] = width switch { 2 => 0xF1, 3 => 0xF2, 4 => 0xF3, _ => 0xF4 };
            for (int i = 0; i < width; i++)
            {
                entry[1 + i] = (byte)(v >> (8 * i));
            }
            return 1 + width;
        }
    }

    /// <summary>
    /// The elements of <paramref name="listpack"/> (integers as their decimal text), or null when it is not a
    /// well-formed listpack: header, every entry and back-length, the count and the end byte are all checked.
    /// </summary>
    public static List<byte[]>? TryDecode(ReadOnlySpan<byte> listpack)
    {
        if (listpack.Length < HeaderSize + 1 || BinaryPrimitives.ReadUInt32LittleEndian(listpack) != (uint)listpack.Length || listpack[^1] != End)
        {
            return null;
        }
        int declared = BinaryPrimitives.ReadUInt16LittleEndian(listpack[4..]);
        var elements = new List<byte[]>(Math.Min(declared, listpack.Length / 2));
        int p = HeaderSize;
        int end = listpack.Length - 1;
        Span<byte> expected = stackalloc byte[5];
        while (p < end)
        {
            if (!TryReadEntry(listpack[p..end], out var element, out int entryLength))
            {
                return null;
            }
            int backlenSize = EncodeBacklen(entryLength, expected);
            if (p + entryLength + backlenSize > end || !listpack.Slice(p + entryLength, backlenSize).SequenceEqual(expected[..backlenSize]))
            {
                return null;
            }
            elements.Add(element);
            p += entryLength + backlenSize;
        }
        return declared != ushort.MaxValue && declared != elements.Count ? null : elements;
    }

    private static bool TryReadEntry(ReadOnlySpan<byte> span, out byte[] element, out int entryLength)
    {
        element = [];
        entryLength = 0;
        byte b = span[0];
        long value;
        if ((b & 0x80) == 0)
        {
            value = b;
            entryLength = 1;
        }
        else if ((b & 0xC0) == 0x80)
        {
            return TryString(span, 1, b & 0x3F, out element, out entryLength);
        }
        else if ((b & 0xE0) == 0xC0)
        {
            if (span.Length < 2)
            {
                return false;
            }
            value = ((b & 0x1F) << 8) | span[1];
            if (value >= 1 << 12)
            {
                value -= 1 << 13;
            }
            entryLength = 2;
        }
        else if ((b & 0xF0) == 0xE0)
        {
            return span.Length >= 2 && TryString(span, 2, ((b & 0x0F) << 8) | span[1], out element, out entryLength);
        }
        else if (b == 0xF0)
        {
            if (span.Length < 5)
            {
                return false;
            }
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(span[1..]);
            return len <= int.MaxValue && TryString(span, 5, (int)len, out element, out entryLength);
        }
        else
        {
            int width = b switch { 0xF1 => 2, 0xF2 => 3, 0xF3 => 4, 0xF4 => 8, _ => 0 };
            if (width == 0 || span.Length < 1 + width)
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
            entryLength = 1 + width;
        }
        element = RdbStrings.FormatInt64(value);
        return true;
    }

    private static bool TryString(ReadOnlySpan<byte> span, int header, int length, out byte[] element, out int entryLength)
    {
        element = [];
        entryLength = 0;
        if (length > span.Length - header)
        {
            return false;
        }
        element = span.Slice(header, length).ToArray();
        entryLength = header + length;
        return true;
    }

    /// <summary>listpack.c's lpEncodeBacklen: the entry's length, 7 bits a byte, read from its last byte backwards.</summary>
    private static int EncodeBacklen(int l, Span<byte> buf)
    {
        if (l <= 127)
        {
            buf[0] = (byte)l;
            return 1;
        }
        if (l < 16383)
        {
            buf[0] = (byte)(l >> 7);
            buf[1] = (byte)((l & 127) | 128);
            return 2;
        }
        if (l < 2097151)
        {
            buf[0] = (byte)(l >> 14);
            buf[1] = (byte)(((l >> 7) & 127) | 128);
            buf[2] = (byte)((l & 127) | 128);
            return 3;
        }
        if (l < 268435455)
        {
            buf[0] = (byte)(l >> 21);
            buf[1] = (byte)(((l >> 14) & 127) | 128);
            buf[2] = (byte)(((l >> 7) & 127) | 128);
            buf[3] = (byte)((l & 127) | 128);
            return 4;
        }
        buf[0] = (byte)(l >> 28);
        buf[1] = (byte)(((l >> 21) & 127) | 128);
        buf[2] = (byte)(((l >> 14) & 127) | 128);
        buf[3] = (byte)(((l >> 7) & 127) | 128);
        buf[4] = (byte)((l & 127) | 128);
        return 5;
    }
}

/// <summary>The integer/text rules RDB shares with listpacks: Redis's string2ll round trip.</summary>
internal static class RdbStrings
{
    /// <summary>True when <paramref name="text"/> is exactly how Redis prints some 64-bit integer (no sign, zeros or spaces besides).</summary>
    public static bool TryParseCanonicalInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20 || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }
        Span<byte> printed = stackalloc byte[20];
        return value.TryFormat(printed, out int n, default, CultureInfo.InvariantCulture) && printed[..n].SequenceEqual(text);
    }

    /// <summary>The decimal text of <paramref name="value"/>.</summary>
    public static byte[] FormatInt64(long value)
    {
        Span<byte> printed = stackalloc byte[20];
        value.TryFormat(printed, out int n, default, CultureInfo.InvariantCulture);
        return printed[..n].ToArray();
    }
}
