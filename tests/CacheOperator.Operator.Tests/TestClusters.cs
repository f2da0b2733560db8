using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;
using CacheOperator.Operator.Topology;
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

    /// <summary>The topology the reconciler sees (the in-memory API runs no nodes to shape).</summary>
    public ScriptedTopology Topology { get; } = new();

    /// <summary>A world whose reconciler calls the API through <paramref name="wrap"/> (e.g. a recorder); the helpers here use the API directly.</summary>
    public World(Func<IKubeApi, IKubeApi>? wrap = null)
    {
        var api = wrap?.Invoke(Api) ?? Api;
        Reconciler = new CacheClusterReconciler(new KubernetesClusterStore(api), new KubernetesNodeRuntime(api), Topology, Metrics);
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
            var stored = await Api.ReplaceStatusAsync(set, CancellationToken.None);
            set.Status.UpdateRevision = stored.Status.UpdateRevision;
            for (var ordinal = 0; ordinal < (set.Spec.Replicas ?? 1); ordinal++)
            {
                var name = $"{set.Metadata.Name}-{ordinal}";
                if (await Api.GetAsync<V1Pod>(ns, name, CancellationToken.None) is not null)
                {
                    continue;
                }
                // As the StatefulSet controller: a missing pod is made from the current template (updateRevision), whose
                // revision it carries; with updateStrategy OnDelete an existing pod stays as it is until deleted.
                var labels = new Dictionary<string, string>(set.Spec.Template.Metadata.Labels) { [Manifests.RevisionLabel] = set.Status.UpdateRevision };
                var pod = await Api.CreateAsync(new V1Pod
                {
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
                }, CancellationToken.None);
                pod.Status = new V1PodStatus { PodIP = $"10.0.{set.Metadata.Labels[Manifests.ShardLabel]}.{ordinal + 1}", Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }] };
                await Api.ReplaceStatusAsync(pod, CancellationToken.None);
            }
        }
    }

    public IReadOnlyList<Corev1Event> EventsWithReason(string reason) => Api.Events.Where(e => e.Reason == reason).ToList();

    public void Dispose() => Metrics.Dispose();
}

/// <summary>
/// Stands in for the topology in reconciler tests, where no node runs: reports the cluster formed from the runtime's
/// members (unless told otherwise), and records what it was asked. The real topology is tested against real nodes.
/// </summary>
internal sealed class ScriptedTopology : ITopologyManager
{
    public List<DesiredTopology> Requests { get; } = [];

    /// <summary>When set, the next rounds report these problems (not ready) and run these actions.</summary>
    public (IReadOnlyList<string> Problems, IReadOnlyList<TopologyActionResult> Actions)? Trouble { get; set; }

    public Task<TopologyReport> ReconcileAsync(DesiredTopology desired, CancellationToken cancellationToken)
    {
        Requests.Add(desired);
        // Like a real cluster: the first shards to exist split the slots; shards added later own none until resharding.
        if (_slots.Count == 0)
        {
            foreach (var shard in desired.Members.Select(m => m.Shard).Distinct())
            {
                _slots[shard] = Slots.EvenRange(shard, desired.Shards);
            }
        }
        var problems = Trouble?.Problems ?? [];
        var shards = Enumerable.Range(0, desired.Shards).Select(i =>
        {
            var members = desired.Members.Where(m => m.Shard == i).ToList();
            var master = Masters.TryGetValue(i, out var chosen) ? chosen : members.FirstOrDefault()?.Name;
            var replicas = members.Where(m => m.Name != master)
                .Select(m => new ReplicaReport(m.Name, m.Host is not null, Lagging.Contains(m.Name) ? 50_000_000 : 0))
                .ToList();
            return new ShardReport(i, master, replicas, _slots.TryGetValue(i, out var range) ? [range] : []);
        }).ToList();
        // Scripted resharding: one round per reconcile; shards above the desired count are drained once no round is left.
        var round = Reshard.Count > 0 ? Reshard.Dequeue() : null;
        var drained = Reshard.Count == 0 && round?.Failure is null
            ? desired.Members.Select(m => m.Shard).Where(s => s >= desired.Shards).Distinct().ToList()
            : [];
        bool ready = problems.Count == 0 && round is null;
        return Task.FromResult(new TopologyReport(ready, problems.Count == 0 ? "ok" : "fail", shards, problems, Trouble?.Actions ?? [])
        {
            Resharding = round,
            DrainedShards = drained,
            LeavingSafe = desired.Leaving.Count == 0 || LeavingUnsafeRounds-- <= 0,
        });
    }

    /// <summary>Shard masters other than ordinal 0 (after a hand-over).</summary>
    public Dictionary<int, string> Masters { get; } = [];

    /// <summary>Replicas reported far behind their master (not in sync).</summary>
    public HashSet<string> Lagging { get; } = [];

    /// <summary>Replicas asked to take over, in order.</summary>
    public List<string> HandOvers { get; } = [];

    /// <summary>Live config applied: (member, directive, value).</summary>
    public List<(string Member, string Name, string Value)> ConfigSets { get; } = [];

    /// <summary>What each member runs, as CONFIG GET would answer.</summary>
    private readonly Dictionary<string, Dictionary<string, string>> _config = [];

    public Task<HandOverResult> HandOverAsync(DesiredTopology desired, string replicaName, CancellationToken cancellationToken)
    {
        HandOvers.Add(replicaName);
        var replica = desired.Members.Single(m => m.Name == replicaName);
        var old = Masters.TryGetValue(replica.Shard, out var current) ? current : desired.Members.First(m => m.Shard == replica.Shard).Name;
        Masters[replica.Shard] = replicaName;
        return Task.FromResult(new HandOverResult(true, old, replicaName, TimeSpan.FromMilliseconds(10 + HandOvers.Count), null));
    }

    public Task<IReadOnlyList<TopologyActionResult>> ApplyConfigAsync(DesiredTopology desired, IReadOnlyList<KeyValuePair<string, string>> directives, CancellationToken cancellationToken)
    {
        var results = new List<TopologyActionResult>();
        foreach (var member in desired.Members)
        {
            var known = _config.TryGetValue(member.Name, out var values) ? values : _config[member.Name] = [];
            foreach (var (name, value) in directives)
            {
                if (known.TryGetValue(name, out var had) && had == value)
                {
                    continue;
                }
                var first = !known.ContainsKey(name);
                known[name] = value;
                if (!first)
                {
                    // The first time a member is seen it runs its config file's values; only a change is a CONFIG SET.
                    ConfigSets.Add((member.Name, name, value));
                    results.Add(new TopologyActionResult("config_set", member.Name, $"CONFIG SET {name} {value}", true, null));
                }
            }
        }
        return Task.FromResult<IReadOnlyList<TopologyActionResult>>(results);
    }

    /// <summary>How many rounds report a leaving member still being a master (replicasPerShard down waits for its failover).</summary>
    public int LeavingUnsafeRounds { get; set; }

    /// <summary>Resharding rounds the next reconciles report, one each.</summary>
    public Queue<ReshardRound> Reshard { get; } = new();

    private readonly Dictionary<int, string> _slots = [];
}
