namespace CacheOperator.Node.Storage;

/// <summary>
/// When small collections keep their compact encodings, as Redis's hash-max-listpack-*, zset-max-listpack-* and
/// set-max-intset-entries say (lists have no such limit here: Redis 7.0 reports every list as quicklist). One
/// instance per keyspace, shared by its values and read on each write (a field read), so a change applies to a
/// collection the next time it is written, as in Redis. The server layer keeps it in step with the configuration.
/// </summary>
public sealed class EncodingLimits
{
    /// <summary>Most fields a listpack hash holds (hash-max-listpack-entries).</summary>
    public long HashMaxListpackEntries { get; set; } = 512;

    /// <summary>Longest field or value a listpack hash holds (hash-max-listpack-value).</summary>
    public long HashMaxListpackValue { get; set; } = 64;

    /// <summary>Most members a listpack sorted set holds (zset-max-listpack-entries).</summary>
    public long ZsetMaxListpackEntries { get; set; } = 128;

    /// <summary>Longest member a listpack sorted set holds (zset-max-listpack-value).</summary>
    public long ZsetMaxListpackValue { get; set; } = 64;

    /// <summary>Most members an intset holds (set-max-intset-entries).</summary>
    public long SetMaxIntsetEntries { get; set; } = 512;

    /// <summary>Most bytes of a stream node's listpack (stream-node-max-bytes; 0: no limit but Redis's 1 GiB).</summary>
    public long StreamNodeMaxBytes { get; set; } = 4096;

    /// <summary>Most entries, deleted ones included, of a stream node (stream-node-max-entries; 0: no limit).</summary>
    public long StreamNodeMaxEntries { get; set; } = 100;
}
