namespace CacheOperator.Node.Storage;

/// <summary>
/// What the layer hosting the keyspace learns of its changes: the one seam through which blocked clients
/// are woken, the change stream receives deletions nobody asked for, client-side caches are invalidated, and (next)
/// keyspace notifications go out.
/// Called under the keyspace lock, synchronously, in the order the changes happen.
/// </summary>
public interface IKeyspaceObserver
{
    /// <summary>A key was created or given a new value or elements (clients blocked on it may be served).</summary>
    void KeyWritten(Database db, ReadOnlySpan<byte> key);

    /// <summary>A command changed, deleted or set the expiry of a key (Redis's signalModifiedKey): cached copies are invalid.</summary>
    void KeyModified(Database db, ReadOnlySpan<byte> key);

    /// <summary>A key was deleted because its time ran out (read lazily or found by the active cycle).</summary>
    void KeyExpired(Database db, ReadOnlySpan<byte> key);

    /// <summary>A key was deleted to stay under maxmemory.</summary>
    void KeyEvicted(Database db, ReadOnlySpan<byte> key);

    /// <summary>
    /// A command (or expiry, eviction) did <paramref name="name"/> to <paramref name="key"/>, an event of class <paramref name="type"/>
    /// enabled in notify-keyspace-events (Redis's notifyKeyspaceEvent).
    /// </summary>
    void KeyEvent(Database db, KeyspaceEventTypes type, ReadOnlySpan<byte> name, ReadOnlySpan<byte> key);

    /// <summary>Every key of <paramref name="db"/> was removed (FLUSHDB, FLUSHALL).</summary>
    void DatabaseFlushed(Database db);

    /// <summary>The contents of two databases were exchanged (SWAPDB).</summary>
    void DatabasesSwapped(Database a, Database b);
}
