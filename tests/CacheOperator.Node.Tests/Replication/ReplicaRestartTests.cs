using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// A master with two replicas (our node as processes) under a continuous writer; one replica is killed with SIGKILL
/// and restarted. As a Redis replica (repl-diskless-load disabled), it kept the snapshot of its full sync as
/// dump.rdb: restarted on it, it continues from the master's backlog (sync_partial_ok grows, sync_full does not);
/// restarted empty, it asks for a full sync (sync_full grows by one). The other replica is untouched, and the
/// restarted one converges to the master's data. Run with our node and with redis-server as the master.
/// </summary>
public sealed class ReplicaRestartTests : IDisposable
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

    [Theory]
    [InlineData("node", true)]
    [InlineData("node", false)]
    [InlineData("redis", true)]
    [InlineData("redis", false)]
    public async Task KilledReplicaRestartedResyncsAsRedisAndConverges(string masterKind, bool keepsItsSnapshot)
    {
        await using var node = masterKind == "node" ? TestNode.Start() : null;
        using var redis = masterKind == "redis" ? StartRedis("--repl-diskless-sync-delay", "0") : null;
        int masterPort = node?.Port ?? redis!.Port;
        using var master = new RespClient(masterPort);
        string[] ReplicaArgs(string directory) =>
            ["--port", "{port}", "--bind", "127.0.0.1", "--replicaof", $"127.0.0.1 {masterPort}", "--save", "", "--dir", directory];
        int killedPort = NodeProcess.FreePort();
        string killedDir = NewDirectory();
        using var other = NodeProcess.Start(ReplicaArgs(NewDirectory()));
        using var otherClient = new RespClient(other.Port);

        using var stop = new CancellationTokenSource();
        long written = 0;
        var writer = Task.Run(() =>
        {
            using var w = new RespClient(masterPort);
            while (!stop.IsCancellationRequested)
            {
                long n = Interlocked.Increment(ref written);
                string text = n.ToString(CultureInfo.InvariantCulture);
                w.Call("INCR", "counter");
                w.Call("SET", "key:" + (n % 300).ToString(CultureInfo.InvariantCulture), text);
                w.Call("HSET", "hash", "f" + (n % 50).ToString(CultureInfo.InvariantCulture), text);
            }
        });
        try
        {
            using (var first = NodeProcess.Start(ReplicaArgs(killedDir), port: killedPort))
            {
                using var killed = new RespClient(killedPort);
                Wait.Until(() => ReplicationInfo.Info(killed, "master_link_status") == "up" && ReplicationInfo.Info(otherClient, "master_link_status") == "up", "both replicas synced");
                long before = Interlocked.Read(ref written);
                Wait.Until(() => Interlocked.Read(ref written) > before + 100, "the writer goes on with both replicas online");
                first.Process.Kill();
                first.Process.WaitForExit();
            }
            Assert.Equal("2", ReplicationInfo.Info(master, "sync_full"));
            long partialBefore = long.Parse(ReplicationInfo.Info(master, "sync_partial_ok")!, CultureInfo.InvariantCulture);
            long whileDown = Interlocked.Read(ref written);
            Wait.Until(() => Interlocked.Read(ref written) > whileDown + 100, "the writer goes on while the replica is down");

            string snapshot = Path.Combine(killedDir, "dump.rdb");
            Assert.True(File.Exists(snapshot), "the full sync left the master's snapshot as dump.rdb");
            if (!keepsItsSnapshot)
            {
                File.Delete(snapshot);
            }
            using var second = NodeProcess.Start(ReplicaArgs(killedDir), port: killedPort);
            using var restarted = new RespClient(killedPort);
            Wait.Until(() => ReplicationInfo.Info(restarted, "master_link_status") == "up", "the restarted replica synced");
            long after = Interlocked.Read(ref written);
            Wait.Until(() => Interlocked.Read(ref written) > after + 100, "the writer goes on after the restart");
            // With its snapshot it continues from the backlog; without, one more full sync. None for the replica that stayed.
            Assert.Equal(keepsItsSnapshot ? "2" : "3", ReplicationInfo.Info(master, "sync_full"));
            Assert.Equal(partialBefore + (keepsItsSnapshot ? 1 : 0), long.Parse(ReplicationInfo.Info(master, "sync_partial_ok")!, CultureInfo.InvariantCulture));

            await stop.CancelAsync();
            await writer;
            Assert.Equal(2, master.Call("WAIT", "2", "0").Integer);
            ReplicationInfo.WaitInSync(master, restarted, "the restarted replica caught up");
            ReplicationInfo.WaitInSync(master, otherClient, "the other replica caught up");
            var expected = Dataset.Read(master);
            Assert.Equal(master.Call("DBSIZE").Integer, restarted.Call("DBSIZE").Integer);
            Dataset.Read(restarted).AssertSameAs(expected, "the restarted replica");
            Dataset.Read(otherClient).AssertSameAs(expected, "the replica that stayed");
            Assert.Equal(Interlocked.Read(ref written).ToString(CultureInfo.InvariantCulture), restarted.Call("GET", "counter").Text);
        }
        finally
        {
            await stop.CancelAsync();
            await writer;
        }
    }

    private string NewDirectory()
    {
        string directory = Directory.CreateTempSubdirectory("restart-node-").FullName;
        _directories.Add(directory);
        return directory;
    }

    private RedisServerProcess StartRedis(params string[] options)
    {
        string directory = Directory.CreateTempSubdirectory("restart-redis-").FullName;
        _directories.Add(directory);
        return RedisServerProcess.StartOn(NodeProcess.FreePort(), directory, options);
    }
}
