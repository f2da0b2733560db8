using CacheOperator.Node.Cluster;
using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// The bus runtime of an in-process node with real redis-server 7.0.15 nodes: handshakes, gossip, slot
/// claims, failure detection. The node's view is read from its state under the keyspace lock.
/// </summary>
public sealed class ClusterBusRuntimeTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-bus-").FullName;
    private readonly ClusterMembers _redis = new();
    private readonly List<TestNode> _nodes = [];

    private TestNode StartNode(int nodeTimeout = 2000)
    {
        int busPort = NodeProcess.FreePort();
        var node = TestNode.Start(
            "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_directory, $"nodes-{Guid.NewGuid():N}.conf"),
            "--cluster-port", busPort.ToString(), "--cluster-node-timeout", nodeTimeout.ToString());
        _nodes.Add(node);
        return node;
    }

    private ClusterMember StartRedis() => _redis.Add(MemberKind.Redis);

    private static T View<T>(TestNode node, Func<ClusterState, T> read)
    {
        lock (node.Server.Keyspace.Sync)
        {
            return read(node.Server.Cluster!);
        }
    }

    private static void Meet(TestNode node, int port, int busPort)
    {
        lock (node.Server.Keyspace.Sync)
        {
            Assert.NotNull(node.Server.Cluster!.StartHandshake("127.0.0.1", port, busPort, out _));
        }
    }

    private static int BusPort(TestNode node) => node.Server.Bus!.Port;

    private static string MyId(TestNode node) => View(node, s => s.Myself.Id);

    private static bool Knows(TestNode node, string id, bool connected = true) =>
        View(node, s => s.Find(id) is { InHandshake: false } n && (!connected || n.LinkConnected) && !n.IsFailed && !n.IsTimedOut);

    private static bool RedisKnows(ClusterMember redis, string id) => redis.NodeLine(id) is { } line && line.Contains(" connected", StringComparison.Ordinal) && !line.Contains("fail", StringComparison.Ordinal) && !line.Contains("handshake", StringComparison.Ordinal);

    [Fact]
    public void Node_and_two_redis_nodes_converge_by_meet()
    {
        var node = StartNode();
        var a = StartRedis();
        var b = StartRedis();
        string nodeId = MyId(node), aId = a.Id(), bId = b.Id();

        Meet(node, a.Port, a.BusPort);
        a.Call("CLUSTER", "MEET", "127.0.0.1", b.Port.ToString(), b.BusPort.ToString());

        Wait.Until(() => Knows(node, aId) && Knows(node, bId), "our node knows both redis nodes");
        Wait.Until(() => RedisKnows(a, nodeId) && RedisKnows(a, bId), "a knows us and b");
        Wait.Until(() => RedisKnows(b, nodeId) && RedisKnows(b, aId), "b knows us (from gossip) and a");
        var line = a.NodeLine(nodeId)!;
        Assert.StartsWith($"{nodeId} 127.0.0.1:{node.Port}@{BusPort(node)} master - ", line);
        Assert.Equal(0, node.Server.Bus!.RejectedTotal);
        Assert.True(View(node, s => s.MessagesReceived[0] > 0 && s.MessagesReceived[1] > 0 && s.MessagesSent[0] > 0 && s.MessagesSent[1] > 0));
    }

    private static void AddSlots(TestNode node, int first, int last)
    {
        lock (node.Server.Keyspace.Sync)
        {
            var state = node.Server.Cluster!;
            for (int slot = first; slot <= last; slot++)
            {
                Assert.True(state.AddSlot(state.Myself, slot));
            }
            state.DoPending();
        }
    }

    private static bool RedisOk(ClusterMember redis) => redis.Call("CLUSTER", "INFO").Text!.Contains("cluster_state:ok\r\n", StringComparison.Ordinal);

    private static string? OwnerInOurView(TestNode node, int slot) => View(node, s => s.OwnerOf(slot)?.Id);

    /// <summary>Our node and two redis nodes met, slots split three ways, cluster ok everywhere.</summary>
    private (TestNode Node, ClusterMember A, ClusterMember B) FormMixedCluster()
    {
        var node = StartNode();
        var a = StartRedis();
        var b = StartRedis();
        string nodeId = MyId(node), aId = a.Id(), bId = b.Id();
        Meet(node, a.Port, a.BusPort);
        a.Call("CLUSTER", "MEET", "127.0.0.1", b.Port.ToString(), b.BusPort.ToString());
        WaitLong(() => Knows(node, aId) && Knows(node, bId) && RedisKnows(a, nodeId) && RedisKnows(b, nodeId) && RedisKnows(a, bId) && RedisKnows(b, aId), "all three know each other");

        AddSlots(node, 0, 5460);
        Assert.Equal("OK", a.Call("CLUSTER", "ADDSLOTSRANGE", "5461", "10922").Text);
        Assert.Equal("OK", b.Call("CLUSTER", "ADDSLOTSRANGE", "10923", "16383").Text);
        Wait.Until(() => a.NodeLine(nodeId)!.EndsWith(" connected 0-5460", StringComparison.Ordinal) && b.NodeLine(nodeId)!.EndsWith(" connected 0-5460", StringComparison.Ordinal), "redis sees our slots");
        Wait.Until(() => OwnerInOurView(node, 5461) == aId && OwnerInOurView(node, 10922) == aId && OwnerInOurView(node, 10923) == bId && OwnerInOurView(node, 16383) == bId, "we see redis's slots");
        Wait.Until(() => View(node, s => s.IsOk) && RedisOk(a) && RedisOk(b), "cluster_state:ok everywhere");
        return (node, a, b);
    }

    [Fact]
    public void Slots_spread_both_ways_and_the_cluster_becomes_ok()
    {
        var (node, a, b) = FormMixedCluster();
        Assert.Equal(0, node.Server.Bus!.RejectedTotal);
        // Views agree: every slot has the same owner on all three.
        string nodeId = MyId(node), aId = a.Id(), bId = b.Id();
        foreach (int slot in new[] { 0, 5460, 5461, 10922, 10923, 16383 })
        {
            string expected = slot <= 5460 ? nodeId : slot <= 10922 ? aId : bId;
            Assert.Equal(expected, OwnerInOurView(node, slot));
        }
        Assert.Contains(" connected 5461-10922", a.NodeLine(aId)!);
        Assert.Contains(" connected 10923-16383", a.NodeLine(bId)!);
    }

    [Fact]
    public void A_killed_redis_node_is_marked_fail_by_our_node()
    {
        var (node, a, b) = FormMixedCluster();
        string bId = b.Id();
        b.Kill();
        WaitLong(() => View(node, s => s.Find(bId)!.IsFailed), "our node flags b as fail");
        WaitLong(() => a.NodeLine(bId)!.Contains("master,fail ", StringComparison.Ordinal), "a flags b as fail");
        Wait.Until(() => !View(node, s => s.IsOk), "our node sees the cluster down (b's slots are lost)");
    }

    [Fact]
    public async Task Our_killed_node_is_marked_fail_by_redis()
    {
        var (node, a, b) = FormMixedCluster();
        string nodeId = MyId(node);
        _nodes.Remove(node);
        await node.DisposeAsync();
        WaitLong(() => a.NodeLine(nodeId)!.Contains("master,fail ", StringComparison.Ordinal) && b.NodeLine(nodeId)!.Contains("master,fail ", StringComparison.Ordinal), "both redis nodes flag our node as fail");
    }

    [Fact]
    public async Task Three_of_our_nodes_form_a_cluster_and_detect_a_failure()
    {
        var n1 = StartNode();
        var n2 = StartNode();
        var n3 = StartNode();
        string id1 = MyId(n1), id2 = MyId(n2), id3 = MyId(n3);
        Meet(n1, n2.Port, BusPort(n2));
        Meet(n1, n3.Port, BusPort(n3));
        WaitLong(() => Knows(n1, id2) && Knows(n1, id3) && Knows(n2, id1) && Knows(n2, id3) && Knows(n3, id1) && Knows(n3, id2), "all three know each other");
        AddSlots(n1, 0, 5460);
        AddSlots(n2, 5461, 10922);
        AddSlots(n3, 10923, 16383);
        WaitLong(() => new[] { n1, n2, n3 }.All(n => View(n, s => s.IsOk && s.OwnerOf(0)?.Id == id1 && s.OwnerOf(6000)?.Id == id2 && s.OwnerOf(16000)?.Id == id3)), "all ok, same owners");
        // Distinct config epochs once masters with the same epoch met (collision handling).
        Wait.Until(() => new[] { n1, n2, n3 }.Select(n => View(n, s => s.Myself.ConfigEpoch)).Distinct().Count() == 3, "config epochs made distinct");

        _nodes.Remove(n3);
        await n3.DisposeAsync();
        WaitLong(() => View(n1, s => s.Find(id3)!.IsFailed) && View(n2, s => s.Find(id3)!.IsFailed), "n1 and n2 flag n3 as fail");
    }

    [Fact]
    public void Failover_votes_once_per_epoch_and_once_per_master_in_two_node_timeouts()
    {
        var node = StartNode();
        AddSlots(node, 0, 100);
        using var master = new FakeBusPeer { ConfigEpoch = 1 };
        using var replica = new FakeBusPeer { Flags = 2, SlaveOf = master.Name, ConfigEpoch = 1 };
        for (int slot = 101; slot <= 200; slot++)
        {
            master.Slots[slot >> 3] |= (byte)(1 << (slot & 7));
            replica.Slots[slot >> 3] |= (byte)(1 << (slot & 7));
        }
        master.Connect(BusPort(node), master.Header(ClusterMessageType.Meet));
        var link = replica.Connect(BusPort(node), replica.Header(ClusterMessageType.Meet));
        Wait.Until(() => Knows(node, master.Name) && Knows(node, replica.Name) && View(node, s => s.Find(replica.Name)!.Master?.Id == master.Name && s.OwnerOf(150)?.Id == master.Name), "our node knows the master with its slots and its replica");

        // The master stops answering; the replica's FAIL about it is taken.
        master.Dispose();
        var fail = replica.Header(ClusterMessageType.Fail);
        fail.FailingNode = master.Name;
        link.Send(ClusterMessageCodec.Encode(fail));
        Wait.Until(() => View(node, s => s.Find(master.Name)!.IsFailed), "our node flags the master FAIL");

        long received = View(node, s => s.MessagesReceived[5]);
        ulong epoch = View(node, s => s.CurrentEpoch) + 1;
        void RequestVote(ulong currentEpoch)
        {
            var request = replica.Header(ClusterMessageType.FailoverAuthRequest);
            request.CurrentEpoch = currentEpoch;
            link.Send(ClusterMessageCodec.Encode(request));
            received++;
            Wait.Until(() => View(node, s => s.MessagesReceived[5]) == received, "the request is processed");
        }

        RequestVote(epoch);
        Wait.Until(() => replica.OfType(ClusterMessageType.FailoverAuthAck).Count == 1, "our master votes");
        var ack = replica.OfType(ClusterMessageType.FailoverAuthAck)[0].Message;
        Assert.Equal(MyId(node), ack.Sender);
        Assert.Equal(epoch, ack.CurrentEpoch);
        Assert.Equal(epoch, View(node, s => s.LastVoteEpoch));

        RequestVote(epoch);     // same epoch: already voted
        RequestVote(epoch + 1); // new epoch, same master within node_timeout * 2: refused
        Assert.Equal(1, View(node, s => s.MessagesSent[6]));
    }

    [Fact]
    public void Meeting_itself_leaves_only_itself()
    {
        var node = StartNode();
        Meet(node, node.Port, BusPort(node));
        Wait.Until(() => View(node, s => s.Nodes.Count == 1 && s.Nodes.Single().IsMyself), "the handshake node about ourselves is dropped");
        Assert.Equal(0, node.Server.Bus!.RejectedTotal);
    }

    /// <summary>Failure detection and gossip take node timeouts (2 s) and ping rounds, slower on a loaded machine: a 30 s deadline.</summary>
    private static void WaitLong(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}");
            Thread.Sleep(50);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 calls IAsyncLifetime.DisposeAsync after each test; a test class's IAsyncDisposable it never calls, which
    // left this class's redis-server members running after every run.
    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        _redis.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
