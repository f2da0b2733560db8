namespace CacheOperator.Operator.Topology;

/// <summary>
/// <see cref="ITopologyManager"/> over RESP: observes every member, plans one safe round, runs it, and reports.
/// Remembers only since when it has seen each node failed (for the failover grace); a fresh instance after a crash
/// starts that clock again and is otherwise as good as the old one.
/// </summary>
public sealed class TopologyManager : ITopologyManager
{
    private readonly TopologyObserver _observer;
    private readonly TopologyExecutor _executor;
    private readonly FailoverHandOver _handOver;
    private readonly LiveConfigApplier _liveConfig;
    private readonly TimeProvider _time;
    private readonly TimeSpan _failoverGrace;
    private readonly Dictionary<string, DateTimeOffset> _failedSince = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    /// <summary>A manager with <paramref name="settings"/> for its connections and <paramref name="failoverGrace"/> (default 10 s) before forcing failovers.</summary>
    public TopologyManager(NodeConnectionSettings? settings = null, TimeSpan? failoverGrace = null, TimeProvider? time = null)
    {
        _observer = new TopologyObserver(settings);
        _executor = new TopologyExecutor(settings);
        _handOver = new FailoverHandOver(settings);
        _liveConfig = new LiveConfigApplier(settings);
        _time = time ?? TimeProvider.System;
        _failoverGrace = failoverGrace ?? TimeSpan.FromSeconds(10);
    }

    /// <summary>The last plan, for tests and diagnostics.</summary>
    public TopologyPlan? LastPlan { get; private set; }

    /// <summary>Observes and plans without running anything.</summary>
    public async Task<TopologyPlan> PlanAsync(DesiredTopology desired, CancellationToken cancellationToken)
    {
        var observed = await _observer.ObserveAsync(desired, cancellationToken).ConfigureAwait(false);
        return TopologyPlanner.Plan(observed, desired, new PlannerOptions(TrackFailures(observed), _failoverGrace));
    }

    /// <inheritdoc/>
    public async Task<TopologyReport> ReconcileAsync(DesiredTopology desired, CancellationToken cancellationToken)
    {
        var plan = await PlanAsync(desired, cancellationToken).ConfigureAwait(false);
        LastPlan = plan;
        var results = await _executor.ExecuteAsync(plan.Actions, desired, cancellationToken).ConfigureAwait(false);
        var problems = plan.Problems.ToList();
        foreach (var failed in results.Where(r => !r.Succeeded))
        {
            problems.Add($"{failed.Detail} on {failed.Target} failed: {failed.Error}");
        }
        return new TopologyReport(plan.Ready, plan.ClusterState, plan.Shards, problems, results);
    }

    /// <inheritdoc/>
    public Task<HandOverResult> HandOverAsync(DesiredTopology desired, string replicaName, CancellationToken cancellationToken) =>
        _handOver.HandOverAsync(desired, replicaName, cancellationToken);

    /// <inheritdoc/>
    public Task<IReadOnlyList<TopologyActionResult>> ApplyConfigAsync(DesiredTopology desired, IReadOnlyList<KeyValuePair<string, string>> directives, CancellationToken cancellationToken) =>
        _liveConfig.ApplyAsync(desired, directives, cancellationToken);

    private Dictionary<string, TimeSpan> TrackFailures(ObservedTopology observed)
    {
        var failed = observed.Members.Where(v => v.Reachable).SelectMany(v => v.Nodes).Where(e => e.IsFailed).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        lock (_sync)
        {
            foreach (var id in _failedSince.Keys.Where(id => !failed.Contains(id)).ToList())
            {
                _failedSince.Remove(id);
            }
            foreach (var id in failed)
            {
                _failedSince.TryAdd(id, now);
            }
            return _failedSince.ToDictionary(p => p.Key, p => now - p.Value, StringComparer.Ordinal);
        }
    }
}
