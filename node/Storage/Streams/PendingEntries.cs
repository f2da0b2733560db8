using System.Collections;

namespace CacheOperator.Node.Storage.Streams;

/// <summary>
/// A pending entries list ordered by ID (Redis keeps it in a radix tree): sorted blocks of a few hundred entries, so
/// that finding an ID, adding one (usually past the last) and removing one cost a binary search and a short move, and
/// reading a range from any ID costs the entries read, not the size of the list.
/// </summary>
public sealed class PendingEntries : IReadOnlyCollection<StreamPendingEntry>
{
    /// <summary>Entries per block after a split; a block splits past twice this.</summary>
    private const int BlockSize = 128;

    private readonly List<List<StreamPendingEntry>> _blocks = [];

    /// <inheritdoc/>
    public int Count { get; private set; }

    /// <summary>The entry with the smallest ID, or null.</summary>
    public StreamPendingEntry? Min => Count == 0 ? null : _blocks[0][0];

    /// <summary>The entry with the largest ID, or null.</summary>
    public StreamPendingEntry? Max => Count == 0 ? null : _blocks[^1][^1];

    /// <summary>Adds <paramref name="entry"/>; false (nothing added) when its ID is present.</summary>
    public bool Add(StreamPendingEntry entry)
    {
        if (_blocks.Count == 0)
        {
            _blocks.Add(new List<StreamPendingEntry>(BlockSize) { entry });
            Count++;
            return true;
        }
        var last = _blocks[^1];
        if (entry.Id > last[^1].Id)
        {
            // Deliveries come in ID order: appending is the common case.
            if (last.Count < BlockSize)
            {
                last.Add(entry);
            }
            else
            {
                _blocks.Add(new List<StreamPendingEntry>(BlockSize) { entry });
            }
            Count++;
            return true;
        }
        int b = BlockFor(entry.Id);
        var block = _blocks[b];
        int i = IndexIn(block, entry.Id);
        if (i >= 0)
        {
            return false;
        }
        block.Insert(~i, entry);
        Count++;
        if (block.Count > 2 * BlockSize)
        {
            var tail = block.GetRange(BlockSize, block.Count - BlockSize);
            block.RemoveRange(BlockSize, block.Count - BlockSize);
            _blocks.Insert(b + 1, tail);
        }
        return true;
    }

    /// <summary>The entry with ID <paramref name="id"/>, or null.</summary>
    public StreamPendingEntry? Find(StreamId id)
    {
        if (Count == 0)
        {
            return null;
        }
        var block = _blocks[BlockFor(id)];
        int i = IndexIn(block, id);
        return i >= 0 ? block[i] : null;
    }

    /// <summary>Removes the entry with <paramref name="entry"/>'s ID; false when absent.</summary>
    public bool Remove(StreamPendingEntry entry)
    {
        if (Count == 0)
        {
            return false;
        }
        int b = BlockFor(entry.Id);
        var block = _blocks[b];
        int i = IndexIn(block, entry.Id);
        if (i < 0)
        {
            return false;
        }
        block.RemoveAt(i);
        if (block.Count == 0)
        {
            _blocks.RemoveAt(b);
        }
        Count--;
        return true;
    }

    /// <summary>The entry with the smallest ID at or after <paramref name="id"/>, or null.</summary>
    public StreamPendingEntry? FirstAtOrAfter(StreamId id)
    {
        if (Count == 0)
        {
            return null;
        }
        int b = BlockFor(id);
        var block = _blocks[b];
        int i = IndexIn(block, id);
        i = i >= 0 ? i : ~i;
        if (i < block.Count)
        {
            return block[i];
        }
        return b + 1 < _blocks.Count ? _blocks[b + 1][0] : null;
    }

    /// <summary>The entries with IDs from <paramref name="start"/> to <paramref name="end"/> (inclusive), in order; the list must not change meanwhile.</summary>
    public IEnumerable<StreamPendingEntry> Between(StreamId start, StreamId end)
    {
        if (Count == 0 || start > end)
        {
            yield break;
        }
        int b = BlockFor(start);
        int i = IndexIn(_blocks[b], start);
        i = i >= 0 ? i : ~i;
        for (; b < _blocks.Count; b++, i = 0)
        {
            var block = _blocks[b];
            for (; i < block.Count; i++)
            {
                if (block[i].Id > end)
                {
                    yield break;
                }
                yield return block[i];
            }
        }
    }

    /// <inheritdoc/>
    public IEnumerator<StreamPendingEntry> GetEnumerator()
    {
        foreach (var block in _blocks)
        {
            foreach (var entry in block)
            {
                yield return entry;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The block that holds <paramref name="id"/> if anyone does: the last whose first ID is at most it (the first block otherwise).</summary>
    private int BlockFor(StreamId id)
    {
        int lo = 0, hi = _blocks.Count - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (_blocks[mid][0].Id <= id)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    /// <summary>The index of <paramref name="id"/> in <paramref name="block"/>, or the complement of where it would go.</summary>
    private static int IndexIn(List<StreamPendingEntry> block, StreamId id)
    {
        int lo = 0, hi = block.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int c = block[mid].Id.CompareTo(id);
            if (c == 0)
            {
                return mid;
            }
            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return ~lo;
    }
}
