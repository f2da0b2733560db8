namespace CacheOperator.Node.Storage.Streams;

/// <summary>
/// How far a consumer group is behind its stream (Redis's streamRangeHasTombstones and
/// streamEstimateDistanceFromFirstEverEntry): used by XREADGROUP to keep entries-read, by XINFO for the lag, and by
/// the RDB loader for groups saved before Redis 7.0 kept the count.
/// </summary>
public static class StreamLag
{
    /// <summary>True when an entry between <paramref name="start"/> and <paramref name="end"/> may have been deleted.</summary>
    public static bool RangeHasTombstones(StreamValue stream, StreamId start, StreamId end)
    {
        var maxDeleted = stream.MaxDeletedEntryId;
        if (stream.Length == 0 || maxDeleted == StreamId.Min)
        {
            return false;
        }
        if (stream.FirstId > maxDeleted)
        {
            return false;
        }
        return start <= maxDeleted && maxDeleted <= end;
    }

    /// <summary>The logical number of the entry <paramref name="id"/> counted from the first entry ever added, or -1 when it cannot be told.</summary>
    public static long EstimateDistanceFromFirstEverEntry(StreamValue stream, StreamId id)
    {
        long added = (long)stream.EntriesAdded;
        if (added == 0)
        {
            return 0;
        }
        if (stream.Length == 0 && id <= stream.LastId)
        {
            return added;
        }
        int cmpLast = id.CompareTo(stream.LastId);
        if (cmpLast == 0)
        {
            return added;
        }
        if (cmpLast > 0)
        {
            return StreamConsumerGroup.InvalidEntriesRead;
        }
        var maxDeleted = stream.MaxDeletedEntryId;
        if (maxDeleted == StreamId.Min || maxDeleted < stream.FirstId)
        {
            int cmpFirst = id.CompareTo(stream.FirstId);
            if (cmpFirst < 0)
            {
                return added - stream.Length;
            }
            if (cmpFirst == 0)
            {
                return added - stream.Length + 1;
            }
        }
        return StreamConsumerGroup.InvalidEntriesRead;
    }
}
