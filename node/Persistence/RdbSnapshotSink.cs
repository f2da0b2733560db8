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
    private readonly Keyspace _keyspace;
    private readonly bool _compress;
    private readonly RdbAccessInfo _access;
    private readonly bool[] _started;
    private ArrayBufferWriter<byte> _encoding = new(1 << 16);
    private ArrayBufferWriter<byte> _writing = new(1 << 16);
    private int _db = -1;

    /// <summary>A sink for <paramref name="keyspace"/>; strings LZF-compressed when <paramref name="compress"/>, each key's LRU or LFU data as <paramref name="access"/> says.</summary>
    public RdbSnapshotSink(Keyspace keyspace, bool compress, RdbAccessInfo access = RdbAccessInfo.None)
    {
        _keyspace = keyspace;
        _compress = compress;
        _access = access;
        _started = new bool[keyspace.DatabaseCount];
    }

    /// <summary>The snapshot writing into this sink (its database sizes at the start go into RESIZEDB); set in the hold that starts it.</summary>
    public KeyspaceSnapshot? Snapshot { get; set; }

    /// <summary>Where the chunks go; set before the walk starts.</summary>
    public RdbWriter? Writer { get; set; }

    /// <inheritdoc/>
    public void Write(int db, byte[] key, object value, long expireAtMs, uint access)
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
        var (idle, frequency) = RdbWriter.AccessOf(_keyspace, access, _access);
        RdbWriter.EncodeEntry(_encoding, key, value, expireAtMs < 0 ? 0 : expireAtMs, _compress, idle, frequency);
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
