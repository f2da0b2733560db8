using System.Diagnostics;
using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// Failover elections on real processes: three masters from <c>redis-cli --cluster create</c> and a replica of the
/// first, of either kind. The all-redis rows are the reference; in the mixed rows redis-server masters vote for our
/// replica and our masters vote for a redis-server replica. The replicas hold no data here (the topology and the
/// election are the subject); the replica validity factor is 0 so a replica that never synced may still be elected.
/// </summary>
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IDisposable
{
    private readonly ClusterMembers _members = new();

    /// <summary>The masters' kinds and the replica's kind.</summary>
    public static TheoryData<string, string> Automatic => new()
    {
        { "Redis,Redis,Redis", "Redis" },
        { "Redis,Redis,Redis", "Node" },
        { "Node,Node,Node", "Redis" },
        { "Node,Node,Node", "Node" },
    };

    /// <summary>The masters' kinds, the replica's kind and CLUSTER FAILOVER's option.</summary>
    public static TheoryData<string, string, string> Manual => new()
    {
        { "Redis,Redis,Redis", "Redis", "" },
        { "Node,Node,Node", "Node", "" },
        { "Node,Node,Node", "Redis", "" },
        { "Redis,Redis,Redis", "Node", "" },
        { "Redis,Redis,Redis", "Node", "FORCE" },
        { "Node,Node,Node", "Node", "TAKEOVER" },
    };

    [Theory]
    [MemberData(nameof(Automatic))]
    public void A_replica_takes_over_the_slots_of_its_killed_master(string masters, string replicaKind)
    {
        var (members, replica) = Form(masters, replicaKind);
        var master = members[0];
        string masterId = master.Id(), replicaId = replica.Id();
        int slots = master.Nodes().Single(n => n.Id == masterId).SlotCount;
        var survivors = members.Skip(1).Append(replica).ToList();

        var clock = Stopwatch.StartNew();
        master.Kill();
        ClusterWait.Until(
            () => survivors.All(m => m.Info("cluster_state") == "ok" && IsMasterOf(m, replicaId, slots)),
            "every survivor sees the replica as the master of the killed master's slots, cluster ok",
            describe: () => string.Join("\n---\n", survivors.Select(m => $"{m.Kind} {m.Port}:\n" + ClusterWait.Describe(m))));
        output.WriteLine($"masters {masters}, replica {replicaKind}: cluster_state:ok with the replica promoted {clock.ElapsedMilliseconds} ms after kill -9 (cluster-node-timeout 2000 ms)");

        // The old master returns with its nodes.conf and becomes a replica of the node that took its slots.
        master.Restart();
        ClusterWait.Until(
            () => master.Nodes().Single(n => n.Id == masterId) is { } me && me.Flags.Contains("slave") && me.Master == replicaId && me.SlotCount == 0,
            "the old master rejoins as a replica of the promoted one",
            describe: () => ClusterWait.Describe(master));
    }

    [Theory]
    [MemberData(nameof(Manual))]
    public void Cluster_failover_swaps_the_replica_and_its_live_master(string masters, string replicaKind, string option)
    {
        var (members, replica) = Form(masters, replicaKind);
        var master = members[0];
        string masterId = master.Id(), replicaId = replica.Id();
        int slots = master.Nodes().Single(n => n.Id == masterId).SlotCount;
        long epochBefore = members[1].Nodes().Single(n => n.Id == masterId).ConfigEpoch;

        string[] command = option.Length == 0 ? ["CLUSTER", "FAILOVER"] : ["CLUSTER", "FAILOVER", option];
        Assert.Equal("OK", replica.Call(command).Text);
        var all = members.Append(replica).ToList();
        ClusterWait.Until(
            () => all.All(m => IsMasterOf(m, replicaId, slots) && m.Nodes().Single(n => n.Id == masterId) is { } old && old.Flags.Contains("slave") && old.Master == replicaId),
            "every member sees the replica as master of the slots and the old master as its replica",
            describe: () => string.Join("\n---\n", all.Select(m => $"{m.Kind} {m.Port}:\n" + ClusterWait.Describe(m))));
        Assert.True(members[1].Nodes().Single(n => n.Id == replicaId).ConfigEpoch > epochBefore, "the new master's config epoch is newer than the old one's");
        ClusterWait.UntilConverged(all);

        // A master refuses the command; an unknown option is a syntax error.
        Assert.Equal("ERR You should send CLUSTER FAILOVER to a replica", replica.Call("CLUSTER", "FAILOVER").Text);
        Assert.Equal("ERR syntax error", master.Call("CLUSTER", "FAILOVER", "SOON").Text);
    }

    /// <inheritdoc/>
    public void Dispose() => _members.Dispose();

    private static bool IsMasterOf(ClusterMember viewer, string id, int slots) =>
        viewer.Nodes().Single(n => n.Id == id) is { } line && line.Flags.Contains("master") && line.SlotCount == slots;

    /// <summary>Three masters made by redis-cli, then a replica of the first that joined by MEET and CLUSTER REPLICATE.</summary>
    private (List<ClusterMember> Masters, ClusterMember Replica) Form(string masters, string replicaKind)
    {
        string[] validity = ["--cluster-replica-validity-factor", "0"];
        var members = masters.Split(',').Select(k => _members.Add(Enum.Parse<MemberKind>(k), 2000, validity)).ToList();
        var created = RedisCli.Cluster("create", [.. members.Select(m => m.Address), "--cluster-yes"]);
        Assert.Contains("[OK] All 16384 slots covered.", created, StringComparison.Ordinal);
        ClusterWait.UntilConverged(members);

        var replica = _members.Add(Enum.Parse<MemberKind>(replicaKind), 2000, validity);
        Assert.Equal("OK", replica.Call("CLUSTER", "MEET", "127.0.0.1", Text(members[0].Port), Text(members[0].BusPort)).Text);
        var all = members.Append(replica).ToList();
        ClusterWait.UntilConverged(all);
        string masterId = members[0].Id(), replicaId = replica.Id();
        Assert.Equal("OK", replica.Call("CLUSTER", "REPLICATE", masterId).Text);
        ClusterWait.Until(
            () => all.All(m => m.Nodes().Single(n => n.Id == replicaId) is { } line && line.Flags.Contains("slave") && line.Master == masterId),
            "every member sees the replica of the first master",
            describe: () => string.Join("\n---\n", all.Select(m => $"{m.Kind} {m.Port}:\n" + ClusterWait.Describe(m))));
        return (members, replica);
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
