using System.Globalization;
using System.Net.Sockets;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// Standalone FAILOVER (Redis 6.2+) against redis-server 7.0.15: the same error replies in every state; a failover
/// from a master to its replica in each pairing (our node and redis-server on either side), with writes acknowledged
/// by WAIT before it readable on the new master and the old master continuing partially as its replica; ABORT and
/// TIMEOUT with a replica that never catches up; FORCE; clients blocked in WAIT or BLPOP answered -UNBLOCKED when the
/// master turns replica, and a WAIT whose client leaves forgotten.
/// </summary>
public sealed class FailoverTests : IDisposable
{
    private readonly List<string> _directories = [];
    private readonly List<IDisposable> _owned = [];

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task ErrorsWithoutReplicasAndOnAReplicaAsRedis()
    {
        using var redis = StartRedis();
        await using var node = TestNode.Start();
        using var r = redis.Client();
        using var n = node.Client();
        string[][] commands =
        [
            ["FAILOVER"],
            ["FAILOVER", "ABORT"],
            ["FAILOVER", "TIMEOUT", "0"],
            ["FAILOVER", "TIMEOUT", "-5"],
            ["FAILOVER", "TIMEOUT", "x"],
            ["FAILOVER", "TO", "127.0.0.1", "x"],
            ["FAILOVER", "TO", "127.0.0.1"],
            ["FAILOVER", "BOGUS"],
            ["FAILOVER", "FORCE", "FORCE"],
            ["FAILOVER", "TIMEOUT", "5", "TIMEOUT", "5"],
            ["FAILOVER", "TO", "a", "1", "TO", "b", "2"],
            ["FAILOVER", "ABORT", "TIMEOUT", "5"],
            ["FAILOVER", "FORCE"],
            ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE", "TIMEOUT", "10"],
            ["PSYNC", "0123456789012345678901234567890123456789", "1", "FAILOVER"],
        ];
        AssertSameReplies(r, n, commands);
        Assert.Equal("no-failover", ReplicationInfo.Info(n, "master_failover_state"));

        // A replica (of a master that is not there) refuses FAILOVER, and a PSYNC FAILOVER naming another history.
        Assert.Equal("OK", r.Call("REPLICAOF", "127.0.0.1", "1").Text);
        Assert.Equal("OK", n.Call("REPLICAOF", "127.0.0.1", "1").Text);
        AssertSameReplies(r, n,
        [
            ["FAILOVER"],
            ["FAILOVER", "TO", "127.0.0.1", "1"],
            ["FAILOVER", "ABORT"],
        ]);
        using (var r2 = redis.Client())
        using (var n2 = node.Client())
        {
            AssertSameReplies(r2, n2, [["PSYNC", "0123456789012345678901234567890123456789", "1", "FAILOVER"]]);
        }
    }

    [Fact]
    public async Task RefusedInClusterModeAsRedis()
    {
        using var redis = StartRedis("--cluster-enabled", "yes");
        await using var node = TestNode.Start("--cluster-enabled", "yes");
        using var r = redis.Client();
        using var n = node.Client();
        AssertSameReplies(r, n, [["FAILOVER"], ["FAILOVER", "ABORT"], ["FAILOVER", "TO", "127.0.0.1", "1"], ["FAILOVER", "BOGUS"]]);
    }

    [Fact]
    public async Task AbortTimeoutAndErrorsWhileWaitingForALaggingReplicaAsRedis()
    {
        using var redis = StartRedis("--repl-diskless-sync-delay", "0");
        await using var node = TestNode.Start();
        var servers = new[] { (Name: "redis-server", Port: redis.Port), (Name: "node", Port: node.Port) };
        foreach (var (name, port) in servers)
        {
            using var c = new RespClient(port);
            // A replica that never acknowledges anything: once the stream moves past the snapshot, it is never in sync.
            ConnectSilentReplica(port, listeningPort: 1);
            Wait.Until(() => c.Call("ROLE").Items![2].Items!.Count == 1, $"{name}: the silent replica is online");
            Assert.Equal("OK", c.Call("SET", "k", "before").Text);
        }
        using var r = redis.Client();
        using var n = node.Client();
        AssertSameReplies(r, n,
        [
            ["FAILOVER", "TO", "127.0.0.1", "2"],
            ["FAILOVER", "FORCE"],
            ["FAILOVER", "TO", "127.0.0.1", "1", "FORCE"],
            ["PSYNC", "0123456789012345678901234567890123456789", "1", "FAILOVER"],
            ["FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "600000"],
            ["FAILOVER"],
            ["FAILOVER", "ABORT", "x"],
            ["REPLICAOF", "NO", "ONE"],
            ["REPLICAOF", "127.0.0.1", "1"],
        ]);
        using (var r2 = redis.Client())
        using (var n2 = node.Client())
        {
            AssertSameReplies(r2, n2, [["PSYNC", "?", "-1"]]);
        }
        Assert.Equal("waiting-for-sync", ReplicationInfo.Info(r, "master_failover_state"));
        Assert.Equal("waiting-for-sync", ReplicationInfo.Info(n, "master_failover_state"));

        // Writes wait while the failover waits; reads go on; ABORT lets the held write through on the same master.
        using var rw = redis.Client();
        using var nw = node.Client();
        rw.Send("SET", "k", "during");
        nw.Send("SET", "k", "during");
        Assert.Equal("before", r.Call("GET", "k").Text);
        Assert.Equal("before", n.Call("GET", "k").Text);
        AssertSameReplies(r, n, [["FAILOVER", "ABORT"], ["FAILOVER", "ABORT"]]);
        Assert.Equal("OK", rw.Read().Text);
        Assert.Equal("OK", nw.Read().Text);
        Assert.Equal("no-failover", ReplicationInfo.Info(n, "master_failover_state"));
        Assert.Equal("master", ReplicationInfo.Info(n, "role"));

        // TIMEOUT without FORCE: the failover gives up and the master stays a master.
        foreach (var client in new[] { r, n })
        {
            Assert.Equal("OK", client.Call("FAILOVER", "TO", "127.0.0.1", "1", "TIMEOUT", "300").Text);
            Wait.Until(() => ReplicationInfo.Info(client, "master_failover_state") == "no-failover", "the failover times out");
            Assert.Equal("master", ReplicationInfo.Info(client, "role"));
            Assert.Equal("OK", client.Call("SET", "k", "after-timeout").Text);
            // Without TO, any replica in sync would do; none is.
            Assert.Equal("OK", client.Call("FAILOVER", "TIMEOUT", "300").Text);
            Wait.Until(() => ReplicationInfo.Info(client, "master_failover_state") == "no-failover", "the failover to any replica times out");
            Assert.Equal("master", ReplicationInfo.Info(client, "role"));
        }
    }

    [Theory]
    [InlineData("node", "node", true)]
    [InlineData("node", "node", false)]
    [InlineData("node", "redis", true)]
    [InlineData("redis", "node", true)]
    [InlineData("redis", "node", false)]
    public async Task MasterHandsOverToItsReplica(string masterKind, string replicaKind, bool named)
    {
        int masterPort = await StartAsync(masterKind);
        int replicaPort = await StartAsync(replicaKind, "--replicaof", $"127.0.0.1 {masterPort}");
        using var master = new RespClient(masterPort);
        using var replica = new RespClient(replicaPort);
        ReplicationInfo.WaitInSync(master, replica, "the replica is in sync");
        for (int i = 0; i < 200; i++)
        {
            Assert.Equal("OK", master.Call("SET", $"key:{i}", $"value:{i}").Text);
        }
        Assert.Equal(3, master.Call("RPUSH", "list", "a", "b", "c").Integer);
        Assert.Equal(1, master.Call("WAIT", "1", "0").Integer);
        var before = Dataset.Read(master);
        string oldId = ReplicationInfo.Info(master, "master_replid")!;

        string[] failover = named ? ["FAILOVER", "TO", "127.0.0.1", replicaPort.ToString(CultureInfo.InvariantCulture)] : ["FAILOVER"];
        Assert.Equal("OK", master.Call(failover).Text);
        Wait.Until(() => ReplicationInfo.Info(replica, "role") == "master", $"{replicaKind} replica took over");
        Wait.Until(() => ReplicationInfo.Info(master, "role") == "slave" && ReplicationInfo.Info(master, "master_link_status") == "up"
            && ReplicationInfo.Info(master, "master_failover_state") == "no-failover", $"{masterKind} master follows it");
        Assert.Equal(replicaPort.ToString(CultureInfo.InvariantCulture), ReplicationInfo.Info(master, "master_port"));
        // The new master started a history of its own, with the old one as the second: the old master continued.
        Assert.Equal(oldId, ReplicationInfo.Info(replica, "master_replid2"));
        Assert.Equal(ReplicationInfo.Info(replica, "master_replid"), ReplicationInfo.Info(master, "master_replid"));
        Assert.Equal("0", ReplicationInfo.Info(replica, "sync_full"));
        Assert.Equal("1", ReplicationInfo.Info(replica, "sync_partial_ok"));

        Dataset.Read(replica).AssertSameAs(before, "the new master holds every acknowledged write");
        Assert.StartsWith("READONLY", master.Call("SET", "k", "v").Text, StringComparison.Ordinal);
        Assert.Equal("OK", replica.Call("SET", "after", "1").Text);
        Assert.Equal(1, replica.Call("WAIT", "1", "0").Integer);
        Assert.Equal("1", master.Call("GET", "after").Text);
    }

    [Theory]
    [InlineData("node")]
    [InlineData("redis")]
    public async Task ForceFailsOverAfterTheTimeoutAndARefusingTargetAborts(string masterKind)
    {
        // The first replica announcing the target's address never acknowledges: the failover waits for it and, with
        // FORCE, follows that address anyway once the timeout passes; there is the real replica, which takes over.
        int masterPort = await StartAsync(masterKind);
        using var master = new RespClient(masterPort);
        int targetPort = NodeProcess.FreePort();
        ConnectSilentReplica(masterPort, targetPort);
        Wait.Until(() => master.Call("ROLE").Items![2].Items!.Count == 1, "the silent replica is online");
        await StartAsync("node", "--port", targetPort.ToString(CultureInfo.InvariantCulture), "--replicaof", $"127.0.0.1 {masterPort}");
        using var target = new RespClient(targetPort);
        ReplicationInfo.WaitInSync(master, target, "the real replica is in sync");
        Assert.Equal("OK", master.Call("SET", "k", "1").Text);
        Wait.Until(() => master.Call("WAIT", "2", "200").Integer == 1, "the real replica acknowledges the write");
        Assert.Equal("OK", master.Call("FAILOVER", "TO", "127.0.0.1", targetPort.ToString(CultureInfo.InvariantCulture), "FORCE", "TIMEOUT", "300").Text);
        Wait.Until(() => ReplicationInfo.Info(target, "role") == "master", "the target took over after the timeout");
        Wait.Until(() => ReplicationInfo.Info(master, "role") == "slave" && ReplicationInfo.Info(master, "master_link_status") == "up" && ReplicationInfo.Info(master, "master_failover_state") == "no-failover",
            "the old master follows it");
        Assert.Equal("1", master.Call("GET", "k").Text);

        // A target that is not a replica of this history refuses the PSYNC FAILOVER: the failover is aborted and the
        // node that asked is a master again.
        int otherPort = await StartAsync(masterKind);
        using var other = new RespClient(otherPort);
        int standalonePort = await StartAsync("node");
        ConnectSilentReplica(otherPort, standalonePort);
        Wait.Until(() => other.Call("ROLE").Items![2].Items!.Count == 1, "the silent replica of the second master is online");
        Assert.Equal("OK", other.Call("SET", "k", "1").Text);
        Assert.Equal("OK", other.Call("FAILOVER", "TO", "127.0.0.1", standalonePort.ToString(CultureInfo.InvariantCulture), "FORCE", "TIMEOUT", "200").Text);
        Wait.Until(() => ReplicationInfo.Info(other, "master_failover_state") == "no-failover" && ReplicationInfo.Info(other, "role") == "master", "the refused failover is aborted");
        Assert.Equal("OK", other.Call("SET", "still", "master").Text);
    }

    [Theory]
    [InlineData("node", "replicaof")]
    [InlineData("redis", "replicaof")]
    [InlineData("node", "failover")]
    [InlineData("redis", "failover")]
    public async Task BlockedClientsAreUnblockedWhenTheMasterTurnsReplica(string masterKind, string how)
    {
        int masterPort = await StartAsync(masterKind);
        int replicaPort = await StartAsync("node", "--replicaof", $"127.0.0.1 {masterPort}");
        using var master = new RespClient(masterPort);
        using var replica = new RespClient(replicaPort);
        ReplicationInfo.WaitInSync(master, replica, "the replica is in sync");
        using var waiter = new RespClient(masterPort);
        using var popper = new RespClient(masterPort);
        Assert.Equal("OK", waiter.Call("SET", "w", "1").Text);
        waiter.Send("WAIT", "2", "0");
        popper.Send("BLPOP", "nothing", "0");
        Wait.Until(() => ReplicationInfo.Info(master, "blocked_clients") == "2", "both clients are blocked");

        var command = how == "replicaof" ? new[] { "REPLICAOF", "127.0.0.1", replicaPort.ToString(CultureInfo.InvariantCulture) } : ["FAILOVER"];
        Assert.Equal("OK", master.Call(command).Text);
        const string Unblocked = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
        foreach (var client in new[] { waiter, popper })
        {
            var reply = client.Read();
            Assert.Equal(RespKind.Error, reply.Kind);
            Assert.Equal(Unblocked, reply.Text);
            Assert.True(client.IsClosedByServer(), "the connection closes after the reply");
        }
        Wait.Until(() => ReplicationInfo.Info(master, "blocked_clients") == "0", "nobody is blocked any more");
    }

    [Fact]
    public async Task WaitOfADisconnectedClientIsForgotten()
    {
        await using var master = TestNode.Start();
        await using var node = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var m = master.Client();
        using var replica = node.Client();
        ReplicationInfo.WaitInSync(m, replica, "the replica is in sync");
        using (var waiter = master.Client())
        {
            Assert.Equal("OK", waiter.Call("SET", "w", "1").Text);
            waiter.Send("WAIT", "2", "0");
            Wait.Until(() => ReplicationInfo.Info(m, "blocked_clients") == "1", "the client waits");
            Assert.Equal(1, master.Server.Replicator.WaitingCount);
        }
        Wait.Until(() => ReplicationInfo.Info(m, "blocked_clients") == "0" && master.Server.Replicator.WaitingCount == 0, "the wait is forgotten with its client");
        // The replicator still answers the waits that come after.
        Assert.Equal("OK", m.Call("SET", "w", "2").Text);
        Assert.Equal(1, m.Call("WAIT", "1", "0").Integer);
    }

    /// <summary>Starts our node or a redis-server (kind "node" or "redis") with the options and returns its port.</summary>
    private async Task<int> StartAsync(string kind, params string[] options)
    {
        if (kind == "redis")
        {
            var redis = StartRedis(["--repl-diskless-sync-delay", "0", .. options]);
            _owned.Add(redis);
            return redis.Port;
        }
        var node = TestNode.Start(options);
        _owned.Add(new AsyncDisposer(node));
        await Task.CompletedTask;
        return node.Port;
    }

    /// <summary>
    /// A raw replica that announces <paramref name="listeningPort"/>, asks for a full sync without the EOF capability
    /// (so the master puts it online once the snapshot is sent) and then never acknowledges anything.
    /// </summary>
    private void ConnectSilentReplica(int masterPort, int listeningPort)
    {
        var tcp = new TcpClient("127.0.0.1", masterPort) { NoDelay = true };
        _owned.Add(tcp);
        var reader = new CacheOperator.Client.RespFrameReader();
        var stream = tcp.GetStream();
        stream.Write(RespClient.Encode("REPLCONF", "listening-port", listeningPort.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal("OK", RespValue.From(reader.Read(stream)).Text);
        stream.Write(RespClient.Encode("PSYNC", "?", "-1"));
        // The rest (+FULLRESYNC, the snapshot) is read in the background so the master's writes never stall.
        _ = Task.Run(async () =>
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The test is over.
            }
        });
    }

    private static void AssertSameReplies(RespClient redis, RespClient node, string[][] commands)
    {
        foreach (var command in commands)
        {
            var expected = redis.Call(command);
            var actual = node.Call(command);
            Assert.True(expected.ToString() == actual.ToString(), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        }
    }

    private RedisServerProcess StartRedis(params string[] options)
    {
        string directory = Directory.CreateTempSubdirectory("failover-redis-").FullName;
        _directories.Add(directory);
        return RedisServerProcess.StartOn(NodeProcess.FreePort(), directory, options);
    }

    /// <summary>Disposes a node with the synchronous disposables.</summary>
    private sealed class AsyncDisposer(TestNode node) : IDisposable
    {
        public void Dispose() => node.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
