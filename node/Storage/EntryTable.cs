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
/// copies a large array.
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

    private readonly bool _valuesInRecords;
    private Entry[][] _chunks;
    private int _slotCapacity;

    private IndexEntry[] _index;
    private int _growAt;

    // For a live slot, Entry.Link is its position in _dense; for a free slot, the next free slot (-1 ends).
    private int[] _dense;
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
        _index = new IndexEntry[indexSize];
        _growAt = indexSize - (indexSize / 4);
        _dense = new int[capacity];
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
    public int Find(ReadOnlySpan<byte> key) => Probe(key, (uint)KeyHash.Of(key), out _);

    /// <summary>
    /// The slot holding <paramref name="key"/>; when absent, a new slot holding a copy of the key and a
    /// default value (<paramref name="added"/> true). One hash and one probe either way. Not for tables
    /// with values in records.
    /// </summary>
    public int FindOrAdd(ReadOnlySpan<byte> key, out bool added)
    {
        uint hash = (uint)KeyHash.Of(key);
        int slot = Probe(key, hash, out int position);
        added = slot < 0;
        return added ? Insert(key.ToArray(), default!, hash, position) : slot;
    }

    /// <summary>
    /// Sets the value of <paramref name="key"/> in a table with values in records, adding the member when
    /// absent; returns the length of the value it replaced, or -1 when the member was added.
    /// </summary>
    public int SetRecordValue(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        uint hash = (uint)KeyHash.Of(key);
        int slot = Probe(key, hash, out int position);
        if (slot < 0)
        {
            Insert(NewRecord(key, value), default!, hash, position);
            return -1;
        }
        ref var indexed = ref _index[position];
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
        uint hash = (uint)KeyHash.Of(KeyOf(key));
        int position = (int)hash & (_index.Length - 1);
        while (_index[position].Record is not null)
        {
            position = (position + 1) & (_index.Length - 1);
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
    public int SlotAtPosition(int position) => _dense[position];

    /// <summary>Removes the member at a live slot.</summary>
    public void RemoveAt(int slot)
    {
        ref var entry = ref EntryAt(slot);
        var key = entry.Record!;
        int mask = _index.Length - 1;
        int position = (int)KeyHash.Of(KeyOf(key)) & mask;
        while (_index[position].Record != key)
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
    private ref Entry EntryAt(int slot) => ref _chunks[slot >> ChunkBits][slot & ChunkMask];

    /// <summary>The slot of <paramref name="key"/> or -1; <paramref name="position"/> is its index position, or the empty one ending the probe.</summary>
    private int Probe(ReadOnlySpan<byte> key, uint hash, out int position)
    {
        var index = _index;
        int mask = index.Length - 1;
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
                GrowSlots();
            }
            slot = _used++;
        }
        ref var entry = ref EntryAt(slot);
        entry.Record = key;
        entry.Value = value;
        if (_count == _dense.Length)
        {
            Array.Resize(ref _dense, _dense.Length * 2);
        }
        _dense[_count] = slot;
        entry.Link = _count;
        _count++;
        _index[position] = new IndexEntry { Record = key, Hash = hash, Slot = slot };
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

    /// <summary>Doubles the index; its entries carry their hashes, so no member is read.</summary>
    private void GrowIndex()
    {
        var old = _index;
        var index = new IndexEntry[old.Length * 2];
        int mask = index.Length - 1;
        foreach (ref readonly var entry in old.AsSpan())
        {
            if (entry.Record is not null)
            {
                int p = (int)entry.Hash & mask;
                while (index[p].Record is not null)
                {
                    p = (p + 1) & mask;
                }
                index[p] = entry;
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
