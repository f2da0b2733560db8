namespace CacheOperator.Node.Storage.Streams;

/// <summary>
/// One node of a stream: Redis's listpack of entries delta-encoded against <see cref="Master"/>. The bytes are the
/// listpack's own elements from the master entry's field count onwards (the master entry's "count" and "deleted"
/// elements and the 6-byte header and end byte are not stored: they are rebuilt from <see cref="Live"/> and
/// <see cref="Deleted"/> when the node is written out, so an append never shifts the bytes).
/// </summary>
internal sealed class StreamNode
{
    /// <summary>Entry flag: deleted (STREAM_ITEM_FLAG_DELETED).</summary>
    public const int FlagDeleted = 1;

    /// <summary>Entry flag: same fields as the master entry (STREAM_ITEM_FLAG_SAMEFIELDS).</summary>
    public const int FlagSameFields = 2;

    /// <summary>Bytes of a listpack header (total bytes, element count).</summary>
    public const int ListpackHeaderSize = 6;

    /// <summary>The node's key: the ID of its first entry when it was created.</summary>
    public StreamId Master { get; init; }

    /// <summary>The elements (see the type's summary); <see cref="Used"/> bytes are meaningful.</summary>
    public byte[] Bytes { get; set; } = [];

    /// <summary>Bytes of <see cref="Bytes"/> in use.</summary>
    public int Used { get; set; }

    /// <summary>Entries not deleted (the master entry's "count").</summary>
    public int Live { get; set; }

    /// <summary>Entries marked deleted (the master entry's "deleted").</summary>
    public int Deleted { get; set; }

    /// <summary>Listpack elements stored in <see cref="Bytes"/>.</summary>
    public int Elements { get; set; }

    /// <summary>Number of fields of the master entry.</summary>
    public int MasterFieldCount { get; set; }

    /// <summary>Offset in <see cref="Bytes"/> of the master's first field.</summary>
    public int MasterFieldsStart { get; set; }

    /// <summary>Offset in <see cref="Bytes"/> of the first entry's flags (after the master's zero terminator).</summary>
    public int EntriesStart { get; set; }

    /// <summary>Offset of the last entry's flags (for appends' and reverse iteration's sake); -1 when none.</summary>
    public int LastEntryStart { get; set; } = -1;

    /// <summary>The ID of the last entry, deleted or not (lpGetEdgeStreamID of the last).</summary>
    public StreamId LastEntryId { get; set; }

    /// <summary>Size of the whole listpack as Redis holds it (lpBytes).</summary>
    public int ListpackBytes => ListpackHeaderSize + ListpackElements.IntegerSize(Live) + ListpackElements.IntegerSize(Deleted) + Used + 1;

    /// <summary>
    /// Makes room for <paramref name="extra"/> more bytes: a new node starts at <paramref name="firstSize"/> (the size its
    /// predecessor closed at, so a stream's nodes are allocated about once), then grows by doubling up to <paramref name="cap"/>.
    /// </summary>
    public Span<byte> Reserve(int extra, int cap, int firstSize = 0)
    {
        int needed = Used + extra;
        if (needed > Bytes.Length)
        {
            int size = Bytes.Length == 0 && firstSize > needed
                ? firstSize
                : Math.Max(needed, Math.Min(Math.Max(64, Bytes.Length * 2), Math.Max(cap, needed)));
            var grown = new byte[size];
            Bytes.AsSpan(0, Used).CopyTo(grown);
            Bytes = grown;
        }
        return Bytes.AsSpan(Used, extra);
    }

    /// <summary>Reads the flags and ID of the entry whose flags are at <paramref name="at"/>; returns the position after the ID.</summary>
    public int ReadEntryHeader(int at, out int flags, out StreamId id)
    {
        flags = (int)ListpackElements.ReadInteger(Bytes, ref at);
        long ms = ListpackElements.ReadInteger(Bytes, ref at);
        long seq = ListpackElements.ReadInteger(Bytes, ref at);
        id = new StreamId(Master.Ms + (ulong)ms, Master.Seq + (ulong)seq);
        return at;
    }

    /// <summary>Drops spare capacity (lpShrinkToFit) once the node will take no more entries.</summary>
    public void ShrinkToFit()
    {
        if (Bytes.Length != Used)
        {
            Bytes = Bytes.AsSpan(0, Used).ToArray();
        }
    }

    /// <summary>A deep copy.</summary>
    public StreamNode Clone() => new()
    {
        Master = Master,
        Bytes = Bytes.AsSpan(0, Used).ToArray(),
        Used = Used,
        Live = Live,
        Deleted = Deleted,
        Elements = Elements,
        MasterFieldCount = MasterFieldCount,
        MasterFieldsStart = MasterFieldsStart,
        EntriesStart = EntriesStart,
        LastEntryStart = LastEntryStart,
        LastEntryId = LastEntryId,
    };

    /// <summary>
    /// The whole node as Redis's listpack bytes: header, count, deleted, then the stored elements and the end byte
    /// (what RDB writes for the node).
    /// </summary>
    public byte[] ToListpack()
    {
        var result = new byte[ListpackBytes];
        int p = ListpackHeaderSize;
        p += ListpackElements.WriteInteger(result.AsSpan(p), Live);
        p += ListpackElements.WriteInteger(result.AsSpan(p), Deleted);
        Bytes.AsSpan(0, Used).CopyTo(result.AsSpan(p));
        result[^1] = 0xFF;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
        int count = Elements + 2;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(4), (ushort)Math.Min(count, ushort.MaxValue));
        return result;
    }
}
