using System.Collections.Concurrent;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Reconcile;

/// <summary>Where a rolling upgrade stands after one step.</summary>
/// <param name="Active">Some node still runs an older image or restart-requiring config.</param>
/// <param name="Status">status.upgrade to write (the last upgrade's when none runs; null when there never was one).</param>
public sealed record UpgradeOutcome(bool Active, UpgradeStatus? Status);

/// <summary>
/// One step per reconcile of bringing running nodes to the spec without write errors: config a node takes live is
/// CONFIG SET on every node (it is in the node's config file too, for its next start); nodes needing a restart are
/// restarted one at a time in <see cref="RollingUpgradePlanner"/>'s order, masters only after a coordinated hand-over,
/// whose write pause is measured into a histogram, an Event and status.upgrade.
/// </summary>
public sealed class RollingUpgrade(IClusterStore store, INodeRuntime runtime, ITopologyManager topology, OperatorMetrics metrics)
{
    // Per cluster: the live config last applied, and the nodes (name@host:port) known to run it.
    private readonly ConcurrentDictionary<ClusterKey, (string Hash, HashSet<string> Nodes)> _liveApplied = new();

    /// <summary>
    /// Applies live config, then takes the next upgrade step, if any, for the nodes that run; with
    /// <paramref name="hold"/> (why not now) no node is restarted or handed over this round.
    /// </summary>
    public async Task<UpgradeOutcome> StepAsync(CacheCluster cluster, ObservedCluster observed, ClusterPlan plan, TopologyReport report, string? hold, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(report);
        var members = observed.Shards.SelectMany(s => s.Members.Select(m => (Shard: s, Member: m))).ToList();
        var password = await runtime.GetPasswordAsync(cluster, ct);
        var endpoints = members.Select(x => new MemberEndpoint(x.Member.Name, x.Shard.Index, x.Member.Host, x.Member.Port)).ToList();
        var desired = new DesiredTopology(plan.Shards, plan.ReplicasPerShard, endpoints, password);
        await ApplyLiveConfigAsync(cluster, desired, members.Where(x => x.Member.Ready && x.Member.Host is not null).Select(x => x.Member.Name).ToHashSet(), plan, ct);

        var previous = cluster.Status?.Upgrade;
        var outdated = members.Count(x => x.Member.Outdated);
        var target = ConfigParts.Hash((cluster.Spec.Image ?? "") + "\n" + ConfigParts.RestartPart(plan.NodeConfig));
        if (outdated == 0)
        {
            var inProgress = previous is not null && previous.Target == target && previous.NodesUpdated < previous.NodesTotal;
            if (inProgress && members.Select(x => x.Member).FirstOrDefault(m => !m.Ready || m.Host is null) is { } back)
            {
                // The last node restarted is not back yet: the upgrade is not over.
                return new UpgradeOutcome(true, Copy(previous!, members.Count - 1, members.Count, $"waiting for {back.Name} to be back"));
            }
            if (inProgress && previous is not null)
            {
                var worst = previous.WorstWriteUnavailableMs is { } ms ? $"{ms} ms" : "none (no master was handed over)";
                await store.RecordEventAsync(cluster, "Normal", "RollingUpgradeComplete",
                    $"All {members.Count} nodes restarted onto {target}; {previous.HandOvers} master hand-over(s), worst write unavailability {worst}", ct);
                return new UpgradeOutcome(false, Copy(previous, members.Count, members.Count, "complete"));
            }
            return new UpgradeOutcome(false, previous);
        }

        var status = previous is not null && previous.Target == target ? Copy(previous, members.Count - outdated, members.Count, previous.Message) : null;
        if (status is null)
        {
            status = new UpgradeStatus { Target = target, NodesUpdated = members.Count - outdated, NodesTotal = members.Count };
            await store.RecordEventAsync(cluster, "Normal", "RollingUpgradeStarted",
                $"{outdated} of {members.Count} nodes run an older image or restart-requiring config; restarting them one at a time, replicas first, masters after a coordinated failover", ct);
        }
        if (hold is not null)
        {
            status.Message = $"{hold} ({status.NodesUpdated} of {status.NodesTotal} nodes updated)";
            return new UpgradeOutcome(true, status);
        }
        var upgradeMembers = members.Select(x => new UpgradeMember(x.Member.Name, x.Shard.Index, x.Member.Ready && x.Shard.Ready && x.Member.Host is not null, x.Member.Outdated)).ToList();
        var step = RollingUpgradePlanner.Plan(upgradeMembers, report.Shards, plan.ReplicasPerShard);
        var progress = $"{status.NodesUpdated} of {status.NodesTotal} nodes updated";
        status.Message = $"{step.Reason} ({progress})";
        switch (step.Kind)
        {
            case UpgradeStepKind.RestartReplica:
                await store.RecordEventAsync(cluster, "Normal", "NodeRestarted", $"Restarting replica {step.Member} onto the new revision ({progress})", ct);
                await runtime.RestartMemberAsync(cluster, step.Member!, ct);
                metrics.RecordTopologyAction("restart");
                break;
            case UpgradeStepKind.RestartMaster:
                await store.RecordEventAsync(cluster, "Warning", "WritesUnavailable", $"Restarting master {step.Member}, which has no replica (replicasPerShard 0): writes to shard {step.Shard} fail until it is back ({progress})", ct);
                await runtime.RestartMemberAsync(cluster, step.Member!, ct);
                metrics.RecordTopologyAction("restart");
                break;
            case UpgradeStepKind.HandOver:
                var result = await topology.HandOverAsync(desired, step.Replica!, ct);
                metrics.RecordTopologyAction("handover", result.Succeeded ? "ok" : "error");
                if (result.Succeeded)
                {
                    var ms = (long)Math.Ceiling(result.WriteUnavailable.TotalMilliseconds);
                    metrics.RecordWriteUnavailable(result.WriteUnavailable);
                    status.HandOvers++;
                    status.WorstWriteUnavailableMs = Math.Max(status.WorstWriteUnavailableMs ?? 0, ms);
                    status.Message = $"shard {step.Shard} handed over to {step.Replica}; {step.Member} restarts next ({progress})";
                    await store.RecordEventAsync(cluster, "Normal", "MasterHandedOver",
                        $"Coordinated failover of shard {step.Shard} from {result.OldMaster} to {step.Replica} before restarting {result.OldMaster}: writes refused for {ms} ms (worst so far {status.WorstWriteUnavailableMs} ms)", ct);
                }
                else
                {
                    status.Message = $"hand-over of shard {step.Shard} to {step.Replica} failed: {result.Error} ({progress})";
                    await store.RecordEventAsync(cluster, "Warning", "HandOverFailed", $"Coordinated failover of shard {step.Shard} to {step.Replica} failed: {result.Error}", ct);
                }
                break;
        }
        return new UpgradeOutcome(true, status);
    }

    /// <summary>CONFIG SET of the live part of the config on every ready node not yet known to run it.</summary>
    private async Task ApplyLiveConfigAsync(CacheCluster cluster, DesiredTopology desired, HashSet<string> ready, ClusterPlan plan, CancellationToken ct)
    {
        var key = new ClusterKey(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name);
        var live = ConfigParts.Live(plan.NodeConfig);
        var hash = ConfigParts.Hash(string.Join("\n", live.Select(d => d.Key + " " + d.Value)));
        var (appliedHash, nodes) = _liveApplied.GetOrAdd(key, _ => (hash, []));
        if (appliedHash != hash)
        {
            nodes = [];
            _liveApplied[key] = (hash, nodes);
        }
        var targets = desired.Members.Where(m => ready.Contains(m.Name) && !nodes.Contains(Identity(m))).ToList();
        if (targets.Count == 0 || live.Count == 0)
        {
            return;
        }
        var results = await topology.ApplyConfigAsync(desired with { Members = targets }, live, ct);
        foreach (var action in results)
        {
            metrics.RecordTopologyAction(action.Kind, action.Succeeded ? "ok" : "error");
            await (action.Succeeded
                ? store.RecordEventAsync(cluster, "Normal", "ConfigApplied", $"{action.Detail} on {action.Target} (taken live, no restart)", ct)
                : store.RecordEventAsync(cluster, "Warning", "ConfigApplyFailed", $"{action.Detail} on {action.Target} failed: {action.Error}", ct));
        }
        foreach (var member in targets.Where(m => !results.Any(r => r.Target == m.Name && !r.Succeeded)))
        {
            nodes.Add(Identity(member));
        }
    }

    /// <summary>Forgets what was applied to a deleted cluster.</summary>
    public void Forget(ClusterKey key) => _liveApplied.TryRemove(key, out _);

    private static string Identity(MemberEndpoint member) => $"{member.Name}@{member.Host}:{member.Port}";

    private static UpgradeStatus Copy(UpgradeStatus from, int updated, int total, string? message) => new()
    {
        Target = from.Target,
        NodesUpdated = updated,
        NodesTotal = total,
        HandOvers = from.HandOvers,
        WorstWriteUnavailableMs = from.WorstWriteUnavailableMs,
        Message = message,
    };
}
