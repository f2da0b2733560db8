using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The bitmap family: strings seen as arrays of bits, bit 0 being the most significant bit of the
/// first byte. SETBIT, GETBIT, BITCOUNT, BITPOS and BITOP.
/// </summary>
internal static class BitmapCommands
{
    private const string BitOffsetError = "ERR bit offset is not an integer or out of range";

    private const string BitValueError = "ERR bit is not an integer or out of range";

    public static IEnumerable<CommandSpec> All =>
    [
        new("setbit", 4, SetBit)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@write @bitmap @slow",
            Summary = "Sets or clears the bit at offset in the string value stored at key", Since = "2.2.0", Complexity = "O(1)",
            Syntax = "key offset value",
        },
        new("getbit", 3, GetBit)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), Acl = "@read @bitmap @fast",
            Summary = "Returns the bit value at offset in the string value stored at key", Since = "2.2.0", Complexity = "O(1)",
            Syntax = "key offset",
        },
        new("bitcount", -2, BitCount)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @bitmap @slow",
            Summary = "Count set bits in a string", Since = "2.6.0", Complexity = "O(N)", Syntax = "key [start end [BYTE | BIT]]",
        },
        new("bitpos", -3, BitPos)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @bitmap @slow",
            Summary = "Find first bit set or clear in a string", Since = "2.8.7", Complexity = "O(N)",
            Syntax = "key bit [start [end [BYTE | BIT]]]",
        },
        new("bitop", -4, BitOp)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @bitmap @slow",
            KeySpecs = [KeySpec.Range("OW update", 2), KeySpec.Range("RO access", 3, -1)],
            Summary = "Perform bitwise operations between strings", Since = "2.6.0", Complexity = "O(N)",
            Syntax = "AND | OR | XOR | NOT destkey key [key ...]",
        },
    ];

    /// <summary>A bit offset as Redis accepts it: an integer from 0 to below proto-max-bulk-len bytes.</summary>
    private static bool TryParseBitOffset(Session s, ReadOnlySpan<byte> text, out long offset)
    {
        if (NumberFormat.TryParseInt64(text, out offset) && offset >= 0 && (offset >> 3) < s.Server.Config.ProtoMaxBulkLen.Number)
        {
            return true;
        }
        s.Reply.WriteError(BitOffsetError);
        return false;
    }

    private static void SetBit(Session s, ArgList a)
    {
        if (!TryParseBitOffset(s, a[2], out long offset) || !s.TryParseLong(a[3], out long on, BitValueError))
        {
            return;
        }
        if ((on & ~1L) != 0)
        {
            s.Reply.WriteError(BitValueError);
            return;
        }
        int index = s.Db.Find(a[1]);
        byte[]? old = null;
        if (index >= 0)
        {
            old = s.Db.Table[index].Value as byte[];
            if (old is null)
            {
                s.Reply.WriteError(Errors.WrongType);
                return;
            }
        }
        var bits = StringCommands.GrowZeroed(s, a, index, old, (offset >> 3) + 1);
        ref byte target = ref bits[offset >> 3];
        int mask = 1 << (7 - (int)(offset & 7));
        bool wasSet = (target & mask) != 0;
        target = (byte)(on != 0 ? target | mask : target & ~mask);
        s.Db.Notify(KeyspaceEventTypes.String, "setbit"u8, a[1]);
        s.Reply.WriteInteger(wasSet ? 1 : 0);
    }

    private static void GetBit(Session s, ArgList a)
    {
        if (!TryParseBitOffset(s, a[2], out long offset) || !s.TryReadString(a[1], out var value))
        {
            return;
        }
        long byteIndex = offset >> 3;
        bool set = value is not null && byteIndex < value.Length && (value[byteIndex] & (1 << (7 - (int)(offset & 7)))) != 0;
        s.Reply.WriteInteger(set ? 1 : 0);
    }

    private static void BitCount(Session s, ArgList a)
    {
        // The key is looked up before the range is read: a missing key answers 0 whatever follows.
        if (!s.TryReadString(a[1], out var value))
        {
            return;
        }
        if (value is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        long firstBit = 0;
        long lastBit = value.Length * 8L - 1;
        if (a.Count is 4 or 5)
        {
            if (!s.TryParseLong(a[2], out long start) || !s.TryParseLong(a[3], out long end))
            {
                return;
            }
            if (start < 0 && end < 0 && start > end)
            {
                s.Reply.WriteInteger(0);
                return;
            }
            bool inBits = false;
            if (a.Count == 5 && !TryParseUnit(s, a[4], out inBits))
            {
                return;
            }
            if (!TryResolveRange(value.Length, start, end, inBits, out firstBit, out lastBit))
            {
                s.Reply.WriteInteger(0);
                return;
            }
        }
        else if (a.Count != 2)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        s.Reply.WriteInteger(lastBit < firstBit ? 0 : CountOnes(value, firstBit, lastBit));
    }

    private static void BitPos(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long bit))
        {
            return;
        }
        if (bit is not 0 and not 1)
        {
            s.Reply.WriteError("ERR The bit argument must be 1 or 0.");
            return;
        }
        // A missing key is an endless run of zero bits.
        if (!s.TryReadString(a[1], out var value))
        {
            return;
        }
        if (value is null)
        {
            s.Reply.WriteInteger(bit == 1 ? -1 : 0);
            return;
        }
        long firstBit = 0;
        long lastBit = value.Length * 8L - 1;
        bool endGiven = false;
        if (a.Count is 4 or 5 or 6)
        {
            if (!s.TryParseLong(a[3], out long start))
            {
                return;
            }
            bool inBits = false;
            if (a.Count == 6 && !TryParseUnit(s, a[5], out inBits))
            {
                return;
            }
            long end = long.MaxValue;
            if (a.Count >= 5)
            {
                if (!s.TryParseLong(a[4], out end))
                {
                    return;
                }
                endGiven = true;
            }
            if (!TryResolveRange(value.Length, start, end, inBits, out firstBit, out lastBit))
            {
                s.Reply.WriteInteger(-1);
                return;
            }
        }
        else if (a.Count != 3)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (lastBit < firstBit)
        {
            s.Reply.WriteInteger(-1);
            return;
        }
        long position = FindBit(value, firstBit, lastBit, bit == 1);
        if (position < 0 && bit == 0 && !endGiven)
        {
            // Without an explicit end the string is seen as padded with zeros on the right.
            position = lastBit + 1;
        }
        s.Reply.WriteInteger(position);
    }

    /// <summary>The operations of BITOP.</summary>
    private enum BitOperation
    {
        And,
        Or,
        Xor,
        Not,
    }

    private static void BitOp(Session s, ArgList a)
    {
        var name = a[1];
        BitOperation op;
        if (Ascii.EqualsIgnoreCase(name, "AND"u8))
        {
            op = BitOperation.And;
        }
        else if (Ascii.EqualsIgnoreCase(name, "OR"u8))
        {
            op = BitOperation.Or;
        }
        else if (Ascii.EqualsIgnoreCase(name, "XOR"u8))
        {
            op = BitOperation.Xor;
        }
        else if (Ascii.EqualsIgnoreCase(name, "NOT"u8))
        {
            op = BitOperation.Not;
        }
        else
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (op == BitOperation.Not && a.Count != 4)
        {
            s.Reply.WriteError("ERR BITOP NOT must be called with a single source key.");
            return;
        }
        // First pass: every source is looked up (and type-checked) before anything is computed, as Redis does;
        // missing keys are empty strings.
        int maxLength = 0;
        for (int i = 3; i < a.Count; i++)
        {
            if (!s.TryReadString(a[i], out var source))
            {
                return;
            }
            maxLength = Math.Max(maxLength, source?.Length ?? 0);
        }
        if (maxLength == 0)
        {
            if (s.Db.Delete(a[2]))
            {
                s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[2]);
            }
            s.Reply.WriteInteger(0);
            return;
        }
        var result = new byte[maxLength];
        var first = SourceBytes(s, a[3]);
        first.CopyTo(result);
        if (op == BitOperation.Not)
        {
            Invert(result);
        }
        for (int i = 4; i < a.Count; i++)
        {
            Combine(result, SourceBytes(s, a[i]), op);
        }
        s.Db.Set(a[2], result);
        s.Db.Notify(KeyspaceEventTypes.String, "set"u8, a[2]);
        s.Reply.WriteInteger(maxLength);
    }

    /// <summary>A source of BITOP already looked up and checked: its bytes, empty when missing (no hit or miss counted again).</summary>
    private static ReadOnlySpan<byte> SourceBytes(Session s, ReadOnlySpan<byte> key)
    {
        int index = s.Db.Find(key, touch: false);
        return index >= 0 ? (byte[])s.Db.Table[index].Value! : [];
    }

    /// <summary>Flips every bit, a machine word at a time.</summary>
    private static void Invert(Span<byte> bytes)
    {
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        for (int i = 0; i < words.Length; i++)
        {
            words[i] = ~words[i];
        }
        for (int i = words.Length * sizeof(ulong); i < bytes.Length; i++)
        {
            bytes[i] = (byte)~bytes[i];
        }
    }

    /// <summary>
    /// Folds <paramref name="source"/> into <paramref name="result"/> a machine word at a time; the source is
    /// seen as padded with zeros to the result's length (so AND clears the part past its end).
    /// </summary>
    private static void Combine(Span<byte> result, ReadOnlySpan<byte> source, BitOperation op)
    {
        var head = result[..source.Length];
        var words = MemoryMarshal.Cast<byte, ulong>(head);
        var sourceWords = MemoryMarshal.Cast<byte, ulong>(source);
        int tail = words.Length * sizeof(ulong);
        switch (op)
        {
            case BitOperation.And:
                for (int i = 0; i < words.Length; i++)
                {
                    words[i] &= sourceWords[i];
                }
                for (int i = tail; i < head.Length; i++)
                {
                    head[i] &= source[i];
                }
                result[source.Length..].Clear();
                break;
            case BitOperation.Or:
                for (int i = 0; i < words.Length; i++)
                {
                    words[i] |= sourceWords[i];
                }
                for (int i = tail; i < head.Length; i++)
                {
                    head[i] |= source[i];
                }
                break;
            default:
                for (int i = 0; i < words.Length; i++)
                {
                    words[i] ^= sourceWords[i];
                }
                for (int i = tail; i < head.Length; i++)
                {
                    head[i] ^= source[i];
                }
                break;
        }
    }

    /// <summary>BYTE or BIT, the unit of a range; anything else is a syntax error.</summary>
    private static bool TryParseUnit(Session s, ReadOnlySpan<byte> word, out bool inBits)
    {
        inBits = Ascii.EqualsIgnoreCase(word, "BIT"u8);
        if (inBits || Ascii.EqualsIgnoreCase(word, "BYTE"u8))
        {
            return true;
        }
        s.Reply.WriteError(Errors.Syntax);
        return false;
    }

    /// <summary>
    /// Turns a start/end range (negative counts from the end, clamped to the string) in bytes or bits
    /// into an inclusive bit range; false when it is empty.
    /// </summary>
    private static bool TryResolveRange(long byteLength, long start, long end, bool inBits, out long firstBit, out long lastBit)
    {
        long total = inBits ? byteLength * 8 : byteLength;
        if (start < 0)
        {
            start = Math.Max(total + start, 0);
        }
        if (end < 0)
        {
            end = Math.Max(total + end, 0);
        }
        end = Math.Min(end, total - 1);
        firstBit = inBits ? start : start * 8;
        lastBit = inBits ? end : end * 8 + 7;
        return start <= end;
    }

    /// <summary>Set bits between two bit positions (inclusive), counted a machine word at a time.</summary>
    private static long CountOnes(ReadOnlySpan<byte> data, long firstBit, long lastBit)
    {
        int firstByte = (int)(firstBit >> 3);
        int lastByte = (int)(lastBit >> 3);
        var bytes = data[firstByte..(lastByte + 1)];
        var words = MemoryMarshal.Cast<byte, ulong>(bytes);
        long count = 0;
        foreach (ulong word in words)
        {
            count += BitOperations.PopCount(word);
        }
        foreach (byte b in bytes[(words.Length * sizeof(ulong))..])
        {
            count += BitOperations.PopCount(b);
        }
        // Take off the bits of the edge bytes that lie outside the range.
        count -= BitOperations.PopCount((uint)(data[firstByte] & ~(0xFF >> (int)(firstBit & 7)) & 0xFF));
        count -= BitOperations.PopCount((uint)(data[lastByte] & (0xFF >> (int)((lastBit & 7) + 1))));
        return count;
    }

    /// <summary>The first bit equal to <paramref name="one"/> between two positions (inclusive), or -1.</summary>
    private static long FindBit(ReadOnlySpan<byte> data, long firstBit, long lastBit, bool one)
    {
        long position = firstBit;
        // Leading bits up to a byte boundary, one at a time.
        for (; position <= lastBit && (position & 7) != 0; position++)
        {
            if (IsSet(data, position) == one)
            {
                return position;
            }
        }
        // Whole bytes inside the range: eight at a time, big-endian so the first bit is the highest.
        long byteIndex = position >> 3;
        long endByte = (lastBit + 1) >> 3;
        ulong flip = one ? 0UL : ulong.MaxValue;
        for (; byteIndex + sizeof(ulong) <= endByte; byteIndex += sizeof(ulong))
        {
            ulong word = BinaryPrimitives.ReadUInt64BigEndian(data[(int)byteIndex..]) ^ flip;
            if (word != 0)
            {
                return byteIndex * 8 + BitOperations.LeadingZeroCount(word);
            }
        }
        for (; byteIndex < endByte; byteIndex++)
        {
            uint b = (uint)(data[(int)byteIndex] ^ (byte)flip);
            if (b != 0)
            {
                return byteIndex * 8 + BitOperations.LeadingZeroCount(b) - 24;
            }
        }
        // Trailing bits of a last byte only partly inside the range.
        for (position = Math.Max(position, endByte * 8); position <= lastBit; position++)
        {
            if (IsSet(data, position) == one)
            {
                return position;
            }
        }
        return -1;
    }

    private static bool IsSet(ReadOnlySpan<byte> data, long bit) => (data[(int)(bit >> 3)] & (1 << (7 - (int)(bit & 7)))) != 0;
}
