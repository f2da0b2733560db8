using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace CacheOperator.Client;

/// <summary>
/// One decoded reply: its kind, its payload and children as slices of the frame it was received in (one array
/// per frame, no copy per element), and the frame's raw bytes.
/// </summary>
public sealed class RespReply
{
    private static readonly RespReply[] NoChildren = [];
    private readonly byte[] _frame;
    private readonly int _payloadStart;
    private readonly int _payloadLength;
    private readonly RespReply[] _children;
    private int _rawStart;
    private int _rawLength;

    internal RespReply(RespReplyKind kind, byte typeByte, byte[] frame, int rawStart, int payloadStart, int payloadLength, long integer, RespReply[]? children)
    {
        Kind = kind;
        TypeByte = typeByte;
        _frame = frame;
        _rawStart = rawStart;
        _payloadStart = payloadStart;
        _payloadLength = payloadLength;
        Integer = integer;
        _children = children ?? NoChildren;
    }

    /// <summary>What the reply is.</summary>
    public RespReplyKind Kind { get; }

    /// <summary>The RESP type byte it came with ('$' or '*' or '_' for a null, '-' or '!' for an error, ...).</summary>
    public byte TypeByte { get; }

    /// <summary>The value of an integer reply; 1 or 0 for a boolean; 0 otherwise.</summary>
    public long Integer { get; }

    /// <summary>
    /// The payload as on the wire: the text of a simple string, error, integer, double, big number or boolean
    /// ("t"/"f"); the contents of a bulk string; a verbatim string with its "txt:" prefix. Empty for aggregates and nulls.
    /// </summary>
    public ReadOnlyMemory<byte> Bytes => new(_frame, _payloadStart, _payloadLength);

    /// <summary><see cref="Bytes"/> as a span.</summary>
    public ReadOnlySpan<byte> Span => new(_frame, _payloadStart, _payloadLength);

    /// <summary>The reply exactly as received, type byte to final CRLF (attributes in front of it included).</summary>
    public ReadOnlyMemory<byte> Raw => new(_frame, _rawStart, _rawLength);

    /// <summary>The elements of an array, set or push; of a map or attribute flattened as key, value, key, value.</summary>
    public IReadOnlyList<RespReply> Children => _children;

    /// <summary>Number of <see cref="Children"/>.</summary>
    public int Count => _children.Length;

    /// <summary>The attributes (RESP3 '|') sent in front of this reply, if any.</summary>
    public RespReply? Attributes { get; private set; }

    /// <summary>The <paramref name="index"/>th child.</summary>
    public RespReply this[int index] => _children[index];

    /// <summary>True for a null of any protocol.</summary>
    public bool IsNull => Kind == RespReplyKind.Null;

    /// <summary>True for an error reply.</summary>
    public bool IsError => Kind == RespReplyKind.Error;

    /// <summary>True for an array, map, set, push or attribute.</summary>
    public bool IsAggregate => Kind is RespReplyKind.Array or RespReplyKind.Map or RespReplyKind.Set or RespReplyKind.Push or RespReplyKind.Attribute;

    /// <summary>The format of a verbatim string ("txt", "mkd"); null for other kinds.</summary>
    public string? VerbatimFormat => Kind == RespReplyKind.VerbatimString && _payloadLength >= 4 ? Encoding.ASCII.GetString(_frame, _payloadStart, 3) : null;

    /// <summary>
    /// The payload as UTF-8 text (a verbatim string without its format prefix); null for a null.
    /// Throws for an aggregate.
    /// </summary>
    public string? AsString()
    {
        if (Kind == RespReplyKind.Null)
        {
            return null;
        }
        if (IsAggregate)
        {
            throw new InvalidOperationException($"A {Kind} reply has no text: {this}");
        }
        var span = Span;
        if (Kind == RespReplyKind.VerbatimString && span.Length >= 4 && span[3] == (byte)':')
        {
            span = span[4..];
        }
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>The value of an integer reply, or of a string or bulk holding a decimal integer.</summary>
    public long AsInt64()
    {
        if (Kind == RespReplyKind.Integer)
        {
            return Integer;
        }
        if (Kind is RespReplyKind.BulkString or RespReplyKind.SimpleString or RespReplyKind.BigNumber
            && Utf8Parser.TryParse(Span, out long value, out int consumed) && consumed == _payloadLength)
        {
            return value;
        }
        throw new InvalidOperationException($"Not an integer: {this}");
    }

    /// <summary>The value of a double reply (inf, -inf and nan included), or of an integer or a numeric string.</summary>
    public double AsDouble()
    {
        if (Kind == RespReplyKind.Integer)
        {
            return Integer;
        }
        if (Kind is RespReplyKind.Double or RespReplyKind.BulkString or RespReplyKind.SimpleString or RespReplyKind.BigNumber)
        {
            string text = Encoding.ASCII.GetString(Span);
            switch (text)
            {
                case "inf" or "+inf":
                    return double.PositiveInfinity;
                case "-inf":
                    return double.NegativeInfinity;
                case "nan" or "-nan":
                    return double.NaN;
            }
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                return value;
            }
        }
        throw new InvalidOperationException($"Not a number: {this}");
    }

    /// <summary>The value of a boolean reply, or of an integer reply 0 or 1 (RESP2's booleans).</summary>
    public bool AsBoolean() => Kind switch
    {
        RespReplyKind.Boolean => Integer != 0,
        RespReplyKind.Integer when Integer is 0 or 1 => Integer != 0,
        _ => throw new InvalidOperationException($"Not a boolean: {this}"),
    };

    /// <summary>The value of a big number, or of an integer or a decimal string.</summary>
    public BigInteger AsBigInteger()
    {
        if (Kind == RespReplyKind.Integer)
        {
            return Integer;
        }
        if (Kind is RespReplyKind.BigNumber or RespReplyKind.BulkString or RespReplyKind.SimpleString
            && BigInteger.TryParse(Encoding.ASCII.GetString(Span), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        throw new InvalidOperationException($"Not a big number: {this}");
    }

    /// <summary>The texts of an aggregate's children (integers in decimal, nulls as null).</summary>
    public string?[] AsStrings()
    {
        var texts = new string?[_children.Length];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = _children[i].AsString();
        }
        return texts;
    }

    /// <summary>
    /// The value under <paramref name="key"/> in a map or attribute, or in a RESP2 array of key, value pairs
    /// (HELLO, CONFIG GET, XINFO); false when absent.
    /// </summary>
    public bool TryGetValue(string key, out RespReply value)
    {
        if (Kind is RespReplyKind.Map or RespReplyKind.Attribute or RespReplyKind.Array)
        {
            for (int i = 0; i + 1 < _children.Length; i += 2)
            {
                var k = _children[i];
                if (!k.IsAggregate && !k.IsNull && Encoding.UTF8.GetString(k.Span) == key)
                {
                    value = _children[i + 1];
                    return true;
                }
            }
        }
        value = null!;
        return false;
    }

    /// <summary>Returns this reply, or throws <see cref="RespErrorReplyException"/> if it is an error.</summary>
    public RespReply ThrowIfError() => IsError ? throw new RespErrorReplyException(this) : this;

    /// <summary>A copy of <see cref="Raw"/>.</summary>
    public byte[] ToRawArray() => Raw.ToArray();

    /// <summary>A readable form for logs and assertion messages.</summary>
    public override string ToString() => Kind switch
    {
        RespReplyKind.Null => "(nil)",
        RespReplyKind.Integer => $"(integer) {Integer}",
        RespReplyKind.Error => $"(error) {AsString()}",
        RespReplyKind.BulkString or RespReplyKind.VerbatimString => $"\"{AsString()}\"",
        RespReplyKind.Boolean => Integer != 0 ? "(true)" : "(false)",
        RespReplyKind.Double => $"(double) {AsString()}",
        RespReplyKind.BigNumber => $"(big number) {AsString()}",
        RespReplyKind.SimpleString => AsString()!,
        _ => $"{Kind}[{string.Join(", ", (IEnumerable<RespReply>)_children)}]",
    };

    internal void Finish(int rawEnd) => _rawLength = rawEnd - _rawStart;

    internal void AttachAttributes(RespReply attributes, int rawStart)
    {
        Attributes = attributes;
        _rawLength += _rawStart - rawStart;
        _rawStart = rawStart;
    }
}
