using System.Buffers;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Persistence;

/// <summary>
/// Encodes a <see cref="KeyspaceSnapshot"/>'s entries as RDB under the keyspace lock (SELECTDB and RESIZEDB the first
/// time a database comes up, SELECTDB alone when entries of another database came in between, then each entry) and hands
/// each chunk to an <see cref="RdbWriter"/> outside the lock. Two buffers take turns and keep their capacity, so
/// encoding allocates nothing per key.
/// </summary>
public sealed class RdbSnapshotSink : ISnapshotSink
{
    private readonly bool _compress;
    private readonly bool[] _started;
    private ArrayBufferWriter<byte> _encoding = new(1 << 16);
    private ArrayBufferWriter<byte> _writing = new(1 << 16);
    private int _db = -1;

    /// <summary>A sink for a keyspace of <paramref name="databases"/> databases; strings LZF-compressed when <paramref name="compress"/>.</summary>
    public RdbSnapshotSink(int databases, bool compress)
    {
        _compress = compress;
        _started = new bool[databases];
    }

    /// <summary>The snapshot writing into this sink (its database sizes at the start go into RESIZEDB); set in the hold that starts it.</summary>
    public KeyspaceSnapshot? Snapshot { get; set; }

    /// <summary>Where the chunks go; set before the walk starts.</summary>
    public RdbWriter? Writer { get; set; }

    /// <inheritdoc/>
    public void Write(int db, byte[] key, object value, long expireAtMs)
    {
        if (db != _db)
        {
            if (!_started[db])
            {
                var (keys, expires) = Snapshot?.DatabaseSize(db) ?? (0, 0);
                RdbWriter.EncodeDatabaseStart(_encoding, db, keys, expires);
                _started[db] = true;
            }
            else
            {
                // Entries of another database were written ahead of a change in between: switch back.
                _encoding.GetSpan(1)[0] = RdbOpcode.SelectDb;
                _encoding.Advance(1);
                RdbObjectWriter.WriteLength(_encoding, (ulong)db);
            }
            _db = db;
        }
        RdbWriter.EncodeEntry(_encoding, key, value, expireAtMs < 0 ? 0 : expireAtMs, _compress);
    }

    /// <inheritdoc/>
    public void EndChunk() => (_encoding, _writing) = (_writing, _encoding);

    /// <inheritdoc/>
    public ValueTask FlushAsync(CancellationToken cancellation)
    {
        if (_writing.WrittenCount > 0)
        {
            Writer!.WriteRaw(_writing.WrittenSpan);
            _writing.ResetWrittenCount();
        }
        return ValueTask.CompletedTask;
    }
}
