using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// The keys of one database: a chained hash table whose entries live in one array and never move
/// while they live. Stable entry indices make SCAN cursors exact (every key present throughout an
/// iteration is returned), let eviction and expiry sample entries at random, and give per-slot
/// indexes and snapshots a cheap handle on each key.
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

        /// <summary>Unix time in milliseconds when the key expires, 0 for none.</summary>
        public long ExpireAt;

        /// <summary>LRU clock or LFU counter, as the eviction policy keeps it.</summary>
        public uint Access;

        /// <summary>Bytes this key and its value are charged for in <see cref="ChargedBytes"/> (kept so removal subtracts exactly).</summary>
        public long Charged;

        internal uint Hash;
        internal int Next;
        internal int VolatilePos;
    }

    /// <summary>Bytes the runtime spends on a byte array's header (method table, sync block, length).</summary>
    public const int ArrayHeaderBytes = 24;

    /// <summary>Bytes of one entry slot in the entry array.</summary>
    public static readonly int EntryBytes = System.Runtime.CompilerServices.Unsafe.SizeOf<Entry>();

    private int[] _buckets;
    private Entry[] _entries;
    private int _used;
    private int _count;
    private int _freeList = -1;
    private int[] _volatile = new int[4];
    private int _volatileCount;

    /// <summary>An empty table.</summary>
    public KeyTable(int capacity = 16)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 4));
        _buckets = new int[size];
        _entries = new Entry[size];
    }

    /// <summary>Live keys.</summary>
    public int Count => _count;

    /// <summary>Sum of the live entries' <see cref="Entry.Charged"/> bytes: keys and values.</summary>
    public long ChargedBytes { get; private set; }

    /// <summary>Bytes of the table's own arrays (buckets, entries, expiry index), including free slots.</summary>
    public long StructureBytes => 3L * ArrayHeaderBytes + (_buckets.Length * 4L) + ((long)_entries.Length * EntryBytes) + (_volatile.Length * 4L);

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
        ref Entry e = ref _entries[index];
        long charge = ChargeOf(e.Key!, e.Value);
        long delta = charge - e.Charged;
        e.Charged = charge;
        ChargedBytes += delta;
        return delta;
    }

    /// <summary>Live keys with an expiry.</summary>
    public int VolatileCount => _volatileCount;

    /// <summary>One past the highest entry index ever used: the end of a SCAN.</summary>
    public int IndexLimit => _used;

    /// <summary>The entry at <paramref name="index"/> (check <see cref="IsLive"/> when iterating).</summary>
    public ref Entry this[int index] => ref _entries[index];

    /// <summary>True when <paramref name="index"/> holds a key.</summary>
    public bool IsLive(int index) => (uint)index < (uint)_used && _entries[index].Key is not null;

    /// <summary>The index of <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key)
    {
        uint hash = (uint)KeyHash.Of(key);
        int i = _buckets[hash & (uint)(_buckets.Length - 1)] - 1;
        var entries = _entries;
        while (i >= 0)
        {
            ref Entry e = ref entries[i];
            if (e.Hash == hash && key.SequenceEqual(e.Key))
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
        uint hash = (uint)KeyHash.Of(key);
        int index;
        if (_freeList >= 0)
        {
            index = _freeList;
            _freeList = _entries[index].Next;
        }
        else
        {
            if (_used == _entries.Length)
            {
                Grow();
            }
            index = _used++;
        }
        ref int bucket = ref _buckets[hash & (uint)(_buckets.Length - 1)];
        long charge = ChargeOf(key, value);
        _entries[index] = new Entry { Key = key, Value = value, Hash = hash, Next = bucket - 1, VolatilePos = -1, Charged = charge };
        bucket = index + 1;
        _count++;
        ChargedBytes += charge;
        return index;
    }

    /// <summary>Removes the key at <paramref name="index"/>.</summary>
    public void RemoveAt(int index)
    {
        ref Entry e = ref _entries[index];
        ref int bucket = ref _buckets[e.Hash & (uint)(_buckets.Length - 1)];
        if (bucket - 1 == index)
        {
            bucket = e.Next + 1;
        }
        else
        {
            int i = bucket - 1;
            while (_entries[i].Next != index)
            {
                i = _entries[i].Next;
            }
            _entries[i].Next = e.Next;
        }
        if (e.VolatilePos >= 0)
        {
            RemoveVolatile(ref e);
        }
        ChargedBytes -= e.Charged;
        e = default;
        e.Next = _freeList;
        _freeList = index;
        _count--;
    }

    /// <summary>Sets or clears (0) the expiry of the entry at <paramref name="index"/>.</summary>
    public void SetExpire(int index, long unixMs)
    {
        ref Entry e = ref _entries[index];
        e.ExpireAt = unixMs;
        if (unixMs != 0 && e.VolatilePos < 0)
        {
            if (_volatileCount == _volatile.Length)
            {
                Array.Resize(ref _volatile, _volatile.Length * 2);
            }
            e.VolatilePos = _volatileCount;
            _volatile[_volatileCount++] = index;
        }
        else if (unixMs == 0 && e.VolatilePos >= 0)
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
            if (_entries[i].Key is not null)
            {
                return i;
            }
        }
        int start = random.Next(_used);
        for (int n = 0; n < _used; n++)
        {
            int i = (start + n) % _used;
            if (_entries[i].Key is not null)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>A random entry index among keys with an expiry, or -1.</summary>
    public int RandomVolatileIndex(Random random) => _volatileCount == 0 ? -1 : _volatile[random.Next(_volatileCount)];

    private void RemoveVolatile(ref Entry e)
    {
        int pos = e.VolatilePos;
        int last = _volatile[--_volatileCount];
        _volatile[pos] = last;
        _entries[last].VolatilePos = pos;
        e.VolatilePos = -1;
    }

    private void Grow()
    {
        int size = _entries.Length * 2;
        Array.Resize(ref _entries, size);
        _buckets = new int[size];
        uint mask = (uint)(size - 1);
        for (int i = 0; i < _used; i++)
        {
            ref Entry e = ref _entries[i];
            if (e.Key is null)
            {
                continue;
            }
            ref int bucket = ref _buckets[e.Hash & mask];
            e.Next = bucket - 1;
            bucket = i + 1;
        }
    }
}
