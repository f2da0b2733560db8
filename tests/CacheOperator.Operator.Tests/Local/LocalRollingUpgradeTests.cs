using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using CacheOperator.Client;
using CacheOperator.Operator.Local;
using StackExchange.Redis;
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

        var options = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 10000, SyncTimeout = 30000, AsyncTimeout = 30000 };
        foreach (var port in ports)
        {
            options.EndPoints.Add("127.0.0.1", port);
        }
        using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        await using (var writer = new RecordingWriter(redis.GetDatabase(), writers: 4, keysPerWriter: 500))
        {
            await LocalTestSupport.PollAsync(() => Task.FromResult(writer.Acknowledged > 2000), Deadline, "the writer writing");

            // One restart-requiring directive (databases is not CONFIG SET-able): every node restarts, one at a time.
            var watch = Stopwatch.StartNew();
            await ApplyAsync(up, Spec("  config:\n    databases: \"32\"\n"));
            await LocalTestSupport.PollAsync(
                async () => LocalState.Read(up.StateDirectory) is { Phase: "Ready" } s && s.Members.All(m => m.Pid != pids[m.Name] && NodeProcesses.IsAlive(m.Pid))
                    && (await Task.WhenAll(ports.Select(p => ConfigGetAsync(p, "databases")))).All(v => v == "32"),
                Deadline, "every node restarted with databases 32 and the cluster Ready");
            log.WriteLine($"{name}: rolling restart of 6 nodes under writes took {watch.Elapsed.TotalSeconds:F1} s; {writer.Acknowledged} writes acknowledged");
            await LocalTestSupport.PollAsync(() => Task.FromResult(writer.Acknowledged > 0 && writer.AcknowledgedSince(TimeSpan.FromSeconds(1))), Deadline, "writes flowing after the upgrade");
            await writer.StopAsync();
            Assert.True(writer.Errors.IsEmpty, $"the writer saw {writer.Errors.Count} failed writes: {string.Join("\n", writer.Errors.Take(10))}\nlocal up:\n{up.Output}\n{NodeLogs(up)}");

            // Every acknowledged write is readable with its last value.
            var db = redis.GetDatabase();
            foreach (var (key, value) in writer.Last)
            {
                Assert.Equal(value, (string?)await db.StringGetAsync(key));
            }
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
        await ApplyAsync(up, Spec("  maxMemory: 256Mi\n  config:\n    databases: \"32\"\n"));
        await LocalTestSupport.PollAsync(
            async () => (await Task.WhenAll(ports.Select(p => ConfigGetAsync(p, "maxmemory")))).All(v => v == "268435456"),
            Deadline, "maxmemory 256Mi on every node");
        Assert.Equal(pids, LocalState.Read(up.StateDirectory)!.Members.ToDictionary(m => m.Name, m => m.Pid));
        Assert.All(pids.Values, pid => Assert.True(NodeProcesses.IsAlive(pid)));
        Assert.All(state.Members, m => Assert.Contains("maxmemory 268435456", File.ReadAllText(Path.Combine(up.StateDirectory, m.Name, LocalNodeRuntime.ConfigFileName)), StringComparison.Ordinal));
    }

    /// <summary>The cluster-state and failover lines of every node's log, for a failure message.</summary>
    private static string NodeLogs(LocalUpProcess up) => string.Join("\n", LocalState.Read(up.StateDirectory)!.Members.SelectMany(m =>
        File.ReadLines(Path.Combine(up.StateDirectory, m.Name, "node.log"))
            .Where(l => l.Contains("state changed", StringComparison.OrdinalIgnoreCase) || l.Contains("failover", StringComparison.OrdinalIgnoreCase)
                || l.Contains("Configuration change", StringComparison.Ordinal) || l.Contains("FAIL", StringComparison.Ordinal))
            .Select(l => $"{m.Name}: {l}")));

    private static async Task ApplyAsync(LocalUpProcess up, string spec)
    {
        var file = Path.Combine(up.Directory, $"spec-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, spec);
        var (code, output) = await LocalTestSupport.RunAsync(up.Directory, "local", "apply", "-f", file, "--dir", "state");
        Assert.True(code == 0, output);
    }

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

/// <summary>
/// Writers that each set their own keys in a loop (one write in flight per writer, so each key's last acknowledged value
/// is known) and record every error; redirections are followed by the client and never surface as errors.
/// </summary>
internal sealed class RecordingWriter : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private long _acknowledged;
    private long _lastAck;

    public RecordingWriter(IDatabase db, int writers, int keysPerWriter)
    {
        _loops = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (long i = 0; !_stop.IsCancellationRequested; i++)
            {
                var key = $"w{w}:k{i % keysPerWriter}";
                var value = $"v{i}";
                try
                {
                    await db.StringSetAsync(key, value);
                    Last[key] = value;
                    Interlocked.Increment(ref _acknowledged);
                    Interlocked.Exchange(ref _lastAck, Stopwatch.GetTimestamp());
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    Errors.Add($"{DateTime.UtcNow:HH:mm:ss.fff} SET {key}: {e.GetType().Name}: {e.Message}");
                    Last.TryRemove(key, out _); // unknown whether it was applied: not checked
                    await Task.Delay(10);
                }
            }
        })).ToArray();
    }

    public ConcurrentDictionary<string, string> Last { get; } = new();

    public ConcurrentBag<string> Errors { get; } = [];

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public bool AcknowledgedSince(TimeSpan ago) => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastAck)) < ago;

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}

