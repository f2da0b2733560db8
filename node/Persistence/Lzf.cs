namespace CacheOperator.Node.Persistence;

/// <summary>
/// LZF, the compression of RDB strings: the compressor makes the same choices as liblzf's with Redis's
/// build settings (VERY_FAST, 16-bit hash), so a value compresses to the bytes redis-server writes.
/// </summary>
public static class Lzf
{
    private const int HashLog = 16;

    [ThreadStatic]
    private static long[]? t_table;

    [ThreadStatic]
    private static uint t_generation;
    private const int MaxLiteral = 1 << 5;
    private const int MaxOffset = 1 << 13;
    private const int MaxReference = (1 << 8) + (1 << 3);

    /// <summary>
    /// Compresses <paramref name="input"/> into at most <paramref name="maxOutput"/> bytes; null when it does
    /// not fit (liblzf's 0 return), in which case Redis stores the string uncompressed.
    /// </summary>
    public static byte[]? Compress(ReadOnlySpan<byte> input, int maxOutput)
    {
        if (input.Length < 4 || maxOutput <= 0)
        {
            return null;
        }
        // Slack past the limit so that liblzf's pointer checks, made before it writes, can be kept as they are.
        var output = new byte[maxOutput + 8];
        // liblzf's hash table starts empty for each string; clearing 64K slots per call cost more than compressing a
        // short value (and allocating it fed the collector 256 KiB a string), so one table per thread is reused and
        // its slots carry the call that wrote them: a slot of an earlier call reads as empty, and the output is the same.
        var table = t_table ??= new long[1 << HashLog];
        if (++t_generation == 0)
        {
            Array.Clear(table);
            t_generation = 1;
        }
        long stamp = (long)t_generation << 32;
        int ip = 0;
        int op = 1; // the first literal run's control byte
        int lit = 0;
        int inEnd = input.Length;
        int outEnd = maxOutput;
        uint hval = First(input, 0);
        while (ip < inEnd - 2)
        {
            hval = Next(hval, input, ip);
            int slot = Index(hval);
            long held = table[slot];
            int reference = (held & ~0xFFFFFFFFL) == stamp ? (int)held : -1;
            table[slot] = stamp | (uint)ip;
            int off = ip - reference - 1;
            if (reference > 0 && off < MaxOffset && ip + 4 < inEnd
                && input[reference] == input[ip] && input[reference + 1] == input[ip + 1] && input[reference + 2] == input[ip + 2])
            {
                int len = 2;
                int maxLength = Math.Min(inEnd - ip - len, MaxReference);
                output[op - lit - 1] = (byte)(lit - 1);
                op -= lit == 0 ? 1 : 0;
                if (op + 3 + 1 >= outEnd)
                {
                    return null;
                }
                do
                {
                    len++;
                }
                while (len < maxLength && input[reference + len] == input[ip + len]);
                len -= 2;
                ip++;
                if (len < 7)
                {
                    output[op++] = (byte)((off >> 8) + (len << 5));
                }
                else
                {
                    output[op++] = (byte)((off >> 8) + (7 << 5));
                    output[op++] = (byte)(len - 7);
                }
                output[op++] = (byte)off;
                lit = 0;
                op++;
                ip += len + 1;
                if (ip >= inEnd - 2)
                {
                    break;
                }
                ip -= 2;
                hval = First(input, ip);
                hval = Next(hval, input, ip);
                table[Index(hval)] = stamp | (uint)ip;
                ip++;
                hval = Next(hval, input, ip);
                table[Index(hval)] = stamp | (uint)ip;
                ip++;
            }
            else
            {
                if (op >= outEnd)
                {
                    return null;
                }
                lit++;
                output[op++] = input[ip++];
                if (lit == MaxLiteral)
                {
                    output[op - lit - 1] = (byte)(lit - 1);
                    lit = 0;
                    op++;
                }
            }
        }
        if (op + 3 > outEnd)
        {
            return null;
        }
        while (ip < inEnd)
        {
            lit++;
            output[op++] = input[ip++];
            if (lit == MaxLiteral)
            {
                output[op - lit - 1] = (byte)(lit - 1);
                lit = 0;
                op++;
            }
        }
        output[op - lit - 1] = (byte)(lit - 1);
        op -= lit == 0 ? 1 : 0;
        return output.AsSpan(0, op).ToArray();
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> into exactly <paramref name="output"/>'s length; false (never an
    /// exception) when the data is malformed or does not fill the output exactly.
    /// </summary>
    public static bool TryDecompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0;
        int op = 0;
        while (ip < input.Length)
        {
            int control = input[ip++];
            if (control < 32)
            {
                int run = control + 1;
                if (ip + run > input.Length || op + run > output.Length)
                {
                    return false;
                }
                input.Slice(ip, run).CopyTo(output[op..]);
                ip += run;
                op += run;
                continue;
            }
            int len = control >> 5;
            int reference = op - ((control & 0x1f) << 8) - 1;
            if (len == 7)
            {
                if (ip >= input.Length)
                {
                    return false;
                }
                len += input[ip++];
            }
            if (ip >= input.Length)
            {
                return false;
            }
            reference -= input[ip++];
            len += 2;
            if (op + len > output.Length || reference < 0)
            {
                return false;
            }
            // Byte by byte: a reference may overlap the bytes it produces.
            for (int i = 0; i < len; i++)
            {
                output[op++] = output[reference++];
            }
        }
        return op == output.Length;
    }

    private static uint First(ReadOnlySpan<byte> input, int p) => (uint)((input[p] << 8) | input[p + 1]);

    private static uint Next(uint v, ReadOnlySpan<byte> input, int p) => (v << 8) | input[p + 2];

    private static int Index(uint h) => (int)(((h >> (24 - HashLog)) - (h * 5)) & ((1 << HashLog) - 1));
}
