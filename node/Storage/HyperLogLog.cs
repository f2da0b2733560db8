using System.Buffers.Binary;
using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// Redis's HyperLogLog as a plain string value, byte for byte: the HyperLogLog cardinality estimator (Flajolet et al.)
/// with 16384 6-bit registers fed by MurmurHash64A (seed 0xadc83b19), the count computed from the register histogram
/// with Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284),
/// as redis-server 7.0 does. Layout: the 16-byte header ("HYLL", encoding byte, three unused bytes, the cached count as
/// a little-endian 64-bit integer whose top bit marks it stale), then either the dense registers (6 bits each, LSB
/// first) or the sparse run-length opcodes (ZERO 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx).
/// </summary>
public static class HyperLogLog
{
    /// <summary>Bytes of the header.</summary>
    public const int HeaderSize = 16;

    /// <summary>Registers of every HLL.</summary>
    public const int Registers = 1 << P;

    /// <summary>Length of a dense HLL value.</summary>
    public const int DenseSize = HeaderSize + (Registers * Bits + 7) / 8;

    /// <summary>The encoding byte of a dense HLL.</summary>
    public const byte Dense = 0;

    /// <summary>The encoding byte of a sparse HLL.</summary>
    public const byte Sparse = 1;

    private const int P = 14;
    private const int Q = 64 - P;
    private const int Bits = 6;
    private const int RegisterMax = (1 << Bits) - 1;
    private const int SparseValMaxValue = 32;
    private const int SparseValMaxLen = 4;
    private const int SparseZeroMaxLen = 64;
    private const int SparseXZeroMaxLen = 16384;
    private const double AlphaInf = 0.721347520444481703680;
    private const uint HashSeed = 0xadc83b19;

    /// <summary>A new, empty HLL: sparse, one XZERO opcode covering every register, cached count 0.</summary>
    public static byte[] Create()
    {
        var value = new byte[HeaderSize + 2];
        "HYLL"u8.CopyTo(value);
        value[4] = Sparse;
        WriteXZero(value, HeaderSize, Registers);
        return value;
    }

    /// <summary>True when <paramref name="value"/> has an HLL header Redis accepts (isHLLObjectOrReply): magic, known encoding, dense length.</summary>
    public static bool IsValid(byte[] value) =>
        value.Length >= HeaderSize && value.AsSpan(0, 4).SequenceEqual("HYLL"u8) && value[4] <= Sparse
        && (value[4] != Dense || value.Length == DenseSize);

    /// <summary>MurmurHash2, 64-bit version (MurmurHash64A), reading words little-endian as Redis does on every platform.</summary>
    public static ulong MurmurHash64A(ReadOnlySpan<byte> key, uint seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        ulong h = seed ^ ((ulong)key.Length * m);
        int blocks = key.Length & ~7;
        for (int i = 0; i < blocks; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(key[i..]);
            k *= m;
            k ^= k >> r;
            k *= m;
            h ^= k;
            h *= m;
        }
        var tail = key[blocks..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--)
            {
                h ^= (ulong)tail[i] << (8 * i);
            }
            h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
    }

    /// <summary>The register an element hashes to and the length of its 000..1 pattern (Redis's hllPatLen).</summary>
    public static int PatternLength(ReadOnlySpan<byte> element, out int register)
    {
        ulong hash = MurmurHash64A(element, HashSeed);
        register = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return BitOperations.TrailingZeroCount(hash) + 1;
    }

    /// <summary>The dense register <paramref name="index"/> of a dense value.</summary>
    public static int GetDense(byte[] value, int index)
    {
        int at = HeaderSize + index * Bits / 8;
        int fb = index * Bits & 7;
        // Redis reads one byte past the registers for the last one (the string's terminator); its bits are masked off anyway.
        int b1 = at + 1 < value.Length ? value[at + 1] : 0;
        return ((value[at] >> fb) | (b1 << (8 - fb))) & RegisterMax;
    }

    private static void SetDense(byte[] value, int index, int count)
    {
        int at = HeaderSize + index * Bits / 8;
        int fb = index * Bits & 7;
        int fb8 = 8 - fb;
        value[at] = (byte)((value[at] & ~(RegisterMax << fb)) | (count << fb));
        if (at + 1 < value.Length)
        {
            value[at + 1] = (byte)((value[at + 1] & ~(RegisterMax >> fb8)) | (count >> fb8));
        }
    }

    private static int DenseSet(byte[] value, int index, int count)
    {
        if (count > GetDense(value, index))
        {
            SetDense(value, index, count);
            return 1;
        }
        return 0;
    }

    /// <summary>Marks the cached count stale.</summary>
    public static void InvalidateCache(byte[] value) => value[15] |= 0x80;

    /// <summary>The cached count, or null when it is stale.</summary>
    public static long? CachedCount(byte[] value) =>
        (value[15] & 0x80) == 0 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(value.AsSpan(8)) : null;

    /// <summary>Stores <paramref name="count"/> as the (valid) cached count.</summary>
    public static void SetCachedCount(byte[] value, long count) => BinaryPrimitives.WriteUInt64LittleEndian(value.AsSpan(8), (ulong)count);

    /// <summary>
    /// Adds an element (Redis's hllAdd): 1 when a register grew, 0 when not, -1 when the value is corrupted. A sparse
    /// value that needs a register over 32 or more than <paramref name="sparseMaxBytes"/> bytes becomes dense.
    /// </summary>
    public static int Add(ref Editor hll, ReadOnlySpan<byte> element, long sparseMaxBytes)
    {
        int count = PatternLength(element, out int index);
        return hll.Buffer[4] switch
        {
            Dense => DenseSet(hll.Buffer, index, count),
            Sparse => SparseSet(ref hll, index, count, sparseMaxBytes),
            _ => -1,
        };
    }

    /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/> in either encoding (PFMERGE's write).</summary>
    public static int Set(ref Editor hll, int index, int count, long sparseMaxBytes) =>
        hll.Buffer[4] == Dense ? DenseSet(hll.Buffer, index, count) : SparseSet(ref hll, index, count, sparseMaxBytes);

    /// <summary>
    /// An HLL value being changed by one command: dense values change in place; a sparse one gets room to grow,
    /// and <see cref="ToValue"/> gives the bytes to store afterwards (the same array when its length did not change).
    /// </summary>
    public struct Editor(byte[] value)
    {
        /// <summary>The bytes, possibly with spare room past <see cref="Length"/> (zero right after it, as Redis's terminator).</summary>
        public byte[] Buffer = value;

        /// <summary>The value's length.</summary>
        public int Length = value.Length;

        /// <summary>The value to store.</summary>
        public readonly byte[] ToValue() => Buffer.Length == Length ? Buffer : Buffer.AsSpan(0, Length).ToArray();

        /// <summary>The byte at <paramref name="i"/>, or 0 past the end (Redis reads its string's terminator there).</summary>
        internal readonly int At(int i) => i < Length ? Buffer[i] : 0;

        internal void MakeRoom(int extra)
        {
            // One more than asked for: the terminator byte stays addressable.
            if (Buffer.Length < Length + extra + 1)
            {
                var grown = new byte[Math.Max(Length + extra + 1, Math.Min(Length * 2, Length + 256))];
                Buffer.AsSpan(0, Length).CopyTo(grown);
                Buffer = grown;
            }
        }

        internal void SetLength(int length)
        {
            Length = length;
            if (length < Buffer.Length)
            {
                Buffer[length] = 0;
            }
        }
    }

    private static bool IsZero(int op) => (op & 0xc0) == 0;

    private static bool IsXZero(int op) => (op & 0xc0) == 0x40;

    private static bool IsVal(int op) => (op & 0x80) != 0;

    private static int ZeroLen(int op) => (op & 0x3f) + 1;

    private static int XZeroLen(int op, int next) => (((op & 0x3f) << 8) | next) + 1;

    private static int ValValue(int op) => ((op >> 2) & 0x1f) + 1;

    private static int ValLen(int op) => (op & 0x3) + 1;

    private static byte Val(int value, int len) => (byte)(((value - 1) << 2) | (len - 1) | 0x80);

    private static void WriteXZero(Span<byte> to, int at, int len)
    {
        int l = len - 1;
        to[at] = (byte)((l >> 8) | 0x40);
        to[at + 1] = (byte)(l & 0xff);
    }

    /// <summary>Converts a sparse value to dense (Redis's hllSparseToDense); false when the sparse opcodes are corrupted.</summary>
    public static bool ToDense(ref Editor hll)
    {
        if (hll.Buffer[4] == Dense)
        {
            return true;
        }
        var dense = new byte[DenseSize];
        hll.Buffer.AsSpan(0, HeaderSize).CopyTo(dense);
        dense[4] = Dense;
        int idx = 0;
        int p = HeaderSize;
        while (p < hll.Length)
        {
            int op = hll.Buffer[p];
            if (IsZero(op))
            {
                idx += ZeroLen(op);
                p++;
            }
            else if (IsXZero(op))
            {
                idx += XZeroLen(op, hll.At(p + 1));
                p += 2;
            }
            else
            {
                int runlen = ValLen(op);
                int regval = ValValue(op);
                if (runlen + idx > Registers)
                {
                    // Past the last register: corrupted (redis-server 7.0.15 refuses it, whatever follows).
                    return false;
                }
                while (runlen-- > 0)
                {
                    SetDense(dense, idx, regval);
                    idx++;
                }
                p++;
            }
        }
        if (idx != Registers)
        {
            return false;
        }
        hll = new Editor(dense);
        return true;
    }

    /// <summary>Redis's hllSparseSet, step for step, so the opcodes come out identical.</summary>
    private static int SparseSet(ref Editor hll, int index, int count, long sparseMaxBytes)
    {
        if (count > SparseValMaxValue)
        {
            return Promote(ref hll, index, count);
        }
        var b = hll.Buffer;
        int sparse = HeaderSize;
        int p = sparse;
        int end = hll.Length;
        long first = 0;
        int prev = -1;
        long span = 0;
        while (p < end)
        {
            int oplen = 1;
            int op = b[p];
            if (IsZero(op))
            {
                span = ZeroLen(op);
            }
            else if (IsVal(op))
            {
                span = ValLen(op);
            }
            else
            {
                span = XZeroLen(op, hll.At(p + 1));
                oplen = 2;
            }
            if (index <= first + span - 1)
            {
                break;
            }
            prev = p;
            p += oplen;
            first += span;
        }
        if (span == 0 || p >= end)
        {
            return -1;
        }
        int current = b[p];
        int next = IsXZero(current) ? p + 2 : p + 1;
        if (next >= end)
        {
            next = -1;
        }
        bool isZero = false, isXZero = false, isVal = false;
        long runlen;
        if (IsZero(current))
        {
            isZero = true;
            runlen = ZeroLen(current);
        }
        else if (IsXZero(current))
        {
            isXZero = true;
            runlen = XZeroLen(current, hll.At(p + 1));
        }
        else
        {
            isVal = true;
            runlen = ValLen(current);
        }

        if (isVal)
        {
            if (ValValue(current) >= count)
            {
                return 0;
            }
            if (runlen == 1)
            {
                b[p] = Val(count, 1);
                return Updated(ref hll, prev, sparse);
            }
        }
        if (isZero && runlen == 1)
        {
            b[p] = Val(count, 1);
            return Updated(ref hll, prev, sparse);
        }

        // The general case: split the opcode into up to three (XZERO-VAL-XZERO at worst, five bytes).
        Span<byte> seq = stackalloc byte[5];
        int n = 0;
        long last = first + span - 1;
        if (isZero || isXZero)
        {
            if (index != first)
            {
                n = WriteZeros(seq, n, (int)(index - first));
            }
            seq[n++] = Val(count, 1);
            if (index != last)
            {
                n = WriteZeros(seq, n, (int)(last - index));
            }
        }
        else
        {
            int curval = ValValue(current);
            if (index != first)
            {
                seq[n++] = Val(curval, (int)(index - first));
            }
            seq[n++] = Val(count, 1);
            if (index != last)
            {
                seq[n++] = Val(curval, (int)(last - index));
            }
        }
        int oldlen = isXZero ? 2 : 1;
        int deltalen = n - oldlen;
        if (deltalen > 0 && hll.Length + deltalen > sparseMaxBytes)
        {
            return Promote(ref hll, index, count);
        }
        // Room only when the value grows (Redis reserves 3 bytes up front): in-place updates allocate nothing. A
        // truncated last XZERO (corrupted) makes the copy below end one byte past the new length, as in Redis.
        int needed = Math.Max(hll.Length + deltalen, p + n) + 1;
        if (b.Length < needed)
        {
            hll.MakeRoom(needed - hll.Length - 1);
            b = hll.Buffer;
        }
        if (deltalen != 0 && next >= 0)
        {
            b.AsSpan(next, end - next).CopyTo(b.AsSpan(next + deltalen));
        }
        hll.SetLength(hll.Length + deltalen);
        seq[..n].CopyTo(b.AsSpan(p));
        return Updated(ref hll, prev, sparse);
    }

    private static int WriteZeros(Span<byte> seq, int n, int len)
    {
        if (len > SparseZeroMaxLen)
        {
            WriteXZero(seq, n, len);
            return n + 2;
        }
        seq[n] = (byte)(len - 1);
        return n + 1;
    }

    /// <summary>Step 4 of hllSparseSet: merges adjacent VAL opcodes of equal value near the change, then marks the count stale.</summary>
    private static int Updated(ref Editor hll, int prev, int sparse)
    {
        var b = hll.Buffer;
        int p = prev >= 0 ? prev : sparse;
        int end = hll.Length;
        int scanlen = 5;
        while (p < end && scanlen-- != 0)
        {
            int op = b[p];
            if (IsXZero(op))
            {
                p += 2;
                continue;
            }
            if (IsZero(op))
            {
                p++;
                continue;
            }
            if (p + 1 < end && IsVal(b[p + 1]))
            {
                int v1 = ValValue(op);
                int v2 = ValValue(b[p + 1]);
                if (v1 == v2)
                {
                    int len = ValLen(op) + ValLen(b[p + 1]);
                    if (len <= SparseValMaxLen)
                    {
                        b[p + 1] = Val(v1, len);
                        b.AsSpan(p + 1, end - p - 1).CopyTo(b.AsSpan(p));
                        hll.SetLength(hll.Length - 1);
                        end--;
                        continue;
                    }
                }
            }
            p++;
        }
        InvalidateCache(b);
        return 1;
    }

    private static int Promote(ref Editor hll, int index, int count)
    {
        if (!ToDense(ref hll))
        {
            return -1;
        }
        return DenseSet(hll.Buffer, index, count);
    }

    /// <summary>The dense registers one per byte: every three bytes hold four 6-bit registers, least significant bits first.</summary>
    private static void Unpack(byte[] value, Span<byte> registers)
    {
        var packed = value.AsSpan(HeaderSize, DenseSize - HeaderSize);
        for (int i = 0, r = 0; i < packed.Length; i += 3, r += 4)
        {
            int b0 = packed[i], b1 = packed[i + 1], b2 = packed[i + 2];
            registers[r] = (byte)(b0 & 63);
            registers[r + 1] = (byte)(((b0 >> 6) | (b1 << 2)) & 63);
            registers[r + 2] = (byte)(((b1 >> 4) | (b2 << 4)) & 63);
            registers[r + 3] = (byte)(b2 >> 2);
        }
    }

    /// <summary>Raises each of <paramref name="max"/>'s registers to the value's (Redis's hllMerge); false when a sparse value is corrupted.</summary>
    public static bool MergeInto(Span<byte> max, byte[] value)
    {
        if (value[4] == Dense)
        {
            Span<byte> registers = stackalloc byte[Registers];
            Unpack(value, registers);
            for (int i = 0; i < Registers; i++)
            {
                max[i] = Math.Max(max[i], registers[i]);
            }
            return true;
        }
        int idx = 0;
        int p = HeaderSize;
        while (p < value.Length)
        {
            int op = value[p];
            if (IsZero(op))
            {
                idx += ZeroLen(op);
                p++;
            }
            else if (IsXZero(op))
            {
                idx += XZeroLen(op, p + 1 < value.Length ? value[p + 1] : 0);
                p += 2;
            }
            else
            {
                int runlen = ValLen(op);
                int regval = ValValue(op);
                if (runlen + idx > Registers)
                {
                    return false;
                }
                while (runlen-- > 0)
                {
                    if (regval > max[idx])
                    {
                        max[idx] = (byte)regval;
                    }
                    idx++;
                }
                p++;
            }
        }
        return idx == Registers;
    }

    /// <summary>The estimated count of a stored value (Redis's hllCount); null when a sparse value is corrupted.</summary>
    public static long? Count(byte[] value)
    {
        Span<int> histogram = stackalloc int[64];
        if (value[4] == Dense)
        {
            Span<byte> registers = stackalloc byte[Registers];
            Unpack(value, registers);
            foreach (byte register in registers)
            {
                histogram[register]++;
            }
        }
        else
        {
            int idx = 0;
            int p = HeaderSize;
            while (p < value.Length)
            {
                int op = value[p];
                if (IsZero(op))
                {
                    int runlen = ZeroLen(op);
                    idx += runlen;
                    histogram[0] += runlen;
                    p++;
                }
                else if (IsXZero(op))
                {
                    int runlen = XZeroLen(op, p + 1 < value.Length ? value[p + 1] : 0);
                    idx += runlen;
                    histogram[0] += runlen;
                    p += 2;
                }
                else
                {
                    int runlen = ValLen(op);
                    idx += runlen;
                    histogram[ValValue(op)] += runlen;
                    p++;
                }
            }
            if (idx != Registers)
            {
                return null;
            }
        }
        return Estimate(histogram);
    }

    /// <summary>The estimated count of registers held one per byte (PFCOUNT of several keys).</summary>
    public static long CountRaw(ReadOnlySpan<byte> registers)
    {
        Span<int> histogram = stackalloc int[64];
        foreach (byte register in registers)
        {
            histogram[register & 63]++;
        }
        return Estimate(histogram);
    }

    /// <summary>Ertl's improved estimator over the register histogram, in Redis's order of floating-point operations.</summary>
    private static long Estimate(ReadOnlySpan<int> histogram)
    {
        const double m = Registers;
        double z = m * Tau((m - histogram[Q + 1]) / m);
        for (int j = Q; j >= 1; --j)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        return (long)Math.Round(AlphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1.0)
        {
            return double.PositiveInfinity;
        }
        double zPrime;
        double y = 1;
        double z = x;
        do
        {
            x *= x;
            zPrime = z;
            z += x * y;
            y += y;
        }
        while (zPrime != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0.0 || x == 1.0)
        {
            return 0.0;
        }
        double zPrime;
        double y = 1.0;
        double z = 1 - x;
        do
        {
            x = Math.Sqrt(x);
            zPrime = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (zPrime != z);
        return z / 3;
    }

    /// <summary>PFDEBUG DECODE's text of a sparse value: "z:N", "Z:N" and "v:value,len" opcodes separated by spaces.</summary>
    public static string Decode(byte[] value)
    {
        var text = new System.Text.StringBuilder();
        int p = HeaderSize;
        while (p < value.Length)
        {
            int op = value[p];
            if (IsZero(op))
            {
                text.Append("z:").Append(ZeroLen(op)).Append(' ');
                p++;
            }
            else if (IsXZero(op))
            {
                text.Append("Z:").Append(XZeroLen(op, p + 1 < value.Length ? value[p + 1] : 0)).Append(' ');
                p += 2;
            }
            else
            {
                text.Append("v:").Append(ValValue(op)).Append(',').Append(ValLen(op)).Append(' ');
                p++;
            }
        }
        return text.ToString().Trim(' ');
    }

    /// <summary>
    /// PFSELFTEST (Redis's pfselftestCommand): register access round trips, then dense and sparse HLLs fed the same
    /// ten million elements must agree and stay within six standard errors at each power of ten. Null on success, else the failure text.
    /// </summary>
    public static string? SelfTest(long sparseMaxBytes)
    {
        var random = new Random();
        var dense = new byte[DenseSize];
        var bytes = new byte[Registers];
        for (int cycle = 0; cycle < 1000; cycle++)
        {
            for (int i = 0; i < Registers; i++)
            {
                int r = random.Next() & RegisterMax;
                bytes[i] = (byte)r;
                SetDense(dense, i, r);
            }
            for (int i = 0; i < Registers; i++)
            {
                int val = GetDense(dense, i);
                if (val != bytes[i])
                {
                    return $"TESTFAILED Register {i} should be {bytes[i]} but is {val}";
                }
            }
        }
        Array.Clear(dense, HeaderSize, DenseSize - HeaderSize);
        "HYLL"u8.CopyTo(dense);
        var sparse = new Editor(Create());
        double relerr = 1.04 / Math.Sqrt(Registers);
        long checkpoint = 1;
        ulong seed = (ulong)random.NextInt64();
        Span<byte> element = stackalloc byte[8];
        for (long j = 1; j <= 10_000_000; j++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(element, (ulong)j ^ seed);
            int count = PatternLength(element, out int index);
            DenseSet(dense, index, count);
            Set(ref sparse, index, count, sparseMaxBytes);
            if (j != checkpoint)
            {
                continue;
            }
            var sparseValue = sparse.ToValue();
            if (j < sparseMaxBytes / 2 && sparseValue[4] != Sparse)
            {
                return "TESTFAILED sparse encoding not used";
            }
            long denseCount = Count(dense) ?? -1;
            if (denseCount != Count(sparseValue))
            {
                return "TESTFAILED dense/sparse disagree";
            }
            long abserr = Math.Abs(checkpoint - denseCount);
            long maxerr = j == 10 ? 1 : (long)Math.Ceiling(relerr * 6 * checkpoint);
            if (abserr > maxerr)
            {
                return $"TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}";
            }
            checkpoint *= 10;
        }
        return null;
    }
}
