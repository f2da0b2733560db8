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
/// sorted arrays ("listpack" for OBJECT ENCODING, limits as Redis's zset-max-listpack-* defaults); larger
/// ones as a skip list with span lengths (O(log N) rank and range) whose nodes are also chained in a
/// member hash table (O(1) score lookup, and ZSCAN cursors that stay valid while the set changes).
/// Every operation is rank based, so commands read the same way in both forms.
/// </summary>
public sealed class SortedSetValue : ICollectionValue
{
    /// <summary>Most members the compact form holds (zset-max-listpack-entries).</summary>
    public const int MaxCompactEntries = 128;

    /// <summary>Longest member the compact form holds (zset-max-listpack-value).</summary>
    public const int MaxCompactMemberBytes = 64;

    private const int MaxLevel = 32;
    private const int CompactEntryOverhead = 12;
    private const int NodeOverhead = 96;
    private const int LevelBytes = 16;

    [ThreadStatic]
    private static Node?[]? t_update;

    [ThreadStatic]
    private static long[]? t_rank;

    // Compact form: members and scores sorted together; null once converted.
    private byte[][]? _members;
    private double[]? _scores;
    private int _compactCount;

    // Skip list form.
    private Node? _header;
    private Node? _tail;
    private int _level;
    private long _length;
    private Node?[] _buckets = [];

    private long _elementBytes;

    /// <summary>An empty set in the compact form.</summary>
    public SortedSetValue()
    {
        _members = new byte[4][];
        _scores = new double[4];
    }

    /// <summary>An empty set already in the skip list form, as Redis builds the results of ZUNION and friends.</summary>
    public static SortedSetValue CreateSkipList()
    {
        var set = new SortedSetValue();
        set.ConvertToSkipList();
        return set;
    }

    /// <summary>
    /// Returns a skip list that fits the compact limits to the compact form (as Redis does for stored
    /// ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE results); its scores are then read back as the compact form stores them.
    /// </summary>
    public void CompactIfSmall()
    {
        if (IsCompact || _length > MaxCompactEntries)
        {
            return;
        }
        var members = new byte[Math.Max(4, (int)_length)][];
        var scores = new double[members.Length];
        int count = 0;
        for (var node = _header!.Levels[0].Forward; node is not null; node = node.Levels[0].Forward)
        {
            if (node.Member.Length > MaxCompactMemberBytes)
            {
                return;
            }
            members[count] = node.Member;
            scores[count++] = node.Score + 0.0;
        }
        _header = null;
        _tail = null;
        _level = 0;
        _length = 0;
        _buckets = [];
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
    public long Count => IsCompact ? _compactCount : _length;

    /// <inheritdoc/>
    public long EstimatedBytes => 64 + _elementBytes + (IsCompact ? 0 : (_buckets.Length * 8L) + (MaxLevel * LevelBytes) + NodeOverhead);

    /// <summary>The score of <paramref name="member"/>, if present.</summary>
    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            score = i >= 0 ? _scores![i] : 0;
            return i >= 0;
        }
        var node = FindNode(member, KeyHash.Of(member));
        score = node?.Score ?? 0;
        return node is not null;
    }

    /// <summary>Adds <paramref name="member"/> (known to be absent), taking ownership of its bytes.</summary>
    public void Add(byte[] member, double score)
    {
        if (IsCompact && (_compactCount >= MaxCompactEntries || member.Length > MaxCompactMemberBytes))
        {
            ConvertToSkipList();
        }
        if (IsCompact)
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
            return;
        }
        var node = new Node(member, score, RandomLevel());
        InsertNode(node);
        ulong hash = KeyHash.Of(member);
        node.Hash = hash;
        ref var bucket = ref _buckets[hash & (ulong)(_buckets.Length - 1)];
        node.NextInBucket = bucket;
        bucket = node;
        _elementBytes += NodeBytes(node);
        if (_length > _buckets.Length)
        {
            ResizeBuckets(_buckets.Length * 2);
        }
    }

    /// <summary>Changes the score of <paramref name="member"/> (known to be present), keeping the order.</summary>
    public void UpdateScore(ReadOnlySpan<byte> member, double score)
    {
        if (IsCompact)
        {
            int i = CompactIndexOf(member);
            var bytes = _members![i];
            RemoveCompactAt(i);
            Add(bytes, score);
            return;
        }
        var node = FindNode(member, KeyHash.Of(member))!;
        var backward = node.Backward;
        var forward = node.Levels[0].Forward;
        if ((backward is null || backward.Score < score) && (forward is null || forward.Score > score))
        {
            // Still between its neighbours: the position, and so every span, is unchanged.
            node.Score = score;
            return;
        }
        var update = FindUpdatePath(node.Score, node.Member);
        DeleteNode(node, update);
        node.Score = score;
        Array.Clear(node.Levels);
        InsertNode(node);
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
        var node = FindNode(member, KeyHash.Of(member));
        if (node is null)
        {
            return false;
        }
        DeleteNode(node, FindUpdatePath(node.Score, node.Member));
        UnlinkFromBucket(node);
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
        var node = FindNode(member, KeyHash.Of(member));
        if (node is null)
        {
            score = 0;
            return -1;
        }
        score = node.Score;
        // Every element before the node's position precedes it; the node itself is not counted.
        return CountBefore(new PositionBound(node.Score, node.Member));
    }

    /// <summary>The element at 0-based <paramref name="rank"/> (ascending).</summary>
    public (byte[] Member, double Score) GetAt(long rank)
    {
        if (IsCompact)
        {
            return (_members![rank], _scores![rank]);
        }
        var node = NodeAt(rank + 1);
        return (node.Member, node.Score);
    }

    /// <summary>A reader of consecutive elements from 0-based <paramref name="rank"/>, ascending or descending.</summary>
    public RangeReader Read(long rank, bool descending)
    {
        if (IsCompact || rank < 0 || rank >= _length)
        {
            return RangeReader.Create(this, null, rank, descending);
        }
        return RangeReader.Create(this, rank == _length - 1 ? _tail : NodeAt(rank + 1), rank, descending);
    }

    /// <summary>
    /// The number of elements before <paramref name="bound"/>, i.e. the rank of the first element not
    /// before it. O(log N) in both forms.
    /// </summary>
    public long CountBefore<TBound>(TBound bound)
        where TBound : ISortedSetBound
    {
        if (IsCompact)
        {
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
        long rank = 0;
        var x = _header!;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && bound.IsBefore(next.Score, next.Member))
            {
                rank += x.Levels[i].Span;
                x = next;
            }
        }
        return rank;
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
        var update = t_update ??= new Node?[MaxLevel];
        long traversed = 0;
        var x = _header!;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && traversed + x.Levels[i].Span <= start)
            {
                traversed += x.Levels[i].Span;
                x = next;
            }
            update[i] = x;
        }
        var node = x.Levels[0].Forward;
        for (long rank = start; node is not null && rank < end; rank++)
        {
            var next = node.Levels[0].Forward;
            DeleteNode(node, update);
            UnlinkFromBucket(node);
            node = next;
        }
    }

    /// <summary>A uniformly random 0-based rank (the set must not be empty).</summary>
    public long RandomRank() => Random.Shared.NextInt64(Count);

    /// <summary>
    /// One step of ZSCAN from <paramref name="cursor"/>: adds members with scores to <paramref name="into"/>
    /// until about <paramref name="count"/> reply items (two per member, as Redis counts) or
    /// <paramref name="count"/> × 10 buckets were visited; returns the next cursor, 0 at the end. The
    /// compact form answers whole in one step. A member present throughout an iteration is returned at
    /// least once, whatever changes happen between steps (Redis's reverse-binary cursor over the buckets).
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
        long visits = count * 10;
        ulong mask = (ulong)_buckets.Length - 1;
        do
        {
            for (var node = _buckets[cursor & mask]; node is not null; node = node.NextInBucket)
            {
                into.Add((node.Member, node.Score));
            }
            cursor |= ~mask;
            cursor = ReverseBits(ReverseBits(cursor) + 1);
        }
        while (cursor != 0 && visits-- > 0 && into.Count * 2L < count);
        return cursor;
    }

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new SortedSetValue();
        if (!IsCompact)
        {
            copy.ConvertToSkipList();
        }
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
        private Node? _node;
        private long _index;

        internal static RangeReader Create(SortedSetValue set, object? node, long index, bool descending) => new(set, (Node?)node, index, descending);

        private RangeReader(SortedSetValue set, Node? node, long index, bool descending)
        {
            _set = set;
            _node = node;
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
            if (_node is null)
            {
                member = [];
                score = 0;
                return false;
            }
            member = _node.Member;
            score = _node.Score;
            _node = _descending ? _node.Backward : _node.Levels[0].Forward;
            return true;
        }
    }

    /// <summary>Compares two elements in set order.</summary>
    public static int Compare(double scoreA, ReadOnlySpan<byte> memberA, double scoreB, ReadOnlySpan<byte> memberB) =>
        scoreA < scoreB ? -1 : scoreA > scoreB ? 1 : memberA.SequenceCompareTo(memberB);

    /// <summary>The position just before an element: everything ordered before it.</summary>
    private readonly struct PositionBound(double score, byte[] member) : ISortedSetBound
    {
        public bool IsBefore(double s, ReadOnlySpan<byte> m) => Compare(s, m, score, member) < 0;
    }

    private sealed class Node(byte[] member, double score, int levels)
    {
        public readonly byte[] Member = member;
        public readonly Level[] Levels = new Level[levels];
        public double Score = score;
        public Node? Backward;
        public Node? NextInBucket;
        public ulong Hash;
    }

    private struct Level
    {
        public Node? Forward;
        public long Span;
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

    private void ConvertToSkipList()
    {
        var members = _members!;
        var scores = _scores!;
        int count = _compactCount;
        _members = null;
        _scores = null;
        _compactCount = 0;
        _elementBytes = 0;
        _header = new Node([], 0, MaxLevel);
        _level = 1;
        _buckets = new Node?[BitOperations.RoundUpToPowerOf2((uint)Math.Max(count, 16))];
        for (int i = 0; i < count; i++)
        {
            Add(members[i], scores[i]);
        }
    }

    private static long NodeBytes(Node node) => node.Member.Length + NodeOverhead + (node.Levels.Length * LevelBytes);

    private static int RandomLevel()
    {
        // Redis's ZSKIPLIST_P = 1/4: each further level with probability 0.25.
        int level = 1;
        while (level < MaxLevel && (Random.Shared.Next() & 3) == 0)
        {
            level++;
        }
        return level;
    }

    private Node? FindNode(ReadOnlySpan<byte> member, ulong hash)
    {
        for (var node = _buckets[hash & (ulong)(_buckets.Length - 1)]; node is not null; node = node.NextInBucket)
        {
            if (node.Hash == hash && member.SequenceEqual(node.Member))
            {
                return node;
            }
        }
        return null;
    }

    private void UnlinkFromBucket(Node node)
    {
        ref var link = ref _buckets[node.Hash & (ulong)(_buckets.Length - 1)];
        while (link != node)
        {
            link = ref link!.NextInBucket;
        }
        link = node.NextInBucket;
        node.NextInBucket = null;
        _elementBytes -= NodeBytes(node);
        if (_buckets.Length > 16 && _length < _buckets.Length / 8)
        {
            ResizeBuckets(_buckets.Length / 4);
        }
    }

    private void ResizeBuckets(int size)
    {
        var buckets = new Node?[size];
        ulong mask = (ulong)size - 1;
        foreach (var head in _buckets)
        {
            var node = head;
            while (node is not null)
            {
                var next = node.NextInBucket;
                ref var bucket = ref buckets[node.Hash & mask];
                node.NextInBucket = bucket;
                bucket = node;
                node = next;
            }
        }
        _buckets = buckets;
    }

    private static ulong ReverseBits(ulong v)
    {
        v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
        v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((v & 0x0F0F0F0F0F0F0F0FUL) << 4);
        v = ((v >> 8) & 0x00FF00FF00FF00FFUL) | ((v & 0x00FF00FF00FF00FFUL) << 8);
        v = ((v >> 16) & 0x0000FFFF0000FFFFUL) | ((v & 0x0000FFFF0000FFFFUL) << 16);
        return (v >> 32) | (v << 32);
    }

    /// <summary>The node at 1-based <paramref name="rank"/>.</summary>
    private Node NodeAt(long rank)
    {
        long traversed = 0;
        var x = _header!;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && traversed + x.Levels[i].Span <= rank)
            {
                traversed += x.Levels[i].Span;
                x = next;
            }
            if (traversed == rank)
            {
                return x;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(rank));
    }

    /// <summary>The last node before (score, member) on every level, as deletion needs.</summary>
    private Node?[] FindUpdatePath(double score, byte[] member)
    {
        var update = t_update ??= new Node?[MaxLevel];
        var x = _header!;
        for (int i = _level - 1; i >= 0; i--)
        {
            while (x.Levels[i].Forward is { } next && Compare(next.Score, next.Member, score, member) < 0)
            {
                x = next;
            }
            update[i] = x;
        }
        return update;
    }

    private void InsertNode(Node node)
    {
        var update = t_update ??= new Node?[MaxLevel];
        var rank = t_rank ??= new long[MaxLevel];
        var x = _header!;
        for (int i = _level - 1; i >= 0; i--)
        {
            rank[i] = i == _level - 1 ? 0 : rank[i + 1];
            while (x.Levels[i].Forward is { } next && Compare(next.Score, next.Member, node.Score, node.Member) < 0)
            {
                rank[i] += x.Levels[i].Span;
                x = next;
            }
            update[i] = x;
        }
        int level = node.Levels.Length;
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                rank[i] = 0;
                update[i] = _header;
                _header!.Levels[i].Span = _length;
            }
            _level = level;
        }
        for (int i = 0; i < level; i++)
        {
            ref var before = ref update[i]!.Levels[i];
            node.Levels[i].Forward = before.Forward;
            before.Forward = node;
            node.Levels[i].Span = before.Span - (rank[0] - rank[i]);
            before.Span = rank[0] - rank[i] + 1;
        }
        for (int i = level; i < _level; i++)
        {
            update[i]!.Levels[i].Span++;
        }
        node.Backward = update[0] == _header ? null : update[0];
        if (node.Levels[0].Forward is { } following)
        {
            following.Backward = node;
        }
        else
        {
            _tail = node;
        }
        _length++;
    }

    private void DeleteNode(Node node, Node?[] update)
    {
        for (int i = 0; i < _level; i++)
        {
            ref var before = ref update[i]!.Levels[i];
            if (before.Forward == node)
            {
                before.Span += node.Levels[i].Span - 1;
                before.Forward = node.Levels[i].Forward;
            }
            else
            {
                before.Span--;
            }
        }
        if (node.Levels[0].Forward is { } following)
        {
            following.Backward = node.Backward;
        }
        else
        {
            _tail = node.Backward;
        }
        while (_level > 1 && _header!.Levels[_level - 1].Forward is null)
        {
            _level--;
        }
        _length--;
    }
}
