using System.Globalization;
using System.Text;
using CacheOperator.Client;

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

    /// <summary>
    /// The test-side form of a library reply: attributes dropped, a blob error as an error, a verbatim string
    /// with its "txt:" prefix, a boolean as "t"/"f" with 1/0.
    /// </summary>
    public static RespValue From(RespReply reply)
    {
        switch (reply.Kind)
        {
            case RespReplyKind.Null:
                return new RespValue(RespKind.Null);
            case RespReplyKind.Integer:
                return new RespValue(RespKind.Integer, Integer: reply.Integer);
            case RespReplyKind.Array or RespReplyKind.Map or RespReplyKind.Set or RespReplyKind.Push:
                var items = new RespValue[reply.Count];
                for (int i = 0; i < items.Length; i++)
                {
                    items[i] = From(reply[i]);
                }
                var aggregate = reply.Kind switch
                {
                    RespReplyKind.Array => RespKind.Array,
                    RespReplyKind.Map => RespKind.Map,
                    RespReplyKind.Set => RespKind.Set,
                    _ => RespKind.Push,
                };
                return new RespValue(aggregate, Items: items);
            default:
                var kind = reply.Kind switch
                {
                    RespReplyKind.SimpleString => RespKind.Simple,
                    RespReplyKind.Error => RespKind.Error,
                    RespReplyKind.BulkString => RespKind.Bulk,
                    RespReplyKind.Double => RespKind.Double,
                    RespReplyKind.Boolean => RespKind.Boolean,
                    RespReplyKind.VerbatimString => RespKind.Verbatim,
                    RespReplyKind.BigNumber => RespKind.BigNumber,
                    _ => throw new InvalidDataException($"Unexpected reply kind {reply.Kind}"),
                };
                return new RespValue(kind, reply.Span.ToArray(), reply.Integer);
        }
    }

    /// <summary>A readable form for assertion messages.</summary>
    public override string ToString() => Kind switch
    {
        RespKind.Integer => $":{Integer}",
        RespKind.Null => "(nil)",
        RespKind.Array or RespKind.Map or RespKind.Set or RespKind.Push => $"{Kind}[{string.Join(", ", Elements)}]",
        _ => $"{Kind}:{Text}",
    };
}
