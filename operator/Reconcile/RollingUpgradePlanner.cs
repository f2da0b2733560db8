using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Reconcile;

/// <summary>One node as the rolling upgrade sees it.</summary>
/// <param name="Name">Pod or process name.</param>
/// <param name="Shard">Its shard.</param>
/// <param name="Ready">Running and answering, with an address.</param>
/// <param name="Outdated">Runs an older image, binary or restart-requiring config than the spec asks for.</param>
public sealed record UpgradeMember(string Name, int Shard, bool Ready, bool Outdated);

/// <summary>What the rolling upgrade does next.</summary>
public enum UpgradeStepKind
{
    /// <summary>Every node is up to date.</summary>
    Done,

    /// <summary>Nothing yet: a node is not back or a replica is not in sync (<see cref="UpgradeStep.Reason"/>).</summary>
    Wait,

    /// <summary>Restart <see cref="UpgradeStep.Member"/>, a replica (or a node serving no slots).</summary>
    RestartReplica,

    /// <summary>Coordinated CLUSTER FAILOVER on <see cref="UpgradeStep.Replica"/>, so that it takes over from master <see cref="UpgradeStep.Member"/>.</summary>
    HandOver,

    /// <summary>Restart master <see cref="UpgradeStep.Member"/>, which has no replica: writes to its slots fail meanwhile.</summary>
    RestartMaster,
}

/// <summary>The next step of a rolling upgrade.</summary>
/// <param name="Kind">What to do.</param>
/// <param name="Member">The node to restart, or the master to hand over from.</param>
/// <param name="Replica">The replica to hand over to.</param>
/// <param name="Shard">The shard concerned (-1: none).</param>
/// <param name="Reason">Why, for status and Events.</param>
public sealed record UpgradeStep(UpgradeStepKind Kind, string? Member, string? Replica, int Shard, string Reason);

/// <summary>
/// Orders a rolling upgrade, one node at a time: replicas first, each only once every node is back and every replica in
/// sync (link up, lag at most <see cref="InSyncLagBytes"/>); then, per shard, the master hands over to an up-to-date
/// in-sync replica with a coordinated CLUSTER FAILOVER (no write is lost and clients see only MOVED) and is restarted
/// once it is that replica's replica. A master with no replica is restarted only when the spec asks for none. Pure:
/// observed nodes and the topology report in, the next step out.
/// </summary>
public static class RollingUpgradePlanner
{
    /// <summary>A replica this close to its master counts as in sync (offsets are read a moment apart under load).</summary>
    public const long InSyncLagBytes = 1024 * 1024;

    /// <summary>The next step for <paramref name="members"/> given what the nodes report (<paramref name="shards"/>).</summary>
    public static UpgradeStep Plan(IReadOnlyList<UpgradeMember> members, IReadOnlyList<ShardReport> shards, int replicasPerShard)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(shards);
        var outdated = members.Where(m => m.Outdated).OrderBy(m => m.Shard).ThenBy(m => m.Name, StringComparer.Ordinal).ToList();
        if (outdated.Count == 0)
        {
            return new UpgradeStep(UpgradeStepKind.Done, null, null, -1, "every node is up to date");
        }
        if (members.Where(m => !m.Ready).OrderBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault() is { } down)
        {
            return Wait(down.Shard, $"{down.Name} is not running and ready yet");
        }
        foreach (var group in members.GroupBy(m => m.Shard).OrderBy(g => g.Key))
        {
            var report = shards.FirstOrDefault(s => s.Index == group.Key);
            if (report?.Master is null)
            {
                return Wait(group.Key, $"shard {group.Key} has no master");
            }
            var expected = group.Count() - 1;
            if (report.Replicas.Count < expected)
            {
                return Wait(group.Key, $"shard {group.Key} has {report.Replicas.Count} of {expected} replicas attached");
            }
            if (report.Replicas.FirstOrDefault(r => !InSync(r)) is { } behind)
            {
                return Wait(group.Key, behind.LinkUp
                    ? $"replica {behind.Name} is {behind.LagBytes} bytes behind its master"
                    : $"replica {behind.Name} is not in sync (link down)");
            }
        }

        var masters = shards.Where(s => s.Master is not null).ToDictionary(s => s.Master!, s => s, StringComparer.Ordinal);
        if (outdated.FirstOrDefault(m => !masters.ContainsKey(m.Name)) is { } replica)
        {
            return new UpgradeStep(UpgradeStepKind.RestartReplica, replica.Name, null, replica.Shard, $"restarting replica {replica.Name}");
        }
        var master = outdated[0];
        var shard = masters[master.Name];
        var current = members.Where(m => !m.Outdated).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        if (shard.Replicas.FirstOrDefault(r => current.Contains(r.Name) && InSync(r)) is { } successor)
        {
            return new UpgradeStep(UpgradeStepKind.HandOver, master.Name, successor.Name, shard.Index,
                $"handing shard {shard.Index} over from master {master.Name} to replica {successor.Name}");
        }
        if (replicasPerShard == 0 && shard.Replicas.Count == 0)
        {
            return new UpgradeStep(UpgradeStepKind.RestartMaster, master.Name, null, shard.Index,
                $"restarting master {master.Name}, which has no replica: writes to shard {shard.Index} are unavailable until it is back");
        }
        return Wait(shard.Index, $"master {master.Name} has no up-to-date replica in sync to hand over to");
    }

    /// <summary>Link up and at most <see cref="InSyncLagBytes"/> behind.</summary>
    public static bool InSync(ReplicaReport replica) => replica.LinkUp && replica.LagBytes <= InSyncLagBytes;

    private static UpgradeStep Wait(int shard, string reason) => new(UpgradeStepKind.Wait, null, null, shard, reason);
}
