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

    /// <summary>The master's kind and its replica's kind for the tests with data.</summary>
    public static TheoryData<string, string> WithData => new()
    {
        { "Redis", "Redis" },
        { "Node", "Node" },
        { "Redis", "Node" },
        { "Node", "Redis" },
    };

    [Theory]
    [MemberData(nameof(WithData))]
    public void Every_write_acknowledged_by_wait_survives_kill_9_of_the_master(string masterKind, string replicaKind)
    {
        var (members, replica) = Form($"{masterKind},{masterKind},{masterKind}", replicaKind);
        var master = members[0];
        string replicaId = replica.Id();
        int slots = master.Nodes().Single(n => n.Id == master.Id()).SlotCount;
        WaitForSync(master, replica);

        var acknowledged = new Dictionary<string, string>();
        using (var client = master.Client())
        {
            // Keys of the first master's slots; a write counts once WAIT 1 says the replica has it.
            var keys = KeysOf(client, 0, 5460, 200);
            for (int i = 0; i < 2000; i++)
            {
                string key = keys[i % keys.Count], value = $"v{i}";
                Assert.Equal("OK", client.Call("SET", key, value).Text);
                if (client.Call("WAIT", "1", "5000").Integer >= 1)
                {
                    acknowledged[key] = value;
                }
            }
        }
        Assert.NotEmpty(acknowledged);

        master.Kill();
        ClusterWait.Until(
            () => IsMasterOf(replica, replicaId, slots) && replica.Info("cluster_state") == "ok",
            "the replica takes over", describe: () => ClusterWait.Describe(replica));
        using var promoted = replica.Client();
        AssertNoAcknowledgedWriteLost(promoted, acknowledged);
    }

    [Theory]
    [MemberData(nameof(WithData))]
    public async Task Coordinated_cluster_failover_under_writes_loses_no_acknowledged_write(string masterKind, string replicaKind)
    {
        var (members, replica) = Form($"{masterKind},{masterKind},{masterKind}", replicaKind);
        var master = members[0];
        string masterId = master.Id(), replicaId = replica.Id();
        int slots = master.Nodes().Single(n => n.Id == masterId).SlotCount;
        WaitForSync(master, replica);

        List<string> keys;
        using (var probe = master.Client())
        {
            keys = KeysOf(probe, 0, 5460, 100);
        }
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        long acknowledgedWrites = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            // Writes go to the old master until it answers MOVED (it became a replica), then to the new one. redis-server
            // closes a client blocked in WAIT when it turns into a replica: such a write is not counted, the writer reconnects.
            var target = master;
            var client = target.Client();
            try
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string key = keys[i % keys.Count], value = $"w{i}";
                    try
                    {
                        var reply = client.Call("SET", key, value);
                        if (reply.IsError)
                        {
                            if (reply.Text!.StartsWith("MOVED", StringComparison.Ordinal) && target == master)
                            {
                                client.Dispose();
                                target = replica;
                                client = target.Client();
                            }
                            continue;
                        }
                        if (client.Call("WAIT", "1", "2000").Integer >= 1)
                        {
                            acknowledged[key] = value;
                            Interlocked.Increment(ref acknowledgedWrites);
                        }
                    }
                    catch (IOException)
                    {
                        client.Dispose();
                        client = target.Client();
                    }
                }
            }
            finally
            {
                client.Dispose();
            }
        });

        ClusterWait.Until(() => Interlocked.Read(ref acknowledgedWrites) >= 20, "the writer has acknowledged writes");
        Assert.Equal("OK", replica.Call("CLUSTER", "FAILOVER").Text);
        ClusterWait.Until(
            () => IsMasterOf(replica, replicaId, slots) && master.Nodes().Single(n => n.Id == masterId) is { } old && old.Master == replicaId,
            "the replica and the master swap roles",
            describe: () => ClusterWait.Describe(replica) + "\n---\n" + ClusterWait.Describe(master));
        long before = Interlocked.Read(ref acknowledgedWrites);
        ClusterWait.Until(() => Interlocked.Read(ref acknowledgedWrites) > before + 20 || writer.IsCompleted, "the writer is acknowledged by the new master's replica (the old master)");
        stop.Cancel();
        await writer;

        using var promoted = replica.Client();
        AssertNoAcknowledgedWriteLost(promoted, acknowledged);
    }

    [Theory]
    [InlineData("Redis,Redis,Redis", "Redis")]
    [InlineData("Node,Node,Node", "Node")]
    [InlineData("Redis,Redis,Redis", "Node")]
    public void A_spare_replica_migrates_to_a_master_left_without_replicas(string masters, string replicaKind)
    {
        // The first master has two replicas, the others one each; the second's replica dies, so it is orphaned and one of
        // the first master's replicas (the one with the smaller id) moves to it after Redis's 5 s delay (migration
        // barrier 1). The spares join last: a node that learns a master's slots while some master has replicas counts it
        // as a migration target (Redis's clusterNodeSetSlotBit), so a master without a replica then would draw a spare.
        var members = CreateMasters(masters);
        var all = new List<ClusterMember>(members);
        var lone = AddReplica(all, members[1], replicaKind);
        all.Add(lone);
        all.Add(AddReplica(all, members[2], replicaKind));
        var spare1 = AddReplica(all, members[0], replicaKind);
        all.Add(spare1);
        var spare2 = AddReplica(all, members[0], replicaKind);
        all.Add(spare2);
        string orphanId = members[1].Id();
        string moverId = string.CompareOrdinal(spare1.Id(), spare2.Id()) < 0 ? spare1.Id() : spare2.Id();

        lone.Kill();
        var alive = all.Where(m => m != lone).ToList();
        ClusterWait.Until(
            () => alive.All(m => m.Nodes().Single(n => n.Id == moverId) is { } line && line.Master == orphanId),
            "every member sees the spare replica with the smaller id serve the orphaned master",
            seconds: 90,
            describe: () => string.Join("\n---\n", alive.Select(m => $"{m.Kind} {m.Port}:\n" + ClusterWait.Describe(m))));
        string stayerId = moverId == spare1.Id() ? spare2.Id() : spare1.Id();
        Assert.Equal(members[0].Id(), members[2].Nodes().Single(n => n.Id == stayerId).Master);
    }

    /// <inheritdoc/>
    public void Dispose() => _members.Dispose();

    private static bool IsMasterOf(ClusterMember viewer, string id, int slots) =>
        viewer.Nodes().Single(n => n.Id == id) is { } line && line.Flags.Contains("master") && line.SlotCount == slots;

    /// <summary>Three masters made by redis-cli, then a replica of the first that joined by MEET and CLUSTER REPLICATE.</summary>
    private (List<ClusterMember> Masters, ClusterMember Replica) Form(string masters, string replicaKind)
    {
        var members = CreateMasters(masters);
        return (members, AddReplica(members, members[0], replicaKind));
    }

    private static readonly string[] Validity = ["--cluster-replica-validity-factor", "0"];

    private List<ClusterMember> CreateMasters(string kinds)
    {
        var members = kinds.Split(',').Select(k => _members.Add(Enum.Parse<MemberKind>(k), 2000, Validity)).ToList();
        var created = RedisCli.Cluster("create", [.. members.Select(m => m.Address), "--cluster-yes"]);
        Assert.Contains("[OK] All 16384 slots covered.", created, StringComparison.Ordinal);
        ClusterWait.UntilConverged(members);
        return members;
    }

    /// <summary>A new member of <paramref name="kind"/> joins by MEET and becomes a replica of <paramref name="master"/>, once all of <paramref name="all"/> know it.</summary>
    private ClusterMember AddReplica(List<ClusterMember> all, ClusterMember master, string kind)
    {
        var replica = _members.Add(Enum.Parse<MemberKind>(kind), 2000, Validity);
        Assert.Equal("OK", replica.Call("CLUSTER", "MEET", "127.0.0.1", Text(master.Port), Text(master.BusPort)).Text);
        var everyone = all.Append(replica).ToList();
        ClusterWait.UntilConverged(everyone);
        string masterId = master.Id(), replicaId = replica.Id();
        Assert.Equal("OK", replica.Call("CLUSTER", "REPLICATE", masterId).Text);
        ClusterWait.Until(
            () => everyone.All(m => m.Nodes().Single(n => n.Id == replicaId) is { } line && line.Flags.Contains("slave") && line.Master == masterId),
            "every member sees the new replica of its master",
            describe: () => string.Join("\n---\n", everyone.Select(m => $"{m.Kind} {m.Port}:\n" + ClusterWait.Describe(m))));
        return replica;
    }

    /// <summary>
    /// Each key holds its last acknowledged value or a later write of it (values are "v" or "w" and the write's number: a
    /// write whose WAIT timed out may still have reached the replica).
    /// </summary>
    private static void AssertNoAcknowledgedWriteLost(RespClient client, IEnumerable<KeyValuePair<string, string>> acknowledged)
    {
        foreach (var (key, value) in acknowledged)
        {
            string? actual = client.Call("GET", key).Text;
            Assert.True(actual is not null && int.Parse(actual[1..], CultureInfo.InvariantCulture) >= int.Parse(value[1..], CultureInfo.InvariantCulture), $"{key}: acknowledged {value}, found {actual ?? "nothing"}");
        }
    }

    /// <summary>Waits until the replica's link to its master is up and it has the master's offset.</summary>
    private static void WaitForSync(ClusterMember master, ClusterMember replica) => ClusterWait.Until(
        () => Replication(replica, "master_link_status") == "up" && Replication(replica, "slave_repl_offset") == Replication(master, "master_repl_offset"),
        "the replica is in sync with its master",
        describe: () => replica.Call("INFO", "replication").Text!);

    private static string? Replication(ClusterMember member, string field) => member.Call("INFO", "replication").Text!
        .Split("\r\n").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..];

    /// <summary><paramref name="count"/> keys whose slots lie in [<paramref name="first"/>, <paramref name="last"/>].</summary>
    private static List<string> KeysOf(RespClient client, int first, int last, int count)
    {
        var keys = new List<string>();
        for (int i = 0; keys.Count < count; i++)
        {
            string key = $"key:{i}";
            long slot = client.Call("CLUSTER", "KEYSLOT", key).Integer;
            if (slot >= first && slot <= last)
            {
                keys.Add(key);
            }
        }
        return keys;
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
