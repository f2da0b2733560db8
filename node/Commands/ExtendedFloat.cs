using System.Globalization;
using System.Numerics;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The x87 80-bit "long double" that Redis's INCRBYFLOAT computes with on x86-64 (64-bit mantissa,
/// 15-bit exponent), emulated exactly: parsing as glibc's strtold rounds, addition rounded to nearest
/// even, and printing as <c>printf("%.17Lf")</c> with Redis's trailing-zero trimming. A plain double
/// would answer "0.30000000000000004" where Redis answers "0.3", and "5000.3" where Redis answers
/// "5000.29999999999999982".
/// </summary>
internal readonly struct ExtendedFloat
{
    /// <summary>Longest text Redis's string2ld accepts is one less than MAX_LONG_DOUBLE_CHARS.</summary>
    private const int MaxTextLength = 5 * 1024 - 1;

    private const int MantissaBits = 64;

    /// <summary>Exponent of the lowest bit of the smallest subnormal: 2^(-16382-63).</summary>
    private const int MinLowBitExponent = -16445;

    /// <summary>Values at or above 2^16384 overflow to infinity.</summary>
    private const int MaxExponentLimit = 16384;

    private const int FractionDigits = 17;

    private static readonly BigInteger FractionScale = BigInteger.Pow(10, FractionDigits);

    private ExtendedFloat(bool negative, ulong mantissa, int exponent, bool infinite)
    {
        Negative = negative;
        Mantissa = mantissa;
        Exponent = exponent;
        IsInfinity = infinite;
    }

    /// <summary>Sign (also of zero and infinity).</summary>
    public bool Negative { get; }

    /// <summary>The magnitude is Mantissa * 2^Exponent.</summary>
    public ulong Mantissa { get; }

    /// <summary>Power of two of the mantissa's lowest bit.</summary>
    public int Exponent { get; }

    /// <summary>True for +inf or -inf.</summary>
    public bool IsInfinity { get; }

    /// <summary>
    /// Parses as Redis's string2ld: the whole text must be a strtold number (decimal, hexadecimal,
    /// inf or infinity), no leading space, not NaN, and not so large or small that strtold reports a
    /// range error with an infinite or zero result.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ExtendedFloat value)
    {
        value = default;
        if (text.IsEmpty || text.Length > MaxTextLength)
        {
            return false;
        }
        int pos = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            pos++;
        }
        var rest = text[pos..];
        if (Ascii.EqualsIgnoreCase(rest, "inf"u8) || Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new ExtendedFloat(negative, 0, 0, infinite: true);
            return true;
        }
        bool hex = rest.Length > 2 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x';
        int radix = hex ? 16 : 10;
        if (hex)
        {
            pos += 2;
        }

        // Mantissa digits with an optional point; at least one digit.
        var digits = BigInteger.Zero;
        int digitCount = 0;
        int fractionCount = 0;
        bool point = false;
        int significantDigits = 0;
        for (; pos < text.Length; pos++)
        {
            byte c = text[pos];
            int d = DigitValue(c, radix);
            if (d >= 0)
            {
                digits = digits * radix + d;
                digitCount++;
                if (point)
                {
                    fractionCount++;
                }
                if (significantDigits > 0 || d != 0)
                {
                    significantDigits++;
                }
            }
            else if (c == (byte)'.' && !point)
            {
                point = true;
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

        // Optional exponent: e (decimal, power of ten) or p (hexadecimal, power of two), decimal digits.
        long exponent = 0;
        if (pos < text.Length)
        {
            if ((text[pos] | 0x20) != (hex ? (byte)'p' : (byte)'e'))
            {
                return false;
            }
            pos++;
            bool exponentNegative = false;
            if (pos < text.Length && text[pos] is (byte)'+' or (byte)'-')
            {
                exponentNegative = text[pos] == (byte)'-';
                pos++;
            }
            if (pos == text.Length)
            {
                return false;
            }
            for (; pos < text.Length; pos++)
            {
                int d = DigitValue(text[pos], 10);
                if (d < 0)
                {
                    return false;
                }
                // Saturate: anything this far out is a range error either way.
                exponent = Math.Min(exponent * 10 + d, 100_000_000);
            }
            if (exponentNegative)
            {
                exponent = -exponent;
            }
        }
        if (digits.IsZero)
        {
            value = new ExtendedFloat(negative, 0, 0, infinite: false);
            return true;
        }

        if (hex)
        {
            long binaryExponent = exponent - 4L * fractionCount;
            long top = binaryExponent + (long)digits.GetBitLength();
            if (top > MaxExponentLimit + 1 || top < MinLowBitExponent - 2)
            {
                return false;
            }
            value = Round(negative, digits, BigInteger.One, (int)binaryExponent);
        }
        else
        {
            long decimalExponent = exponent - fractionCount;
            long magnitude = decimalExponent + significantDigits;
            // 2^16384 is about 1.19e4932 and the smallest subnormal about 3.6e-4951.
            if (magnitude > 4934 || magnitude < -4952)
            {
                return false;
            }
            value = decimalExponent >= 0
                ? Round(negative, digits * BigInteger.Pow(10, (int)decimalExponent), BigInteger.One, 0)
                : Round(negative, digits, BigInteger.Pow(10, (int)-decimalExponent), 0);
        }
        return !value.IsInfinity && value.Mantissa != 0;
    }

    /// <summary>The sum rounded to nearest even; infinite when an input is infinite or the sum overflows.</summary>
    public static ExtendedFloat Add(ExtendedFloat a, ExtendedFloat b)
    {
        if (a.IsInfinity || b.IsInfinity)
        {
            // Redis refuses any infinite (or NaN) result, so which infinity does not matter.
            return a.IsInfinity ? a : b;
        }
        int exponent = Math.Min(a.Exponent, b.Exponent);
        var x = new BigInteger(a.Mantissa) << (a.Exponent - exponent);
        var y = new BigInteger(b.Mantissa) << (b.Exponent - exponent);
        var sum = (a.Negative ? -x : x) + (b.Negative ? -y : y);
        if (sum.IsZero)
        {
            return new ExtendedFloat(a.Negative && b.Negative, 0, 0, infinite: false);
        }
        return Round(sum.Sign < 0, BigInteger.Abs(sum), BigInteger.One, exponent);
    }

    /// <summary>Redis's "human friendly" text: %.17Lf, trailing zeros and point removed, "-0" as "0".</summary>
    public byte[] ToRedisText()
    {
        BigInteger integerPart;
        BigInteger fraction = BigInteger.Zero;
        if (Exponent >= 0)
        {
            integerPart = new BigInteger(Mantissa) << Exponent;
        }
        else
        {
            // Exact decimal expansion rounded to 17 places, ties to even, as glibc's printf does.
            var scaled = new BigInteger(Mantissa) * FractionScale;
            int shift = -Exponent;
            var quotient = scaled >> shift;
            var remainder = scaled - (quotient << shift);
            var half = BigInteger.One << (shift - 1);
            int compare = remainder.CompareTo(half);
            if (compare > 0 || (compare == 0 && !quotient.IsEven))
            {
                quotient += 1;
            }
            integerPart = BigInteger.DivRem(quotient, FractionScale, out fraction);
        }
        var text = new StringBuilder();
        if (Negative)
        {
            text.Append('-');
        }
        text.Append(integerPart.ToString(CultureInfo.InvariantCulture));
        if (!fraction.IsZero)
        {
            text.Append('.').Append(fraction.ToString("D17", CultureInfo.InvariantCulture).TrimEnd('0'));
        }
        if (text.Length == 2 && text[0] == '-' && text[1] == '0')
        {
            return "0"u8.ToArray();
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>numerator / denominator * 2^exponent rounded to 64 bits (fewer when subnormal), nearest even.</summary>
    private static ExtendedFloat Round(bool negative, BigInteger numerator, BigInteger denominator, int exponent)
    {
        // Scale so the integer quotient carries at least 66 significant bits, plus a sticky remainder.
        long numeratorBits = (long)numerator.GetBitLength();
        long denominatorBits = (long)denominator.GetBitLength();
        int scale = (int)(MantissaBits + 3 + denominatorBits - numeratorBits);
        var scaledNumerator = scale >= 0 ? numerator << scale : numerator;
        var scaledDenominator = scale >= 0 ? denominator : denominator << -scale;
        var quotient = BigInteger.DivRem(scaledNumerator, scaledDenominator, out var remainder);
        bool sticky = !remainder.IsZero;
        long quotientExponent = (long)exponent - scale;
        long highBit = (long)quotient.GetBitLength() - 1 + quotientExponent;
        long lowBit = Math.Max(highBit - (MantissaBits - 1), MinLowBitExponent);
        int shift = (int)(lowBit - quotientExponent);
        BigInteger mantissa;
        if (shift <= 0)
        {
            mantissa = quotient << -shift;
        }
        else
        {
            mantissa = quotient >> shift;
            var dropped = quotient - (mantissa << shift);
            var half = BigInteger.One << (shift - 1);
            int compare = dropped.CompareTo(half);
            if (compare > 0 || (compare == 0 && (sticky || !mantissa.IsEven)))
            {
                mantissa += 1;
            }
        }
        if (mantissa.GetBitLength() > MantissaBits)
        {
            mantissa >>= 1;
            lowBit++;
        }
        if (mantissa.IsZero)
        {
            return new ExtendedFloat(negative, 0, 0, infinite: false);
        }
        if ((long)mantissa.GetBitLength() + lowBit > MaxExponentLimit)
        {
            return new ExtendedFloat(negative, 0, 0, infinite: true);
        }
        return new ExtendedFloat(negative, (ulong)mantissa, (int)lowBit, infinite: false);
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
}
