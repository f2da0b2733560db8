using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Persistence;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// Function libraries in RDB files (RDB_OPCODE_FUNCTION2) and in replication, against redis-server 7.0.15: the node's
/// file passes redis-check-rdb and loads into redis-server and into a node with the same libraries, redis-server's
/// file loads into the node; replicas (a node, a redis-server) get the libraries by full sync and every FUNCTION
/// LOAD/DELETE/RESTORE/FLUSH after, FCALL as its effects; a node replica of redis-server gets redis's.
/// </summary>
public sealed class FunctionPersistenceTests : IDisposable
{
    private const string Counters = "#!lua name=counters\n-- a comment long enough for the code to be LZF-compressed in the file\n"
        + "redis.register_function('bump', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)\n"
        + "redis.register_function{function_name='peek', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='reads'}";

    private const string Texts = "#!lua name=texts\nredis.register_function('shout', function(keys, args) return redis.call('set', keys[1], string.upper(args[1])) end)";

    private readonly string _dir = Directory.CreateTempSubdirectory("functions-").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>FUNCTION LIST WITHCODE, libraries and functions sorted (Redis lists them in its hash tables' order).</summary>
    private static string Libraries(RespClient client) =>
        string.Join("\n", client.Call("FUNCTION", "LIST", "WITHCODE").Elements
            .Select(l => string.Join(" ", l.Elements.Select((v, i) => i == 5 ? string.Join(",", v.Elements.Select(f => f.ToString()).Order(StringComparer.Ordinal)) : v.ToString())))
            .Order(StringComparer.Ordinal));

    [Fact]
    public async Task Node_file_with_functions_passes_redis_check_rdb_and_loads_into_redis_and_the_node()
    {
        string expected;
        await using (var node = TestNode.Start("--dir", _dir, "--dbfilename", "node.rdb"))
        {
            using var client = node.Client();
            Assert.Equal("counters", client.Call("FUNCTION", "LOAD", Counters).Text);
            Assert.Equal("texts", client.Call("FUNCTION", "LOAD", Texts).Text);
            client.Call("SET", "n", "1");
            expected = Libraries(client);
            Assert.Equal("OK", client.Call("SAVE").Text);
        }
        string path = Path.Combine(_dir, "node.rdb");
        Assert.Contains("RDB looks OK", RdbFileTests.CheckRdb(path), StringComparison.Ordinal);

        using (var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "node.rdb"))
        {
            using var client = redis.Client();
            Assert.Equal(expected, Libraries(client));
            Assert.Equal(6, client.Call("FCALL", "bump", "1", "n", "5").Integer);
        }
        await using (var node = TestNode.Start("--dir", _dir, "--dbfilename", "node.rdb"))
        {
            using var client = node.Client();
            Assert.Equal(expected, Libraries(client));
            Assert.Equal(6, client.Call("FCALL", "bump", "1", "n", "5").Integer);
            Assert.Equal("6", client.Call("FCALL_RO", "peek", "1", "n").Text);
            // A background save carries them too.
            Assert.Equal("OK", client.Call("FUNCTION", "DELETE", "texts").Text);
            expected = Libraries(client);
            Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
            Wait.Until(() => ReplicationInfo.Info(client, "rdb_bgsave_in_progress") == "0", "the background save ends");
        }
        Assert.Contains("RDB looks OK", RdbFileTests.CheckRdb(path), StringComparison.Ordinal);
        await using (var node = TestNode.Start("--dir", _dir, "--dbfilename", "node.rdb"))
        {
            using var client = node.Client();
            Assert.Equal(expected, Libraries(client));
        }
    }

    [Fact]
    public async Task Redis_file_with_functions_loads_into_the_node()
    {
        string expected;
        using (var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "redis.rdb"))
        {
            using var client = redis.Client();
            client.Call("FUNCTION", "LOAD", Counters);
            client.Call("FUNCTION", "LOAD", Texts);
            client.Call("FCALL", "shout", "1", "s", "quiet");
            expected = Libraries(client);
            Assert.Equal("OK", client.Call("SAVE").Text);
        }
        await using var node = TestNode.Start("--dir", _dir, "--dbfilename", "redis.rdb");
        using var nodeClient = node.Client();
        Assert.Equal(expected, Libraries(nodeClient));
        Assert.Equal("QUIET", nodeClient.Call("GET", "s").Text);
        Assert.Equal("OK", nodeClient.Call("FCALL", "shout", "1", "s", "loud").Text);
        Assert.Equal("LOUD", nodeClient.Call("GET", "s").Text);
    }

    [Fact]
    public async Task Replicas_get_the_libraries_by_full_sync_and_every_change_after()
    {
        await using var master = TestNode.Start();
        using var client = master.Client();
        Assert.Equal("counters", client.Call("FUNCTION", "LOAD", Counters).Text);
        await using var nodeReplica = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        // Its dir is the test's: a replica keeps the master's snapshot as dump.rdb, which other redis-servers must not load.
        using var redis = RedisServerProcess.Start("--replicaof", $"127.0.0.1 {master.Port}", "--dir", _dir);
        using var ours = nodeReplica.Client();
        using var theirs = redis.Client();
        var replicas = new[] { ours, theirs };
        foreach (var replica in replicas)
        {
            Wait.Until(() => ReplicationInfo.Info(replica, "master_link_status") == "up", "the replica's link is up");
        }
        int marker = 0;
        void CaughtUp()
        {
            string value = (++marker).ToString(System.Globalization.CultureInfo.InvariantCulture);
            client.Call("SET", "marker", value);
            foreach (var replica in replicas)
            {
                Wait.Until(() => replica.Call("GET", "marker").Text == value, "the replica caught up");
            }
        }
        CaughtUp();
        foreach (var replica in replicas)
        {
            Assert.Equal(Libraries(client), Libraries(replica));
        }

        // FCALL replicates as its effects; a replica refuses a write function and runs a no-writes one.
        Assert.Equal(7, client.Call("FCALL", "bump", "1", "n", "7").Integer);
        Assert.Equal("texts", client.Call("FUNCTION", "LOAD", Texts).Text);
        Assert.Equal("OK", client.Call("FCALL", "shout", "1", "s", "hi").Text);
        CaughtUp();
        foreach (var replica in replicas)
        {
            Assert.Equal(Libraries(client), Libraries(replica));
            Assert.Equal("7", replica.Call("GET", "n").Text);
            Assert.Equal("HI", replica.Call("GET", "s").Text);
            Assert.Equal("7", replica.Call("FCALL_RO", "peek", "1", "n").Text);
            Assert.Equal("READONLY You can't write against a read only replica.", replica.Call("FCALL", "bump", "1", "n", "1").Text);
            Assert.Equal("READONLY You can't write against a read only replica.", replica.Call("FUNCTION", "FLUSH").Text);
        }

        Assert.Equal("OK", client.Call("FUNCTION", "DELETE", "counters").Text);
        CaughtUp();
        foreach (var replica in replicas)
        {
            Assert.Equal(Libraries(client), Libraries(replica));
        }
        var dump = client.Call("FUNCTION", "DUMP").Bytes!;
        Assert.Equal("OK", client.Call("FUNCTION", "FLUSH").Text);
        CaughtUp();
        foreach (var replica in replicas)
        {
            Assert.Empty(replica.Call("FUNCTION", "LIST").Elements);
        }
        Assert.Equal("OK", client.Call("FUNCTION"u8.ToArray(), "RESTORE"u8.ToArray(), dump).Text);
        Assert.Equal("counters", client.Call("FUNCTION", "LOAD", "REPLACE", Counters).Text);
        CaughtUp();
        foreach (var replica in replicas)
        {
            Assert.Equal(Libraries(client), Libraries(replica));
            Assert.Single(replica.Call("FUNCTION", "LIST", "LIBRARYNAME", "texts").Elements);
        }
    }

    [Fact]
    public async Task Node_replica_of_redis_gets_its_libraries()
    {
        using var redis = RedisServerProcess.Start();
        using var master = redis.Client();
        master.Call("FUNCTION", "LOAD", Counters);
        master.Call("FCALL", "bump", "1", "n", "3");
        await using var replica = TestNode.Start("--replicaof", $"127.0.0.1 {redis.Port}");
        using var client = replica.Client();
        Wait.Until(() => ReplicationInfo.Info(client, "master_link_status") == "up", "the replica's link is up");
        Wait.Until(() => client.Call("GET", "n").Text == "3", "the full sync is loaded");
        Assert.Equal(Libraries(master), Libraries(client));
        master.Call("FUNCTION", "LOAD", Texts);
        master.Call("FCALL", "shout", "1", "s", "abc");
        Wait.Until(() => client.Call("GET", "s").Text == "ABC", "the replica caught up");
        Assert.Equal(Libraries(master), Libraries(client));
        master.Call("FUNCTION", "DELETE", "counters");
        master.Call("SET", "marker", "1");
        Wait.Until(() => client.Call("GET", "marker").Text == "1", "the replica caught up");
        Assert.Equal(Libraries(master), Libraries(client));
        Assert.Equal("ERR Function not found", client.Call("FCALL_RO", "peek", "1", "n").Text);
    }
}
