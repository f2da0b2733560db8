namespace CacheOperator.Node.Storage.Streams;

/// <summary>
/// A consumer group of a stream (Redis's streamCG): the last ID delivered to it, how many entries it has read
/// (<see cref="InvalidEntriesRead"/> when unknown), its pending entries list (the global PEL, ordered by ID) and its consumers (ordered by name).
/// </summary>
public sealed class StreamConsumerGroup(byte[] name, StreamId lastDeliveredId, long entriesRead)
{
    /// <summary>Redis's SCG_INVALID_ENTRIES_READ: the count of entries read is unknown.</summary>
    public const long InvalidEntriesRead = -1;

    private readonly PendingEntries _pending = new();
    private readonly SortedDictionary<byte[], StreamConsumer> _consumers = new(NameOrder.Instance);

    // The same consumers by content hash, so that a lookup by the argument's bytes copies nothing.
    private readonly Dictionary<byte[], StreamConsumer> _consumersByName = new(ByteArrayComparer.Instance);

    /// <summary>The group's name.</summary>
    public byte[] Name { get; } = name;

    /// <summary>The last ID delivered to a consumer of the group (what "&gt;" reads after).</summary>
    public StreamId LastDeliveredId { get; set; } = lastDeliveredId;

    /// <summary>Logical count of entries the group has read, or <see cref="InvalidEntriesRead"/>.</summary>
    public long EntriesRead { get; set; } = entriesRead;

    /// <summary>The consumers, ordered by name as Redis's radix tree.</summary>
    public IReadOnlyDictionary<byte[], StreamConsumer> Consumers => _consumers;

    /// <summary>Entries delivered and not acknowledged, ordered by ID.</summary>
    public PendingEntries Pending => _pending;

    /// <summary>
    /// Bytes the group holds, for memory accounting: each pending entry (its record and its places in the group's and
    /// its consumer's lists) and each consumer.
    /// </summary>
    public long EstimatedBytes
    {
        get
        {
            long bytes = 128 + Name.Length + (_pending.Count * PendingEntryBytes);
            foreach (var consumer in Consumers.Values)
            {
                bytes += 96 + consumer.Name.Length;
            }
            return bytes;
        }
    }

    /// <summary>A pending entry's object (ID, owner, time, count) and its two list slots.</summary>
    private const long PendingEntryBytes = 64;

    /// <summary>The pending entry with the smallest ID, or null.</summary>
    public StreamPendingEntry? FirstPending => _pending.Min;

    /// <summary>The pending entry with the largest ID, or null.</summary>
    public StreamPendingEntry? LastPending => _pending.Max;

    /// <summary>The pending entry <paramref name="id"/>, or null.</summary>
    public StreamPendingEntry? FindPending(StreamId id) => _pending.Find(id);

    /// <summary>Pending entries with IDs from <paramref name="start"/> to <paramref name="end"/> (inclusive), in order.</summary>
    public IEnumerable<StreamPendingEntry> PendingBetween(StreamId start, StreamId end) => _pending.Between(start, end);

    /// <summary>The consumer named <paramref name="consumerName"/>, or null.</summary>
    public StreamConsumer? FindConsumer(ReadOnlySpan<byte> consumerName)
    {
        return _consumersByName.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(consumerName, out var consumer) ? consumer : null;
    }

    /// <summary>Adds a consumer named <paramref name="consumerName"/> seen at <paramref name="nowMs"/>; null when it exists.</summary>
    public StreamConsumer? CreateConsumer(ReadOnlySpan<byte> consumerName, long nowMs)
    {
        if (FindConsumer(consumerName) is not null)
        {
            return null;
        }
        var consumer = new StreamConsumer(consumerName.ToArray(), nowMs);
        AddConsumer(consumer);
        return consumer;
    }

    /// <summary>Adds <paramref name="consumer"/> (a snapshot's, or a new one); false when one has its name.</summary>
    public bool AddConsumer(StreamConsumer consumer)
    {
        if (!_consumersByName.TryAdd(consumer.Name, consumer))
        {
            return false;
        }
        _consumers.Add(consumer.Name, consumer);
        return true;
    }

    /// <summary>Removes a consumer and its pending entries from the group; returns how many entries it had pending.</summary>
    public long DeleteConsumer(StreamConsumer consumer)
    {
        long pending = consumer.Pending.Count;
        foreach (var entry in consumer.Pending)
        {
            _pending.Remove(entry);
        }
        _consumers.Remove(consumer.Name);
        _consumersByName.Remove(consumer.Name);
        return pending;
    }

    /// <summary>
    /// Records the delivery of <paramref name="id"/> to <paramref name="consumer"/> by XREADGROUP: a new pending entry,
    /// or one owned by another consumer (after SETID moved the group back) handed over with its count reset to one.
    /// </summary>
    public StreamPendingEntry Deliver(StreamId id, StreamConsumer consumer, long nowMs)
    {
        var entry = new StreamPendingEntry(id, consumer, nowMs, 1);
        if (_pending.Add(entry))
        {
            consumer.Add(entry);
            return entry;
        }
        var existing = FindPending(id)!;
        existing.Consumer.Remove(existing);
        existing.Consumer = consumer;
        existing.DeliveryTimeMs = nowMs;
        existing.DeliveryCount = 1;
        consumer.Add(existing);
        return existing;
    }

    /// <summary>Adds a pending entry as read from a snapshot (its consumer added it to its own list already or will).</summary>
    public bool AddPending(StreamPendingEntry entry) => _pending.Add(entry);

    /// <summary>Gives a pending entry to <paramref name="consumer"/> (XCLAIM, XAUTOCLAIM).</summary>
    public void Assign(StreamPendingEntry entry, StreamConsumer consumer)
    {
        if (entry.Consumer != consumer)
        {
            entry.Consumer.Remove(entry);
            entry.Consumer = consumer;
            consumer.Add(entry);
        }
    }

    /// <summary>Removes a pending entry from the group and its consumer (XACK, or an entry found deleted).</summary>
    public void RemovePending(StreamPendingEntry entry)
    {
        _pending.Remove(entry);
        entry.Consumer.Remove(entry);
    }

    /// <summary>A deep copy (COPY, snapshots): consumers and pending entries with their times and counts.</summary>
    public StreamConsumerGroup Clone()
    {
        var copy = new StreamConsumerGroup(Name, LastDeliveredId, EntriesRead);
        foreach (var consumer in Consumers.Values)
        {
            var copied = new StreamConsumer(consumer.Name, consumer.SeenTimeMs);
            copy.AddConsumer(copied);
            foreach (var entry in consumer.Pending)
            {
                var clone = new StreamPendingEntry(entry.Id, copied, entry.DeliveryTimeMs, entry.DeliveryCount);
                copy._pending.Add(clone);
                copied.Add(clone);
            }
        }
        return copy;
    }

    /// <summary>Byte-wise order of names, shorter first on a common prefix: the order of Redis's radix trees.</summary>
    public sealed class NameOrder : IComparer<byte[]>
    {
        /// <summary>The one instance.</summary>
        public static readonly NameOrder Instance = new();

        /// <inheritdoc/>
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}

/// <summary>A consumer of a group (Redis's streamConsumer): its name, when it was last seen, and its own pending entries.</summary>
public sealed class StreamConsumer(byte[] name, long seenTimeMs)
{
    private readonly PendingEntries _pending = new();

    /// <summary>The consumer's name.</summary>
    public byte[] Name { get; } = name;

    /// <summary>Unix ms of its last XREADGROUP, XCLAIM or XAUTOCLAIM (idle time is measured from it).</summary>
    public long SeenTimeMs { get; set; } = seenTimeMs;

    /// <summary>The entries delivered to it and not acknowledged, ordered by ID.</summary>
    public PendingEntries Pending => _pending;

    /// <summary>Its pending entries with IDs from <paramref name="start"/> to <paramref name="end"/> (inclusive), in order.</summary>
    public IEnumerable<StreamPendingEntry> PendingBetween(StreamId start, StreamId end) => _pending.Between(start, end);

    /// <summary>Its pending entry <paramref name="id"/>, or null.</summary>
    public StreamPendingEntry? FindPending(StreamId id) => _pending.Find(id);

    internal void Add(StreamPendingEntry entry) => _pending.Add(entry);

    internal void Remove(StreamPendingEntry entry) => _pending.Remove(entry);
}

/// <summary>An entry delivered and not acknowledged (Redis's streamNACK): its owner, last delivery time and delivery count.</summary>
public sealed class StreamPendingEntry(StreamId id, StreamConsumer consumer, long deliveryTimeMs, long deliveryCount)
{
    /// <summary>The entry's ID.</summary>
    public StreamId Id { get; } = id;

    /// <summary>The consumer it was last delivered to.</summary>
    public StreamConsumer Consumer { get; set; } = consumer;

    /// <summary>Unix ms of its last delivery.</summary>
    public long DeliveryTimeMs { get; set; } = deliveryTimeMs;

    /// <summary>How many times it was delivered.</summary>
    public long DeliveryCount { get; set; } = deliveryCount;
}
