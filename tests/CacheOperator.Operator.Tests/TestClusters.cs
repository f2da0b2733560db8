using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

/// <summary>Builders shared by the tests: clusters, an in-memory world, a fake StatefulSet controller.</summary>
internal static class TestClusters
{
    public static CacheCluster New(string name = "demo", int shards = 3, int replicas = 1, string ns = "cache") => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = "uid-" + name },
        Spec = new CacheClusterSpec
        {
            Shards = shards,
            ReplicasPerShard = replicas,
            MaxMemory = "512Mi",
            Resources = new ResourceRequirementsSpec { Limits = new() { ["memory"] = "1Gi" }, Requests = new() { ["cpu"] = "100m", ["memory"] = "1Gi" } },
        },
    };

    public static ClusterPlan Plan(CacheCluster cluster) =>
        SpecValidator.Plan(cluster.Spec, out var problems) ?? throw new InvalidOperationException(string.Join("; ", problems));
}

/// <summary>An in-memory API server with the reconciler on top, and a stand-in for the StatefulSet controller.</summary>
internal sealed class World : IDisposable
{
    public InMemoryKubeApi Api { get; } = new();

    public OperatorMetrics Metrics { get; } = new();

    public CacheClusterReconciler Reconciler { get; }

    public World()
    {
        Reconciler = new CacheClusterReconciler(new KubernetesClusterBackend(Api), Metrics);
    }

    public async Task<CacheCluster> CreateAsync(CacheCluster cluster) => await Api.CreateAsync(cluster, CancellationToken.None);

    public Task<ReconcileResult> ReconcileAsync(CacheCluster cluster) =>
        Reconciler.ReconcileAsync(new ClusterKey(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name), CancellationToken.None);

    public async Task<CacheCluster> GetAsync(CacheCluster cluster) =>
        (await Api.GetAsync<CacheCluster>(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name, CancellationToken.None))!;

    public async Task<IReadOnlyList<V1StatefulSet>> StatefulSetsAsync(string ns = "cache") =>
        (await Api.ListAsync<V1StatefulSet>(ns, null, CancellationToken.None)).Items;

    /// <summary>Marks every StatefulSet's pods ready, as the StatefulSet controller and kubelet would.</summary>
    public async Task MakeAllReadyAsync(string ns = "cache")
    {
        foreach (var set in await StatefulSetsAsync(ns))
        {
            set.Status = new V1StatefulSetStatus { Replicas = set.Spec.Replicas ?? 1, ReadyReplicas = set.Spec.Replicas ?? 1, ObservedGeneration = set.Metadata.Generation };
            await Api.ReplaceStatusAsync(set, CancellationToken.None);
        }
    }

    public IReadOnlyList<Corev1Event> EventsWithReason(string reason) => Api.Events.Where(e => e.Reason == reason).ToList();

    public void Dispose() => Metrics.Dispose();
}
