using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Cluster.Bus;

/// <summary>How CLUSTER FAILOVER was asked to promote this replica.</summary>
public enum ManualFailoverMode
{
    /// <summary>Coordinated with the master: it pauses writes and tells its offset; the replica catches up, then asks for votes.</summary>
    Default,

    /// <summary>The master is unreachable: ask for votes at once, without its agreement.</summary>
    Force,

    /// <summary>No vote at all: take a new config epoch and the master's slots.</summary>
    Takeover,
}

/// <summary>
/// The replica side of Redis 7.0's failover (cluster.c, "SLAVE node specific functions"): when our master is FAIL, an
/// election after Redis's delay (500 ms + random 0-500 ms + 1 s per better-ranked replica), votes counted from masters
/// with slots, and the promotion (clusterFailoverReplaceYourMaster); the manual failover of CLUSTER FAILOVER on both
/// sides (MFSTART, the master's write pause and offset, the replica catching up). Runs under the keyspace lock, from
/// the cron and from processed messages.
/// </summary>
internal sealed partial class ClusterBus
{
    // Redis's CLUSTER_MF_TIMEOUT and CLUSTER_MF_PAUSE_MULT: a manual failover must finish in 5 s; the master pauses twice that.
    private const long ManualFailoverTimeoutMs = 5000;
    private const long ManualFailoverPauseMultiplier = 2;

    // Redis's repl-ping-replica-period default (seconds): part of the data age a replica may have and still fail over.
    private const long ReplicaPingPeriodMs = 10_000;

    // Redis's CLUSTER_SLAVE_MIGRATION_DELAY: a master must stay orphaned this long before a replica moves to it, so
    // the natural replicas of a failed-over master have time to announce their new master first.
    private const long ReplicaMigrationDelayMs = 5000;

    private long _authTimeMs;
    private int _authCount;
    private bool _authSent;
    private int _authRank;
    private ulong _authEpoch;
    private string? _cantFailoverReason;

    private long _manualEndMs;
    private bool _manualCanStart;
    private ClusterNode? _manualReplica;
    private long _manualMasterOffset = -1;

    /// <summary>Elections won by this node since start.</summary>
    public long FailoversWon { get; private set; }

    /// <summary>
    /// CLUSTER FAILOVER on this replica (checked by the command): starts a manual failover in <paramref name="mode"/>.
    /// Under the lock.
    /// </summary>
    public void StartManualFailover(ManualFailoverMode mode)
    {
        ResetManualFailover();
        _manualEndMs = _state.NowMs + ManualFailoverTimeoutMs;
        switch (mode)
        {
            case ManualFailoverMode.Takeover:
                // No agreement: a new config epoch of our own wins the slots, and the others learn it from our pongs.
                _log.Notice("Taking over the master (user request).");
                _state.BumpEpochWithoutConsensus();
                ReplaceMyMaster();
                break;
            case ManualFailoverMode.Force:
                _log.Notice("Forced failover user request accepted.");
                _manualCanStart = true;
                // The election starts at once, not after the delay an automatic failover waits.
                _authTimeMs = 0;
                break;
            default:
                _log.Notice("Manual failover user request accepted.");
                if (_state.Myself.Master is { } master && _outbound.TryGetValue(master, out var link))
                {
                    Send(link, Header(ClusterMessageType.MfStart));
                }
                break;
        }
    }

    /// <summary>The replica's failover duties, each cron run (Redis's clusterCron tail for replicas).</summary>
    private void ReplicaCron()
    {
        if (_manualEndMs != 0 && _manualEndMs < _state.NowMs)
        {
            _log.Warning("Manual failover timed out.");
            ResetManualFailover();
        }
        if (_state.Myself.IsReplica)
        {
            HandleManualFailover();
            HandleReplicaFailover();
            ConsiderReplicaMigration();
        }
    }

    /// <summary>
    /// Redis's clusterCron orphan check and clusterHandleSlaveMigration: when a master with slots that used to have
    /// replicas has none working, a replica of a master with the most working replicas (the one with the smallest id
    /// among them) moves to it, provided its own master keeps more than cluster-migration-barrier replicas.
    /// </summary>
    private void ConsiderReplicaMigration()
    {
        var myself = _state.Myself;
        var myMaster = myself.Master;
        if (!_state.Config.ClusterAllowReplicaMigration.IsOn || myMaster is null)
        {
            return;
        }
        int orphanedMasters = 0, maxReplicas = 0, myMastersReplicas = 0;
        foreach (var node in _state.Nodes)
        {
            if (node.IsMyself || !node.IsMaster || node.IsFailed || (node.Flags & (ClusterNodeFlags.NoAddr | ClusterNodeFlags.Handshake)) != 0)
            {
                continue;
            }
            int working = WorkingReplicas(node);
            if (working == 0 && node.Slots.Count > 0 && (node.Flags & ClusterNodeFlags.MigrateTo) != 0)
            {
                orphanedMasters++;
            }
            maxReplicas = Math.Max(maxReplicas, working);
            if (node == myMaster)
            {
                myMastersReplicas = working;
            }
        }
        // Moving only makes sense from a master with at least two working replicas, and only from one of the best-served.
        if (orphanedMasters == 0 || maxReplicas < 2 || myMastersReplicas != maxReplicas || !_state.IsOk)
        {
            return;
        }
        int okReplicas = myMaster.Replicas.Count(r => !r.IsFailed && !r.IsTimedOut);
        if (okReplicas <= _state.Config.ClusterMigrationBarrier.Number)
        {
            return;
        }
        ClusterNode? target = null;
        var candidate = myself;
        long now = _state.NowMs;
        foreach (var node in _state.Nodes)
        {
            int working = node.IsMaster ? WorkingReplicas(node) : 0;
            bool orphaned = node.IsMaster && !node.IsFailed && (node.Flags & ClusterNodeFlags.MigrateTo) != 0 && working == 0;
            if (orphaned)
            {
                if (target is null && node.Slots.Count > 0)
                {
                    target = node;
                }
                if (node.OrphanedTimeMs == 0)
                {
                    node.OrphanedTimeMs = now;
                }
            }
            else
            {
                node.OrphanedTimeMs = 0;
            }
            if (working == maxReplicas)
            {
                foreach (var replica in node.Replicas)
                {
                    if (string.CompareOrdinal(replica.Id, candidate.Id) < 0)
                    {
                        candidate = replica;
                    }
                }
            }
        }
        if (target is not null && candidate == myself && now - target.OrphanedTimeMs > ReplicaMigrationDelayMs)
        {
            _log.Notice($"Migrating to orphaned master {target.Id}");
            _state.SetMyMaster(target);
        }
    }

    /// <summary>Redis's clusterCountNonFailingSlaves.</summary>
    private static int WorkingReplicas(ClusterNode master) => master.Replicas.Count(r => !r.IsFailed);

    /// <summary>Redis's resetManualFailover: a master lifts the write pause it took for a replica.</summary>
    private void ResetManualFailover()
    {
        if (_manualReplica is not null)
        {
            _pause?.Unpause();
        }
        _manualEndMs = 0;
        _manualCanStart = false;
        _manualReplica = null;
        _manualMasterOffset = -1;
    }

    /// <summary>
    /// A master's claim of slots (<see cref="ClusterState.UpdateSlotsFromClaim"/>). When it makes this master a replica,
    /// the manual failover it paused writes for is over (Redis's clusterSetMaster calls resetManualFailover): the pause
    /// lifts now, so paused clients get MOVED to the new master at once instead of waiting out the pause.
    /// </summary>
    private void ApplySlotClaim(ClusterNode sender, ulong senderConfigEpoch, ReadOnlySpan<byte> claimedSlots)
    {
        bool wasMaster = _state.Myself.IsMaster;
        _state.UpdateSlotsFromClaim(sender, senderConfigEpoch, claimedSlots);
        if (wasMaster && _state.Myself.IsReplica)
        {
            ResetManualFailover();
        }
    }

    /// <summary>Redis's clusterHandleManualFailover: once the paused master's offset is reached, the election may start.</summary>
    private void HandleManualFailover()
    {
        if (_manualEndMs == 0 || _manualCanStart || _manualMasterOffset == -1)
        {
            return;
        }
        if (_manualMasterOffset == _replicationOffset())
        {
            _manualCanStart = true;
            _log.Notice("All master replication stream processed, manual failover can start.");
            // Voting starts at once, as Redis's manual failover does, rather than after the random delay.
            _authTimeMs = 0;
        }
    }

    /// <summary>A master got MFSTART from one of its replicas: pause writes and send the offset the replica must reach.</summary>
    private void ProcessManualFailoverStart(BusLink link, ClusterNode? sender)
    {
        if (sender is null || sender.Master != _state.Myself)
        {
            return;
        }
        ResetManualFailover();
        _manualEndMs = _state.NowMs + ManualFailoverTimeoutMs;
        _manualReplica = sender;
        _pause?.Pause(ManualFailoverTimeoutMs * ManualFailoverPauseMultiplier, Server.PauseKind.Write);
        _log.Notice($"Manual failover requested by replica {sender.Id}.");
        // Our ping carries the paused flag and our offset now (see Header).
        SendPing(link, ClusterMessageType.Ping);
    }

    /// <summary>A message from our master while a manual failover waits: a paused master's offset is the target.</summary>
    private void ObserveMasterDuringManualFailover(ClusterNode? sender, ClusterMessage hdr)
    {
        if (_manualEndMs != 0 && _state.Myself.IsReplica && sender is not null && _state.Myself.Master == sender
            && (hdr.MFlags0 & ClusterMessage.Flag0Paused) != 0 && _manualMasterOffset == -1)
        {
            _manualMasterOffset = sender.ReplOffset;
            _log.Notice($"Received replication offset for paused master manual failover: {_manualMasterOffset}");
            // Redis's CLUSTER_TODO_HANDLE_MANUALFAILOVER: act in this turn, not on the next cron tick 100 ms later.
            HandleManualFailover();
            HandleReplicaFailover();
        }
    }

    /// <summary>A FAILOVER_AUTH_ACK: a vote counts when it comes from a master with slots for this election's epoch.</summary>
    private void ProcessFailoverAuthAck(ClusterNode? sender, ClusterMessage hdr)
    {
        if (sender is not null && sender.IsMaster && sender.Slots.Count > 0 && hdr.CurrentEpoch >= _authEpoch)
        {
            _authCount++;
            HandleReplicaFailover();
        }
    }

    /// <summary>
    /// Redis's clusterHandleSlaveFailover: while our master (with slots) is FAIL, or a manual failover may start, wait the
    /// delay, ask every node for its vote with a new epoch, and take over with a majority of the masters.
    /// </summary>
    private void HandleReplicaFailover()
    {
        var myself = _state.Myself;
        var master = myself.Master;
        long now = _state.NowMs;
        long authAge = now - _authTimeMs;
        int neededQuorum = (_state.Size / 2) + 1;
        bool manual = _manualEndMs != 0 && _manualCanStart;
        long authTimeout = Math.Max(NodeTimeout * 2, 2000);
        long authRetryTime = authTimeout * 2;

        if (!myself.IsReplica || master is null || (!master.IsFailed && !manual)
            || (_state.Config.ClusterReplicaNoFailover.IsOn && !manual) || master.Slots.Count == 0)
        {
            _cantFailoverReason = null;
            return;
        }

        // Disconnected for at least the time it took to flag the master FAIL is the baseline, not age.
        long dataAge = _masterDataAgeMs();
        if (dataAge > NodeTimeout)
        {
            dataAge -= NodeTimeout;
        }
        long validityFactor = _state.Config.ClusterReplicaValidityFactor.Number;
        if (validityFactor != 0 && dataAge > ReplicaPingPeriodMs + (NodeTimeout * validityFactor) && !manual)
        {
            CantFailover("Disconnected from master for longer than allowed. Please check the 'cluster-replica-validity-factor' configuration option.");
            return;
        }

        if (authAge > authRetryTime)
        {
            // A new election: the best replicas (highest offset) go first, a second apart.
            _authTimeMs = now + 500 + Random.Shared.Next(500);
            _authCount = 0;
            _authSent = false;
            _authRank = ReplicaRank();
            _authTimeMs += _authRank * 1000L;
            if (_manualEndMs != 0)
            {
                _authTimeMs = now;
                _authRank = 0;
            }
            _log.Warning($"Start of election delayed for {_authTimeMs - now} milliseconds (rank #{_authRank}, offset {_replicationOffset()}).");
            // Our offset reaches the other replicas of the master, so they can rank themselves.
            foreach (var replica in master.Replicas)
            {
                if (replica != myself && _outbound.TryGetValue(replica, out var link))
                {
                    SendPing(link, ClusterMessageType.Pong);
                }
            }
            if (_manualEndMs != 0)
            {
                // A manual failover has no delay: ask for votes now (Redis's clusterDoBeforeSleep(CLUSTER_TODO_HANDLE_FAILOVER)).
                HandleReplicaFailover();
            }
            return;
        }

        if (!_authSent && _manualEndMs == 0)
        {
            int rank = ReplicaRank();
            if (rank > _authRank)
            {
                long added = (rank - _authRank) * 1000L;
                _authTimeMs += added;
                _authRank = rank;
                _log.Warning($"Replica rank updated to #{rank}, added {added} milliseconds of delay.");
            }
        }
        if (now < _authTimeMs)
        {
            CantFailover("Waiting the delay before I can start a new failover.");
            return;
        }
        if (authAge > authTimeout)
        {
            CantFailover("Failover attempt expired.");
            return;
        }
        if (!_authSent)
        {
            _state.CurrentEpoch++;
            _authEpoch = _state.CurrentEpoch;
            _log.Warning($"Starting a failover election for epoch {_state.CurrentEpoch}.");
            var request = Header(ClusterMessageType.FailoverAuthRequest);
            if (_manualEndMs != 0)
            {
                // Voters vote although our master is not FAIL: it agreed (or FORCE said it cannot).
                request.MFlags0 |= ClusterMessage.Flag0ForceAck;
            }
            Broadcast(request);
            _authSent = true;
            _state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
            return;
        }
        if (_authCount >= neededQuorum)
        {
            _log.Warning("Failover election won: I'm the new master.");
            if (myself.ConfigEpoch < _authEpoch)
            {
                _state.SetConfigEpoch(myself, _authEpoch);
                _log.Warning($"configEpoch set to {_authEpoch} after successful failover");
            }
            FailoversWon++;
            ReplaceMyMaster();
        }
        else
        {
            CantFailover("Waiting for votes, but majority still not reached.");
        }
    }

    /// <summary>Logs why the failover cannot go on when the reason changes (Redis logs it at most every 10 s or so).</summary>
    private void CantFailover(string reason)
    {
        if (_cantFailoverReason != reason)
        {
            _cantFailoverReason = reason;
            _log.Notice("Currently unable to failover: " + reason);
        }
    }

    /// <summary>Redis's clusterGetSlaveRank: replicas of our master with a larger replication offset go before us.</summary>
    private int ReplicaRank()
    {
        var master = _state.Myself.Master;
        if (master is null)
        {
            return 0;
        }
        long myOffset = _replicationOffset();
        return master.Replicas.Count(r => r != _state.Myself && (r.Flags & ClusterNodeFlags.NoFailover) == 0 && r.ReplOffset > myOffset);
    }

    /// <summary>
    /// Redis's clusterFailoverReplaceYourMaster: this replica becomes a master, takes every slot of its old master,
    /// saves with fsync and tells every node at once. The old master turns into our replica when it learns of it.
    /// </summary>
    private void ReplaceMyMaster()
    {
        var myself = _state.Myself;
        if (myself.IsMaster || myself.Master is not { } oldMaster)
        {
            return;
        }
        _state.SetNodeAsMaster(myself);
        _state.ReplicaOfChanged?.Invoke(null);
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (oldMaster.Slots.Contains(slot))
            {
                _state.DeleteSlot(slot);
                _state.AddSlot(myself, slot);
            }
        }
        _state.UpdateState();
        _state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig);
        _state.DoPending();
        BroadcastPong();
        ResetManualFailover();
    }
}
