using CacheOperator.Operator.Api;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Everything the reconciler does to the world, in its own terms: read and write the CacheCluster, look at
/// the shards that run, make the shards the plan asks for, remove a shard, clean up, tell the user. The
/// Kubernetes backend turns these into objects through the API server; a local backend can run processes.
/// Writes throw <see cref="ApiException"/> with 409 when the cluster object changed since it was read.
/// </summary>
public interface IClusterBackend
{
    /// <summary>The cluster, or null when it no longer exists.</summary>
    Task<CacheCluster?> GetClusterAsync(ClusterKey key, CancellationToken cancellationToken);

    /// <summary>Writes metadata (finalizers) and spec; returns the stored object.</summary>
    Task<CacheCluster> UpdateClusterAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>Writes status only (the status subresource); returns the stored object.</summary>
    Task<CacheCluster> UpdateStatusAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>The shards that exist for the cluster and how ready they are.</summary>
    Task<ObservedCluster> ObserveAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>Makes shards 0..plan.Shards-1 and the shared objects match the plan; reports what changed.</summary>
    Task<ApplySummary> ApplyAsync(CacheCluster cluster, ClusterPlan plan, CancellationToken cancellationToken);

    /// <summary>Removes shard <paramref name="index"/> (only ever called for shards that own no slots).</summary>
    Task DeleteShardAsync(CacheCluster cluster, int index, CancellationToken cancellationToken);

    /// <summary>Clean-up that must finish before the cluster object goes away.</summary>
    Task CleanUpAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>Records an event on the cluster (type Normal or Warning).</summary>
    Task RecordEventAsync(CacheCluster cluster, string type, string reason, string message, CancellationToken cancellationToken);
}

/// <summary>What runs for a cluster.</summary>
/// <param name="Shards">Existing shards by index.</param>
public sealed record ObservedCluster(IReadOnlyList<ObservedShard> Shards)
{
    /// <summary>One past the highest existing shard index.</summary>
    public int Count => Shards.Count == 0 ? 0 : Shards.Max(s => s.Index) + 1;
}

/// <summary>One shard as it runs.</summary>
/// <param name="Index">Shard number.</param>
/// <param name="Name">Shard name, &lt;cluster&gt;-shard-&lt;i&gt;.</param>
/// <param name="DesiredPods">Pods the shard should have.</param>
/// <param name="ReadyPods">Pods that are ready.</param>
/// <param name="Pods">Pod names, master first.</param>
public sealed record ObservedShard(int Index, string Name, int DesiredPods, int ReadyPods, IReadOnlyList<string> Pods)
{
    /// <summary>Every desired pod is ready.</summary>
    public bool Ready => DesiredPods > 0 && ReadyPods >= DesiredPods;
}

/// <summary>A spec that passed validation, with everything derived from it.</summary>
/// <param name="Shards">Shards to run.</param>
/// <param name="ReplicasPerShard">Replicas per shard.</param>
/// <param name="NodeMaxMemoryBytes">The node's maxmemory (0: none).</param>
/// <param name="NodeConfig">The node's configuration file.</param>
public sealed record ClusterPlan(int Shards, int ReplicasPerShard, long NodeMaxMemoryBytes, string NodeConfig);

/// <summary>What <see cref="IClusterBackend.ApplyAsync"/> changed.</summary>
/// <param name="CreatedShards">Shards whose workload did not exist before.</param>
/// <param name="Changed">Objects created or updated, as "Kind/name".</param>
/// <param name="Notes">Things the user should know (e.g. ServiceMonitor skipped because its CRD is missing).</param>
public sealed record ApplySummary(IReadOnlyList<int> CreatedShards, IReadOnlyList<string> Changed, IReadOnlyList<string> Notes);
