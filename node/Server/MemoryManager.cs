using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>
/// Keeps the data under maxmemory: evicts before each command when over the limit, refuses
/// commands that need memory when it cannot (the OOM error), re-charges the keys a write command
/// changed, tracks the peak, and logs eviction pressure at most once per <see cref="PressureLogInterval"/>.
/// Runs under the keyspace lock.
/// </summary>
public sealed class MemoryManager
{
    /// <summary>Redis's error for a command that needs memory while the data is over maxmemory.</summary>
    public const string OomError = "OOM command not allowed when used memory > 'maxmemory'.";

    /// <summary>Shortest time between two eviction-pressure log lines.</summary>
    public static readonly TimeSpan PressureLogInterval = TimeSpan.FromSeconds(10);

    private readonly Keyspace _keyspace;
    private readonly NodeConfig _config;
    private readonly NodeLog _log;
    private long _peak;
    private long _episodeEvicted;
    private long _episodeRefused;
    private long _lastPressureLog = long.MinValue / 2;
    private long _lastCollection = long.MinValue / 2;

    /// <summary>Applies the memory directives now and whenever CONFIG SET changes them.</summary>
    public MemoryManager(Keyspace keyspace, NodeConfig config, NodeLog log)
    {
        _keyspace = keyspace;
        _config = config;
        _log = log;
        Evictor = new Evictor(keyspace);
        Apply();
        foreach (var directive in new[] { config.MaxMemoryPolicy, config.MaxMemorySamples, config.LfuLogFactor, config.LfuDecayTime })
        {
            directive.Changed += _ => Apply();
        }
    }

    /// <summary>The eviction machinery.</summary>
    public Evictor Evictor { get; }

    /// <summary>maxmemory in bytes (0: no limit).</summary>
    public long Limit => _config.MaxMemory.Number;

    /// <summary>Bytes the data holds now (INFO used_memory).</summary>
    public long Used => _keyspace.UsedMemory();

    /// <summary>The highest <see cref="Used"/> seen since start or the last reset.</summary>
    public long Peak
    {
        get
        {
            UpdatePeak();
            return Interlocked.Read(ref _peak);
        }
    }

    /// <summary>Forgets the peak (CONFIG RESETSTAT).</summary>
    public void ResetPeak() => Interlocked.Exchange(ref _peak, 0);

    /// <summary>Raises the peak to the current use; the background cycle calls it.</summary>
    public void UpdatePeak()
    {
        long used = Used;
        if (used > Interlocked.Read(ref _peak))
        {
            Interlocked.Exchange(ref _peak, used);
        }
    }

    /// <summary>
    /// Called before a command runs: evicts when over the limit. False when the command needs memory
    /// (deny-oom) and the data is still over the limit; the caller then answers <see cref="OomError"/>.
    /// </summary>
    public bool Admit(CommandSpec spec) => Admit(spec.Flags);

    /// <summary>As <see cref="Admit(CommandSpec)"/> for a command run with <paramref name="flags"/> (a function's, for FCALL).</summary>
    public bool Admit(CommandFlags flags)
    {
        long limit = _config.MaxMemory.Number;
        // CLIENT PAUSE stops eviction as it stops expiry (and holds the writes that would need the memory).
        if (limit <= 0 || _keyspace.ChangesPaused || _keyspace.ExpiresFollowMaster || _keyspace.UsedMemory() <= limit)
        {
            return true;
        }
        UpdatePeak();
        bool fits = Evictor.FreeMemory(limit, out int evicted);
        _episodeEvicted += evicted;
        bool admitted = fits || (flags & CommandFlags.DenyOom) == 0;
        if (!admitted)
        {
            _episodeRefused++;
        }
        LogPressure();
        return admitted;
    }

    /// <summary>Frees memory down to the limit now (CONFIG SET maxmemory lowered it); false when it could not.</summary>
    public bool EnforceLimit()
    {
        long limit = _config.MaxMemory.Number;
        if (limit <= 0)
        {
            return true;
        }
        bool fits = Evictor.FreeMemory(limit, out int evicted);
        _episodeEvicted += evicted;
        LogPressure();
        return fits;
    }

    /// <summary>Found keys of the command that just ran (used under the keyspace lock), reused so that re-charging allocates nothing.</summary>
    private readonly KeyBuffer _writtenKeys = new();

    /// <summary>
    /// Re-charges the keys a write command may have changed in place: the keys the key extractor finds
    /// (re-charging an unchanged key is harmless).
    /// </summary>
    public static void AfterWrite(Session session, CommandSpec spec, ArgList args)
    {
        var keys = session.Server.Memory._writtenKeys;
        int count = KeyExtractor.GetKeys(spec, args, keys, positionsOnly: true);
        var db = session.Db;
        for (int i = 0; i < count; i++)
        {
            db.Recharge(args[keys[i].Position]);
        }
    }

    /// <summary>
    /// Called by the background cycle (outside the lock): when maxmemory is set and the managed heap
    /// holds much more than the data (evicted and overwritten values not yet collected), starts a
    /// background full collection, so that the process settles near maxmemory instead of letting the
    /// garbage collector's own schedule grow it to several times the limit.
    /// </summary>
    public void CollectGarbageIfWasteful()
    {
        long limit = _config.MaxMemory.Number;
        if (limit <= 0)
        {
            return;
        }
        long now = Environment.TickCount64;
        if (now - _lastCollection < 250)
        {
            return;
        }
        long heap = GC.GetTotalMemory(false);
        long slack = Math.Max(limit / 4, 8L * 1024 * 1024);
        if (heap > Used + slack)
        {
            _lastCollection = now;
            GC.Collect(2, GCCollectionMode.Forced, blocking: false);
            Collections++;
        }
    }

    /// <summary>Full collections started by <see cref="CollectGarbageIfWasteful"/>.</summary>
    public long Collections { get; private set; }

    private void Apply()
    {
        var policy = Evictor.Parse(_config.MaxMemoryPolicy.Text);
        Evictor.Policy = policy;
        Evictor.Samples = (int)Math.Min(_config.MaxMemorySamples.Number, 1024);
        _keyspace.UsesLfu = Evictor.IsLfu(policy);
        _keyspace.LfuLogFactor = (int)_config.LfuLogFactor.Number;
        _keyspace.LfuDecayMinutes = (int)_config.LfuDecayTime.Number;
    }

    /// <summary>One line per pressure episode: what was evicted or refused since the last line, rate limited.</summary>
    private void LogPressure()
    {
        long now = Environment.TickCount64;
        if (_episodeEvicted == 0 && _episodeRefused == 0)
        {
            return;
        }
        if (now - _lastPressureLog < (long)PressureLogInterval.TotalMilliseconds)
        {
            return;
        }
        _lastPressureLog = now;
        _log.Event(LogLevel.Warning, "memory_pressure", "Used memory is over maxmemory",
            ("used_memory", _keyspace.UsedMemory()), ("maxmemory", _config.MaxMemory.Number), ("policy", _config.MaxMemoryPolicy.Text),
            ("evicted_keys", _episodeEvicted), ("refused_commands", _episodeRefused));
        _episodeEvicted = 0;
        _episodeRefused = 0;
    }
}
