using System.Globalization;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>
/// A redis-server 7.0.15 and a node, each cluster-enabled with its own nodes.conf, for differential tests in cluster mode.
/// The other node a slot goes to is a handshake node (CLUSTER MEET to an address where nothing listens): both servers keep
/// it for the long node timeout, so slots can be given and migrated to it the same way on both.
/// </summary>
public sealed class ClusterModePair : IAsyncDisposable
{
    // An address no test binds: a free port on 127.0.0.1 says nothing of its port+10000, where another test's bus may listen.
    private const string DeadAddress = "127.0.0.253";

    private readonly string _dir;
    private readonly int _deadPort = NodeProcess.FreePort();

    private ClusterModePair(string dir)
    {
        _dir = dir;
        Redis = RedisServerProcess.Start("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "redis-nodes.conf"), "--cluster-node-timeout", "120000");
        Node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "node-nodes.conf"), "--cluster-node-timeout", "120000");
    }

    /// <summary>The reference server.</summary>
    public RedisServerProcess Redis { get; }

    /// <summary>Our node.</summary>
    public TestNode Node { get; }

    /// <summary>Starts both servers, their nodes.conf files in a new temporary directory named after <paramref name="prefix"/>.</summary>
    public static ClusterModePair Start(string prefix) => new(Directory.CreateTempSubdirectory(prefix).FullName);

    /// <summary>Gives every slot to the server behind <paramref name="client"/> and waits for cluster_state:ok.</summary>
    public static void ServeEverySlot(RespClient client)
    {
        Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "16383").Text);
        Wait.Until(() => client.Call("CLUSTER", "INFO").Text!.Contains("cluster_state:ok", StringComparison.Ordinal), "the cluster is up");
    }

    /// <summary>MEETs the dead address from the server behind <paramref name="client"/> and returns the handshake node's id there.</summary>
    public string MeetDeadNode(RespClient client)
    {
        Assert.Equal("OK", client.Call("CLUSTER", "MEET", DeadAddress, _deadPort.ToString(CultureInfo.InvariantCulture)).Text);
        return client.Call("CLUSTER", "NODES").Text!.Split('\n').Single(l => l.Contains("handshake", StringComparison.Ordinal))[..40];
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Redis.Dispose();
        await Node.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
