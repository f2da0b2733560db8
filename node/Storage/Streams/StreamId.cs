using System.Buffers.Text;

namespace CacheOperator.Node.Storage.Streams;

/// <summary>
/// A stream entry ID, "&lt;ms&gt;-&lt;seq&gt;": two unsigned 64-bit parts ordered as a pair, as Redis's streamID.
/// </summary>
public readonly record struct StreamId(ulong Ms, ulong Seq) : IComparable<StreamId>
{
    /// <summary>The smallest ID, "0-0"; also what "-" means in a range.</summary>
    public static readonly StreamId Min = new(0, 0);

    /// <summary>The largest ID; what "+" means in a range.</summary>
    public static readonly StreamId Max = new(ulong.MaxValue, ulong.MaxValue);

    /// <summary>Longest text form: two 20-digit numbers and a dash.</summary>
    public const int MaxTextLength = 41;

    /// <inheritdoc/>
    public int CompareTo(StreamId other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    /// <summary>Less-than on IDs.</summary>
    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    /// <summary>Greater-than on IDs.</summary>
    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;

    /// <summary>Less-or-equal on IDs.</summary>
    public static bool operator <=(StreamId a, StreamId b) => a.CompareTo(b) <= 0;

    /// <summary>Greater-or-equal on IDs.</summary>
    public static bool operator >=(StreamId a, StreamId b) => a.CompareTo(b) >= 0;

    /// <summary>The next ID (Redis's streamIncrID); false at <see cref="Max"/>.</summary>
    public bool TryIncrement(out StreamId next)
    {
        if (Seq != ulong.MaxValue) { next = new(Ms, Seq + 1); return true; }
        if (Ms != ulong.MaxValue) { next = new(Ms + 1, 0); return true; }
        next = this;
        return false;
    }

    /// <summary>The previous ID (Redis's streamDecrID); false at <see cref="Min"/>.</summary>
    public bool TryDecrement(out StreamId previous)
    {
        if (Seq != 0) { previous = new(Ms, Seq - 1); return true; }
        if (Ms != 0) { previous = new(Ms - 1, ulong.MaxValue); return true; }
        previous = this;
        return false;
    }

    /// <summary>
    /// Parses "&lt;ms&gt;" or "&lt;ms&gt;-&lt;seq&gt;" (digits only, as Redis's string2ull). A missing sequence
    /// becomes <paramref name="missingSeq"/> (0 for a range start, ulong.MaxValue for an end).
    /// "-", "+", "*", "$" and "&gt;" are the callers' business.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id)
    {
        id = default;
        int dash = text.IndexOf((byte)'-');
        var msText = dash < 0 ? text : text[..dash];
        if (!TryParsePart(msText, out ulong ms)) return false;
        ulong seq = missingSeq;
        if (dash >= 0 && !TryParsePart(text[(dash + 1)..], out seq)) return false;
        id = new(ms, seq);
        return true;
    }

    // Redis's string2ull: plain digits, else strtoull's rules (leading white space, a '+'); a negative number is refused.
    private static bool TryParsePart(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') i++;
        if (i < text.Length && text[i] == '+') i++;
        var digits = text[i..];
        if (digits.IsEmpty) return false;
        foreach (byte b in digits)
            if (b < '0' || b > '9') return false;
        if (!Utf8Parser.TryParse(digits, out value, out int consumed) || consumed != digits.Length) return false;
        return true;
    }

    /// <summary>Writes "ms-seq" into <paramref name="destination"/> (at least <see cref="MaxTextLength"/> bytes) and returns its length.</summary>
    public int Format(Span<byte> destination)
    {
        Utf8Formatter.TryFormat(Ms, destination, out int msLength);
        destination[msLength] = (byte)'-';
        Utf8Formatter.TryFormat(Seq, destination[(msLength + 1)..], out int seqLength);
        return msLength + 1 + seqLength;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Ms}-{Seq}";
}
