using CacheOperator.Node.Cluster;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// The bus runtime of an in-process node with real redis-server 7.0.15 nodes: handshakes, gossip, slot
/// claims, failure detection. The node's view is read from its state under the keyspace lock.
/// </summary>
public sealed class ClusterBusRuntimeTests : IAsyncDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-bus-").FullName;
    private readonly List<IDisposable> _redis = [];
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

    private ClusterRedis StartRedis()
    {
        var redis = ClusterRedis.Start(2000);
        _redis.Add(redis);
        return redis;
    }

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

    private static bool RedisKnows(ClusterRedis redis, string id) => redis.NodeLine(id) is { } line && line.Contains(" connected", StringComparison.Ordinal) && !line.Contains("fail", StringComparison.Ordinal) && !line.Contains("handshake", StringComparison.Ordinal);

    [Fact]
    public void Node_and_two_redis_nodes_converge_by_meet()
    {
        var node = StartNode();
        var a = StartRedis();
        var b = StartRedis();
        string nodeId = MyId(node), aId = a.MyId(), bId = b.MyId();

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

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        foreach (var redis in _redis)
        {
            redis.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
