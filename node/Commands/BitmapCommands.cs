using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The bitmap family: strings seen as arrays of bits, bit 0 being the most significant bit of the
/// first byte. SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, and BITFIELD (integers of 1 to 64 bits at any bit offset).
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
        new("bitfield", -2, BitField)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @bitmap @slow",
            KeySpecs = [KeySpec.Range("RW access update variable_flags", 1) with { Notes = "This command allows both access and modification of the key" }],
            GetKeysProcedure = KeyExtractor.BitfieldKeys,
            Summary = "Perform arbitrary bitfield integer operations on strings", Since = "3.2.0", Complexity = "O(1) for each subcommand specified",
            Syntax = "key [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | INCRBY encoding offset increment [GET encoding offset | [OVERFLOW WRAP | SAT | FAIL] SET encoding offset value | INCRBY encoding offset increment ...]]",
        },
        new("bitfield_ro", -2, BitFieldReadOnly)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO access", Acl = "@read @bitmap @fast",
            Summary = "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Since = "6.0.0",
            Complexity = "O(1) for each subcommand specified", Syntax = "key [GET encoding offset [GET encoding offset ...]]",
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
        int mask = 1 << (7 - (int)(offset & 7));
        if (old is not null && (offset >> 3) < old.Length && ((old[offset >> 3] & mask) != 0) == (on != 0))
        {
            // Redis 7.0.15 counts, notifies and propagates SETBIT only when the string grows or the bit changes.
            s.Reply.WriteInteger(on);
            return;
        }
        var bits = StringCommands.GrowZeroed(s, a, index, old, (offset >> 3) + 1);
        ref byte target = ref bits[offset >> 3];
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

    /// <summary>What BITFIELD does when a SET or INCRBY does not fit its type.</summary>
    private enum Overflow
    {
        Wrap,
        Sat,
        Fail,
    }

    /// <summary>The kinds of BITFIELD operation.</summary>
    private enum FieldOpcode
    {
        Get,
        Set,
        IncrBy,
    }

    /// <summary>One parsed BITFIELD operation: a signed or unsigned integer of <see cref="Bits"/> bits at a bit offset.</summary>
    private struct FieldOp
    {
        public FieldOpcode Opcode;
        public Overflow Overflow;
        public bool Signed;
        public int Bits;
        public long Offset;
        public long Value;
    }

    private static void BitField(Session s, ArgList a) => RunBitField(s, a, readOnlyCommand: false);

    private static void BitFieldReadOnly(Session s, ArgList a) => RunBitField(s, a, readOnlyCommand: true);

    /// <summary>
    /// BITFIELD and BITFIELD_RO. Every operation is parsed (and refused with Redis's error) before anything runs;
    /// then they run in order on a string grown to hold the farthest write, each reply an integer, or a null for a
    /// write that OVERFLOW FAIL refused. The arguments are parsed twice rather than kept in a list, so nothing is allocated.
    /// </summary>
    private static void RunBitField(Session s, ArgList a, bool readOnlyCommand)
    {
        bool readOnly = true;
        long highestWrite = 0;
        int count = 0;
        var overflow = Overflow.Wrap;
        for (int j = 2; j < a.Count;)
        {
            if (!TryParseFieldOp(s, a, ref j, ref overflow, out var op, out bool isOp))
            {
                return;
            }
            if (!isOp)
            {
                continue;
            }
            count++;
            if (op.Opcode != FieldOpcode.Get)
            {
                readOnly = false;
                highestWrite = Math.Max(highestWrite, op.Offset + op.Bits - 1);
            }
        }
        byte[]? value;
        int index;
        if (readOnly)
        {
            if (!s.TryReadString(a[1], out value))
            {
                return;
            }
        }
        else
        {
            if (readOnlyCommand)
            {
                s.Reply.WriteError("ERR BITFIELD_RO only supports the GET subcommand");
                return;
            }
            index = s.Db.Find(a[1]);
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
            value = GrowForBitField(s, a, index, old, (highestWrite >> 3) + 1, out bool grew);
            RunFieldOps(s, a, value, count, grew);
            return;
        }
        RunFieldOps(s, a, value, count, grew: false);
    }

    /// <summary>Runs the operations (already validated) on <paramref name="value"/>, replying to each; signals and notifies once if any wrote.</summary>
    private static void RunFieldOps(Session s, ArgList a, byte[]? value, int count, bool grew)
    {
        s.Reply.WriteArrayHeader(count);
        long changes = 0;
        var overflow = Overflow.Wrap;
        for (int j = 2; j < a.Count;)
        {
            TryParseFieldOp(null, a, ref j, ref overflow, out var op, out bool isOp);
            if (!isOp)
            {
                continue;
            }
            if (op.Opcode == FieldOpcode.Get)
            {
                ulong raw = ReadField(value, op.Offset, op.Bits);
                s.Reply.WriteInteger(op.Signed ? SignExtend(raw, op.Bits) : (long)raw);
                continue;
            }
            ulong before = ReadField(value, op.Offset, op.Bits);
            bool failed;
            ulong stored;
            long reply;
            if (op.Signed)
            {
                long old = SignExtend(before, op.Bits);
                long incr = op.Opcode == FieldOpcode.IncrBy ? op.Value : 0;
                long start = op.Opcode == FieldOpcode.IncrBy ? old : op.Value;
                int result = SignedOverflow(start, incr, op.Bits, op.Overflow, out long limit);
                long next = result != 0 ? limit : unchecked(start + incr);
                failed = result != 0 && op.Overflow == Overflow.Fail;
                stored = (ulong)next;
                reply = op.Opcode == FieldOpcode.IncrBy ? next : old;
            }
            else
            {
                ulong incr = op.Opcode == FieldOpcode.IncrBy ? (ulong)op.Value : 0;
                ulong start = op.Opcode == FieldOpcode.IncrBy ? before : (ulong)op.Value;
                int result = UnsignedOverflow(start, (long)incr, op.Bits, op.Overflow, out ulong limit);
                ulong next = result != 0 ? limit : unchecked(start + incr);
                failed = result != 0 && op.Overflow == Overflow.Fail;
                stored = next;
                reply = op.Opcode == FieldOpcode.IncrBy ? (long)next : (long)before;
            }
            if (failed)
            {
                s.Reply.WriteNullBulk();
                continue;
            }
            s.Reply.WriteInteger(reply);
            WriteField(value!, op.Offset, op.Bits, stored);
            // As Redis 7.0.15: a write counts when the string grew or the field's bits changed.
            if (grew || (stored & FieldMask(op.Bits)) != before)
            {
                changes++;
            }
        }
        if (value is not null && changes > 0)
        {
            s.Db.SignalModified(a[1]);
            s.Db.Notify(KeyspaceEventTypes.String, "setbit"u8, a[1]);
        }
        if (grew || changes > 0)
        {
            s.Db.CountChanges(changes);
        }
    }

    /// <summary>
    /// Parses the operation at <paramref name="j"/> and moves past it; an OVERFLOW only changes <paramref name="overflow"/>
    /// (<paramref name="isOp"/> false). With a session, errors are written to it; without one the arguments are known good.
    /// </summary>
    private static bool TryParseFieldOp(Session? s, ArgList a, ref int j, ref Overflow overflow, out FieldOp op, out bool isOp)
    {
        op = default;
        isOp = false;
        int remaining = a.Count - j - 1;
        var name = a[j];
        if (Ascii.EqualsIgnoreCase(name, "GET"u8) && remaining >= 2)
        {
            op.Opcode = FieldOpcode.Get;
        }
        else if (Ascii.EqualsIgnoreCase(name, "SET"u8) && remaining >= 3)
        {
            op.Opcode = FieldOpcode.Set;
        }
        else if (Ascii.EqualsIgnoreCase(name, "INCRBY"u8) && remaining >= 3)
        {
            op.Opcode = FieldOpcode.IncrBy;
        }
        else if (Ascii.EqualsIgnoreCase(name, "OVERFLOW"u8) && remaining >= 1)
        {
            var kind = a[j + 1];
            if (Ascii.EqualsIgnoreCase(kind, "WRAP"u8))
            {
                overflow = Overflow.Wrap;
            }
            else if (Ascii.EqualsIgnoreCase(kind, "SAT"u8))
            {
                overflow = Overflow.Sat;
            }
            else if (Ascii.EqualsIgnoreCase(kind, "FAIL"u8))
            {
                overflow = Overflow.Fail;
            }
            else
            {
                s?.Reply.WriteError("ERR Invalid OVERFLOW type specified");
                return false;
            }
            j += 2;
            return true;
        }
        else
        {
            s?.Reply.WriteError(Errors.Syntax);
            return false;
        }
        if (!TryParseFieldType(a[j + 1], out op.Signed, out op.Bits))
        {
            s?.Reply.WriteError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
            return false;
        }
        if (!TryParseFieldOffset(s, a[j + 2], op.Bits, out op.Offset))
        {
            return false;
        }
        if (op.Opcode != FieldOpcode.Get)
        {
            if (!NumberFormat.TryParseInt64(a[j + 3], out op.Value))
            {
                s?.Reply.WriteError(Errors.NotInteger);
                return false;
            }
            j += 4;
        }
        else
        {
            j += 3;
        }
        op.Overflow = overflow;
        isOp = true;
        return true;
    }

    /// <summary>A type as i1..i64 or u1..u63 (lower-case letter; the width as Redis reads it, up to a NUL byte).</summary>
    private static bool TryParseFieldType(ReadOnlySpan<byte> text, out bool signed, out int bits)
    {
        signed = false;
        bits = 0;
        if (text.IsEmpty || (text[0] != 'i' && text[0] != 'u'))
        {
            return false;
        }
        signed = text[0] == 'i';
        var width = text[1..];
        int nul = width.IndexOf((byte)0);
        if (nul >= 0)
        {
            width = width[..nul];
        }
        if (!NumberFormat.TryParseInt64(width, out long parsed) || parsed < 1 || parsed > (signed ? 64 : 63))
        {
            return false;
        }
        bits = (int)parsed;
        return true;
    }

    /// <summary>A bit offset, or with a leading '#' a count of fields of <paramref name="bits"/> bits; the limit is SETBIT's.</summary>
    private static bool TryParseFieldOffset(Session? s, ReadOnlySpan<byte> text, int bits, out long offset)
    {
        bool byFields = !text.IsEmpty && text[0] == '#';
        bool parsed = NumberFormat.TryParseInt64(byFields ? text[1..] : text, out offset);
        // Redis multiplies without an overflow check; a wrapped product is then refused as negative or too large.
        offset = byFields ? unchecked(offset * bits) : offset;
        if (s is null || (parsed && offset >= 0 && (offset >> 3) < s.Server.Config.ProtoMaxBulkLen.Number))
        {
            return true;
        }
        s.Reply.WriteError(BitOffsetError);
        return false;
    }

    /// <summary>
    /// The string BITFIELD writes into, at least <paramref name="length"/> bytes, zero-padded and created when absent.
    /// Growing alone is not a change Redis signals (only writes that change bits are), so an existing key is replaced
    /// without signalling; a new key is added as any key is.
    /// </summary>
    private static byte[] GrowForBitField(Session s, ArgList a, int index, byte[]? old, long length, out bool grew)
    {
        grew = old is null || old.Length < length;
        if (!grew)
        {
            return old!;
        }
        var grown = new byte[length];
        if (old is not null)
        {
            old.CopyTo(grown, 0);
            s.Db.Table[index].Value = grown;
        }
        else
        {
            s.Db.Add(a.Detach(1), grown);
        }
        return grown;
    }

    private static ulong FieldMask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    private static long SignExtend(ulong raw, int bits) => bits == 64 ? (long)raw : (long)(raw << (64 - bits)) >> (64 - bits);

    /// <summary>The <paramref name="bits"/>-bit field at a bit offset, big-endian; bytes past the end of the string read as zero.</summary>
    private static ulong ReadField(ReadOnlySpan<byte> data, long offset, int bits)
    {
        long firstByte = offset >> 3;
        int skip = (int)(offset & 7);
        int byteCount = (skip + bits + 7) >> 3;
        UInt128 window = 0;
        for (int i = 0; i < byteCount; i++)
        {
            long at = firstByte + i;
            window = (window << 8) | (at < data.Length ? data[(int)at] : 0u);
        }
        int trailing = byteCount * 8 - skip - bits;
        return (ulong)(window >> trailing) & FieldMask(bits);
    }

    /// <summary>Stores the low <paramref name="bits"/> bits of <paramref name="value"/> at a bit offset (the string holds the whole field).</summary>
    private static void WriteField(Span<byte> data, long offset, int bits, ulong value)
    {
        int firstByte = (int)(offset >> 3);
        int skip = (int)(offset & 7);
        int byteCount = (skip + bits + 7) >> 3;
        UInt128 window = 0;
        for (int i = 0; i < byteCount; i++)
        {
            window = (window << 8) | data[firstByte + i];
        }
        int trailing = byteCount * 8 - skip - bits;
        var mask = (UInt128)FieldMask(bits) << trailing;
        window = (window & ~mask) | (((UInt128)(value & FieldMask(bits))) << trailing);
        for (int i = byteCount - 1; i >= 0; i--)
        {
            data[firstByte + i] = (byte)window;
            window >>= 8;
        }
    }

    /// <summary>
    /// Redis's checkUnsignedBitfieldOverflow: 0 when <paramref name="value"/> + <paramref name="incr"/> fits in <paramref name="bits"/>
    /// unsigned bits, else 1 (above) or -1 (below) with <paramref name="limit"/> the wrapped or saturated result.
    /// </summary>
    private static int UnsignedOverflow(ulong value, long incr, int bits, Overflow overflow, out ulong limit)
    {
        ulong max = FieldMask(bits);
        long maxIncr = unchecked((long)(max - value));
        long minIncr = unchecked(-(long)value);
        limit = 0;
        int result;
        if (value > max || (incr > 0 && incr > maxIncr))
        {
            result = 1;
            limit = max;
        }
        else if (incr < 0 && incr < minIncr)
        {
            result = -1;
            limit = 0;
        }
        else
        {
            return 0;
        }
        if (overflow == Overflow.Wrap)
        {
            limit = unchecked(value + (ulong)incr) & max;
            return 1;
        }
        return result;
    }

    /// <summary>Redis's checkSignedBitfieldOverflow, for <paramref name="bits"/>-bit two's complement fields.</summary>
    private static int SignedOverflow(long value, long incr, int bits, Overflow overflow, out long limit)
    {
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;
        long maxIncr = unchecked((long)((ulong)max - (ulong)value));
        long minIncr = unchecked(min - value);
        int result;
        if (value > max || (bits != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr))
        {
            result = 1;
            limit = max;
        }
        else if (value < min || (bits != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr))
        {
            result = -1;
            limit = min;
        }
        else
        {
            limit = 0;
            return 0;
        }
        if (overflow == Overflow.Wrap)
        {
            ulong sum = unchecked((ulong)value + (ulong)incr);
            limit = SignExtend(sum & FieldMask(bits), bits);
            return 1;
        }
        return result;
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
