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
/// Moves one CacheCluster toward its spec: finalizer, validation, refusing scale-in of shards that own slots, making the
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
        var owning = removable.Where(i => OwnedSlots(cluster, i).Count > 0).ToList();
        if (owning.Count > 0)
        {
            var message = $"spec.shards {plan.Shards} is below the {existing} running shards, and shard(s) {string.Join(", ", owning)} still own hash slots; " +
                "draining them is not supported yet, so the cluster keeps running as it was";
            return await RefuseAsync(cluster, observed, [new SpecProblem("ScaleInRefused", message)], ct);
        }

        ApplySummary summary;
        try
        {
            summary = await runtime.ApplyAsync(cluster, plan, ct);
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
        foreach (var index in removable.OrderDescending())
        {
            await runtime.DeleteShardAsync(cluster, index, ct);
            metrics.RecordTopologyAction("remove_shard");
            await store.RecordEventAsync(cluster, "Normal", "ShardRemoved", $"Removed shard {ShardName(cluster, index)}, which owned no slots", ct);
        }
        if (removable.Count > 0)
        {
            await store.RecordEventAsync(cluster, "Normal", "ScaledIn", $"Scaled in from {existing} to {plan.Shards} shards", ct);
        }

        observed = await runtime.ObserveAsync(cluster, ct);
        var report = await ShapeTopologyAsync(cluster, observed, plan, ct);
        var changed = summary.Changed.Count > 0 || removable.Count > 0;
        var upgrade = await _rolling.StepAsync(cluster, observed, plan, report, ct);
        return await WriteStatusAsync(key, cluster, observed, plan, report, changed, upgrade, ct);
    }

    /// <summary>One topology round over the nodes that run; every admin command it ran becomes an Event and a metric.</summary>
    private async Task<TopologyReport> ShapeTopologyAsync(CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, CancellationToken ct)
    {
        var members = observed.Shards
            .SelectMany(shard => shard.Members.Select(m => new MemberEndpoint(m.Name, shard.Index, m.Host, m.Port)))
            .ToList();
        var password = await runtime.GetPasswordAsync(cluster, ct);
        var report = await topology.ReconcileAsync(new DesiredTopology(plan.Shards, plan.ReplicasPerShard, members, password), ct);
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

    private async Task<ReconcileResult> WriteStatusAsync(ClusterKey key, CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, TopologyReport report, bool changed, UpgradeOutcome upgrade, CancellationToken ct)
    {
        var previous = cluster.Status;
        var status = NewStatus(cluster, observed, plan.Shards, report);
        var nodesReady = status.ReadyShards == plan.Shards;
        var ready = nodesReady && report.Ready;
        var previousPhase = previous?.Phase;
        var wasScaling = Conditions.Find(previous, Conditions.Progressing) is { Status: "True", Reason: "Scaling" };
        var scaling = changed && previousPhase is not (null or ClusterPhase.Creating or ClusterPhase.Failed) || wasScaling;
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
        return ReconcileResult.After(ready && !upgrade.Active ? HealthPoll : NotReadyPoll);
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

    private static IReadOnlyList<string> OwnedSlots(CacheCluster cluster, int index) =>
        cluster.Status?.Shards?.FirstOrDefault(s => s.Name == ShardName(cluster, index))?.Slots ?? [];

    /// <summary>Name of shard <paramref name="index"/>'s StatefulSet.</summary>
    public static string ShardName(CacheCluster cluster, int index) => $"{cluster.Metadata.Name}-shard-{index}";
}
