using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CacheOperator.Operator.Monitoring;

/// <summary>
/// The operator's metrics (names fixed in OPERATOR-CONTRACT.md), on one <see cref="Meter"/> that the
/// Prometheus exporter serves at /metrics. Gauges read the latest values the reconciler and queue report.
/// </summary>
public sealed class OperatorMetrics : IDisposable
{
    /// <summary>Name of the meter the exporter listens to.</summary>
    public const string MeterName = "CacheOperator.Operator";

    private readonly Meter _meter;
    private readonly Counter<long> _reconciles;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _topologyActions;
    private readonly Histogram<double> _createDuration;
    private readonly Counter<long> _slotsMoved;
    private readonly Counter<long> _keysMoved;
    private readonly Histogram<double> _healDuration;
    private readonly Histogram<double> _writeUnavailable;
    private readonly ConcurrentDictionary<(string Namespace, string Cluster), ClusterFigures> _clusters = new();
    private Func<int> _queueDepth = () => 0;
    private volatile bool _leader;

    /// <summary>Creates the instruments on a meter named <paramref name="meterName"/> (tests use their own).</summary>
    public OperatorMetrics(string meterName = MeterName)
    {
        Name = meterName;
        _meter = new Meter(meterName);
        _reconciles = _meter.CreateCounter<long>("cacheoperator_reconcile_total", description: "Reconciles of CacheClusters by result (success, error, requeue).");
        _reconcileDuration = _meter.CreateHistogram<double>("cacheoperator_reconcile_duration_seconds", unit: "s", description: "Time one reconcile of a CacheCluster took.");
        _topologyActions = _meter.CreateCounter<long>("cacheoperator_topology_actions_total", description: "Topology actions performed, by kind and result (ok, error).");
        _slotsMoved = _meter.CreateCounter<long>("cacheoperator_reshard_slots_moved_total", description: "Hash slots moved between masters by resharding.");
        _keysMoved = _meter.CreateCounter<long>("cacheoperator_reshard_keys_moved_total", description: "Keys moved between masters by resharding.");
        _createDuration = _meter.CreateHistogram<double>("cacheoperator_cluster_create_seconds", unit: "s", description: "Time from a CacheCluster first seen to its first Ready.");
        _healDuration = _meter.CreateHistogram<double>("cacheoperator_cluster_heal_seconds", unit: "s", description: "Time from a Ready CacheCluster seen unhealthy to Ready again.");
        _writeUnavailable = _meter.CreateHistogram<double>("cacheoperator_failover_write_unavailable_seconds", unit: "s",
            description: "Time a shard refused writes during a rolling upgrade's coordinated failover (CLUSTER FAILOVER to the new master accepting writes).");
        _meter.CreateObservableGauge("cacheoperator_queue_depth", () => _queueDepth(), description: "CacheClusters waiting in the work queue.");
        _meter.CreateObservableGauge("cacheoperator_clusters", ObserveClustersByPhase, description: "CacheClusters by phase.");
        _meter.CreateObservableGauge("cacheoperator_shards_ready", () => ObservePerCluster(f => f.Ready), description: "Ready shards per CacheCluster.");
        _meter.CreateObservableGauge("cacheoperator_shards_desired", () => ObservePerCluster(f => f.Desired), description: "Desired shards per CacheCluster.");
        _meter.CreateObservableGauge("cacheoperator_leader", () => _leader ? 1 : 0, description: "1 while this operator replica is the leader.");
    }

    /// <summary>Name of this instance's meter.</summary>
    public string Name { get; }

    /// <summary>Counts a reconcile and its duration; result is success, error or requeue.</summary>
    public void RecordReconcile(string result, TimeSpan duration)
    {
        _reconciles.Add(1, new KeyValuePair<string, object?>("result", result));
        _reconcileDuration.Record(duration.TotalSeconds);
    }

    /// <summary>Counts a topology action (created shard, meet, add_slots, replicate, failover, ...) and its result (ok, error).</summary>
    public void RecordTopologyAction(string kind, string result = "ok") => _topologyActions.Add(1,
        new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("result", result));

    /// <summary>Counts slots and keys one resharding round moved.</summary>
    public void RecordReshard(int slots, long keys)
    {
        _slotsMoved.Add(slots);
        _keysMoved.Add(keys);
    }

    /// <summary>Records how long a new cluster took to become Ready.</summary>
    public void RecordCreated(TimeSpan duration) => _createDuration.Record(duration.TotalSeconds);

    /// <summary>Records how long a cluster took from seen unhealthy to Ready again.</summary>
    public void RecordHealed(TimeSpan duration) => _healDuration.Record(duration.TotalSeconds);

    /// <summary>Records a shard's write pause during a hand-over.</summary>
    public void RecordWriteUnavailable(TimeSpan duration) => _writeUnavailable.Record(duration.TotalSeconds);

    /// <summary>Where the queue depth gauge reads from.</summary>
    public void ObserveQueueDepth(Func<int> depth) => _queueDepth = depth;

    /// <summary>Sets the leader gauge.</summary>
    public void SetLeader(bool leading) => _leader = leading;

    /// <summary>Whether the leader gauge says this replica leads.</summary>
    public bool IsLeader => _leader;

    /// <summary>The latest phase and shard figures of a cluster.</summary>
    public void SetCluster(string @namespace, string cluster, string phase, int readyShards, int desiredShards) =>
        _clusters[(@namespace, cluster)] = new ClusterFigures(phase, readyShards, desiredShards);

    /// <summary>Forgets a deleted cluster's series.</summary>
    public void RemoveCluster(string @namespace, string cluster) => _clusters.TryRemove((@namespace, cluster), out _);

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveClustersByPhase()
    {
        string[] phases = [Api.ClusterPhase.Creating, Api.ClusterPhase.Ready, Api.ClusterPhase.Scaling, Api.ClusterPhase.Upgrading, Api.ClusterPhase.Degraded, Api.ClusterPhase.Failed];
        var snapshot = _clusters.Values.ToList();
        foreach (var phase in phases)
        {
            yield return new Measurement<long>(snapshot.Count(f => f.Phase == phase), new KeyValuePair<string, object?>("phase", phase));
        }
    }

    private IEnumerable<Measurement<long>> ObservePerCluster(Func<ClusterFigures, int> value)
    {
        foreach (var (key, figures) in _clusters)
        {
            yield return new Measurement<long>(value(figures),
                new KeyValuePair<string, object?>("namespace", key.Namespace),
                new KeyValuePair<string, object?>("cluster", key.Cluster));
        }
    }

    private sealed record ClusterFigures(string Phase, int Ready, int Desired);
}
