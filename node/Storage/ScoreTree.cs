namespace CacheOperator.Node.Storage;

/// <summary>
/// The order of a large sorted set: a B+ tree of (score, member) elements whose inner nodes count the
/// elements under each child, so rank lookups, rank ranges and bound searches are O(log N) binary
/// searches over contiguous arrays (a few cache misses per level, where a skip list takes one or two per
/// step), and whose leaves are chained both ways for range reads. Members are compared by score, then
/// by bytes; the tree holds each member at most once and never sees NaN scores.
/// </summary>
internal sealed class ScoreTree
{
    /// <summary>Most elements per leaf (a leaf briefly holds one more before it splits).</summary>
    public const int LeafCapacity = 64;

    private const int InnerCapacity = 64;
    private const int MaxDepth = 16;

    [ThreadStatic]
    private static Inner[]? t_pathNodes;

    [ThreadStatic]
    private static int[]? t_pathIndex;

    private Node _root;
    private int _height;
    private long _count;

    /// <summary>An empty tree.</summary>
    public ScoreTree()
    {
        var leaf = new Leaf();
        _root = leaf;
        First = leaf;
        Last = leaf;
    }

    /// <summary>Number of elements.</summary>
    public long Count => _count;

    /// <summary>The leftmost leaf.</summary>
    public Leaf First { get; private set; }

    /// <summary>The rightmost leaf.</summary>
    public Leaf Last { get; private set; }

    /// <summary>Compares two elements in set order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Compare(double scoreA, ReadOnlySpan<byte> memberA, double scoreB, ReadOnlySpan<byte> memberB) =>
        scoreA < scoreB ? -1 : scoreA > scoreB ? 1 : memberA.SequenceCompareTo(memberB);

    /// <summary>Adds an element known to be absent, keeping <paramref name="member"/>.</summary>
    public void Insert(double score, byte[] member)
    {
        var pathNodes = t_pathNodes ??= new Inner[MaxDepth];
        var pathIndex = t_pathIndex ??= new int[MaxDepth];
        var node = _root;
        for (int depth = 0; depth < _height; depth++)
        {
            var inner = Unsafe.As<Inner>(node);
            int child = inner.ChildFor(score, member);
            inner.Counts[child]++;
            pathNodes[depth] = inner;
            pathIndex[depth] = child;
            node = inner.Children[child];
        }
        var leaf = Unsafe.As<Leaf>(node);
        int at = leaf.LowerBound(score, member);
        leaf.InsertAt(at, score, member);
        _count++;
        if (leaf.N > LeafCapacity)
        {
            // Appending after the last element (a set filled in order) leaves the full leaf full instead of half.
            SplitLeaf(leaf, at == LeafCapacity && leaf.Next is null ? LeafCapacity : leaf.N / 2, pathNodes, pathIndex);
        }
    }

    /// <summary>Removes the element (<paramref name="score"/>, <paramref name="member"/>); false when absent.</summary>
    public bool Remove(double score, ReadOnlySpan<byte> member)
    {
        var pathNodes = t_pathNodes ??= new Inner[MaxDepth];
        var pathIndex = t_pathIndex ??= new int[MaxDepth];
        var leaf = Descend(score, member, pathNodes, pathIndex);
        int at = leaf.LowerBound(score, member);
        if (at == leaf.N || Compare(leaf.Scores[at], leaf.Members[at], score, member) != 0)
        {
            return false;
        }
        for (int depth = 0; depth < _height; depth++)
        {
            pathNodes[depth].Counts[pathIndex[depth]]--;
        }
        leaf.RemoveRange(at, 1);
        _count--;
        Rebalance(leaf, pathNodes, pathIndex);
        return true;
    }

    /// <summary>
    /// Moves <paramref name="member"/> from <paramref name="oldScore"/> to <paramref name="newScore"/>. When
    /// its new place is in the same leaf (always so when it stays between its neighbours) the leaf is
    /// rearranged and nothing else changes; otherwise it is removed and inserted again.
    /// </summary>
    public void UpdateScore(double oldScore, byte[] member, double newScore)
    {
        var pathNodes = t_pathNodes ??= new Inner[MaxDepth];
        var pathIndex = t_pathIndex ??= new int[MaxDepth];
        var leaf = Descend(oldScore, member, pathNodes, pathIndex);
        int at = leaf.LowerBound(oldScore, member);
        int last = leaf.N - 1;
        // The leaf's first and last elements bound what routes to it; inside them the element may move freely.
        bool inside = _height == 0 || (at > 0 && at < last
            && Compare(leaf.Scores[0], leaf.Members[0], newScore, member) < 0
            && Compare(newScore, member, leaf.Scores[last], leaf.Members[last]) < 0);
        if (inside)
        {
            leaf.RemoveRange(at, 1);
            leaf.InsertAt(leaf.LowerBound(newScore, member), newScore, member);
            return;
        }
        for (int depth = 0; depth < _height; depth++)
        {
            pathNodes[depth].Counts[pathIndex[depth]]--;
        }
        leaf.RemoveRange(at, 1);
        _count--;
        Rebalance(leaf, pathNodes, pathIndex);
        Insert(newScore, member);
    }

    /// <summary>The number of elements before <paramref name="bound"/>.</summary>
    public long CountBefore<TBound>(TBound bound)
        where TBound : ISortedSetBound
    {
        long rank = 0;
        var node = _root;
        for (int depth = 0; depth < _height; depth++)
        {
            var inner = Unsafe.As<Inner>(node);
            int child = inner.ChildBefore(bound);
            ReadOnlySpan<int> counts = inner.Counts;
            for (int i = 0; i < child; i++)
            {
                rank += counts[i];
            }
            node = inner.Children[child];
        }
        var leaf = Unsafe.As<Leaf>(node);
        int low = 0;
        int high = leaf.N;
        while (low < high)
        {
            int mid = (low + high) >>> 1;
            if (bound.IsBefore(leaf.Scores[mid], leaf.Members[mid]))
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }
        return rank + low;
    }

    /// <summary>The leaf and index of the element at 0-based <paramref name="rank"/> (0 ≤ rank &lt; Count).</summary>
    public (Leaf Leaf, int Index) Locate(long rank) => Locate(rank, t_pathNodes ??= new Inner[MaxDepth], t_pathIndex ??= new int[MaxDepth]);

    /// <summary>Removes the elements of 0-based ranks [<paramref name="start"/>, <paramref name="end"/>), within range.</summary>
    public void RemoveRange(long start, long end)
    {
        var pathNodes = t_pathNodes ??= new Inner[MaxDepth];
        var pathIndex = t_pathIndex ??= new int[MaxDepth];
        long left = end - start;
        while (left > 0)
        {
            var (leaf, at) = Locate(start, pathNodes, pathIndex);
            int removed = (int)Math.Min(left, leaf.N - at);
            for (int depth = 0; depth < _height; depth++)
            {
                pathNodes[depth].Counts[pathIndex[depth]] -= removed;
            }
            leaf.RemoveRange(at, removed);
            _count -= removed;
            left -= removed;
            Rebalance(leaf, pathNodes, pathIndex);
        }
    }

    private Leaf Descend(double score, ReadOnlySpan<byte> member, Inner[] pathNodes, int[] pathIndex)
    {
        var node = _root;
        for (int depth = 0; depth < _height; depth++)
        {
            var inner = Unsafe.As<Inner>(node);
            int child = inner.ChildFor(score, member);
            pathNodes[depth] = inner;
            pathIndex[depth] = child;
            node = inner.Children[child];
        }
        return Unsafe.As<Leaf>(node);
    }

    private (Leaf Leaf, int Index) Locate(long rank, Inner[] pathNodes, int[] pathIndex)
    {
        var node = _root;
        for (int depth = 0; depth < _height; depth++)
        {
            var inner = Unsafe.As<Inner>(node);
            ReadOnlySpan<int> counts = inner.Counts;
            int child = 0;
            while (rank >= counts[child] && child < inner.N - 1)
            {
                rank -= counts[child];
                child++;
            }
            pathNodes[depth] = inner;
            pathIndex[depth] = child;
            node = inner.Children[child];
        }
        return (Unsafe.As<Leaf>(node), (int)rank);
    }

    /// <summary>Moves the elements of an overfull leaf from <paramref name="keep"/> on into a new leaf after it.</summary>
    private void SplitLeaf(Leaf leaf, int keep, Inner[] pathNodes, int[] pathIndex)
    {
        var right = new Leaf();
        int moved = leaf.N - keep;
        ((Span<double>)leaf.Scores).Slice(keep, moved).CopyTo(right.Scores);
        ((Span<byte[]>)leaf.Members).Slice(keep, moved).CopyTo(right.Members);
        ((Span<byte[]>)leaf.Members).Slice(keep, moved).Clear();
        right.N = moved;
        leaf.N = keep;
        right.Next = leaf.Next;
        right.Prev = leaf;
        if (leaf.Next is { } next)
        {
            next.Prev = right;
        }
        else
        {
            Last = right;
        }
        leaf.Next = right;
        AddChild(_height - 1, right, moved, right.Scores[0], right.Members[0], pathNodes, pathIndex);
    }

    /// <summary>
    /// Puts <paramref name="right"/> (holding <paramref name="rightCount"/> elements, all at or after the
    /// separator) just after the child on the path at <paramref name="depth"/>, splitting upwards as needed.
    /// </summary>
    private void AddChild(int depth, Node right, int rightCount, double separatorScore, byte[] separatorMember, Inner[] pathNodes, int[] pathIndex)
    {
        if (depth < 0)
        {
            // The root split: a new root above the two halves.
            var root = new Inner();
            root.Children[0] = _root;
            root.Counts[0] = (int)(_count - rightCount);
            root.Children[1] = right;
            root.Counts[1] = rightCount;
            root.SeparatorScores[1] = separatorScore;
            root.SeparatorMembers[1] = separatorMember;
            root.N = 2;
            _root = root;
            _height++;
            return;
        }
        var parent = pathNodes[depth];
        int at = pathIndex[depth] + 1;
        parent.Counts[at - 1] -= rightCount;
        parent.InsertChild(at, right, rightCount, separatorScore, separatorMember);
        if (parent.N <= InnerCapacity)
        {
            return;
        }
        // Split the parent: the separator of its middle child moves up.
        int keep = parent.N / 2;
        var sibling = new Inner();
        int moved = parent.N - keep;
        ((Span<Node>)parent.Children).Slice(keep, moved).CopyTo(sibling.Children);
        ((Span<int>)parent.Counts).Slice(keep, moved).CopyTo(sibling.Counts);
        ((Span<double>)parent.SeparatorScores).Slice(keep, moved).CopyTo(sibling.SeparatorScores);
        ((Span<byte[]?>)parent.SeparatorMembers).Slice(keep, moved).CopyTo(sibling.SeparatorMembers);
        double upScore = sibling.SeparatorScores[0];
        var upMember = sibling.SeparatorMembers[0]!;
        sibling.SeparatorMembers[0] = null;
        ((Span<Node>)parent.Children).Slice(keep, moved).Clear();
        ((Span<byte[]?>)parent.SeparatorMembers).Slice(keep, moved).Clear();
        sibling.N = moved;
        parent.N = keep;
        int siblingCount = 0;
        for (int i = 0; i < moved; i++)
        {
            siblingCount += sibling.Counts[i];
        }
        AddChild(depth - 1, sibling, siblingCount, upScore, upMember, pathNodes, pathIndex);
    }

    /// <summary>After <paramref name="leaf"/> lost elements: merges small nodes into a sibling and drops empty levels.</summary>
    private void Rebalance(Leaf leaf, Inner[] pathNodes, int[] pathIndex)
    {
        Node node = leaf;
        for (int depth = _height - 1; depth >= 0; depth--)
        {
            var parent = pathNodes[depth];
            int at = pathIndex[depth];
            int capacity = node is Leaf ? LeafCapacity : InnerCapacity;
            if (node.N >= capacity / 4)
            {
                break;
            }
            // Merge with a sibling under the same parent when the two fit comfortably in one node.
            int limit = node.N == 0 ? capacity : capacity * 3 / 4;
            if (at > 0 && parent.Children[at - 1].N + node.N <= limit)
            {
                Merge(parent, at - 1);
            }
            else if (at + 1 < parent.N && parent.Children[at + 1].N + node.N <= limit)
            {
                Merge(parent, at);
            }
            else
            {
                break;
            }
            node = parent;
        }
        while (_height > 0 && _root.N == 1)
        {
            _root = Unsafe.As<Inner>(_root).Children[0];
            _height--;
        }
    }

    /// <summary>Moves child <paramref name="at"/> + 1 of <paramref name="parent"/> into child <paramref name="at"/>.</summary>
    private void Merge(Inner parent, int at)
    {
        var left = parent.Children[at];
        var right = parent.Children[at + 1];
        if (left is Leaf leftLeaf)
        {
            var rightLeaf = Unsafe.As<Leaf>(right);
            ((Span<double>)rightLeaf.Scores)[..rightLeaf.N].CopyTo(((Span<double>)leftLeaf.Scores)[leftLeaf.N..]);
            ((Span<byte[]>)rightLeaf.Members)[..rightLeaf.N].CopyTo(((Span<byte[]>)leftLeaf.Members)[leftLeaf.N..]);
            leftLeaf.N += rightLeaf.N;
            leftLeaf.Next = rightLeaf.Next;
            if (rightLeaf.Next is { } next)
            {
                next.Prev = leftLeaf;
            }
            else
            {
                Last = leftLeaf;
            }
        }
        else
        {
            var leftInner = Unsafe.As<Inner>(left);
            var rightInner = Unsafe.As<Inner>(right);
            int n = leftInner.N;
            int count = rightInner.N;
            ((Span<Node>)rightInner.Children)[..count].CopyTo(((Span<Node>)leftInner.Children)[n..]);
            ((Span<int>)rightInner.Counts)[..count].CopyTo(((Span<int>)leftInner.Counts)[n..]);
            ((Span<double>)rightInner.SeparatorScores)[1..count].CopyTo(((Span<double>)leftInner.SeparatorScores)[(n + 1)..]);
            ((Span<byte[]?>)rightInner.SeparatorMembers)[1..count].CopyTo(((Span<byte[]?>)leftInner.SeparatorMembers)[(n + 1)..]);
            // The separator between the two comes down from the parent.
            leftInner.SeparatorScores[n] = parent.SeparatorScores[at + 1];
            leftInner.SeparatorMembers[n] = parent.SeparatorMembers[at + 1];
            leftInner.N += rightInner.N;
        }
        parent.Counts[at] += parent.Counts[at + 1];
        parent.RemoveChild(at + 1);
    }

    /// <summary>A leaf or an inner node; <see cref="N"/> is its number of elements or children.</summary>
    internal abstract class Node
    {
        public int N;
    }

    /// <summary>Up to <see cref="LeafCapacity"/> elements in order, chained to the leaves beside it.</summary>
    internal sealed class Leaf : Node
    {
        // Inline, so a search reads the scores from the leaf object itself, with no hop to an array.
        public LeafScores Scores;
        public LeafMembers Members;
        public Leaf? Prev;
        public Leaf? Next;

        /// <summary>The index of the first element at or after (<paramref name="score"/>, <paramref name="member"/>).</summary>
        public int LowerBound(double score, ReadOnlySpan<byte> member)
        {
            ReadOnlySpan<double> scores = Scores;
            int low = 0;
            int high = N;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                double s = scores[mid];
                if (s < score || (s == score && Members[mid].AsSpan().SequenceCompareTo(member) < 0))
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

        public void InsertAt(int at, double score, byte[] member)
        {
            int after = N - at;
            if (after > 0)
            {
                ((Span<double>)Scores).Slice(at, after).CopyTo(((Span<double>)Scores)[(at + 1)..]);
                ((Span<byte[]>)Members).Slice(at, after).CopyTo(((Span<byte[]>)Members)[(at + 1)..]);
            }
            Scores[at] = score;
            Members[at] = member;
            N++;
        }

        public void RemoveRange(int at, int count)
        {
            int after = N - at - count;
            if (after > 0)
            {
                ((Span<double>)Scores).Slice(at + count, after).CopyTo(((Span<double>)Scores)[at..]);
                ((Span<byte[]>)Members).Slice(at + count, after).CopyTo(((Span<byte[]>)Members)[at..]);
            }
            N -= count;
            ((Span<byte[]>)Members).Slice(N, count).Clear();
        }
    }

    /// <summary>
    /// Up to <see cref="InnerCapacity"/> children with the number of elements under each. Separator i
    /// (i ≥ 1) is at or before every element under child i and after every element under child i - 1.
    /// </summary>
    internal sealed class Inner : Node
    {
        public InnerChildren Children;
        public InnerCounts Counts;
        public InnerScores SeparatorScores;
        public InnerMembers SeparatorMembers;

        /// <summary>The child an element belongs under: the last whose separator is at or before it.</summary>
        public int ChildFor(double score, ReadOnlySpan<byte> member)
        {
            ReadOnlySpan<double> scores = SeparatorScores;
            int low = 1;
            int high = N;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                double s = scores[mid];
                if (s < score || (s == score && SeparatorMembers[mid].AsSpan().SequenceCompareTo(member) <= 0))
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }
            return low - 1;
        }

        /// <summary>The child holding the position of <paramref name="bound"/>: the last whose separator lies before it.</summary>
        public int ChildBefore<TBound>(TBound bound)
            where TBound : ISortedSetBound
        {
            int low = 1;
            int high = N;
            while (low < high)
            {
                int mid = (low + high) >>> 1;
                if (bound.IsBefore(SeparatorScores[mid], SeparatorMembers[mid]))
                {
                    low = mid + 1;
                }
                else
                {
                    high = mid;
                }
            }
            return low - 1;
        }

        public void InsertChild(int at, Node child, int count, double separatorScore, byte[] separatorMember)
        {
            int after = N - at;
            if (after > 0)
            {
                ((Span<Node>)Children).Slice(at, after).CopyTo(((Span<Node>)Children)[(at + 1)..]);
                ((Span<int>)Counts).Slice(at, after).CopyTo(((Span<int>)Counts)[(at + 1)..]);
                ((Span<double>)SeparatorScores).Slice(at, after).CopyTo(((Span<double>)SeparatorScores)[(at + 1)..]);
                ((Span<byte[]?>)SeparatorMembers).Slice(at, after).CopyTo(((Span<byte[]?>)SeparatorMembers)[(at + 1)..]);
            }
            Children[at] = child;
            Counts[at] = count;
            SeparatorScores[at] = separatorScore;
            SeparatorMembers[at] = separatorMember;
            N++;
        }

        public void RemoveChild(int at)
        {
            int after = N - at - 1;
            ((Span<Node>)Children).Slice(at + 1, after).CopyTo(((Span<Node>)Children)[at..]);
            ((Span<int>)Counts).Slice(at + 1, after).CopyTo(((Span<int>)Counts)[at..]);
            // Removing child 0 leaves child 1 first, whose separator is no longer needed.
            int separator = Math.Max(at, 1);
            int shifted = N - separator - 1;
            ((Span<double>)SeparatorScores).Slice(separator + 1, shifted).CopyTo(((Span<double>)SeparatorScores)[separator..]);
            ((Span<byte[]?>)SeparatorMembers).Slice(separator + 1, shifted).CopyTo(((Span<byte[]?>)SeparatorMembers)[separator..]);
            N--;
            Children[N] = null!;
            SeparatorMembers[N] = null;
            if (N > 0)
            {
                SeparatorMembers[0] = null;
            }
        }
    }

    /// <summary>A leaf's scores, inline.</summary>
    [InlineArray(LeafCapacity + 1)]
    internal struct LeafScores
    {
        private double _element;
    }

    /// <summary>A leaf's members, inline.</summary>
    [InlineArray(LeafCapacity + 1)]
    internal struct LeafMembers
    {
        private byte[] _element;
    }

    /// <summary>An inner node's children, inline.</summary>
    [InlineArray(InnerCapacity + 1)]
    internal struct InnerChildren
    {
        private Node _element;
    }

    /// <summary>The element counts under an inner node's children, inline.</summary>
    [InlineArray(InnerCapacity + 1)]
    internal struct InnerCounts
    {
        private int _element;
    }

    /// <summary>An inner node's separator scores, inline.</summary>
    [InlineArray(InnerCapacity + 1)]
    internal struct InnerScores
    {
        private double _element;
    }

    /// <summary>An inner node's separator members, inline.</summary>
    [InlineArray(InnerCapacity + 1)]
    internal struct InnerMembers
    {
        private byte[]? _element;
    }
}
