using System.Diagnostics;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Monitoring;

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
/// Moves one CacheCluster toward its spec through an <see cref="IClusterBackend"/>: finalizer, validation,
/// refusing scale-in of shards that own slots, applying the plan, removing empty shards, and writing
/// status with phase and conditions. Refused specs leave the running cluster alone. Errors propagate; the
/// controller retries with backoff.
/// </summary>
public sealed class CacheClusterReconciler(IClusterBackend backend, OperatorMetrics metrics, TimeProvider? time = null)
{
    /// <summary>How often a cluster that is not yet ready is looked at again.</summary>
    public static readonly TimeSpan NotReadyPoll = TimeSpan.FromSeconds(10);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

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
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.RecordReconcile("error", watch.Elapsed);
            throw;
        }
    }

    private async Task<ReconcileResult> ReconcileOnceAsync(ClusterKey key, CancellationToken ct)
    {
        var cluster = await backend.GetClusterAsync(key, ct);
        if (cluster is null)
        {
            metrics.RemoveCluster(key.Namespace, key.Name);
            return ReconcileResult.Done;
        }
        if (cluster.Metadata.DeletionTimestamp is not null)
        {
            return await FinalizeAsync(key, cluster, ct);
        }
        if (!(cluster.Metadata.Finalizers ?? []).Contains(CacheClusterResource.Finalizer))
        {
            cluster.Metadata.Finalizers = [.. cluster.Metadata.Finalizers ?? [], CacheClusterResource.Finalizer];
            cluster = await backend.UpdateClusterAsync(cluster, ct);
        }

        var observed = await backend.ObserveAsync(cluster, ct);
        var plan = SpecValidator.Plan(cluster.Spec, out var problems);
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

        var summary = await backend.ApplyAsync(cluster, plan, ct);
        foreach (var index in summary.CreatedShards)
        {
            metrics.RecordTopologyAction("create_shard");
            await backend.RecordEventAsync(cluster, "Normal", "ShardCreated", $"Created shard {ShardName(cluster, index)}", ct);
        }
        if (existing > 0 && plan.Shards > existing)
        {
            await backend.RecordEventAsync(cluster, "Normal", "ScaledOut", $"Scaled out from {existing} to {plan.Shards} shards", ct);
        }
        foreach (var note in summary.Notes)
        {
            await backend.RecordEventAsync(cluster, "Warning", "Skipped", note, ct);
        }
        foreach (var index in removable.OrderDescending())
        {
            await backend.DeleteShardAsync(cluster, index, ct);
            metrics.RecordTopologyAction("remove_shard");
            await backend.RecordEventAsync(cluster, "Normal", "ShardRemoved", $"Removed shard {ShardName(cluster, index)}, which owned no slots", ct);
        }
        if (removable.Count > 0)
        {
            await backend.RecordEventAsync(cluster, "Normal", "ScaledIn", $"Scaled in from {existing} to {plan.Shards} shards", ct);
        }

        if (summary.Changed.Count > 0 || removable.Count > 0)
        {
            observed = await backend.ObserveAsync(cluster, ct);
        }
        var changed = summary.Changed.Count > 0 || removable.Count > 0;
        return await WriteStatusAsync(cluster, observed, plan, changed, ct);
    }

    private async Task<ReconcileResult> WriteStatusAsync(CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, bool changed, CancellationToken ct)
    {
        var previous = cluster.Status;
        var status = NewStatus(cluster, observed, plan.Shards);
        var ready = status.ReadyShards == plan.Shards;
        var previousPhase = previous?.Phase;
        var wasScaling = Conditions.Find(previous, Conditions.Progressing) is { Status: "True", Reason: "Scaling" };
        var scaling = changed && previousPhase is not (null or ClusterPhase.Creating or ClusterPhase.Failed) || wasScaling;
        var now = _time.GetUtcNow().UtcDateTime;
        var generation = cluster.Metadata.Generation;
        var conditions = status.Conditions!;

        if (ready)
        {
            status.Phase = ClusterPhase.Ready;
            Conditions.Set(conditions, Conditions.Ready, true, "AllShardsReady", $"{plan.Shards} of {plan.Shards} shards ready", generation, now);
            Conditions.Set(conditions, Conditions.Progressing, false, "ReconcileComplete", "The cluster matches the spec", generation, now);
            Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster runs as specified", generation, now);
        }
        else
        {
            var notReady = $"{status.ReadyShards} of {plan.Shards} shards ready";
            Conditions.Set(conditions, Conditions.Ready, false, "ShardsNotReady", notReady, generation, now);
            if (previousPhase is null or ClusterPhase.Creating or ClusterPhase.Failed && !scaling)
            {
                status.Phase = ClusterPhase.Creating;
                Conditions.Set(conditions, Conditions.Progressing, true, "Creating", notReady, generation, now);
                Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster is being created", generation, now);
            }
            else if (scaling)
            {
                status.Phase = ClusterPhase.Scaling;
                Conditions.Set(conditions, Conditions.Progressing, true, "Scaling", notReady, generation, now);
                Conditions.Set(conditions, Conditions.Degraded, false, "AsExpected", "The cluster is being scaled", generation, now);
            }
            else
            {
                status.Phase = ClusterPhase.Degraded;
                Conditions.Set(conditions, Conditions.Progressing, false, "ShardsNotReady", notReady, generation, now);
                Conditions.Set(conditions, Conditions.Degraded, true, "ShardsNotReady", notReady, generation, now);
            }
        }
        await SaveStatusAsync(cluster, status, ct);
        return ready ? ReconcileResult.Done : ReconcileResult.After(NotReadyPoll);
    }

    private async Task<ReconcileResult> RefuseAsync(CacheCluster cluster, ObservedCluster observed, IReadOnlyList<SpecProblem> problems, CancellationToken ct)
    {
        var reason = problems[0].Reason;
        var message = string.Join("; ", problems.Select(p => p.Message));
        var previous = Conditions.Find(cluster.Status, Conditions.Degraded);
        if (previous is null || previous.Reason != reason || previous.Message != message || previous.Status != "True")
        {
            // One event per distinct refusal, not one per resync.
            await backend.RecordEventAsync(cluster, "Warning", reason, message, ct);
        }
        var running = Math.Max(observed.Count, 0);
        var status = NewStatus(cluster, observed, running);
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
            await backend.CleanUpAsync(cluster, ct);
            await backend.RecordEventAsync(cluster, "Normal", "CleanedUp", "Removed the cluster's shards and services before deletion", ct);
            cluster.Metadata.Finalizers = cluster.Metadata.Finalizers!.Where(f => f != CacheClusterResource.Finalizer).ToList();
            await backend.UpdateClusterAsync(cluster, ct);
        }
        metrics.RemoveCluster(key.Namespace, key.Name);
        return ReconcileResult.Done;
    }

    /// <summary>Status of what runs: shard entries with slots, ready counts, selector, endpoint; conditions copied.</summary>
    private static CacheClusterStatus NewStatus(CacheCluster cluster, ObservedCluster observed, int shards)
    {
        var name = cluster.Metadata.Name;
        var anyOwnsSlots = Enumerable.Range(0, Math.Max(shards, observed.Count)).Any(i => OwnedSlots(cluster, i).Count > 0);
        var entries = new List<ShardStatus>();
        for (var i = 0; i < Math.Max(shards, observed.Count); i++)
        {
            var shard = observed.Shards.FirstOrDefault(s => s.Index == i);
            // A new cluster's slots are split evenly; shards added later own none until the topology
            // controller moves slots to them.
            var slots = anyOwnsSlots ? OwnedSlots(cluster, i) : i < shards ? [Slots.EvenRange(i, shards)] : [];
            entries.Add(new ShardStatus
            {
                Name = ShardName(cluster, i),
                Master = shard?.Pods.FirstOrDefault(),
                Replicas = shard?.Pods.Skip(1).ToList() ?? [],
                Slots = slots.ToList(),
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
            Selector = $"app.kubernetes.io/name=cache-node,app.kubernetes.io/instance={name}",
            Endpoints = $"{name}.{cluster.Metadata.NamespaceProperty}.svc:{SpecValidator.RespPort}",
            Phase = cluster.Status?.Phase,
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
        await backend.UpdateStatusAsync(cluster, ct);
    }

    private static string StatusJson(CacheClusterStatus? status) => status is null ? "" : k8s.KubernetesJson.Serialize(status);

    private static IReadOnlyList<string> OwnedSlots(CacheCluster cluster, int index) =>
        cluster.Status?.Shards?.FirstOrDefault(s => s.Name == ShardName(cluster, index))?.Slots ?? [];

    /// <summary>Name of shard <paramref name="index"/>'s StatefulSet.</summary>
    public static string ShardName(CacheCluster cluster, int index) => $"{cluster.Metadata.Name}-shard-{index}";
}
