using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>The planner on hand-written observations: failover, stale addresses, and the sentences it reports.</summary>
public sealed class TopologyPlannerTests
{
    private const string A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private const string C = "cccccccccccccccccccccccccccccccccccccccc";
    private const string D = "dddddddddddddddddddddddddddddddddddddddd";
    private const string E = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";

    private static readonly MemberEndpoint S0Master = new("cache-shard-0-0", 0, "10.0.0.1", 7000);
    private static readonly MemberEndpoint S0Replica = new("cache-shard-0-1", 0, "10.0.0.2", 7000);
    private static readonly MemberEndpoint S1Master = new("cache-shard-1-0", 1, "10.0.0.3", 7000);
    private static readonly MemberEndpoint S1Replica = new("cache-shard-1-1", 1, "10.0.0.4", 7000);
    private static readonly MemberEndpoint S2Master = new("cache-shard-2-0", 2, "10.0.0.5", 7000);

    [Fact]
    public void A_failed_master_whose_replica_did_not_take_over_gets_a_forced_failover_after_the_grace()
    {
        // Shard 0's master (A) failed; shards 1 and 2 are healthy, so a majority of masters can vote: FORCE, not TAKEOVER.
        string Lines(string self) => string.Join('\n',
            Line(A, "10.0.0.1", "master,fail", null, "0-5460", self),
            Line(B, "10.0.0.2", "slave", A, "", self),
            Line(C, "10.0.0.3", "master", null, "5461-10922", self),
            Line(D, "10.0.0.4", "slave", C, "", self),
            Line(E, "10.0.0.5", "master", null, "10923-16383", self));
        var observed = Observed(
            MemberView.Unreachable(S0Master, "connection refused"),
            View(S0Replica, B, Lines(B), "fail", new ReplicationInfo("slave", "down", 0, 500)),
            View(S1Master, C, Lines(C), "fail", new ReplicationInfo("master", null, 900, 0)),
            View(S1Replica, D, Lines(D), "fail", new ReplicationInfo("slave", "up", 900, 900)),
            View(S2Master, E, Lines(E), "fail", new ReplicationInfo("master", null, 900, 0)));
        var desired = new DesiredTopology(3, 1, [S0Master, S0Replica, S1Master, S1Replica, S2Master]);

        var early = TopologyPlanner.Plan(observed, desired, new PlannerOptions(new Dictionary<string, TimeSpan> { [A] = TimeSpan.FromSeconds(3) }, TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(early.Actions, a => a.Kind == "failover");
        Assert.Contains("master cache-shard-0-0 failed; waiting for its replicas to take over", early.Problems);
        Assert.Contains("slots 0-5460 have no master (served by failed or unreachable cache-shard-0-0)", early.Problems);
        Assert.Contains("member cache-shard-0-0 is unreachable (connection refused)", early.Problems);
        Assert.Contains("shard 0 has no reachable master: its master cache-shard-0-0 is unreachable", early.Problems);
        Assert.DoesNotContain(early.Actions, a => a.Kind == "replicate" || a.Kind == "forget" || a.Kind == "add_slots");

        var late = TopologyPlanner.Plan(observed, desired, new PlannerOptions(new Dictionary<string, TimeSpan> { [A] = TimeSpan.FromSeconds(11) }, TimeSpan.FromSeconds(10)));
        var failover = Assert.Single(late.Actions);
        Assert.Equal(("failover", "cache-shard-0-1", "CLUSTER FAILOVER FORCE"), (failover.Kind, failover.Target, failover.Detail));
        Assert.False(late.Ready);
    }

    [Fact]
    public void A_failover_with_half_the_masters_down_is_a_takeover()
    {
        // Two masters, one failed: the other alone is no majority, so no election can succeed.
        string Lines(string self) => string.Join('\n',
            Line(A, "10.0.0.1", "master,fail", null, "0-8191", self),
            Line(B, "10.0.0.2", "slave", A, "", self),
            Line(C, "10.0.0.3", "master,fail?", null, "8192-16383", self),
            Line(D, "10.0.0.4", "slave", C, "", self));
        var observed = Observed(
            MemberView.Unreachable(S0Master, "timeout"),
            View(S0Replica, B, Lines(B), "fail", new ReplicationInfo("slave", "down", 0, 500)),
            MemberView.Unreachable(S1Master, "timeout"),
            View(S1Replica, D, Lines(D), "fail", new ReplicationInfo("slave", "down", 0, 900)));
        var desired = new DesiredTopology(2, 1, [S0Master, S0Replica, S1Master, S1Replica]);

        var plan = TopologyPlanner.Plan(observed, desired, new PlannerOptions(new Dictionary<string, TimeSpan> { [A] = TimeSpan.FromMinutes(1) }, TimeSpan.FromSeconds(10)));

        Assert.Contains(plan.Actions, a => a.Kind == "failover" && a.Target == "cache-shard-0-1" && a.Detail == "CLUSTER FAILOVER TAKEOVER");
        Assert.DoesNotContain(plan.Actions, a => a.Target == "cache-shard-1-1"); // C is only fail?, not fail: its replica may still win an election.
    }

    [Fact]
    public void A_member_known_at_a_stale_address_is_met_again_at_its_current_one_and_nothing_else_happens()
    {
        // B restarted on a new port with its nodes.conf (same id); A still has it at the old port.
        var movedReplica = S0Replica with { Port = 7100 };
        var observed = Observed(
            View(S0Master, A, string.Join('\n', Line(A, "10.0.0.1", "master", null, "0-16383", A), Line(B, "10.0.0.2", "slave", A, "", A)), "ok", new ReplicationInfo("master", null, 10, 0)),
            View(movedReplica, B, string.Join('\n', Line(A, "10.0.0.1", "master", null, "0-16383", B), Line(B, "10.0.0.2", "slave", A, "", B, 7100)), "ok", new ReplicationInfo("slave", "down", 0, 10)));

        var plan = TopologyPlanner.Plan(observed, new DesiredTopology(1, 1, [S0Master, movedReplica]));

        var meet = Assert.Single(plan.Actions);
        Assert.Equal(("meet", "cache-shard-0-0", "CLUSTER MEET 10.0.0.2 7100 17100"), (meet.Kind, meet.Target, meet.Detail));
        Assert.Contains("members are joining the cluster (1 MEET)", plan.Problems);
    }

    [Fact]
    public void A_healthy_cluster_is_ready_with_its_shards_reported()
    {
        string Lines(string self) => string.Join('\n',
            Line(A, "10.0.0.1", "master", null, "0-8191", self),
            Line(B, "10.0.0.2", "slave", A, "", self),
            Line(C, "10.0.0.3", "master", null, "8192-16383", self),
            Line(D, "10.0.0.4", "slave", C, "", self));
        var observed = Observed(
            View(S0Master, A, Lines(A), "ok", new ReplicationInfo("master", null, 1000, 0)),
            View(S0Replica, B, Lines(B), "ok", new ReplicationInfo("slave", "up", 1000, 990)),
            View(S1Master, C, Lines(C), "ok", new ReplicationInfo("master", null, 50, 0)),
            View(S1Replica, D, Lines(D), "ok", new ReplicationInfo("slave", "up", 50, 50)));

        var plan = TopologyPlanner.Plan(observed, new DesiredTopology(2, 1, [S0Master, S0Replica, S1Master, S1Replica]));

        Assert.True(plan.Ready, string.Join("; ", plan.Problems));
        Assert.Equal("ok", plan.ClusterState);
        Assert.Equal(["0-8191"], plan.Shards[0].SlotRanges);
        Assert.Equal("cache-shard-0-0", plan.Shards[0].Master);
        Assert.Equal(new ReplicaReport("cache-shard-0-1", true, 10), Assert.Single(plan.Shards[0].Replicas));

        // The same cluster wanting two replicas per shard is not ready, and says why.
        var more = TopologyPlanner.Plan(observed, new DesiredTopology(2, 2, [S0Master, S0Replica, S1Master, S1Replica]));
        Assert.False(more.Ready);
        Assert.Contains("shard 1 has 1 of 2 replicas in sync", more.Problems);
    }

    [Fact]
    public void A_new_empty_shard_gets_slots_moved_to_it_and_a_removed_shard_is_drained_then_reported_drained()
    {
        string Lines(string self, string aSlots, string cSlots, string eSlots) => string.Join('\n',
            Line(A, "10.0.0.1", "master", null, aSlots, self),
            Line(C, "10.0.0.3", "master", null, cSlots, self),
            Line(E, "10.0.0.5", "master", null, eSlots, self));
        MemberView[] Views(string a, string c, string e) =>
        [
            View(S0Master, A, Lines(A, a, c, e), "ok", new ReplicationInfo("master", null, 0, 0)),
            View(S1Master, C, Lines(C, a, c, e), "ok", new ReplicationInfo("master", null, 0, 0)),
            View(S2Master, E, Lines(E, a, c, e), "ok", new ReplicationInfo("master", null, 0, 0)),
        ];

        // 2 -> 3 shards: shard 2 is empty, a third of the slots move to it, from shards 0 and 1 only.
        var grow = TopologyPlanner.Plan(Observed(Views("0-8191", "8192-16383", "")), new DesiredTopology(3, 0, [S0Master, S1Master, S2Master]));
        Assert.Empty(grow.Actions);
        Assert.False(grow.Ready);
        Assert.Equal(5461, grow.Moves.Count);
        Assert.All(grow.Moves, m => Assert.Equal(("cache-shard-2-0", E), (m.Target, m.TargetId)));
        Assert.Equal(["cache-shard-0-0", "cache-shard-1-0", "cache-shard-2-0"], grow.Masters);
        Assert.Contains("5461 slots to move to even out the shards", grow.Problems);

        // 3 -> 2 shards: shard 2 (still a member) gives all its slots to the others, and is not drained until it owns none.
        var shrink = TopologyPlanner.Plan(Observed(Views("0-5460", "5461-10922", "10923-16383")), new DesiredTopology(2, 0, [S0Master, S1Master, S2Master]));
        Assert.Equal(5461, shrink.Moves.Count);
        Assert.All(shrink.Moves, m => Assert.Equal("cache-shard-2-0", m.Source));
        Assert.Empty(shrink.DrainedShards);
        Assert.DoesNotContain(shrink.Problems, p => p.Contains("only shards", StringComparison.Ordinal));

        var drained = TopologyPlanner.Plan(Observed(Views("0-8191", "8192-16383", "")), new DesiredTopology(2, 0, [S0Master, S1Master, S2Master]));
        Assert.Empty(drained.Moves);
        Assert.Equal([2], drained.DrainedShards);
    }

    [Fact]
    public void Open_slots_are_finished_when_both_sides_are_open_or_keys_moved_and_closed_otherwise()
    {
        // Slot 100 (owned by A) is open on both sides towards C; slot 200 only imported by C with no keys there;
        // slot 300 only migrating on A towards C, with C already holding some of its keys.
        string Lines(string self) => string.Join('\n',
            Line(A, "10.0.0.1", "master", null, "0-8191 [100->-" + C + "] [300->-" + C + "]", self),
            Line(C, "10.0.0.3", "master", null, "8192-16383 [100-<-" + A + "] [200-<-" + A + "]", self));
        var observed = Observed(
            View(S0Master, A, Lines(A), "ok", new ReplicationInfo("master", null, 0, 0)),
            View(S1Master, C, Lines(C), "ok", new ReplicationInfo("master", null, 0, 0)) with { KeysInOpenSlots = new Dictionary<int, long> { [100] = 3, [200] = 0, [300] = 2 } });

        var plan = TopologyPlanner.Plan(observed, new DesiredTopology(2, 0, [S0Master, S1Master]));

        Assert.Equal([(100, false), (300, true)], plan.Moves.Select(m => (m.Slot, m.Replace)));
        Assert.All(plan.Moves, m => Assert.Equal(("cache-shard-0-0", "cache-shard-1-0"), (m.Source, m.Target)));
        var close = Assert.Single(plan.Actions);
        Assert.Equal(("stabilize_slot", "cache-shard-1-0", "CLUSTER SETSLOT 200 STABLE"), (close.Kind, close.Target, close.Detail));
    }

    [Fact]
    public void A_leaving_master_hands_over_to_its_staying_replica_before_it_may_be_removed()
    {
        string Lines(string self) => string.Join('\n',
            Line(A, "10.0.0.1", "master", null, "0-16383", self),
            Line(B, "10.0.0.2", "slave", A, "", self));
        var observed = Observed(
            View(S0Master, A, Lines(A), "ok", new ReplicationInfo("master", null, 100, 0)),
            View(S0Replica, B, Lines(B), "ok", new ReplicationInfo("slave", "up", 100, 100)));
        var desired = new DesiredTopology(1, 0, [S0Master, S0Replica]);

        var handOver = TopologyPlanner.Plan(observed, desired with { Leaving = new HashSet<string> { "cache-shard-0-0" } });
        Assert.False(handOver.LeavingSafe);
        var failover = Assert.Single(handOver.Actions);
        Assert.Equal(("failover", "cache-shard-0-1", "CLUSTER FAILOVER"), (failover.Kind, failover.Target, failover.Detail));

        var replicaLeaves = TopologyPlanner.Plan(observed, desired with { Leaving = new HashSet<string> { "cache-shard-0-1" } });
        Assert.True(replicaLeaves.LeavingSafe);
        Assert.DoesNotContain(replicaLeaves.Actions, a => a.Kind == "failover");
    }

    private static ObservedTopology Observed(params MemberView[] views) => new(views);

    private static MemberView View(MemberEndpoint member, string id, string nodes, string state, ReplicationInfo replication) =>
        new(member, true, null, id, ClusterNodeEntry.ParseAll(nodes), state, replication);

    private static string Line(string id, string ip, string flags, string? master, string slots, string self, int port = 7000) =>
        $"{id} {ip}:{port}@{port + 10000} {(id == self ? "myself," : "")}{flags} {master ?? "-"} 0 0 1 connected {slots}".TrimEnd();
}
