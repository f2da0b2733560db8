using System.Runtime.InteropServices;

namespace CacheOperator.Node.Storage;

/// <summary>
/// A hash: fields and values as byte strings. Small hashes are a flat list of field/value pairs in
/// insertion order ("listpack", within the keyspace's hash-max-listpack-entries / -value, checked on every
/// write as Redis does); a hash that outgrows them becomes an <see cref="EntryTable{TValue}"/> ("hashtable")
/// and never goes back, as in Redis.
/// Members are addressed by position 0..Count-1 for whole-hash replies and random picks. A value
/// overwritten by one of the same length is copied over the stored bytes, so an HSET that overwrites
/// allocates nothing; stored bytes are therefore only lent out as spans (readers copy what they keep).
/// </summary>
public sealed class HashValue : ICollectionValue
{
    // Per stored byte string: array header and a reference to it.
    private const int BytesOverhead = 24 + 8;

    private readonly EncodingLimits _limits;
    private List<byte[]>? _pairs = [];
    private EntryTable<NoValue>? _table;

    /// <summary>An empty hash in the compact form, kept within <paramref name="limits"/> (the keyspace's).</summary>
    public HashValue(EncodingLimits limits) => _limits = limits;

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

    /// <summary>The table form (values in records), when not compact.</summary>
    internal EntryTable<NoValue>? Table => _table;

    /// <summary>The value of <paramref name="field"/>; false when absent. The bytes are the stored ones: read, do not keep.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        if (_table is { } table)
        {
            int slot = table.Find(field);
            value = slot < 0 ? default : table.RecordValueAt(slot);
            return slot >= 0;
        }
        int i = IndexOfField(field);
        value = i < 0 ? default : _pairs![i + 1];
        return i >= 0;
    }

    /// <summary>A copy of the value of <paramref name="field"/>, or null.</summary>
    public byte[]? GetCopy(ReadOnlySpan<byte> field) => TryGet(field, out var value) ? value.ToArray() : null;

    /// <summary>True when <paramref name="field"/> is present.</summary>
    public bool Contains(ReadOnlySpan<byte> field) => _table is { } table ? table.Find(field) >= 0 : IndexOfField(field) >= 0;

    /// <summary>
    /// Sets <paramref name="field"/> to <paramref name="value"/> (both copied; a same-length value is copied
    /// over the stored one, allocating nothing); true when the field was new.
    /// </summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        if (_table is null && (field.Length > _limits.HashMaxListpackValue || value.Length > _limits.HashMaxListpackValue))
        {
            ConvertToTable();
        }
        if (_table is { } table)
        {
            int oldLength = table.SetRecordValue(field, value);
            if (oldLength < 0)
            {
                EstimatedBytes += RecordBytes(field.Length, value.Length) + EntryTable<NoValue>.OverheadPerEntry;
                return true;
            }
            EstimatedBytes += RecordBytes(field.Length, value.Length) - RecordBytes(field.Length, oldLength);
            return false;
        }
        var pairs = _pairs!;
        int i = IndexOfField(field);
        bool added = i < 0;
        if (added)
        {
            pairs.Add(field.ToArray());
            pairs.Add(value.ToArray());
            EstimatedBytes += field.Length + value.Length + (2 * BytesOverhead);
        }
        else
        {
            ref byte[] stored = ref CollectionsMarshal.AsSpan(pairs)[i + 1];
            if (stored.Length == value.Length)
            {
                value.CopyTo(stored);
            }
            else
            {
                EstimatedBytes += value.Length - stored.Length;
                stored = value.ToArray();
            }
        }
        // As Redis's hashTypeSet: checked after every write, so an update converts a hash the limit has since dropped below.
        if (pairs.Count / 2 > _limits.HashMaxListpackEntries)
        {
            ConvertToTable();
        }
        return added;
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
            EstimatedBytes -= RecordBytes(field.Length, table.RecordValueAt(slot).Length) + EntryTable<NoValue>.OverheadPerEntry;
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
    public ReadOnlySpan<byte> FieldAt(int position) => _table is { } table ? table.KeyAt(table.SlotAtPosition(position)) : _pairs![2 * position];

    /// <summary>The value at <paramref name="position"/> (0 ≤ position &lt; Count).</summary>
    public ReadOnlySpan<byte> ValueAt(int position) => _table is { } table ? table.RecordValueAt(table.SlotAtPosition(position)) : _pairs![(2 * position) + 1];

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        // A copy keeps the encoding whatever the limits say now, as Redis's COPY does.
        var copy = new HashValue(_limits);
        if (_pairs is { } pairs)
        {
            copy._pairs = pairs.ConvertAll(bytes => (byte[])bytes.Clone());
            copy.EstimatedBytes = EstimatedBytes;
            return copy;
        }
        copy.ConvertToTable((int)Count);
        for (int i = 0; i < Count; i++)
        {
            copy.Set(FieldAt(i), ValueAt(i));
        }
        return copy;
    }

    // A record: array header and reference, the length prefix, the field and the value.
    private static long RecordBytes(int fieldLength, int valueLength) => BytesOverhead + 1 + fieldLength + valueLength;

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
        var table = new EntryTable<NoValue>(Math.Max(capacity, (pairs.Count / 2) + 1), valuesInRecords: true);
        long bytes = 64;
        for (int i = 0; i < pairs.Count; i += 2)
        {
            table.AddRecord(pairs[i], pairs[i + 1]);
            bytes += RecordBytes(pairs[i].Length, pairs[i + 1].Length) + EntryTable<NoValue>.OverheadPerEntry;
        }
        _table = table;
        _pairs = null;
        EstimatedBytes = bytes;
    }
}
