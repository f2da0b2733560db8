using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>
/// LCS, the longest common subsequence of two strings (Redis's string group): the subsequence itself, its length
/// (LEN), or the matching ranges of both strings (IDX, with MINMATCHLEN and WITHMATCHLEN), by Redis's dynamic
/// programming table and the same walk back through it, so ties resolve to the same answer.
/// </summary>
internal static class LcsCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("lcs", -3, Lcs)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 2, 1), KeySpecFlags = "RO access", Acl = "@read @string @slow",
            Summary = "Find longest common substring", Since = "7.0.0",
            Complexity = "O(N*M) where N and M are the lengths of s1 and s2, respectively",
            Syntax = "key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]",
        },
    ];

    private static void Lcs(Session s, ArgList a)
    {
        // Both keys are looked up (and counted as hits or misses) before either is checked, as Redis does.
        int indexA = s.FindForRead(a[1]);
        int indexB = s.FindForRead(a[2]);
        object? valueA = indexA >= 0 ? s.Db.Table[indexA].Value : null;
        object? valueB = indexB >= 0 ? s.Db.Table[indexB].Value : null;
        if (valueA is not null and not byte[] || valueB is not null and not byte[])
        {
            s.Reply.WriteError("ERR The specified keys must contain string values");
            return;
        }
        bool getLength = false, getIndexes = false, withMatchLength = false;
        long minMatchLength = 0;
        for (int j = 3; j < a.Count; j++)
        {
            var option = a[j];
            if (Ascii.EqualsIgnoreCase(option, "IDX"u8))
            {
                getIndexes = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "LEN"u8))
            {
                getLength = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "WITHMATCHLEN"u8))
            {
                withMatchLength = true;
            }
            else if (Ascii.EqualsIgnoreCase(option, "MINMATCHLEN"u8) && j + 1 < a.Count)
            {
                if (!s.TryParseLong(a[++j], out minMatchLength))
                {
                    return;
                }
                minMatchLength = Math.Max(minMatchLength, 0);
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (getLength && getIndexes)
        {
            s.Reply.WriteError("ERR If you want both the length and indexes, please just use IDX.");
            return;
        }
        var first = (byte[]?)valueA ?? [];
        var second = (byte[]?)valueB ?? [];
        if ((uint)first.Length >= uint.MaxValue - 1 || (uint)second.Length >= uint.MaxValue - 1)
        {
            s.Reply.WriteError("ERR String too long for LCS");
            return;
        }
        long cells = (first.Length + 1L) * (second.Length + 1L);
        if (cells * sizeof(uint) > s.Server.Config.ProtoMaxBulkLen.Number)
        {
            s.Reply.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
            return;
        }
        uint[] table;
        try
        {
            table = cells > Array.MaxLength ? throw new OutOfMemoryException() : GC.AllocateUninitializedArray<uint>((int)cells);
        }
        catch (OutOfMemoryException)
        {
            s.Reply.WriteError("ERR Insufficient memory, failed allocating transient memory for LCS");
            return;
        }
        Fill(table, first, second);
        uint length = table[^1];
        if (getIndexes)
        {
            s.Reply.WriteMapHeader(2);
            s.Reply.WriteBulk("matches"u8);
            var walk = new Walk(table, first, second, minMatchLength, withMatchLength);
            s.Reply.WriteArrayHeader(walk.Run(null));
            walk.Run(s.Reply);
            s.Reply.WriteBulk("len"u8);
            s.Reply.WriteInteger(length);
        }
        else if (getLength)
        {
            s.Reply.WriteInteger(length);
        }
        else
        {
            var subsequence = new byte[length];
            new Walk(table, first, second, 0, false).Run(null, subsequence);
            s.Reply.WriteBulk(subsequence);
        }
    }

    /// <summary>Fills table[i * (|b| + 1) + j] with the LCS length of a[..i] and b[..j].</summary>
    private static void Fill(Span<uint> table, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int width = b.Length + 1;
        table[..width].Clear();
        for (int i = 1; i <= a.Length; i++)
        {
            var row = table.Slice(i * width, width);
            var above = table.Slice((i - 1) * width, width);
            byte ai = a[i - 1];
            row[0] = 0;
            for (int j = 1; j < width; j++)
            {
                row[j] = ai == b[j - 1] ? above[j - 1] + 1 : Math.Max(above[j], row[j - 1]);
            }
        }
    }

    /// <summary>
    /// Redis's walk from the table's last cell back to its first: it rebuilds the subsequence from the end and closes
    /// a range of consecutive matches at each gap (or at the start of either string), emitting those of at least
    /// MINMATCHLEN. Run once to count the ranges (for the array header), once to write them.
    /// </summary>
    private readonly struct Walk(uint[] table, byte[] a, byte[] b, long minMatchLength, bool withMatchLength)
    {
        /// <summary>Walks back; writes the emitted ranges to <paramref name="reply"/> when given, the subsequence into <paramref name="subsequence"/> when given; returns how many ranges were emitted.</summary>
        public int Run(ReplyWriter? reply, byte[]? subsequence = null)
        {
            int width = b.Length + 1;
            uint unset = (uint)a.Length;
            uint aStart = unset, aEnd = 0, bStart = 0, bEnd = 0;
            int emitted = 0;
            int i = a.Length, j = b.Length;
            int next = subsequence?.Length ?? 0;
            while (i > 0 && j > 0)
            {
                bool emit = false;
                if (a[i - 1] == b[j - 1])
                {
                    if (subsequence is not null)
                    {
                        subsequence[--next] = a[i - 1];
                    }
                    if (aStart == unset)
                    {
                        aStart = aEnd = (uint)(i - 1);
                        bStart = bEnd = (uint)(j - 1);
                    }
                    else if (aStart == i && bStart == j)
                    {
                        aStart--;
                        bStart--;
                    }
                    else
                    {
                        emit = true;
                    }
                    emit |= aStart == 0 || bStart == 0;
                    i--;
                    j--;
                }
                else
                {
                    if (table[(i - 1) * width + j] > table[i * width + j - 1])
                    {
                        i--;
                    }
                    else
                    {
                        j--;
                    }
                    emit = aStart != unset;
                }
                if (emit)
                {
                    uint matchLength = aEnd - aStart + 1;
                    if (minMatchLength == 0 || matchLength >= minMatchLength)
                    {
                        emitted++;
                        if (reply is not null)
                        {
                            reply.WriteArrayHeader(withMatchLength ? 3 : 2);
                            reply.WriteArrayHeader(2);
                            reply.WriteInteger(aStart);
                            reply.WriteInteger(aEnd);
                            reply.WriteArrayHeader(2);
                            reply.WriteInteger(bStart);
                            reply.WriteInteger(bEnd);
                            if (withMatchLength)
                            {
                                reply.WriteInteger(matchLength);
                            }
                        }
                    }
                    aStart = unset;
                }
            }
            return emitted;
        }
    }
}
