using System.Diagnostics;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Persistence;

/// <summary>A background save under way: where the stream stood at the snapshot point, and when it ends (true: written).</summary>
public sealed class BackgroundSave
{
    internal BackgroundSave(long offset, long startedTimestamp, Task<bool> completion, KeyspaceSnapshot snapshot, bool toFile)
    {
        Offset = offset;
        StartedTimestamp = startedTimestamp;
        Completion = completion;
        Snapshot = snapshot;
        ToFile = toFile;
    }

    /// <summary>The change stream's offset (master_repl_offset) at the snapshot point: the data is exactly the stream up to here.</summary>
    public long Offset { get; }

    /// <summary>Stopwatch timestamp of the start.</summary>
    public long StartedTimestamp { get; }

    /// <summary>Completes when the snapshot was written (true) or failed (false).</summary>
    public Task<bool> Completion { get; }

    /// <summary>The point-in-time walk being written (its lock holds and copy-on-write counts).</summary>
    public KeyspaceSnapshot Snapshot { get; }

    /// <summary>True for a save to dir/dbfilename, false for one to a stream (a replica).</summary>
    internal bool ToFile { get; }

    /// <summary>Set when a later foreground save (SHUTDOWN, FLUSHALL) made this one obsolete: it must not replace the file.</summary>
    internal volatile bool Abandoned;

    /// <summary>
    /// Marks it obsolete (under the keyspace lock); a save to the file also stops walking, which frees what the walk
    /// still held (tables FLUSHALL dropped). A save to a stream goes on: its data is still that of its snapshot point.
    /// </summary>
    internal void Abandon()
    {
        Abandoned = true;
        if (ToFile)
        {
            Snapshot.Abort();
        }
    }
}

/// <summary>
/// RDB snapshots of the node (Redis's rdb.c save/load side and the save rules of serverCron): SAVE, BGSAVE and
/// the save rules write dir/dbfilename through a temporary file, fsync and rename; start-up loads it; SHUTDOWN and
/// SIGTERM save when rules are set. State is guarded by the keyspace lock unless noted.
/// </summary>
public sealed class SnapshotService
{
    /// <summary>Redis's CONFIG_BGSAVE_RETRY_DELAY: seconds between attempts after a failed background save.</summary>
    private const long RetryDelaySeconds = 5;

    private readonly Keyspace _keyspace;
    private readonly NodeConfig _config;
    private readonly NodeLog _log;
    private readonly ChangeStream _stream;
    private readonly ReplicationIds _ids;

    // Orders the renames of a background save finishing and a foreground save, so an abandoned one never replaces a newer file.
    private readonly Lock _renameLock = new();
    private long _lastBackgroundTryUnix;
    private long _dirtyAtBackgroundStart;

    /// <summary>A service for the node's keyspace; <paramref name="stream"/> gives the offset recorded at each snapshot.</summary>
    public SnapshotService(Keyspace keyspace, NodeConfig config, NodeLog log, ChangeStream stream, ReplicationIds ids)
    {
        _keyspace = keyspace;
        _config = config;
        _log = log;
        _stream = stream;
        _ids = ids;
        LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    /// <summary>dir/dbfilename.</summary>
    public string FilePath => Path.Combine(_config.Dir.Text, _config.DbFilename.Text);

    /// <summary>The save rules in force.</summary>
    public IReadOnlyList<SaveRule> Rules => SaveRules.Parse(_config.Save.Text);

    /// <summary>Unix seconds of the last successful save (LASTSAVE); the start time before any.</summary>
    public long LastSaveUnix { get; private set; }

    /// <summary>False after a background save failed, until one succeeds (rdb_last_bgsave_status).</summary>
    public bool LastBackgroundSaveOk { get; private set; } = true;

    /// <summary>Seconds the last background save took, -1 before any (rdb_last_bgsave_time_sec).</summary>
    public long LastBackgroundSaveSeconds { get; private set; } = -1;

    /// <summary>Successful saves, foreground and background (rdb_saves).</summary>
    public long Saves { get; private set; }

    /// <summary>The background save under way, or null.</summary>
    public BackgroundSave? Current { get; private set; }

    /// <summary>BGSAVE SCHEDULE asked for a save while one was running; the cycle starts it after.</summary>
    public bool Scheduled { get; private set; }

    /// <summary>True while the start-up load runs (read without the lock): commands without the loading flag get -LOADING.</summary>
    public bool IsLoading => Volatile.Read(ref _loading);

    private bool _loading;

    /// <summary>Unix seconds when the running load started (loading_start_time).</summary>
    public long LoadingStartUnix { get; private set; }

    /// <summary>Size of the file being loaded (loading_total_bytes).</summary>
    public long LoadingTotalBytes { get; private set; }

    /// <summary>Bytes of the file loaded so far (loading_loaded_bytes); read without the lock.</summary>
    public long LoadingLoadedBytes => Interlocked.Read(ref _loadingLoadedBytes);

    private long _loadingLoadedBytes;

    /// <summary>Keys the last load kept (rdb_last_load_keys_loaded).</summary>
    public long LastLoadKeysLoaded { get; private set; }

    /// <summary>Keys the last load dropped as expired (rdb_last_load_keys_expired).</summary>
    public long LastLoadKeysExpired { get; private set; }

    /// <summary>
    /// True when writes must be refused with MISCONF: the last background save failed, rules are set and
    /// stop-writes-on-bgsave-error is yes (Redis's writeCommandsDeniedByDiskError).
    /// </summary>
    public bool DeniesWrites => !LastBackgroundSaveOk && _config.StopWritesOnBgsaveError.IsOn && _config.Save.Text.Length > 0;

    /// <summary>
    /// Loads dir/dbfilename when it exists (start-up, before the cycle runs): read without the lock into fresh
    /// tables, swapped in under it only when the whole file is intact. Throws <see cref="IOException"/> with the
    /// reason when the file cannot be read or is corrupt; the keyspace is then untouched.
    /// </summary>
    public RdbLoadResult? LoadAtStartup()
    {
        string path = FilePath;
        if (!File.Exists(path))
        {
            return null;
        }
        long started = Stopwatch.GetTimestamp();
        LoadingStartUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Interlocked.Exchange(ref _loadingLoadedBytes, 0);
        Volatile.Write(ref _loading, true);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            LoadingTotalBytes = file.Length;
            long delayMicros = _config.KeyLoadDelay.Number;
            var result = RdbReader.ReadTables(file, _keyspace, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), _config.RdbChecksum.IsOn, bytes =>
            {
                Interlocked.Exchange(ref _loadingLoadedBytes, bytes);
                if (delayMicros > 0)
                {
                    // key-load-delay: Redis's hook for tests that must catch the server while it loads.
                    Thread.Sleep(TimeSpan.FromMicroseconds(delayMicros));
                }
            });
            lock (_keyspace.Sync)
            {
                if (LoadFunctionLibraries?.Invoke(result.File.FunctionLibraries) is { } functionsError)
                {
                    throw new RdbFormatException($"Failed loading the function libraries: {functionsError}");
                }
                result.SwapInto(_keyspace);
                LastLoadKeysLoaded = result.KeysLoaded;
                LastLoadKeysExpired = result.KeysExpired;
            }
            _log.Event(LogLevel.Notice, "rdb_loaded", "DB loaded from disk",
                ("path", path), ("keys", result.KeysLoaded), ("expired", result.KeysExpired), ("seconds", Stopwatch.GetElapsedTime(started).TotalSeconds));
            return result;
        }
        catch (RdbFormatException e)
        {
            throw new IOException($"Fatal error loading the DB from {path}: {e.Message} Exiting.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"Fatal error loading the DB from {path}: {e.Message}. Exiting.", e);
        }
        finally
        {
            Volatile.Write(ref _loading, false);
        }
    }

    /// <summary>SAVE: writes the snapshot now, holding the keyspace lock (the caller holds it). False, logged, when it cannot be written.</summary>
    public bool SaveNow()
    {
        string path = FilePath;
        string temp = Path.Combine(_config.Dir.Text, $"temp-{Environment.ProcessId}.rdb");
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                RdbWriter.WriteKeyspace(file, _keyspace, Header(), _config.RdbCompression.IsOn, _config.RdbChecksum.IsOn, AccessInfo());
                file.Flush(flushToDisk: true);
            }
            lock (_renameLock)
            {
                File.Move(temp, path, overwrite: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Event(LogLevel.Warning, "rdb_save_failed", "Failed saving the DB", ("path", path), ("error", e.Message));
            TryDelete(temp);
            return false;
        }
        _keyspace.Dirty = 0;
        LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        LastBackgroundSaveOk = true;
        Saves++;
        _log.Event(LogLevel.Notice, "rdb_saved", "DB saved on disk", ("path", path));
        return true;
    }

    /// <summary>
    /// BGSAVE and the save rules (the caller holds the keyspace lock): snapshots the data at this point and writes it on
    /// a background task to <paramref name="destination"/>, or to dir/dbfilename through a temporary file when null. Null
    /// when a background save is already running. A destination stream (a replica's socket) is not disposed, and a save
    /// to it does not count as the node's last save.
    /// </summary>
    public BackgroundSave? StartBackgroundSave(Stream? destination = null, RdbReplicationInfo? replication = null)
    {
        if (Current is not null)
        {
            return null;
        }
        long started = Stopwatch.GetTimestamp();
        long offset = _stream.MasterOffset;
        var header = Header(replication);
        bool compress = _config.RdbCompression.IsOn;
        bool checksum = _config.RdbChecksum.IsOn;
        // The data as it is now, written by a walker that holds the lock a chunk at a time (copy-on-write meanwhile).
        var sink = new RdbSnapshotSink(_keyspace, compress, AccessInfo());
        var snapshot = KeyspaceSnapshot.Start(_keyspace, sink);
        sink.Snapshot = snapshot;
        _lastBackgroundTryUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        _dirtyAtBackgroundStart = _keyspace.Dirty;
        Scheduled = false;
        string path = FilePath;
        string temp = Path.Combine(_config.Dir.Text, $"temp-bgsave-{Environment.ProcessId}.rdb");
        BackgroundSave? save = null;
        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        save = new BackgroundSave(offset, started, completion.Task, snapshot, toFile: destination is null);
        Current = save;
        _log.Event(LogLevel.Notice, "bgsave_started", "Background saving started", ("path", destination is null ? path : "(stream)"), ("offset", offset));
        _ = Task.Run(async () =>
        {
            bool ok = false;
            try
            {
                ok = destination is null
                    ? await WriteFileAsync(snapshot, sink, header, compress, checksum, temp, path, save)
                    : await WriteStreamAsync(snapshot, sink, header, compress, checksum, destination);
            }
            finally
            {
                lock (_keyspace.Sync)
                {
                    // Whatever ended the write, the walk no longer holds on to the keyspace.
                    snapshot.Abort();
                    Finished(save, ok, destination is null);
                }
                completion.SetResult(ok);
            }
        });
        return save;
    }

    /// <summary>BGSAVE SCHEDULE while a save runs: the cycle starts one when it ends.</summary>
    public void Schedule() => Scheduled = true;

    /// <summary>The save rules and scheduled saves (serverCron), run by the server's background cycle; takes the keyspace lock.</summary>
    public void Cron()
    {
        lock (_keyspace.Sync)
        {
            if (Current is not null || IsLoading)
            {
                return;
            }
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            bool mayRetry = LastBackgroundSaveOk || now - _lastBackgroundTryUnix > RetryDelaySeconds;
            foreach (var rule in Rules)
            {
                if (_keyspace.Dirty >= rule.Changes && now - LastSaveUnix > rule.Seconds && mayRetry)
                {
                    _log.Event(LogLevel.Notice, "save_rule", $"{rule.Changes} changes in {rule.Seconds} seconds. Saving...");
                    StartBackgroundSave();
                    return;
                }
            }
            if (Scheduled && mayRetry)
            {
                StartBackgroundSave();
            }
        }
    }

    /// <summary>
    /// Before SHUTDOWN or SIGTERM (the caller holds the keyspace lock): saves when <paramref name="save"/> is true, or
    /// when it is null and rules are set; a background save under way is abandoned first. False when the save failed.
    /// </summary>
    public bool SaveBeforeShutdown(bool? save)
    {
        if (Current is { } running)
        {
            running.Abandon();
            _log.Notice("There is a background save in progress: abandoned before shutdown");
        }
        // While loading, the keyspace does not hold the file's data yet: saving would replace the file with less.
        if (IsLoading || !(save ?? Rules.Count > 0))
        {
            return true;
        }
        _log.Notice("Saving the final RDB snapshot before exiting.");
        return SaveNow();
    }

    /// <summary>
    /// FLUSHALL (the caller holds the keyspace lock): a background save under way would write the data as it was, so it
    /// is abandoned; with rules set the now empty dataset is saved at once, as Redis does.
    /// </summary>
    public void DatasetFlushed()
    {
        if (Current is { } running)
        {
            running.Abandon();
        }
        if (Rules.Count > 0)
        {
            SaveNow();
        }
    }

    /// <summary>IDLE under an LRU policy, FREQ under an LFU one, as Redis records them.</summary>
    private RdbAccessInfo AccessInfo()
    {
        string policy = _config.MaxMemoryPolicy.Text;
        return policy.EndsWith("lru", StringComparison.Ordinal) ? RdbAccessInfo.Idle
            : policy.EndsWith("lfu", StringComparison.Ordinal) ? RdbAccessInfo.Frequency : RdbAccessInfo.None;
    }

    private RdbHeader Header(RdbReplicationInfo? replication = null) =>
        new(ConfigLoader.RedisVersion, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), _keyspace.UsedMemory(),
            replication ?? (_stream.HasSubscribers ? new RdbReplicationInfo(_stream.StreamDb, _ids.Id, _stream.MasterOffset) : null),
            FunctionLibraries?.Invoke());

    /// <summary>The code of each function library, read under the keyspace lock when a snapshot starts.</summary>
    public Func<IReadOnlyList<byte[]>>? FunctionLibraries { get; set; }

    /// <summary>Installs a loaded file's function libraries in place of the node's (under the lock); null, or the error text.</summary>
    public Func<IReadOnlyList<byte[]>, string?>? LoadFunctionLibraries { get; set; }

    /// <summary>The header, the walk's chunks as they come (written outside the lock), EOF and checksum.</summary>
    private static async Task WriteSnapshotAsync(Stream destination, KeyspaceSnapshot snapshot, RdbSnapshotSink sink, RdbHeader header, bool compress, bool checksum)
    {
        var writer = new RdbWriter(destination, compress, checksum);
        writer.WriteHeader(header);
        sink.Writer = writer;
        await snapshot.WalkAsync();
        writer.Finish();
    }

    private async Task<bool> WriteFileAsync(KeyspaceSnapshot snapshot, RdbSnapshotSink sink, RdbHeader header, bool compress, bool checksum, string temp, string path, BackgroundSave save)
    {
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                await WriteSnapshotAsync(file, snapshot, sink, header, compress, checksum);
                file.Flush(flushToDisk: true);
            }
            lock (_renameLock)
            {
                if (save.Abandoned)
                {
                    TryDelete(temp);
                    return false;
                }
                File.Move(temp, path, overwrite: true);
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            // Abandoned (FLUSHALL, shutdown): the walk stopped, the partial file goes.
            TryDelete(temp);
            return false;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Event(LogLevel.Warning, "bgsave_failed", "Background saving failed", ("path", path), ("error", e.Message));
            TryDelete(temp);
            return false;
        }
    }

    private async Task<bool> WriteStreamAsync(KeyspaceSnapshot snapshot, RdbSnapshotSink sink, RdbHeader header, bool compress, bool checksum, Stream destination)
    {
        try
        {
            await WriteSnapshotAsync(destination, snapshot, sink, header, compress, checksum);
            return true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or NotSupportedException or OperationCanceledException)
        {
            _log.Event(LogLevel.Warning, "bgsave_failed", "Background saving to a stream failed", ("error", e.Message));
            return false;
        }
    }

    /// <summary>Records the end of a background save (under the keyspace lock), as Redis's backgroundSaveDoneHandler.</summary>
    private void Finished(BackgroundSave save, bool ok, bool toFile)
    {
        if (ReferenceEquals(Current, save))
        {
            Current = null;
        }
        if (save.Abandoned)
        {
            return;
        }
        LastBackgroundSaveSeconds = (long)Stopwatch.GetElapsedTime(save.StartedTimestamp).TotalSeconds;
        if (!toFile)
        {
            if (ok)
            {
                LogDone("sync_snapshot_done", "Diskless snapshot for replicas streamed", save.Snapshot);
            }
            return;
        }
        if (ok)
        {
            // Changes made while the file was written are still unsaved.
            _keyspace.Dirty -= Math.Min(_dirtyAtBackgroundStart, _keyspace.Dirty);
            LastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            Saves++;
            LogDone("bgsave_done", "Background saving terminated with success", save.Snapshot);
        }
        LastBackgroundSaveOk = ok;
    }

    /// <summary>Logs a finished snapshot with what it cost the clients: the longest single hold of the keyspace lock.</summary>
    private void LogDone(string name, string message, KeyspaceSnapshot snapshot) =>
        _log.Event(LogLevel.Notice, name, message,
            ("keys", snapshot.KeysAtStart), ("longest_lock_hold_ms", Math.Round(snapshot.LongestHoldTicks * 1000.0 / Stopwatch.Frequency, 2)),
            ("chunks", snapshot.Chunks), ("preserved", snapshot.PreservedEntries));

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the temporary file stays behind, as Redis's would.
        }
    }
}
