using System.Numerics;

namespace CacheOperator.Node.Protocol;

/// <summary>
/// The x87 80-bit long double that Redis's INCRBYFLOAT and HINCRBYFLOAT compute with (64-bit mantissa,
/// exponent range to 2^16384, denormals down to 2^-16445), emulated exactly with big integers so sums and
/// their text (<c>%.17Lf</c> with trailing zeros removed) match Redis digit for digit, e.g.
/// 1000 + 0.1 = "1000.09999999999999998" and 0.1 + 0.2 = "0.3".
/// </summary>
public readonly struct LongDouble
{
    private const int MantissaBits = 64;
    private const int MinExponent = -16445;   // exponent of the smallest denormal's bit
    private const int MaxBitExponent = 16384; // values reach up to, not including, 2^16384

    // Value = (Negative ? -1 : 1) * Mantissa * 2^Exponent; Mantissa < 2^64 (zero for zero).
    private readonly BigInteger _mantissa;
    private readonly int _exponent;
    private readonly bool _negative;
    private readonly bool _infinite;

    private LongDouble(BigInteger mantissa, int exponent, bool negative, bool infinite = false)
    {
        _mantissa = mantissa;
        _exponent = exponent;
        _negative = negative;
        _infinite = infinite;
    }

    /// <summary>True for ±infinity.</summary>
    public bool IsInfinity => _infinite;

    /// <summary>An integer, exactly (every 64-bit integer fits the mantissa).</summary>
    public static LongDouble FromInt64(long value) =>
        new(BigInteger.Abs(value), 0, value < 0);

    /// <summary>
    /// Parses text as Redis's string2ld does with strtold: decimal or hex (0x...p...) notation, "inf" and
    /// "infinity" accepted, NaN, spaces, trailing junk, overflow and underflow to zero refused. Text after
    /// a NUL byte is ignored, as C strings end there.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = default;
        // Redis copies into a 5 KiB buffer first and refuses longer text.
        if (text.IsEmpty || text.Length >= 5 * 1024)
        {
            return false;
        }
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }
        if (text.IsEmpty || text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
        {
            return false;
        }
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            text = text[1..];
        }
        if (Ascii.EqualsIgnoreCase(text, "inf"u8) || Ascii.EqualsIgnoreCase(text, "infinity"u8))
        {
            value = new LongDouble(BigInteger.Zero, 0, negative, infinite: true);
            return true;
        }
        bool hex = text.Length > 2 && text[0] == (byte)'0' && (text[1] | 0x20) == (byte)'x';
        if (hex)
        {
            text = text[2..];
        }
        int radix = hex ? 16 : 10;
        BigInteger digits = BigInteger.Zero;
        int digitCount = 0, fractionDigits = 0, significant = 0;
        bool seenDot = false;
        int i = 0;
        for (; i < text.Length; i++)
        {
            byte c = text[i];
            int d = DigitValue(c, radix);
            if (d >= 0)
            {
                if (significant > 0 || d != 0)
                {
                    significant++;
                }
                // Text is under 5 KiB, so the digits stay a manageable big integer.
                digits = (digits * radix) + d;
                if (seenDot)
                {
                    fractionDigits++;
                }
                digitCount++;
            }
            else if (c == (byte)'.' && !seenDot)
            {
                seenDot = true;
            }
            else
            {
                break;
            }
        }
        if (digitCount == 0)
        {
            return false;
        }
        long exponent = 0;
        if (i < text.Length)
        {
            // An exponent: e for decimal (power of 10), p for hex (power of 2); strtold stops (and Redis
            // refuses) when no digit follows.
            if ((text[i] | 0x20) != (hex ? (byte)'p' : (byte)'e'))
            {
                return false;
            }
            i++;
            bool expNegative = false;
            if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            {
                expNegative = text[i] == (byte)'-';
                i++;
            }
            if (i == text.Length)
            {
                return false;
            }
            for (; i < text.Length; i++)
            {
                uint d = (uint)(text[i] - '0');
                if (d > 9)
                {
                    return false;
                }
                exponent = Math.Min((exponent * 10) + d, 1_000_000);
            }
            if (expNegative)
            {
                exponent = -exponent;
            }
        }
        if (digits.IsZero)
        {
            value = new LongDouble(BigInteger.Zero, 0, negative);
            return true;
        }
        if (hex)
        {
            // Hex digits are 4 bits each; the exponent is binary.
            long binary = exponent - (4L * fractionDigits);
            if (binary + (long)digits.GetBitLength() > MaxBitExponent + 1)
            {
                return false;
            }
            if (binary + (long)digits.GetBitLength() < MinExponent - 2)
            {
                return false;
            }
            value = Round(digits, BigInteger.One, (int)binary, negative);
        }
        else
        {
            long decimalExponent = exponent - fractionDigits;
            int magnitude = (int)Math.Clamp(decimalExponent + significant, -100_000, 100_000);
            if (magnitude > 4934)
            {
                return false;
            }
            if (magnitude < -4952)
            {
                return false;
            }
            value = decimalExponent >= 0
                ? Round(digits * BigInteger.Pow(10, (int)decimalExponent), BigInteger.One, 0, negative)
                : Round(digits, BigInteger.Pow(10, (int)-decimalExponent), 0, negative);
        }
        // strtold reports ERANGE on overflow and on underflow to zero; Redis refuses both.
        return !value._infinite && !value._mantissa.IsZero;
    }

    /// <summary>The sum, rounded to the nearest long double (ties to even).</summary>
    public static LongDouble operator +(LongDouble a, LongDouble b)
    {
        if (a._infinite || b._infinite)
        {
            // inf + -inf is NaN; callers only ever add finite increments, so report it as infinite.
            return a._infinite ? a : b;
        }
        if (a._mantissa.IsZero)
        {
            return b._mantissa.IsZero ? new LongDouble(BigInteger.Zero, 0, a._negative && b._negative) : b;
        }
        if (b._mantissa.IsZero)
        {
            return a;
        }
        int common = Math.Min(a._exponent, b._exponent);
        BigInteger sa = (a._negative ? -a._mantissa : a._mantissa) << (a._exponent - common);
        BigInteger sb = (b._negative ? -b._mantissa : b._mantissa) << (b._exponent - common);
        BigInteger sum = sa + sb;
        if (sum.IsZero)
        {
            return new LongDouble(BigInteger.Zero, 0, negative: false);
        }
        return Round(BigInteger.Abs(sum), BigInteger.One, common, sum.Sign < 0);
    }

    /// <summary>
    /// Redis's human form (ld2string LD_STR_HUMAN): <c>%.17Lf</c>, trailing zeros and a trailing dot removed,
    /// "-0" written as "0".
    /// </summary>
    public string ToHumanString()
    {
        if (_infinite)
        {
            return _negative ? "-inf" : "inf";
        }
        BigInteger scale = BigInteger.Pow(10, 17);
        BigInteger scaled;
        if (_exponent >= 0)
        {
            scaled = (_mantissa << _exponent) * scale;
        }
        else
        {
            BigInteger numerator = _mantissa * scale;
            BigInteger denominator = BigInteger.One << -_exponent;
            scaled = BigInteger.DivRem(numerator, denominator, out BigInteger remainder);
            int half = (remainder * 2).CompareTo(denominator);
            if (half > 0 || (half == 0 && !scaled.IsEven))
            {
                scaled += 1;
            }
        }
        BigInteger whole = BigInteger.DivRem(scaled, scale, out BigInteger fraction);
        string text = fraction.IsZero
            ? whole.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : whole.ToString(System.Globalization.CultureInfo.InvariantCulture) + "." + fraction.ToString("D17", System.Globalization.CultureInfo.InvariantCulture).TrimEnd('0');
        return _negative && text != "0" ? "-" + text : text;
    }

    private static int DigitValue(byte c, int radix)
    {
        int d = c switch
        {
            >= (byte)'0' and <= (byte)'9' => c - '0',
            >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
            _ => -1,
        };
        return d < radix ? d : -1;
    }

    /// <summary>Rounds numerator/denominator * 2^exponent (numerator &gt; 0) to a long double, ties to even.</summary>
    private static LongDouble Round(BigInteger numerator, BigInteger denominator, int exponent, bool negative)
    {
        // Choose the result exponent so the quotient has 64 bits (one more at most), clamped for denormals.
        long estimate = (long)numerator.GetBitLength() - (long)denominator.GetBitLength() + exponent - MantissaBits;
        int resultExponent = (int)Math.Max(estimate, MinExponent);
        while (true)
        {
            int shift = exponent - resultExponent;
            BigInteger n = shift >= 0 ? numerator << shift : numerator;
            BigInteger d = shift >= 0 ? denominator : denominator << -shift;
            BigInteger quotient = BigInteger.DivRem(n, d, out BigInteger remainder);
            if (quotient.GetBitLength() > MantissaBits)
            {
                resultExponent++;
                continue;
            }
            int half = (remainder * 2).CompareTo(d);
            if (half > 0 || (half == 0 && !quotient.IsEven))
            {
                quotient += 1;
                if (quotient.GetBitLength() > MantissaBits)
                {
                    quotient >>= 1;
                    resultExponent++;
                }
            }
            if (resultExponent + (long)quotient.GetBitLength() > MaxBitExponent)
            {
                return new LongDouble(BigInteger.Zero, 0, negative, infinite: true);
            }
            return new LongDouble(quotient, resultExponent, negative);
        }
    }
}
