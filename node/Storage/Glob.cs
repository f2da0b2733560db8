namespace CacheOperator.Node.Storage;

/// <summary>Redis's glob matching (stringmatchlen): <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a-z]</c> and <c>\</c> escapes, on bytes.</summary>
public static class Glob
{
    /// <summary>True when <paramref name="text"/> matches <paramref name="pattern"/>.</summary>
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool ignoreCase = false)
    {
        // Recursion depth is bounded by the number of '*' in the pattern, as in Redis; deeply nested
        // stars are cut off so a hostile pattern cannot exhaust the stack.
        bool skipLongerMatches = false;
        return Match(pattern, text, ignoreCase, 0, ref skipLongerMatches);
    }

    /// <summary>True for the pattern "*", which matches everything and lets callers skip matching.</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    private static bool Match(ReadOnlySpan<byte> p, ReadOnlySpan<byte> s, bool nocase, int depth, ref bool skipLongerMatches)
    {
        if (depth > 1000)
        {
            return false;
        }
        while (p.Length > 0 && s.Length > 0)
        {
            switch (p[0])
            {
                case (byte)'*':
                    while (p.Length > 1 && p[1] == (byte)'*')
                    {
                        p = p[1..];
                    }
                    if (p.Length == 1)
                    {
                        return true;
                    }
                    while (s.Length > 0)
                    {
                        if (Match(p[1..], s, nocase, depth + 1, ref skipLongerMatches))
                        {
                            return true;
                        }
                        if (skipLongerMatches)
                        {
                            return false;
                        }
                        s = s[1..];
                    }
                    // The rest of the pattern matches nowhere in the rest of the text, so earlier stars
                    // need not try longer spans either (Redis's skipLongerMatches): without this a
                    // pattern like "a*a*a*...b" takes exponential time.
                    skipLongerMatches = true;
                    return false;
                case (byte)'?':
                    s = s[1..];
                    break;
                case (byte)'[':
                    {
                        p = p[1..];
                        bool not = p.Length > 0 && p[0] == (byte)'^';
                        if (not)
                        {
                            p = p[1..];
                        }
                        bool match = false;
                        while (true)
                        {
                            if (p.Length == 0)
                            {
                                break;
                            }
                            if (p[0] == (byte)'\\' && p.Length >= 2)
                            {
                                p = p[1..];
                                if (p[0] == s[0])
                                {
                                    match = true;
                                }
                            }
                            else if (p[0] == (byte)']')
                            {
                                break;
                            }
                            else if (p.Length >= 3 && p[1] == (byte)'-')
                            {
                                int start = p[0], end = p[2], c = s[0];
                                if (start > end)
                                {
                                    (start, end) = (end, start);
                                }
                                if (nocase)
                                {
                                    start = Lower(start);
                                    end = Lower(end);
                                    c = Lower(c);
                                }
                                p = p[2..];
                                if (c >= start && c <= end)
                                {
                                    match = true;
                                }
                            }
                            else if (Same(p[0], s[0], nocase))
                            {
                                match = true;
                            }
                            p = p[1..];
                        }
                        if (p.Length == 0)
                        {
                            // Unterminated class: Redis treats the end of the pattern as its end.
                            p = "]"u8;
                        }
                        if (not)
                        {
                            match = !match;
                        }
                        if (!match)
                        {
                            return false;
                        }
                        s = s[1..];
                        break;
                    }
                case (byte)'\\':
                    if (p.Length >= 2)
                    {
                        p = p[1..];
                    }
                    goto default;
                default:
                    if (!Same(p[0], s[0], nocase))
                    {
                        return false;
                    }
                    s = s[1..];
                    break;
            }
            p = p[1..];
            if (s.Length == 0)
            {
                while (p.Length > 0 && p[0] == (byte)'*')
                {
                    p = p[1..];
                }
                break;
            }
        }
        return p.Length == 0 && s.Length == 0;
    }

    private static bool Same(byte a, byte b, bool nocase) => a == b || (nocase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}
