using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Monitoring;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// Replication with real sockets, both ways with redis-server 7.0.15: a full sync of every data type with TTLs, live
/// writes, then a cut link that continues with a partial resync (the master's sync_partial_ok grows, sync_full does
/// not); our node replicating our node (read-only replica, ROLE, WAIT, promotion with PSYNC2); INFO replication's
/// fields against redis-server's.
/// </summary>
public sealed class ReplicationTests : IDisposable
{
    private readonly List<string> _directories = [];

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }
    [Fact]
    public async Task RedisServerReplicatesOurNode()
    {
        await using var master = TestNode.Start();
        using var client = master.Client();
        Populate(client);
        using var redis = StartRedis("--replicaof", $"127.0.0.1 {master.Port}");
        using var replica = redis.Client();
        AssertFullSyncThenLiveThenPartial(client, replica, "redis-server replica of our node");
    }

    [Fact]
    public async Task OurNodeReplicatesRedisServer()
    {
        using var redis = StartRedis("--repl-diskless-sync-delay", "0");
        using var client = redis.Client();
        Populate(client);
        await using var node = TestNode.Start("--replicaof", $"127.0.0.1 {redis.Port}");
        using var replica = node.Client();
        AssertFullSyncThenLiveThenPartial(client, replica, "our node replica of redis-server");
    }

    [Fact]
    public async Task OurNodeReplicatesOurNode()
    {
        await using var master = TestNode.Start();
        using var client = master.Client();
        Populate(client);
        await using var node = TestNode.Start();
        using var replica = node.Client();
        Assert.Equal("OK", replica.Call("REPLICAOF", "127.0.0.1", master.Port.ToString(CultureInfo.InvariantCulture)).Text);
        AssertFullSyncThenLiveThenPartial(client, replica, "our node replica of our node");
    }

    [Fact]
    public async Task ReplicaIsReadOnlyAnswersRoleAndWaitCounts()
    {
        await using var master = TestNode.Start("--enable-debug-command", "yes");
        await using var node = TestNode.Start();
        using var client = master.Client();
        using var replica = node.Client();
        string port = master.Port.ToString(CultureInfo.InvariantCulture);
        Assert.Equal("OK", replica.Call("REPLICAOF", "127.0.0.1", port).Text);
        Assert.Equal("OK Already connected to specified master", replica.Call("SLAVEOF", "127.0.0.1", port).Text);
        Wait.Until(() => ReplicationInfo.Info(replica, "master_link_status") == "up", "the replica's link is up");

        Assert.Equal("READONLY You can't write against a read only replica.", replica.Call("SET", "k", "v").Text);
        Assert.Equal("OK", replica.Call("MULTI").Text);
        Assert.Equal("READONLY You can't write against a read only replica.", replica.Call("INCR", "k").Text);
        Assert.StartsWith("EXECABORT", replica.Call("EXEC").Text);
        Assert.StartsWith("ERR WAIT cannot be used with replica instances.", replica.Call("WAIT", "1", "0").Text);

        var role = replica.Call("ROLE");
        Assert.Equal("slave", role.Items![0].Text);
        Assert.Equal("127.0.0.1", role.Items[1].Text);
        Assert.Equal(master.Port, role.Items[2].Integer);
        Assert.Equal("connected", role.Items[3].Text);

        Assert.Equal("OK", client.Call("SET", "k", "v").Text);
        // WAIT blocks until the replica acknowledges the write (the master asks with REPLCONF GETACK).
        Assert.Equal(1, client.Call("WAIT", "1", "0").Integer);
        Assert.Equal("v", replica.Call("GET", "k").Text);
        // More replicas than there are: the timeout answers with how many acknowledged.
        Assert.Equal(1, client.Call("WAIT", "2", "100").Integer);
        var masterRole = client.Call("ROLE");
        Assert.Equal("master", masterRole.Items![0].Text);
        Assert.Single(masterRole.Items[2].Items!);

        // A key past its expiry that the master has not deleted yet: the replica hides it but keeps it until the master's DEL.
        Assert.Equal("OK", client.Call("DEBUG", "SET-ACTIVE-EXPIRE", "0").Text);
        Assert.Equal("OK", client.Call("SET", "short", "x", "PX", "50").Text);
        Assert.Equal(1, client.Call("WAIT", "1", "0").Integer);
        long keys = replica.Call("DBSIZE").Integer;
        Wait.Until(() => replica.Call("GET", "short").Kind == RespKind.Null, "the replica hides the expired key");
        Assert.Equal(keys, replica.Call("DBSIZE").Integer);
        Assert.Equal(RespKind.Null, client.Call("GET", "short").Kind);
        Wait.Until(() => replica.Call("DBSIZE").Integer == keys - 1, "the master's DEL removes the key from the replica");

        // min-replicas-to-write with one good replica allows writes; with two, refuses them.
        Assert.Equal("OK", client.Call("CONFIG", "SET", "min-replicas-to-write", "1").Text);
        Wait.Until(() => client.Call("SET", "m", "1").Text == "OK", "a write is allowed with one good replica");
        Assert.Equal("OK", client.Call("CONFIG", "SET", "min-replicas-to-write", "2").Text);
        Assert.Equal("NOREPLICAS Not enough good replicas to write.", client.Call("SET", "m", "2").Text);
        Assert.Equal("OK", client.Call("CONFIG", "SET", "min-replicas-to-write", "0").Text);

        // replica-serve-stale-data no: a replica whose link is down refuses reads.
        Assert.Equal("OK", replica.Call("CONFIG", "SET", "replica-serve-stale-data", "no").Text);
        Assert.Equal("OK", replica.Call("REPLICAOF", "127.0.0.1", "1").Text);
        Assert.Equal("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", replica.Call("GET", "k").Text);
        Assert.Equal("OK", replica.Call("CONFIG", "SET", "replica-serve-stale-data", "yes").Text);
        Assert.Equal("v", replica.Call("GET", "k").Text);
    }

    [Fact]
    public async Task PromotedReplicaKeepsTheOldHistoryForItsOwnReplicas()
    {
        // redis-server <- our node <- redis-server: promoting the middle one lets the last continue (+CONTINUE <newid>).
        using var top = StartRedis("--repl-diskless-sync-delay", "0");
        using var topClient = top.Client();
        Populate(topClient);
        await using var middle = TestNode.Start("--replicaof", $"127.0.0.1 {top.Port}");
        using var middleClient = middle.Client();
        Wait.Until(() => ReplicationInfo.Info(middleClient, "master_link_status") == "up", "the middle node is in sync");
        using var bottom = StartRedis("--replicaof", $"127.0.0.1 {middle.Port}");
        using var bottomClient = bottom.Client();
        Wait.Until(() => ReplicationInfo.Info(bottomClient, "master_link_status") == "up", "the bottom redis-server is in sync");
        Assert.Equal("OK", topClient.Call("SET", "chained", "1").Text);
        Wait.Until(() => bottomClient.Call("GET", "chained").Text == "1", "a write reaches the end of the chain");
        Assert.Equal(ReplicationInfo.Info(topClient, "master_repl_offset"), ReplicationInfo.Info(middleClient, "master_repl_offset"));
        string oldId = ReplicationInfo.Info(middleClient, "master_replid")!;

        Assert.Equal("OK", middleClient.Call("REPLICAOF", "NO", "ONE").Text);
        Assert.Equal("master", ReplicationInfo.Info(middleClient, "role"));
        Assert.Equal(oldId, ReplicationInfo.Info(middleClient, "master_replid2"));
        Assert.NotEqual(oldId, ReplicationInfo.Info(middleClient, "master_replid"));
        Wait.Until(() => ReplicationInfo.Info(bottomClient, "master_link_status") == "up" && ReplicationInfo.Info(bottomClient, "master_replid") == ReplicationInfo.Info(middleClient, "master_replid"),
            "the bottom redis-server follows the new history");
        Assert.Equal("1", ReplicationInfo.Info(middleClient, "sync_full"));
        Assert.Equal("1", ReplicationInfo.Info(middleClient, "sync_partial_ok"));
        Assert.Equal("OK", middleClient.Call("SET", "after", "1").Text);
        Wait.Until(() => bottomClient.Call("GET", "after").Text == "1", "writes on the promoted node reach its replica");
    }

    [Fact]
    public async Task InfoReplicationHasRedisFieldsInBothRoles()
    {
        using var redisMaster = StartRedis("--repl-diskless-sync-delay", "0");
        using var redisReplica = StartRedis("--replicaof", $"127.0.0.1 {redisMaster.Port}");
        await using var nodeMaster = TestNode.Start();
        await using var nodeReplica = TestNode.Start("--replicaof", $"127.0.0.1 {nodeMaster.Port}");
        using var rm = redisMaster.Client();
        using var rr = redisReplica.Client();
        using var nm = nodeMaster.Client();
        using var nr = nodeReplica.Client();
        Wait.Until(() => ReplicationInfo.Info(rr, "master_link_status") == "up" && ReplicationInfo.Info(nr, "master_link_status") == "up", "both replicas are in sync");
        Wait.Until(() => ReplicationInfo.Info(rm, "slave0")?.Contains("state=online", StringComparison.Ordinal) == true
            && ReplicationInfo.Info(nm, "slave0")?.Contains("state=online", StringComparison.Ordinal) == true, "both masters see their replica online");
        Assert.Equal(FieldNames(rm), FieldNames(nm));
        Assert.Equal(FieldNames(rr), FieldNames(nr));
        string slave0 = ReplicationInfo.Info(nm, "slave0")!;
        Assert.Matches($"^ip=127.0.0.1,port={nodeReplica.Port},state=online,offset=\\d+,lag=\\d+$", slave0);
        foreach (var client in new[] { rm, nm })
        {
            Assert.Equal("1", ReplicationInfo.Info(client, "sync_full"));
            Assert.Equal("0", ReplicationInfo.Info(client, "sync_partial_ok"));
            Assert.Equal("OK", client.Call("CONFIG", "RESETSTAT").Text);
            Assert.Equal("0", ReplicationInfo.Info(client, "sync_full"));
        }
    }

    [Fact]
    public async Task FullSyncUnderAContinuousWriterLosesNothing()
    {
        // The snapshot is taken while writes go on; what is written after the snapshot point reaches the replicas
        // through the held stream, exactly once.
        await using var master = TestNode.Start();
        using var client = master.Client();
        Populate(client);
        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = Task.Run(() =>
        {
            using var w = master.Client();
            while (!stop.IsCancellationRequested)
            {
                long n = Interlocked.Increment(ref written);
                w.Call("INCR", "counter");
                w.Call("RPUSH", "log", n.ToString(CultureInfo.InvariantCulture));
                w.Call("SET", "k" + (n % 500).ToString(CultureInfo.InvariantCulture), n.ToString(CultureInfo.InvariantCulture), "PX", "600000");
            }
        });
        using var redis = StartRedis("--replicaof", $"127.0.0.1 {master.Port}");
        await using var node = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var redisClient = redis.Client();
        using var nodeClient = node.Client();
        Wait.Until(() => ReplicationInfo.Info(redisClient, "master_link_status") == "up" && ReplicationInfo.Info(nodeClient, "master_link_status") == "up", "both replicas synced under the writer");
        long before = Interlocked.Read(ref written);
        Wait.Until(() => Interlocked.Read(ref written) > before + 200, "the writer goes on after the syncs");
        await stop.CancelAsync();
        await writer;
        Assert.Equal(2, client.Call("WAIT", "2", "0").Integer);
        ReplicationInfo.WaitInSync(client, redisClient, "redis-server replica caught up");
        ReplicationInfo.WaitInSync(client, nodeClient, "node replica caught up");
        var expected = Dataset.Read(client);
        Dataset.Read(redisClient).AssertSameAs(expected, "redis-server replica after a sync under writes");
        Dataset.Read(nodeClient).AssertSameAs(expected, "node replica after a sync under writes");
        Assert.Equal(client.Call("GET", "counter").Text, nodeClient.Call("GET", "counter").Text);
    }

    [Fact]
    public async Task OldSyncGetsTheSnapshotAsABulkThenTheStream()
    {
        await using var master = TestNode.Start();
        using var client = master.Client();
        Assert.Equal("OK", client.Call("SET", "k", "v").Text);
        using var tcp = new System.Net.Sockets.TcpClient("127.0.0.1", master.Port);
        tcp.ReceiveTimeout = 30_000;
        var stream = tcp.GetStream();
        stream.Write("SYNC\r\n"u8);
        // SYNC: no +FULLRESYNC line, the snapshot as $<len> (no CRLF after it, as Redis), then the stream.
        var header = new List<byte>();
        for (int b = stream.ReadByte(); b != '\n'; b = stream.ReadByte())
        {
            header.Add((byte)b);
        }
        string line = System.Text.Encoding.ASCII.GetString([.. header]).TrimEnd('\r');
        Assert.StartsWith("$", line, StringComparison.Ordinal);
        var snapshot = new byte[int.Parse(line[1..], CultureInfo.InvariantCulture)];
        stream.ReadExactly(snapshot);
        Assert.Equal("REDIS0010", System.Text.Encoding.ASCII.GetString(snapshot, 0, 9));
        Assert.Equal("OK", client.Call("SET", "after", "1").Text);
        var reader = new CacheOperator.Client.RespFrameReader();
        Assert.Equal("SELECT", RespValue.From(reader.Read(stream)).Items![0].Text);
        Assert.Equal(new string?[] { "SET", "after", "1" }, RespValue.From(reader.Read(stream)).Texts);
    }

    [Fact]
    public async Task ReplconfAndReplicaofErrorsAsRedis()
    {
        using var redis = StartRedis();
        await using var node = TestNode.Start();
        using var r = redis.Client();
        using var n = node.Client();
        string[][] commands =
        [
            ["REPLCONF", "listening-port"],
            ["REPLCONF", "nosuch", "1"],
            ["REPLCONF", "listening-port", "x"],
            ["REPLCONF", "listening-port", "6380", "capa", "eof", "capa", "psync2"],
            ["REPLICAOF", "127.0.0.1", "99999"],
            ["REPLICAOF", "127.0.0.1", "port"],
            ["REPLICAOF", "NO", "ONE"],
            ["WAIT", "x", "0"],
            ["WAIT", "0", "-1"],
            ["WAIT", "0", "x"],
            ["WAIT", "1", "10"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(r.Call(command).ToString(), n.Call(command).ToString());
        }
        Assert.Equal(r.Call("ROLE").Items![0].Text, n.Call("ROLE").Items![0].Text);
    }

    [Fact]
    public async Task ReplicaKilledAndRestartedContinuesFromItsSnapshot()
    {
        // kill -9 of a replica process: restarted on its dump.rdb, it asks for the history and offset the snapshot
        // recorded and continues from the master's backlog, without a second full sync.
        await using var master = TestNode.Start();
        using var client = master.Client();
        Populate(client);
        string directory = Directory.CreateTempSubdirectory("repl-node-").FullName;
        _directories.Add(directory);
        int port = NodeProcess.FreePort();
        string[] args = ["--port", "{port}", "--bind", "127.0.0.1", "--replicaof", $"127.0.0.1 {master.Port}", "--save", "", "--dir", directory];
        using (var first = NodeProcess.Start(args, port: port))
        {
            using var replica = new RespClient(port);
            ReplicationInfo.WaitInSync(client, replica, "first run synced");
            Populate(client, "after:");
            // The stream is in database 3 at the snapshot and goes on there: the snapshot records it (repl-stream-db).
            Assert.Equal("OK", client.Call("SELECT", "3").Text);
            Assert.Equal("OK", client.Call("SET", "db3:before:save", "1").Text);
            ReplicationInfo.WaitInSync(client, replica, "first run applied the writes");
            Assert.Equal("OK", replica.Call("SAVE").Text);
            first.Process.Kill();
            first.Process.WaitForExit();
        }
        Assert.Equal("OK", client.Call("SET", "db3:while:down", "1").Text);
        Assert.Equal("OK", client.Call("SELECT", "0").Text);
        Assert.Equal("OK", client.Call("SET", "while:down", "1").Text);
        Assert.Equal("1", ReplicationInfo.Info(client, "sync_full"));
        long partialBefore = long.Parse(ReplicationInfo.Info(client, "sync_partial_ok")!, CultureInfo.InvariantCulture);
        using var second = NodeProcess.Start(args, port: port);
        using var restarted = new RespClient(port);
        ReplicationInfo.WaitInSync(client, restarted, "the restarted replica caught up");
        Assert.Equal("1", ReplicationInfo.Info(client, "sync_full"));
        Assert.Equal(partialBefore + 1, long.Parse(ReplicationInfo.Info(client, "sync_partial_ok")!, CultureInfo.InvariantCulture));
        Dataset.Read(restarted).AssertSameAs(Dataset.Read(client), "the restarted replica");
    }

    [Fact]
    public async Task ReplicasAuthenticateWithMasterauth()
    {
        using var redis = StartRedis("--requirepass", "redis-secret", "--repl-diskless-sync-delay", "0");
        await using var master = TestNode.Start("--requirepass", "node-secret");
        await using var ofRedis = TestNode.Start("--replicaof", $"127.0.0.1 {redis.Port}", "--masterauth", "redis-secret");
        using var ofNode = StartRedis("--replicaof", $"127.0.0.1 {master.Port}", "--masterauth", "node-secret");
        using var c1 = ofRedis.Client();
        using var c2 = ofNode.Client();
        Wait.Until(() => ReplicationInfo.Info(c1, "master_link_status") == "up", "our node authenticates with redis-server");
        Wait.Until(() => ReplicationInfo.Info(c2, "master_link_status") == "up", "redis-server authenticates with our node");
    }

    [Fact]
    public async Task MetricsReportRoleOffsetLagAndSyncs()
    {
        await using var master = await MonitoredNode.StartAsync();
        await using var node = TestNode.Start("--replicaof", $"127.0.0.1 {master.Server.Port}");
        using var client = master.Client();
        using var replica = node.Client();
        Assert.Equal("OK", client.Call("SET", "k", "v").Text);
        Assert.Equal(1, client.Call("WAIT", "1", "0").Integer);
        var samples = MonitoredNode.Samples(await master.ScrapeAsync());
        Assert.Equal(0, samples["cache_replication_replica"]);
        Assert.Equal(1, samples["cache_replication_connected_replicas"]);
        Assert.Equal(1, samples["cache_replication_full_syncs_total"]);
        Assert.Equal(long.Parse(ReplicationInfo.Info(client, "master_repl_offset")!, CultureInfo.InvariantCulture), samples["cache_replication_offset_bytes"]);
        string label = $"{{replica=\"127.0.0.1:{node.Port}\"}}";
        Assert.True(samples["cache_replication_replica_lag_bytes" + label] >= 0);
        Assert.True(samples["cache_replication_replica_ack_age_seconds" + label] >= 0);
        Assert.True(samples.ContainsKey("cache_replication_partial_syncs_total{result=\"ok\"}"));
        Assert.Equal(1, node.Server.Replicator.Link!.IsUp ? 1 : 0);
    }

    /// <summary>
    /// A redis-server in a directory of its own: a replica keeps the snapshot it receives as dump.rdb in its working
    /// directory, which another redis-server started there would load.
    /// </summary>
    private RedisServerProcess StartRedis(params string[] options)
    {
        string directory = Directory.CreateTempSubdirectory("repl-redis-").FullName;
        _directories.Add(directory);
        return RedisServerProcess.StartOn(NodeProcess.FreePort(), directory, options);
    }

    /// <summary>
    /// Waits for the full sync and compares every database, writes more and compares again, cuts the link on the
    /// master's side and checks that the replica continued with a partial resync, then compares once more.
    /// </summary>
    private static void AssertFullSyncThenLiveThenPartial(RespClient master, RespClient replica, string what)
    {
        ReplicationInfo.WaitInSync(master, replica, $"{what}: full sync");
        Dataset.Read(replica).AssertSameAs(Dataset.Read(master), $"{what}: after the full sync");
        Assert.Equal("1", ReplicationInfo.Info(master, "sync_full"));

        Populate(master, "live:");
        Assert.Equal(1, master.Call("DEL", "str:plain").Integer);
        Assert.Equal(1, master.Call("WAIT", "1", "0").Integer);
        ReplicationInfo.WaitInSync(master, replica, $"{what}: live writes");
        Dataset.Read(replica).AssertSameAs(Dataset.Read(master), $"{what}: after live writes");

        long partialBefore = long.Parse(ReplicationInfo.Info(master, "sync_partial_ok")!, CultureInfo.InvariantCulture);
        // The stream is in database 3 when the link is cut and stays there: the replica's master client keeps its database.
        Assert.Equal("OK", master.Call("SELECT", "3").Text);
        Assert.Equal("OK", master.Call("SET", "before:cut", "1").Text);
        Assert.Equal(1, master.Call("WAIT", "1", "0").Integer);
        Assert.Equal(1, master.Call("CLIENT", "KILL", "TYPE", "replica").Integer);
        Assert.Equal("OK", master.Call("SET", "while:cut", "1").Text);
        Assert.Equal("OK", master.Call("SELECT", "0").Text);
        Assert.Equal(1, master.Call("LPUSH", "while:list", "a").Integer);
        Wait.Until(() => long.Parse(ReplicationInfo.Info(master, "sync_partial_ok")!, CultureInfo.InvariantCulture) == partialBefore + 1, $"{what}: the replica continues partially");
        ReplicationInfo.WaitInSync(master, replica, $"{what}: after the cut");
        Assert.Equal("1", ReplicationInfo.Info(master, "sync_full"));
        Dataset.Read(replica).AssertSameAs(Dataset.Read(master), $"{what}: after the partial resync");
    }

    /// <summary>Every data type in both encodings, some keys with TTLs, in two databases.</summary>
    private static void Populate(RespClient c, string prefix = "")
    {
        string Key(string name) => prefix + name;
        Assert.Equal("OK", c.Call("SET", Key("str:plain"), "hello").Text);
        Assert.Equal("OK", c.Call("SET", Key("str:int"), "12345").Text);
        Assert.Equal("OK", c.Call("SET", Key("str:ttl"), "soon", "PX", "600000").Text);
        Assert.Equal("OK", c.Call("SET", Key("str:big"), new string('x', 5000)).Text);
        c.Call("RPUSH", Key("list:small"), "a", "b", "c");
        c.Call(["RPUSH", Key("list:big"), .. Enumerable.Range(0, 600).Select(i => "element-" + i)]);
        c.Call("SADD", Key("set:ints"), "1", "2", "3");
        c.Call(["SADD", Key("set:big"), .. Enumerable.Range(0, 600).Select(i => "m" + i)]);
        c.Call("HSET", Key("hash:small"), "f1", "v1", "f2", "v2");
        c.Call(["HSET", Key("hash:big"), .. Enumerable.Range(0, 600).SelectMany(i => new[] { "f" + i, "v" + i })]);
        c.Call("ZADD", Key("zset:small"), "1", "a", "2.5", "b");
        c.Call(["ZADD", Key("zset:big"), .. Enumerable.Range(0, 200).SelectMany(i => new[] { i.ToString(CultureInfo.InvariantCulture), "z" + i })]);
        c.Call("PEXPIRE", Key("hash:small"), "900000");
        c.Call("PEXPIRE", Key("zset:big"), "900000");
        Assert.Equal("OK", c.Call("SELECT", "3").Text);
        Assert.Equal("OK", c.Call("SET", Key("db3:str"), "three", "EX", "1000").Text);
        c.Call("RPUSH", Key("db3:list"), "x");
        Assert.Equal("OK", c.Call("SELECT", "0").Text);
    }

    private static List<string> FieldNames(RespClient client) =>
        client.Call("INFO", "replication").Text!.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#')).Select(l => l[..l.IndexOf(':')]).ToList();
}
