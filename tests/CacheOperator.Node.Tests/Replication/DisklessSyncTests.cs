using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// repl-diskless-sync-delay and repl-diskless-sync-max-replicas on the master (replicas that wait together share one
/// snapshot; one arriving later gets the next), repl-diskless-load on the replica (disabled: the snapshot goes through
/// a file that becomes dbfilename; swapdb and on-empty-db with no keys: in memory), and the directives' CONFIG GET/SET
/// replies against redis-server's.
/// </summary>
public sealed class DisklessSyncTests
{
    [Fact]
    public async Task DirectivesAnswerAsRedis()
    {
        using var redis = RedisServerProcess.Start();
        await using var node = TestNode.Start("--repl-diskless-sync-delay", "5");
        using var r = redis.Client();
        using var n = node.Client();
        string[][] commands =
        [
            ["CONFIG", "GET", "repl-diskless-*"],
            ["CONFIG", "SET", "repl-diskless-load", "swapdb"],
            ["CONFIG", "GET", "repl-diskless-load"],
            ["CONFIG", "SET", "repl-diskless-load", "ON-EMPTY-DB"],
            ["CONFIG", "GET", "repl-diskless-load"],
            ["CONFIG", "SET", "repl-diskless-load", "bogus"],
            ["CONFIG", "SET", "repl-diskless-sync-delay", "-1"],
            ["CONFIG", "SET", "repl-diskless-sync-delay", "x"],
            ["CONFIG", "SET", "repl-diskless-sync-delay", "2"],
            ["CONFIG", "SET", "repl-diskless-sync-max-replicas", "3"],
            ["CONFIG", "SET", "repl-diskless-sync", "no"],
            ["CONFIG", "GET", "repl-diskless-*"],
        ];
        foreach (var command in commands)
        {
            var expected = r.Call(command);
            var actual = n.Call(command);
            if (command[1] == "GET")
            {
                expected = Sorted(expected);
                actual = Sorted(actual);
            }
            Assert.True(expected.ToString() == actual.ToString(), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        }
    }

    [Fact]
    public void DirectivesAreReadFromTheConfigFile()
    {
        string file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "repl-diskless-load swapdb\nrepl-diskless-sync-delay 7\nrepl-diskless-sync-max-replicas 2\nrepl-diskless-sync no\n");
            var config = new CacheOperator.Node.Configuration.NodeConfig();
            CacheOperator.Node.Configuration.ConfigLoader.Load(config, [file]);
            Assert.Equal("swapdb", config.ReplDisklessLoad.Text);
            Assert.Equal(7, config.ReplDisklessSyncDelay.Number);
            Assert.Equal(2, config.ReplDisklessSyncMaxReplicas.Number);
            Assert.False(config.ReplDisklessSync.IsOn);

            File.WriteAllText(file, "repl-diskless-load sometimes\n");
            var error = Assert.ThrowsAny<Exception>(() => CacheOperator.Node.Configuration.ConfigLoader.Load(new CacheOperator.Node.Configuration.NodeConfig(), [file]));
            Assert.Contains("repl-diskless-load", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ReplicasWaitingTogetherShareOneSnapshotAndALaterOneGetsTheNext()
    {
        // A long delay and two replicas to wait for: the snapshot starts when the second asks, not on a clock.
        await using var master = TestNode.Start("--repl-diskless-sync-delay", "600", "--repl-diskless-sync-max-replicas", "2");
        using var m = master.Client();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal("OK", m.Call("SET", $"k{i}", $"v{i}").Text);
        }
        await using var first = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        Wait.Until(() => ReplicationInfo.Info(m, "slave0")?.Contains("state=wait_bgsave", StringComparison.Ordinal) == true, "the first replica waits for more");
        Assert.Equal(0, master.Server.Replicator.ReplicaSnapshots);
        await using var second = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var c1 = first.Client();
        using var c2 = second.Client();
        Wait.Until(() => ReplicationInfo.Info(c1, "master_link_status") == "up" && ReplicationInfo.Info(c2, "master_link_status") == "up", "both replicas synced");
        Assert.Equal(1, master.Server.Replicator.ReplicaSnapshots);
        Assert.Equal("2", ReplicationInfo.Info(m, "sync_full"));
        Assert.Equal("v42", c1.Call("GET", "k42").Text);
        Assert.Equal("v42", c2.Call("GET", "k42").Text);

        // A third replica alone waits for the delay (or another replica); lowering the delay lets it through.
        await using var third = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        Wait.Until(() => ReplicationInfo.Info(m, "slave2")?.Contains("state=wait_bgsave", StringComparison.Ordinal) == true, "the third replica waits");
        Assert.Equal(1, master.Server.Replicator.ReplicaSnapshots);
        Assert.Equal("OK", m.Call("CONFIG", "SET", "repl-diskless-sync-delay", "0").Text);
        using var c3 = third.Client();
        Wait.Until(() => ReplicationInfo.Info(c3, "master_link_status") == "up", "the third replica synced");
        Assert.Equal(2, master.Server.Replicator.ReplicaSnapshots);
        Assert.Equal("v42", c3.Call("GET", "k42").Text);
    }

    [Theory]
    [InlineData("disabled", true)]
    [InlineData("swapdb", false)]
    [InlineData("on-empty-db", false)]
    public async Task DisklessLoadDecidesWhetherTheSnapshotGoesThroughAFile(string mode, bool file)
    {
        await using var master = TestNode.Start();
        using var m = master.Client();
        Assert.Equal("OK", m.Call("SET", "k", "v").Text);
        await using var replica = TestNode.Start("--repl-diskless-load", mode, "--replicaof", $"127.0.0.1 {master.Port}");
        using var c = replica.Client();
        Wait.Until(() => ReplicationInfo.Info(c, "master_link_status") == "up", "the replica synced");
        Assert.Equal("v", c.Call("GET", "k").Text);
        string dir = c.Call("CONFIG", "GET", "dir").Items![1].Text!;
        Assert.Equal(file, File.Exists(Path.Combine(dir, "dump.rdb")));
        Assert.Empty(Directory.GetFiles(dir, "temp-*.rdb"));
        Assert.Equal("OK", m.Call("SET", "k", "w").Text);
        Assert.Equal(1, m.Call("WAIT", "1", "0").Integer);
        Assert.Equal("w", c.Call("GET", "k").Text);
    }

    private static RespValue Sorted(RespValue reply)
    {
        var items = reply.Items!;
        var pairs = Enumerable.Range(0, items.Count / 2).Select(i => (items[2 * i], items[(2 * i) + 1])).OrderBy(p => p.Item1.Text, StringComparer.Ordinal);
        return new RespValue(RespKind.Array, Items: [.. pairs.SelectMany(p => new[] { p.Item1, p.Item2 })]);
    }
}
