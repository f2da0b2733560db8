using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// The keys of one database: a chained hash table whose entries live in fixed-size segments and never
/// move while they live. Stable entry indices make SCAN cursors exact (every key present throughout an
/// iteration is returned), let eviction and expiry sample entries at random, and give per-slot
/// indexes and snapshots a cheap handle on each key. Segments (rather than one array that doubles)
/// mean growth never copies the entries nor leaves a large dead array behind for the collector; an
/// entry is 32 bytes (no stored hash, expiry kept aside for the keys that have one), as a Redis dictEntry.
/// </summary>
public sealed class KeyTable
{
    /// <summary>One key and its value.</summary>
    public struct Entry
    {
        /// <summary>The key bytes; null marks a free entry.</summary>
        public byte[]? Key;

        /// <summary>byte[] for strings, a collection object otherwise.</summary>
        public object? Value;

        /// <summary>LRU clock or LFU counter, as the eviction policy keeps it.</summary>
        public uint Access;

        internal int Next;

        /// <summary>Position in the expiry index, -1 for a key without expiry.</summary>
        internal int VolatilePos;

        /// <summary>True when the key has an expiry (read it with <see cref="ExpireAt"/>).</summary>
        public readonly bool HasExpiry => VolatilePos >= 0;

        /// <summary>The charge in 8-byte units (saturating), so an entry stays 32 bytes.</summary>
        internal uint ChargedUnits;

        /// <summary>Bytes this key and its value are charged for in <see cref="ChargedBytes"/> (kept so removal subtracts exactly).</summary>
        public readonly long Charged => ChargedUnits * 8L;
    }

    /// <summary>Bytes the runtime spends on a byte array's header (method table, sync block, length).</summary>
    public const int ArrayHeaderBytes = 24;

    /// <summary>Bytes of one entry slot in the entry segments.</summary>
    public static readonly int EntryBytes = System.Runtime.CompilerServices.Unsafe.SizeOf<Entry>();

    // 4096 entries (128 KiB) per segment: few segments for millions of keys, small enough to allocate often.
    private const int SegmentShift = 12;
    private const int SegmentSize = 1 << SegmentShift;
    private const int SegmentMask = SegmentSize - 1;

    private int[] _buckets;
    private Entry[][] _segments;
    private int _capacity;
    private int _used;
    private int _count;
    private int _freeList = -1;
    private int[] _volatile = new int[4];
    private long[] _volatileExpireAt = new long[4];
    private int _volatileCount;

    // While a keyspace snapshot has yet to write some of this table's entries: its marks. Null otherwise, where it
    // costs one null test per removal, expiry change and reuse of a free entry.
    internal KeyspaceSnapshot.TableWalk? Snapshot;

    // Cluster mode only: the keys by hash slot. Null in standalone mode, where it costs one null check per add and remove.
    private readonly SlotIndex? _slots;

    /// <summary>An empty table; with <paramref name="slotIndexed"/> (cluster mode) it also keeps its keys by hash slot.</summary>
    public KeyTable(int capacity = 16, bool slotIndexed = false)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 4));
        _buckets = new int[size];
        _segments = [];
        _slots = slotIndexed ? new SlotIndex() : null;
        EnsureCapacity(size);
    }

    /// <summary>True when the table keeps its keys by hash slot (cluster mode).</summary>
    public bool IsSlotIndexed => _slots is not null;

    /// <summary>Keys in hash slot <paramref name="slot"/> (0 when the table keeps no slot index).</summary>
    public int CountInSlot(int slot) => _slots?.Count(slot) ?? 0;

    /// <summary>The entry index of a key in <paramref name="slot"/>, or -1 when none (walk on with <see cref="NextInSlot"/>).</summary>
    public int FirstInSlot(int slot) => _slots?.First(slot) ?? -1;

    /// <summary>The entry index of the next key in the slot of the entry at <paramref name="index"/>, or -1 at the end.</summary>
    public int NextInSlot(int index) => _slots!.Next(index);

    /// <summary>Live keys.</summary>
    public int Count => _count;

    /// <summary>Sum of the live entries' <see cref="Entry.Charged"/> bytes: keys and values.</summary>
    public long ChargedBytes { get; private set; }

    /// <summary>Bytes of the table's own arrays (buckets, entry segments, expiry index), including free slots.</summary>
    public long StructureBytes => ((4L + ((_capacity + SegmentMask) >> SegmentShift)) * ArrayHeaderBytes) + (_buckets.Length * 4L)
        + ((long)_capacity * EntryBytes) + (_segments.Length * 8L) + (_volatile.Length * 12L);

    /// <summary>Memory the table holds: <see cref="ChargedBytes"/> plus <see cref="StructureBytes"/>.</summary>
    public long UsedBytes => ChargedBytes + StructureBytes;

    /// <summary>Heap bytes of a byte array of <paramref name="length"/> bytes (header, data rounded up to 8).</summary>
    public static long ArrayBytes(int length) => ArrayHeaderBytes + ((length + 7L) & ~7L);

    /// <summary>Heap bytes a key and its value hold (strings exactly, collections as they estimate themselves).</summary>
    public static long ChargeOf(byte[] key, object? value) => ArrayBytes(key.Length) + value switch
    {
        byte[] bytes => ArrayBytes(bytes.Length),
        ICollectionValue collection => collection.EstimatedBytes,
        _ => 0,
    };

    /// <summary>
    /// Recomputes the charge of the entry at <paramref name="index"/> after its value changed in place;
    /// returns the change in bytes.
    /// </summary>
    public long Recharge(int index)
    {
        ref Entry e = ref this[index];
        uint units = ChargeUnits(ChargeOf(e.Key!, e.Value));
        long delta = (units - (long)e.ChargedUnits) * 8;
        e.ChargedUnits = units;
        ChargedBytes += delta;
        return delta;
    }

    /// <summary>
    /// Call before changing the value of the live entry at <paramref name="index"/> in place or replacing it: a running
    /// <see cref="KeyspaceSnapshot"/> that has yet to write the entry writes it now, as it was. Removal and expiry changes do it themselves.
    /// </summary>
    public void BeforeChange(int index) => Snapshot?.BeforeChange(index);

    /// <summary>Live keys with an expiry.</summary>
    public int VolatileCount => _volatileCount;

    /// <summary>One past the highest entry index ever used: the end of a SCAN.</summary>
    public int IndexLimit => _used;

    /// <summary>The entry at <paramref name="index"/> (check <see cref="IsLive"/> when iterating).</summary>
    public ref Entry this[int index] => ref _segments[index >> SegmentShift][index & SegmentMask];

    /// <summary>True when <paramref name="index"/> holds a key.</summary>
    public bool IsLive(int index) => (uint)index < (uint)_used && this[index].Key is not null;

    /// <summary>Unix time in milliseconds when the entry at <paramref name="index"/> expires, 0 for none.</summary>
    public long ExpireAt(int index)
    {
        int pos = this[index].VolatilePos;
        return pos < 0 ? 0 : _volatileExpireAt[pos];
    }

    /// <summary>The index of <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        int i = _buckets[KeyHash.Of(key) & (uint)(_buckets.Length - 1)] - 1;
        var segments = _segments;
        while (i >= 0)
        {
            ref Entry e = ref segments[i >> SegmentShift][i & SegmentMask];
            if (key.SequenceEqual(e.Key))
            {
                return i;
            }
            i = e.Next;
        }
        return -1;
    }

    /// <summary>Adds a key known to be absent; returns its index.</summary>
    public int Add(byte[] key, object value)
    {
        int index;
        if (_freeList >= 0)
        {
            index = _freeList;
            _freeList = this[index].Next;
            // A key created after a snapshot started is not part of it.
            Snapshot?.Forget(index);
        }
        else
        {
            if (_used == _capacity)
            {
                EnsureCapacity(_capacity < SegmentSize ? _capacity * 2 : _capacity + SegmentSize);
            }
            index = _used++;
        }
        if (_count >= _buckets.Length)
        {
            Rehash(_buckets.Length * 2);
        }
        ref int bucket = ref _buckets[KeyHash.Of(key) & (uint)(_buckets.Length - 1)];
        uint units = ChargeUnits(ChargeOf(key, value));
        this[index] = new Entry { Key = key, Value = value, Next = bucket - 1, VolatilePos = -1, ChargedUnits = units };
        bucket = index + 1;
        _count++;
        ChargedBytes += units * 8L;
        _slots?.Add(index, key);
        return index;
    }

    /// <summary>Removes the key at <paramref name="index"/>.</summary>
    public void RemoveAt(int index)
    {
        Snapshot?.BeforeChange(index);
        ref Entry e = ref this[index];
        ref int bucket = ref _buckets[KeyHash.Of(e.Key) & (uint)(_buckets.Length - 1)];
        if (bucket - 1 == index)
        {
            bucket = e.Next + 1;
        }
        else
        {
            int i = bucket - 1;
            while (this[i].Next != index)
            {
                i = this[i].Next;
            }
            this[i].Next = e.Next;
        }
        if (e.VolatilePos >= 0)
        {
            RemoveVolatile(ref e);
        }
        _slots?.Remove(index, e.Key);
        ChargedBytes -= e.Charged;
        e = default;
        e.Next = _freeList;
        _freeList = index;
        _count--;
    }

    /// <summary>Sets or clears (0) the expiry of the entry at <paramref name="index"/>.</summary>
    public void SetExpire(int index, long unixMs)
    {
        Snapshot?.BeforeChange(index);
        ref Entry e = ref this[index];
        if (unixMs != 0)
        {
            if (e.VolatilePos < 0)
            {
                if (_volatileCount == _volatile.Length)
                {
                    Array.Resize(ref _volatile, _volatile.Length * 2);
                    Array.Resize(ref _volatileExpireAt, _volatile.Length);
                }
                e.VolatilePos = _volatileCount;
                _volatile[_volatileCount++] = index;
            }
            _volatileExpireAt[e.VolatilePos] = unixMs;
        }
        else if (e.VolatilePos >= 0)
        {
            RemoveVolatile(ref e);
        }
    }

    /// <summary>A random live entry index, or -1 when empty.</summary>
    public int RandomIndex(Random random)
    {
        if (_count == 0)
        {
            return -1;
        }
        // Random probes find a live entry fast unless the table is sparse; then walk from a random point.
        for (int attempt = 0; attempt < 16; attempt++)
        {
            int i = random.Next(_used);
            if (this[i].Key is not null)
            {
                return i;
            }
        }
        int start = random.Next(_used);
        for (int n = 0; n < _used; n++)
        {
            int i = (start + n) % _used;
            if (this[i].Key is not null)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>A random entry index among keys with an expiry, or -1.</summary>
    public int RandomVolatileIndex(Random random) => _volatileCount == 0 ? -1 : _volatile[random.Next(_volatileCount)];

    private static uint ChargeUnits(long bytes) => (uint)Math.Min(uint.MaxValue, (bytes + 7) >> 3);

    private void RemoveVolatile(ref Entry e)
    {
        int pos = e.VolatilePos;
        int last = _volatile[--_volatileCount];
        _volatile[pos] = last;
        _volatileExpireAt[pos] = _volatileExpireAt[_volatileCount];
        this[last].VolatilePos = pos;
        e.VolatilePos = -1;
    }

    /// <summary>Makes room for <paramref name="capacity"/> entries: the first segment doubles up to full size, then whole segments are added.</summary>
    private void EnsureCapacity(int capacity)
    {
        _slots?.EnsureCapacity(Math.Max(capacity, SegmentSize));
        if (capacity <= SegmentSize)
        {
            if (_segments.Length == 0)
            {
                _segments = [new Entry[capacity]];
            }
            else
            {
                Array.Resize(ref _segments[0], capacity);
            }
            _capacity = capacity;
            return;
        }
        if (_capacity < SegmentSize)
        {
            Array.Resize(ref _segments[0], SegmentSize);
            _capacity = SegmentSize;
        }
        int segments = (capacity + SegmentMask) >> SegmentShift;
        if (segments > _segments.Length)
        {
            // The segment directory doubles (it is small: 8 bytes per 4096 keys); unused slots stay null.
            Array.Resize(ref _segments, Math.Max(segments, _segments.Length * 2));
        }
        for (int i = _capacity >> SegmentShift; i < segments; i++)
        {
            _segments[i] = new Entry[SegmentSize];
        }
        _capacity = segments << SegmentShift;
    }

    /// <summary>Rebuilds the buckets at <paramref name="size"/> (a power of two), keeping the load factor at most 1.</summary>
    private void Rehash(int size)
    {
        _buckets = new int[size];
        uint mask = (uint)(size - 1);
        for (int i = 0; i < _used; i++)
        {
            ref Entry e = ref this[i];
            if (e.Key is null)
            {
                continue;
            }
            ref int bucket = ref _buckets[KeyHash.Of(e.Key) & mask];
            e.Next = bucket - 1;
            bucket = i + 1;
        }
    }
}
