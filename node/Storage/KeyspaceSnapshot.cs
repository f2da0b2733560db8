using System.Diagnostics;
using System.Numerics;

namespace CacheOperator.Node.Storage;

/// <summary>
/// Receives the entries of a <see cref="KeyspaceSnapshot"/>: each key as it was at the snapshot point, exactly once.
/// <see cref="Write"/> and <see cref="EndChunk"/> run under the keyspace lock, <see cref="FlushAsync"/> outside it.
/// </summary>
public interface ISnapshotSink
{
    /// <summary>
    /// One entry as it was when the snapshot started: database number at the start, key, value, absolute expiry in
    /// unix ms or -1. Called under the keyspace lock, by the walker or by a command about to change the entry, so the
    /// value (a mutable object) must be encoded before returning; the key and value may change right after.
    /// <paramref name="access"/> is the entry's LRU clock or LFU counter (see <see cref="KeyTable.Entry.Access"/>).
    /// </summary>
    void Write(int db, byte[] key, object value, long expireAtMs, uint access);

    /// <summary>Under the lock, after a walker chunk: hand what was written so far to <see cref="FlushAsync"/> (e.g. swap buffers).</summary>
    void EndChunk();

    /// <summary>Outside the lock: write out what <see cref="EndChunk"/> handed over.</summary>
    ValueTask FlushAsync(CancellationToken cancellation);
}

/// <summary>
/// A point-in-time copy of the whole keyspace without fork() and without stopping the world for the whole dataset
/// (BGSAVE, replication full sync). Starting it (under the keyspace lock, O(capacity / 64)) marks every entry index
/// of every database's key table as pending. A walker then takes the lock one chunk at a time — at most
/// <see cref="ChunkBudget"/> (1 ms, but at least <see cref="ChunkMinimum"/> entries) or <see cref="ChunkEntries"/>
/// entries, plus the encoding of the value in hand (a single huge collection holds the lock for its own encoding) —
/// hands each pending live entry to the sink, clears its mark, and leaves the lock free for at least
/// <see cref="PauseBetweenChunks"/> (1 ms) between chunks so clients run. Copy-on-write keeps it exact: before anything
/// deletes an entry, changes its expiry or replaces its value (<see cref="KeyTable"/>, <see cref="Database"/>), and
/// before a write command changes a key's value in place (the dispatcher's <see cref="Database.BeforeWrite"/>), a
/// pending entry is handed to the sink first, with its old value. Keys created after the start are not pending. Marks
/// belong to the tables, which carry their database number at the start: SWAPDB moves tables without disturbing the
/// walk, and a table FLUSHDB/FLUSHALL drops is changed by no one after, so the walker goes on reading it as it was (its
/// memory is held until then, as fork's copy-on-write pages would be). One snapshot at a time.
/// </summary>
public sealed class KeyspaceSnapshot
{
    /// <summary>Longest a walker chunk holds the lock before releasing it (the encoding of one value may exceed it).</summary>
    public static readonly TimeSpan ChunkBudget = TimeSpan.FromMilliseconds(1);

    /// <summary>Least time the walker leaves the lock free between chunks (writing the chunk out counts toward it).</summary>
    public static readonly TimeSpan PauseBetweenChunks = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// Entry indices a walker chunk examines before the time budget applies: on a starved machine (a slice of a core, a
    /// debug build) 1 ms may cover a few entries only, and the walk would then take mostly pauses.
    /// </summary>
    public const int ChunkMinimum = 256;

    /// <summary>Most entry indices a walker chunk examines.</summary>
    public const int ChunkEntries = 16384;

    private readonly Keyspace _keyspace;
    private readonly ISnapshotSink _sink;
    private readonly TableWalk[] _tables;
    private int _current;

    private KeyspaceSnapshot(Keyspace keyspace, ISnapshotSink sink, TableWalk[] tables)
    {
        _keyspace = keyspace;
        _sink = sink;
        _tables = tables;
    }

    /// <summary>True once every pending entry was written (or the snapshot was aborted); the keyspace no longer refers to it.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>True when <see cref="Abort"/> ended it early.</summary>
    public bool IsAborted { get; private set; }

    /// <summary>Keys present at the start (expired keys nobody had removed yet included): the entries the sink receives.</summary>
    public long KeysAtStart { get; private init; }

    /// <summary>Entries written by the walker.</summary>
    public long WalkedEntries { get; private set; }

    /// <summary>Entries written early because something was about to change them (copy-on-write).</summary>
    public long PreservedEntries { get; private set; }

    /// <summary>The longest single hold of the keyspace lock by the snapshot's start or one walker chunk, in Stopwatch ticks.</summary>
    public long LongestHoldTicks { get; private set; }

    /// <summary>Walker chunks run.</summary>
    public long Chunks { get; private set; }

    /// <summary>The keys database <paramref name="db"/> had at the start, and how many of them had an expiry (RDB's RESIZEDB hint).</summary>
    public (long Keys, long Expires) DatabaseSize(int db)
    {
        foreach (var walk in _tables)
        {
            if (walk.Db == db)
            {
                return (walk.KeysAtStart, walk.ExpiresAtStart);
            }
        }
        return (0, 0);
    }

    /// <summary>
    /// Starts a snapshot of <paramref name="keyspace"/> into <paramref name="sink"/>. The caller holds
    /// <see cref="Keyspace.Sync"/> and records in the same hold whatever belongs to the snapshot point (e.g. the
    /// change-stream offset). Throws when one is already running (<see cref="Keyspace.Snapshot"/>).
    /// </summary>
    public static KeyspaceSnapshot Start(Keyspace keyspace, ISnapshotSink sink)
    {
        if (!keyspace.Sync.IsHeldByCurrentThread)
        {
            throw new InvalidOperationException("A snapshot starts under the keyspace lock.");
        }
        if (keyspace.Snapshot is not null)
        {
            throw new InvalidOperationException("A snapshot is already running.");
        }
        long started = Stopwatch.GetTimestamp();
        var tables = new List<TableWalk>();
        long keys = 0;
        for (int d = 0; d < keyspace.DatabaseCount; d++)
        {
            var table = keyspace[d].Table;
            if (table.Count == 0)
            {
                continue;
            }
            tables.Add(new TableWalk(table, d));
            keys += table.Count;
        }
        var snapshot = new KeyspaceSnapshot(keyspace, sink, [.. tables]) { KeysAtStart = keys };
        foreach (var walk in snapshot._tables)
        {
            walk.Owner = snapshot;
            walk.Table.Snapshot = walk;
        }
        keyspace.Snapshot = snapshot;
        if (snapshot._tables.Length == 0)
        {
            snapshot.Finish(aborted: false);
        }
        snapshot.LongestHoldTicks = Stopwatch.GetTimestamp() - started;
        return snapshot;
    }

    /// <summary>
    /// One walker chunk; the caller holds the lock. Writes pending entries until the budget is spent or
    /// <paramref name="maxEntries"/> entry indices were examined; returns true when the snapshot is complete (then it is detached from the keyspace).
    /// </summary>
    public bool Step(int maxEntries = ChunkEntries)
    {
        if (IsComplete)
        {
            return true;
        }
        long started = Stopwatch.GetTimestamp();
        long deadline = started + (long)(ChunkBudget.TotalSeconds * Stopwatch.Frequency);
        int visited = 0;
        while (_current < _tables.Length)
        {
            var walk = _tables[_current];
            walk.Walk(ref visited, maxEntries, deadline);
            if (!walk.Done)
            {
                break;
            }
            walk.Detach();
            _current++;
        }
        Chunks++;
        if (_current == _tables.Length)
        {
            Finish(aborted: false);
        }
        LongestHoldTicks = Math.Max(LongestHoldTicks, Stopwatch.GetTimestamp() - started);
        return IsComplete;
    }

    /// <summary>
    /// The walker: runs chunks under the lock until complete, flushing the sink outside the lock after each. On
    /// failure or cancellation the snapshot is aborted (detached) and the exception propagates; when it was aborted by
    /// someone else (<see cref="Abort"/>) it throws <see cref="OperationCanceledException"/>, so the output is never taken for whole.
    /// </summary>
    public async Task WalkAsync(CancellationToken cancellation = default)
    {
        try
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                bool done;
                lock (_keyspace.Sync)
                {
                    if (IsAborted)
                    {
                        // Someone else ended it (a FLUSHALL abandoning the save): the output must not look complete.
                        throw new OperationCanceledException("The snapshot was aborted.");
                    }
                    done = Step();
                    _sink.EndChunk();
                }
                long released = Stopwatch.GetTimestamp();
                await _sink.FlushAsync(cancellation).ConfigureAwait(false);
                if (done)
                {
                    return;
                }
                // The lock is not fair: a walker coming straight back would often win it again before a waiting client
                // thread has woken up. Leaving it free for a chunk's length at least caps the lock's share to about half.
                if (Stopwatch.GetElapsedTime(released) < PauseBetweenChunks)
                {
                    await Task.Delay(PauseBetweenChunks, cancellation).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            lock (_keyspace.Sync)
            {
                Abort();
            }
            throw;
        }
    }

    /// <summary>Ends the snapshot without writing the rest (the destination failed); the caller holds the lock.</summary>
    public void Abort()
    {
        if (!IsComplete)
        {
            Finish(aborted: true);
        }
    }

    private void Finish(bool aborted)
    {
        foreach (var walk in _tables)
        {
            walk.Detach();
        }
        IsAborted = aborted;
        IsComplete = true;
        if (ReferenceEquals(_keyspace.Snapshot, this))
        {
            _keyspace.Snapshot = null;
        }
    }

    /// <summary>Writes the entry at <paramref name="index"/> of <paramref name="walk"/>'s table ahead of a change.</summary>
    private void Preserve(TableWalk walk, int index)
    {
        walk.Emit(index);
        PreservedEntries++;
    }

    /// <summary>
    /// The pending entries of one key table: a bit per entry index below the table's index limit at the start, all set
    /// (free entries are skipped when met; a free entry reused after the start loses its bit first, see
    /// <see cref="Forget"/>), and the walker's position.
    /// </summary>
    internal sealed class TableWalk
    {
        private readonly ulong[] _pending;
        private readonly int _limit;
        private int _word;

        public TableWalk(KeyTable table, int db)
        {
            Table = table;
            Db = db;
            KeysAtStart = table.Count;
            ExpiresAtStart = table.VolatileCount;
            _limit = table.IndexLimit;
            _pending = new ulong[(_limit + 63) >> 6];
            Array.Fill(_pending, ulong.MaxValue);
            if ((_limit & 63) != 0)
            {
                _pending[^1] = (1UL << (_limit & 63)) - 1;
            }
        }

        public KeyTable Table { get; }

        /// <summary>The database number the table had at the start.</summary>
        public int Db { get; }

        public long KeysAtStart { get; }

        public long ExpiresAtStart { get; }

        public KeyspaceSnapshot Owner { get; set; } = null!;

        public bool Done => _word == _pending.Length;

        /// <summary>Before the entry at <paramref name="index"/> changes: write it now if it is still pending.</summary>
        public void BeforeChange(int index)
        {
            if ((uint)index < (uint)_limit && (_pending[index >> 6] & (1UL << index)) != 0)
            {
                Owner.Preserve(this, index);
            }
        }

        /// <summary>A free entry is being reused for a key created after the start: not part of the snapshot.</summary>
        public void Forget(int index)
        {
            if ((uint)index < (uint)_limit)
            {
                _pending[index >> 6] &= ~(1UL << index);
            }
        }

        /// <summary>Writes the live entry at <paramref name="index"/> (pending) and clears its bit.</summary>
        public void Emit(int index)
        {
            _pending[index >> 6] &= ~(1UL << index);
            ref var entry = ref Table[index];
            if (entry.Key is null)
            {
                return;
            }
            long expireAt = Table.ExpireAt(index);
            Owner._sink.Write(Db, entry.Key, entry.Value!, expireAt == 0 ? -1 : expireAt, entry.Access);
        }

        /// <summary>
        /// Writes pending entries in index order, counting the pending indices it examines (live or not) in
        /// <paramref name="visited"/> (the chunk's count), until it reaches <paramref name="maxEntries"/> or the deadline
        /// passes once <see cref="ChunkMinimum"/> were examined, so the walk always advances.
        /// </summary>
        public void Walk(ref int visited, int maxEntries, long deadline)
        {
            while (_word < _pending.Length)
            {
                ulong bits = _pending[_word];
                while (bits != 0)
                {
                    if (visited >= maxEntries || (visited >= Math.Min(ChunkMinimum, maxEntries) && Stopwatch.GetTimestamp() >= deadline))
                    {
                        return;
                    }
                    int index = (_word << 6) + BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    visited++;
                    if (Table[index].Key is null)
                    {
                        // Free at the start and not reused since: nothing to write.
                        _pending[_word] &= ~(1UL << index);
                        continue;
                    }
                    Emit(index);
                    Owner.WalkedEntries++;
                }
                _word++;
            }
        }

        /// <summary>Stops the table from consulting the walk.</summary>
        public void Detach()
        {
            if (ReferenceEquals(Table.Snapshot, this))
            {
                Table.Snapshot = null;
            }
        }
    }
}
