using CacheOperator.Operator.Api;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Runs a cluster's cache nodes: shards of nodes made, kept running and removed, with each node's address and
/// readiness. StatefulSets and pods on Kubernetes; node processes on loopback in local mode. Knows nothing of the
/// cluster's topology (who is master, which slots): that is read from the nodes themselves.
/// </summary>
public interface INodeRuntime
{
    /// <summary>The shards that exist for the cluster, their nodes and how ready they are.</summary>
    Task<ObservedCluster> ObserveAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>Makes shards 0..plan.Shards-1 and the shared objects match the plan; reports what changed.</summary>
    Task<ApplySummary> ApplyAsync(CacheCluster cluster, ClusterPlan plan, CancellationToken cancellationToken);

    /// <summary>Removes shard <paramref name="index"/> (only ever called for shards that own no slots).</summary>
    Task DeleteShardAsync(CacheCluster cluster, int index, CancellationToken cancellationToken);

    /// <summary>
    /// Whether <see cref="CleanUpAsync"/> does something owner-reference garbage collection does not, so the cluster needs
    /// a finalizer: true in local mode (node processes to stop), false on Kubernetes (everything made is owned by the cluster).
    /// </summary>
    bool NeedsFinalizer { get; }

    /// <summary>Clean-up that must finish before the cluster object goes away (only called when <see cref="NeedsFinalizer"/>).</summary>
    Task CleanUpAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>The AUTH password the nodes require (spec.auth), or null when they require none.</summary>
    Task<string?> GetPasswordAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>
    /// Restarts one node with what the spec now asks for (a rolling upgrade step): deletes the pod, which its StatefulSet
    /// (updateStrategy OnDelete) makes again from the current template; stops the process and starts it again on the same
    /// port and data directory.
    /// </summary>
    Task RestartMemberAsync(CacheCluster cluster, string member, CancellationToken cancellationToken);
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
/// <param name="Members">The shard's nodes (pods or processes), by ordinal; which is master is read from the nodes.</param>
public sealed record ObservedShard(int Index, string Name, int DesiredPods, int ReadyPods, IReadOnlyList<ObservedMember> Members)
{
    /// <summary>Every desired pod is ready.</summary>
    public bool Ready => DesiredPods > 0 && ReadyPods >= DesiredPods;
}

/// <summary>One cache node of a shard.</summary>
/// <param name="Name">Pod or process name, &lt;cluster&gt;-shard-&lt;i&gt;-&lt;ordinal&gt;.</param>
/// <param name="Host">Address of its RESP port (pod IP, loopback address); null until it has one.</param>
/// <param name="Port">RESP port.</param>
/// <param name="Ready">Running and answering (pod Ready, process alive).</param>
/// <param name="Outdated">
/// Runs something older than the spec asks for and needs a restart: a pod whose controller-revision-hash is not its
/// StatefulSet's updateRevision; a process started with another binary or restart-requiring config.
/// </param>
public sealed record ObservedMember(string Name, string? Host, int Port, bool Ready, bool Outdated = false);

/// <summary>A spec that passed validation, with everything derived from it.</summary>
/// <param name="Shards">Shards to run.</param>
/// <param name="ReplicasPerShard">Replicas per shard.</param>
/// <param name="NodeMaxMemoryBytes">The node's maxmemory (0: none).</param>
/// <param name="NodeConfig">The node's configuration file.</param>
public sealed record ClusterPlan(int Shards, int ReplicasPerShard, long NodeMaxMemoryBytes, string NodeConfig);

/// <summary>What <see cref="INodeRuntime.ApplyAsync"/> changed.</summary>
/// <param name="CreatedShards">Shards whose workload did not exist before.</param>
/// <param name="Changed">Objects created or updated, as "Kind/name".</param>
/// <param name="Notes">Things the user should know (e.g. ServiceMonitor skipped because its CRD is missing).</param>
public sealed record ApplySummary(IReadOnlyList<int> CreatedShards, IReadOnlyList<string> Changed, IReadOnlyList<string> Notes);
