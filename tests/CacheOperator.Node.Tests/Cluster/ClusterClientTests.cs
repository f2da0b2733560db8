using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>Cluster-aware clients against the node in cluster mode: StackExchange.Redis and redis-cli -c.</summary>
public sealed class ClusterClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cluster-clients-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TestNode StartNode(string name, params string[] options) =>
        TestNode.Start(["--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, name), "--cluster-node-timeout", "120000", .. options]);

    private static void WaitOk(RespClient client) =>
        Wait.Until(() => client.Call("CLUSTER", "INFO").Text!.StartsWith("cluster_state:ok", StringComparison.Ordinal), "cluster_state:ok");

    [Fact]
    public async Task StackExchange_redis_writes_and_reads_many_keys_on_a_single_node_cluster()
    {
        await using var node = StartNode("nodes.conf");
        using var client = node.Client();
        Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "16383").Text);
        WaitOk(client);
        using var mux = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{node.Port},abortConnect=false,connectTimeout=5000");
        var server = mux.GetServer("127.0.0.1", node.Port);
        Assert.Equal(ServerType.Cluster, server.ServerType);
        var db = mux.GetDatabase();
        var writes = Enumerable.Range(0, 5000).Select(i => db.StringSetAsync($"key:{i}", $"value:{i}")).ToArray();
        await Task.WhenAll(writes);
        Assert.All(writes, w => Assert.True(w.Result));
        for (int i = 0; i < 5000; i += 7)
        {
            Assert.Equal($"value:{i}", (string?)await db.StringGetAsync($"key:{i}"));
        }
        // Multi-key commands within one hash tag work; across slots SE.Redis refuses them itself.
        await db.StringSetAsync([new KeyValuePair<RedisKey, RedisValue>("{user1}:a", "1"), new KeyValuePair<RedisKey, RedisValue>("{user1}:b", "2")]);
        Assert.Equal(["1", "2"], (await db.StringGetAsync(["{user1}:a", "{user1}:b"])).Select(v => (string?)v));
        Assert.Equal(5002L, server.DatabaseSize());
        long inSlots = 0;
        for (int slot = 0; slot < 16384; slot += 1)
        {
            inSlots += client.Call("CLUSTER", "COUNTKEYSINSLOT", slot.ToString(CultureInfo.InvariantCulture)).Integer;
        }
        Assert.Equal(5002L, inSlots);
    }

    [Fact]
    public async Task Redis_cli_in_cluster_mode_follows_moved_redirections_between_two_nodes()
    {
        await using var a = StartNode("a.conf");
        await using var b = StartNode("b.conf");
        using var clientA = a.Client();
        using var clientB = b.Client();
        // Each owns half the slots and meets the other over the bus; SETSLOT NODE then names the other's real
        // id (the bus also spreads the claims): MOVED redirections point at the right node.
        Assert.Equal("OK", clientA.Call("CLUSTER", "ADDSLOTSRANGE", "0", "8191").Text);
        Assert.Equal("OK", clientB.Call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383").Text);
        foreach (var (client, other, first, last) in new[] { (clientA, b, 8192, 16383), (clientB, a, 0, 8191) })
        {
            Assert.Equal("OK", client.Call("CLUSTER", "MEET", "127.0.0.1", other.Port.ToString(CultureInfo.InvariantCulture), other.Server.Bus!.Port.ToString(CultureInfo.InvariantCulture)).Text);
            string otherId;
            using (var otherClient = other.Client())
            {
                otherId = otherClient.Call("CLUSTER", "MYID").Text!;
            }
            Wait.Until(() => client.Call("CLUSTER", "NODES").Text!.Contains(otherId + " ", StringComparison.Ordinal), "the handshake with the other node completes");
            // Pipelined: all requests, then all replies.
            for (int slot = first; slot <= last; slot++)
            {
                client.Send("CLUSTER", "SETSLOT", slot.ToString(CultureInfo.InvariantCulture), "NODE", otherId);
            }
            for (int slot = first; slot <= last; slot++)
            {
                Assert.Equal("OK", client.Read().Text);
            }
            WaitOk(client);
        }
        Assert.StartsWith($"MOVED 12182 127.0.0.1:{b.Port}", clientA.Call("GET", "foo").Text);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal("OK", RedisCli.Command(a.Port, "-c", "SET", $"cli:{i}", $"v{i}"));
        }
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal($"v{i}", RedisCli.Command(b.Port, "-c", "GET", $"cli:{i}"));
        }
        Assert.Equal(50L, clientA.Call("DBSIZE").Integer + clientB.Call("DBSIZE").Integer);
        Assert.True(clientA.Call("DBSIZE").Integer > 0 && clientB.Call("DBSIZE").Integer > 0);
        Assert.True(a.Server.Cluster!.MovedRedirections + b.Server.Cluster!.MovedRedirections >= 50);
    }
}
