using CacheOperator.Node.Protocol;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>
/// Serves a blocked client from <paramref name="key"/>, which may now hold data: writes the whole reply to
/// <see cref="BlockedClient.Reply"/> and returns true, or returns false to keep waiting (the key is
/// missing, empty or of another type). Runs under the keyspace lock like a command.
/// </summary>
public delegate bool BlockedServe(BlockedClient client, byte[] key);

/// <summary>A client waiting in a blocking command (BLPOP, BLMOVE, BZPOPMIN, ...) for keys to receive data.</summary>
public sealed class BlockedClient
{
    internal BlockedClient(Session session, Database db, BlockedServe serve, bool wakesOnDeletion)
    {
        Session = session;
        Db = db;
        Serve = serve;
        WakesOnDeletion = wakesOnDeletion;
    }

    /// <summary>The waiting client.</summary>
    public Session Session { get; }

    /// <summary>The database its keys are in (the one selected when it blocked).</summary>
    public Database Db { get; }

    /// <summary>True once answered (served, timed out) or forgotten (disconnected).</summary>
    public bool Done { get; internal set; }

    /// <summary>
    /// Where the reply goes: the client's outbound queue, which its connection drains once the wait is over,
    /// so the thread that answers never writes to the connection's pipe.
    /// </summary>
    public ReplyWriter Reply => Session.Outbound.Writer;

    internal BlockedServe Serve { get; }

    /// <summary>
    /// Served also when a key it waits for is deleted or replaced by another type (XREADGROUP, answered with an
    /// error then, as Redis's signalDeletedKeyAsReady); other waiters are served only from keys that exist.
    /// </summary>
    internal bool WakesOnDeletion { get; }

    internal List<(byte[] Key, LinkedListNode<BlockedClient> Node)> Queued { get; } = [];

    internal TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Timer? Timer { get; set; }

    /// <summary>TickCount64 at which it times out; 0 for never.</summary>
    internal long DeadlineMs { get; set; }
}

/// <summary>
/// Clients blocked on keys, per database and key in the order they blocked, and the keys that received
/// data since the last command. Like Redis's blocking_keys and ready_keys: a write that creates a key
/// someone waits for marks it ready (<see cref="SignalReady"/>, through the keyspace observer); once the
/// command (or the whole EXEC) is over, the connection calls <see cref="ServeReadyKeys"/>, which gives each
/// ready key's data to its waiters first come, first served. Everything runs under the keyspace lock.
/// </summary>
public sealed class BlockingKeys
{
    /// <summary>Longest single timer period .NET accepts; longer waits re-arm.</summary>
    private const long MaxTimerMs = 0xfffffffe;

    private readonly Keyspace _keyspace;
    private readonly Propagator _propagator;
    private readonly Dictionary<byte[], LinkedList<BlockedClient>>?[] _waiters;
    private readonly HashSet<byte[]>?[] _readyByDb;
    private List<(Database Db, byte[] Key)> _ready = [];
    private List<(Database Db, byte[] Key)> _serving = [];
    private int _deletionWaiters;

    /// <summary>An empty registry for <paramref name="keyspace"/>; the pops that serve clients go to <paramref name="propagator"/>.</summary>
    public BlockingKeys(Keyspace keyspace, Propagator propagator)
    {
        _keyspace = keyspace;
        _propagator = propagator;
        _waiters = new Dictionary<byte[], LinkedList<BlockedClient>>?[keyspace.DatabaseCount];
        _readyByDb = new HashSet<byte[]>?[keyspace.DatabaseCount];
    }

    /// <summary>Clients waiting now (INFO blocked_clients).</summary>
    public int BlockedCount { get; private set; }

    /// <summary>True when some key received data for a waiter since the last <see cref="ServeReadyKeys"/>.</summary>
    public bool HasReadyKeys => _ready.Count > 0;

    /// <summary>
    /// Blocks <paramref name="session"/> on <paramref name="keys"/> of its database until <paramref name="serve"/>
    /// succeeds for one of them or <paramref name="timeoutMs"/> passes (0: forever; then the reply is a null
    /// array, as Redis answers every timed-out blocking command). Sets <see cref="Session.Suspension"/>.
    /// </summary>
    public BlockedClient Block(Session session, IEnumerable<byte[]> keys, long timeoutMs, BlockedServe serve, bool wakesOnDeletion = false)
    {
        var db = session.Db;
        var client = new BlockedClient(session, db, serve, wakesOnDeletion);
        _deletionWaiters += wakesOnDeletion ? 1 : 0;
        var map = _waiters[db.Id] ??= new Dictionary<byte[], LinkedList<BlockedClient>>(ByteArrayComparer.Instance);
        foreach (var key in keys)
        {
            if (client.Queued.Exists(q => q.Key.AsSpan().SequenceEqual(key)))
            {
                continue;
            }
            if (!map.TryGetValue(key, out var queue))
            {
                queue = new LinkedList<BlockedClient>();
                map.Add(key, queue);
            }
            client.Queued.Add((key, queue.AddLast(client)));
        }
        // Waits longer than the tick counter can add up to are as good as forever.
        if (timeoutMs > 0 && timeoutMs < long.MaxValue / 2)
        {
            client.DeadlineMs = Environment.TickCount64 + timeoutMs;
            client.Timer = new Timer(OnTimer, client, Math.Min(timeoutMs, MaxTimerMs), Timeout.Infinite);
        }
        BlockedCount++;
        session.Blocked = client;
        session.Suspension = client.Completion.Task;
        return client;
    }

    /// <summary>Blocks on the keys at argument positions <paramref name="first"/>..<paramref name="last"/>, copied out of the batch.</summary>
    public BlockedClient Block(Session session, ArgList args, int first, int last, long timeoutMs, BlockedServe serve, bool wakesOnDeletion = false)
    {
        var keys = new byte[last - first + 1][];
        for (int i = first; i <= last; i++)
        {
            keys[i - first] = args[i].ToArray();
        }
        return Block(session, keys, timeoutMs, serve, wakesOnDeletion);
    }

    /// <summary>
    /// A key of <paramref name="db"/> was created or replaced: if somebody waits for it, serve them after the
    /// current command. Costs one comparison when nobody is blocked.
    /// </summary>
    public void SignalReady(Database db, ReadOnlySpan<byte> key)
    {
        if (BlockedCount == 0 || _waiters[db.Id] is not { } map
            || !map.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var storedKey, out _))
        {
            return;
        }
        var ready = _readyByDb[db.Id] ??= new HashSet<byte[]>(ByteArrayComparer.Instance);
        if (ready.Add(storedKey))
        {
            _ready.Add((db, storedKey));
        }
    }

    /// <summary>
    /// A key of <paramref name="db"/> was deleted: clients that are told of deletions (<see cref="BlockedClient.WakesOnDeletion"/>)
    /// and wait for it are served after the current command. Costs one comparison when none waits.
    /// </summary>
    public void SignalDeleted(Database db, ReadOnlySpan<byte> key)
    {
        if (_deletionWaiters > 0)
        {
            SignalReady(db, key);
        }
    }

    /// <summary>
    /// Every waited-for key of <paramref name="db"/> that exists is ready (after SWAPDB brought new contents), and with
    /// clients told of deletions, every one that does not (after FLUSHDB, or SWAPDB took it away).
    /// </summary>
    public void SignalDatabase(Database db)
    {
        if (BlockedCount == 0 || _waiters[db.Id] is not { } map)
        {
            return;
        }
        foreach (var key in map.Keys)
        {
            if (_deletionWaiters > 0 || db.Table.Find(key) >= 0)
            {
                SignalReady(db, key);
            }
        }
    }

    /// <summary>
    /// Serves the waiters of every ready key, each key's in the order they blocked, until no key is ready
    /// (serving a BLMOVE can make its destination ready). Called after each command outside a transaction.
    /// </summary>
    public void ServeReadyKeys()
    {
        while (_ready.Count > 0)
        {
            (_ready, _serving) = (_serving, _ready);
            foreach (var (db, key) in _serving)
            {
                _readyByDb[db.Id]!.Remove(key);
                ServeKey(db, key);
            }
            _serving.Clear();
        }
    }

    /// <summary>Forgets the wait of a client that disconnected, so no data is handed to it.</summary>
    public void Forget(Session session)
    {
        if (session.Blocked is { Done: false } client)
        {
            Unblock(client);
        }
    }

    /// <summary>
    /// CLIENT UNBLOCK: ends the wait of <paramref name="session"/> as if it timed out, or with
    /// <c>-UNBLOCKED</c> when <paramref name="error"/>; false when it is not waiting for keys.
    /// </summary>
    public bool Interrupt(Session session, bool error) => Interrupt(session, error ? "UNBLOCKED client unblocked via CLIENT UNBLOCK" : null);

    /// <summary>Ends the wait of <paramref name="session"/> with the error <paramref name="error"/>, or as if it timed out when null; false when it is not waiting for keys.</summary>
    public bool Interrupt(Session session, string? error)
    {
        if (session.Blocked is not { Done: false } client)
        {
            return false;
        }
        if (error is not null)
        {
            client.Reply.WriteError(error);
        }
        else
        {
            client.Reply.WriteNullArray();
        }
        Unblock(client);
        return true;
    }

    private void ServeKey(Database db, byte[] key)
    {
        if (_waiters[db.Id] is not { } map || !map.TryGetValue(key, out var queue))
        {
            return;
        }
        var node = queue.First;
        while (node is not null)
        {
            var next = node.Next;
            var client = node.Value;
            if (!client.WakesOnDeletion && db.Find(key, touch: false) < 0)
            {
                node = next;
                continue;
            }
            // Serving is a command of its own for the change stream: the pop propagates in its non-blocking form.
            long dirty = _propagator.BeginCommand();
            // Serving changes the key in place outside the dispatcher: a running snapshot writes it first.
            db.BeforeWrite(key);
            bool served = client.Serve(client, key);
            _propagator.EndCommand(db, dirty);
            if (served)
            {
                // Serving ran outside the dispatcher, so the popped key's memory charge is settled here.
                db.Recharge(key);
                Unblock(client);
            }
            node = next;
        }
    }

    private void OnTimer(object? state)
    {
        var client = (BlockedClient)state!;
        lock (_keyspace.Sync)
        {
            if (client.Done)
            {
                return;
            }
            long remaining = client.DeadlineMs - Environment.TickCount64;
            if (remaining > 0)
            {
                client.Timer!.Change(Math.Min(remaining, MaxTimerMs), Timeout.Infinite);
                return;
            }
            client.Reply.WriteNullArray();
            Unblock(client);
        }
    }

    private void Unblock(BlockedClient client)
    {
        client.Done = true;
        var map = _waiters[client.Db.Id]!;
        foreach (var (key, node) in client.Queued)
        {
            var queue = node.List!;
            queue.Remove(node);
            if (queue.Count == 0)
            {
                map.Remove(key);
            }
        }
        client.Queued.Clear();
        client.Timer?.Dispose();
        BlockedCount--;
        _deletionWaiters -= client.WakesOnDeletion ? 1 : 0;
        // The answer (if any) is queued; the completion resumes the connection, which drains it.
        client.Session.Outbound.Send();
        client.Completion.TrySetResult();
    }
}
