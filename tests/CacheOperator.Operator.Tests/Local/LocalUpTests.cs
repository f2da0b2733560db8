using System.Diagnostics;
using CacheOperator.Client;
using CacheOperator.Operator.Local;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CacheOperator.Operator.Tests.Local;

/// <summary><c>local up</c> as a real child process, with real node processes; slow, so one cluster per test.</summary>
public class LocalUpTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private static string Spec(int shards, int replicas, string name = "cache") =>
        $"apiVersion: cacheoperator.io/v1alpha1\nkind: CacheCluster\nmetadata:\n  name: {name}\nspec:\n  shards: {shards}\n  replicasPerShard: {replicas}\n";

    [Fact]
    public async Task Up_prints_ready_then_status_and_down_work()
    {
        var watch = Stopwatch.StartNew();
        await using var up = LocalUpProcess.Start(Spec(2, 0), LocalTestSupport.FreeBasePort(4), "redis-server");
        await up.WaitReadyAsync(Deadline);
        log.WriteLine($"2x0 Ready after {watch.Elapsed.TotalSeconds:F1} s");
        Assert.Contains("redis-cli -c -p", up.Output);

        var (code, status) = await LocalTestSupport.RunAsync(up.Directory, "local", "status", "--dir", "state");
        Assert.True(code == 0, status);
        Assert.Contains("cluster_state ok", status);
        Assert.Contains("cache-shard-1-0", status);
        Assert.Contains("0-8191", status);

        var state = LocalState.Read(up.StateDirectory)!;
        var pids = state.Members.Select(m => m.Pid).ToList();
        Assert.Equal(up.Process.Id, state.OperatorPid);
        var (downCode, down) = await LocalTestSupport.RunAsync(up.Directory, "local", "down", "--dir", "state");
        Assert.True(downCode == 0, down);
        Assert.True(up.Process.WaitForExit(TimeSpan.FromMinutes(2)), up.Output);
        Assert.Equal(0, up.Process.ExitCode);
        Assert.All(pids, p => Assert.False(NodeProcesses.IsAlive(p)));
        Assert.Contains("Stopped.", up.Output);
    }

    [Fact]
    public async Task Bad_input_is_a_clear_error()
    {
        var directory = LocalTestSupport.TempDirectory();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "bad.yaml"), Spec(0, 1));
            var (code, output) = await LocalTestSupport.RunAsync(directory, "local", "up", "-f", "bad.yaml", "--dir", "state");
            Assert.Equal(2, code);
            Assert.Contains("spec.shards", output);
            (code, output) = await LocalTestSupport.RunAsync(directory, "local", "up", "-f", "missing.yaml", "--dir", "state");
            Assert.Equal(2, code);
            Assert.Contains("cannot read", output);
            (code, output) = await LocalTestSupport.RunAsync(directory, "local", "status", "--dir", "nowhere");
            Assert.Equal(2, code);
            Assert.Contains("no local cluster", output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("redis-server")]
    public async Task A_3x1_cluster_keeps_every_acknowledged_key_when_a_master_is_killed(string? nodeCommand)
    {
        var watch = Stopwatch.StartNew();
        await using var up = LocalUpProcess.Start(Spec(3, 1), LocalTestSupport.FreeBasePort(8), nodeCommand);
        await up.WaitReadyAsync(Deadline);
        log.WriteLine($"3x1 ({nodeCommand ?? "cache-node"}): Ready after {watch.Elapsed.TotalSeconds:F1} s");
        var state = LocalState.Read(up.StateDirectory)!;
        var ports = state.Members.Select(m => m.Port).ToList();

        const int Keys = 50_000;
        var options = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 10000, SyncTimeout = 20000, AsyncTimeout = 20000 };
        foreach (var port in ports)
        {
            options.EndPoints.Add("127.0.0.1", port);
        }
        using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            var db = redis.GetDatabase();
            for (var start = 0; start < Keys; start += 1000)
            {
                await Task.WhenAll(Enumerable.Range(start, 1000).Select(i => db.StringSetAsync($"key:{i}", $"value:{i}")));
            }
            // WAIT 1 on each master's connection: every write before it is on a replica.
            foreach (var endpoint in redis.GetEndPoints())
            {
                var server = redis.GetServer(endpoint);
                if (!server.IsReplica)
                {
                    var acked = (long)await server.ExecuteAsync("WAIT", "1", "30000");
                    Assert.True(acked >= 1, $"WAIT 1 on {endpoint} acknowledged by {acked} replicas");
                }
            }
        }

        // kill -9 the master of shard 0.
        var (_, status) = await LocalTestSupport.RunAsync(up.Directory, "local", "status", "--dir", "state");
        var master = state.Members.Single(m => m.Name == "cache-shard-0-0");
        Assert.Contains(" master ", status.Split('\n').Single(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "cache-shard-0-0", ..]) + " ");
        var killed = Stopwatch.StartNew();
        Process.GetProcessById(master.Pid).Kill();
        await LocalTestSupport.PollAsync(() => AllSlotsServedAsync(ports.Where(p => p != master.Port)), Deadline, "all slots served again");
        log.WriteLine($"kill -9 of a master to all slots served: {killed.Elapsed.TotalSeconds:F1} s");
        await LocalTestSupport.PollAsync(
            () => Task.FromResult(LocalState.Read(up.StateDirectory) is { Phase: "Ready" } s && s.Members.Single(m => m.Name == master.Name).Pid != master.Pid && NodeProcesses.IsAlive(s.Members.Single(m => m.Name == master.Name).Pid)),
            Deadline, "the killed node restarted and the cluster Ready");
        log.WriteLine($"kill -9 of a master to Ready with the node back: {killed.Elapsed.TotalSeconds:F1} s");

        using (var redis = await ConnectionMultiplexer.ConnectAsync(options))
        {
            var db = redis.GetDatabase();
            for (var start = 0; start < Keys; start += 1000)
            {
                var values = await Task.WhenAll(Enumerable.Range(start, 1000).Select(i => db.StringGetAsync($"key:{i}")));
                for (var i = 0; i < values.Length; i++)
                {
                    Assert.True(values[i] == $"value:{start + i}", $"key:{start + i} is {values[i]}");
                }
            }
        }

        await LocalTestSupport.AssertClusterCheckCleanAsync(ports[0], "redis-cli --cluster check clean");

        // kill -9 a replica: the operator restarts it, it resyncs, and the cluster is Ready and checks clean again.
        state = LocalState.Read(up.StateDirectory)!;
        LocalMember? replica = null;
        foreach (var member in state.Members.Where(m => m.Shard != 0))
        {
            if (await NodeProcesses.RoleAsync(member.Port, null, CancellationToken.None) is { Master: false })
            {
                replica = member;
                break;
            }
        }
        Assert.NotNull(replica);
        Process.GetProcessById(replica.Pid).Kill();
        await LocalTestSupport.PollAsync(
            () => Task.FromResult(LocalState.Read(up.StateDirectory) is { Phase: "Ready" } s && s.Members.Single(m => m.Name == replica.Name).Pid is var pid && pid != replica.Pid && NodeProcesses.IsAlive(pid)),
            Deadline, "the killed replica restarted and the cluster Ready");
        await LocalTestSupport.AssertClusterCheckCleanAsync(ports[0], "redis-cli --cluster check clean after the replica's restart");
    }

    [Fact]
    public async Task A_10x1_cluster_forms_and_passes_the_cluster_check()
    {
        var watch = Stopwatch.StartNew();
        await using var up = LocalUpProcess.Start(Spec(10, 1), LocalTestSupport.FreeBasePort(20));
        await up.WaitReadyAsync(Deadline);
        log.WriteLine($"10x1 (cache-node): Ready after {watch.Elapsed.TotalSeconds:F1} s");
        var state = LocalState.Read(up.StateDirectory)!;
        Assert.Equal(20, state.Members.Count);
        var check = await LocalTestSupport.PollAsync(
            async () => await LocalTestSupport.RedisCliCheckAsync(state.Members[0].Port) is { Code: 0 } c && !c.Output.Contains("[ERR]", StringComparison.Ordinal) ? c.Output : null,
            Deadline, "redis-cli --cluster check clean");
        Assert.Contains("[OK] All 16384 slots covered", check);

        // SIGTERM (local down) leaves local up the time to stop all 20 nodes itself.
        var (code, down) = await LocalTestSupport.RunAsync(up.Directory, "local", "down", "--dir", "state");
        Assert.True(code == 0, down);
        Assert.True(up.Process.WaitForExit(TimeSpan.FromMinutes(2)), up.Output);
        Assert.Contains("Stopped.", up.Output);
        Assert.All(state.Members, m => Assert.False(NodeProcesses.IsAlive(m.Pid)));
    }

    [Fact]
    public async Task Apply_scales_out_the_running_cluster()
    {
        await using var up = LocalUpProcess.Start(Spec(1, 0), LocalTestSupport.FreeBasePort(4), "redis-server");
        await up.WaitReadyAsync(Deadline);
        await File.WriteAllTextAsync(Path.Combine(up.Directory, "two.yaml"), Spec(2, 0));
        var (code, output) = await LocalTestSupport.RunAsync(up.Directory, "local", "apply", "-f", "two.yaml", "--dir", "state");
        Assert.True(code == 0, output);
        await LocalTestSupport.PollAsync(
            async () => (await LocalTestSupport.RunAsync(up.Directory, "local", "status", "--dir", "state")).Output is var s && s.Contains("phase Ready", StringComparison.Ordinal) && s.Contains("cluster_state ok", StringComparison.Ordinal)
                && s.Split('\n').Any(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, "cache-shard-1-0", _, "master", ..]),
            Deadline, "the second shard's node a master of the cluster");
        // Slots move to a new shard only once the topology manager rebalances; that is its business, not local mode's.
    }

    /// <summary>cluster_state ok on every survivor, and every slot owned by a master that answers PING.</summary>
    private static async Task<bool> AllSlotsServedAsync(IEnumerable<int> ports)
    {
        try
        {
            string? nodes = null;
            foreach (var port in ports)
            {
                await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = port, ConnectTimeout = TimeSpan.FromSeconds(2), CommandTimeout = TimeSpan.FromSeconds(3) });
                if (!((await connection.ExecuteAsync("CLUSTER", "INFO")).AsString() ?? "").Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    return false;
                }
                nodes ??= (await connection.ExecuteAsync("CLUSTER", "NODES")).AsString();
            }
            var covered = 0;
            foreach (var fields in (nodes ?? "").Split('\n').Select(l => l.Trim().Split(' ')).Where(f => f.Length > 8 && f[2].Contains("master", StringComparison.Ordinal)))
            {
                var port = int.Parse(fields[1].Split('@')[0].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
                await using var master = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = port, ConnectTimeout = TimeSpan.FromSeconds(2), CommandTimeout = TimeSpan.FromSeconds(3) });
                if ((await master.ExecuteAsync("PING")).IsError)
                {
                    return false;
                }
                foreach (var range in fields[8..].Where(r => r.Length > 0 && r[0] != '['))
                {
                    var bounds = range.Split('-');
                    covered += bounds.Length == 1 ? 1 : int.Parse(bounds[1], System.Globalization.CultureInfo.InvariantCulture) - int.Parse(bounds[0], System.Globalization.CultureInfo.InvariantCulture) + 1;
                }
            }
            return covered == 16384;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException)
        {
            return false;
        }
    }
}
