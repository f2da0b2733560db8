using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server.Tracking;

/// <summary>
/// Server-assisted client-side caching, as Redis's tracking.c: which clients may cache which keys (recorded after
/// their read commands), the BCAST prefixes and the keys changed under them this turn, and the invalidation messages
/// (RESP3 pushes, or <c>__redis__:invalidate</c> messages to a RESP2 subscriber a client redirects to) that go out
/// through each client's outbound queue when a key changes, expires, is evicted or the data is flushed. Keys are
/// tracked by name across databases, as in Redis. Everything runs under the keyspace lock.
/// </summary>
public sealed class TrackingTable
{
    /// <summary>Redis's TrackingChannelName: the pub/sub channel of invalidations in RESP2.</summary>
    public static ReadOnlySpan<byte> Channel => "__redis__:invalidate"u8;

    private readonly NodeServer _server;
    private readonly Dictionary<byte[], int> _keyIndex = new(ByteArrayComparer.Instance);
    private readonly List<TrackedKey> _keys = [];
    private readonly SortedDictionary<byte[], BroadcastPrefix> _prefixes = new(ByteOrder.Instance);
    private readonly List<Session> _clients = [];
    private readonly Random _random = new();
    private readonly KeyBuffer _readKeys = new();
    private bool _broadcastPending;
    private bool _inTurn;
    private bool _flushScheduled;
    private int _overLimitRuns;
    private long _flushStamp = -1;

    internal TrackingTable(NodeServer server) => _server = server;

    /// <summary>Clients with tracking on (INFO tracking_clients).</summary>
    public int ClientCount => _clients.Count;

    /// <summary>Keys some client may cache (INFO tracking_total_keys).</summary>
    public int KeyCount => _keys.Count;

    /// <summary>Client ids across all tracked keys (INFO tracking_total_items).</summary>
    public long ItemCount { get; private set; }

    /// <summary>BCAST prefixes registered by any client (INFO tracking_total_prefixes).</summary>
    public int PrefixCount => _prefixes.Count;

    /// <summary>The client whose command is running (Redis's server.current_client): NOLOOP leaves it out.</summary>
    internal Session? Current { get; set; }

    /// <summary>The command <see cref="Current"/> runs while tracking is in use: a script's reads are tracked under its keys.</summary>
    internal CommandSpec? CallerCommand { get; set; }

    /// <summary>The arguments of <see cref="CallerCommand"/>.</summary>
    internal ArgList CallerArgs { get; set; }

    /// <summary>Redis's enableTracking: turns tracking on (again) with these options; the caller validated them.</summary>
    public void Enable(Session session, long redirect, bool broadcast, bool optIn, bool optOut, bool noLoop, List<byte[]> prefixes)
    {
        var tracking = session.Tracking;
        if (tracking is null)
        {
            tracking = new ClientTracking();
            session.Tracking = tracking;
            _clients.Add(session);
        }
        tracking.BrokenRedirect = false;
        tracking.Redirect = redirect;
        tracking.Broadcast = broadcast;
        tracking.OptIn = optIn;
        tracking.OptOut = optOut;
        tracking.NoLoop = noLoop;
        if (broadcast)
        {
            if (prefixes.Count == 0)
            {
                AddPrefix(session, tracking, []);
            }
            foreach (var prefix in prefixes)
            {
                AddPrefix(session, tracking, prefix);
            }
        }
    }

    /// <summary>Redis's disableTracking: the client leaves its prefixes; its ids in the table go lazily, when their keys do.</summary>
    public void Disable(Session session)
    {
        if (session.Tracking is not { } tracking)
        {
            return;
        }
        foreach (var prefix in tracking.Prefixes)
        {
            var state = _prefixes[prefix];
            state.Clients.Remove(session);
            if (state.Clients.Count == 0)
            {
                _prefixes.Remove(prefix);
            }
        }
        session.Tracking = null;
        _clients.Remove(session);
    }

    private void AddPrefix(Session session, ClientTracking tracking, byte[] prefix)
    {
        if (!_prefixes.TryGetValue(prefix, out var state))
        {
            state = new BroadcastPrefix();
            _prefixes.Add(prefix, state);
        }
        if (!state.Clients.Contains(session))
        {
            state.Clients.Add(session);
            tracking.Prefixes.Add(prefix);
        }
    }

    /// <summary>Redis's trackingRememberKeys: after a read-only command of a tracking client, its keys are tracked for it.</summary>
    internal void RememberKeys(Session session, ClientTracking tracking, CommandSpec spec, ArgList args)
    {
        if (!tracking.RemembersReads)
        {
            return;
        }
        int count = KeyExtractor.GetKeys(spec, args, _readKeys, positionsOnly: true);
        for (int i = 0; i < count; i++)
        {
            var key = args[_readKeys[i].Position];
            var lookup = _keyIndex.GetAlternateLookup<ReadOnlySpan<byte>>();
            if (!lookup.TryGetValue(key, out int slot))
            {
                slot = _keys.Count;
                var stored = key.ToArray();
                _keys.Add(new TrackedKey(stored));
                _keyIndex.Add(stored, slot);
            }
            if (_keys[slot].Clients.Add(session.Id))
            {
                ItemCount++;
            }
        }
    }

    /// <summary>
    /// Redis's trackingInvalidateKey: <paramref name="key"/> changed (or, with <paramref name="broadcast"/> false, is dropped
    /// from the table): the clients that may cache it are told and forgotten, and BCAST prefixes it falls under note it.
    /// </summary>
    public void Invalidate(ReadOnlySpan<byte> key, bool broadcast = true)
    {
        if (broadcast && _prefixes.Count > 0)
        {
            RememberKeyToBroadcast(key);
        }
        if (_keys.Count == 0 || !_keyIndex.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out int slot))
        {
            return;
        }
        var entry = _keys[slot];
        RemoveAt(slot);
        foreach (long id in entry.Clients)
        {
            var target = _server.FindClient(id);
            // A client that turned tracking off, or switched to BCAST since, no longer expects these.
            if (target?.Tracking is not { Broadcast: false } tracking || (tracking.NoLoop && target == Current))
            {
                continue;
            }
            Send(target, tracking, entry.Key, KeyPayload.Single);
        }
    }

    private void RemoveAt(int slot)
    {
        var entry = _keys[slot];
        ItemCount -= entry.Clients.Count;
        _keyIndex.Remove(entry.Key);
        int last = _keys.Count - 1;
        if (slot != last)
        {
            var moved = _keys[last];
            _keys[slot] = moved;
            _keyIndex[moved.Key] = slot;
        }
        _keys.RemoveAt(last);
    }

    /// <summary>Redis's trackingInvalidateKeysOnFlush: every tracking client is told that all keys are invalid (a null), once per flush.</summary>
    public void InvalidateAll()
    {
        // FLUSHALL clears each database in turn: Redis sends one null per flush command.
        long stamp = _server.Stats.CommandsProcessed;
        if (stamp == _flushStamp)
        {
            return;
        }
        _flushStamp = stamp;
        foreach (var client in _clients)
        {
            if (client.Tracking is { } tracking)
            {
                Send(client, tracking, [], KeyPayload.Null);
            }
        }
        _keys.Clear();
        _keyIndex.Clear();
        ItemCount = 0;
    }

    /// <summary>
    /// Redis's trackingLimitUsedSlots, before each command: over <c>tracking-table-max-keys</c>, random keys are dropped with
    /// an invalidation to their clients, with more effort each time the table stays over.
    /// </summary>
    internal void LimitUsedSlots()
    {
        long max = _server.Config.TrackingTableMaxKeys.Number;
        if (max == 0 || _keys.Count <= max)
        {
            _overLimitRuns = 0;
            return;
        }
        int effort = 100 * (_overLimitRuns + 1);
        while (effort-- > 0 && _keys.Count > 0)
        {
            Invalidate(_keys[_random.Next(_keys.Count)].Key, broadcast: false);
            if (_keys.Count <= max)
            {
                _overLimitRuns = 0;
                return;
            }
        }
        _overLimitRuns++;
    }

    /// <summary>Redis's trackingRememberKeyToBroadcast: notes the key under each prefix it starts with, and who changed it (NOLOOP).</summary>
    private void RememberKeyToBroadcast(ReadOnlySpan<byte> key)
    {
        byte[]? stored = null;
        foreach (var (prefix, state) in _prefixes)
        {
            if (prefix.Length > key.Length || !key.StartsWith(prefix))
            {
                continue;
            }
            stored ??= key.ToArray();
            state.Keys[stored] = Current;
            _broadcastPending = true;
        }
        if (_broadcastPending && !_inTurn && !_flushScheduled)
        {
            // Changed outside a client's turn (active expiry, a timer): sent once the lock is free, as after Redis's event loop turn.
            _flushScheduled = true;
            ThreadPool.UnsafeQueueUserWorkItem(static table =>
            {
                lock (table._server.Keyspace.Sync)
                {
                    table._flushScheduled = false;
                    table.SendBroadcasts();
                }
            }, this, preferLocal: false);
        }
    }

    /// <summary>A client's turn (a batch of its commands) begins: BCAST invalidations wait for its end.</summary>
    internal void BeginTurn() => _inTurn = true;

    /// <summary>The turn ends (Redis's beforeSleep): the keys changed under each prefix go to its clients.</summary>
    internal void EndTurn()
    {
        _inTurn = false;
        SendBroadcasts();
    }

    /// <summary>Redis's trackingBroadcastInvalidationMessages: one array of the prefix's changed keys per client, NOLOOP clients without their own.</summary>
    private void SendBroadcasts()
    {
        if (!_broadcastPending)
        {
            return;
        }
        _broadcastPending = false;
        foreach (var state in _prefixes.Values)
        {
            if (state.Keys.Count == 0)
            {
                continue;
            }
            foreach (var client in state.Clients)
            {
                if (client.Tracking is not { } tracking)
                {
                    continue;
                }
                Session? excluded = tracking.NoLoop ? client : null;
                int count = 0;
                foreach (var modifier in state.Keys.Values)
                {
                    if (excluded is null || modifier != excluded)
                    {
                        count++;
                    }
                }
                if (count > 0)
                {
                    Send(client, tracking, [], KeyPayload.Broadcast, state, excluded, count);
                }
            }
            state.Keys.Clear();
        }
    }

    /// <summary>
    /// Redis's sendTrackingMessage: to the client itself in RESP3, or to its redirection (a RESP3 client, or a RESP2 one
    /// in pub/sub mode as a message of <c>__redis__:invalidate</c>); a vanished redirection marks it broken and a RESP3
    /// client hears so.
    /// </summary>
    private void Send(Session client, ClientTracking tracking, ReadOnlySpan<byte> key, KeyPayload payload,
        BroadcastPrefix? prefix = null, Session? excluded = null, int count = 0)
    {
        var target = client;
        bool redirected = false;
        if (tracking.Redirect != 0)
        {
            var redirect = _server.FindClient(tracking.Redirect);
            if (redirect is null)
            {
                tracking.BrokenRedirect = true;
                if (client.Reply.Protocol > 2)
                {
                    var w = client.Outbound.Writer;
                    w.WritePushHeader(2);
                    w.WriteBulk("tracking-redir-broken"u8);
                    w.WriteInteger(tracking.Redirect);
                    client.Outbound.Send();
                }
                return;
            }
            target = redirect;
            redirected = true;
        }
        ReplyWriter writer;
        // Only the tracking client's own invalidations wait for its reply (Redis's tracking_pending_keys): a redirection
        // target running the command that caused them gets them at once, ahead of its reply, as in Redis.
        bool direct = target == Current && client != Current;
        bool viaPubSub = false;
        if (target.Reply.Protocol > 2)
        {
            writer = direct ? target.Reply : target.Outbound.Writer;
            writer.WritePushHeader(2);
            writer.WriteBulk("invalidate"u8);
        }
        else if (redirected && target.IsPubSub)
        {
            // RESP2: a "message" of __redis__:invalidate to the subscriber, whatever channels it subscribes to (as Redis).
            writer = _server.PubSub.BeginMessage(target, Channel);
            viaPubSub = true;
        }
        else
        {
            // RESP2 without a subscriber to redirect to: nothing can carry the message.
            return;
        }
        switch (payload)
        {
            case KeyPayload.Single:
                writer.WriteArrayHeader(1);
                writer.WriteBulk(key);
                break;
            case KeyPayload.Null:
                // The tracking client's own null (Redis's shared.null[c->resp]), even when a client of the other protocol receives it.
                writer.WriteRaw(client.Reply.Protocol > 2 ? "_\r\n"u8 : "$-1\r\n"u8);
                break;
            default:
                // Always an array (Redis's addReplyProto of a '*' header), in either protocol.
                writer.WriteArrayHeader(count);
                foreach (var (changed, modifier) in prefix!.Keys)
                {
                    if (excluded is null || modifier != excluded)
                    {
                        writer.WriteBulk(changed);
                    }
                }
                break;
        }
        if (viaPubSub)
        {
            _server.PubSub.EndMessage(target);
        }
        else if (!direct)
        {
            target.Outbound.Send();
        }
    }

    private enum KeyPayload
    {
        Single,
        Null,
        Broadcast,
    }

    /// <summary>One tracked key and the ids of the clients that may cache it.</summary>
    private sealed class TrackedKey(byte[] key)
    {
        public byte[] Key { get; } = key;

        public HashSet<long> Clients { get; } = [];
    }

    /// <summary>Redis's bcastState: a prefix's clients and the keys changed under it since the last broadcast, with who changed each.</summary>
    private sealed class BroadcastPrefix
    {
        public SortedDictionary<byte[], Session?> Keys { get; } = new(ByteOrder.Instance);

        public List<Session> Clients { get; } = [];
    }
}
