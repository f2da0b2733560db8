using System.Globalization;
using CacheOperator.Operator.Topology;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>
/// Properties of the planner over generated cluster states (members down, ghosts, half-assigned slots, orphaned
/// replicas, two masters claiming a slot, failed masters), run to convergence in <see cref="ClusterSimulator"/>.
/// </summary>
public sealed class TopologyPlannerProperties
{
    private const int MaxRounds = 40;

    /// <summary>A generated starting state.</summary>
    public sealed record Scenario(int Seed, bool AllMembersUp)
    {
        public override string ToString() => $"seed {Seed}, all members up: {AllMembersUp}";
    }

    /// <summary>Scenarios for FsCheck: a seed for the state and whether every member runs.</summary>
    public static class Scenarios
    {
        public static Arbitrary<Scenario> Scenario() =>
            Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Elements(true, false))
                .Select(t => new Scenario(t.Item1, t.Item2))
                .ToArbitrary();
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Scenarios)])]
    public void Converges_without_breaking_a_safety_rule(Scenario scenario)
    {
        var simulator = Build(scenario);
        var trace = new List<string>();
        int rounds = 0;
        for (; rounds < MaxRounds; rounds++)
        {
            simulator.Settle();
            var plan = TopologyPlanner.Plan(simulator.Observe(), simulator.Desired, simulator.Options());
            if (plan.Actions.Count == 0)
            {
                break;
            }
            foreach (var action in plan.Actions)
            {
                trace.Add($"{rounds}: {action.Kind} on {action.Target}: {action.Detail}");
                simulator.Apply(action);
            }
        }
        var last = TopologyPlanner.Plan(simulator.Observe(), simulator.Desired, simulator.Options());
        string Context() => $"{scenario}\n{string.Join("\n", trace.TakeLast(30))}\nproblems: {string.Join("; ", last.Problems)}";
        Assert.True(simulator.Violations.Count == 0, $"{string.Join("\n", simulator.Violations.Distinct().Take(10))}\n{Context()}");
        Assert.True(rounds < MaxRounds, $"no fixed point after {MaxRounds} rounds\n{Context()}");

        var unowned = Enumerable.Range(0, SlotRange.SlotCount).Where(s => !simulator.IsOwned(s)).ToList();
        if (scenario.AllMembersUp)
        {
            Assert.True(unowned.Count == 0, $"slots {SlotRange.Describe(SlotRange.Compact(unowned))} are unowned at the end\n{Context()}");
        }
        else
        {
            // A shard whose slot-serving master is down waits for it rather than growing a second master: the slots are reported.
            var reported = last.Problems.Where(p => p.EndsWith(" have no master", StringComparison.Ordinal)).ToList();
            var reportedSlots = reported
                .SelectMany(p => System.Text.RegularExpressions.Regex.Matches(p, @"(\d+)(?:-(\d+))?"))
                .SelectMany(m => Enumerable.Range(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture),
                    (m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)) - int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1))
                .ToHashSet();
            var silent = unowned.Where(s => !reportedSlots.Contains(s)).ToList();
            Assert.True(silent.Count == 0, $"unowned slots {SlotRange.Describe(SlotRange.Compact(silent))} are not reported\n{Context()}");
        }

        if (scenario.AllMembersUp)
        {
            // Every member runs: each shard ends with a master of its own and every other member of the shard replicating it,
            // unless a node the plan must not touch (a non-member serving slots, a second master with slots) is in the way.
            var final = TopologyPlanner.Plan(simulator.Observe(), simulator.Desired, simulator.Options());
            if (!final.Problems.Any(p => p.Contains("not a member but serves", StringComparison.Ordinal) || p.Contains("more than one master", StringComparison.Ordinal)))
            {
                foreach (var shard in final.Shards)
                {
                    var members = simulator.Desired.Members.Where(m => m.Shard == shard.Index).Select(m => m.Name).ToList();
                    Assert.True(shard.Master is not null && members.Contains(shard.Master), $"shard {shard.Index} has master {shard.Master}\n{Context()}");
                    Assert.True(members.Count - 1 == shard.Replicas.Count, $"shard {shard.Index} has replicas {string.Join(", ", shard.Replicas.Select(r => r.Name))} of members {string.Join(", ", members)}\n{Context()}");
                }
            }
        }
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Scenarios)])]
    public void One_round_never_assigns_an_owned_slot_nor_drops_a_slot_holder(Scenario scenario)
    {
        var simulator = Build(scenario);
        simulator.Settle();
        var observed = simulator.Observe();
        var plan = TopologyPlanner.Plan(observed, simulator.Desired, simulator.Options());
        var claimed = observed.Members.Where(v => v.Reachable).SelectMany(v => v.Nodes).Where(e => e.IsMaster).SelectMany(e => e.AllSlots()).ToHashSet();
        var holders = observed.Members.Where(v => v.Reachable).SelectMany(v => v.Nodes).Where(e => e.IsMaster && e.SlotCount > 0).Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var action in plan.Actions)
        {
            var c = action.Command;
            if (action.Kind == "add_slots")
            {
                for (int i = 2; i + 1 < c.Count; i += 2)
                {
                    int start = int.Parse(c[i], CultureInfo.InvariantCulture), end = int.Parse(c[i + 1], CultureInfo.InvariantCulture);
                    Assert.DoesNotContain(Enumerable.Range(start, end - start + 1), claimed.Contains);
                }
            }
            if (action.Kind is "replicate" or "reset")
            {
                var target = observed.Members.Single(v => v.Member.Name == action.Target);
                Assert.False(holders.Contains(target.MyId!), $"{action.Detail} on {action.Target}, a slot holder ({scenario})");
            }
            if (action.Kind == "forget" && holders.Contains(c[2]))
            {
                // Only a failed non-member with no live replica, when every member answered, may go with its slots.
                Assert.True(observed.Members.All(v => v.Reachable), $"{action.Detail} while a member is unreachable ({scenario})");
                Assert.Contains(observed.Members.SelectMany(v => v.Nodes), e => e.Id == c[2] && e.IsFailed);
                Assert.DoesNotContain(observed.Members.Where(v => v.Reachable), v => v.MyId == c[2]);
            }
            if (plan.Actions.Any(a => a.Kind == "meet"))
            {
                Assert.Equal("meet", action.Kind);
            }
        }
    }

    [Fact]
    public void A_brand_new_cluster_gets_the_redis_cli_split()
    {
        Assert.Equal([new SlotRange(0, 5460), new SlotRange(5461, 10922), new SlotRange(10923, 16383)], Enumerable.Range(0, 3).Select(i => SlotRange.ForShard(i, 3)));
        Assert.Equal(new SlotRange(0, 16383), SlotRange.ForShard(0, 1));
        Assert.Equal(16384, Enumerable.Range(0, 7).Sum(i => SlotRange.ForShard(i, 7).Count));
    }

    [Fact]
    public void Parses_every_field_of_a_cluster_nodes_line()
    {
        var entry = ClusterNodeEntry.Parse(
            "07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,cache-0 slave,fail? e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 1700000000000 1700000000100 3 connected");
        Assert.Equal("127.0.0.1", entry.Ip);
        Assert.Equal(30004, entry.Port);
        Assert.Equal(31004, entry.BusPort);
        Assert.Equal("cache-0", entry.Hostname);
        Assert.True(entry.IsReplica && entry.IsPossiblyFailed && !entry.IsFailed);
        Assert.Equal("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", entry.MasterId);
        Assert.Equal(1700000000100, entry.PongReceived);
        Assert.Equal(3, entry.ConfigEpoch);

        var master = ClusterNodeEntry.Parse("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca :7000@17000 myself,master - 0 0 1 connected 0-5460 5462 [5463->-07c37dfeb235213a872192d90877d0cd55635b91] [93-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]");
        Assert.Equal("", master.Ip);
        Assert.Equal([new SlotRange(0, 5460), new SlotRange(5462, 5462)], master.Slots);
        Assert.Equal(5462, master.SlotCount);
        Assert.Equal([new SlotMigration(5463, false, "07c37dfeb235213a872192d90877d0cd55635b91"), new SlotMigration(93, true, "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f")], master.Migrations);
        Assert.Null(master.MasterId);

        Assert.Throws<FormatException>(() => ClusterNodeEntry.Parse("abc 127.0.0.1 master"));
        Assert.Throws<FormatException>(() => ClusterNodeEntry.Parse("abc 127.0.0.1:x@1 master - 0 0 1 connected"));
        Assert.Throws<FormatException>(() => ClusterNodeEntry.Parse("abc 127.0.0.1:1@1 master - 0 0 1 connected 16384"));
    }

    /// <summary>A random state: members of each shard (some down), ghosts (some alive), random roles, knowledge and slot chunks.</summary>
    private static ClusterSimulator Build(Scenario scenario)
    {
        var random = new Random(scenario.Seed);
        int shards = random.Next(1, 4);
        int replicas = random.Next(0, 3);
        var members = new List<MemberEndpoint>();
        var nodes = new List<SimNode>();
        int port = 7000;
        int id = 1;
        SimNode NewNode(string? member) => new() { Id = (id++).ToString("x40", CultureInfo.InvariantCulture), Port = port++, Member = member, Epoch = random.Next(0, 4) };
        for (int shard = 0; shard < shards; shard++)
        {
            int count = Math.Max(1, replicas + 1 + random.Next(-1, 2));
            for (int i = 0; i < count; i++)
            {
                var node = NewNode($"cache-shard-{shard}-{i}");
                members.Add(new MemberEndpoint(node.Member!, shard, ClusterSimulator.Ip, node.Port));
                // One member of each shard always runs, so every shard can get a master.
                node.Alive = scenario.AllMembersUp || i == 0 || random.NextDouble() < 0.75;
                nodes.Add(node);
            }
        }
        for (int ghosts = random.Next(0, 3); ghosts > 0; ghosts--)
        {
            var ghost = NewNode(null);
            ghost.Alive = random.NextDouble() < 0.3;
            nodes.Add(ghost);
        }

        // Roles: about half are replicas of a random other node (which may itself be a replica or dead: orphans).
        foreach (var node in nodes.Where(_ => random.NextDouble() < 0.4))
        {
            var master = nodes[random.Next(nodes.Count)];
            if (master != node)
            {
                node.IsMaster = false;
                node.MasterId = master.Id;
            }
        }
        foreach (var node in nodes.Where(n => !n.IsMaster && !nodes.Single(m => m.Id == n.MasterId).IsMaster))
        {
            node.MasterId = nodes.FirstOrDefault(m => m.IsMaster && m != node)?.Id;
        }
        foreach (var node in nodes.Where(n => !n.IsMaster && n.MasterId is null))
        {
            node.IsMaster = true;
        }

        // Slots: none (a brand-new cluster), or chunks each owned by a random master or nobody; sometimes two claim one.
        var masters = nodes.Where(n => n.IsMaster).ToList();
        if (random.NextDouble() < 0.75)
        {
            int start = 0;
            while (start < SlotRange.SlotCount)
            {
                int end = Math.Min(SlotRange.SlotCount - 1, start + random.Next(500, 8000));
                if (random.NextDouble() < 0.7)
                {
                    masters[random.Next(masters.Count)].Slots.UnionWith(Enumerable.Range(start, end - start + 1));
                }
                start = end + 1;
            }
            if (random.NextDouble() < 0.2 && masters.Count > 1)
            {
                masters[random.Next(masters.Count)].Slots.UnionWith(Enumerable.Range(random.Next(0, 16000), 50));
            }
        }

        // Knowledge: each live node knows a random part of the others (possibly none: a fresh node).
        foreach (var node in nodes.Where(n => n.Alive))
        {
            node.Knows.Add(node.Id);
            if (random.NextDouble() < 0.7)
            {
                foreach (var other in nodes.Where(o => o != node && random.NextDouble() < 0.6))
                {
                    node.Knows.Add(other.Id);
                }
            }
            if (node.MasterId is not null)
            {
                node.Knows.Add(node.MasterId);
            }
        }
        return new ClusterSimulator(new DesiredTopology(shards, replicas, members), nodes);
    }
}
