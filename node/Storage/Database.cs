namespace CacheOperator.Node.Storage;

/// <summary>
/// One numbered database (SELECT 0..15): key lookup with lazy expiry, writes and deletes. Every key
/// access of every command goes through <see cref="Find"/> or <see cref="Set"/>, the single place where
/// expiry, access tracking and (in cluster mode) slot ownership are decided.
/// </summary>
public sealed class Database(Keyspace keyspace, int id)
{
    /// <summary>The database number.</summary>
    public int Id { get; } = id;

    /// <summary>The keyspace this database belongs to.</summary>
    public Keyspace Keyspace => keyspace;

    /// <summary>The key table; replaced whole by FLUSHDB and SWAPDB.</summary>
    public KeyTable Table { get; internal set; } = new(slotIndexed: keyspace.SlotIndexed);

    /// <summary>Live keys (expired keys nobody touched yet included, as in Redis).</summary>
    public int Count => Table.Count;

    /// <summary>The entry index of a live key, or -1; an expired key is deleted on the way.</summary>
    public int Find(ReadOnlySpan<byte> key, bool touch = true)
    {
        var table = Table;
        int index = table.Find(key);
        if (index < 0)
        {
            return -1;
        }
        ref var entry = ref table[index];
        if (entry.HasExpiry && table.ExpireAt(index) <= keyspace.NowMs && !keyspace.ApplyingMaster)
        {
            if (!keyspace.ChangesPaused && !keyspace.ExpiresFollowMaster)
            {
                DeleteExpired(index);
            }
            return -1;
        }
        if (touch && !keyspace.NoTouch)
        {
            entry.Access = keyspace.Touched(entry.Access);
        }
        return index;
    }

    /// <summary>The value of a live key, or null.</summary>
    public object? Get(ReadOnlySpan<byte> key)
    {
        int index = Find(key);
        return index < 0 ? null : Table[index].Value;
    }

    /// <summary>Stores <paramref name="value"/>; an existing key keeps its expiry only when <paramref name="keepTtl"/>.</summary>
    public int Set(ReadOnlySpan<byte> key, object value, bool keepTtl = false)
    {
        int index = Find(key, touch: false);
        var table = Table;
        if (index >= 0)
        {
            table.BeforeChange(index);
            ref var entry = ref table[index];
            entry.Value = value;
            entry.Access = keyspace.Touched(entry.Access);
            table.Recharge(index);
            if (!keepTtl && entry.HasExpiry)
            {
                table.SetExpire(index, 0);
            }
            KeyWritten(key);
            return index;
        }
        index = table.Add(key.ToArray(), value);
        table[index].Access = keyspace.NewAccess();
        Notify(KeyspaceEventTypes.New, "new"u8, key);
        KeyWritten(key);
        return index;
    }

    /// <summary>Adds a key known to be absent (after a <see cref="Find"/> miss), taking ownership of its bytes.</summary>
    public int Add(byte[] key, object value)
    {
        int index = Table.Add(key, value);
        Table[index].Access = keyspace.NewAccess();
        Notify(KeyspaceEventTypes.New, "new"u8, key);
        KeyWritten(key);
        return index;
    }

    /// <summary>
    /// A command is about to change <paramref name="key"/>'s value in place (the dispatcher calls it for the keys of a
    /// write command while a <see cref="KeyspaceSnapshot"/> runs): the snapshot writes the entry first if it still has to.
    /// </summary>
    public void BeforeWrite(ReadOnlySpan<byte> key)
    {
        var table = Table;
        if (table.Snapshot is not null)
        {
            int index = table.Find(key);
            if (index >= 0)
            {
                table.BeforeChange(index);
            }
        }
    }

    /// <summary>Deletes a key; true when it existed.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        int index = Find(key, touch: false);
        if (index < 0)
        {
            return false;
        }
        DeleteAt(index);
        return true;
    }

    /// <summary>Deletes the entry at <paramref name="index"/>.</summary>
    public void DeleteAt(int index)
    {
        var key = Table[index].Key!;
        Table.RemoveAt(index);
        SignalModified(key);
    }

    /// <summary>Removes an entry no command asked to change (expiry, eviction): watchers see it, the change counter does not.</summary>
    private byte[] Remove(int index)
    {
        var key = Table[index].Key!;
        Table.RemoveAt(index);
        keyspace.Watches.Touch(this, key);
        return key;
    }

    /// <summary>Sets (unix ms) or clears (0) the expiry of the entry at <paramref name="index"/>.</summary>
    public void SetExpire(int index, long unixMs)
    {
        Table.SetExpire(index, unixMs);
        SignalModified(Table[index].Key);
    }

    /// <summary>
    /// Tells the keyspace that <paramref name="key"/> changed, so transactions WATCHing it fail. Set, Add,
    /// Delete, DeleteAt, SetExpire and Clear call it themselves; a command that changes a collection in
    /// place (a list push, a hash field, a set member) calls it once per modified key.
    /// </summary>
    public void SignalModified(ReadOnlySpan<byte> key)
    {
        keyspace.Changes++;
        keyspace.Watches.Touch(this, key);
        keyspace.Observer?.KeyModified(this, key);
    }

    /// <summary>
    /// Declares that the running command made <paramref name="changes"/> changes, where Redis's dirty counter counts
    /// more than one for a command (each key of MSET or DEL, each element pushed, each field set); added up over
    /// the command's calls. A command that declares nothing counts one when it changed anything.
    /// </summary>
    public void CountChanges(long changes) => keyspace.DeclaredChanges = Math.Max(0, keyspace.DeclaredChanges) + changes;

    /// <summary>
    /// A collection already stored under <paramref name="key"/> gained elements in place (ZADD to an existing
    /// set): watchers see a change, and clients blocked on the key may be served, as after a write that creates it.
    /// </summary>
    public void SignalGrown(ReadOnlySpan<byte> key) => KeyWritten(key);

    /// <summary>True when the entry at <paramref name="index"/> is past its expiry.</summary>
    public bool IsExpired(int index)
    {
        long at = Table.ExpireAt(index);
        return at != 0 && at <= keyspace.NowMs && !keyspace.ApplyingMaster;
    }

    /// <summary>Deletes an expired entry and counts it (a replica keeps it: its master's DEL removes it).</summary>
    internal void DeleteExpired(int index)
    {
        if (keyspace.ExpiresFollowMaster)
        {
            return;
        }
        var key = Remove(index);
        keyspace.ExpiredKeys++;
        keyspace.Observer?.KeyExpired(this, key);
        Notify(KeyspaceEventTypes.Expired, "expired"u8, key);
    }

    /// <summary>
    /// Recomputes the memory charge of <paramref name="key"/> after a command changed its value in place
    /// (the dispatcher calls it for the keys a write command declares); nothing when the key is absent.
    /// </summary>
    public void Recharge(ReadOnlySpan<byte> key)
    {
        var table = Table;
        int index = table.Find(key);
        if (index >= 0)
        {
            table.Recharge(index);
        }
    }

    /// <summary>Deletes the entry at <paramref name="index"/> to free memory and counts it.</summary>
    internal void DeleteEvicted(int index)
    {
        var key = Remove(index);
        keyspace.EvictedKeys++;
        keyspace.Observer?.KeyEvicted(this, key);
        Notify(KeyspaceEventTypes.Evicted, "evicted"u8, key);
    }

    /// <summary>
    /// Deletes every key of hash slot <paramref name="slot"/> (cluster mode), each as a command's deletion (watchers see
    /// it, it counts as a change), calling <paramref name="deleted"/> with each key; returns how many. Costs the slot's keys.
    /// </summary>
    public int DeleteSlot(int slot, Action<byte[]>? deleted = null)
    {
        var table = Table;
        int count = 0;
        for (int index = table.FirstInSlot(slot); index >= 0;)
        {
            int next = table.NextInSlot(index);
            var key = table[index].Key!;
            DeleteAt(index);
            deleted?.Invoke(key);
            count++;
            index = next;
        }
        return count;
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        keyspace.Watches.TouchDatabase(this, null);
        if (Table.Count > 0)
        {
            keyspace.Changes++;
        }
        Table = new KeyTable(slotIndexed: keyspace.SlotIndexed);
        keyspace.Observer?.DatabaseFlushed(this);
    }

    /// <summary>
    /// The hook every command calls with Redis's event name for what it did to <paramref name="key"/> (Redis's
    /// notifyKeyspaceEvent): published on the keyspace/keyevent channels when notify-keyspace-events enables <paramref name="type"/>.
    /// </summary>
    public void Notify(KeyspaceEventTypes type, ReadOnlySpan<byte> name, ReadOnlySpan<byte> key)
    {
        if ((keyspace.NotifyKeyspaceEvents & type) != 0)
        {
            keyspace.Observer?.KeyEvent(this, type, name, key);
        }
    }

    /// <summary>A key was stored: watchers see a change, and clients blocked on it may be served.</summary>
    private void KeyWritten(ReadOnlySpan<byte> key)
    {
        SignalModified(key);
        keyspace.Observer?.KeyWritten(this, key);
    }
}
