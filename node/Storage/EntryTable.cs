namespace CacheOperator.Node.Storage;

/// <summary>
/// The "hashtable" encoding of hashes and sets: a dictionary from member bytes to a slot in arrays
/// whose slots never move while their member lives. Stable slots make HSCAN/SSCAN cursors exact (the
/// cursor is a slot number, so every member present throughout an iteration is returned however the
/// table grows or shrinks in between), and a dense list of live slots gives uniform random picks.
/// Freed slots are reused before the arrays grow.
/// </summary>
public sealed class EntryTable
{
    private readonly Dictionary<byte[], int> _slotOf;
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly bool _hasValues;
    private byte[]?[] _keys;
    private byte[]?[] _values;

    // For a live slot: its position in _dense. For a free slot: the next free slot (-1 ends the list).
    private int[] _link;
    private int[] _dense;
    private int _used;
    private int _freeList = -1;

    /// <summary>An empty table for <paramref name="capacity"/> members; <paramref name="hasValues"/> for hashes.</summary>
    public EntryTable(bool hasValues, int capacity)
    {
        capacity = Math.Max(capacity, 4);
        _hasValues = hasValues;
        _slotOf = new Dictionary<byte[], int>(capacity, ByteArrayComparer.Instance);
        _lookup = _slotOf.GetAlternateLookup<ReadOnlySpan<byte>>();
        _keys = new byte[capacity][];
        _values = hasValues ? new byte[capacity][] : [];
        _link = new int[capacity];
        _dense = new int[capacity];
    }

    /// <summary>Live members.</summary>
    public int Count => _slotOf.Count;

    /// <summary>One past the highest slot ever used: where a scan ends.</summary>
    public int SlotLimit => _used;

    /// <summary>Bytes of bookkeeping per member beyond the member and value bytes themselves.</summary>
    public const int OverheadPerEntry = 24 + 8 + 8 + 4 + 4 + 8;

    /// <summary>The slot holding <paramref name="key"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> key) => _lookup.TryGetValue(key, out int slot) ? slot : -1;

    /// <summary>True when <paramref name="slot"/> holds a member.</summary>
    public bool IsLive(int slot) => (uint)slot < (uint)_used && _keys[slot] is not null;

    /// <summary>The member at a live slot.</summary>
    public byte[] KeyAt(int slot) => _keys[slot]!;

    /// <summary>The value at a live slot of a hash.</summary>
    public ref byte[]? ValueAt(int slot) => ref _values[slot];

    /// <summary>The slot of the <paramref name="position"/>-th live member (0 ≤ position &lt; Count), in no particular order.</summary>
    public int SlotAtPosition(int position) => _dense[position];

    /// <summary>Adds a member known to be absent; returns its slot.</summary>
    public int Add(byte[] key, byte[]? value)
    {
        int slot;
        if (_freeList >= 0)
        {
            slot = _freeList;
            _freeList = _link[slot];
        }
        else
        {
            if (_used == _keys.Length)
            {
                Grow();
            }
            slot = _used++;
        }
        _keys[slot] = key;
        if (_hasValues)
        {
            _values[slot] = value;
        }
        int position = _slotOf.Count;
        _dense[position] = slot;
        _link[slot] = position;
        _slotOf.Add(key, slot);
        return slot;
    }

    /// <summary>Removes the member at a live slot.</summary>
    public void RemoveAt(int slot)
    {
        _slotOf.Remove(_keys[slot]!);
        // Fill the hole in the dense list with its last entry (the dictionary count is already one less).
        int position = _link[slot];
        int last = _dense[_slotOf.Count];
        _dense[position] = last;
        _link[last] = position;
        _keys[slot] = null;
        if (_hasValues)
        {
            _values[slot] = null;
        }
        _link[slot] = _freeList;
        _freeList = slot;
    }

    private void Grow()
    {
        int size = _keys.Length * 2;
        Array.Resize(ref _keys, size);
        if (_hasValues)
        {
            Array.Resize(ref _values, size);
        }
        Array.Resize(ref _link, size);
        Array.Resize(ref _dense, size);
    }
}
