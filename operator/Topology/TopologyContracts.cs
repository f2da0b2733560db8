namespace CacheOperator.Operator.Topology;

/// <summary>
/// Brings the live Redis Cluster formed by a CacheCluster's nodes toward the desired shape, one safe round at a time:
/// observe every node over RESP, plan, run the planned admin commands, and report what the cluster looks like.
/// Knows neither Kubernetes nor processes: the members and their addresses come from the node runtime.
/// </summary>
public interface ITopologyManager
{
    /// <summary>Observes, plans and executes one round; never throws for an unreachable node (it is reported).</summary>
    Task<TopologyReport> ReconcileAsync(DesiredTopology desired, CancellationToken cancellationToken);

    /// <summary>
    /// Coordinated hand-over for a restart: CLUSTER FAILOVER (no FORCE) on <paramref name="replicaName"/>, then waits until
    /// it is master and its old master its replica; measures how long writes to the shard were refused. Never throws for
    /// a node that does not answer (the result says so).
    /// </summary>
    Task<HandOverResult> HandOverAsync(DesiredTopology desired, string replicaName, CancellationToken cancellationToken);

    /// <summary>
    /// CONFIG SET of each of <paramref name="directives"/> on every member of <paramref name="desired"/> whose value
    /// (CONFIG GET) differs; one result per command sent or member unreachable.
    /// </summary>
    Task<IReadOnlyList<TopologyActionResult>> ApplyConfigAsync(DesiredTopology desired, IReadOnlyList<KeyValuePair<string, string>> directives, CancellationToken cancellationToken);
}

/// <summary>How a coordinated hand-over went.</summary>
/// <param name="Succeeded">The replica is master and the old master its replica.</param>
/// <param name="OldMaster">The master handed over from (member name; null when it could not be found).</param>
/// <param name="NewMaster">The replica that took over.</param>
/// <param name="WriteUnavailable">From CLUSTER FAILOVER sent (the master pauses its clients) to the new master reporting role master.</param>
/// <param name="Error">Why it failed.</param>
public sealed record HandOverResult(bool Succeeded, string? OldMaster, string NewMaster, TimeSpan WriteUnavailable, string? Error);

/// <summary>One cache node the runtime runs for a shard, and where to reach its RESP port.</summary>
/// <param name="Name">Pod or process name, e.g. cache-shard-1-0.</param>
/// <param name="Shard">The shard (StatefulSet) the node belongs to.</param>
/// <param name="Host">Address to connect to (pod IP or loopback address); null while it has none.</param>
/// <param name="Port">RESP port; the cluster bus is on the node's own bus port.</param>
public sealed record MemberEndpoint(string Name, int Shard, string? Host, int Port);

/// <summary>The shape the cluster should have.</summary>
/// <param name="Shards">Shards, each a master owning an even, contiguous share of the 16384 slots.</param>
/// <param name="ReplicasPerShard">Replicas each shard's master should have.</param>
/// <param name="Members">Every node that runs, with its shard; nodes the cluster knows that are not here are ghosts.</param>
/// <param name="Password">AUTH password for the nodes (null: none).</param>
public sealed record DesiredTopology(int Shards, int ReplicasPerShard, IReadOnlyList<MemberEndpoint> Members, string? Password = null)
{
    /// <summary>Members about to be removed (replicasPerShard going down): one that is its shard's master hands over to a staying replica first.</summary>
    public IReadOnlySet<string> Leaving { get; init; } = new HashSet<string>();
}

/// <summary>What one round saw and did.</summary>
/// <param name="Ready">Every slot served by a healthy master of the right shard, every shard with its replicas in sync, every member joined, cluster_state ok everywhere.</param>
/// <param name="ClusterState">cluster_state as the members report it: ok, fail, or unknown when no member answered.</param>
/// <param name="Shards">Per shard: master, replicas, slots, as derived from the nodes.</param>
/// <param name="Problems">What keeps the cluster from Ready, for conditions: e.g. "slots 5461-10922 have no master".</param>
/// <param name="Actions">Admin commands run this round, in order.</param>
public sealed record TopologyReport(
    bool Ready,
    string ClusterState,
    IReadOnlyList<ShardReport> Shards,
    IReadOnlyList<string> Problems,
    IReadOnlyList<TopologyActionResult> Actions)
{
    /// <summary>What resharding did this round (null: nothing to move).</summary>
    public ReshardRound? Resharding { get; init; }

    /// <summary>Shards at or above the desired count whose nodes own no slot any more: safe to delete.</summary>
    public IReadOnlyList<int> DrainedShards { get; init; } = [];

    /// <summary>No leaving member (<see cref="DesiredTopology.Leaving"/>) is a master serving slots: they can be removed.</summary>
    public bool LeavingSafe { get; init; } = true;
}

/// <summary>One round of resharding.</summary>
/// <param name="SlotsLeft">Slots that were still to move when the round began.</param>
/// <param name="SlotsMoved">Slots that changed hands this round.</param>
/// <param name="KeysMoved">Keys moved this round.</param>
/// <param name="Elapsed">Time spent moving this round.</param>
/// <param name="Failure">A slot whose move failed this round, or the failure that still pauses resharding.</param>
/// <param name="Paused">Nothing was moved because of an earlier failure, until its backoff ends.</param>
public sealed record ReshardRound(int SlotsLeft, int SlotsMoved, long KeysMoved, TimeSpan Elapsed, SlotMigrationFailure? Failure, bool Paused = false);

/// <summary>One shard as the nodes see it.</summary>
/// <param name="Index">Shard number.</param>
/// <param name="Master">Member name of the master serving the shard's slots (null: none).</param>
/// <param name="Replicas">The master's replicas.</param>
/// <param name="SlotRanges">Slot ranges the master owns, as "0-5460".</param>
public sealed record ShardReport(int Index, string? Master, IReadOnlyList<ReplicaReport> Replicas, IReadOnlyList<string> SlotRanges);

/// <summary>A replica and how far it is behind.</summary>
/// <param name="Name">Member name.</param>
/// <param name="LinkUp">master_link_status is up.</param>
/// <param name="LagBytes">Master's offset minus the replica's (0 when unknown).</param>
public sealed record ReplicaReport(string Name, bool LinkUp, long LagBytes);

/// <summary>One admin command the executor ran.</summary>
/// <param name="Kind">Action kind for metrics and events: meet, add_slots, replicate, forget, failover, ...</param>
/// <param name="Target">Member the command was sent to.</param>
/// <param name="Detail">What it did, for an Event: e.g. "CLUSTER ADDSLOTSRANGE 0 5460".</param>
/// <param name="Succeeded">The node answered without error.</param>
/// <param name="Error">The node's error or the connection failure.</param>
public sealed record TopologyActionResult(string Kind, string Target, string Detail, bool Succeeded, string? Error);
