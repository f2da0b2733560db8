namespace CacheOperator.Node.Storage;

/// <summary>The maxmemory-policy values: which keys may be evicted and in what order.</summary>
public enum EvictionPolicy
{
    /// <summary>Evict nothing; writes that need memory are refused.</summary>
    NoEviction,

    /// <summary>Least recently used among all keys.</summary>
    AllKeysLru,

    /// <summary>Least recently used among keys with a TTL.</summary>
    VolatileLru,

    /// <summary>Least frequently used among all keys.</summary>
    AllKeysLfu,

    /// <summary>Least frequently used among keys with a TTL.</summary>
    VolatileLfu,

    /// <summary>Any key.</summary>
    AllKeysRandom,

    /// <summary>Any key with a TTL.</summary>
    VolatileRandom,

    /// <summary>The key with a TTL that expires soonest.</summary>
    VolatileTtl,
}

/// <summary>
/// Frees memory as Redis's performEvictions does: for LRU, LFU and TTL policies it samples
/// maxmemory-samples keys of every database into a pool of the best candidates kept across calls,
/// evicting the best one at a time until the data fits; the random policies evict random keys
/// database after database. Runs under the keyspace lock.
/// </summary>
public sealed class Evictor(Keyspace keyspace)
{
    /// <summary>Candidates kept between evictions, as Redis's EVPOOL_SIZE.</summary>
    private const int PoolSize = 16;

    private readonly Candidate[] _pool = new Candidate[PoolSize];
    private int _poolCount;
    private int _nextRandomDb;

    private struct Candidate
    {
        public ulong Score;
        public int Db;
        public int Index;
        public byte[] Key;
    }

    /// <summary>The policy in force.</summary>
    public EvictionPolicy Policy { get; set; }

    /// <summary>Keys sampled per database per eviction (maxmemory-samples).</summary>
    public int Samples { get; set; } = 5;

    /// <summary>Parses a maxmemory-policy word ("allkeys-lru"); the config has validated it.</summary>
    public static EvictionPolicy Parse(string text) => text switch
    {
        "allkeys-lru" => EvictionPolicy.AllKeysLru,
        "volatile-lru" => EvictionPolicy.VolatileLru,
        "allkeys-lfu" => EvictionPolicy.AllKeysLfu,
        "volatile-lfu" => EvictionPolicy.VolatileLfu,
        "allkeys-random" => EvictionPolicy.AllKeysRandom,
        "volatile-random" => EvictionPolicy.VolatileRandom,
        "volatile-ttl" => EvictionPolicy.VolatileTtl,
        _ => EvictionPolicy.NoEviction,
    };

    /// <summary>True for the two LFU policies, which keep LFU counters in the access field.</summary>
    public static bool IsLfu(EvictionPolicy policy) => policy is EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu;

    /// <summary>
    /// Evicts keys until the data uses at most <paramref name="limit"/> bytes. Returns false when it is
    /// still over because the policy forbids eviction or nothing is evictable; <paramref name="evicted"/> counts the keys removed.
    /// </summary>
    public bool FreeMemory(long limit, out int evicted)
    {
        evicted = 0;
        if (Policy == EvictionPolicy.NoEviction)
        {
            return keyspace.UsedMemory() <= limit;
        }
        while (keyspace.UsedMemory() > limit)
        {
            bool found = Policy is EvictionPolicy.AllKeysRandom or EvictionPolicy.VolatileRandom ? EvictRandom() : EvictFromPool();
            if (!found)
            {
                return false;
            }
            evicted++;
        }
        return true;
    }

    /// <summary>Forgets the candidates (the databases were flushed or swapped).</summary>
    public void Reset() => _poolCount = 0;

    private bool Volatile => Policy is EvictionPolicy.VolatileLru or EvictionPolicy.VolatileLfu or EvictionPolicy.VolatileRandom or EvictionPolicy.VolatileTtl;

    private bool EvictRandom()
    {
        var random = keyspace.Random;
        for (int n = 0; n < keyspace.DatabaseCount; n++)
        {
            int d = _nextRandomDb;
            _nextRandomDb = (_nextRandomDb + 1) % keyspace.DatabaseCount;
            var table = keyspace[d].Table;
            int index = Volatile ? table.RandomVolatileIndex(random) : table.RandomIndex(random);
            if (index >= 0)
            {
                keyspace[d].DeleteEvicted(index);
                return true;
            }
        }
        return false;
    }

    private bool EvictFromPool()
    {
        while (true)
        {
            bool sampled = false;
            for (int d = 0; d < keyspace.DatabaseCount; d++)
            {
                var table = keyspace[d].Table;
                if ((Volatile ? table.VolatileCount : table.Count) > 0)
                {
                    Sample(d, table);
                    sampled = true;
                }
            }
            if (!sampled)
            {
                _poolCount = 0;
                return false;
            }
            // Best candidate last; candidates deleted or changed since they were pooled are skipped.
            while (_poolCount > 0)
            {
                var best = _pool[--_poolCount];
                _pool[_poolCount] = default;
                var db = keyspace[best.Db];
                if (db.Table.IsLive(best.Index) && ReferenceEquals(db.Table[best.Index].Key, best.Key)
                    && (!Volatile || db.Table.ExpireAt(best.Index) != 0))
                {
                    db.DeleteEvicted(best.Index);
                    return true;
                }
            }
        }
    }

    private void Sample(int d, KeyTable table)
    {
        var random = keyspace.Random;
        int count = Math.Min(Samples, Volatile ? table.VolatileCount : table.Count);
        for (int n = 0; n < count; n++)
        {
            int index = Volatile ? table.RandomVolatileIndex(random) : table.RandomIndex(random);
            if (index < 0)
            {
                return;
            }
            ref var entry = ref table[index];
            Insert(new Candidate { Score = Score(table, index), Db = d, Index = index, Key = entry.Key! });
        }
    }

    /// <summary>Higher is a better eviction candidate: idle time, rarity of use, or nearness of expiry.</summary>
    private ulong Score(KeyTable table, int index) => Policy switch
    {
        EvictionPolicy.AllKeysLfu or EvictionPolicy.VolatileLfu => 255 - keyspace.LfuFrequency(table[index].Access),
        EvictionPolicy.VolatileTtl => ulong.MaxValue - (ulong)table.ExpireAt(index),
        _ => (ulong)keyspace.IdleSeconds(table[index].Access),
    };

    /// <summary>Inserts into the pool kept sorted by ascending score; when full, a candidate worse than all is dropped.</summary>
    private void Insert(Candidate candidate)
    {
        for (int i = 0; i < _poolCount; i++)
        {
            if (ReferenceEquals(_pool[i].Key, candidate.Key))
            {
                return;
            }
        }
        int pos = 0;
        while (pos < _poolCount && _pool[pos].Score < candidate.Score)
        {
            pos++;
        }
        if (_poolCount == PoolSize)
        {
            if (pos == 0)
            {
                return;
            }
            // Drop the worst (first) to make room below the insertion point.
            Array.Copy(_pool, 1, _pool, 0, pos - 1);
            _pool[pos - 1] = candidate;
            return;
        }
        Array.Copy(_pool, pos, _pool, pos + 1, _poolCount - pos);
        _pool[pos] = candidate;
        _poolCount++;
    }
}
