namespace CacheOperator.Node.Replication;

/// <summary>
/// The last <c>repl-backlog-size</c> bytes of the change stream, as Redis's repl_backlog: a replica that reconnects
/// asking for an offset still held here continues from it (+CONTINUE) instead of a full sync. Offsets are Redis's:
/// the first byte ever emitted is offset 1, <see cref="FirstByteOffset"/> is the offset of the oldest byte held.
/// Fed under the keyspace lock.
/// </summary>
public sealed class ReplicationBacklog : IChangeSubscriber
{
    private byte[] _ring;
    private int _next;

    /// <summary>An empty backlog of <paramref name="size"/> bytes whose next byte is the stream's <paramref name="masterOffset"/> + 1.</summary>
    public ReplicationBacklog(long size, long masterOffset)
    {
        _ring = new byte[Math.Max(16 * 1024, size)];
        Reset(masterOffset);
    }

    /// <summary>repl-backlog-size: the bytes kept.</summary>
    public int Size => _ring.Length;

    /// <summary>Bytes held (repl_backlog_histlen).</summary>
    public long HistoryLength { get; private set; }

    /// <summary>Offset of the oldest byte held (repl_backlog_first_byte_offset).</summary>
    public long FirstByteOffset { get; private set; }

    /// <summary>Forgets everything; the next byte received is <paramref name="masterOffset"/> + 1 (a replica after a full sync).</summary>
    public void Reset(long masterOffset)
    {
        _next = 0;
        HistoryLength = 0;
        FirstByteOffset = masterOffset + 1;
    }

    /// <summary>Changes the size (CONFIG SET repl-backlog-size), keeping the newest bytes that fit.</summary>
    public void Resize(long size)
    {
        var ring = new byte[Math.Max(16 * 1024, size)];
        int keep = (int)Math.Min(HistoryLength, ring.Length);
        CopyTail(keep, ring);
        FirstByteOffset += HistoryLength - keep;
        HistoryLength = keep;
        _ring = ring;
        _next = keep % ring.Length;
    }

    /// <inheritdoc/>
    public void Receive(ReadOnlySpan<byte> commands)
    {
        if (commands.Length > _ring.Length)
        {
            // Only the newest ring's worth is kept; the rest counts as written and dropped at once.
            HistoryLength += commands.Length - _ring.Length;
            commands = commands[^_ring.Length..];
        }
        while (!commands.IsEmpty)
        {
            int n = Math.Min(commands.Length, _ring.Length - _next);
            commands[..n].CopyTo(_ring.AsSpan(_next));
            _next = (_next + n) % _ring.Length;
            commands = commands[n..];
            HistoryLength += n;
        }
        if (HistoryLength > _ring.Length)
        {
            FirstByteOffset += HistoryLength - _ring.Length;
            HistoryLength = _ring.Length;
        }
    }

    /// <summary>True when the bytes from <paramref name="offset"/> to the end are held (Redis's partial resync check).</summary>
    public bool Holds(long offset) => offset >= FirstByteOffset && offset <= FirstByteOffset + HistoryLength;

    /// <summary>The bytes from <paramref name="offset"/> (see <see cref="Holds"/>) to the newest.</summary>
    public byte[] CopyFrom(long offset)
    {
        int count = (int)(FirstByteOffset + HistoryLength - offset);
        var copy = new byte[count];
        CopyTail(count, copy);
        return copy;
    }

    /// <summary>Copies the newest <paramref name="count"/> bytes into the start of <paramref name="target"/>.</summary>
    private void CopyTail(int count, byte[] target)
    {
        int start = ((_next - count) % _ring.Length + _ring.Length) % _ring.Length;
        int first = Math.Min(count, _ring.Length - start);
        _ring.AsSpan(start, first).CopyTo(target);
        _ring.AsSpan(0, count - first).CopyTo(target.AsSpan(first));
    }
}
