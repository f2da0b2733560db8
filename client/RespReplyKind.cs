namespace CacheOperator.Client;

/// <summary>What a reply is, by its RESP type byte.</summary>
public enum RespReplyKind
{
    /// <summary>+ simple string.</summary>
    SimpleString,

    /// <summary>- simple error or ! blob error.</summary>
    Error,

    /// <summary>: integer.</summary>
    Integer,

    /// <summary>$ bulk string.</summary>
    BulkString,

    /// <summary>$-1, *-1 (RESP2) or _ (RESP3).</summary>
    Null,

    /// <summary>* array.</summary>
    Array,

    /// <summary>% map; its children are flattened key, value, key, value.</summary>
    Map,

    /// <summary>~ set.</summary>
    Set,

    /// <summary>, double.</summary>
    Double,

    /// <summary># boolean.</summary>
    Boolean,

    /// <summary>( big number.</summary>
    BigNumber,

    /// <summary>= verbatim string ("txt:..." or "mkd:...").</summary>
    VerbatimString,

    /// <summary>&gt; push frame: out-of-band data (pub/sub messages, invalidations), never the reply to a request.</summary>
    Push,

    /// <summary>| attribute map; found only in <see cref="RespReply.Attributes"/>, children flattened like a map.</summary>
    Attribute,
}
