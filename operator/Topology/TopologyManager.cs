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
    private readonly SlotMigrator _migrator;
    private readonly MigrationOptions _migration;
    private readonly TimeSpan _retryAfterFailure;
    // Failed slot moves by the endpoints (host:port) of both sides: one manager serves every cluster, and endpoints are unique.
    private readonly Dictionary<string, (SlotMigrationFailure Failure, DateTimeOffset At, int Attempts)> _migrationFailures = new(StringComparer.Ordinal);
    private readonly Lock _sync = new();

    // Per member of a drained shard: whether its clients have left it.
    private readonly Dictionary<string, RedirectionQuiet> _redirecting = new(StringComparer.Ordinal);
    private readonly NodeConnectionSettings _settings;

    /// <summary>A manager with <paramref name="settings"/> for its connections and <paramref name="failoverGrace"/> (default 10 s) before forcing failovers.</summary>
    /// <param name="settings">Connection settings for observing and admin commands.</param>
    /// <param name="failoverGrace">How long before forcing failovers.</param>
    /// <param name="time">Clock.</param>
    /// <param name="migration">How much one round reshards (default: 5 s of slots).</param>
    /// <param name="retryAfterFailure">How long resharding pauses after a failed slot (default 30 s, doubling per repeated failure up to 10 min).</param>
    public TopologyManager(NodeConnectionSettings? settings = null, TimeSpan? failoverGrace = null, TimeProvider? time = null, MigrationOptions? migration = null, TimeSpan? retryAfterFailure = null)
    {
        _settings = settings ?? NodeConnectionSettings.Default;
        _migrator = new SlotMigrator();
        _migration = migration ?? MigrationOptions.Default;
        _retryAfterFailure = retryAfterFailure ?? TimeSpan.FromSeconds(30);
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
        var resharding = plan.Actions.Count == 0 && plan.Moves.Count > 0 ? await ReshardAsync(plan, desired, problems, cancellationToken).ConfigureAwait(false) : null;
        var drained = await QuietShardsAsync(plan.DrainedShards, desired, cancellationToken).ConfigureAwait(false);
        return new TopologyReport(plan.Ready, plan.ClusterState, plan.Shards, problems, results) { Resharding = resharding, DrainedShards = drained, LeavingSafe = plan.LeavingSafe };
    }

    /// <summary>
    /// The drained shards whose nodes clients have left (<see cref="RedirectionQuiet"/>, observed across reconciles): a
    /// shard is reported drained, and deleted, only once every node of it is quiet.
    /// </summary>
    private async Task<IReadOnlyList<int>> QuietShardsAsync(IReadOnlyList<int> drained, DesiredTopology desired, CancellationToken cancellationToken)
    {
        var quiet = new List<int>();
        var watched = desired.Members.Where(m => drained.Contains(m.Shard)).Select(m => $"{m.Name}@{m.Host}:{m.Port}").ToHashSet(StringComparer.Ordinal);
        lock (_sync)
        {
            foreach (var gone in _redirecting.Keys.Where(k => !watched.Contains(k)).ToList())
            {
                _redirecting.Remove(gone);
            }
        }
        foreach (var shard in drained)
        {
            var still = false;
            foreach (var member in desired.Members.Where(m => m.Shard == shard && m.Host is not null))
            {
                long moved;
                try
                {
                    await using var connection = await _settings.ConnectAsync(member, desired.Password, cancellationToken).ConfigureAwait(false);
                    moved = await RedirectionQuiet.ReadMovedAsync(connection, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
                {
                    continue; // Not answering: no client is served by it either.
                }
                var key = $"{member.Name}@{member.Host}:{member.Port}";
                lock (_sync)
                {
                    if (!_redirecting.TryGetValue(key, out var redirection))
                    {
                        _redirecting[key] = redirection = new RedirectionQuiet();
                    }
                    still |= !redirection.Observe(moved, _time.GetUtcNow());
                }
            }
            if (!still)
            {
                quiet.Add(shard);
            }
        }
        return quiet;
    }

    /// <summary>Moves a budget's worth of slots, unless a recent failure pauses resharding (growing backoff, never a blind loop).</summary>
    private async Task<ReshardRound> ReshardAsync(TopologyPlan plan, DesiredTopology desired, List<string> problems, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var endpoints = plan.Moves.SelectMany(m => new[] { m.Source, m.Target }).Distinct(StringComparer.Ordinal)
            .Select(name => desired.Members.FirstOrDefault(m => m.Name == name)).OfType<MemberEndpoint>()
            .Select(Endpoint).ToList();
        (SlotMigrationFailure Failure, DateTimeOffset At, int Attempts)? last;
        lock (_sync)
        {
            last = endpoints.Select(e => _migrationFailures.TryGetValue(e, out var f) ? f : default((SlotMigrationFailure, DateTimeOffset, int)?)).OfType<(SlotMigrationFailure, DateTimeOffset, int)>()
                .OrderByDescending(f => f.Item2).Cast<(SlotMigrationFailure, DateTimeOffset, int)?>().FirstOrDefault();
        }
        if (last is { } paused)
        {
            var wait = TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(10).Ticks, _retryAfterFailure.Ticks << Math.Min(paused.Attempts - 1, 10)));
            if (now - paused.At < wait)
            {
                problems.Add($"resharding is paused until {(paused.At + wait).UtcDateTime:HH:mm:ss}Z after moving slot {paused.Failure.Slot} from {paused.Failure.Source} to {paused.Failure.Target} failed: {paused.Failure.Error}");
                return new ReshardRound(plan.Moves.Count, 0, 0, TimeSpan.Zero, paused.Failure, Paused: true);
            }
        }
        var result = await _migrator.MigrateAsync(plan.Moves, plan.Masters, desired, _migration, cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            if (result.Failure is { } failure)
            {
                var entry = (failure, _time.GetUtcNow(), (last?.Attempts ?? 0) + 1);
                foreach (var name in new[] { failure.Source, failure.Target })
                {
                    if (desired.Members.FirstOrDefault(m => m.Name == name) is { } member)
                    {
                        _migrationFailures[Endpoint(member)] = entry;
                    }
                }
            }
            else if (result.SlotsMoved > 0)
            {
                endpoints.ForEach(e => _migrationFailures.Remove(e));
            }
        }
        if (result.Failure is { } failed)
        {
            problems.Add($"moving slot {failed.Slot} from {failed.Source} to {failed.Target} failed" + (failed.RolledBack ? " and was rolled back" : "; the slot stays open to be resumed") + $": {failed.Error}");
        }
        problems.AddRange(result.Warnings);
        return new ReshardRound(plan.Moves.Count, result.SlotsMoved, result.KeysMoved, result.Elapsed, result.Failure);
    }

    private static string Endpoint(MemberEndpoint member) => $"{member.Host}:{member.Port}";

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
