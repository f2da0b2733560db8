using System.Globalization;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Replication;

/// <summary>
/// This node's replication, both roles, as Redis's replication.c: as a master, the backlog, the replicas fed from
/// the change stream (PSYNC: +CONTINUE from the backlog or +FULLRESYNC with a snapshot), their acknowledged
/// offsets, WAIT and min-replicas-to-write; as a replica, the link to its master (<see cref="MasterLink"/>).
/// Everything here runs under the keyspace lock unless noted.
/// </summary>
public sealed class Replicator
{
    private const long OnlineBackpressureBytes = 1024 * 1024;
    private static readonly byte[] PingName = "PING"u8.ToArray();
    private static readonly byte[][] GetAckCommand = ["REPLCONF"u8.ToArray(), "GETACK"u8.ToArray(), "*"u8.ToArray()];

    private readonly NodeServer _server;
    private readonly List<ReplicaFeed> _replicas = [];
    private readonly List<WaitingClient> _waiting = [];
    private long _noReplicasSinceMs = Environment.TickCount64;
    private long _lastPingMs = Environment.TickCount64;
    private long _lastCronMs;

    /// <summary>Replication for <paramref name="server"/>; a master with no backlog until a replica connects.</summary>
    public Replicator(NodeServer server)
    {
        _server = server;
        Failover = new Failover(server, this);
        server.Config.ReplBacklogSize.Changed += d => Backlog?.Resize(d.Number);
    }

    /// <summary>The standalone FAILOVER under way, if any.</summary>
    public Failover Failover { get; }

    /// <summary>Clients blocked in WAIT.</summary>
    public int WaitingCount => _waiting.Count;

    /// <summary>The backlog, created when the first replica connects (or this replica syncs), freed after repl-backlog-ttl without replicas.</summary>
    public ReplicationBacklog? Backlog { get; private set; }

    /// <summary>The link to the master while this node is a replica, else null.</summary>
    public MasterLink? Link { get; private set; }

    /// <summary>Replicas connected here, syncing or online.</summary>
    public IReadOnlyList<ReplicaFeed> Replicas => _replicas;

    /// <summary>Full resynchronizations served (INFO sync_full).</summary>
    public long SyncFull { get; private set; }

    /// <summary>Partial resynchronizations accepted (INFO sync_partial_ok).</summary>
    public long SyncPartialOk { get; private set; }

    /// <summary>Partial resynchronizations refused (INFO sync_partial_err).</summary>
    public long SyncPartialErr { get; private set; }

    /// <summary>CONFIG RESETSTAT: the sync counters start again from zero.</summary>
    public void ResetStats()
    {
        SyncFull = 0;
        SyncPartialOk = 0;
        SyncPartialErr = 0;
    }

    /// <summary>Online replicas whose last ACK is within min-replicas-max-lag (INFO min_slaves_good_slaves).</summary>
    public int GoodReplicas { get; private set; }

    /// <summary>
    /// Takes a point-in-time snapshot of the data in RDB form, written to the stream on a background task (the caller
    /// holds the keyspace lock): the change stream's offset at the snapshot point and its completion (true: written),
    /// or null when a snapshot cannot start now. Set by the server once snapshots exist.
    /// </summary>
    public Func<Stream, (long Offset, Task<bool> Done)?>? StartSnapshot { get; set; }

    /// <summary>
    /// Reads an RDB payload into fresh databases (off the lock) and returns what swaps them in (under the lock); throws
    /// on a corrupt payload. Set by the server once snapshots exist.
    /// </summary>
    public Func<Stream, Action>? LoadSnapshot { get; set; }

    private ChangeStream Stream => _server.Propagator.Stream;

    private ReplicationIds Ids => _server.Replication;

    private NodeConfig Config => _server.Config;

    /// <summary>True when the node is a replica.</summary>
    public bool IsReplica => Link is not null;

    // ---- master side ----

    /// <summary>REPLCONF from a client that will be a replica (or is one): records what it announces; false for an unknown option.</summary>
    public ReplicaFeed Announce(Session session) => session.Replica ??= new ReplicaFeed(session);

    /// <summary>
    /// PSYNC replid offset (or SYNC when <paramref name="replid"/> is null) from <paramref name="session"/>; with
    /// <paramref name="failover"/> (PSYNC replid offset FAILOVER, from a master failing over to this replica) this
    /// node first becomes a master, when the master's history is its own.
    /// </summary>
    public void Psync(Session session, string? replid, string offset, bool failover = false)
    {
        if (session.IsReplica)
        {
            return;
        }
        if (failover)
        {
            _server.Log.Event(LogLevel.Warning, "failover_request", "Failover request received", ("replid", replid));
            if (!IsReplica)
            {
                session.Reply.WriteError("ERR PSYNC FAILOVER can't be sent to a master.");
                return;
            }
            if (replid != Ids.Id)
            {
                session.Reply.WriteError("ERR PSYNC FAILOVER replid must match my replid.");
                return;
            }
            Promote();
            _server.Log.Event(LogLevel.Notice, "master_mode", "MASTER MODE enabled (failover request)", ("client", session.RemoteAddress));
        }
        if (Failover.State != FailoverState.None)
        {
            session.Reply.WriteError("NOMASTERLINK Can't SYNC while failing over");
            return;
        }
        if (Link is { IsUp: false })
        {
            session.Reply.WriteError("NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
        var feed = Announce(session);
        if (replid is not null && TryPartial(feed, replid, offset))
        {
            SyncPartialOk++;
            return;
        }
        if (replid is not null && replid != "?")
        {
            SyncPartialErr++;
        }
        if (StartSnapshot is null)
        {
            session.Reply.WriteError("ERR full resynchronization is not available on this node yet");
            return;
        }
        if (Backlog is null)
        {
            // As Redis: a backlog created from scratch starts a new history.
            Ids.ChangeId();
            Ids.ClearId2();
            CreateBacklog();
        }
        session.IsReplica = true;
        feed.IsSync = replid is null;
        feed.State = ReplicaState.WaitBgsave;
        feed.WaitingSinceMs = Environment.TickCount64;
        _replicas.Add(feed);
        SyncFull++;
        _server.Log.Event(LogLevel.Notice, "replica_full_sync", "Full resync requested by replica", ("replica", feed.Session.RemoteAddress));
        // As Redis: a diskless sync waits repl-diskless-sync-delay for more replicas (the cycle starts it); else at once.
        if (Config.ReplDisklessSyncDelay.Number == 0 || !feed.CapableOfEof || feed.IsSync)
        {
            StartPendingSnapshot(now: true);
        }
    }

    /// <summary>Snapshots taken for replicas so far: replicas that waited together share one.</summary>
    public long ReplicaSnapshots { get; private set; }

    /// <summary>
    /// Redis's replicationStartPendingFork: one snapshot for every replica waiting for one, once the first has waited
    /// repl-diskless-sync-delay, or repl-diskless-sync-max-replicas wait, or at once when <paramref name="now"/>.
    /// A replica arriving while a snapshot is taken waits for the next one.
    /// </summary>
    private void StartPendingSnapshot(bool now)
    {
        var waiting = _replicas.Where(r => r.State == ReplicaState.WaitBgsave).ToList();
        if (waiting.Count == 0)
        {
            return;
        }
        long delayMs = Config.ReplDisklessSyncDelay.Number * 1000;
        long maxReplicas = Config.ReplDisklessSyncMaxReplicas.Number;
        bool due = now || delayMs == 0 || Environment.TickCount64 - waiting.Min(r => r.WaitingSinceMs) >= delayMs
            || (maxReplicas > 0 && waiting.Count >= maxReplicas) || waiting.Exists(r => !r.CapableOfEof || r.IsSync);
        if (due)
        {
            BeginTransfer(waiting);
        }
    }

    private bool TryPartial(ReplicaFeed feed, string replid, string offsetText)
    {
        if (!long.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset)
            || !Ids.Knows(replid, offset) || Backlog is null || !Backlog.Holds(offset))
        {
            return false;
        }
        var session = feed.Session;
        session.IsReplica = true;
        session.Reply.WriteRaw(Encoding.ASCII.GetBytes(feed.CapableOfPsync2 ? $"+CONTINUE {Ids.Id}\r\n" : "+CONTINUE\r\n"));
        feed.State = ReplicaState.Online;
        feed.AckTimeMs = Environment.TickCount64;
        _replicas.Add(feed);
        // Queued after the reply: the connection drains its outbound queue right after the command's reply.
        feed.Send(Backlog.CopyFrom(offset));
        Stream.Subscribe(feed);
        _server.Log.Event(LogLevel.Notice, "replica_partial_sync", "Partial resynchronization request accepted",
            ("replica", session.RemoteAddress), ("offset", offset), ("bytes", Backlog.FirstByteOffset + Backlog.HistoryLength - offset));
        return true;
    }

    /// <summary>Starts one snapshot for the replicas waiting for one; false when they must wait (another snapshot runs).</summary>
    private bool BeginTransfer(List<ReplicaFeed> feeds)
    {
        var buffer = new MemoryStream();
        if (StartSnapshot!(buffer) is not { } snapshot)
        {
            return false;
        }
        ReplicaSnapshots++;
        foreach (var feed in feeds)
        {
            // From the snapshot point on, the stream is held for this replica until the snapshot is sent.
            feed.Hold();
            Stream.Subscribe(feed);
            feed.State = ReplicaState.SendBulk;
            if (!feed.IsSync)
            {
                feed.Send(Encoding.ASCII.GetBytes($"+FULLRESYNC {Ids.Id} {snapshot.Offset}\r\n"));
            }
            // The buffer is only read once written: every replica sends it from its own task.
            _ = Task.Run(() => SendSnapshotAsync(feed, snapshot.Done, buffer));
        }
        return true;
    }

    /// <summary>Sends the snapshot (off the lock), in the <c>$EOF:</c> form when the replica can read it, then the held stream.</summary>
    private async Task SendSnapshotAsync(ReplicaFeed feed, Task<bool> done, MemoryStream buffer)
    {
        bool ok = await done.ConfigureAwait(false);
        if (!ok || feed.Closed)
        {
            feed.Session.Abort?.Invoke();
            return;
        }
        var payload = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        bool eof = feed.CapableOfEof && !feed.IsSync;
        string mark = Random.Shared.GetHexString(40, lowercase: true);
        Send(feed, Encoding.ASCII.GetBytes(eof ? $"$EOF:{mark}\r\n" : $"${payload.Length}\r\n"));
        const int Chunk = 256 * 1024;
        for (int at = 0; at < payload.Length; at += Chunk)
        {
            Send(feed, payload.Span.Slice(at, Math.Min(Chunk, payload.Length - at)));
            while (feed.Session.Outbound.PendingBytes > OnlineBackpressureBytes && !feed.Closed)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }
            if (feed.Closed)
            {
                return;
            }
        }
        lock (_server.Keyspace.Sync)
        {
            if (eof)
            {
                feed.Send(Encoding.ASCII.GetBytes(mark));
                // The replica finds the end by the mark: the stream must not follow it before it says it has read it.
                feed.OnlineOnAck = true;
            }
            else
            {
                feed.GoOnline();
            }
            _server.Log.Event(LogLevel.Notice, "replica_sync_sent", "Synchronization with replica succeeded", ("replica", feed.Session.RemoteAddress), ("bytes", payload.Length));
        }
    }

    private void Send(ReplicaFeed feed, ReadOnlySpan<byte> bytes)
    {
        lock (_server.Keyspace.Sync)
        {
            feed.Send(bytes);
        }
    }

    /// <summary>REPLCONF ACK offset from a replica.</summary>
    public void Ack(Session session, long offset)
    {
        if (!session.IsReplica || session.Replica is not { } feed)
        {
            return;
        }
        feed.AckOffset = Math.Max(feed.AckOffset, offset);
        feed.AckTimeMs = Environment.TickCount64;
        if (feed.OnlineOnAck)
        {
            feed.GoOnline();
        }
        RefreshGoodReplicas();
        ServeWaiting();
        Failover.Update();
    }

    /// <summary>A client connection closed: its WAIT is dropped, a replica stops being fed.</summary>
    public void Forget(Session session)
    {
        if (session.WaitsForReplicas)
        {
            foreach (var waiter in _waiting.Where(w => w.Session == session).ToArray())
            {
                _waiting.Remove(waiter);
                waiter.Timer?.Dispose();
                waiter.Completion.TrySetResult();
            }
            session.WaitsForReplicas = false;
        }
        if (session.Replica is not { } feed)
        {
            return;
        }
        feed.Closed = true;
        if (_replicas.Remove(feed))
        {
            Stream.Unsubscribe(feed);
            _server.Log.Event(LogLevel.Notice, "replica_lost", "Connection with replica lost", ("replica", session.RemoteAddress));
            if (_replicas.Count == 0)
            {
                _noReplicasSinceMs = Environment.TickCount64;
            }
            RefreshGoodReplicas();
        }
    }

    /// <summary>Closes every replica's connection (they reconnect and resynchronize, as Redis's disconnectSlaves).</summary>
    public void DisconnectReplicas()
    {
        foreach (var feed in _replicas.ToArray())
        {
            Forget(feed.Session);
            feed.Session.Abort?.Invoke();
        }
    }

    /// <summary>Replicas whose acknowledged offset reached <paramref name="offset"/>.</summary>
    public int CountAcked(long offset) => _replicas.Count(r => r.State == ReplicaState.Online && r.AckOffset >= offset);

    /// <summary>Writes are paused (CLIENT PAUSE, a manual failover): nothing may move the stream's offset, not even PING or GETACK.</summary>
    private bool WritesPaused => _server.Pause.Kind != PauseKind.None;

    /// <summary>WAIT numreplicas timeout: answers at once when enough replicas acknowledged the stream so far, else blocks.</summary>
    public void Wait(Session session, long replicas, long timeoutMs)
    {
        long target = Stream.MasterOffset;
        int acked = CountAcked(target);
        if (acked >= replicas || session.DenyBlocking)
        {
            session.Reply.WriteInteger(acked);
            return;
        }
        var waiter = new WaitingClient(session, target, replicas);
        _waiting.Add(waiter);
        session.WaitsForReplicas = true;
        session.Suspension = waiter.Completion.Task;
        // As Redis's beforeSleep: ask the replicas where they are, so the answer does not wait for their next periodic ACK;
        // not while writes are paused, when the offset must stay where a manual failover's replica was told it is.
        if (!WritesPaused)
        {
            Stream.PublishCommand(GetAckCommand);
        }
        if (timeoutMs > 0)
        {
            waiter.Timer = new Timer(_ =>
            {
                lock (_server.Keyspace.Sync)
                {
                    Answer(waiter);
                }
            }, null, timeoutMs, Timeout.Infinite);
        }
    }

    private void ServeWaiting()
    {
        foreach (var waiter in _waiting.ToArray())
        {
            if (CountAcked(waiter.Offset) >= waiter.Replicas)
            {
                Answer(waiter);
            }
        }
    }

    private void Answer(WaitingClient waiter)
    {
        if (!_waiting.Remove(waiter))
        {
            return;
        }
        waiter.Timer?.Dispose();
        waiter.Session.WaitsForReplicas = false;
        waiter.Session.Outbound.Writer.WriteInteger(CountAcked(waiter.Offset));
        waiter.Session.Outbound.Send();
        waiter.Completion.TrySetResult();
    }

    /// <summary>
    /// Redis's disconnectAllBlockedClients, when this master turns replica: every client blocked in WAIT or on keys
    /// gets <c>-UNBLOCKED</c> and its connection closes after the reply. Clients held by a pause are not blocked in
    /// this sense: their command runs again when the pause ends (and a write then meets -READONLY).
    /// </summary>
    private void UnblockAllClients()
    {
        const string Unblocked = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
        foreach (var waiter in _waiting.ToArray())
        {
            _waiting.Remove(waiter);
            waiter.Timer?.Dispose();
            waiter.Session.WaitsForReplicas = false;
            waiter.Session.Outbound.Writer.WriteError(Unblocked);
            waiter.Session.CloseAfterReply = true;
            waiter.Session.Outbound.Send();
            waiter.Completion.TrySetResult();
        }
        foreach (var session in _server.Clients)
        {
            if (session.Blocked is { Done: false })
            {
                session.CloseAfterReply = true;
                _server.Blocking.Interrupt(session, Unblocked);
            }
        }
    }

    /// <summary>min-replicas-to-write: true when a write must be refused with -NOREPLICAS.</summary>
    public bool TooFewReplicas => !IsReplica && Config.MinReplicasToWrite.Number > 0 && Config.MinReplicasMaxLag.Number > 0
        && GoodReplicas < Config.MinReplicasToWrite.Number;

    private void RefreshGoodReplicas()
    {
        long maxLag = Config.MinReplicasMaxLag.Number;
        GoodReplicas = _replicas.Count(r => r.State == ReplicaState.Online && r.LagSeconds <= maxLag);
    }

    private void CreateBacklog()
    {
        Backlog = new ReplicationBacklog(Config.ReplBacklogSize.Number, Stream.MasterOffset);
        Stream.Subscribe(Backlog);
    }

    // ---- replica side ----

    /// <summary>REPLICAOF host port: follows that master from now on (a replica of another master switches).</summary>
    public void Follow(string host, int port)
    {
        UnblockAllClients();
        Link?.Stop();
        _server.Propagator.FollowsMaster = true;
        _server.Keyspace.ExpiresFollowMaster = true;
        Link = new MasterLink(_server, this, host, port);
        _server.Log.Event(LogLevel.Notice, "replicaof", "Connecting to MASTER", ("host", host), ("port", port));
        Link.Start();
    }

    /// <summary>
    /// Milliseconds since the master link last carried data, or since it went down (Redis's data_age, which bounds a
    /// cluster replica's right to fail over); very large when this node follows no master or never reached it.
    /// </summary>
    public long MasterDataAgeMs
    {
        get
        {
            const long never = long.MaxValue / 4;
            if (Link is not { } link)
            {
                return never;
            }
            long now = Environment.TickCount64;
            if (link.IsUp)
            {
                return now - link.LastIoMs;
            }
            return link.DownSinceMs == 0 ? never : now - link.DownSinceMs;
        }
    }

    /// <summary>REPLICAOF NO ONE: becomes a master, keeping the master's history as the second id (PSYNC2).</summary>
    public void Promote()
    {
        if (Link is not { } link)
        {
            return;
        }
        link.Stop();
        Link = null;
        _server.Propagator.FollowsMaster = false;
        _server.Keyspace.ExpiresFollowMaster = false;
        Ids.Shift(Stream.MasterOffset);
        Stream.ForgetSelectedDb();
        Stream.FollowedDb = null;
        // Replicas reconnect and continue under the new id (+CONTINUE <newid>).
        DisconnectReplicas();
        _noReplicasSinceMs = Environment.TickCount64;
        _server.Log.Event(LogLevel.Notice, "master_mode", "MASTER MODE enabled", ("replid", Ids.Id), ("replid2", Ids.Id2), ("second_offset", Ids.SecondOffset));
    }

    /// <summary>The master sent its snapshot: adopts its history at <paramref name="offset"/> (the data was just swapped in).</summary>
    internal void AdoptMaster(string replid, long offset)
    {
        Ids.Adopt(replid);
        Ids.ClearId2();
        Stream.SetOffset(offset);
        Stream.ForgetSelectedDb();
        if (Backlog is null)
        {
            CreateBacklog();
        }
        else
        {
            Backlog.Reset(offset);
        }
        DisconnectReplicas();
    }

    /// <summary>
    /// The master answered +CONTINUE: the history goes on, under <paramref name="replid"/> when it names another one (a
    /// failover upstream: the old id becomes the second, and this node's replicas reconnect to learn the new one).
    /// </summary>
    internal void Continue(string? replid)
    {
        if (replid is not null && replid != Ids.Id)
        {
            Ids.Shift(Stream.MasterOffset, replid);
            DisconnectReplicas();
        }
        if (Backlog is null)
        {
            CreateBacklog();
        }
    }

    /// <summary>Database the master's stream had selected when the snapshot this replica started from was taken.</summary>
    internal int ResumeDb { get; private set; }

    /// <summary>After a full sync the stream starts in database 0.</summary>
    internal void ForgetResumeDb() => ResumeDb = 0;

    /// <summary>
    /// A replica restarting from its own snapshot: takes the history and offset the snapshot recorded (AUX repl-id,
    /// repl-offset, repl-stream-db), so its first PSYNC can continue from the master's backlog, as Redis does.
    /// </summary>
    public void ResumeHistory(IReadOnlyDictionary<string, string> aux)
    {
        if (aux.TryGetValue("repl-id", out var replid) && replid.Length == 40
            && aux.TryGetValue("repl-offset", out var offsetText) && long.TryParse(offsetText, CultureInfo.InvariantCulture, out long offset) && offset >= 0)
        {
            Ids.Adopt(replid);
            Ids.ClearId2();
            Stream.SetOffset(offset);
            ResumeDb = aux.TryGetValue("repl-stream-db", out var db) && int.TryParse(db, CultureInfo.InvariantCulture, out int n)
                && n >= 0 && n < _server.Keyspace.DatabaseCount ? n : 0;
            _server.Log.Event(LogLevel.Notice, "replication_resumed", "Replication history restored from the snapshot", ("replid", replid), ("offset", offset));
        }
    }

    /// <summary>Once a second (the server's cycle): PINGs, the backlog's time to live, replica timeouts, pending snapshots.</summary>
    public void Cron()
    {
        long now = Environment.TickCount64;
        if (now - _lastCronMs < 1000)
        {
            return;
        }
        _lastCronMs = now;
        lock (_server.Keyspace.Sync)
        {
            if (!IsReplica && _replicas.Count > 0 && now - _lastPingMs >= Config.ReplPingReplicaPeriod.Number * 1000 && !WritesPaused)
            {
                _lastPingMs = now;
                Stream.PublishCommand(PingName);
            }
            long ttl = Config.ReplBacklogTtl.Number;
            if (!IsReplica && _replicas.Count == 0 && Backlog is not null && ttl > 0 && now - _noReplicasSinceMs > ttl * 1000)
            {
                // As Redis: no replica can continue the old history any more; the next backlog starts a new one.
                Ids.ChangeId();
                Ids.ClearId2();
                Stream.Unsubscribe(Backlog);
                Backlog = null;
                _server.Log.Notice("Replication backlog freed after the time to live without replicas");
            }
            long timeoutMs = Config.ReplTimeout.Number * 1000;
            foreach (var feed in _replicas.ToArray())
            {
                if (feed.State == ReplicaState.WaitBgsave)
                {
                    // As Redis: a replica waiting for its snapshot gets a newline a second, which keeps its link alive.
                    feed.Send("\n"u8);
                }
                else if (feed.State == ReplicaState.Online && now - feed.AckTimeMs > timeoutMs)
                {
                    _server.Log.Event(LogLevel.Warning, "replica_timeout", "Disconnecting timedout replica", ("replica", feed.Session.RemoteAddress));
                    Forget(feed.Session);
                    feed.Session.Abort?.Invoke();
                }
            }
            StartPendingSnapshot(now: false);
            RefreshGoodReplicas();
            Failover.Update();
            Link?.Cron(now);
        }
    }

    /// <summary>Stops the link (shutdown).</summary>
    public void Stop() => Link?.Stop();

    private sealed class WaitingClient(Session session, long offset, long replicas)
    {
        public Session Session { get; } = session;

        public long Offset { get; } = offset;

        public long Replicas { get; } = replicas;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Timer? Timer { get; set; }
    }
}
