namespace CacheOperator.Node.Storage;

/// <summary>
/// All databases of the node and the lock that makes commands atomic. A connection takes
/// <see cref="Sync"/> once per batch of pipelined commands, so every command (and later a MULTI/EXEC
/// block or a script) sees and leaves the keyspace consistent, while parsing and socket IO run in parallel.
/// </summary>
public sealed class Keyspace
{
    private readonly Database[] _databases;

    /// <summary>The lock held while commands run.</summary>
    public Lock Sync { get; } = new();

    /// <summary>Creates <paramref name="count"/> empty databases; with <paramref name="slotIndexed"/> (cluster mode) their tables keep keys by hash slot.</summary>
    public Keyspace(int count, bool slotIndexed = false)
    {
        SlotIndexed = slotIndexed;
        _databases = new Database[count];
        for (int i = 0; i < count; i++)
        {
            _databases[i] = new Database(this, i);
        }
        Watches = new WatchedKeys(count);
        SyncWallClock();
    }

    /// <summary>True in cluster mode: every key table keeps its keys by hash slot (<see cref="KeyTable.CountInSlot"/>).</summary>
    public bool SlotIndexed { get; }

    /// <summary>When collections keep their compact encodings; the server keeps it in step with the configuration.</summary>
    public EncodingLimits EncodingLimits { get; } = new();

    /// <summary>Keys clients WATCH; every write touches it through <see cref="Database.SignalModified"/>.</summary>
    public WatchedKeys Watches { get; }

    /// <summary>Who hears of keys written, expired, evicted and of flushed or swapped databases (the server layer).</summary>
    public IKeyspaceObserver? Observer { get; set; }

    /// <summary>The classes of notify-keyspace-events: a command's notification costs one test of these while they are off.</summary>
    public KeyspaceEventTypes NotifyKeyspaceEvents { get; set; }

    /// <summary>
    /// Signals of change by commands: every key written, deleted or given an expiry counts; deletions by expiry
    /// and eviction do not. A command changed the data exactly when it moved this counter (then it is propagated).
    /// </summary>
    public long Changes { get; internal set; }

    /// <summary>
    /// Changes as Redis's server.dirty counts them (INFO rdb_changes_since_last_save): one per command that
    /// changed something, or the number the command declared (<see cref="Database.CountChanges"/>).
    /// </summary>
    public long Dirty { get; set; }

    /// <summary>What the running command declared with <see cref="Database.CountChanges"/>; -1 when it declared nothing.</summary>
    public long DeclaredChanges { get; set; } = -1;

    /// <summary>The running point-in-time snapshot (BGSAVE, full sync), or null; at most one at a time.</summary>
    public KeyspaceSnapshot? Snapshot { get; internal set; }

    /// <summary>Number of databases.</summary>
    public int DatabaseCount => _databases.Length;

    /// <summary>Database <paramref name="index"/>.</summary>
    public Database this[int index] => _databases[index];

    /// <summary>The command's notion of now, in unix milliseconds: fixed for the duration of one command, as in Redis.</summary>
    public long NowMs { get; private set; }

    /// <summary>Value stamped on entries when accessed (seconds, for LRU).</summary>
    public uint AccessClock { get; private set; }

    /// <summary>False after DEBUG SET-ACTIVE-EXPIRE 0: expired keys are only removed when read.</summary>
    public bool ActiveExpiryEnabled { get; set; } = true;

    /// <summary>Keys removed because their time ran out.</summary>
    public long ExpiredKeys { get; internal set; }

    /// <summary>Keys removed to stay under maxmemory.</summary>
    public long EvictedKeys { get; internal set; }

    /// <summary>
    /// When true, <see cref="KeyTable.Entry.Access"/> holds Redis's LFU data (minutes of the last decay in
    /// the upper 16 bits, a logarithmic access counter in the low 8); otherwise the LRU clock in seconds.
    /// </summary>
    public bool UsesLfu { get; set; }

    /// <summary>lfu-log-factor: how many accesses it takes to raise the LFU counter (higher: slower).</summary>
    public int LfuLogFactor { get; set; } = 10;

    /// <summary>lfu-decay-time: minutes after which an idle key's LFU counter drops by one (0: never).</summary>
    public int LfuDecayMinutes { get; set; } = 1;

    /// <summary>Random source for LFU increments and eviction sampling (used under <see cref="Sync"/>).</summary>
    public Random Random { get; } = new();

    /// <summary>
    /// True while CLIENT PAUSE is in force: expired keys read as missing but are not deleted, and neither
    /// active expiry nor eviction runs, so the dataset does not change (Redis 7.0).
    /// </summary>
    public bool ChangesPaused { get; set; }

    /// <summary>
    /// True while this node is a replica: its master decides when keys expire (and sends DELs), so expired keys read as
    /// missing but are never deleted here, and neither active expiry nor eviction runs (Redis 7.0's replicas).
    /// </summary>
    public bool ExpiresFollowMaster { get; set; }

    /// <summary>True while a command of a replica's master runs: keys past their expiry are still there for it.</summary>
    public bool ApplyingMaster { get; set; }

    /// <summary>True while a command of a CLIENT NO-TOUCH client runs: lookups leave LRU/LFU as they are.</summary>
    public bool NoTouch { get; set; }

    /// <summary>Successful key lookups by read commands.</summary>
    public long Hits { get; set; }

    /// <summary>Failed key lookups by read commands.</summary>
    public long Misses { get; set; }

    // Wall-clock time is derived from the cheap monotonic timestamp the dispatcher reads anyway, and
    // re-based on the wall clock by the background cycle (SyncWallClock), so a command costs no clock call.
    private long _baseUnixMs;
    private long _baseTimestamp;

    /// <summary>Re-reads the wall clock (background cycle and start-up; under the lock).</summary>
    public void SyncWallClock()
    {
        _baseUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _baseTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
        UpdateClock(_baseTimestamp);
    }

    /// <summary>Sets the command's "now" from a Stopwatch timestamp taken as the command starts.</summary>
    public void UpdateClock(long timestamp)
    {
        NowMs = _baseUnixMs + (timestamp - _baseTimestamp) * 1000 / System.Diagnostics.Stopwatch.Frequency;
        AccessClock = (uint)(NowMs / 1000);
    }

    /// <summary>Sets the command's "now" from the current time.</summary>
    public void UpdateClock() => UpdateClock(System.Diagnostics.Stopwatch.GetTimestamp());

    /// <summary>The counter a new key starts with under LFU, so it is not evicted before it can be used (Redis's LFU_INIT_VAL).</summary>
    public const int LfuInitialCount = 5;

    /// <summary>The access field for a key just created.</summary>
    public uint NewAccess() => UsesLfu ? (LfuMinutes() << 8) | LfuInitialCount : AccessClock;

    /// <summary>The access field after the key was used: the LRU clock, or the decayed and incremented LFU counter.</summary>
    public uint Touched(uint access)
    {
        if (!UsesLfu)
        {
            return AccessClock;
        }
        uint counter = LfuFrequency(access);
        if (counter < 255)
        {
            double baseValue = Math.Max(0, (int)counter - LfuInitialCount);
            double p = 1.0 / ((baseValue * LfuLogFactor) + 1);
            if (Random.NextDouble() < p)
            {
                counter++;
            }
        }
        return (LfuMinutes() << 8) | counter;
    }

    /// <summary>The LFU counter of an access field after the decay its idle minutes call for (OBJECT FREQ's answer).</summary>
    public uint LfuFrequency(uint access)
    {
        uint lastDecay = (access >> 8) & 0xFFFF;
        uint counter = access & 0xFF;
        uint now = LfuMinutes();
        uint elapsed = now >= lastDecay ? now - lastDecay : 65535 - lastDecay + now;
        uint periods = LfuDecayMinutes > 0 ? elapsed / (uint)LfuDecayMinutes : 0;
        return periods >= counter ? 0 : counter - periods;
    }

    /// <summary>Seconds since the key was last used under LRU (OBJECT IDLETIME's answer).</summary>
    public long IdleSeconds(uint access) => AccessClock >= access ? AccessClock - access : 0;

    private uint LfuMinutes() => (uint)(NowMs / 60_000) & 0xFFFF;

    /// <summary>Bytes the data holds across databases: keys, values, collection overhead, tables and expiry indexes.</summary>
    public long UsedMemory()
    {
        long total = 0;
        foreach (var db in _databases)
        {
            total += db.Table.UsedBytes;
        }
        return total;
    }

    /// <summary>Swaps the contents of two databases (SWAPDB).</summary>
    public void Swap(int a, int b)
    {
        Watches.TouchDatabase(_databases[a], _databases[b]);
        Watches.TouchDatabase(_databases[b], _databases[a]);
        (_databases[a].Table, _databases[b].Table) = (_databases[b].Table, _databases[a].Table);
        Changes++;
        Observer?.DatabasesSwapped(_databases[a], _databases[b]);
    }

    /// <summary>Total keys across databases.</summary>
    public long TotalKeys()
    {
        long total = 0;
        foreach (var db in _databases)
        {
            total += db.Count;
        }
        return total;
    }
}
