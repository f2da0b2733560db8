namespace CacheOperator.Node.Storage;

/// <summary>
/// Reclaims expired keys nobody reads, with Redis's adaptive sampling: each cycle samples keys that
/// have a TTL, deletes the expired ones, and repeats while more than a quarter of a sample was expired,
/// within a time budget so the lock is never held long.
/// </summary>
public static class ActiveExpiry
{
    private const int SampleSize = 20;

    /// <summary>Runs one cycle under the keyspace lock; returns keys removed.</summary>
    public static int RunCycle(Keyspace keyspace, Random random, TimeSpan budget)
    {
        int removed = 0;
        long deadline = Environment.TickCount64 + (long)budget.TotalMilliseconds;
        lock (keyspace.Sync)
        {
            keyspace.SyncWallClock();
            if (!keyspace.ActiveExpiryEnabled || keyspace.ChangesPaused || keyspace.ExpiresFollowMaster)
            {
                return 0;
            }
            for (int d = 0; d < keyspace.DatabaseCount; d++)
            {
                var db = keyspace[d];
                while (db.Table.VolatileCount > 0)
                {
                    int expired = 0;
                    int samples = Math.Min(SampleSize, db.Table.VolatileCount);
                    for (int s = 0; s < samples; s++)
                    {
                        int index = db.Table.RandomVolatileIndex(random);
                        if (index >= 0 && db.IsExpired(index))
                        {
                            db.DeleteExpired(index);
                            expired++;
                        }
                    }
                    removed += expired;
                    if (expired * 4 <= samples || Environment.TickCount64 >= deadline)
                    {
                        break;
                    }
                }
            }
        }
        return removed;
    }
}
