using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>The value type of a table without values (sets).</summary>
public readonly struct NoValue;

/// <summary>
/// The "hashtable" encoding of hashes, sets and sorted sets: members (byte strings, compared as bytes)
/// each with a <typeparamref name="TValue"/> in slots that never move while their member lives. Stable
/// slots make HSCAN/SSCAN/ZSCAN cursors exact (the cursor is a slot number, so every member present
/// throughout an iteration is returned however the table grows or shrinks in between), and a dense list
/// of live slots gives uniform random picks. Freed slots are reused before the slots grow.
/// <para>
/// Members are found through an open-addressing index (linear probing, backward-shift deletion) of
/// 64-bit words: a member's 32-bit hash and its slot, so a probe compares hashes without touching other
/// members and a resize never rehashes a member. Slots live in chunks of 1,024, so growth adds a chunk
/// and never copies or allocates one large array that the GC would have to scan.
/// </para>
/// </summary>
public sealed class EntryTable<TValue>
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    private Entry[][] _chunks;
    private int _slotCapacity;

    // Index words: (hash << 32) | (slot + 1); 0 is an empty position.
    private ulong[] _index;
    private int _growAt;

    // For a live slot, Entry.Link is its position in _dense; for a free slot, the next free slot (-1 ends).
    private int[] _dense;
    private int _count;
    private int _used;
    private int _freeList = -1;

    /// <summary>An empty table with room for <paramref name="capacity"/> members before it grows.</summary>
    public EntryTable(int capacity)
    {
        capacity = Math.Max(capacity, 4);
        _slotCapacity = capacity <= ChunkSize ? (int)BitOperations.RoundUpToPowerOf2((uint)capacity) : ((capacity + ChunkMask) & ~ChunkMask);
        _chunks = new Entry[(_slotCapacity + ChunkMask) >> ChunkBits][];
        for (int i = 0; i < _chunks.Length; i++)
        {
            _chunks[i] = new Entry[Math.Min(_slotCapacity, ChunkSize)];
        }
        int indexSize = (int)BitOperations.RoundUpToPowerOf2((uint)(capacity + (capacity / 2) + 1));
        _index = new ulong[indexSize];
        _growAt = indexSize - (indexSize / 4);
        _dense = new int[capacity];
    }

    /// <summary>Live members.</summary>
    public int Count => _count;

    /// <summary>One past the highest slot ever used: where a scan ends.</summary>
    public int SlotLimit => _used;

    /// <summary>
    /// Bytes of bookkeeping per member beyond the member and value bytes themselves: the slot, about two
    /// index words (the index is kept at most three quarters full) and the dense list entry.
    /// </summary>
    public static int OverheadPerEntry => Unsafe.SizeOf<Entry>() + 16 + 4;

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key) => Probe(key, (uint)KeyHash.Of(key), out _);

    /// <summary>
    /// The slot holding <paramref name="key"/>; when absent, a new slot holding a copy of the key and a
    /// default value (<paramref name="added"/> true). One hash and one probe either way.
    /// </summary>
    public int FindOrAdd(ReadOnlySpan<byte> key, out bool added)
    {
        uint hash = (uint)KeyHash.Of(key);
        int slot = Probe(key, hash, out int position);
        added = slot < 0;
        return added ? Insert(key.ToArray(), default!, hash, position) : slot;
    }

    /// <summary>Adds a member known to be absent, taking ownership of <paramref name="key"/>; returns its slot.</summary>
    public int Add(byte[] key, TValue value)
    {
        uint hash = (uint)KeyHash.Of(key);
        int position = (int)hash & (_index.Length - 1);
        while (_index[position] != 0)
        {
            position = (position + 1) & (_index.Length - 1);
        }
        return Insert(key, value, hash, position);
    }

    /// <summary>True when <paramref name="slot"/> holds a member.</summary>
    public bool IsLive(int slot) => (uint)slot < (uint)_used && EntryAt(slot).Key is not null;

    /// <summary>The member at a live slot.</summary>
    public byte[] KeyAt(int slot) => EntryAt(slot).Key!;

    /// <summary>The value at a live slot.</summary>
    public ref TValue ValueAt(int slot) => ref EntryAt(slot).Value;

    /// <summary>The slot of the <paramref name="position"/>-th live member (0 ≤ position &lt; Count), in no particular order.</summary>
    public int SlotAtPosition(int position) => _dense[position];

    /// <summary>Removes the member at a live slot.</summary>
    public void RemoveAt(int slot)
    {
        ref var entry = ref EntryAt(slot);
        var key = entry.Key!;
        ulong word = ((ulong)(uint)KeyHash.Of(key) << 32) | (uint)(slot + 1);
        int mask = _index.Length - 1;
        int position = (int)(word >> 32) & mask;
        while (_index[position] != word)
        {
            position = (position + 1) & mask;
        }
        RemoveFromIndex(position);

        // Fill the hole in the dense list with its last entry.
        _count--;
        int at = entry.Link;
        int last = _dense[_count];
        _dense[at] = last;
        EntryAt(last).Link = at;
        entry.Key = null;
        entry.Value = default!;
        entry.Link = _freeList;
        _freeList = slot;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry EntryAt(int slot) => ref _chunks[slot >> ChunkBits][slot & ChunkMask];

    /// <summary>The slot of <paramref name="key"/> or -1; <paramref name="position"/> is its index position, or the empty one ending the probe.</summary>
    private int Probe(ReadOnlySpan<byte> key, uint hash, out int position)
    {
        var index = _index;
        int mask = index.Length - 1;
        int p = (int)hash & mask;
        while (true)
        {
            ulong word = index[p];
            if (word == 0)
            {
                position = p;
                return -1;
            }
            if ((uint)(word >> 32) == hash)
            {
                int slot = (int)(uint)word - 1;
                if (key.SequenceEqual(EntryAt(slot).Key))
                {
                    position = p;
                    return slot;
                }
            }
            p = (p + 1) & mask;
        }
    }

    private int Insert(byte[] key, TValue value, uint hash, int position)
    {
        int slot;
        if (_freeList >= 0)
        {
            slot = _freeList;
            _freeList = EntryAt(slot).Link;
        }
        else
        {
            if (_used == _slotCapacity)
            {
                GrowSlots();
            }
            slot = _used++;
        }
        ref var entry = ref EntryAt(slot);
        entry.Key = key;
        entry.Value = value;
        if (_count == _dense.Length)
        {
            Array.Resize(ref _dense, _dense.Length * 2);
        }
        _dense[_count] = slot;
        entry.Link = _count;
        _count++;
        _index[position] = ((ulong)hash << 32) | (uint)(slot + 1);
        if (_count >= _growAt)
        {
            GrowIndex();
        }
        return slot;
    }

    private void GrowSlots()
    {
        if (_slotCapacity < ChunkSize)
        {
            // A small table has one chunk that doubles up to the chunk size.
            _slotCapacity *= 2;
            Array.Resize(ref _chunks[0], _slotCapacity);
            return;
        }
        int chunk = _slotCapacity >> ChunkBits;
        if (chunk == _chunks.Length)
        {
            Array.Resize(ref _chunks, _chunks.Length * 2);
        }
        _chunks[chunk] = new Entry[ChunkSize];
        _slotCapacity += ChunkSize;
    }

    /// <summary>Doubles the index; the words carry their hashes, so no member is read.</summary>
    private void GrowIndex()
    {
        var old = _index;
        var index = new ulong[old.Length * 2];
        int mask = index.Length - 1;
        foreach (ulong word in old)
        {
            if (word != 0)
            {
                int p = (int)(word >> 32) & mask;
                while (index[p] != 0)
                {
                    p = (p + 1) & mask;
                }
                index[p] = word;
            }
        }
        _index = index;
        _growAt = index.Length - (index.Length / 4);
    }

    /// <summary>Empties an index position, shifting back the words after it that probed past it.</summary>
    private void RemoveFromIndex(int hole)
    {
        var index = _index;
        int mask = index.Length - 1;
        int p = hole;
        while (true)
        {
            p = (p + 1) & mask;
            ulong word = index[p];
            if (word == 0)
            {
                break;
            }
            int home = (int)(word >> 32) & mask;
            // The word may move to the hole when the hole lies on its probe path (from home to p).
            if (((p - home) & mask) >= ((p - hole) & mask))
            {
                index[hole] = word;
                hole = p;
            }
        }
        index[hole] = 0;
    }

    private struct Entry
    {
        public byte[]? Key;
        public TValue Value;
        public int Link;
    }
}
