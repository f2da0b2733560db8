using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A position in a sorted set's (score, member) order, given as a test that holds for every element
/// before it and for none after it (score and lex range bounds are such tests).
/// </summary>
public interface ISortedSetBound
{
    /// <summary>True when the element (<paramref name="score"/>, <paramref name="member"/>) lies before the position.</summary>
    bool IsBefore(double score, ReadOnlySpan<byte> member);
}

/// <summary>
/// A sorted set (zset): members ordered by (score, member bytes). Small sets are kept compact as two
/// sorted arrays ("listpack" for OBJECT ENCODING, within the keyspace's zset-max-listpack-entries / -value); larger
/// ones ("skiplist", as Redis names its form) as an <see cref="EntryTable{TValue}"/> from member to score
/// (O(1) score lookup, and ZSCAN cursors that stay valid while the set changes) beside a
/// <see cref="ScoreTree"/> holding the order (O(log N) rank, range and bound searches). Every operation
/// is rank based, so commands read the same way in both forms.
/// </summary>
public sealed class SortedSetValue : ICollectionValue
{
    private const int CompactEntryOverhead = 12;

    // The large form per member: the array header and the member's place in a leaf (about 70% full).
    private const int LargeEntryOverhead = 24 + 24;

    // The large form's fixed structures.
    private const int LargeFixedBytes = 256;

    // Compact form: members and scores sorted together; null once converted.
    private byte[][]? _members;
    private double[]? _scores;
    private int _compactCount;

    // Large form.
    private EntryTable<double>? _table;
    private ScoreTree? _tree;

    // The slot the last score lookup found, so that ZADD's lookup and update probe the table once.
    private int _lastSlot = -1;

    private readonly EncodingLimits _limits;
    private long _elementBytes;

    /// <summary>An empty set in the compact form, kept within <paramref name="limits"/> (the keyspace's).</summary>
    public SortedSetValue(EncodingLimits limits)
    {
        _limits = limits;
        _members = new byte[4][];
        _scores = new double[4];
    }

    /// <summary>An empty set already in the large form, as Redis builds the results of ZUNION and friends.</summary>
    public static SortedSetValue CreateSkipList(EncodingLimits limits)
    {
        var set = new SortedSetValue(limits);
        set.ConvertToLarge();
        return set;
    }

    /// <summary>
    /// The set ZADD creates for a new key, as Redis 7.0 chooses it: large from the start when the limits allow
    /// no compact set or the first member given is too long for one, else compact.
    /// </summary>
    public static SortedSetValue CreateForFirstMember(EncodingLimits limits, int firstMemberLength) =>
        limits.ZsetMaxListpackEntries == 0 || firstMemberLength > limits.ZsetMaxListpackValue ? CreateSkipList(limits) : new SortedSetValue(limits);

    /// <summary>
    /// Returns a large set that fits the compact limits to the compact form (as Redis does for stored
    /// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE results); its scores are then read back as the compact form stores them.
    /// </summary>
    public void CompactIfSmall()
    {
        if (IsCompact || _tree!.Count > _limits.ZsetMaxListpackEntries)
        {
            return;
        }
        var members = new byte[Math.Max(4, (int)_tree.Count)][];
        var scores = new double[members.Length];
        int count = 0;
        var reader = Read(0, descending: false);
        while (reader.Next(out var member, out double score))
        {
            if (member.Length > _limits.ZsetMaxListpackValue)
            {
                return;
            }
            members[count] = member;
            scores[count++] = score + 0.0;
        }
        _table = null;
        _tree = null;
        _lastSlot = -1;
        _members = members;
        _scores = scores;
        _compactCount = count;
        _elementBytes = 0;
        for (int i = 0; i < count; i++)
        {
            _elementBytes += members[i].Length + CompactEntryOverhead;
        }
    }

    /// <inheritdoc/>
    public string TypeName => "zset";

    /// <inheritdoc/>
    public string EncodingName => IsCompact ? "listpack" : "skiplist";

    /// <summary>True while the compact ("listpack") form is used.</summary>
    public bool IsCompact => _members is not null;

    /// <inheritdoc/>
    public long Count => IsCompact ? _compactCount : _tree!.Count;

    /// <inheritdoc/>
    public long EstimatedBytes => 64 + _elementBytes + (IsCompact ? 0 : LargeFixedBytes);

    /// <summary>The score of <paramref name="member"/>, if present.</summary>
    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            score = i >= 0 ? _scores![i] : 0;
            return i >= 0;
        }
        int slot = _table!.Find(member);
        _lastSlot = slot;
        score = slot >= 0 ? _table.ValueAt(slot) : 0;
        return slot >= 0;
    }

    /// <summary>Adds <paramref name="member"/> (known to be absent), taking ownership of its bytes.</summary>
    public void Add(byte[] member, double score)
    {
        // As Redis's zsetAdd: the limits are read on every insert, so a lowered limit converts the set when it next grows.
        if (IsCompact && (_compactCount >= _limits.ZsetMaxListpackEntries || member.Length > _limits.ZsetMaxListpackValue))
        {
            ConvertToLarge();
        }
        if (IsCompact)
        {
            InsertCompact(member, score);
            return;
        }
        _table!.Add(member, score);
        _tree!.Insert(score, member);
        _elementBytes += LargeEntryBytes(member.Length);
    }

    private void InsertCompact(byte[] member, double score)
    {
        // The compact form stores scores as text where -0 prints as 0, so Redis reads it back as +0.
        score += 0.0;
        int at = (int)CountBefore(new PositionBound(score, member));
        if (_compactCount == _members!.Length)
        {
            Array.Resize(ref _members, _compactCount * 2);
            Array.Resize(ref _scores, _compactCount * 2);
        }
        Array.Copy(_members, at, _members, at + 1, _compactCount - at);
        Array.Copy(_scores!, at, _scores!, at + 1, _compactCount - at);
        _members[at] = member;
        _scores![at] = score;
        _compactCount++;
        _elementBytes += member.Length + CompactEntryOverhead;
    }

    /// <summary>Changes the score of <paramref name="member"/> (known to be present), keeping the order.</summary>
    public void UpdateScore(ReadOnlySpan<byte> member, double score)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            var bytes = _members![i];
            RemoveCompactAt(i);
            // A new score is no new member: Redis converts only when a set grows, whatever the limits are now.
            InsertCompact(bytes, score);
            return;
        }
        var table = _table!;
        int slot = _lastSlot;
        if (!table.IsLive(slot) || !member.SequenceEqual(table.KeyAt(slot)))
        {
            slot = table.Find(member);
        }
        ref double stored = ref table.ValueAt(slot);
        _tree!.UpdateScore(stored, table.KeyArrayAt(slot), score);
        stored = score;
    }

    /// <summary>Removes <paramref name="member"/>; true when it was present.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            if (i < 0)
            {
                return false;
            }
            RemoveCompactAt(i);
            return true;
        }
        int slot = _table!.Find(member);
        if (slot < 0)
        {
            return false;
        }
        _tree!.Remove(_table.ValueAt(slot), member);
        RemoveFromTable(slot);
        return true;
    }

    /// <summary>The 0-based rank of <paramref name="member"/> in ascending order and its score, or -1.</summary>
    public long RankOf(ReadOnlySpan<byte> member, out double score)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            score = i >= 0 ? _scores![i] : 0;
            return i;
        }
        int slot = _table!.Find(member);
        if (slot < 0)
        {
            score = 0;
            return -1;
        }
        score = _table.ValueAt(slot);
        // Every element before the member's position precedes it; the member itself is not counted.
        return _tree!.CountBefore(new PositionBound(score, _table.KeyArrayAt(slot)));
    }

    /// <summary>The element at 0-based <paramref name="rank"/> (ascending).</summary>
    public (byte[] Member, double Score) GetAt(long rank)
    {
        if (IsCompact)
        {
            return (_members![rank], _scores![rank]);
        }
        var (leaf, i) = _tree!.Locate(rank);
        return (leaf.Members[i], leaf.Scores[i]);
    }

    /// <summary>A reader of consecutive elements from 0-based <paramref name="rank"/>, ascending or descending.</summary>
    public RangeReader Read(long rank, bool descending)
    {
        if (IsCompact || rank < 0 || rank >= _tree!.Count)
        {
            return new RangeReader(this, null, rank, descending);
        }
        var (leaf, i) = _tree.Locate(rank);
        return new RangeReader(this, leaf, i, descending);
    }

    /// <summary>
    /// The number of elements before <paramref name="bound"/>, i.e. the rank of the first element not
    /// before it. O(log N) in both forms.
    /// </summary>
    public long CountBefore<TBound>(TBound bound)
        where TBound : ISortedSetBound
    {
        if (!IsCompact)
        {
            return _tree!.CountBefore(bound);
        }
        int low = 0;
        int high = _compactCount;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (bound.IsBefore(_scores![mid], _members![mid]))
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return low;
    }

    /// <summary>Removes the elements of 0-based ranks [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public void RemoveRange(long start, long end)
    {
        if (start >= end)
        {
            return;
        }
        if (IsCompact)
        {
            for (long i = start; i < end; i++)
            {
                _elementBytes -= _members![i].Length + CompactEntryOverhead;
            }
            int removed = (int)(end - start);
            Array.Copy(_members!, end, _members!, start, _compactCount - end);
            Array.Copy(_scores!, end, _scores!, start, _compactCount - end);
            Array.Clear(_members!, _compactCount - removed, removed);
            _compactCount -= removed;
            return;
        }
        var reader = Read(start, descending: false);
        for (long i = start; i < end && reader.Next(out var member, out _); i++)
        {
            RemoveFromTable(_table!.Find(member));
        }
        _tree!.RemoveRange(start, end);
    }

    /// <summary>A uniformly random 0-based rank (the set must not be empty).</summary>
    public long RandomRank() => Random.Shared.NextInt64(Count);

    /// <summary>
    /// One step of ZSCAN from <paramref name="cursor"/>: adds members with scores to <paramref name="into"/>
    /// until about <paramref name="count"/> reply items (two per member, as Redis counts) or
    /// <paramref name="count"/> × 10 slots were visited; returns the next cursor, 0 at the end. The
    /// compact form answers whole in one step. The cursor is a slot number and slots never move, so a
    /// member present throughout an iteration is returned exactly once, whatever changes happen between steps.
    /// </summary>
    public ulong Scan(ulong cursor, long count, List<(byte[] Member, double Score)> into)
    {
        if (IsCompact)
        {
            for (int i = 0; i < _compactCount; i++)
            {
                into.Add((_members![i], _scores![i]));
            }
            return 0;
        }
        var table = _table!;
        long limit = table.SlotLimit;
        if (cursor >= (ulong)limit)
        {
            return 0;
        }
        long slot = (long)cursor;
        long maxSteps = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        for (long steps = 0; slot < limit && steps < maxSteps && into.Count * 2L < count; slot++, steps++)
        {
            if (table.IsLive((int)slot))
            {
                into.Add((table.KeyArrayAt((int)slot), table.ValueAt((int)slot)));
            }
        }
        return slot >= limit ? 0 : (ulong)slot;
    }

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        // A copy keeps the encoding whatever the limits say now, as Redis's COPY does.
        var copy = new SortedSetValue(_limits);
        if (IsCompact)
        {
            copy._members = new byte[_members!.Length][];
            copy._scores = (double[])_scores!.Clone();
            for (int i = 0; i < _compactCount; i++)
            {
                copy._members[i] = (byte[])_members[i].Clone();
            }
            copy._compactCount = _compactCount;
            copy._elementBytes = _elementBytes;
            return copy;
        }
        copy.ConvertToLarge((int)Count);
        var reader = Read(0, descending: false);
        while (reader.Next(out var member, out double score))
        {
            copy.Add((byte[])member.Clone(), score);
        }
        return copy;
    }

    /// <summary>Consecutive elements of a set read in rank order; the set must not change while reading.</summary>
    public struct RangeReader
    {
        private readonly SortedSetValue _set;
        private readonly bool _descending;
        private ScoreTree.Leaf? _leaf;
        private long _index;

        internal RangeReader(SortedSetValue set, ScoreTree.Leaf? leaf, long index, bool descending)
        {
            _set = set;
            _leaf = leaf;
            _index = index;
            _descending = descending;
        }

        /// <summary>The next element; false past either end.</summary>
        public bool Next(out byte[] member, out double score)
        {
            if (_set.IsCompact)
            {
                if (_index < 0 || _index >= _set._compactCount)
                {
                    member = [];
                    score = 0;
                    return false;
                }
                member = _set._members![_index];
                score = _set._scores![_index];
                _index += _descending ? -1 : 1;
                return true;
            }
            // Step over leaf ends (and any empty leaf) to the neighbouring leaf.
            while (_leaf is not null && (_index < 0 || _index >= _leaf.N))
            {
                _leaf = _descending ? _leaf.Prev : _leaf.Next;
                _index = _descending ? (_leaf?.N ?? 0) - 1 : 0;
            }
            if (_leaf is null)
            {
                member = [];
                score = 0;
                return false;
            }
            member = _leaf.Members[(int)_index];
            score = _leaf.Scores[(int)_index];
            _index += _descending ? -1 : 1;
            return true;
        }
    }

    /// <summary>Compares two elements in set order.</summary>
    public static int Compare(double scoreA, ReadOnlySpan<byte> memberA, double scoreB, ReadOnlySpan<byte> memberB) =>
        ScoreTree.Compare(scoreA, memberA, scoreB, memberB);

    /// <summary>The position just before an element: everything ordered before it.</summary>
    private readonly struct PositionBound(double score, byte[] member) : ISortedSetBound
    {
        public bool IsBefore(double s, ReadOnlySpan<byte> m) => Compare(s, m, score, member) < 0;
    }

    private static long LargeEntryBytes(int memberLength) => memberLength + LargeEntryOverhead + EntryTable<double>.OverheadPerEntry;

    private void RemoveFromTable(int slot)
    {
        _elementBytes -= LargeEntryBytes(_table!.KeyAt(slot).Length);
        _table.RemoveAt(slot);
    }

    private int CompactIndexOf(ReadOnlySpan<byte> member)
    {
        var members = _members!;
        for (int i = 0; i < _compactCount; i++)
        {
            if (member.SequenceEqual(members[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private void RemoveCompactAt(int i)
    {
        _elementBytes -= _members![i].Length + CompactEntryOverhead;
        Array.Copy(_members, i + 1, _members, i, _compactCount - i - 1);
        Array.Copy(_scores!, i + 1, _scores!, i, _compactCount - i - 1);
        _compactCount--;
        _members[_compactCount] = null!;
    }

    private void ConvertToLarge(int capacity = 0)
    {
        var members = _members!;
        var scores = _scores!;
        int count = _compactCount;
        _members = null;
        _scores = null;
        _compactCount = 0;
        _elementBytes = 0;
        _table = new EntryTable<double>(Math.Max(capacity, count + 1));
        _tree = new ScoreTree();
        for (int i = 0; i < count; i++)
        {
            Add(members[i], scores[i]);
        }
    }
}
