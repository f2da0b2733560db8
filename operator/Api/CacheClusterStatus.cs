using System.Text.Json.Serialization;

namespace CacheOperator.Operator.Api;

/// <summary>Phases of a CacheCluster, the summary <c>kubectl get cc</c> shows.</summary>
public static class ClusterPhase
{
    /// <summary>Shards are being created and not all have been ready yet.</summary>
    public const string Creating = "Creating";

    /// <summary>Every shard is ready and matches the spec.</summary>
    public const string Ready = "Ready";

    /// <summary>The number of shards or replicas is changing.</summary>
    public const string Scaling = "Scaling";

    /// <summary>Running, but a shard is not ready or the spec could not be applied.</summary>
    public const string Degraded = "Degraded";

    /// <summary>The spec cannot be applied and nothing runs.</summary>
    public const string Failed = "Failed";

    /// <summary>Nodes are being restarted one at a time onto a new image or config (a rolling upgrade).</summary>
    public const string Upgrading = "Upgrading";
}

/// <summary>The observed state.</summary>
[Doc("The state of the cluster as the operator last observed it.")]
public sealed class CacheClusterStatus
{
    /// <summary>Generation the status describes.</summary>
    [JsonPropertyName("observedGeneration")]
    [Doc("metadata.generation of the spec this status describes.")]
    public long? ObservedGeneration { get; set; }

    /// <summary>Phase.</summary>
    [JsonPropertyName("phase")]
    [Doc("Summary: Creating, Ready, Scaling, Upgrading, Degraded or Failed.")]
    [OneOf(ClusterPhase.Creating, ClusterPhase.Ready, ClusterPhase.Scaling, ClusterPhase.Upgrading, ClusterPhase.Degraded, ClusterPhase.Failed)]
    public string? Phase { get; set; }

    /// <summary>Conditions.</summary>
    [JsonPropertyName("conditions")]
    [Doc("Ready, Progressing and Degraded conditions, with reason and message.")]
    public List<ClusterCondition>? Conditions { get; set; }

    /// <summary>Shards.</summary>
    [JsonPropertyName("shards")]
    [Doc("One entry per shard.")]
    public List<ShardStatus>? Shards { get; set; }

    /// <summary>Shards that exist (the scale subresource's status replicas).</summary>
    [JsonPropertyName("currentShards")]
    [Doc("Number of shards that exist.")]
    public int? CurrentShards { get; set; }

    /// <summary>Ready shards.</summary>
    [JsonPropertyName("readyShards")]
    [Doc("Number of shards whose pods are all ready.")]
    public int? ReadyShards { get; set; }

    /// <summary>Label selector of the pods (for the scale subresource).</summary>
    [JsonPropertyName("selector")]
    [Doc("Label selector of the cluster's pods.")]
    public string? Selector { get; set; }

    /// <summary>cluster_state the nodes report.</summary>
    [JsonPropertyName("clusterState")]
    [Doc("cluster_state as the cache nodes report it (CLUSTER INFO): ok, fail, or unknown when no node answered.")]
    public string? ClusterState { get; set; }

    /// <summary>Resharding progress.</summary>
    [JsonPropertyName("resharding")]
    [Doc("Progress of the slot moves that even out the shards after a change of spec.shards; absent when nothing moves.")]
    public ReshardingStatus? Resharding { get; set; }

    /// <summary>Client address.</summary>
    [JsonPropertyName("endpoints")]
    [Doc("Address clients connect to: the client Service, <name>.<namespace>.svc:6379.")]
    public string? Endpoints { get; set; }

    /// <summary>The current or last rolling upgrade.</summary>
    [JsonPropertyName("upgrade")]
    [Doc("The current or last rolling upgrade: nodes restarted one at a time onto a new image or restart-requiring config.")]
    public UpgradeStatus? Upgrade { get; set; }
}

/// <summary>A rolling upgrade's progress.</summary>
[Doc("Progress of a rolling upgrade.")]
public sealed class UpgradeStatus
{
    /// <summary>What the nodes are upgraded to.</summary>
    [JsonPropertyName("target")]
    [Doc("Hash of the image and restart-requiring config the nodes are being moved to.")]
    public string? Target { get; set; }

    /// <summary>Nodes already on the target.</summary>
    [JsonPropertyName("nodesUpdated")]
    [Doc("Nodes running the target.")]
    public int NodesUpdated { get; set; }

    /// <summary>All nodes.</summary>
    [JsonPropertyName("nodesTotal")]
    [Doc("Nodes of the cluster.")]
    public int NodesTotal { get; set; }

    /// <summary>Masters handed over so far.</summary>
    [JsonPropertyName("handOvers")]
    [Doc("Coordinated failovers done so far, one per master restarted.")]
    public int HandOvers { get; set; }

    /// <summary>Longest write pause of a shard so far, in milliseconds.</summary>
    [JsonPropertyName("worstWriteUnavailableMs")]
    [Doc("Longest time a shard refused writes during a hand-over (CLUSTER FAILOVER to the new master accepting writes), in milliseconds.")]
    public long? WorstWriteUnavailableMs { get; set; }

    /// <summary>What the upgrade does or waits for.</summary>
    [JsonPropertyName("message")]
    [Doc("What the upgrade is doing or waiting for.")]
    public string? Message { get; set; }
}

/// <summary>A Kubernetes-style condition.</summary>
[Doc("A condition: type, status, reason, message, lastTransitionTime, observedGeneration.")]
public sealed class ClusterCondition
{
    /// <summary>Ready, Progressing or Degraded.</summary>
    [JsonPropertyName("type")]
    [Doc("Ready, Progressing or Degraded.")]
    [RequiredField]
    public string Type { get; set; } = "";

    /// <summary>True, False or Unknown.</summary>
    [JsonPropertyName("status")]
    [Doc("True, False or Unknown.")]
    [RequiredField]
    [OneOf("True", "False", "Unknown")]
    public string Status { get; set; } = "Unknown";

    /// <summary>CamelCase reason.</summary>
    [JsonPropertyName("reason")]
    [Doc("Machine-readable reason in CamelCase.")]
    public string? Reason { get; set; }

    /// <summary>Human-readable message.</summary>
    [JsonPropertyName("message")]
    [Doc("Human-readable explanation.")]
    public string? Message { get; set; }

    /// <summary>When status last changed (RFC 3339).</summary>
    [JsonPropertyName("lastTransitionTime")]
    [Doc("When status last changed.")]
    public DateTime? LastTransitionTime { get; set; }

    /// <summary>Generation the condition was set for.</summary>
    [JsonPropertyName("observedGeneration")]
    [Doc("metadata.generation the condition was computed from.")]
    public long? ObservedGeneration { get; set; }
}

/// <summary>One shard.</summary>
[Doc("The state of one shard.")]
public sealed class ShardStatus
{
    /// <summary>StatefulSet name.</summary>
    [JsonPropertyName("name")]
    [Doc("Name of the shard's StatefulSet, <cluster>-shard-<i>.")]
    public string Name { get; set; } = "";

    /// <summary>Master pod.</summary>
    [JsonPropertyName("master")]
    [Doc("Pod serving as the shard's master, as the cache nodes report it.")]
    public string? Master { get; set; }

    /// <summary>Replica pods.</summary>
    [JsonPropertyName("replicas")]
    [Doc("Pods replicating the shard's master, as the cache nodes report it.")]
    public List<string>? Replicas { get; set; }

    /// <summary>Slot ranges.</summary>
    [JsonPropertyName("slots")]
    [Doc("Hash slot ranges the shard owns, e.g. 0-5460; empty until slots are assigned to it.")]
    public List<string>? Slots { get; set; }

    /// <summary>Replicas with an up link.</summary>
    [JsonPropertyName("replicasInSync")]
    [Doc("Replicas whose replication link to the master is up.")]
    public int ReplicasInSync { get; set; }

    /// <summary>Largest replica lag.</summary>
    [JsonPropertyName("lagBytes")]
    [Doc("Largest replication offset lag among the shard's replicas, in bytes.")]
    public long LagBytes { get; set; }

    /// <summary>All pods ready.</summary>
    [JsonPropertyName("ready")]
    [Doc("Whether every node of the shard is running and the shard has its master and replicas in sync.")]
    public bool Ready { get; set; }
}

/// <summary>Resharding progress.</summary>
[Doc("Progress of resharding: slots and keys moved, speed and estimated time left.")]
public sealed class ReshardingStatus
{
    /// <summary>"moved/total slots".</summary>
    [JsonPropertyName("progress")]
    [Doc("Slots moved of the slots to move, e.g. 123/5461 slots.")]
    public string? Progress { get; set; }

    /// <summary>Slots to move in this reshard.</summary>
    [JsonPropertyName("slotsToMove")]
    [Doc("Slots this reshard moves in all.")]
    public int SlotsToMove { get; set; }

    /// <summary>Slots moved.</summary>
    [JsonPropertyName("slotsMoved")]
    [Doc("Slots moved so far.")]
    public int SlotsMoved { get; set; }

    /// <summary>Keys moved.</summary>
    [JsonPropertyName("keysMoved")]
    [Doc("Keys moved so far.")]
    public long KeysMoved { get; set; }

    /// <summary>Keys per second.</summary>
    [JsonPropertyName("keysPerSecond")]
    [Doc("Keys moved per second of moving, so far.")]
    public long KeysPerSecond { get; set; }

    /// <summary>Seconds left.</summary>
    [JsonPropertyName("estimatedSecondsLeft")]
    [Doc("Estimated seconds until every slot is moved, at the speed so far.")]
    public long? EstimatedSecondsLeft { get; set; }

    /// <summary>Milliseconds spent moving.</summary>
    [JsonPropertyName("movingMilliseconds")]
    [Doc("Milliseconds spent moving slots so far (the speed and the estimate are computed from it).")]
    public long MovingMilliseconds { get; set; }

    /// <summary>When it started.</summary>
    [JsonPropertyName("startTime")]
    [Doc("When this reshard started.")]
    public DateTime? StartTime { get; set; }

    /// <summary>Last failure.</summary>
    [JsonPropertyName("lastError")]
    [Doc("The last failed slot move, with the slot and the node's error; resharding pauses (growing backoff) after one.")]
    public string? LastError { get; set; }
}
