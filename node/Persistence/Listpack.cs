using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using CacheOperator.Node.Storage;

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
            int size = ListpackElements.Size(element);
            _bytes.Advance(ListpackElements.Write(_bytes.GetSpan(size), element));
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
        while (p < end)
        {
            if (!ListpackElements.TryRead(listpack, p, end, out long integer, out int start, out int length, out p))
            {
                return null;
            }
            elements.Add(length >= 0 ? listpack.Slice(start, length).ToArray() : RdbStrings.FormatInt64(integer));
        }
        return declared != ushort.MaxValue && declared != elements.Count ? null : elements;
    }
}

/// <summary>The integer/text rules RDB shares with listpacks: Redis's string2ll round trip.</summary>
internal static class RdbStrings
{
    /// <summary>True when <paramref name="text"/> is exactly how Redis prints some 64-bit integer (no sign, zeros or spaces besides).</summary>
    public static bool TryParseCanonicalInt64(ReadOnlySpan<byte> text, out long value) => ListpackElements.TryCanonicalInt64(text, out value);

    /// <summary>The decimal text of <paramref name="value"/>.</summary>
    public static byte[] FormatInt64(long value)
    {
        Span<byte> printed = stackalloc byte[20];
        value.TryFormat(printed, out int n, default, CultureInfo.InvariantCulture);
        return printed[..n].ToArray();
    }
}
