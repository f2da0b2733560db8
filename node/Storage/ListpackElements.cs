using System.Buffers.Binary;
using System.Buffers.Text;

namespace CacheOperator.Node.Storage;

/// <summary>
/// The one codec of single listpack elements (listpack.c's encodings: 7-bit, 13-bit, 16/24/32/64-bit integers,
/// 6/12/32-bit length strings, each followed by its back-length): stream nodes keep Redis's own bytes with it, and RDB's
/// listpacks (Persistence's Listpack) are built and checked with it.
/// </summary>
public static class ListpackElements
{
    /// <summary>Most bytes one integer element takes (encoding byte, 8 data bytes, 1 back-length byte).</summary>
    public const int MaxIntegerSize = 10;

    /// <summary>Bytes <paramref name="value"/> takes as an integer element, back-length included.</summary>
    public static int IntegerSize(long value)
    {
        int entry = value switch
        {
            >= 0 and <= 127 => 1,
            >= -4096 and <= 4095 => 2,
            >= short.MinValue and <= short.MaxValue => 3,
            >= -8388608 and <= 8388607 => 4,
            >= int.MinValue and <= int.MaxValue => 5,
            _ => 9,
        };
        return entry + 1;
    }

    /// <summary>Bytes <paramref name="text"/> takes as an element (as an integer when it is one, as lpAppend does).</summary>
    public static int Size(ReadOnlySpan<byte> text)
    {
        if (TryCanonicalInt64(text, out long v))
        {
            return IntegerSize(v);
        }
        int header = text.Length < 64 ? 1 : text.Length < 4096 ? 2 : 5;
        int entry = header + text.Length;
        return entry + BacklenSize(entry);
    }

    /// <summary>Writes an integer element at the start of <paramref name="destination"/>; returns its size.</summary>
    public static int WriteInteger(Span<byte> destination, long v)
    {
        int entry;
        if (v is >= 0 and <= 127)
        {
            destination[0] = (byte)v;
            entry = 1;
        }
        else if (v is >= -4096 and <= 4095)
        {
            long u = v < 0 ? (1L << 13) + v : v;
            destination[0] = (byte)(0xC0 | (u >> 8));
            destination[1] = (byte)u;
            entry = 2;
        }
        else
        {
            int width = v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= -8388608 and <= 8388607 ? 3 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8;
            destination[0] = width switch { 2 => 0xF1, 3 => 0xF2, 4 => 0xF3, _ => 0xF4 };
            for (int i = 0; i < width; i++)
            {
                destination[1 + i] = (byte)(v >> (8 * i));
            }
            entry = 1 + width;
        }
        return entry + WriteBacklen(destination[entry..], entry);
    }

    /// <summary>Writes <paramref name="text"/> as an element (an integer when it is one); returns its size.</summary>
    public static int Write(Span<byte> destination, ReadOnlySpan<byte> text)
    {
        if (TryCanonicalInt64(text, out long v))
        {
            return WriteInteger(destination, v);
        }
        int len = text.Length;
        int header;
        if (len < 64)
        {
            destination[0] = (byte)(0x80 | len);
            header = 1;
        }
        else if (len < 4096)
        {
            destination[0] = (byte)(0xE0 | (len >> 8));
            destination[1] = (byte)len;
            header = 2;
        }
        else
        {
            destination[0] = 0xF0;
            BinaryPrimitives.WriteInt32LittleEndian(destination[1..], len);
            header = 5;
        }
        text.CopyTo(destination[header..]);
        int entry = header + len;
        return entry + WriteBacklen(destination[entry..], entry);
    }

    /// <summary>
    /// Reads the element at <paramref name="pos"/>: an integer (<paramref name="stringLength"/> -1, value in
    /// <paramref name="integer"/>) or a string at <paramref name="stringStart"/>. Returns the position after it.
    /// </summary>
    public static int Read(ReadOnlySpan<byte> buffer, int pos, out long integer, out int stringStart, out int stringLength)
    {
        byte b = buffer[pos];
        integer = 0;
        stringStart = 0;
        stringLength = -1;
        int entry;
        if ((b & 0x80) == 0)
        {
            integer = b;
            entry = 1;
        }
        else if ((b & 0xC0) == 0x80)
        {
            stringStart = pos + 1;
            stringLength = b & 0x3F;
            entry = 1 + stringLength;
        }
        else if ((b & 0xE0) == 0xC0)
        {
            long value = ((b & 0x1F) << 8) | buffer[pos + 1];
            integer = value >= 1 << 12 ? value - (1 << 13) : value;
            entry = 2;
        }
        else if ((b & 0xF0) == 0xE0)
        {
            stringStart = pos + 2;
            stringLength = ((b & 0x0F) << 8) | buffer[pos + 1];
            entry = 2 + stringLength;
        }
        else if (b == 0xF0)
        {
            stringStart = pos + 5;
            stringLength = BinaryPrimitives.ReadInt32LittleEndian(buffer[(pos + 1)..]);
            entry = 5 + stringLength;
        }
        else
        {
            int width = b switch { 0xF1 => 2, 0xF2 => 3, 0xF3 => 4, _ => 8 };
            ulong raw = 0;
            for (int i = 0; i < width; i++)
            {
                raw |= (ulong)buffer[pos + 1 + i] << (8 * i);
            }
            int shift = 64 - (8 * width);
            integer = (long)(raw << shift) >> shift;
            entry = 1 + width;
        }
        return pos + entry + BacklenSize(entry);
    }

    /// <summary>The position after the element at <paramref name="pos"/>.</summary>
    public static int Skip(ReadOnlySpan<byte> buffer, int pos) => Read(buffer, pos, out _, out _, out _);

    /// <summary>The integer element at <paramref name="pos"/> (stream bookkeeping elements are always integers); advances <paramref name="pos"/>.</summary>
    public static long ReadInteger(ReadOnlySpan<byte> buffer, ref int pos)
    {
        pos = Read(buffer, pos, out long value, out int start, out int length);
        if (length >= 0)
        {
            Utf8Parser.TryParse(buffer.Slice(start, length), out value, out _);
        }
        return value;
    }

    /// <summary>
    /// The element at <paramref name="pos"/> as text: a slice of <paramref name="buffer"/>, or for an integer its
    /// decimal form in <paramref name="scratch"/> (at least 20 bytes). Advances <paramref name="pos"/>.
    /// </summary>
    public static ReadOnlySpan<byte> ReadText(ReadOnlySpan<byte> buffer, scoped ref int pos, Span<byte> scratch)
    {
        pos = Read(buffer, pos, out long value, out int start, out int length);
        if (length >= 0)
        {
            return buffer.Slice(start, length);
        }
        Utf8Formatter.TryFormat(value, scratch, out int written);
        return scratch[..written];
    }

    /// <summary>True when the element at <paramref name="pos"/> reads as exactly <paramref name="text"/>.</summary>
    public static bool TextEquals(ReadOnlySpan<byte> buffer, int pos, ReadOnlySpan<byte> text)
    {
        Span<byte> scratch = stackalloc byte[24];
        return ReadText(buffer, ref pos, scratch).SequenceEqual(text);
    }

    /// <summary>
    /// Reads the element at <paramref name="pos"/> of <paramref name="buffer"/> checking everything (the entry and its
    /// back-length lie before <paramref name="end"/>, the back-length is the one listpack.c writes); false when malformed.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> buffer, int pos, int end, out long integer, out int stringStart, out int stringLength, out int next)
    {
        integer = 0;
        stringStart = 0;
        stringLength = -1;
        next = pos;
        if (pos >= end)
        {
            return false;
        }
        byte b = buffer[pos];
        int header = (b & 0x80) == 0 ? 1
            : (b & 0xC0) == 0x80 ? 1
            : (b & 0xE0) == 0xC0 ? 2
            : (b & 0xF0) == 0xE0 ? 2
            : b == 0xF0 ? 5
            : b switch { 0xF1 => 3, 0xF2 => 4, 0xF3 => 5, 0xF4 => 9, _ => 0 };
        if (header == 0 || pos + header > end)
        {
            return false;
        }
        if ((b & 0xC0) == 0x80 || (b & 0xF0) == 0xE0 || b == 0xF0)
        {
            long length = (b & 0xC0) == 0x80 ? b & 0x3F
                : (b & 0xF0) == 0xE0 ? ((b & 0x0F) << 8) | buffer[pos + 1]
                : BinaryPrimitives.ReadUInt32LittleEndian(buffer[(pos + 1)..]);
            if (length > end - pos - header)
            {
                return false;
            }
        }
        int after = Read(buffer, pos, out integer, out stringStart, out stringLength);
        int entry = stringLength >= 0 ? stringStart - pos + stringLength : header;
        int backlen = BacklenSize(entry);
        if (pos + entry + backlen != after || after > end)
        {
            return false;
        }
        Span<byte> expected = stackalloc byte[5];
        WriteBacklen(expected, entry);
        if (!buffer.Slice(pos + entry, backlen).SequenceEqual(expected[..backlen]))
        {
            return false;
        }
        next = after;
        return true;
    }

    /// <summary>Redis's lpStringToInt64 / string2ll round trip: the text is exactly how some int64 prints (no sign but '-', no leading zeros or spaces).</summary>
    public static bool TryCanonicalInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 20)
        {
            return false;
        }
        byte first = text[0];
        if (first is not ((byte)'-' or (>= (byte)'0' and <= (byte)'9')))
        {
            return false;
        }
        if (!Utf8Parser.TryParse(text, out value, out int consumed) || consumed != text.Length)
        {
            return false;
        }
        Span<byte> printed = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, printed, out int n);
        return printed[..n].SequenceEqual(text);
    }

    private static int BacklenSize(int l) => l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;

    private static int WriteBacklen(Span<byte> buf, int l)
    {
        int size = BacklenSize(l);
        // Most significant 7 bits first; every byte after the first has the high bit set.
        for (int i = 0; i < size; i++)
        {
            int shift = 7 * (size - 1 - i);
            buf[i] = (byte)(((l >> shift) & 127) | (i == 0 ? 0 : 128));
        }
        return size;
    }
}
