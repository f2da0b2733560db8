namespace CacheOperator.Node.Storage.Streams;

/// <summary>A consumer group of a stream (Redis's streamCG): its name, the last ID delivered to it and how many entries it read.</summary>
public sealed class StreamConsumerGroup(byte[] name, StreamId lastDeliveredId, long entriesRead)
{
    /// <summary>Redis's SCG_INVALID_ENTRIES_READ: the count of entries read is unknown.</summary>
    public const long InvalidEntriesRead = -1;

    /// <summary>The group's name.</summary>
    public byte[] Name { get; } = name;

    /// <summary>The last entry ID delivered to the group's consumers (last_id).</summary>
    public StreamId LastDeliveredId { get; set; } = lastDeliveredId;

    /// <summary>Entries the group read (entries_read), or <see cref="InvalidEntriesRead"/>.</summary>
    public long EntriesRead { get; set; } = entriesRead;

    /// <summary>A deep copy (COPY, snapshots).</summary>
    public StreamConsumerGroup Clone() => new(Name, LastDeliveredId, EntriesRead);
}
