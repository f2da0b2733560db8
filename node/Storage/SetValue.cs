using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A set of byte strings in one of two encodings, as Redis 7.0 keeps them: "intset" (a sorted array of
/// 64-bit integers, while every member is a canonical integer and there are at most the keyspace's
/// set-max-intset-entries) and "hashtable" (an <see cref="EntryTable{TValue}"/>). A set only moves towards
/// the hashtable, never back. Members are addressed by position 0..Count-1 for whole-set replies and random picks.
/// </summary>
public sealed class SetValue : ICollectionValue, ISetMembers
{
    /// <summary>Room a caller gives <see cref="MemberAt"/> for an integer member's text.</summary>
    public const int ScratchLength = 20;

    // Per stored byte string: array header and a reference to it.
    private const int BytesOverhead = 24 + 8;

    private readonly EncodingLimits _limits;
    private long[]? _ints = new long[4];
    private int _intCount;
    private EntryTable<NoValue>? _table;

    /// <summary>An empty set in the intset form, kept within <paramref name="limits"/> (the keyspace's).</summary>
    public SetValue(EncodingLimits limits) => _limits = limits;

    /// <inheritdoc/>
    public string TypeName => "set";

    /// <inheritdoc/>
    public string EncodingName => _ints is not null ? "intset" : "hashtable";

    /// <inheritdoc/>
    public long Count => _ints is not null ? _intCount : _table!.Count;

    /// <inheritdoc/>
    public long EstimatedBytes { get; private set; } = 64;

    /// <summary>True in the intset form, where a scan returns everything at once.</summary>
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
                // As Redis's setTypeAdd: read on every insert, so a lowered limit converts the set when it next grows.
                if (_intCount < _limits.SetMaxIntsetEntries)
                {
                    InsertInt(~at, n);
                    return true;
                }
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
        return _table!.KeyAt(_table.SlotAtPosition(position));
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
        // A copy keeps the encoding whatever the limits say now, as Redis's COPY does.
        var copy = new SetValue(_limits);
        if (_ints is not null)
        {
            copy._ints = (long[])_ints.Clone();
            copy._intCount = _intCount;
        }
        else
        {
            copy.ConvertToTable();
            Span<byte> scratch = stackalloc byte[ScratchLength];
            for (int i = 0; i < Count; i++)
            {
                copy.Add(MemberAt(i, scratch));
            }
        }
        copy.EstimatedBytes = EstimatedBytes;
        return copy;
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

    private void ConvertToTable()
    {
        var table = new EntryTable<NoValue>((int)Count + 1);
        Span<byte> scratch = stackalloc byte[ScratchLength];
        for (int i = 0; i < Count; i++)
        {
            var member = MemberAt(i, scratch);
            table.Add(member.ToArray(), default);
        }
        _ints = null;
        _intCount = 0;
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
