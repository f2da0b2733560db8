using System.Globalization;

namespace CacheOperator.Node.Protocol;

/// <summary>Number parsing and formatting with Redis's rules and text forms.</summary>
public static class NumberFormat
{
    /// <summary>Shortest round-trip text, with <c>inf</c>, <c>-inf</c> and a lower-case exponent as Redis prints.</summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (double.IsPositiveInfinity(value))
        {
            "inf"u8.CopyTo(destination);
            return 3;
        }
        if (double.IsNegativeInfinity(value))
        {
            "-inf"u8.CopyTo(destination);
            return 4;
        }
        if (double.IsNaN(value))
        {
            "nan"u8.CopyTo(destination);
            return 3;
        }
        value.TryFormat(destination, out int n, "R", CultureInfo.InvariantCulture);
        for (int i = 0; i < n; i++)
        {
            if (destination[i] == (byte)'E')
            {
                destination[i] = (byte)'e';
            }
        }
        return n;
    }

    /// <summary>
    /// C's <c>%.17g</c>, as Redis 7.0 prints sorted-set scores (ZSCORE, WITHSCORES, ZINCRBY, ZSCAN):
    /// 17 significant digits, trailing zeros dropped, exponent form below 1e-4 or from 1e17 ("1e+17",
    /// "1.0000000000000001e-05"), "-0" kept, <c>inf</c>/<c>-inf</c>/<c>nan</c>.
    /// </summary>
    public static int FormatDoubleG17(double value, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            return FormatDouble(value, destination);
        }
        value.TryFormat(destination, out int n, "G17", CultureInfo.InvariantCulture);
        for (int i = 0; i < n; i++)
        {
            if (destination[i] == (byte)'E')
            {
                destination[i] = (byte)'e';
            }
        }
        return n;
    }

    /// <summary>
    /// Redis 7.0's d2string (ZSCAN scores, the compact sorted-set form): an integral value within
    /// ±(2^63-1)/2 as an integer ("100000000000000000"), otherwise as <see cref="FormatDoubleG17"/>.
    /// </summary>
    public static int FormatDoubleD2String(double value, Span<byte> destination)
    {
        const double Limit = long.MaxValue / 2;
        if (value != 0 && value >= -Limit && value <= Limit && value == Math.Truncate(value))
        {
            ((long)value).TryFormat(destination, out int n, default, CultureInfo.InvariantCulture);
            return n;
        }
        return FormatDoubleG17(value, destination);
    }

    /// <summary>
    /// C's <c>%.Nf</c> (glibc: the exact binary value rounded half to even at <paramref name="decimals"/> places, at most 17),
    /// <c>inf</c>/<c>-inf</c>/<c>nan</c>/<c>-nan</c>; returns the length. Values of any magnitude (error texts print %f of 1e300).
    /// </summary>
    public static int FormatFixed(double value, int decimals, Span<byte> destination)
    {
        if (!double.IsFinite(value))
        {
            var word = double.IsNaN(value) ? (double.IsNegative(value) ? "-nan"u8 : "nan"u8) : value > 0 ? "inf"u8 : "-inf"u8;
            word.CopyTo(destination);
            return word.Length;
        }
        ulong bits = BitConverter.DoubleToUInt64Bits(value);
        bool negative = (bits >> 63) != 0;
        int exponentField = (int)((bits >> 52) & 0x7FF);
        ulong mantissa = bits & 0xFFFFFFFFFFFFFUL;
        int exponent;
        if (exponentField == 0)
        {
            exponent = -1074;
        }
        else
        {
            mantissa |= 1UL << 52;
            exponent = exponentField - 1075;
        }
        ulong scale = Pow10(decimals);
        int at = 0;
        if (negative)
        {
            destination[at++] = (byte)'-';
        }
        if (exponent >= 0 || exponent < -110 || mantissa == 0)
        {
            // Integral (no fraction), or too small to reach the last place (the product stays below half of one unit).
            var integral = exponent >= 0 ? new System.Numerics.BigInteger(mantissa) << exponent : System.Numerics.BigInteger.Zero;
            at += WriteDigits(integral, destination[at..]);
            return AppendFraction(destination, at, 0, decimals);
        }
        // The value times 10^decimals is mantissa * scale / 2^shift, below 2^110: exact in 128 bits.
        int shift = -exponent;
        UInt128 scaled = (UInt128)mantissa * scale;
        UInt128 quotient = scaled >> shift;
        UInt128 remainder = scaled - (quotient << shift);
        UInt128 half = UInt128.One << (shift - 1);
        if (remainder > half || (remainder == half && (quotient & 1) != 0))
        {
            quotient++;
        }
        UInt128 integer = quotient / scale;
        ulong fraction = (ulong)(quotient % scale);
        at += WriteDigits(new System.Numerics.BigInteger((ulong)(integer >> 64)) << 64 | (ulong)integer, destination[at..]);
        return AppendFraction(destination, at, fraction, decimals);

        static ulong Pow10(int n)
        {
            ulong p = 1;
            for (int i = 0; i < n; i++)
            {
                p *= 10;
            }
            return p;
        }

        static int WriteDigits(System.Numerics.BigInteger n, Span<byte> into)
        {
            if (n < ulong.MaxValue)
            {
                ((ulong)n).TryFormat(into, out int written, default, CultureInfo.InvariantCulture);
                return written;
            }
            string text = n.ToString(CultureInfo.InvariantCulture);
            return Encoding.ASCII.GetBytes(text, into);
        }

        static int AppendFraction(Span<byte> into, int at, ulong fraction, int places)
        {
            if (places == 0)
            {
                return at;
            }
            into[at++] = (byte)'.';
            for (int i = places - 1; i >= 0; i--)
            {
                into[at + i] = (byte)('0' + (int)(fraction % 10));
                fraction /= 10;
            }
            return at + places;
        }
    }

    /// <summary>
    /// Redis's ld2string in LD_STR_HUMAN mode for a double (GEOPOS, WITHCOORD): <c>%.17Lf</c> with trailing zeros and a
    /// trailing point dropped, "-0" as "0", <c>inf</c>/<c>-inf</c>.
    /// </summary>
    public static int FormatHumanLongDouble(double value, Span<byte> destination)
    {
        int n = FormatFixed(value, 17, destination);
        if (!double.IsFinite(value))
        {
            return n;
        }
        while (destination[n - 1] == (byte)'0')
        {
            n--;
        }
        if (destination[n - 1] == (byte)'.')
        {
            n--;
        }
        if (n == 2 && destination[0] == (byte)'-' && destination[1] == (byte)'0')
        {
            destination[0] = (byte)'0';
            n = 1;
        }
        return n;
    }

    /// <summary>Text of a double for replies and stored values.</summary>
    public static string DoubleToString(double value)
    {
        Span<byte> buf = stackalloc byte[40];
        int n = FormatDouble(value, buf);
        return Encoding.ASCII.GetString(buf[..n]);
    }

    /// <summary>Parses a double as Redis's strtod-based parser does: no spaces, "inf"/"-inf"/"+inf" accepted, NaN refused.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 256 || IsSpace(text[0]) || IsSpace(text[^1]))
        {
            return false;
        }
        if (Ascii.EqualsIgnoreCase(text, "inf"u8) || Ascii.EqualsIgnoreCase(text, "+inf"u8) || Ascii.EqualsIgnoreCase(text, "infinity"u8) || Ascii.EqualsIgnoreCase(text, "+infinity"u8))
        {
            value = double.PositiveInfinity;
            return true;
        }
        if (Ascii.EqualsIgnoreCase(text, "-inf"u8) || Ascii.EqualsIgnoreCase(text, "-infinity"u8))
        {
            value = double.NegativeInfinity;
            return true;
        }
        foreach (byte b in text)
        {
            // .NET accepts words and separators that strtod does not; keep to digits, sign, dot and exponent.
            if (!(b is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'-' or (byte)'+' or (byte)'e' or (byte)'E'))
            {
                return false;
            }
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }
        return !double.IsNaN(value);
    }

    /// <summary>Parses a 64-bit integer with Redis's strict rules.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value) => RespParser.TryParseInt64(text, out value);

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    /// <summary>
    /// Parses a cursor as Redis does with strtoul: an optional sign (a negative number wraps around),
    /// decimal digits, nothing after; leading space and values past 64 bits are refused. The text
    /// ends at a NUL byte, as a C string would.
    /// </summary>
    public static bool TryParseScanCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }
        if (text.Length == 0)
        {
            // strtoul reads nothing and leaves the end pointer on the terminator: cursor 0.
            return true;
        }
        bool negative = text[0] == (byte)'-';
        int start = text[0] is (byte)'-' or (byte)'+' ? 1 : 0;
        if (start == text.Length)
        {
            return false;
        }
        ulong value = 0;
        for (int i = start; i < text.Length; i++)
        {
            uint digit = (uint)(text[i] - '0');
            if (digit > 9 || value > (ulong.MaxValue - digit) / 10)
            {
                return false;
            }
            value = value * 10 + digit;
        }
        cursor = negative ? unchecked(0 - value) : value;
        return true;
    }
}
