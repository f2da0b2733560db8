using System.Globalization;
using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>One node of the simulated cluster: the truth the simulated views are drawn from.</summary>
internal sealed class SimNode
{
    public required string Id { get; init; }

    public required int Port { get; init; }

    /// <summary>The member it runs as; null for a node that is no member (a ghost).</summary>
    public string? Member { get; init; }

    public bool Alive { get; set; } = true;

    public bool IsMaster { get; set; } = true;

    public string? MasterId { get; set; }

    public long Epoch { get; set; }

    public HashSet<int> Slots { get; } = [];

    public HashSet<string> Knows { get; } = [];

    public HashSet<string> Banned { get; } = [];
}

/// <summary>
/// A small model of a Redis Cluster: builds what each member would answer, applies the planner's commands as Redis
/// would, runs gossip to a fixed point between rounds, and records every command that breaks a safety rule.
/// </summary>
internal sealed class ClusterSimulator
{
    public const string Ip = "10.0.0.1";

    public ClusterSimulator(DesiredTopology desired, IEnumerable<SimNode> nodes)
    {
        Desired = desired;
        Nodes = nodes.ToList();
    }

    public DesiredTopology Desired { get; }

    public List<SimNode> Nodes { get; }

    public List<string> Violations { get; } = [];

    public SimNode? Node(string id) => Nodes.FirstOrDefault(n => n.Id == id);

    public SimNode? MemberNode(string name) => Nodes.FirstOrDefault(n => n.Member == name && n.Alive);

    /// <summary>A slot served by a node in the cluster: a running member or a node a running member knows (a node no member knows is another cluster).</summary>
    public bool IsOwned(int slot) => Nodes.Any(n => n.IsMaster && n.Slots.Contains(slot) && InCluster(n));

    public bool InCluster(SimNode node) =>
        (node.Alive && node.Member is not null) || Nodes.Any(m => m.Alive && m.Member is not null && m.Knows.Contains(node.Id));

    public bool KnownByLiveNode(string id) => Nodes.Any(n => n.Alive && n.Id != id && n.Knows.Contains(id));

    /// <summary>What every member would answer now.</summary>
    public ObservedTopology Observe() => new(Desired.Members.Select(ViewOf).ToList());

    /// <summary>Failure history that makes every failed node overdue for failover.</summary>
    public PlannerOptions Options() => new(
        Nodes.Where(n => !n.Alive).ToDictionary(n => n.Id, _ => TimeSpan.FromHours(1)),
        TimeSpan.FromSeconds(10));

    /// <summary>Applies one command as the target node would, recording broken safety rules.</summary>
    public void Apply(TopologyAction action)
    {
        var target = MemberNode(action.Target);
        if (target is null)
        {
            Violations.Add($"{action.Detail} sent to {action.Target}, which is not running");
            return;
        }
        var c = action.Command;
        switch (c[1].ToUpperInvariant())
        {
            case "MEET":
                var port = int.Parse(c[3], CultureInfo.InvariantCulture);
                if (Nodes.FirstOrDefault(n => n.Alive && n.Port == port) is { } met)
                {
                    target.Knows.Add(met.Id);
                    met.Knows.Add(target.Id);
                    target.Banned.Remove(met.Id);
                    met.Banned.Remove(target.Id);
                }
                break;
            case "ADDSLOTSRANGE":
                if (!target.IsMaster)
                {
                    Violations.Add($"{action.Detail} on replica {action.Target}");
                }
                for (int i = 2; i + 1 < c.Count; i += 2)
                {
                    for (int slot = int.Parse(c[i], CultureInfo.InvariantCulture); slot <= int.Parse(c[i + 1], CultureInfo.InvariantCulture); slot++)
                    {
                        if (IsOwned(slot))
                        {
                            Violations.Add($"{action.Detail} on {action.Target} assigned owned slot {slot}");
                            return;
                        }
                        target.Slots.Add(slot);
                    }
                }
                break;
            case "REPLICATE":
                if (target.Slots.Count > 0)
                {
                    Violations.Add($"{action.Detail} on {action.Target} turned a master serving {target.Slots.Count} slots into a replica");
                }
                target.IsMaster = false;
                target.MasterId = c[2];
                target.Slots.Clear();
                break;
            case "FORGET":
                var forgotten = Node(c[2]);
                if (forgotten is not null && forgotten.Slots.Count > 0 && (forgotten.Alive || forgotten.Member is not null || Nodes.Any(n => n.Alive && n.MasterId == forgotten.Id)))
                {
                    Violations.Add($"{action.Detail} on {action.Target} forgot {c[2]}, which may hold the only copy of {forgotten.Slots.Count} slots");
                }
                if (forgotten?.Id == target.MasterId)
                {
                    Violations.Add($"{action.Detail} on {action.Target} forgot its own master");
                }
                target.Knows.Remove(c[2]);
                target.Banned.Add(c[2]);
                break;
            case "FAILOVER":
                if (target.IsMaster || Node(target.MasterId!) is not { } old)
                {
                    Violations.Add($"{action.Detail} on {action.Target}, which is no replica");
                    break;
                }
                Promote(target, old);
                break;
            case "RESET":
                if (target.Slots.Count > 0)
                {
                    Violations.Add($"{action.Detail} on {action.Target}, which serves slots");
                }
                target.IsMaster = true;
                target.MasterId = null;
                target.Knows.Clear();
                break;
            default:
                Violations.Add($"unknown command {action.Detail}");
                break;
        }
    }

    /// <summary>What Redis does between rounds: gossip spreads knowledge, unknown dead nodes vanish, the higher epoch wins a slot, non-member replicas fail over by themselves.</summary>
    public void Settle()
    {
        foreach (var node in Nodes.Where(n => n.Alive))
        {
            node.Knows.Add(node.Id);
        }
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var a in Nodes.Where(n => n.Alive))
            {
                foreach (var b in Nodes.Where(n => n.Alive && n != a && (a.Knows.Contains(n.Id) || n.Knows.Contains(a.Id))))
                {
                    foreach (var id in b.Knows.Where(id => !a.Knows.Contains(id) && !a.Banned.Contains(id)).ToList())
                    {
                        a.Knows.Add(id);
                        changed = true;
                    }
                }
            }
        }
        Nodes.RemoveAll(n => !n.Alive && !KnownByLiveNode(n.Id));
        foreach (var master in Nodes.Where(n => !n.Alive && n.IsMaster && n.Slots.Count > 0).ToList())
        {
            if (Nodes.FirstOrDefault(n => n.Alive && n.Member is null && n.MasterId == master.Id) is { } replica)
            {
                Promote(replica, master);
            }
        }
        foreach (var a in Nodes.Where(n => n.IsMaster && InCluster(n)))
        {
            foreach (var b in Nodes.Where(n => n != a && n.IsMaster && InCluster(n) && n.Slots.Overlaps(a.Slots)))
            {
                var loser = a.Epoch < b.Epoch || (a.Epoch == b.Epoch && string.CompareOrdinal(a.Id, b.Id) < 0) ? a : b;
                var winner = loser == a ? b : a;
                loser.Slots.ExceptWith(winner.Slots);
            }
        }
    }

    private void Promote(SimNode replica, SimNode old)
    {
        replica.IsMaster = true;
        replica.MasterId = null;
        replica.Slots.UnionWith(old.Slots);
        replica.Epoch = Nodes.Max(n => n.Epoch) + 1;
        old.Slots.Clear();
        if (old.Alive)
        {
            old.IsMaster = false;
            old.MasterId = replica.Id;
        }
        foreach (var sibling in Nodes.Where(n => n.MasterId == old.Id && n != replica))
        {
            sibling.MasterId = replica.Id;
        }
    }

    private MemberView ViewOf(MemberEndpoint member)
    {
        var self = MemberNode(member.Name);
        if (self is null)
        {
            return MemberView.Unreachable(member, "connection refused");
        }
        var entries = new List<ClusterNodeEntry> { Entry(self, self) };
        entries.AddRange(self.Knows.Where(id => id != self.Id).Select(Node).OfType<SimNode>().Select(n => Entry(self, n)));
        bool covered = Enumerable.Range(0, SlotRange.SlotCount).All(slot =>
            entries.Any(e => e.IsMaster && !e.IsFailed && e.Slots.Any(r => slot >= r.Start && slot <= r.End)));
        var master = self.MasterId is null ? null : Node(self.MasterId);
        var replication = new ReplicationInfo(self.IsMaster ? "master" : "slave", self.IsMaster ? null : master is { Alive: true } ? "up" : "down", 100, self.IsMaster ? 0 : 100);
        return new MemberView(member, true, null, self.Id, entries, covered ? "ok" : "fail", replication);
    }

    private static ClusterNodeEntry Entry(SimNode viewer, SimNode node)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal) { node.IsMaster ? "master" : "slave" };
        if (node == viewer)
        {
            flags.Add("myself");
        }
        if (!node.Alive)
        {
            flags.Add("fail");
        }
        return new ClusterNodeEntry(node.Id, Ip, node.Port, node.Port + 10000, null, flags, node.IsMaster ? null : node.MasterId, 0, 0, node.Epoch,
            node.Alive ? "connected" : "disconnected", node.IsMaster ? SlotRange.Compact(node.Slots) : [], []);
    }
}
