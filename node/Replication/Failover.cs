using CacheOperator.Node.Server;

namespace CacheOperator.Node.Replication;

/// <summary>Where a standalone FAILOVER stands, with Redis's names (INFO master_failover_state).</summary>
public enum FailoverState
{
    /// <summary>No failover.</summary>
    None,

    /// <summary>Writes are paused; waiting for the target replica to acknowledge the whole stream.</summary>
    WaitingForSync,

    /// <summary>This node follows the target and asked it (PSYNC ... FAILOVER) to take over.</summary>
    InProgress,
}

/// <summary>
/// The master side of Redis 6.2's FAILOVER command (replication.c's failoverCommand and updateFailoverStatus): writes
/// pause; once the target replica (or, without TO, any replica) has acknowledged the master's whole stream, this node
/// becomes a replica of it and asks it with <c>PSYNC &lt;replid&gt; &lt;offset&gt; FAILOVER</c> to take over. The
/// pause ends when the target answers the PSYNC (or the failover is aborted). Under the keyspace lock.
/// </summary>
public sealed class Failover
{
    private readonly NodeServer _server;
    private readonly Replicator _replicator;
    private Timer? _deadline;

    internal Failover(NodeServer server, Replicator replicator)
    {
        _server = server;
        _replicator = replicator;
    }

    /// <summary>The state in force.</summary>
    public FailoverState State { get; private set; }

    /// <summary>Redis's name for <see cref="State"/> (INFO master_failover_state).</summary>
    public string StateName => State switch
    {
        FailoverState.WaitingForSync => "waiting-for-sync",
        FailoverState.InProgress => "failover-in-progress",
        _ => "no-failover",
    };

    /// <summary>The target's host, or null while any replica may become the target.</summary>
    public string? TargetHost { get; private set; }

    /// <summary>The target's listening port.</summary>
    public int TargetPort { get; private set; }

    /// <summary>TickCount64 after which the wait for the sync ends, 0 for none.</summary>
    private long _endMs;
    private bool _force;

    /// <summary>
    /// FAILOVER [TO host port [FORCE]] [TIMEOUT ms], its arguments checked: an error text (without the leading "ERR ")
    /// when it cannot start, else null once it started (writes paused).
    /// </summary>
    public string? Start(string? host, int port, bool force, long timeoutMs)
    {
        if (State != FailoverState.None)
        {
            return "FAILOVER already in progress.";
        }
        if (_replicator.IsReplica)
        {
            return "FAILOVER is not valid when server is a replica.";
        }
        if (_replicator.Replicas.Count == 0)
        {
            return "FAILOVER requires connected replicas.";
        }
        if (force && (timeoutMs == 0 || host is null))
        {
            return "FAILOVER with force option requires both a timeout and target HOST and IP.";
        }
        if (host is not null)
        {
            if (Find(host, port) is not { } replica)
            {
                return "FAILOVER target HOST and PORT is not a replica.";
            }
            if (replica.State != ReplicaState.Online)
            {
                return "FAILOVER target replica is not online.";
            }
            _server.Log.Event(LogLevel.Notice, "failover_requested", "FAILOVER requested", ("host", host), ("port", port));
        }
        else
        {
            _server.Log.Notice("FAILOVER requested to any replica.");
        }
        TargetHost = host;
        TargetPort = host is null ? 0 : port;
        _force = force;
        _endMs = timeoutMs > 0 ? Environment.TickCount64 + timeoutMs : 0;
        State = FailoverState.WaitingForSync;
        _server.Pause.Pause(long.MaxValue, PauseKind.Write);
        if (timeoutMs > 0)
        {
            _deadline = new Timer(_ =>
            {
                lock (_server.Keyspace.Sync)
                {
                    Update();
                }
            }, null, Math.Min(timeoutMs, 0xfffffffe), Timeout.Infinite);
        }
        // A replica already in sync: no need to wait for its next ACK.
        Update();
        return null;
    }

    /// <summary>FAILOVER ABORT: false when there is no failover to abort.</summary>
    public bool Abort()
    {
        if (State == FailoverState.None)
        {
            return false;
        }
        Abandon("Failover manually aborted");
        return true;
    }

    /// <summary>
    /// Redis's updateFailoverStatus, after each ACK, on the deadline and in the cycle: fails over once the target has
    /// acknowledged the whole stream; past the deadline fails over anyway (FORCE) or gives up.
    /// </summary>
    internal void Update()
    {
        if (State != FailoverState.WaitingForSync)
        {
            return;
        }
        if (_endMs != 0 && Environment.TickCount64 >= _endMs)
        {
            if (_force)
            {
                _server.Log.Event(LogLevel.Notice, "failover_forced", "FAILOVER time out exceeded, failing over", ("host", TargetHost), ("port", TargetPort));
                TakeOver();
            }
            else
            {
                Abandon("Replica never caught up before timeout");
            }
            return;
        }
        long offset = _server.Propagator.Stream.MasterOffset;
        ReplicaFeed? replica;
        if (TargetHost is not null)
        {
            replica = Find(TargetHost, TargetPort);
        }
        else
        {
            replica = _replicator.Replicas.FirstOrDefault(r => r.AckOffset == offset);
            if (replica is not null)
            {
                TargetHost = replica.Ip;
                TargetPort = replica.ListeningPort;
            }
        }
        if (replica is not null && replica.AckOffset == offset)
        {
            _server.Log.Event(LogLevel.Notice, "failover_synced", "Failover target is synced, failing over", ("host", TargetHost), ("port", TargetPort));
            TakeOver();
        }
    }

    /// <summary>
    /// The target answered the PSYNC ... FAILOVER (from the master link): accepted (+CONTINUE or +FULLRESYNC) ends the
    /// failover; anything else aborts it and this node is a master again. True when the link goes on.
    /// </summary>
    internal bool PsyncAnswered(bool accepted)
    {
        if (State != FailoverState.InProgress)
        {
            return true;
        }
        if (accepted)
        {
            Clear();
            return true;
        }
        Abandon("Failover target rejected psync request");
        return false;
    }

    private void TakeOver()
    {
        State = FailoverState.InProgress;
        _replicator.Follow(TargetHost!, TargetPort);
    }

    /// <summary>Redis's abortFailover: a node already following the target becomes a master again.</summary>
    private void Abandon(string reason)
    {
        _server.Log.Event(LogLevel.Notice, "failover_aborted", "FAILOVER aborted", ("host", TargetHost ?? "any replica"), ("port", TargetPort), ("reason", reason));
        if (State == FailoverState.InProgress)
        {
            _replicator.Promote();
        }
        Clear();
    }

    /// <summary>Redis's clearFailoverState: the pause ends.</summary>
    private void Clear()
    {
        State = FailoverState.None;
        TargetHost = null;
        TargetPort = 0;
        _force = false;
        _endMs = 0;
        _deadline?.Dispose();
        _deadline = null;
        _server.Pause.Unpause();
    }

    private ReplicaFeed? Find(string host, int port) =>
        _replicator.Replicas.FirstOrDefault(r => string.Equals(r.Ip, host, StringComparison.OrdinalIgnoreCase) && r.ListeningPort == port);
}
