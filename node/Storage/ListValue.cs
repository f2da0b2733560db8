using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A list value: a ring buffer of elements (a power-of-two array with a moving head), so pushes and
/// pops at both ends are O(1) amortised and reaching an element by position is O(1). Inserting or
/// removing in the middle (LINSERT, LREM) is O(N), as in Redis.
/// </summary>
public sealed class ListValue : ICollectionValue
{
    /// <summary>Bytes counted for the object itself, whatever it holds.</summary>
    private const long FixedOverhead = 64;

    /// <summary>Bytes counted per element beside its payload and its slot: the byte[] object header.</summary>
    private const long ElementHeaderBytes = 24;

    private const int MinCapacity = 4;

    private byte[][] _items;
    private int _head;
    private int _count;
    private long _payloadBytes;

    /// <summary>An empty list.</summary>
    public ListValue(int capacity = MinCapacity)
    {
        _items = new byte[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, MinCapacity))][];
    }

    /// <inheritdoc/>
    public string TypeName => "list";

    /// <summary>
    /// Redis 7.0 always reports "quicklist" for lists (the listpack form for small lists came with 7.2),
    /// and the real 7.0 server is the reference clients compare with.
    /// </summary>
    public string EncodingName => "quicklist";

    /// <inheritdoc/>
    public long Count => _count;

    /// <summary>Number of elements as an int, for indexing.</summary>
    public int Length => _count;

    /// <inheritdoc/>
    public long EstimatedBytes => FixedOverhead + _items.Length * 8L + _payloadBytes + _count * ElementHeaderBytes;

    /// <summary>The element at <paramref name="index"/> (0 is the head); the caller checks the range.</summary>
    public byte[] this[int index]
    {
        get => _items[Slot(index)];
        set
        {
            int slot = Slot(index);
            _payloadBytes += value.Length - _items[slot].Length;
            _items[slot] = value;
        }
    }

    /// <summary>Adds <paramref name="value"/> before the head.</summary>
    public void PushLeft(byte[] value)
    {
        EnsureRoom();
        _head = (_head - 1) & (_items.Length - 1);
        _items[_head] = value;
        _count++;
        _payloadBytes += value.Length;
    }

    /// <summary>Adds <paramref name="value"/> after the tail.</summary>
    public void PushRight(byte[] value)
    {
        EnsureRoom();
        _items[Slot(_count)] = value;
        _count++;
        _payloadBytes += value.Length;
    }

    /// <summary>Adds at the head (<paramref name="left"/>) or the tail.</summary>
    public void Push(byte[] value, bool left)
    {
        if (left)
        {
            PushLeft(value);
        }
        else
        {
            PushRight(value);
        }
    }

    /// <summary>Removes and returns the head; the list must not be empty.</summary>
    public byte[] PopLeft()
    {
        var value = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        Removed(value);
        return value;
    }

    /// <summary>Removes and returns the tail; the list must not be empty.</summary>
    public byte[] PopRight()
    {
        int slot = Slot(_count - 1);
        var value = _items[slot];
        _items[slot] = null!;
        Removed(value);
        return value;
    }

    /// <summary>Removes and returns the head (<paramref name="left"/>) or the tail.</summary>
    public byte[] Pop(bool left) => left ? PopLeft() : PopRight();

    /// <summary>Index of the first element equal to <paramref name="value"/>, or -1.</summary>
    public int IndexOf(ReadOnlySpan<byte> value)
    {
        for (int i = 0; i < _count; i++)
        {
            if (value.SequenceEqual(this[i]))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Inserts <paramref name="value"/> so that it becomes element <paramref name="index"/> (0..Length).</summary>
    public void Insert(int index, byte[] value)
    {
        var items = new List<byte[]>(_count + 1);
        for (int i = 0; i < _count; i++)
        {
            if (i == index)
            {
                items.Add(value);
            }
            items.Add(this[i]);
        }
        if (index == _count)
        {
            items.Add(value);
        }
        Replace(items);
    }

    /// <summary>
    /// Removes up to <paramref name="limit"/> elements equal to <paramref name="value"/> (0: all),
    /// scanning from the head, or from the tail when <paramref name="fromTail"/>; returns how many.
    /// </summary>
    public int RemoveMatching(ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        var kept = new List<byte[]>(_count);
        int removed = 0;
        for (int n = 0; n < _count; n++)
        {
            int i = fromTail ? _count - 1 - n : n;
            var element = this[i];
            if ((limit == 0 || removed < limit) && value.SequenceEqual(element))
            {
                removed++;
            }
            else
            {
                kept.Add(element);
            }
        }
        if (removed > 0)
        {
            if (fromTail)
            {
                kept.Reverse();
            }
            Replace(kept);
        }
        return removed;
    }

    /// <summary>Keeps elements <paramref name="start"/>..<paramref name="end"/> (inclusive, in range) and drops the rest.</summary>
    public void Trim(int start, int end)
    {
        int dropLeft = start;
        int dropRight = _count - 1 - end;
        for (int i = 0; i < dropLeft; i++)
        {
            PopLeft();
        }
        for (int i = 0; i < dropRight; i++)
        {
            PopRight();
        }
    }

    /// <summary>Drops every element.</summary>
    public void Clear() => Replace([]);

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new ListValue(_count);
        for (int i = 0; i < _count; i++)
        {
            copy.PushRight((byte[])this[i].Clone());
        }
        return copy;
    }

    private int Slot(int index) => (_head + index) & (_items.Length - 1);

    private void EnsureRoom()
    {
        if (_count == _items.Length)
        {
            Resize(_items.Length * 2);
        }
    }

    private void Removed(byte[] value)
    {
        _count--;
        _payloadBytes -= value.Length;
        if (_count == 0)
        {
            _head = 0;
        }
        // Give memory back after a burst, keeping room so alternating push/pop does not resize each time.
        if (_items.Length > 64 && _count < _items.Length / 4)
        {
            Resize(_items.Length / 2);
        }
    }

    private void Resize(int capacity)
    {
        var items = new byte[capacity][];
        for (int i = 0; i < _count; i++)
        {
            items[i] = this[i];
        }
        _items = items;
        _head = 0;
    }

    private void Replace(List<byte[]> elements)
    {
        _items = new byte[(int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(elements.Count, MinCapacity))][];
        _head = 0;
        _count = 0;
        _payloadBytes = 0;
        foreach (var element in elements)
        {
            _items[_count++] = element;
            _payloadBytes += element.Length;
        }
    }
}
