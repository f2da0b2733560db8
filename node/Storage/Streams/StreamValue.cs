using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Storage.Streams;

/// <summary>How XADD / XTRIM trim a stream (Redis's streamAddTrimArgs, parsed).</summary>
/// <param name="ByMinId">MINID (else MAXLEN).</param>
/// <param name="MaxLen">MAXLEN's threshold.</param>
/// <param name="MinId">MINID's threshold.</param>
/// <param name="Approx">"~": only whole nodes are removed.</param>
/// <param name="Limit">Most entries removed (0: no limit).</param>
public readonly record struct StreamTrimArgs(bool ByMinId, long MaxLen, StreamId MinId, bool Approx, long Limit);

/// <summary>
/// A stream (Redis's stream): entries in ID order kept in nodes of Redis's listpack bytes (<see cref="StreamNode"/>),
/// each node delta-encoded against its master ID and holding at most stream-node-max-entries entries /
/// stream-node-max-bytes bytes, nodes sorted by master ID (Redis's radix tree), plus the stream's counters
/// and its consumer groups.
/// </summary>
public sealed class StreamValue : ICollectionValue
{
    /// <summary>Largest listpack Redis builds (STREAM_LISTPACK_MAX_SIZE).</summary>
    private const int ListpackMaxSize = 1 << 30;

    private const int NodeOverhead = 96;

    private readonly EncodingLimits _limits;
    private readonly List<StreamNode> _nodes = [];
    private long _nodeBytes;

    /// <summary>An empty stream whose nodes are sized by <paramref name="limits"/> (the keyspace's).</summary>
    public StreamValue(EncodingLimits limits) => _limits = limits;

    /// <summary>Orders group and consumer names byte by byte, as Redis's radix trees do.</summary>
    public static IComparer<byte[]> NameOrder { get; } = Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b));

    /// <inheritdoc/>
    public string TypeName => "stream";

    /// <inheritdoc/>
    public string EncodingName => "stream";

    /// <inheritdoc/>
    public long Count => Length;

    /// <summary>Live entries (s->length).</summary>
    public long Length { get; private set; }

    /// <summary>The ID of the last entry ever added, or set by XSETID (s->last_id).</summary>
    public StreamId LastId { get; set; }

    /// <summary>The first live entry's ID, 0-0 when empty (s->first_id).</summary>
    public StreamId FirstId { get; set; }

    /// <summary>The largest ID ever deleted (s->max_deleted_entry_id).</summary>
    public StreamId MaxDeletedEntryId { get; set; }

    /// <summary>Entries ever added (s->entries_added).</summary>
    public ulong EntriesAdded { get; set; }

    /// <summary>The consumer groups by name, in byte order.</summary>
    public SortedDictionary<byte[], StreamConsumerGroup> Groups { get; private set; } = new(NameOrder);

    /// <summary>Nodes (XINFO's radix-tree-keys).</summary>
    public int NodeCount => _nodes.Count;

    /// <inheritdoc/>
    public long EstimatedBytes
    {
        get
        {
            long bytes = 128 + _nodeBytes + (_nodes.Count * (long)NodeOverhead);
            foreach (var group in Groups.Values)
            {
                bytes += group.EstimatedBytes;
            }
            return bytes;
        }
    }

    /// <summary>The nodes in order (persistence).</summary>
    internal IReadOnlyList<StreamNode> Nodes => _nodes;

    /// <inheritdoc/>
    public ICollectionValue Clone()
    {
        var copy = new StreamValue(_limits)
        {
            Length = Length,
            LastId = LastId,
            FirstId = FirstId,
            MaxDeletedEntryId = MaxDeletedEntryId,
            EntriesAdded = EntriesAdded,
            _nodeBytes = 0,
        };
        foreach (var node in _nodes)
        {
            var c = node.Clone();
            copy._nodes.Add(c);
            copy._nodeBytes += c.Bytes.Length;
        }
        foreach (var (name, group) in Groups)
        {
            copy.Groups.Add(name, group.Clone());
        }
        return copy;
    }

    /// <summary>
    /// Appends an entry with ID <paramref name="id"/> (greater than <see cref="LastId"/>: the caller checks) and the
    /// <paramref name="pairCount"/> field/value pairs starting at argument <paramref name="firstField"/>.
    /// Updates the length, last ID, entries added and (for the first entry) first ID.
    /// </summary>
    public void Append(StreamId id, ArgList args, int firstField, int pairCount)
    {
        long totalElementBytes = 0;
        for (int i = 0; i < pairCount * 2; i++)
        {
            totalElementBytes += args[firstField + i].Length;
        }
        long maxBytes = _limits.StreamNodeMaxBytes;
        if (maxBytes == 0 || maxBytes > ListpackMaxSize)
        {
            maxBytes = ListpackMaxSize;
        }
        var node = _nodes.Count > 0 ? _nodes[^1] : null;
        int firstSize = 0;
        if (node is not null)
        {
            // A successor node is likely to fill up as its predecessor did: start it at that size (plus some slack).
            firstSize = (int)Math.Min(node.Used + (node.Used / 8) + 16, maxBytes);
            if (node.ListpackBytes + totalElementBytes >= maxBytes
                || (_limits.StreamNodeMaxEntries != 0 && node.Live + node.Deleted >= _limits.StreamNodeMaxEntries))
            {
                // The node takes no more entries (lpShrinkToFit): its spare capacity goes.
                _nodeBytes -= node.Bytes.Length;
                node.ShrinkToFit();
                _nodeBytes += node.Bytes.Length;
                node = null;
            }
        }
        int flags = 0;
        long before = 0;
        if (node is null)
        {
            node = new StreamNode { Master = id };
            int size = ListpackElements.IntegerSize(pairCount) + ListpackElements.IntegerSize(0);
            for (int i = 0; i < pairCount; i++)
            {
                size += ListpackElements.Size(args[firstField + (2 * i)]);
            }
            var span = node.Reserve(size, (int)Math.Min(maxBytes, 4096), firstSize);
            int p = ListpackElements.WriteInteger(span, pairCount);
            node.MasterFieldsStart = p;
            for (int i = 0; i < pairCount; i++)
            {
                p += ListpackElements.Write(span[p..], args[firstField + (2 * i)]);
            }
            p += ListpackElements.WriteInteger(span[p..], 0);
            node.Used = p;
            node.Elements = pairCount + 2;
            node.MasterFieldCount = pairCount;
            node.EntriesStart = p;
            _nodes.Add(node);
            flags = StreamNode.FlagSameFields;
        }
        else
        {
            before = node.Bytes.Length;
            if (pairCount == node.MasterFieldCount)
            {
                int p = node.MasterFieldsStart;
                int i = 0;
                for (; i < pairCount; i++)
                {
                    if (!ListpackElements.TextEquals(node.Bytes, p, args[firstField + (2 * i)]))
                    {
                        break;
                    }
                    p = ListpackElements.Skip(node.Bytes, p);
                }
                if (i == pairCount)
                {
                    flags = StreamNode.FlagSameFields;
                }
            }
        }
        bool same = flags == StreamNode.FlagSameFields;
        long msDelta = (long)(id.Ms - node.Master.Ms);
        long seqDelta = (long)(id.Seq - node.Master.Seq);
        int lpCount = pairCount + 3 + (same ? 0 : pairCount + 1);
        int entrySize = ListpackElements.IntegerSize(flags) + ListpackElements.IntegerSize(msDelta) + ListpackElements.IntegerSize(seqDelta)
            + ListpackElements.IntegerSize(lpCount) + (same ? 0 : ListpackElements.IntegerSize(pairCount));
        for (int i = 0; i < pairCount; i++)
        {
            if (!same)
            {
                entrySize += ListpackElements.Size(args[firstField + (2 * i)]);
            }
            entrySize += ListpackElements.Size(args[firstField + (2 * i) + 1]);
        }
        var entry = node.Reserve(entrySize, (int)Math.Min(maxBytes, 1 << 20));
        int w = ListpackElements.WriteInteger(entry, flags);
        w += ListpackElements.WriteInteger(entry[w..], msDelta);
        w += ListpackElements.WriteInteger(entry[w..], seqDelta);
        if (!same)
        {
            w += ListpackElements.WriteInteger(entry[w..], pairCount);
        }
        for (int i = 0; i < pairCount; i++)
        {
            if (!same)
            {
                w += ListpackElements.Write(entry[w..], args[firstField + (2 * i)]);
            }
            w += ListpackElements.Write(entry[w..], args[firstField + (2 * i) + 1]);
        }
        w += ListpackElements.WriteInteger(entry[w..], lpCount);
        node.LastEntryStart = node.Used;
        node.Used += w;
        node.Elements += lpCount + 1;
        node.Live++;
        node.LastEntryId = id;
        _nodeBytes += node.Bytes.Length - before;
        if (Length == 0)
        {
            FirstId = id;
        }
        Length++;
        LastId = id;
        EntriesAdded++;
    }

    /// <summary>True when an entry with <paramref name="id"/> is present and not deleted.</summary>
    public bool Contains(StreamId id) => FindEntry(id, out _, out _);

    /// <summary>
    /// Deletes the entry <paramref name="id"/> (marks it deleted, dropping its node when no live entry is left in it);
    /// false when there is no such live entry. Keeps <see cref="FirstId"/>; <see cref="MaxDeletedEntryId"/> is the caller's.
    /// </summary>
    public bool Delete(StreamId id)
    {
        if (!FindEntry(id, out int nodeIndex, out int entryStart))
        {
            return false;
        }
        var node = _nodes[nodeIndex];
        bool wasFirst = id == FirstId;
        if (node.Live == 1)
        {
            RemoveNodeAt(nodeIndex);
        }
        else
        {
            // Flags are 0..3: one byte, 7-bit integer encoding; setting the bit keeps the size.
            node.Bytes[entryStart] |= StreamNode.FlagDeleted;
            node.Live--;
            node.Deleted++;
        }
        Length--;
        if (Length == 0)
        {
            FirstId = StreamId.Min;
        }
        else if (wasFirst)
        {
            FirstId = FirstLiveId();
        }
        return true;
    }

    /// <summary>Trims the stream as XADD / XTRIM ask (Redis's streamTrim); returns the entries removed.</summary>
    public long Trim(in StreamTrimArgs args)
    {
        long deleted = 0;
        int index = 0;
        while (index < _nodes.Count)
        {
            if (!args.ByMinId && Length <= args.MaxLen)
            {
                break;
            }
            var node = _nodes[index];
            long entries = node.Live;
            if (args.Limit != 0 && deleted + entries > args.Limit)
            {
                break;
            }
            bool removeNode = args.ByMinId ? node.LastEntryId < args.MinId : Length - entries >= args.MaxLen;
            if (removeNode)
            {
                RemoveNodeAt(index);
                Length -= entries;
                deleted += entries;
                continue;
            }
            if (args.Approx)
            {
                break;
            }
            // Mark entries deleted one by one inside this node, then stop: it held enough.
            int fromNode = 0;
            int p = node.EntriesStart;
            var bytes = node.Bytes;
            while (p < node.Used)
            {
                int flagsAt = p;
                p = node.ReadEntryHeader(p, out int flags, out var current);
                bool stop = args.ByMinId ? current >= args.MinId : Length <= args.MaxLen;
                if (stop)
                {
                    break;
                }
                p = SkipEntryBody(node, bytes, p, flags);
                if ((flags & StreamNode.FlagDeleted) == 0)
                {
                    bytes[flagsAt] |= StreamNode.FlagDeleted;
                    fromNode++;
                    Length--;
                }
            }
            node.Live -= fromNode;
            node.Deleted += fromNode;
            deleted += fromNode;
            break;
        }
        if (deleted > 0)
        {
            FirstId = Length > 0 ? FirstLiveId() : StreamId.Min;
        }
        return deleted;
    }

    /// <summary>The ID of the first entry, deleted ones included (streamGetEdgeID(s,1,0)); <see cref="StreamId.Max"/> when there are no nodes.</summary>
    public StreamId FirstEntryIdIncludingDeleted()
    {
        if (_nodes.Count == 0)
        {
            return StreamId.Max;
        }
        var node = _nodes[0];
        node.ReadEntryHeader(node.EntriesStart, out _, out var id);
        return id;
    }

    /// <summary>Entries from <paramref name="start"/> to <paramref name="end"/> (inclusive), forwards or backwards, read in place.</summary>
    public Enumerator Range(StreamId start, StreamId end, bool reverse) => new(this, start, end, reverse);

    /// <summary>
    /// The node count of Redis's radix tree over the nodes' 128-bit big-endian master IDs (XINFO's radix-tree-nodes):
    /// the root, every branching point, every child of one, and every key, chains of single children being one node.
    /// </summary>
    public long RadixTreeNodes()
    {
        if (_nodes.Count == 0)
        {
            return 1;
        }
        return CountRaxNodes(0, _nodes.Count, 0);
    }

    private long CountRaxNodes(int lo, int hi, int depth)
    {
        if (depth == 16)
        {
            return 1;
        }
        int common = CommonPrefix(_nodes[lo].Master, _nodes[hi - 1].Master);
        if (common > depth)
        {
            // A compressed node down to where the keys part (or the key ends).
            return 1 + CountRaxNodes(lo, hi, common);
        }
        long total = 1;
        int start = lo;
        for (int i = lo + 1; i <= hi; i++)
        {
            if (i == hi || KeyByte(_nodes[i].Master, depth) != KeyByte(_nodes[start].Master, depth))
            {
                total += CountRaxNodes(start, i, depth + 1);
                start = i;
            }
        }
        return total;
    }

    private static int KeyByte(StreamId id, int at) => at < 8 ? (int)(id.Ms >> (8 * (7 - at))) & 0xFF : (int)(id.Seq >> (8 * (15 - at))) & 0xFF;

    private static int CommonPrefix(StreamId a, StreamId b)
    {
        int n = 0;
        while (n < 16 && KeyByte(a, n) == KeyByte(b, n))
        {
            n++;
        }
        return n;
    }

    /// <summary>The first live entry's ID (the stream is not empty).</summary>
    private StreamId FirstLiveId()
    {
        var e = Range(StreamId.Min, StreamId.Max, reverse: false);
        return e.MoveNext() ? e.Id : StreamId.Min;
    }

    private void RemoveNodeAt(int index)
    {
        _nodeBytes -= _nodes[index].Bytes.Length;
        _nodes.RemoveAt(index);
    }

    /// <summary>Index of the node that may hold <paramref name="id"/>: the last whose master is at or below it; -1 when none.</summary>
    private int NodeAtOrBefore(StreamId id)
    {
        int lo = 0, hi = _nodes.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_nodes[mid].Master <= id)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }

    private bool FindEntry(StreamId id, out int nodeIndex, out int entryStart)
    {
        entryStart = -1;
        nodeIndex = NodeAtOrBefore(id);
        if (nodeIndex < 0 || _nodes[nodeIndex].LastEntryId < id)
        {
            return false;
        }
        var node = _nodes[nodeIndex];
        var bytes = node.Bytes;
        int p = node.EntriesStart;
        while (p < node.Used)
        {
            int at = p;
            p = node.ReadEntryHeader(p, out int flags, out var current);
            if (current == id)
            {
                entryStart = at;
                return (flags & StreamNode.FlagDeleted) == 0;
            }
            if (current > id)
            {
                return false;
            }
            p = SkipEntryBody(node, bytes, p, flags);
        }
        return false;
    }

    /// <summary>From just after an entry's ID, skips its fields/values and its lp-count.</summary>
    private static int SkipEntryBody(StreamNode node, byte[] bytes, int p, int flags)
    {
        long toSkip;
        if ((flags & StreamNode.FlagSameFields) != 0)
        {
            toSkip = node.MasterFieldCount;
        }
        else
        {
            toSkip = ListpackElements.ReadInteger(bytes, ref p) * 2;
        }
        for (long i = 0; i < toSkip; i++)
        {
            p = ListpackElements.Skip(bytes, p);
        }
        return ListpackElements.Skip(bytes, p);
    }

    /// <summary>
    /// Adds a node read from RDB: Redis's listpack bytes keyed by <paramref name="master"/>. False when the bytes
    /// are not a well-formed stream listpack (bad counts, entries out of order). Length and IDs are the caller's.
    /// </summary>
    public bool TryAddNode(StreamId master, ReadOnlySpan<byte> listpack)
    {
        try
        {
            return AddNodeChecked(master, listpack);
        }
        catch (IndexOutOfRangeException)
        {
            return false;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private bool AddNodeChecked(StreamId master, ReadOnlySpan<byte> listpack)
    {
        if (listpack.Length < StreamNode.ListpackHeaderSize + 1 || listpack[^1] != 0xFF
            || System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(listpack) != (uint)listpack.Length
            || (_nodes.Count > 0 && _nodes[^1].LastEntryId >= master))
        {
            return false;
        }
        // Every element well formed and the header's count right, before the entries are interpreted.
        int declared = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(listpack[4..]);
        int count = 0;
        for (int at = StreamNode.ListpackHeaderSize; at < listpack.Length - 1; count++)
        {
            if (!ListpackElements.TryRead(listpack, at, listpack.Length - 1, out _, out _, out _, out at))
            {
                return false;
            }
        }
        if (declared != ushort.MaxValue && declared != count)
        {
            return false;
        }
        var body = listpack[StreamNode.ListpackHeaderSize..^1];
        int p = 0;
        long live = ListpackElements.ReadInteger(body, ref p);
        long deletedCount = ListpackElements.ReadInteger(body, ref p);
        int start = p;
        var bytes = body[start..].ToArray();
        var node = new StreamNode { Master = master, Bytes = bytes, Used = bytes.Length };
        int q = 0;
        long fieldCount = ListpackElements.ReadInteger(bytes, ref q);
        if (fieldCount < 0 || fieldCount > bytes.Length)
        {
            return false;
        }
        node.MasterFieldCount = (int)fieldCount;
        node.MasterFieldsStart = q;
        for (long i = 0; i < fieldCount; i++)
        {
            q = ListpackElements.Skip(bytes, q);
        }
        if (ListpackElements.ReadInteger(bytes, ref q) != 0)
        {
            return false;
        }
        node.EntriesStart = q;
        int elements = (int)fieldCount + 2;
        long seenLive = 0, seenDeleted = 0;
        StreamId previous = default;
        bool any = false;
        while (q < bytes.Length)
        {
            int at = q;
            q = node.ReadEntryHeader(q, out int flags, out var id);
            if (flags is < 0 or > 3)
            {
                return false;
            }
            if (any ? id <= previous : id < master)
            {
                return false;
            }
            long fields = (flags & StreamNode.FlagSameFields) != 0 ? fieldCount : ListpackElements.ReadInteger(bytes, ref q);
            if (fields < 0 || fields > bytes.Length)
            {
                return false;
            }
            long values = (flags & StreamNode.FlagSameFields) != 0 ? fields : fields * 2;
            for (long i = 0; i < values; i++)
            {
                q = ListpackElements.Skip(bytes, q);
            }
            long lpCount = ListpackElements.ReadInteger(bytes, ref q);
            long expectedCount = fields + 3 + ((flags & StreamNode.FlagSameFields) != 0 ? 0 : fields + 1);
            if (lpCount != expectedCount || q > bytes.Length)
            {
                return false;
            }
            elements += (int)lpCount + 1;
            if ((flags & StreamNode.FlagDeleted) != 0)
            {
                seenDeleted++;
            }
            else
            {
                seenLive++;
            }
            node.LastEntryStart = at;
            node.LastEntryId = id;
            previous = id;
            any = true;
        }
        if (!any || q != bytes.Length || seenLive != live || seenDeleted != deletedCount)
        {
            return false;
        }
        node.Live = (int)live;
        node.Deleted = (int)deletedCount;
        node.Elements = elements;
        _nodes.Add(node);
        _nodeBytes += bytes.Length;
        return true;
    }

    /// <summary>Sets the length after nodes were added from RDB (checked against the nodes).</summary>
    public bool TrySetLoadedLength(long length)
    {
        long live = 0;
        foreach (var node in _nodes)
        {
            live += node.Live;
        }
        Length = live;
        return live == length;
    }

    /// <summary>
    /// Reads a range of entries in place (Redis's streamIterator). A struct: take it by ref or as a local; the
    /// stream must not change while it is in use.
    /// </summary>
    public struct Enumerator
    {
        private readonly StreamValue _stream;
        private readonly StreamId _start;
        private readonly StreamId _end;
        private readonly bool _reverse;
        private readonly byte[] _scratch;
        private int _nodeIndex;
        private StreamNode? _node;
        private int _pos;
        private int[]? _offsets;
        private int _offsetCount;
        private int _offsetIndex;
        private int _cursor;
        private int _masterCursor;
        private bool _sameFields;
        private bool _done;

        internal Enumerator(StreamValue stream, StreamId start, StreamId end, bool reverse)
        {
            _stream = stream;
            _start = start;
            _end = end;
            _reverse = reverse;
            _scratch = new byte[48];
            _done = false;
            int at = stream.NodeAtOrBefore(reverse ? end : start);
            _nodeIndex = reverse ? (at < 0 ? -1 : at) : Math.Max(at, 0);
            _node = null;
            Id = default;
            FieldCount = 0;
        }

        /// <summary>The current entry's ID.</summary>
        public StreamId Id { get; private set; }

        /// <summary>The current entry's number of field/value pairs.</summary>
        public int FieldCount { get; private set; }

        /// <summary>Moves to the next live entry in range; false at the end.</summary>
        public bool MoveNext()
        {
            if (_done)
            {
                return false;
            }
            var nodes = _stream._nodes;
            while (true)
            {
                if (_node is null)
                {
                    if (_nodeIndex < 0 || _nodeIndex >= nodes.Count)
                    {
                        _done = true;
                        return false;
                    }
                    _node = nodes[_nodeIndex];
                    if (_reverse)
                    {
                        CollectOffsets(_node);
                        _offsetIndex = _offsetCount;
                    }
                    else
                    {
                        _pos = _node.EntriesStart;
                    }
                }
                var node = _node;
                var bytes = node.Bytes;
                int entryAt;
                if (_reverse)
                {
                    if (_offsetIndex == 0)
                    {
                        _node = null;
                        _nodeIndex--;
                        continue;
                    }
                    entryAt = _offsets![--_offsetIndex];
                }
                else
                {
                    if (_pos >= node.Used)
                    {
                        _node = null;
                        _nodeIndex++;
                        continue;
                    }
                    entryAt = _pos;
                }
                int p = entryAt;
                p = node.ReadEntryHeader(p, out int flags, out var id);
                if (!_reverse)
                {
                    _pos = SkipEntryBody(node, bytes, p, flags);
                }
                if ((flags & StreamNode.FlagDeleted) != 0)
                {
                    continue;
                }
                if (_reverse ? id > _end : id < _start)
                {
                    continue;
                }
                if (_reverse ? id < _start : id > _end)
                {
                    _done = true;
                    return false;
                }
                Id = id;
                _sameFields = (flags & StreamNode.FlagSameFields) != 0;
                if (_sameFields)
                {
                    FieldCount = node.MasterFieldCount;
                    _masterCursor = node.MasterFieldsStart;
                }
                else
                {
                    FieldCount = (int)ListpackElements.ReadInteger(bytes, ref p);
                }
                _cursor = p;
                return true;
            }
        }

        /// <summary>
        /// The next field/value pair of the current entry (call <see cref="FieldCount"/> times, in order). The spans
        /// are valid until the next call.
        /// </summary>
        public void ReadPair(out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
        {
            var bytes = _node!.Bytes;
            if (_sameFields)
            {
                field = ListpackElements.ReadText(bytes, ref _masterCursor, _scratch.AsSpan(0, 24));
            }
            else
            {
                field = ListpackElements.ReadText(bytes, ref _cursor, _scratch.AsSpan(0, 24));
            }
            value = ListpackElements.ReadText(bytes, ref _cursor, _scratch.AsSpan(24, 24));
        }

        private void CollectOffsets(StreamNode node)
        {
            _offsets ??= new int[Math.Max(16, node.Live + node.Deleted)];
            _offsetCount = 0;
            int p = node.EntriesStart;
            var bytes = node.Bytes;
            while (p < node.Used)
            {
                if (_offsetCount == _offsets.Length)
                {
                    Array.Resize(ref _offsets, _offsets.Length * 2);
                }
                _offsets[_offsetCount++] = p;
                p = node.ReadEntryHeader(p, out int flags, out _);
                p = SkipEntryBody(node, bytes, p, flags);
            }
        }
    }
}
