
namespace CacheOperator.Node.Storage;

/// <summary>
/// The keys of a <see cref="KeyTable"/> by hash slot, kept only in cluster mode (as Redis 7.0's slot-to-keys lists
/// through dictEntry metadata): a doubly linked list per slot threaded through the table's stable entry indices, in
/// arrays beside the entries so that a standalone table's entries stay 32 bytes, plus a count per slot. Counting a
/// slot costs O(1); listing or emptying it costs its own keys, not the dataset's.
/// </summary>
internal sealed class SlotIndex
{
    private const int SegmentShift = 12;
    private const int SegmentSize = 1 << SegmentShift;
    private const int SegmentMask = SegmentSize - 1;

    private readonly int[] _head = new int[HashSlot.Count];
    private readonly int[] _count = new int[HashSlot.Count];
    private Link[][] _links = [];

    private struct Link
    {
        public int Prev;
        public int Next;
    }

    public SlotIndex() => Array.Fill(_head, -1);

    /// <summary>Makes room for entry indices below <paramref name="capacity"/>.</summary>
    public void EnsureCapacity(int capacity)
    {
        int segments = (capacity + SegmentMask) >> SegmentShift;
        if (segments <= _links.Length)
        {
            return;
        }
        int old = _links.Length;
        Array.Resize(ref _links, Math.Max(segments, old * 2));
        for (int i = old; i < _links.Length; i++)
        {
            _links[i] = new Link[SegmentSize];
        }
    }

    private ref Link At(int index) => ref _links[index >> SegmentShift][index & SegmentMask];

    /// <summary>Links the entry at <paramref name="index"/> holding <paramref name="key"/> into its slot's list.</summary>
    public void Add(int index, ReadOnlySpan<byte> key)
    {
        int slot = HashSlot.Of(key);
        ref Link link = ref At(index);
        int head = _head[slot];
        link.Prev = -1;
        link.Next = head;
        if (head >= 0)
        {
            At(head).Prev = index;
        }
        _head[slot] = index;
        _count[slot]++;
    }

    /// <summary>Unlinks the entry at <paramref name="index"/> holding <paramref name="key"/>.</summary>
    public void Remove(int index, ReadOnlySpan<byte> key)
    {
        int slot = HashSlot.Of(key);
        ref Link link = ref At(index);
        if (link.Prev >= 0)
        {
            At(link.Prev).Next = link.Next;
        }
        else
        {
            _head[slot] = link.Next;
        }
        if (link.Next >= 0)
        {
            At(link.Next).Prev = link.Prev;
        }
        _count[slot]--;
    }

    public int Count(int slot) => _count[slot];

    public int First(int slot) => _head[slot];

    public int Next(int index) => At(index).Next;
}
