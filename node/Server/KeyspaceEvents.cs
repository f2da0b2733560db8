using System.Buffers;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.PubSub;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server.Tracking;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>
/// The server's side of the keyspace observer: a written key may serve blocked clients, a key deleted by
/// expiry or eviction goes to the change stream as DEL (UNLINK under lazyfree-lazy-expire / -eviction), and
/// swapped databases may hold what waiting clients want; every change, expiry, eviction and flush invalidates what
/// tracking clients cache.
/// </summary>
internal sealed class KeyspaceEvents(BlockingKeys blocking, Propagator propagator, NodeConfig config, PubSubRegistry pubSub, TrackingTable tracking) : IKeyspaceObserver
{
    private readonly ArrayBufferWriter<byte> _channel = new(128);

    /// <summary>Redis's notifyKeyspaceEvent: the event on __keyspace@db__:key (K) and the key on __keyevent@db__:event (E), on this node only.</summary>
    public void KeyEvent(Database db, KeyspaceEventTypes type, ReadOnlySpan<byte> name, ReadOnlySpan<byte> key)
    {
        var flags = db.Keyspace.NotifyKeyspaceEvents;
        if (!pubSub.HasSubscribers)
        {
            return;
        }
        if ((flags & KeyspaceEventTypes.Keyspace) != 0)
        {
            pubSub.Publish(Channel("__keyspace@"u8, db.Id, key), name);
        }
        if ((flags & KeyspaceEventTypes.Keyevent) != 0)
        {
            pubSub.Publish(Channel("__keyevent@"u8, db.Id, name), key);
        }
    }

    private ReadOnlySpan<byte> Channel(ReadOnlySpan<byte> prefix, int db, ReadOnlySpan<byte> suffix)
    {
        var channel = _channel;
        channel.ResetWrittenCount();
        channel.Write(prefix);
        var digits = channel.GetSpan(11);
        db.TryFormat(digits, out int written, provider: System.Globalization.CultureInfo.InvariantCulture);
        channel.Advance(written);
        channel.Write("__:"u8);
        channel.Write(suffix);
        return channel.WrittenSpan;
    }

    public void KeyWritten(Database db, ReadOnlySpan<byte> key) => blocking.SignalReady(db, key);

    public void KeyModified(Database db, ReadOnlySpan<byte> key)
    {
        tracking.Invalidate(key);
        // A deleted (or replaced) stream answers the XREADGROUP clients waiting for it.
        blocking.SignalDeleted(db, key);
    }

    public void KeyExpired(Database db, ReadOnlySpan<byte> key)
    {
        tracking.Invalidate(key);
        blocking.SignalDeleted(db, key);
        propagator.Deletion(db, key, config.LazyFreeLazyExpire.IsOn);
    }

    public void KeyEvicted(Database db, ReadOnlySpan<byte> key)
    {
        tracking.Invalidate(key);
        blocking.SignalDeleted(db, key);
        propagator.Deletion(db, key, config.LazyFreeLazyEviction.IsOn);
    }

    public void DatabaseFlushed(Database db)
    {
        tracking.InvalidateAll();
        blocking.SignalDatabase(db);
    }

    public void DatabasesSwapped(Database a, Database b)
    {
        // Clients stay in their database: those waiting for keys the new contents hold can be served.
        blocking.SignalDatabase(a);
        blocking.SignalDatabase(b);
    }
}
