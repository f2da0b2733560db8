using System.Diagnostics;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Reconcile;

/// <summary>What the controller does after a reconcile.</summary>
public enum ReconcileOutcome
{
    /// <summary>Done; wait for the next change or resync.</summary>
    Success,

    /// <summary>Look again after <see cref="ReconcileResult.RequeueAfter"/> (pods still starting, a write conflicted).</summary>
    Requeue,
}

/// <summary>The outcome of one reconcile.</summary>
/// <param name="Outcome">Done or look again.</param>
/// <param name="RequeueAfter">When to look again.</param>
public sealed record ReconcileResult(ReconcileOutcome Outcome, TimeSpan RequeueAfter)
{
    /// <summary>Done.</summary>
    public static ReconcileResult Done { get; } = new(ReconcileOutcome.Success, TimeSpan.Zero);

    /// <summary>Look again after <paramref name="delay"/>.</summary>
    public static ReconcileResult After(TimeSpan delay) => new(ReconcileOutcome.Requeue, delay);
}

/// <summary>
/// Moves one CacheCluster toward its spec: finalizer, validation, draining shards before scale-in deletes them, making the
/// nodes run (<see cref="INodeRuntime"/>), shaping them into one Redis Cluster (<see cref="ITopologyManager"/>), and
/// writing status, read back from the nodes, with phase and conditions. Refused specs leave the running cluster alone.
/// Errors propagate; the controller retries with backoff.
/// </summary>
public sealed class CacheClusterReconciler(IClusterStore store, INodeRuntime runtime, ITopologyManager topology, OperatorMetrics metrics, TimeProvider? time = null)
{
    /// <summary>How often a cluster that is not yet ready is looked at again.</summary>
    public static readonly TimeSpan NotReadyPoll = TimeSpan.FromSeconds(2);

    /// <summary>How often a ready cluster's nodes are looked at, so a failure is healed without waiting for a watch event.</summary>
    public static readonly TimeSpan HealthPoll = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly RollingUpgrade _rolling = new(store, runtime, topology, metrics);

    // When each cluster was first seen unhealthy after being Ready (for the time-to-heal histogram).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ClusterKey, DateTimeOffset> _unhealthySince = new();

    /// <summary>Reconciles the cluster <paramref name="key"/>, recording the metrics of the attempt.</summary>
    public async Task<ReconcileResult> ReconcileAsync(ClusterKey key, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var result = await ReconcileOnceAsync(key, cancellationToken);
            metrics.RecordReconcile(result.Outcome == ReconcileOutcome.Success ? "success" : "requeue", watch.Elapsed);
            return result;
        }
        catch (ApiException e) when (e.IsConflict)
        {
            // Someone wrote the object after we read it: read it again soon, not with error backoff.
            metrics.RecordReconcile("requeue", watch.Elapsed);
            return ReconcileResult.After(TimeSpan.Zero);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            // Most likely deleted while we worked (garbage collection takes what it owned): look again at once, which
            // finds it gone, or retries whatever else vanished.
            metrics.RecordReconcile("requeue", watch.Elapsed);
            return ReconcileResult.After(TimeSpan.Zero);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.RecordReconcile("error", watch.Elapsed);
            throw;
        }
    }

    private async Task<ReconcileResult> ReconcileOnceAsync(ClusterKey key, CancellationToken ct)
    {
        var cluster = await store.GetClusterAsync(key, ct);
        if (cluster is null)
        {
            metrics.RemoveCluster(key.Namespace, key.Name);
            _unhealthySince.TryRemove(key, out _);
            _rolling.Forget(key);
            return ReconcileResult.Done;
        }
        if (cluster.Metadata.DeletionTimestamp is not null)
        {
            return await FinalizeAsync(key, cluster, ct);
        }
        var finalizers = cluster.Metadata.Finalizers ?? [];
        if (runtime.NeedsFinalizer != finalizers.Contains(CacheClusterResource.Finalizer))
        {
            // Added only where clean-up is more than garbage collection; removed where an older operator left it.
            cluster = await store.SetFinalizersAsync(cluster, runtime.NeedsFinalizer
                ? [.. finalizers, CacheClusterResource.Finalizer]
                : finalizers.Where(f => f != CacheClusterResource.Finalizer).ToList(), ct);
        }

        var observed = await runtime.ObserveAsync(cluster, ct);
        var plan = SpecValidator.Plan(cluster.Spec, out var problems);
        if (SpecValidator.NameProblem(cluster.Metadata.Name) is { } badName)
        {
            return await RefuseAsync(cluster, observed, [badName, .. problems], ct);
        }
        if (plan is null)
        {
            return await RefuseAsync(cluster, observed, problems, ct);
        }

        var existing = observed.Count;
        var removable = Enumerable.Range(plan.Shards, Math.Max(0, existing - plan.Shards)).ToList();

        // replicasPerShard down: the pods to go keep running until none of them is its shard's master (a failover first).
        var leaving = observed.Shards.Where(s => s.Index < plan.Shards)
            .SelectMany(s => s.Members.Where(m => MemberOrdinal(m.Name) > plan.ReplicasPerShard))
            .Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var applied = leaving.Count == 0 ? plan : plan with { ReplicasPerShard = observed.Shards.Max(s => s.Members.Count) - 1 };
        ApplySummary summary;
        try
        {
            summary = await runtime.ApplyAsync(cluster, applied, ct);
        }
        catch (ApplyRefusedException e)
        {
            // Not a transient error: retrying with backoff behind a Ready phase would hide it. Say so and keep what runs.
            return await RefuseAsync(cluster, observed, [new SpecProblem(e.Reason, e.Message)], ct);
        }
        foreach (var index in summary.CreatedShards)
        {
            metrics.RecordTopologyAction("create_shard");
            await store.RecordEventAsync(cluster, "Normal", "ShardCreated", $"Created shard {ShardName(cluster, index)}", ct);
        }
        if (existing > 0 && plan.Shards > existing)
        {
            await store.RecordEventAsync(cluster, "Normal", "ScaledOut", $"Scaled out from {existing} to {plan.Shards} shards", ct);
        }
        foreach (var note in summary.Notes)
        {
            await store.RecordEventAsync(cluster, "Warning", "Skipped", note, ct);
        }

        // Scale-in: the shards above spec.shards keep running while their slots move to the others; each is deleted
        // only once the nodes report it owns no slot (its nodes are then forgotten as departed members).
        observed = await runtime.ObserveAsync(cluster, ct);
        var report = await ShapeTopologyAsync(cluster, observed, plan, leaving, ct);
        if (leaving.Count > 0 && report.LeavingSafe)
        {
            await runtime.ApplyAsync(cluster, plan, ct);
            metrics.RecordTopologyAction("remove_replicas");
            await store.RecordEventAsync(cluster, "Normal", "ReplicasRemoved", $"Removed {string.Join(", ", leaving.Order(StringComparer.Ordinal))} (replicasPerShard {plan.ReplicasPerShard})", ct);
        }
        var deleted = new List<int>();
        foreach (var index in removable.Where(i => report.DrainedShards.Contains(i)).OrderDescending())
        {
            await runtime.DeleteShardAsync(cluster, index, ct);
            deleted.Add(index);
            metrics.RecordTopologyAction("remove_shard");
            await store.RecordEventAsync(cluster, "Normal", "ShardRemoved", $"Removed shard {ShardName(cluster, index)}, which owns no slots any more", ct);
        }
        if (deleted.Count > 0 && deleted.Count == removable.Count)
        {
            await store.RecordEventAsync(cluster, "Normal", "ScaledIn", $"Scaled in from {existing} to {plan.Shards} shards", ct);
        }
        if (deleted.Count > 0 || leaving.Count > 0)
        {
            observed = await runtime.ObserveAsync(cluster, ct);
        }
        var changed = summary.Changed.Count > 0 || removable.Count > 0 || leaving.Count > 0;
        var resharding = await TrackReshardingAsync(cluster, report, ct);
        // Nodes restart only once the cluster has its shape: never while slots move or shards and replicas come and go.
        var hold = removable.Count > 0 || leaving.Count > 0 || report.Resharding is not null ? "waiting for the resharding and scaling to finish" : null;
        var upgrade = await _rolling.StepAsync(cluster, observed, plan, report, hold, ct);
        return await WriteStatusAsync(key, cluster, observed, plan, report, changed, resharding, upgrade, ct);
    }

    /// <summary>
    /// Resharding progress carried from round to round in status (so it survives an operator restart), its Events
    /// (ReshardStarted, SlotsMoved per round, ReshardDone, ReshardFailed with slot and error) and metrics.
    /// </summary>
    private async Task<ReshardingStatus?> TrackReshardingAsync(CacheCluster cluster, TopologyReport report, CancellationToken ct)
    {
        var previous = cluster.Status?.Resharding;
        var round = report.Resharding;
        if (round is null)
        {
            if (previous is not null && report.Ready)
            {
                await store.RecordEventAsync(cluster, "Normal", "ReshardDone",
                    $"Resharding done: moved {previous.SlotsMoved} slots and {previous.KeysMoved} keys in {previous.MovingMilliseconds / 1000.0:F0} s", ct);
                return null;
            }
            return previous; // Not settled enough to move this round (a node restarting, a MEET): progress stays as it was.
        }
        var now = _time.GetUtcNow().UtcDateTime;
        var status = previous is null
            ? new ReshardingStatus { SlotsToMove = round.SlotsLeft, StartTime = now }
            : new ReshardingStatus
            {
                SlotsToMove = previous.SlotsToMove,
                SlotsMoved = previous.SlotsMoved,
                KeysMoved = previous.KeysMoved,
                MovingMilliseconds = previous.MovingMilliseconds,
                StartTime = previous.StartTime,
                LastError = previous.LastError,
            };
        if (previous is null)
        {
            await store.RecordEventAsync(cluster, "Normal", "ReshardStarted", $"Resharding started: {round.SlotsLeft} slots to move", ct);
        }
        status.SlotsMoved += round.SlotsMoved;
        status.KeysMoved += round.KeysMoved;
        status.MovingMilliseconds += (long)round.Elapsed.TotalMilliseconds;
        // The plan may grow (spec.shards changed again): the total is what was moved plus what is left.
        status.SlotsToMove = Math.Max(status.SlotsToMove, status.SlotsMoved + round.SlotsLeft - round.SlotsMoved);
        status.KeysPerSecond = status.MovingMilliseconds > 0 ? status.KeysMoved * 1000 / status.MovingMilliseconds : 0;
        int left = status.SlotsToMove - status.SlotsMoved;
        status.EstimatedSecondsLeft = status.SlotsMoved > 0 ? (long)Math.Ceiling(status.MovingMilliseconds / 1000.0 / status.SlotsMoved * left) : null;
        status.Progress = $"{status.SlotsMoved}/{status.SlotsToMove} slots";
        if (round.SlotsMoved > 0)
        {
            metrics.RecordReshard(round.SlotsMoved, round.KeysMoved);
            await store.RecordEventAsync(cluster, "Normal", "SlotsMoved",
                $"Moved {round.SlotsMoved} slots ({round.KeysMoved} keys) in {round.Elapsed.TotalSeconds:F1} s; {status.Progress}, {left} left", ct);
        }
        if (round.Failure is { } failure)
        {
            var error = $"moving slot {failure.Slot} from {failure.Source} to {failure.Target} failed: {failure.Error}" + (failure.RolledBack ? " (rolled back)" : " (the slot stays open to be resumed)");
            if (!round.Paused)
            {
                metrics.RecordTopologyAction("migrate_slot", "error");
                await store.RecordEventAsync(cluster, "Warning", "ReshardFailed", error, ct);
            }
            status.LastError = error;
        }
        return status;
    }

    /// <summary>One topology round over the nodes that run; every admin command it ran becomes an Event and a metric.</summary>
    private async Task<TopologyReport> ShapeTopologyAsync(CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, IReadOnlySet<string> leaving, CancellationToken ct)
    {
        var members = observed.Shards
            .SelectMany(shard => shard.Members.Select(m => new MemberEndpoint(m.Name, shard.Index, m.Host, m.Port)))
            .ToList();
        var password = await runtime.GetPasswordAsync(cluster, ct);
        var report = await topology.ReconcileAsync(new DesiredTopology(plan.Shards, plan.ReplicasPerShard, members, password) { Leaving = leaving }, ct);
        foreach (var action in report.Actions)
        {
            metrics.RecordTopologyAction(action.Kind, action.Succeeded ? "ok" : "error");
            if (action.Succeeded)
            {
                await store.RecordEventAsync(cluster, "Normal", ActionReason(action.Kind), $"{action.Detail} on {action.Target}", ct);
            }
            else
            {
                await store.RecordEventAsync(cluster, "Warning", "TopologyActionFailed", $"{action.Detail} on {action.Target} failed: {action.Error}", ct);
            }
        }
        return report;
    }

    /// <summary>The Event reason of a topology action kind.</summary>
    private static string ActionReason(string kind) => kind switch
    {
        "meet" => "NodeMet",
        "add_slots" => "SlotsAssigned",
        "replicate" => "ReplicaAttached",
        "forget" => "NodeForgotten",
        "failover" => "FailoverStarted",
        _ => "TopologyChanged",
    };

    private async Task<ReconcileResult> WriteStatusAsync(ClusterKey key, CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, TopologyReport report, bool changed, ReshardingStatus? resharding, UpgradeOutcome upgrade, CancellationToken ct)
    {
        var previous = cluster.Status;
        var status = NewStatus(cluster, observed, plan.Shards, report);
        status.Resharding = resharding;
        var nodesReady = status.ReadyShards == plan.Shards;
        var ready = nodesReady && report.Ready;
        var previousPhase = previous?.Phase;
        var wasScaling = Conditions.Find(previous, Conditions.Progressing) is { Status: "True", Reason: "Scaling" };
        var wasResharding = Conditions.Find(previous, Conditions.Progressing) is { Status: "True", Reason: "Resharding" };
        var scaling = changed && previousPhase is not (null or ClusterPhase.Creating or ClusterPhase.Failed) || wasScaling || wasResharding || resharding is not null;
        var now = _time.GetUtcNow();
        var generation = cluster.Metadata.Generation;
        var conditions = status.Conditions!;
        RecordTimings(key, cluster, previousPhase, ready, now);

        if (ready)
        {
            status.Phase = ClusterPhase.Ready;
            Conditions.Set(conditions, Conditions.Ready, true, "AllShardsReady", $"{plan.Shards} of {plan.Shards} shards ready, cluster_state ok", generation, now.UtcDateTime);
            Conditions.Set(conditions, Conditions.Progressing, false, "ReconcileComplete", "The cluster matches the spec", generation, now.UtcDateTime);
            Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster runs as specified", generation, now.UtcDateTime);
        }
        else
        {
            // Why it is not ready: the nodes that do not run first, then what the topology lacks ("slots 0-5460 have no master").
            var (reason, why) = nodesReady
                ? ("TopologyIncomplete", string.Join("; ", report.Problems.DefaultIfEmpty("the cluster is forming")))
                : ("ShardsNotReady", $"{status.ReadyShards} of {plan.Shards} shards ready" + string.Concat(report.Problems.Take(3).Select(p => "; " + p)));
            Conditions.Set(conditions, Conditions.Ready, false, reason, why, generation, now.UtcDateTime);
            if (previousPhase is null or ClusterPhase.Creating or ClusterPhase.Failed && !scaling)
            {
                status.Phase = ClusterPhase.Creating;
                Conditions.Set(conditions, Conditions.Progressing, true, "Creating", why, generation, now.UtcDateTime);
                Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster is being created", generation, now.UtcDateTime);
            }
            else if (resharding is { LastError: { } failed } && report.Resharding?.Failure is not null)
            {
                // A slot move failed (target full, BUSYKEY, a node gone): resharding pauses and says which slot and why.
                status.Phase = ClusterPhase.Scaling;
                Conditions.Set(conditions, Conditions.Progressing, true, "Resharding", $"Resharding {resharding.Progress} is paused: {failed}", generation, now.UtcDateTime);
                Conditions.Set(conditions, Conditions.Degraded, true, "ReshardFailed", failed, generation, now.UtcDateTime);
            }
            else if (resharding is not null)
            {
                status.Phase = ClusterPhase.Scaling;
                var eta = resharding.EstimatedSecondsLeft is { } seconds ? $", about {seconds} s left" : "";
                Conditions.Set(conditions, Conditions.Progressing, true, "Resharding", $"Moved {resharding.Progress} ({resharding.KeysMoved} keys, {resharding.KeysPerSecond} keys/s{eta})", generation, now.UtcDateTime);
                Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster is being resharded", generation, now.UtcDateTime);
            }
            else if (scaling)
            {
                status.Phase = ClusterPhase.Scaling;
                Conditions.Set(conditions, Conditions.Progressing, true, "Scaling", why, generation, now.UtcDateTime);
                Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster is being scaled", generation, now.UtcDateTime);
            }
            else
            {
                status.Phase = ClusterPhase.Degraded;
                Conditions.Set(conditions, Conditions.Progressing, true, "Healing", why, generation, now.UtcDateTime);
                Conditions.Set(conditions, Conditions.Degraded, true, reason, why, generation, now.UtcDateTime);
            }
        }
        status.Upgrade = upgrade.Status;
        if (upgrade.Active)
        {
            // Nodes restarting one at a time are the plan, not a fault.
            status.Phase = ClusterPhase.Upgrading;
            Conditions.Set(conditions, Conditions.Progressing, true, "RollingUpgrade", upgrade.Status?.Message ?? "restarting nodes one at a time", generation, now.UtcDateTime);
            Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "A rolling upgrade restarts nodes one at a time", generation, now.UtcDateTime);
        }
        await SaveStatusAsync(cluster, status, ct);
        // While slots move, the next batch follows at once; status and Events are written between batches.
        var moving = report.Resharding is { Paused: false, Failure: null, SlotsMoved: > 0 };
        return ReconcileResult.After(ready && !upgrade.Active ? HealthPoll : moving ? TimeSpan.Zero : NotReadyPoll);
    }

    /// <summary>Time to create (creation to first Ready) and time to heal (first seen unhealthy after Ready to Ready).</summary>
    private void RecordTimings(ClusterKey key, CacheCluster cluster, string? previousPhase, bool ready, DateTimeOffset now)
    {
        if (ready && previousPhase is null or ClusterPhase.Creating && cluster.Metadata.CreationTimestamp is { } created)
        {
            metrics.RecordCreated(now - new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc)));
        }
        if (!ready && previousPhase == ClusterPhase.Ready)
        {
            _unhealthySince.TryAdd(key, now);
        }
        if (ready && _unhealthySince.TryRemove(key, out var since))
        {
            metrics.RecordHealed(now - since);
        }
    }

    private async Task<ReconcileResult> RefuseAsync(CacheCluster cluster, ObservedCluster observed, IReadOnlyList<SpecProblem> problems, CancellationToken ct)
    {
        var reason = problems[0].Reason;
        var message = string.Join("; ", problems.Select(p => p.Message));
        var previous = Conditions.Find(cluster.Status, Conditions.Degraded);
        if (previous is null || previous.Reason != reason || previous.Message != message || previous.Status != "True")
        {
            // One event per distinct refusal, not one per resync.
            await store.RecordEventAsync(cluster, "Warning", reason, message, ct);
        }
        var running = Math.Max(observed.Count, 0);
        var status = NewStatus(cluster, observed, running, report: null);
        var now = _time.GetUtcNow().UtcDateTime;
        var generation = cluster.Metadata.Generation;
        status.Phase = running == 0 ? ClusterPhase.Failed : ClusterPhase.Degraded;
        var ready = running > 0 && status.ReadyShards == running;
        Conditions.Set(status.Conditions!, Conditions.Ready, ready, ready ? "AllShardsReady" : "ShardsNotReady", $"{status.ReadyShards} of {running} running shards ready", generation, now);
        Conditions.Set(status.Conditions!, Conditions.Progressing, false, reason, message, generation, now);
        Conditions.Set(status.Conditions!, Conditions.Degraded, true, reason, message, generation, now);
        await SaveStatusAsync(cluster, status, ct);
        return ReconcileResult.Done;
    }

    private async Task<ReconcileResult> FinalizeAsync(ClusterKey key, CacheCluster cluster, CancellationToken ct)
    {
        if ((cluster.Metadata.Finalizers ?? []).Contains(CacheClusterResource.Finalizer))
        {
            if (runtime.NeedsFinalizer)
            {
                await runtime.CleanUpAsync(cluster, ct);
                await store.RecordEventAsync(cluster, "Normal", "CleanedUp", "Removed the cluster's shards and services before deletion", ct);
            }
            await store.SetFinalizersAsync(cluster, cluster.Metadata.Finalizers!.Where(f => f != CacheClusterResource.Finalizer).ToList(), ct);
        }
        metrics.RemoveCluster(key.Namespace, key.Name);
        _unhealthySince.TryRemove(key, out _);
        return ReconcileResult.Done;
    }

    /// <summary>
    /// Status of what runs: per shard the master, replicas and slots the nodes report (<paramref name="report"/>; without
    /// one, as last recorded), ready counts, selector, endpoint; conditions copied.
    /// </summary>
    private static CacheClusterStatus NewStatus(CacheCluster cluster, ObservedCluster observed, int shards, TopologyReport? report)
    {
        var name = cluster.Metadata.Name;
        var entries = new List<ShardStatus>();
        for (var i = 0; i < Math.Max(shards, observed.Count); i++)
        {
            var shard = observed.Shards.FirstOrDefault(s => s.Index == i);
            var seen = report?.Shards.FirstOrDefault(s => s.Index == i);
            var last = cluster.Status?.Shards?.FirstOrDefault(s => s.Name == ShardName(cluster, i));
            var replicas = seen?.Replicas ?? [];
            entries.Add(new ShardStatus
            {
                Name = ShardName(cluster, i),
                Master = report is null ? last?.Master : seen?.Master,
                Replicas = report is null ? last?.Replicas ?? [] : replicas.Select(r => r.Name).ToList(),
                Slots = report is null ? last?.Slots ?? [] : seen?.SlotRanges.ToList() ?? [],
                ReplicasInSync = report is null ? last?.ReplicasInSync ?? 0 : replicas.Count(r => r.LinkUp),
                LagBytes = report is null ? last?.LagBytes ?? 0 : replicas.Select(r => r.LagBytes).DefaultIfEmpty(0).Max(),
                Ready = shard?.Ready ?? false,
            });
        }
        return new CacheClusterStatus
        {
            ObservedGeneration = cluster.Metadata.Generation,
            Conditions = (cluster.Status?.Conditions ?? []).Select(c => new ClusterCondition
            {
                Type = c.Type,
                Status = c.Status,
                Reason = c.Reason,
                Message = c.Message,
                LastTransitionTime = c.LastTransitionTime,
                ObservedGeneration = c.ObservedGeneration,
            }).ToList(),
            Shards = entries,
            CurrentShards = observed.Shards.Count,
            ReadyShards = entries.Take(shards).Count(e => e.Ready),
            ClusterState = report?.ClusterState ?? cluster.Status?.ClusterState,
            Selector = $"app.kubernetes.io/name=cache-node,app.kubernetes.io/instance={name}",
            Endpoints = $"{name}.{cluster.Metadata.NamespaceProperty}.svc:{SpecValidator.RespPort}",
            Phase = cluster.Status?.Phase,
            Upgrade = cluster.Status?.Upgrade,
            Resharding = cluster.Status?.Resharding,
        };
    }

    private async Task SaveStatusAsync(CacheCluster cluster, CacheClusterStatus status, CancellationToken ct)
    {
        metrics.SetCluster(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name, status.Phase!, status.ReadyShards ?? 0, cluster.Spec.Shards);
        if (StatusJson(cluster.Status) == StatusJson(status))
        {
            return;
        }
        cluster.Status = status;
        await store.UpdateStatusAsync(cluster, ct);
    }

    private static string StatusJson(CacheClusterStatus? status) => status is null ? "" : k8s.KubernetesJson.Serialize(status);

    /// <summary>The pod ordinal at the end of a member name (&lt;cluster&gt;-shard-&lt;i&gt;-&lt;ordinal&gt;); -1 when there is none.</summary>
    private static int MemberOrdinal(string name) =>
        int.TryParse(name.AsSpan(name.LastIndexOf('-') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ordinal) ? ordinal : -1;

    /// <summary>Name of shard <paramref name="index"/>'s StatefulSet.</summary>
    public static string ShardName(CacheCluster cluster, int index) => $"{cluster.Metadata.Name}-shard-{index}";
}
