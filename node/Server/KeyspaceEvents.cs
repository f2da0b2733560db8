using CacheOperator.Node.Configuration;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>
/// The server's side of the keyspace observer: a written key may serve blocked clients, a key deleted by
/// expiry or eviction goes to the change stream as DEL (UNLINK under lazyfree-lazy-expire / -eviction), and
/// swapped databases may hold what waiting clients want.
/// </summary>
internal sealed class KeyspaceEvents(BlockingKeys blocking, Propagator propagator, NodeConfig config) : IKeyspaceObserver
{
    public void KeyWritten(Database db, ReadOnlySpan<byte> key) => blocking.SignalReady(db, key);

    public void KeyExpired(Database db, ReadOnlySpan<byte> key) => propagator.Deletion(db, key, config.LazyFreeLazyExpire.IsOn);

    public void KeyEvicted(Database db, ReadOnlySpan<byte> key) => propagator.Deletion(db, key, config.LazyFreeLazyEviction.IsOn);

    public void DatabaseFlushed(Database db)
    {
    }

    public void DatabasesSwapped(Database a, Database b)
    {
        // Clients stay in their database: those waiting for keys the new contents hold can be served.
        blocking.SignalDatabase(a);
        blocking.SignalDatabase(b);
    }
}
