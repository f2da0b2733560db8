using System.Text;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// A redis-server 7.0.15 and a node, both with cluster-enabled yes and their own nodes.conf, set up by the same CLUSTER
/// commands and given the same command scripts; replies are compared with each server's own node ids and ports masked.
/// The other node a slot moves to is a handshake node (CLUSTER MEET to an address where nothing listens): both keep it for the
/// node timeout, so slots can be given to it and migrated to it the same way on both.
/// </summary>
public sealed class ClusterDifferentialTests : IAsyncLifetime
{
    private ClusterModePair _pair = null!;


    /// <inheritdoc/>
    public Task InitializeAsync()
    {
        _pair = ClusterModePair.Start("cluster-diff-");
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync() => await _pair.DisposeAsync();

    /// <summary>A key whose slot is <paramref name="slot"/>.</summary>
    internal static string KeyInSlot(int slot, string prefix = "k")
    {
        for (int i = 0; ; i++)
        {
            string key = $"{prefix}{i}";
            if (HashSlot.Of(Encoding.UTF8.GetBytes(key)) == slot)
            {
                return key;
            }
        }
    }

    private sealed class Side(RespClient client, int port)
    {
        public RespClient Client { get; } = client;
        public string MyId { get; } = client.Call("CLUSTER", "MYID").Text!;
        public string OtherId { get; set; } = "";

        // The bus port the server got: port + 10000 unless that was taken (a busy machine), when the node falls back to a free one.
        private readonly int _bus = int.Parse(client.Call("CLUSTER", "NODES").Text!.Split('\n').Single(l => l.Contains("myself", StringComparison.Ordinal))
            .Split(' ')[1].Split('@')[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);

        public string Normalize(RespValue value)
        {
            string text = value.Kind switch
            {
                RespKind.Integer when value.Integer == port => ":<port>",
                RespKind.Integer when value.Integer == _bus => ":<bus>",
                RespKind.Array or RespKind.Map or RespKind.Set => $"{value.Kind}[{string.Join(", ", value.Elements.Select(Normalize))}]",
                _ => value.ToString(),
            };
            text = text.Replace(MyId, "<me>", StringComparison.Ordinal).Replace($":{_bus}", ":<bus>", StringComparison.Ordinal)
                .Replace($"@{_bus}", "@<bus>", StringComparison.Ordinal).Replace($":{port}", ":<port>", StringComparison.Ordinal);
            return OtherId.Length > 0 ? text.Replace(OtherId, "<other>", StringComparison.Ordinal) : text;
        }

        public RespValue Call(string[] command) => Client.Call(command.Select(a => a.Replace("<other>", OtherId, StringComparison.Ordinal).Replace("<me>", MyId, StringComparison.Ordinal)).ToArray());
    }

    private (Side Redis, Side Node) Connect(int protocol = 2)
    {
        var redis = new Side(_pair.Redis.Client(), _pair.Redis.Port);
        var node = new Side(_pair.Node.Client(), _pair.Node.Port);
        if (protocol == 3)
        {
            redis.Client.Call("HELLO", "3");
            node.Client.Call("HELLO", "3");
        }
        return (redis, node);
    }

    private static void AssertSame(Side redis, Side node, params string[][] commands)
    {
        var differences = new List<string>();
        foreach (var command in commands)
        {
            string expected = SortNodeLines(command, redis.Normalize(SortConfigPairs(command, redis.Call(command))));
            string actual = SortNodeLines(command, node.Normalize(SortConfigPairs(command, node.Call(command))));
            if (expected != actual)
            {
                differences.Add($"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
            }
        }
        Assert.True(differences.Count == 0, string.Join('\n', differences));
    }

    /// <summary>CLUSTER NODES lists nodes in the order of Redis's hash table: compared with lines sorted (after masking ids).</summary>
    private static string SortNodeLines(string[] command, string normalized) =>
        command is ["CLUSTER", "NODES"] && normalized.IndexOf(':') is int colon and > 0
            ? normalized[..(colon + 1)] + string.Join('\n', normalized[(colon + 1)..].Split('\n').Order(StringComparer.Ordinal))
            : normalized;

    /// <summary>CONFIG GET with a pattern lists directives in the order of Redis's hash table: compared sorted by name.</summary>
    private static RespValue SortConfigPairs(string[] command, RespValue reply)
    {
        if (command is not ["CONFIG", "GET", ..] || reply.Kind != RespKind.Array)
        {
            return reply;
        }
        var pairs = reply.Elements.Chunk(2).OrderBy(p => p[0].Text, StringComparer.Ordinal).SelectMany(p => p).ToList();
        return reply with { Items = pairs };
    }

    /// <summary>MEETs a port where nothing listens on both servers and returns the handshake node's id on each.</summary>
    private void MeetDeadNode(Side redis, Side node)
    {
        foreach (var side in new[] { redis, node })
        {
            side.OtherId = _pair.MeetDeadNode(side.Client);
        }
    }

    private static void WaitOk(Side side) =>
        Wait.Until(() => side.Client.Call("CLUSTER", "INFO").Text!.StartsWith("cluster_state:ok", StringComparison.Ordinal), "cluster_state:ok");

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Cluster_views_and_errors_answer_as_redis(int protocol)
    {
        var (redis, node) = Connect(protocol);
        AssertSame(redis, node,
            ["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "LINKS"],
            ["CLUSTER", "ADDSLOTSRANGE", "0", "100", "200", "300"],
            ["CLUSTER", "ADDSLOTSRANGE", "0", "100", "200"], ["CLUSTER", "ADDSLOTSRANGE", "5", "1"], ["CLUSTER", "ADDSLOTSRANGE", "400", "500", "450", "460"],
            ["CLUSTER", "ADDSLOTSRANGE", "0", "16384"], ["CLUSTER", "ADDSLOTSRANGE", "x", "5"], ["CLUSTER", "ADDSLOTS", "50"], ["CLUSTER", "ADDSLOTS", "1000", "1000"],
            ["CLUSTER", "ADDSLOTS", "1000", "-1"], ["CLUSTER", "ADDSLOTS", "7000", "7001"], ["CLUSTER", "DELSLOTS", "5000"], ["CLUSTER", "DELSLOTS", "7000"],
            ["CLUSTER", "DELSLOTSRANGE", "5000", "5001"], ["CLUSTER", "DELSLOTSRANGE", "0", "10"],
            ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"], ["CLUSTER", "INFO"],
            ["CLUSTER", "MEET", "127.0.0.1"], ["CLUSTER", "MEET", "127.0.0.1", "x"], ["CLUSTER", "MEET", "127.0.0.1", "5", "x"],
            ["CLUSTER", "MEET", "127.0.0.1", "70000"], ["CLUSTER", "MEET", "localhost", "6379"], ["CLUSTER", "MEET", "1.2.3", "6379"],
            ["CLUSTER", "MEET", "127.0.0.1", "6379", "1", "2"], ["CLUSTER", "MEET", "127.0.0.1", "0"],
            ["CLUSTER", "FORGET", "abc"], ["CLUSTER", "FORGET", "<me>"], ["CLUSTER", "REPLICATE", "<me>"], ["CLUSTER", "REPLICATE", "abc"],
            ["CLUSTER", "REPLICAS", "<me>"], ["CLUSTER", "SLAVES", "abc"], ["CLUSTER", "COUNT-FAILURE-REPORTS", "<me>"], ["CLUSTER", "COUNT-FAILURE-REPORTS", "x"],
            ["CLUSTER", "COUNTKEYSINSLOT", "5"], ["CLUSTER", "COUNTKEYSINSLOT", "-1"], ["CLUSTER", "COUNTKEYSINSLOT", "x"], ["CLUSTER", "COUNTKEYSINSLOT", "16384"],
            ["CLUSTER", "GETKEYSINSLOT", "5", "10"], ["CLUSTER", "GETKEYSINSLOT", "5", "-1"], ["CLUSTER", "GETKEYSINSLOT", "x", "1"], ["CLUSTER", "GETKEYSINSLOT", "16384", "1"],
            ["CLUSTER", "KEYSLOT", "foo{bar}"], ["CLUSTER", "KEYSLOT", "foo{}{bar}"], ["CLUSTER", "KEYSLOT", "foo{{bar}}zap"], ["CLUSTER", "KEYSLOT", "{user1000}.following"],
            ["CLUSTER", "KEYSLOT", ""], ["CLUSTER", "KEYSLOT", "{}"], ["CLUSTER", "KEYSLOT", "a}{b}"],
            ["CLUSTER", "SETSLOT", "5", "MIGRATING", "abc"], ["CLUSTER", "SETSLOT", "5000", "MIGRATING", "abc"], ["CLUSTER", "SETSLOT", "5", "IMPORTING", "abc"],
            ["CLUSTER", "SETSLOT", "5000", "IMPORTING", "abc"], ["CLUSTER", "SETSLOT", "5", "NODE", "abc"], ["CLUSTER", "SETSLOT", "5", "FOO"],
            ["CLUSTER", "SETSLOT", "5", "STABLE", "x"], ["CLUSTER", "SETSLOT", "x", "STABLE"], ["CLUSTER", "SETSLOT", "5", "MIGRATING", "<me>"],
            ["CLUSTER", "SETSLOT", "5001", "IMPORTING", "<me>"], ["CLUSTER", "NODES"], ["CLUSTER", "SETSLOT", "5", "STABLE"],
            ["CLUSTER", "SETSLOT", "5001", "NODE", "<me>"], ["CLUSTER", "BUMPEPOCH"], ["CLUSTER", "BUMPEPOCH"],
            ["CLUSTER", "SET-CONFIG-EPOCH", "5"], ["CLUSTER", "SET-CONFIG-EPOCH", "-1"], ["CLUSTER", "SET-CONFIG-EPOCH", "x"], ["CLUSTER", "INFO"], ["CLUSTER", "NODES"],
            ["CLUSTER", "FAILOVER"], ["CLUSTER", "FAILOVER", "x"], ["CLUSTER", "FAILOVER", "a", "b"], ["CLUSTER", "RESET", "x"], ["CLUSTER", "RESET", "a", "b"],
            ["CLUSTER", "SAVECONFIG"], ["CLUSTER", "HELP"], ["CLUSTER", "HELP", "x"], ["CLUSTER", "NOSUCH"], ["CLUSTER"], ["CLUSTER", "ADDSLOTS"],
            ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"], ["ASKING"], ["READONLY"], ["READWRITE"], ["ASKING", "x"],
            ["SELECT", "0"], ["SELECT", "1"], ["SELECT", "x"], ["MOVE", "foo", "1"], ["SWAPDB", "0", "1"],
            ["SET", "foo", "bar"], ["CLUSTER", "FLUSHSLOTS"], ["CLUSTER", "RESET"], ["DEL", "foo"],
            ["CLUSTER", "FLUSHSLOTS"], ["CLUSTER", "RESET", "HARD"], ["CLUSTER", "INFO"]);
    }

    [Fact]
    public void Keys_in_slots_and_redirections_answer_as_redis()
    {
        var (redis, node) = Connect();
        string migratingKey = KeyInSlot(5061, "m");
        string importingKey = KeyInSlot(1000, "i");
        AssertSame(redis, node, ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
        WaitOk(redis);
        WaitOk(node);
        MeetDeadNode(redis, node);
        AssertSame(redis, node,
            ["SET", "foo", "1"], ["SET", "{foo}2", "2"], ["SET", "bar", "3"], ["SET", "{bar}x", "4"], ["SET", migratingKey, "5"],
            ["CLUSTER", "COUNTKEYSINSLOT", "12182"], ["CLUSTER", "GETKEYSINSLOT", "12182", "1"], ["CLUSTER", "COUNTKEYSINSLOT", "5061"],
            ["MGET", "foo", "bar"], ["MSET", "foo", "1", "bar", "2"], ["DEL", "{foo}a", "{foo}b"], ["EXISTS", "foo", "{foo}2"],
            ["CLUSTER", "SETSLOT", "12182", "NODE", "<other>"],
            ["DEL", "{foo}2", "foo"], ["CLUSTER", "SETSLOT", "12182", "NODE", "<other>"], ["CLUSTER", "NODES"],
            ["GET", "foo"], ["SET", "foo", "x"], ["GET", "{foo}zzz"], ["MGET", "{foo}1", "{foo}2"], ["MGET", "foo", "bar"], ["PING"], ["DBSIZE"],
            ["CLUSTER", "SETSLOT", "5061", "MIGRATING", "<other>"], ["CLUSTER", "NODES"],
            ["GET", "bar"], ["GET", migratingKey], ["GET", "{bar}nosuch"], ["SET", "{bar}new", "1"], ["MGET", "bar", "{bar}x"], ["MGET", "bar", "{bar}nosuch"],
            ["DEL", "{bar}nosuch", "{bar}x"], ["EXISTS", "{bar}q", "{bar}r"],
            ["CLUSTER", "SETSLOT", "1000", "NODE", "<other>"], ["CLUSTER", "SETSLOT", "1000", "IMPORTING", "<other>"], ["CLUSTER", "NODES"],
            ["GET", importingKey], ["ASKING"], ["GET", importingKey], ["GET", importingKey], ["ASKING"], ["SET", importingKey, "v"], ["ASKING"], ["GET", importingKey],
            ["ASKING"], ["MGET", importingKey, KeyInSlot(1000, "j")], ["RESTORE-ASKING", KeyInSlot(1000, "r"), "0", "x"],
            ["CLUSTER", "COUNTKEYSINSLOT", "1000"], ["CLUSTER", "GETKEYSINSLOT", "1000", "5"],
            ["MULTI"], ["SET", "{bar}x", "5"], ["GET", "foo"], ["EXEC"],
            ["MULTI"], ["GET", "bar"], ["GET", "{bar}x"], ["EXEC"],
            ["MULTI"], ["GET", "bar"], ["GET", migratingKey], ["EXEC"],
            ["MULTI"], ["GET", "bar"], ["GET", "zap"], ["EXEC"],
            ["READONLY"], ["GET", "foo"], ["READWRITE"],
            ["CLUSTER", "SETSLOT", "5061", "STABLE"], ["CLUSTER", "SETSLOT", "1000", "STABLE"], ["CLUSTER", "NODES"], ["CLUSTER", "INFO"],
            ["CLUSTER", "DELSLOTS", "0"], ["GET", KeyInSlot(0)], ["SET", KeyInSlot(0), "1"]);
        Assert.True(_pair.Node.Server.Cluster!.MovedRedirections > 0);
        Assert.True(_pair.Node.Server.Cluster!.AskRedirections > 0);
    }

    [Fact]
    public void A_replica_serves_reads_after_readonly_as_redis()
    {
        var (redis, node) = Connect();
        MeetDeadNode(redis, node);
        AssertSame(redis, node,
            ["CONFIG", "SET", "cluster-require-full-coverage", "no"], ["CONFIG", "SET", "cluster-allow-reads-when-down", "yes"],
            ["CLUSTER", "SETSLOT", "12182", "NODE", "<other>"], ["CLUSTER", "SETSLOT", "5061", "NODE", "<other>"],
            ["CLUSTER", "REPLICATE", "<other>"], ["CLUSTER", "NODES"], ["CLUSTER", "REPLICAS", "<other>"], ["CLUSTER", "REPLICATE", "<me>"],
            ["CLUSTER", "SETSLOT", "1", "STABLE"], ["CLUSTER", "FORGET", "<other>"],
            ["GET", "foo"], ["SET", "foo", "1"], ["READONLY"], ["GET", "foo"], ["MGET", "foo", "{foo}2"], ["SET", "foo", "1"],
            ["MULTI"], ["GET", "foo"], ["EXEC"], ["MULTI"], ["GET", "foo"], ["SET", "{foo}x", "1"], ["EXEC"],
            ["GET", "bar"], ["READWRITE"], ["GET", "foo"], ["GET", "bar"], ["CLUSTER", "INFO"]);
    }

    [Fact]
    public void A_cluster_down_answers_as_redis()
    {
        var (redis, node) = Connect();
        AssertSame(redis, node, ["CLUSTER", "ADDSLOTSRANGE", "0", "16000"], ["SET", "foo", "1"], ["GET", "foo"], ["PING"],
            ["CONFIG", "SET", "cluster-allow-reads-when-down", "yes"], ["GET", "foo"], ["SET", "foo", "1"],
            ["CONFIG", "SET", "cluster-require-full-coverage", "no"]);
        WaitOk(redis);
        WaitOk(node);
        AssertSame(redis, node, ["SET", "foo", "1"], ["GET", "foo"], ["GET", KeyInSlot(16100)], ["CLUSTER", "INFO"]);
    }

    [Fact]
    public void Cluster_directives_answer_config_get_and_set_as_redis()
    {
        var (redis, node) = Connect();
        AssertSame(redis, node,
            ["CONFIG", "GET", "cluster-node-timeout"], ["CONFIG", "GET", "cluster-port"], ["CONFIG", "GET", "cluster-announce-*"], ["CONFIG", "GET", "cluster-preferred-endpoint-type"],
            ["CONFIG", "GET", "cluster-require-full-coverage"], ["CONFIG", "GET", "cluster-allow-*"], ["CONFIG", "GET", "cluster-replica-*"], ["CONFIG", "GET", "cluster-slave-*"],
            ["CONFIG", "GET", "cluster-migration-barrier"], ["CONFIG", "GET", "cluster-link-sendbuf-limit"], ["CONFIG", "GET", "cluster-enabled"],
            ["CONFIG", "SET", "cluster-enabled", "no"], ["CONFIG", "SET", "cluster-port", "5"], ["CONFIG", "SET", "cluster-config-file", "x"],
            ["CONFIG", "SET", "cluster-node-timeout", "-1"], ["CONFIG", "SET", "cluster-preferred-endpoint-type", "foo"],
            ["CONFIG", "SET", "cluster-announce-hostname", "a_b"], ["CONFIG", "SET", "cluster-announce-hostname", "host-1.example"],
            ["CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"],
            ["CLUSTER", "ADDSLOTS", "1", "2", "3"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"],
            ["CONFIG", "SET", "cluster-preferred-endpoint-type", "unknown-endpoint"], ["CLUSTER", "SLOTS"], ["CLUSTER", "SHARDS"],
            ["CONFIG", "SET", "cluster-announce-ip", "10.1.2.3"], ["CLUSTER", "NODES"], ["CLUSTER", "SLOTS"],
            ["CONFIG", "SET", "cluster-slave-validity-factor", "3"], ["CONFIG", "GET", "cluster-replica-validity-factor"],
            ["CONFIG", "SET", "cluster-link-sendbuf-limit", "1mb"], ["CONFIG", "GET", "cluster-link-sendbuf-limit"]);
    }
}
