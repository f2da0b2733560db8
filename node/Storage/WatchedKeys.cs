namespace CacheOperator.Node.Storage;

/// <summary>The keys one client WATCHes, and whether any changed since (EXEC then answers null).</summary>
public sealed class KeyWatcher
{
    /// <summary>Set when a watched key was modified; EXEC fails.</summary>
    public bool Dirty { get; internal set; }

    internal List<WatchedKey> Keys { get; } = [];

    /// <summary>Number of keys watched.</summary>
    public int Count => Keys.Count;

    /// <summary>
    /// True when a key that was live at WATCH time has expired since, without anybody touching it:
    /// Redis 7.0 fails EXEC in that case too.
    /// </summary>
    public bool AnyExpiredSinceWatch(long nowMs)
    {
        foreach (var watched in Keys)
        {
            if (!watched.ExpiredAtWatch && WatchedKeys.IsLogicallyExpired(watched.Db, watched.Key, nowMs))
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>One watched key of one client.</summary>
internal sealed class WatchedKey(Database db, byte[] key, bool expiredAtWatch)
{
    public Database Db { get; } = db;

    public byte[] Key { get; } = key;

    /// <summary>The key existed but was already past its expiry when watched.</summary>
    public bool ExpiredAtWatch { get; set; } = expiredAtWatch;
}

/// <summary>
/// Every WATCHed key of the keyspace and who watches it. <see cref="Database"/> calls
/// <see cref="Touch"/> for each key it writes, so a modification by any command marks the watchers dirty;
/// when nobody watches anything a touch costs one comparison.
/// </summary>
public sealed class WatchedKeys(int databases)
{
    private readonly Dictionary<byte[], List<KeyWatcher>>?[] _byDb = new Dictionary<byte[], List<KeyWatcher>>?[databases];
    private int _registrations;

    /// <summary>Adds <paramref name="key"/> of <paramref name="db"/> to what <paramref name="watcher"/> watches.</summary>
    public void Watch(KeyWatcher watcher, Database db, ReadOnlySpan<byte> key, long nowMs)
    {
        if (Find(watcher, db, key) is not null)
        {
            return;
        }
        var map = _byDb[db.Id] ??= new Dictionary<byte[], List<KeyWatcher>>(ByteArrayComparer.Instance);
        if (!map.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var stored, out var watchers))
        {
            stored = key.ToArray();
            watchers = [];
            map.Add(stored, watchers);
        }
        watchers.Add(watcher);
        watcher.Keys.Add(new WatchedKey(db, stored, IsLogicallyExpired(db, key, nowMs)));
        _registrations++;
    }

    /// <summary>Forgets everything <paramref name="watcher"/> watches (EXEC, DISCARD, UNWATCH, disconnect).</summary>
    public void UnwatchAll(KeyWatcher watcher)
    {
        foreach (var watched in watcher.Keys)
        {
            var map = _byDb[watched.Db.Id]!;
            if (map.TryGetValue(watched.Key, out var watchers))
            {
                watchers.Remove(watcher);
                if (watchers.Count == 0)
                {
                    map.Remove(watched.Key);
                }
            }
            _registrations--;
        }
        watcher.Keys.Clear();
        watcher.Dirty = false;
    }

    /// <summary>A key of <paramref name="db"/> was modified: its watchers' transactions will fail.</summary>
    public void Touch(Database db, ReadOnlySpan<byte> key)
    {
        if (_registrations == 0 || _byDb[db.Id] is not { } map
            || !map.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var watchers))
        {
            return;
        }
        foreach (var watcher in watchers)
        {
            if (watcher.Dirty)
            {
                continue;
            }
            var watched = Find(watcher, db, key);
            if (watched is { ExpiredAtWatch: true })
            {
                // Deleting a key that had already expired when watched changes nothing a client could see.
                if (db.Table.Find(key) < 0)
                {
                    watched.ExpiredAtWatch = false;
                    continue;
                }
            }
            watcher.Dirty = true;
        }
    }

    /// <summary>
    /// <paramref name="emptied"/> loses all its keys, replaced by those of <paramref name="replacedWith"/> (SWAPDB)
    /// or by none (FLUSHDB): every watched key that exists in either counts as modified, as in Redis.
    /// </summary>
    public void TouchDatabase(Database emptied, Database? replacedWith)
    {
        if (_registrations == 0 || _byDb[emptied.Id] is not { } map)
        {
            return;
        }
        foreach (var (key, watchers) in map)
        {
            if (emptied.Table.Find(key) < 0 && (replacedWith is null || replacedWith.Table.Find(key) < 0))
            {
                continue;
            }
            foreach (var watcher in watchers)
            {
                watcher.Dirty = true;
            }
        }
    }

    internal static bool IsLogicallyExpired(Database db, ReadOnlySpan<byte> key, long nowMs)
    {
        int index = db.Table.Find(key);
        if (index < 0)
        {
            return false;
        }
        long at = db.Table.ExpireAt(index);
        return at != 0 && at <= nowMs;
    }

    private static WatchedKey? Find(KeyWatcher watcher, Database db, ReadOnlySpan<byte> key)
    {
        foreach (var watched in watcher.Keys)
        {
            if (watched.Db == db && key.SequenceEqual(watched.Key))
            {
                return watched;
            }
        }
        return null;
    }
}
