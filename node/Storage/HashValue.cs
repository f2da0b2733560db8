using System.Runtime.InteropServices;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A hash: fields and values as byte strings. Small hashes are a flat list of field/value pairs in
/// insertion order ("listpack", as Redis's hash-max-listpack-entries 128 / -value 64 defaults); a hash
/// that outgrows that becomes an <see cref="EntryTable{TValue}"/> ("hashtable") and never goes back, as in Redis.
/// Members are addressed by position 0..Count-1 for whole-hash replies and random picks. A value
/// overwritten by one of the same length is copied into the stored bytes, so an HSET that overwrites
/// allocates nothing; stored values are therefore never handed out to be kept (readers copy them).
/// </summary>
public sealed class HashValue : ICollectionValue
{
    /// <summary>Most fields kept in the compact form (hash-max-listpack-entries: 512 by default in Redis 7.0, unlike zsets' 128).</summary>
    public const int MaxCompactEntries = 512;

    /// <summary>Longest field or value kept in the compact form.</summary>
    public const int MaxCompactLength = 64;

    // Per stored byte string: array header and a reference to it.
    private const int BytesOverhead = 24 + 8;

    private List<byte[]>? _pairs = [];
    private EntryTable<byte[]>? _table;

    /// <inheritdoc/>
    public string TypeName => "hash";

    /// <inheritdoc/>
    public string EncodingName => _table is null ? "listpack" : "hashtable";

    /// <inheritdoc/>
    public long Count => _table?.Count ?? _pairs!.Count / 2;

    /// <inheritdoc/>
    public long EstimatedBytes { get; private set; } = 64;

    /// <summary>True while in the compact form, where a scan returns everything at once.</summary>
    public bool IsCompact => _table is null;

    /// <summary>The table form, when not compact.</summary>
    internal EntryTable<byte[]>? Table => _table;

    /// <summary>The value of <paramref name="field"/>, or null.</summary>
    public byte[]? Get(ReadOnlySpan<byte> field)
    {
        if (_table is { } table)
        {
            int slot = table.Find(field);
            return slot < 0 ? null : table.ValueAt(slot);
        }
        int i = IndexOfField(field);
        return i < 0 ? null : _pairs![i + 1];
    }

    /// <summary>True when <paramref name="field"/> is present.</summary>
    public bool Contains(ReadOnlySpan<byte> field) => _table is { } table ? table.Find(field) >= 0 : IndexOfField(field) >= 0;

    /// <summary>Sets a field (copied when new) to <paramref name="value"/> (kept); true when the field was new.</summary>
    public bool Set(ReadOnlySpan<byte> field, byte[] value)
    {
        ref byte[] stored = ref Locate(field, value.Length, out bool added);
        EstimatedBytes += value.Length - (added ? 0 : stored.Length);
        stored = value;
        return added;
    }

    /// <summary>
    /// Sets a field (copied when new) to argument <paramref name="valueArg"/> of <paramref name="a"/>: copied
    /// into the stored value when that has the same length, otherwise detached. True when the field was new.
    /// </summary>
    public bool Set(ReadOnlySpan<byte> field, ArgList a, int valueArg)
    {
        var value = a[valueArg];
        ref byte[] stored = ref Locate(field, value.Length, out bool added);
        if (!added && stored.Length == value.Length)
        {
            value.CopyTo(stored);
            return false;
        }
        EstimatedBytes += value.Length - (added ? 0 : stored.Length);
        stored = a.Detach(valueArg);
        return added;
    }

    /// <summary>
    /// The stored value of <paramref name="field"/>, adding the field (copied, with an empty value counted
    /// as such in <see cref="EstimatedBytes"/>) when absent; converts to the table form first when the
    /// field or a value of <paramref name="valueLength"/> bytes does not fit the compact one.
    /// </summary>
    private ref byte[] Locate(ReadOnlySpan<byte> field, int valueLength, out bool added)
    {
        if (_table is null && (field.Length > MaxCompactLength || valueLength > MaxCompactLength))
        {
            ConvertToTable();
        }
        if (_table is { } table)
        {
            int slot = table.FindOrAdd(field, out added);
            ref byte[] stored = ref table.ValueAt(slot);
            if (added)
            {
                stored = [];
                EstimatedBytes += field.Length + (2 * BytesOverhead) + EntryTable<byte[]>.OverheadPerEntry;
            }
            return ref stored;
        }
        var pairs = _pairs!;
        int i = IndexOfField(field);
        added = i < 0;
        if (added)
        {
            if (pairs.Count / 2 >= MaxCompactEntries)
            {
                ConvertToTable();
                return ref Locate(field, valueLength, out added);
            }
            pairs.Add(field.ToArray());
            pairs.Add([]);
            EstimatedBytes += field.Length + (2 * BytesOverhead);
            i = pairs.Count - 2;
        }
        return ref CollectionsMarshal.AsSpan(pairs)[i + 1];
    }

    /// <summary>Removes a field; true when it was present.</summary>
    public bool Remove(ReadOnlySpan<byte> field)
    {
        if (_table is { } table)
        {
            int slot = table.Find(field);
            if (slot < 0)
            {
                return false;
            }
            EstimatedBytes -= table.KeyAt(slot).Length + table.ValueAt(slot)!.Length + (2 * BytesOverhead) + EntryTable<byte[]>.OverheadPerEntry;
            table.RemoveAt(slot);
            return true;
        }
        int i = IndexOfField(field);
        if (i < 0)
        {
            return false;
        }
        var pairs = _pairs!;
        EstimatedBytes -= pairs[i].Length + pairs[i + 1].Length + (2 * BytesOverhead);
        pairs.RemoveRange(i, 2);
        return true;
    }

    /// <summary>The field at <paramref name="position"/> (0 ≤ position &lt; Count).</summary>
    public byte[] FieldAt(int position) => _table is { } table ? table.KeyAt(table.SlotAtPosition(position)) : _pairs![2 * position];

    /// <summary>The value at <paramref name="position"/> (0 ≤ position &lt; Count).</summary>
    public byte[] ValueAt(int position) => _table is { } table ? table.ValueAt(table.SlotAtPosition(position))! : _pairs![(2 * position) + 1];

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new HashValue();
        if (_table is not null)
        {
            // A copy keeps the encoding, as Redis's COPY does.
            copy.ConvertToTable((int)Count);
        }
        for (int i = 0; i < Count; i++)
        {
            copy.Set(FieldAt(i), (byte[])ValueAt(i).Clone());
        }
        return copy;
    }

    private int IndexOfField(ReadOnlySpan<byte> field)
    {
        var pairs = _pairs!;
        for (int i = 0; i < pairs.Count; i += 2)
        {
            if (field.SequenceEqual(pairs[i]))
            {
                return i;
            }
        }
        return -1;
    }

    private void ConvertToTable(int capacity = 0)
    {
        var pairs = _pairs!;
        var table = new EntryTable<byte[]>(Math.Max(capacity, (pairs.Count / 2) + 1));
        for (int i = 0; i < pairs.Count; i += 2)
        {
            table.Add(pairs[i], pairs[i + 1]);
        }
        _table = table;
        _pairs = null;
        EstimatedBytes += (long)table.Count * EntryTable<byte[]>.OverheadPerEntry;
    }
}
