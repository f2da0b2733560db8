using CacheOperator.Operator.Reconcile;
using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Tests;

public class RollingUpgradePlannerTests
{
    // Two shards, one replica each: a-0 masters shard 0, b-0 shard 1.
    private static List<UpgradeMember> Members(params string[] outdated) =>
        new[] { ("a-0", 0), ("a-1", 0), ("b-0", 1), ("b-1", 1) }
            .Select(m => new UpgradeMember(m.Item1, m.Item2, true, outdated.Contains(m.Item1)))
            .ToList();

    private static List<ShardReport> Report(string masterA = "a-0", string replicaA = "a-1", ReplicaReport? replicaB = null) =>
    [
        new ShardReport(0, masterA, [new ReplicaReport(replicaA, true, 0)], ["0-8191"]),
        new ShardReport(1, "b-0", [replicaB ?? new ReplicaReport("b-1", true, 0)], ["8192-16383"]),
    ];

    [Fact]
    public void Nothing_outdated_is_done()
    {
        Assert.Equal(UpgradeStepKind.Done, RollingUpgradePlanner.Plan(Members(), Report(), 1).Kind);
    }

    [Fact]
    public void Replicas_restart_before_any_master_in_shard_order()
    {
        var step = RollingUpgradePlanner.Plan(Members("a-0", "a-1", "b-0", "b-1"), Report(), 1);
        Assert.Equal((UpgradeStepKind.RestartReplica, "a-1"), (step.Kind, step.Member));
        step = RollingUpgradePlanner.Plan(Members("a-0", "b-0", "b-1"), Report(), 1);
        Assert.Equal((UpgradeStepKind.RestartReplica, "b-1"), (step.Kind, step.Member));
    }

    [Fact]
    public void Waits_while_a_node_is_not_back()
    {
        var members = Members("a-0", "b-0", "b-1");
        members[1] = members[1] with { Ready = false };
        var step = RollingUpgradePlanner.Plan(members, Report(), 1);
        Assert.Equal(UpgradeStepKind.Wait, step.Kind);
        Assert.Contains("a-1", step.Reason);
    }

    [Fact]
    public void Waits_while_any_replica_is_not_in_sync()
    {
        var step = RollingUpgradePlanner.Plan(Members("a-0", "b-0"), Report(replicaB: new ReplicaReport("b-1", false, 0)), 1);
        Assert.Equal(UpgradeStepKind.Wait, step.Kind);
        Assert.Contains("b-1", step.Reason);
        step = RollingUpgradePlanner.Plan(Members("a-0", "b-0"), Report(replicaB: new ReplicaReport("b-1", true, RollingUpgradePlanner.InSyncLagBytes + 1)), 1);
        Assert.Equal(UpgradeStepKind.Wait, step.Kind);
        Assert.Contains("behind", step.Reason);
    }

    [Fact]
    public void Waits_while_a_replica_has_not_attached()
    {
        var report = Report();
        report[1] = report[1] with { Replicas = [] };
        Assert.Equal(UpgradeStepKind.Wait, RollingUpgradePlanner.Plan(Members("a-0"), report, 1).Kind);
    }

    [Fact]
    public void An_outdated_master_hands_over_to_an_up_to_date_replica_then_restarts_as_a_replica()
    {
        var step = RollingUpgradePlanner.Plan(Members("a-0", "b-0"), Report(), 1);
        Assert.Equal((UpgradeStepKind.HandOver, "a-0", "a-1", 0), (step.Kind, step.Member, step.Replica, step.Shard));

        // After the hand-over a-1 masters shard 0 and a-0 follows it: a-0 is now an outdated replica.
        step = RollingUpgradePlanner.Plan(Members("a-0", "b-0"), Report(masterA: "a-1", replicaA: "a-0"), 1);
        Assert.Equal((UpgradeStepKind.RestartReplica, "a-0"), (step.Kind, step.Member));
    }

    [Fact]
    public void A_master_is_never_restarted_or_handed_over_without_an_in_sync_replica()
    {
        var members = new List<UpgradeMember> { new("a-0", 0, true, true), new("a-1", 0, true, false) };
        var report = new List<ShardReport> { new(0, "a-0", [new ReplicaReport("a-1", false, 0)], ["0-16383"]) };
        Assert.Equal(UpgradeStepKind.Wait, RollingUpgradePlanner.Plan(members, report, 1).Kind);
        // Its only replica is a node the runtime does not run (not up to date as far as anyone knows): wait too.
        report = [new(0, "a-0", [new ReplicaReport("ghost", true, 0)], ["0-16383"])];
        Assert.Equal(UpgradeStepKind.Wait, RollingUpgradePlanner.Plan(members, report, 1).Kind);
    }

    [Fact]
    public void A_master_without_replicas_restarts_only_when_the_spec_asks_for_none()
    {
        var members = new List<UpgradeMember> { new("a-0", 0, true, true) };
        var report = new List<ShardReport> { new(0, "a-0", [], ["0-16383"]) };
        var step = RollingUpgradePlanner.Plan(members, report, 0);
        Assert.Equal((UpgradeStepKind.RestartMaster, "a-0"), (step.Kind, step.Member));
        Assert.Contains("writes to shard 0 are unavailable", step.Reason);
        Assert.Equal(UpgradeStepKind.Wait, RollingUpgradePlanner.Plan(members, report, 1).Kind);
    }

    [Fact]
    public void A_shard_without_a_master_waits()
    {
        var report = Report();
        report[0] = report[0] with { Master = null };
        Assert.Equal(UpgradeStepKind.Wait, RollingUpgradePlanner.Plan(Members("b-1"), report, 1).Kind);
    }
}
