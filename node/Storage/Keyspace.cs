using CacheOperator.Node.Server;

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

    /// <summary>Creates <paramref name="count"/> empty databases.</summary>
    public Keyspace(int count)
    {
        _databases = new Database[count];
        for (int i = 0; i < count; i++)
        {
            _databases[i] = new Database(this, i);
        }
        Watches = new WatchedKeys(count);
        Blocking = new BlockingKeys(this);
        UpdateClock();
    }

    /// <summary>Keys clients WATCH; every write touches it through <see cref="Database.SignalModified"/>.</summary>
    public WatchedKeys Watches { get; }

    /// <summary>Clients blocked on keys (BLPOP and friends) and the keys ready to serve them.</summary>
    public BlockingKeys Blocking { get; }

    /// <summary>Number of databases.</summary>
    public int DatabaseCount => _databases.Length;

    /// <summary>Database <paramref name="index"/>.</summary>
    public Database this[int index] => _databases[index];

    /// <summary>The command's notion of now, in unix milliseconds: fixed for the duration of one command, as in Redis.</summary>
    public long NowMs { get; private set; }

    /// <summary>Value stamped on entries when accessed (seconds, for LRU).</summary>
    public uint AccessClock { get; private set; }

    /// <summary>Keys removed because their time ran out.</summary>
    public long ExpiredKeys { get; internal set; }

    /// <summary>Successful key lookups by read commands.</summary>
    public long Hits { get; set; }

    /// <summary>Failed key lookups by read commands.</summary>
    public long Misses { get; set; }

    /// <summary>Reads the wall clock; called before each command.</summary>
    public void UpdateClock()
    {
        NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        AccessClock = (uint)(NowMs / 1000);
    }

    /// <summary>Swaps the contents of two databases (SWAPDB).</summary>
    public void Swap(int a, int b)
    {
        Watches.TouchDatabase(_databases[a], _databases[b]);
        Watches.TouchDatabase(_databases[b], _databases[a]);
        (_databases[a].Table, _databases[b].Table) = (_databases[b].Table, _databases[a].Table);
        // Clients stay in their database: those waiting for keys the new contents hold can be served.
        Blocking.SignalDatabase(_databases[a]);
        Blocking.SignalDatabase(_databases[b]);
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
