using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A set of byte strings in one of three encodings, as Redis 7.2 keeps them: "intset" (a sorted array of
/// 64-bit integers, while every member is a canonical integer and there are at most 512), "listpack" (a
/// list in insertion order, at most 128 members of at most 64 bytes) and "hashtable" (an
/// <see cref="EntryTable{TValue}"/>). A set only moves towards the hashtable, never back. Members are addressed
/// by position 0..Count-1 for whole-set replies and random picks.
/// </summary>
public sealed class SetValue : ICollectionValue, ISetMembers
{
    /// <summary>Most members kept as an intset (set-max-intset-entries).</summary>
    public const int MaxIntsetEntries = 512;

    /// <summary>Most members kept as a listpack (set-max-listpack-entries).</summary>
    public const int MaxCompactEntries = 128;

    /// <summary>Longest member kept in a listpack (set-max-listpack-value).</summary>
    public const int MaxCompactLength = 64;

    /// <summary>Room a caller gives <see cref="MemberAt"/> for an integer member's text.</summary>
    public const int ScratchLength = 20;

    // Per stored byte string: array header and a reference to it.
    private const int BytesOverhead = 24 + 8;

    private long[]? _ints = new long[4];
    private int _intCount;
    private List<byte[]>? _list;
    private EntryTable<NoValue>? _table;

    /// <inheritdoc/>
    public string TypeName => "set";

    /// <inheritdoc/>
    public string EncodingName => _ints is not null ? "intset" : _list is not null ? "listpack" : "hashtable";

    /// <inheritdoc/>
    public long Count => _ints is not null ? _intCount : _list?.Count ?? _table!.Count;

    /// <inheritdoc/>
    public long EstimatedBytes { get; private set; } = 64;

    /// <summary>True in the intset and listpack forms, where a scan returns everything at once.</summary>
    public bool IsCompact => _table is null;

    /// <summary>The table form, when not compact.</summary>
    internal EntryTable<NoValue>? Table => _table;

    /// <summary>True when <paramref name="member"/> is in the set.</summary>
    public bool Contains(ReadOnlySpan<byte> member)
    {
        if (_ints is not null)
        {
            return NumberFormat.TryParseInt64(member, out long n) && Array.BinarySearch(_ints, 0, _intCount, n) >= 0;
        }
        if (_list is { } list)
        {
            return IndexInList(list, member) >= 0;
        }
        return _table!.Find(member) >= 0;
    }

    /// <summary>Adds a member (copied when stored as bytes); true when it was not there.</summary>
    public bool Add(ReadOnlySpan<byte> member)
    {
        if (_ints is not null)
        {
            if (NumberFormat.TryParseInt64(member, out long n))
            {
                int at = Array.BinarySearch(_ints, 0, _intCount, n);
                if (at >= 0)
                {
                    return false;
                }
                if (_intCount < MaxIntsetEntries)
                {
                    InsertInt(~at, n);
                    return true;
                }
            }
            if (_intCount < MaxCompactEntries && member.Length <= MaxCompactLength)
            {
                ConvertIntsToList();
            }
            else
            {
                ConvertToTable();
            }
        }
        if (_list is { } list)
        {
            if (IndexInList(list, member) >= 0)
            {
                return false;
            }
            if (list.Count < MaxCompactEntries && member.Length <= MaxCompactLength)
            {
                list.Add(member.ToArray());
                EstimatedBytes += member.Length + BytesOverhead;
                return true;
            }
            ConvertToTable();
        }
        _table!.FindOrAdd(member, out bool added);
        if (!added)
        {
            return false;
        }
        EstimatedBytes += member.Length + BytesOverhead + EntryTable<NoValue>.OverheadPerEntry;
        return true;
    }

    /// <summary>Removes a member; true when it was there.</summary>
    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (_ints is not null)
        {
            if (!NumberFormat.TryParseInt64(member, out long n))
            {
                return false;
            }
            int at = Array.BinarySearch(_ints, 0, _intCount, n);
            if (at < 0)
            {
                return false;
            }
            RemovePosition(at);
            return true;
        }
        if (_list is { } list)
        {
            int i = IndexInList(list, member);
            if (i < 0)
            {
                return false;
            }
            RemovePosition(i);
            return true;
        }
        int slot = _table!.Find(member);
        if (slot < 0)
        {
            return false;
        }
        EstimatedBytes -= member.Length + BytesOverhead + EntryTable<NoValue>.OverheadPerEntry;
        _table.RemoveAt(slot);
        return true;
    }

    /// <summary>Removes the member at <paramref name="position"/> (0 ≤ position &lt; Count).</summary>
    public void RemovePosition(int position)
    {
        if (_ints is not null)
        {
            Array.Copy(_ints, position + 1, _ints, position, _intCount - position - 1);
            _intCount--;
            EstimatedBytes -= 8;
        }
        else if (_list is { } list)
        {
            EstimatedBytes -= list[position].Length + BytesOverhead;
            list.RemoveAt(position);
        }
        else
        {
            int slot = _table!.SlotAtPosition(position);
            EstimatedBytes -= _table.KeyAt(slot).Length + BytesOverhead + EntryTable<NoValue>.OverheadPerEntry;
            _table.RemoveAt(slot);
        }
    }

    /// <summary>
    /// The member at <paramref name="position"/> (0 ≤ position &lt; Count): the stored bytes, or an
    /// integer member's text written into <paramref name="scratch"/> (at least <see cref="ScratchLength"/> bytes).
    /// </summary>
    public ReadOnlySpan<byte> MemberAt(int position, Span<byte> scratch)
    {
        if (_ints is not null)
        {
            _ints[position].TryFormat(scratch, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
            return scratch[..written];
        }
        return _list is { } list ? list[position] : _table!.KeyAt(_table.SlotAtPosition(position));
    }

    /// <inheritdoc/>
    public IEnumerable<byte[]> Members
    {
        get
        {
            var scratch = new byte[ScratchLength];
            for (int i = 0; i < Count; i++)
            {
                yield return MemberAt(i, scratch).ToArray();
            }
        }
    }

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new SetValue();
        if (_ints is not null)
        {
            copy._ints = (long[])_ints.Clone();
            copy._intCount = _intCount;
        }
        else
        {
            // A copy keeps the encoding, as Redis's COPY does.
            if (_list is not null)
            {
                copy.ConvertIntsToList();
            }
            else
            {
                copy.ConvertToTable();
            }
            Span<byte> scratch = stackalloc byte[ScratchLength];
            for (int i = 0; i < Count; i++)
            {
                copy.Add(MemberAt(i, scratch));
            }
        }
        copy.EstimatedBytes = EstimatedBytes;
        return copy;
    }

    private static int IndexInList(List<byte[]> list, ReadOnlySpan<byte> member)
    {
        for (int i = 0; i < list.Count; i++)
        {
            if (member.SequenceEqual(list[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private void InsertInt(int at, long n)
    {
        if (_intCount == _ints!.Length)
        {
            Array.Resize(ref _ints, _ints.Length * 2);
        }
        Array.Copy(_ints, at, _ints, at + 1, _intCount - at);
        _ints[at] = n;
        _intCount++;
        EstimatedBytes += 8;
    }

    private void ConvertIntsToList()
    {
        var list = new List<byte[]>(Math.Max(_intCount + 1, 4));
        Span<byte> scratch = stackalloc byte[ScratchLength];
        for (int i = 0; i < _intCount; i++)
        {
            list.Add(MemberAt(i, scratch).ToArray());
        }
        _ints = null;
        _intCount = 0;
        _list = list;
        RecomputeBytes();
    }

    private void ConvertToTable()
    {
        var table = new EntryTable<NoValue>((int)Count + 1);
        Span<byte> scratch = stackalloc byte[ScratchLength];
        for (int i = 0; i < Count; i++)
        {
            var member = MemberAt(i, scratch);
            table.Add(_list is { } list ? list[i] : member.ToArray(), default);
        }
        _ints = null;
        _intCount = 0;
        _list = null;
        _table = table;
        RecomputeBytes();
    }

    private void RecomputeBytes()
    {
        long bytes = 64;
        Span<byte> scratch = stackalloc byte[ScratchLength];
        for (int i = 0; i < Count; i++)
        {
            bytes += MemberAt(i, scratch).Length + BytesOverhead + (_table is null ? 0 : EntryTable<NoValue>.OverheadPerEntry);
        }
        EstimatedBytes = bytes;
    }
}
