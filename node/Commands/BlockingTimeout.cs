using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The timeout argument of blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...), parsed as Redis 7.0 does.</summary>
internal static class BlockingTimeout
{
    /// <summary>2^63 as a double: C's cast of anything at or beyond it yields LLONG_MIN on the platforms Redis runs on.</summary>
    private const double Int64Limit = 9223372036854775808.0;

    /// <summary>
    /// Seconds as a float with sub-second precision, truncated to milliseconds (so 0.0001 means "forever",
    /// like 0). False after writing Redis's error.
    /// </summary>
    public static bool TryParse(Session s, ReadOnlySpan<byte> text, out long milliseconds)
    {
        milliseconds = 0;
        if (!NumberFormat.TryParseDouble(text, out double seconds))
        {
            s.Reply.WriteError("ERR timeout is not a float or out of range");
            return false;
        }
        double scaled = seconds * 1000.0;
        // Redis casts to long long: out-of-range values (inf, 1e30) become LLONG_MIN, hence "negative".
        milliseconds = scaled >= Int64Limit || scaled <= -Int64Limit ? long.MinValue : (long)scaled;
        if (milliseconds < 0)
        {
            s.Reply.WriteError("ERR timeout is negative");
            return false;
        }
        return true;
    }
}
