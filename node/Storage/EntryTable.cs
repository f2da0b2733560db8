using System.Buffers.Binary;
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
/// Members are found through an open-addressing index (linear probing, backward-shift deletion) whose
/// entries hold the member itself, its 32-bit hash and its slot: a probe compares hashes without touching
/// other members, a hit reads the member bytes straight from the index (no hop through the slot) and a
/// resize never rehashes a member. Slots live in chunks of 1,024, so their growth adds a chunk and never
/// copies a large array. The index doubles incrementally: the old one is moved into the new a few
/// positions per operation (lookups consult both meanwhile), so no single request pays for rehashing a
/// large table.
/// </para>
/// <para>
/// A table made with values in records (hashes) keeps each member and its byte-string value in one
/// array, the record: the member's length (one byte below 255, else 255 and four bytes), the member,
/// the value. A lookup that finds the member has the value at hand, and an overwrite with a value of the
/// same length copies it into the record, allocating nothing.
/// </para>
/// </summary>
public sealed class EntryTable<TValue>
{
    private const int ChunkBits = 10;
    private const int ChunkSize = 1 << ChunkBits;
    private const int ChunkMask = ChunkSize - 1;

    // Old index positions moved per operation while the index grows: the move ends long before the new
    // index needs to grow again (after a quarter of its size in further insertions).
    private const int MoveStep = 4;

    // Marks a moved entry of the old index, so probes for the entries not yet moved still run through it.
    private static readonly byte[] Moved = [];

    private readonly bool _valuesInRecords;
    private Entry[][] _chunks;
    private int _slotCapacity;

    private Index _index;
    private Index? _oldIndex;
    private int _moved;
    private int _growAt;

    // The dense list of live slots, in chunks like the slots. For a live slot, Entry.Link is its position
    // there; for a free slot, the next free slot (-1 ends).
    private int[][] _dense;
    private int _denseCapacity;
    private int _count;
    private int _used;
    private int _freeList = -1;

    /// <summary>
    /// An empty table with room for <paramref name="capacity"/> members before it grows; with
    /// <paramref name="valuesInRecords"/> it holds byte-string values in the records (hashes).
    /// </summary>
    public EntryTable(int capacity, bool valuesInRecords = false)
    {
        _valuesInRecords = valuesInRecords;
        capacity = Math.Max(capacity, 4);
        _slotCapacity = capacity <= ChunkSize ? (int)BitOperations.RoundUpToPowerOf2((uint)capacity) : ((capacity + ChunkMask) & ~ChunkMask);
        _chunks = new Entry[(_slotCapacity + ChunkMask) >> ChunkBits][];
        for (int i = 0; i < _chunks.Length; i++)
        {
            _chunks[i] = new Entry[Math.Min(_slotCapacity, ChunkSize)];
        }
        int indexSize = (int)BitOperations.RoundUpToPowerOf2((uint)(capacity + (capacity / 2) + 1));
        _index = new Index(indexSize);
        _growAt = indexSize - (indexSize / 4);
        _denseCapacity = _slotCapacity;
        _dense = new int[_chunks.Length][];
        for (int i = 0; i < _dense.Length; i++)
        {
            _dense[i] = new int[Math.Min(_denseCapacity, ChunkSize)];
        }
    }

    /// <summary>Live members.</summary>
    public int Count => _count;

    /// <summary>One past the highest slot ever used: where a scan ends.</summary>
    public int SlotLimit => _used;

    /// <summary>
    /// Bytes of bookkeeping per member beyond the member and value bytes themselves: the slot, about two
    /// index entries (the index is kept at most three quarters full) and the dense list entry.
    /// </summary>
    public static int OverheadPerEntry => Unsafe.SizeOf<Entry>() + (2 * Unsafe.SizeOf<IndexEntry>()) + 4;

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        MoveSome();
        uint hash = (uint)KeyHash.Of(key);
        int slot = Probe(_index, key, hash, out _);
        return slot < 0 && _oldIndex is { } old ? ProbeOld(old, key, hash, out _) : slot;
    }

    /// <summary>
    /// The slot holding <paramref name="key"/>; when absent, a new slot holding a copy of the key and a
    /// default value (<paramref name="added"/> true). One hash and one probe either way. Not for tables
    /// with values in records.
    /// </summary>
    public int FindOrAdd(ReadOnlySpan<byte> key, out bool added)
    {
        MoveSome();
        uint hash = (uint)KeyHash.Of(key);
        int slot = Probe(_index, key, hash, out int position);
        if (slot < 0 && _oldIndex is { } old)
        {
            slot = ProbeOld(old, key, hash, out _);
        }
        added = slot < 0;
        return added ? Insert(key.ToArray(), default!, hash, position) : slot;
    }

    /// <summary>
    /// Sets the value of <paramref name="key"/> in a table with values in records, adding the member when
    /// absent; returns the length of the value it replaced, or -1 when the member was added.
    /// </summary>
    public int SetRecordValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        MoveSome();
        uint hash = (uint)KeyHash.Of(key);
        var index = _index;
        int slot = Probe(index, key, hash, out int position);
        if (slot < 0 && _oldIndex is { } old && (slot = ProbeOld(old, key, hash, out int oldPosition)) >= 0)
        {
            index = old;
            position = oldPosition;
        }
        if (slot < 0)
        {
            Insert(NewRecord(key, value), default!, hash, position);
            return -1;
        }
        ref var indexed = ref index[position];
        var record = indexed.Record!;
        int valueStart = PrefixLength(key.Length) + key.Length;
        int oldLength = record.Length - valueStart;
        if (oldLength == value.Length)
        {
            value.CopyTo(record.AsSpan(valueStart));
            return oldLength;
        }
        var fresh = NewRecord(key, value);
        indexed.Record = fresh;
        EntryAt(slot).Record = fresh;
        return oldLength;
    }

    /// <summary>Adds a record holding <paramref name="key"/> and <paramref name="value"/>, the key known to be absent; returns its slot.</summary>
    public int AddRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => Add(NewRecord(key, value), default!);

    /// <summary>Adds a member known to be absent, taking ownership of <paramref name="key"/> (a whole record with values in records); returns its slot.</summary>
    public int Add(byte[] key, TValue value)
    {
        MoveSome();
        uint hash = (uint)KeyHash.Of(KeyOf(key));
        int position = (int)hash & _index.Mask;
        while (_index[position].Record is not null)
        {
            position = (position + 1) & _index.Mask;
        }
        return Insert(key, value, hash, position);
    }

    /// <summary>True when <paramref name="slot"/> holds a member.</summary>
    public bool IsLive(int slot) => (uint)slot < (uint)_used && EntryAt(slot).Record is not null;

    /// <summary>The member at a live slot.</summary>
    public ReadOnlySpan<byte> KeyAt(int slot) => KeyOf(EntryAt(slot).Record!);

    /// <summary>The member at a live slot as the stored array, in a table without values in records.</summary>
    public byte[] KeyArrayAt(int slot) => EntryAt(slot).Record!;

    /// <summary>The value in the record at a live slot, in a table with values in records.</summary>
    public ReadOnlySpan<byte> RecordValueAt(int slot)
    {
        var record = EntryAt(slot).Record!;
        int keyLength = record[0] < 255 ? record[0] : BinaryPrimitives.ReadInt32LittleEndian(record.AsSpan(1));
        return record.AsSpan(PrefixLength(keyLength) + keyLength);
    }

    /// <summary>The value at a live slot.</summary>
    public ref TValue ValueAt(int slot) => ref EntryAt(slot).Value;

    /// <summary>The slot of the <paramref name="position"/>-th live member (0 ≤ position &lt; Count), in no particular order.</summary>
    public int SlotAtPosition(int position) => DenseAt(position);

    /// <summary>Removes the member at a live slot.</summary>
    public void RemoveAt(int slot)
    {
        MoveSome();
        ref var entry = ref EntryAt(slot);
        var key = entry.Record!;
        uint hash = (uint)KeyHash.Of(KeyOf(key));
        if (!RemoveFromIndex(_index, key, hash, shift: true))
        {
            // Not moved yet: leave a mark in the old index, whose probe chains must stay whole.
            RemoveFromIndex(_oldIndex!, key, hash, shift: false);
        }

        // Fill the hole in the dense list with its last entry.
        _count--;
        int at = entry.Link;
        int last = DenseAt(_count);
        DenseAt(at) = last;
        EntryAt(last).Link = at;
        entry.Record = null;
        entry.Value = default!;
        entry.Link = _freeList;
        _freeList = slot;
    }

    private static int PrefixLength(int keyLength) => keyLength < 255 ? 1 : 5;

    private static byte[] NewRecord(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        int prefix = PrefixLength(key.Length);
        var record = GC.AllocateUninitializedArray<byte>(prefix + key.Length + value.Length);
        if (prefix == 1)
        {
            record[0] = (byte)key.Length;
        }
        else
        {
            record[0] = 255;
            BinaryPrimitives.WriteInt32LittleEndian(record.AsSpan(1), key.Length);
        }
        key.CopyTo(record.AsSpan(prefix));
        value.CopyTo(record.AsSpan(prefix + key.Length));
        return record;
    }

    /// <summary>The member bytes of a stored array: all of it, or the member part of a record.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> KeyOf(byte[] stored)
    {
        if (!_valuesInRecords)
        {
            return stored;
        }
        return stored[0] < 255 ? stored.AsSpan(1, stored[0]) : stored.AsSpan(5, BinaryPrimitives.ReadInt32LittleEndian(stored.AsSpan(1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref int DenseAt(int position) => ref _dense[position >> ChunkBits][position & ChunkMask];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref Entry EntryAt(int slot) => ref _chunks[slot >> ChunkBits][slot & ChunkMask];

    /// <summary>The slot of <paramref name="key"/> or -1; <paramref name="position"/> is its index position, or the empty one ending the probe.</summary>
    private int Probe(Index index, ReadOnlySpan<byte> key, uint hash, out int position)
    {
        int mask = index.Mask;
        int p = (int)hash & mask;
        while (true)
        {
            ref var candidate = ref index[p];
            if (candidate.Record is null)
            {
                position = p;
                return -1;
            }
            if (candidate.Hash == hash && key.SequenceEqual(KeyOf(candidate.Record)))
            {
                position = p;
                return candidate.Slot;
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
                GrowChunks(ref _chunks, ref _slotCapacity);
            }
            slot = _used++;
        }
        ref var entry = ref EntryAt(slot);
        entry.Record = key;
        entry.Value = value;
        if (_count == _denseCapacity)
        {
            GrowChunks(ref _dense, ref _denseCapacity);
        }
        DenseAt(_count) = slot;
        entry.Link = _count;
        _count++;
        _index[position] = new IndexEntry { Record = key, Hash = hash, Slot = slot };
        if (_count >= _growAt)
        {
            StartGrowing();
        }
        return slot;
    }

    /// <summary>Adds room to chunked storage: a small table's one chunk doubles up to the chunk size, then chunks are added.</summary>
    private static void GrowChunks<T>(ref T[][] chunks, ref int capacity)
    {
        if (capacity < ChunkSize)
        {
            capacity *= 2;
            Array.Resize(ref chunks[0], capacity);
            return;
        }
        int chunk = capacity >> ChunkBits;
        if (chunk == chunks.Length)
        {
            Array.Resize(ref chunks, chunks.Length * 2);
        }
        chunks[chunk] = new T[ChunkSize];
        capacity += ChunkSize;
    }

    /// <summary>The slot of <paramref name="key"/> in the old index (skipping moved entries) or -1, and its position there.</summary>
    private int ProbeOld(Index old, ReadOnlySpan<byte> key, uint hash, out int position)
    {
        int mask = old.Mask;
        int p = (int)hash & mask;
        while (true)
        {
            ref var candidate = ref old[p];
            if (candidate.Record is null)
            {
                position = p;
                return -1;
            }
            if (candidate.Hash == hash && !ReferenceEquals(candidate.Record, Moved) && key.SequenceEqual(KeyOf(candidate.Record)))
            {
                position = p;
                return candidate.Slot;
            }
            p = (p + 1) & mask;
        }
    }

    /// <summary>Starts doubling the index: a new one takes insertions and the old one's entries move over bit by bit.</summary>
    private void StartGrowing()
    {
        while (_oldIndex is not null)
        {
            MoveSome();
        }
        _oldIndex = _index;
        _moved = 0;
        _index = new Index(_oldIndex.Length * 2);
        _growAt = _index.Length - (_index.Length / 4);
    }

    /// <summary>Moves the next few positions of the old index into the new one; the entries carry their hashes, so no member is read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void MoveSome()
    {
        if (_oldIndex is not null)
        {
            MoveSomeCore(_oldIndex);
        }
    }

    private void MoveSomeCore(Index old)
    {
        var index = _index;
        int mask = index.Mask;
        int end = Math.Min(_moved + MoveStep, old.Length);
        for (; _moved < end; _moved++)
        {
            ref var entry = ref old[_moved];
            if (entry.Record is null || ReferenceEquals(entry.Record, Moved))
            {
                continue;
            }
            int p = (int)entry.Hash & mask;
            while (index[p].Record is not null)
            {
                p = (p + 1) & mask;
            }
            index[p] = entry;
            entry.Record = Moved;
        }
        if (_moved == old.Length)
        {
            _oldIndex = null;
        }
    }

    /// <summary>
    /// Takes the entry for <paramref name="record"/> out of <paramref name="index"/>: by shifting back the
    /// entries after it that probed past it, or (old index) by marking it moved. False when it is not there.
    /// </summary>
    private static bool RemoveFromIndex(Index index, byte[] record, uint hash, bool shift)
    {
        int mask = index.Mask;
        int hole = (int)hash & mask;
        while (index[hole].Record != record)
        {
            if (index[hole].Record is null)
            {
                return false;
            }
            hole = (hole + 1) & mask;
        }
        if (!shift)
        {
            index[hole].Record = Moved;
            return true;
        }
        int p = hole;
        while (true)
        {
            p = (p + 1) & mask;
            ref var entry = ref index[p];
            if (entry.Record is null)
            {
                break;
            }
            int home = (int)entry.Hash & mask;
            // The entry may move to the hole when the hole lies on its probe path (from home to p).
            if (((p - home) & mask) >= ((p - hole) & mask))
            {
                index[hole] = entry;
                hole = p;
            }
        }
        index[hole] = default;
        return true;
    }

    /// <summary>
    /// The index: a power-of-two number of entries in pages of at most 4,096 (64 KiB), so that growing a
    /// large table allocates no large object (whose allocation brings on a full collection).
    /// </summary>
    private sealed class Index
    {
        private const int PageBits = 12;
        private readonly IndexEntry[][] _pages;
        private readonly int _shift;
        private readonly int _pageMask;

        public Index(int length)
        {
            Mask = length - 1;
            _shift = Math.Min(PageBits, BitOperations.Log2((uint)length));
            _pageMask = (1 << _shift) - 1;
            _pages = new IndexEntry[length >> _shift][];
            for (int i = 0; i < _pages.Length; i++)
            {
                _pages[i] = new IndexEntry[_pageMask + 1];
            }
        }

        /// <summary>Entries minus one: positions wrap with it.</summary>
        public int Mask { get; }

        public int Length => Mask + 1;

        public ref IndexEntry this[int position] => ref _pages[position >> _shift][position & _pageMask];
    }

    private struct IndexEntry
    {
        public byte[]? Record;
        public uint Hash;
        public int Slot;
    }

    private struct Entry
    {
        public byte[]? Record;
        public TValue Value;
        public int Link;
    }
}
