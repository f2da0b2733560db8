using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A collection stored under a key (hash, list, set, sorted set). Strings are plain byte arrays;
/// everything else implements this so generic commands (TYPE, OBJECT, COPY, DUMP, memory accounting)
/// can treat values uniformly.
/// </summary>
public interface ICollectionValue
{
    /// <summary>The name TYPE answers: "hash", "list", "set", "zset".</summary>
    string TypeName { get; }

    /// <summary>The name OBJECT ENCODING answers, e.g. "listpack" for a small compact form.</summary>
    string EncodingName { get; }

    /// <summary>Number of elements; a collection reaching zero is deleted by the command that emptied it.</summary>
    long Count { get; }

    /// <summary>An approximation of the bytes the value holds, for MEMORY USAGE and maxmemory.</summary>
    long EstimatedBytes { get; }

    /// <summary>An independent deep copy (COPY, snapshots).</summary>
    ICollectionValue Clone();
}

/// <summary>Type and encoding names of stored values, as TYPE and OBJECT ENCODING report them.</summary>
public static class ValueKinds
{
    /// <summary>Longest string Redis stores as "embstr".</summary>
    public const int EmbstrLimit = 44;

    /// <summary>TYPE's answer for a value.</summary>
    public static string TypeName(object value) => value switch
    {
        byte[] => "string",
        ICollectionValue c => c.TypeName,
        _ => "none",
    };

    /// <summary>OBJECT ENCODING's answer for a value.</summary>
    public static string EncodingName(object value) => value switch
    {
        byte[] s when s.Length <= 20 && NumberFormat.TryParseInt64(s, out _) => "int",
        byte[] s when s.Length <= EmbstrLimit => "embstr",
        byte[] => "raw",
        ICollectionValue c => c.EncodingName,
        _ => "unknown",
    };
}
