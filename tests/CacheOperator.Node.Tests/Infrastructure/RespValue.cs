using System.Globalization;
using System.Text;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>The RESP type byte of a reply.</summary>
public enum RespKind
{
    /// <summary>+</summary>
    Simple,

    /// <summary>-</summary>
    Error,

    /// <summary>:</summary>
    Integer,

    /// <summary>$</summary>
    Bulk,

    /// <summary>$-1, *-1 or _</summary>
    Null,

    /// <summary>*</summary>
    Array,

    /// <summary>%</summary>
    Map,

    /// <summary>~</summary>
    Set,

    /// <summary>,</summary>
    Double,

    /// <summary>#</summary>
    Boolean,

    /// <summary>=</summary>
    Verbatim,

    /// <summary>&gt;</summary>
    Push,

    /// <summary>(</summary>
    BigNumber,
}

/// <summary>One decoded reply, keeping its exact RESP type so tests can check reply shapes.</summary>
public sealed record RespValue(RespKind Kind, byte[]? Bytes = null, long Integer = 0, IReadOnlyList<RespValue>? Items = null)
{
    /// <summary>Text of a simple string, error, bulk, verbatim, double or big number.</summary>
    public string? Text => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);

    /// <summary>Elements of an aggregate (maps flattened key, value, ...).</summary>
    public IReadOnlyList<RespValue> Elements => Items ?? throw new InvalidOperationException($"{Kind} reply has no elements: {this}");

    /// <summary>Texts of an aggregate's elements.</summary>
    public string?[] Texts => Elements.Select(e => e.Kind == RespKind.Integer ? e.Integer.ToString(CultureInfo.InvariantCulture) : e.Text).ToArray();

    /// <summary>True for an error reply.</summary>
    public bool IsError => Kind == RespKind.Error;

    /// <summary>A readable form for assertion messages.</summary>
    public override string ToString() => Kind switch
    {
        RespKind.Integer => $":{Integer}",
        RespKind.Null => "(nil)",
        RespKind.Array or RespKind.Map or RespKind.Set or RespKind.Push => $"{Kind}[{string.Join(", ", Elements)}]",
        _ => $"{Kind}:{Text}",
    };
}
