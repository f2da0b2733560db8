using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CacheOperator.Client;
using CacheOperator.Operator.Local;
using Xunit.Abstractions;

namespace CacheOperator.Operator.Tests.Local;

/// <summary>
/// A rolling upgrade of a real local 3x1 cluster under a writer that records every error: a restart-requiring config
/// change restarts every node, replicas first and masters after a coordinated failover, and the writer sees no failed
/// write; a change nodes take live restarts nothing.
/// </summary>
public partial class LocalRollingUpgradeTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(6);

    private static string Spec(string extra = "") =>
        "apiVersion: cacheoperator.io/v1alpha1\nkind: CacheCluster\nmetadata:\n  name: cache\nspec:\n  shards: 3\n  replicasPerShard: 1\n" + extra;

    [Theory]
    [InlineData(null)]
    [InlineData("redis-server")]
    public async Task A_rolling_config_change_under_writes_fails_no_write_and_a_live_change_restarts_nothing(string? nodeCommand)
    {
        var name = nodeCommand ?? "cache-node";
        await using var up = LocalUpProcess.Start(Spec(), LocalTestSupport.FreeBasePort(8), nodeCommand);
        await up.WaitReadyAsync(Deadline);
        var state = LocalState.Read(up.StateDirectory)!;
        var ports = state.Members.Select(m => m.Port).ToList();
        var pids = state.Members.ToDictionary(m => m.Name, m => m.Pid);

        await using (var writer = await AcknowledgedWriter.StartAsync(ports, keys: 2000, workers: 4))
        {
            await writer.WaitForWritesAsync(2000, Deadline);

            // One restart-requiring directive (databases is not CONFIG SET-able): every node restarts, one at a time.
            var watch = Stopwatch.StartNew();
            await LocalTestSupport.ApplyAsync(up, Spec("  config:\n    databases: \"32\"\n"));
            await LocalTestSupport.PollAsync(
                async () => LocalState.Read(up.StateDirectory) is { Phase: "Ready" } s && s.Members.All(m => m.Pid != pids[m.Name] && NodeProcesses.IsAlive(m.Pid))
                    && (await Task.WhenAll(ports.Select(p => ConfigGetAsync(p, "databases")))).All(v => v == "32"),
                Deadline, "every node restarted with databases 32 and the cluster Ready");
            log.WriteLine($"{name}: rolling restart of 6 nodes under writes took {watch.Elapsed.TotalSeconds:F1} s; {writer.Writes} writes acknowledged");

            await writer.WaitForWritesAsync(1000, Deadline);
            await writer.StopAsync();
            writer.AssertNoErrors($"local up:\n{up.Output}\n{LocalTestSupport.NodeLogExcerpts(up)}");
            Assert.Empty(await writer.FindLostWritesAsync(ports));
        }

        var handOvers = HandOverMs().Matches(up.Output).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, handOvers.Count);
        Assert.Contains("RollingUpgradeComplete", up.Output);
        handOvers.Sort();
        log.WriteLine($"{name}: write unavailability per shard hand-over (ms): {string.Join(", ", handOvers)}; worst {handOvers[^1]}, median {handOvers[1]}");
        await LocalTestSupport.AssertClusterCheckCleanAsync(ports[0], "redis-cli --cluster check clean after the rolling upgrade");

        // maxmemory is taken live: CONFIG SET everywhere, no restart.
        state = LocalState.Read(up.StateDirectory)!;
        pids = state.Members.ToDictionary(m => m.Name, m => m.Pid);
        await LocalTestSupport.ApplyAsync(up, Spec("  maxMemory: 256Mi\n  config:\n    databases: \"32\"\n"));
        await LocalTestSupport.PollAsync(
            async () => (await Task.WhenAll(ports.Select(p => ConfigGetAsync(p, "maxmemory")))).All(v => v == "268435456"),
            Deadline, "maxmemory 256Mi on every node");
        Assert.Equal(pids, LocalState.Read(up.StateDirectory)!.Members.ToDictionary(m => m.Name, m => m.Pid));
        Assert.All(pids.Values, pid => Assert.True(NodeProcesses.IsAlive(pid)));
        Assert.All(state.Members, m => Assert.Contains("maxmemory 268435456", File.ReadAllText(Path.Combine(up.StateDirectory, m.Name, LocalNodeRuntime.ConfigFileName)), StringComparison.Ordinal));
    }

    /// <summary>The cluster-state and failover lines of every node's log, for a failure message.</summary>
    private static async Task<string?> ConfigGetAsync(int port, string directive)
    {
        try
        {
            await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = port, ConnectTimeout = TimeSpan.FromSeconds(2), CommandTimeout = TimeSpan.FromSeconds(3) });
            var reply = await connection.ExecuteAsync("CONFIG", "GET", directive);
            return reply.IsError || reply.Count < 2 ? null : reply[1].AsString();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or RespConnectionException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"MasterHandedOver: .*? writes refused for (\d+) ms")]
    private static partial Regex HandOverMs();
}
