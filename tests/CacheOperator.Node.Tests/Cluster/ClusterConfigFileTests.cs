using System.Globalization;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>nodes.conf: written in Redis 7.0's format on every change, read back on restart, and read when redis-server wrote it.</summary>
public sealed class ClusterConfigFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cluster-conf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Info(RespClient client, string field) =>
        client.Call("CLUSTER", "INFO").Text!.Split("\r\n").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];

    [Fact]
    public async Task A_node_without_a_file_writes_one_and_a_restarted_node_keeps_its_id_epochs_and_slots()
    {
        string path = Path.Combine(_dir, "nodes.conf");
        string id;
        string nodes;
        // The bus listens on port + 10000 unless that port is taken (then on a free one): read which it got.
        string firstAddress;
        await using (var node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", path))
        {
            using var client = node.Client();
            id = client.Call("CLUSTER", "MYID").Text!;
            firstAddress = $":{node.Port}@{node.Server.Bus!.Port}";
            Assert.Equal($"{id} {firstAddress} myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n", File.ReadAllText(path));
            Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "100", "5000", "5000", "16000", "16383").Text);
            Assert.Equal("BUMPED 1", client.Call("CLUSTER", "BUMPEPOCH").Text);
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "5000", "MIGRATING", id).Text);
            Assert.Equal($"{id} {firstAddress} myself,master - 0 0 1 connected 0-100 5000 16000-16383 [5000->-{id}]\nvars currentEpoch 1 lastVoteEpoch 0\n", File.ReadAllText(path));
            nodes = client.Call("CLUSTER", "NODES").Text!;
            Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
        }
        await using (var node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", path))
        {
            using var client = node.Client();
            Assert.Equal(id, client.Call("CLUSTER", "MYID").Text);
            Assert.Equal(nodes.Replace(firstAddress, $":{node.Port}@{node.Server.Bus!.Port}", StringComparison.Ordinal), client.Call("CLUSTER", "NODES").Text);
            Assert.Equal("1", Info(client, "cluster_current_epoch"));
            Assert.Equal("1", Info(client, "cluster_my_epoch"));
            Assert.Equal("486", Info(client, "cluster_slots_assigned"));
        }
    }

    private static int ParsePort(string nodesLine)
    {
        int colon = nodesLine.IndexOf(':');
        return int.Parse(nodesLine[(colon + 1)..nodesLine.IndexOf('@')], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_nodes_conf_written_by_redis_server_is_read_by_the_node()
    {
        string redisPath = Path.Combine(_dir, "redis-nodes.conf");
        string redisNodes;
        string redisId;
        using (var redis = RedisServerProcess.Start("--cluster-enabled", "yes", "--cluster-config-file", redisPath, "--cluster-node-timeout", "120000"))
        {
            using var client = redis.Client();
            redisId = client.Call("CLUSTER", "MYID").Text!;
            client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "8000", "9000", "9100");
            client.Call("CLUSTER", "SET-CONFIG-EPOCH", "7");
            client.Call("CLUSTER", "SETSLOT", "100", "MIGRATING", redisId);
            client.Call("CLUSTER", "SETSLOT", "8500", "IMPORTING", redisId);
            client.Call("CONFIG", "SET", "cluster-announce-hostname", "redis-0.example");
            client.Call("CLUSTER", "SAVECONFIG");
            redisNodes = client.Call("CLUSTER", "NODES").Text!;
        }
        string path = Path.Combine(_dir, "nodes.conf");
        File.Copy(redisPath, path);
        await using var node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", path, "--cluster-announce-hostname", "redis-0.example");
        using var nodeClient = node.Client();
        Assert.Equal(redisId, nodeClient.Call("CLUSTER", "MYID").Text);
        int redisPort = ParsePort(redisNodes);
        Assert.Equal(redisNodes.Replace($":{redisPort}@{redisPort + 10000}", $":{node.Port}@{node.Server.Bus!.Port}", StringComparison.Ordinal), nodeClient.Call("CLUSTER", "NODES").Text);
        Assert.Equal("7", Info(nodeClient, "cluster_current_epoch"));
    }

    [Fact]
    public void A_file_of_several_nodes_round_trips_through_the_model()
    {
        const string text =
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001,node-1.example myself,master - 0 0 1 connected 0-5460 [77-<-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f] [93->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]\n"
            + "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30002@40002 master - 0 0 2 disconnected 5461-10922\n"
            + "824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30003@40003 master,fail? - 0 0 3 disconnected 10923-16383\n"
            + "6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@40005 slave,nofailover 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 0 2 disconnected\n"
            + "a1d4c1ee3f0d1b7cf2e5a5ed0f29fc0f3ad5a6b9 :0@0 noflags - 0 0 0 disconnected\n"
            + "vars currentEpoch 6 lastVoteEpoch 4\n";
        var state = new ClusterState(new NodeConfig());
        ClusterConfigFile.Parse(state, text);
        Assert.Equal("e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", state.Myself.Id);
        Assert.Equal("node-1.example", state.Myself.Hostname);
        Assert.Equal(6UL, state.CurrentEpoch);
        Assert.Equal(4UL, state.LastVoteEpoch);
        Assert.Equal("292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", state.MigratingTo(93)!.Id);
        Assert.Equal("292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", state.ImportingFrom(77)!.Id);
        Assert.Equal("292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f", state.OwnerOf(10922)!.Id);
        Assert.Equal(state.Find("292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f"), state.Find("6ec23923021cf3ffec47632106199cb7f496ce01")!.Master);
        // "noflags" is how Redis writes a node without flags; the rest comes back line for line.
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        Assert.Equal(lines, ClusterConfigFile.Render(state).Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Saves_in_place_and_durable_saves_both_leave_exactly_the_current_state()
    {
        const string big =
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460\n"
            + "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30002@40002 master - 0 0 2 disconnected 5461-10922\n"
            + "824fe116063bc5fcf9f4ffd895bc17aee7731ac3 127.0.0.1:30003@40003 master - 0 0 3 disconnected 10923-16383\n"
            + "vars currentEpoch 3 lastVoteEpoch 0\n";
        const string small =
            "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-16383\n"
            + "vars currentEpoch 3 lastVoteEpoch 0\n";
        string path = Path.Combine(_dir, "nodes.conf");
        foreach (var (first, second, fsync) in new[] { (big, small, false), (small, big, false), (big, small, true) })
        {
            var state = new ClusterState(new NodeConfig());
            ClusterConfigFile.Parse(state, first);
            ClusterConfigFile.Save(state, path, fsync: true);
            ClusterConfigFile.Parse(state, second);
            ClusterConfigFile.Save(state, path, fsync);
            // Byte for byte what a fresh render gives: no padding or tail of the longer file is left.
            Assert.Equal(ClusterConfigFile.Render(state), File.ReadAllText(path));
            var reloaded = new ClusterState(new NodeConfig());
            Assert.True(ClusterConfigFile.Load(reloaded, path));
            Assert.Equal(ClusterConfigFile.Render(state), ClusterConfigFile.Render(reloaded));
        }
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public void A_corrupted_file_is_refused_with_redis_s_text()
    {
        var state = new ClusterState(new NodeConfig());
        var error = Assert.Throws<ConfigException>(() => ClusterConfigFile.Parse(state, "abc 127.0.0.1:1@2 master\n"));
        Assert.Equal("Unrecoverable error: corrupted cluster config file.", error.Message);
        Assert.Throws<ConfigException>(() => ClusterConfigFile.Parse(state, "vars currentEpoch 1\n"));
    }
}
