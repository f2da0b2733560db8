using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheOperator.Operator.Tests;

/// <summary>Lease timing tests run alone, so a loaded machine does not make the leader miss its renewals.</summary>
[CollectionDefinition(nameof(TimingSensitive), DisableParallelization = true)]
public sealed class TimingSensitive;

[Collection(nameof(TimingSensitive))]
public class LeaderAndInformerTests
{
    [Fact]
    public async Task Only_one_replica_leads_and_the_other_takes_over_when_it_stops()
    {
        var api = new InMemoryKubeApi();
        using var metricsA = new OperatorMetrics();
        using var metricsB = new OperatorMetrics();
        var leading = new List<string>();
        // Long enough that a loaded machine does not stall the leader's renewals past it (a stalled leader rightly loses).
        var lease = TimeSpan.FromSeconds(4);

        Func<CancellationToken, Task> Work(string name) => async ct =>
        {
            lock (leading)
            {
                leading.Add(name);
            }
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
        };

        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var a = OperatorRunner.RunAsLeaderAsync(api, "ops", "cache-operator-leader", "a", metricsA, NullLogger.Instance, Work("a"), stopA.Token, lease);
        await WaitUntil(() => metricsA.IsLeader);
        var b = OperatorRunner.RunAsLeaderAsync(api, "ops", "cache-operator-leader", "b", metricsB, NullLogger.Instance, Work("b"), stopB.Token, lease);
        // B tries for longer than a lease: it stays a follower while A renews.
        await Task.Delay(lease + TimeSpan.FromSeconds(1));
        Assert.False(metricsB.IsLeader);
        Assert.Equal(["a"], Snapshot(leading));
        Assert.Equal("a", (await api.GetAsync<V1Lease>("ops", "cache-operator-leader", CancellationToken.None))!.Spec.HolderIdentity);

        await stopA.CancelAsync();
        Assert.True(await a);
        Assert.False(metricsA.IsLeader);
        await WaitUntil(() => metricsB.IsLeader);
        // B is leader before its work has started and recorded itself.
        await WaitUntil(() => Snapshot(leading).Count == 2);
        Assert.Equal(["a", "b"], Snapshot(leading));
        Assert.Equal("b", (await api.GetAsync<V1Lease>("ops", "cache-operator-leader", CancellationToken.None))!.Spec.HolderIdentity);
        await stopB.CancelAsync();
        await b;
    }

    [Fact]
    public async Task Lease_errors_are_retried_by_leader_and_standby_and_the_leader_releases_the_lease_when_it_stops()
    {
        var api = new InMemoryKubeApi();
        using var metricsA = new OperatorMetrics();
        using var metricsB = new OperatorMetrics();
        var lease = TimeSpan.FromSeconds(4);
        var stopped = new List<string>();

        Func<CancellationToken, Task> Work(string name) => async ct =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                lock (stopped)
                {
                    stopped.Add(name);
                }
            }
        };

        using var stopA = new CancellationTokenSource();
        using var stopB = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var a = OperatorRunner.RunAsLeaderAsync(api, "ops", "leader", "a", metricsA, NullLogger.Instance, Work("a"), stopA.Token, lease);
        await WaitUntil(() => metricsA.IsLeader);
        var b = OperatorRunner.RunAsLeaderAsync(api, "ops", "leader", "b", metricsB, NullLogger.Instance, Work("b"), stopB.Token, lease);

        // What a real API server and network give now and then: forbidden (RBAC being rolled out), throttled, server errors,
        // a dropped connection, a client timeout. Reads are met by the leader's renewals and the standby's tries alike; one
        // at a time, each followed by a renewal that works, so the leader never misses its renew deadline.
        var faults = new (string Verb, Func<Exception> Error)[]
        {
            ("get", () => new Reconcile.ApiException(403, "leases.coordination.k8s.io \"leader\" is forbidden")),
            ("get", () => new Reconcile.ApiException(429, "Too many requests")),
            ("get", () => new Reconcile.ApiException(500, "etcdserver: request timed out")),
            ("get", () => new HttpRequestException("Connection reset by peer")),
            ("update", () => new Reconcile.ApiException(503, "service unavailable")),
            ("update", () => new HttpRequestException("Connection refused")),
            ("get", () => new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout")),
        };
        foreach (var (verb, error) in faults)
        {
            api.FailNextWith((v, type, _) => v == verb && type.Kind == "Lease", error);
            await WaitUntil(() => api.PendingFailures == 0);
            var renewed = (await api.GetAsync<V1Lease>("ops", "leader", CancellationToken.None))!.Spec.RenewTime;
            await WaitUntilAsync(async () => (await api.GetAsync<V1Lease>("ops", "leader", CancellationToken.None))!.Spec.RenewTime > renewed);
            Assert.False(a.IsCompleted, $"the leader stopped after {verb} failed");
            Assert.False(b.IsCompleted, $"the standby stopped after {verb} failed");
        }
        Assert.True(metricsA.IsLeader);
        Assert.False(metricsB.IsLeader);
        Assert.Empty(stopped);

        // Shutdown hands the lease over: the work stops, then the lease has no holder, so the standby need not wait it out.
        await stopA.CancelAsync();
        Assert.True(await a);
        // Released: no holder, or already the standby's.
        Assert.NotEqual("a", (await api.GetAsync<V1Lease>("ops", "leader", CancellationToken.None))!.Spec.HolderIdentity);
        Assert.Equal(["a"], stopped);
        await WaitUntil(() => metricsB.IsLeader);
        await stopB.CancelAsync();
        Assert.True(await b);
        Assert.Equal("", (await api.GetAsync<V1Lease>("ops", "leader", CancellationToken.None))!.Spec.HolderIdentity ?? "");
    }

    [Fact]
    public async Task Informer_lists_again_after_410_gone()
    {
        var api = new InMemoryKubeApi();
        await api.CreateAsync(TestClusters.New("a"), CancellationToken.None);
        var seen = new List<string>();
        var informer = new Informer<CacheCluster>(api, "cache", (type, obj) =>
        {
            lock (seen)
            {
                seen.Add($"{type} {obj.Metadata.Name}");
            }
        }, NullLogger.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = informer.RunAsync(stop.Token);

        await WaitUntil(() => Snapshot(seen).Contains("Added a"));
        await api.CreateAsync(TestClusters.New("b"), CancellationToken.None);
        await WaitUntil(() => Snapshot(seen).Contains("Added b"));
        Assert.Equal(1, informer.Lists);

        // The watch's resourceVersion is compacted away while it waits: the next event brings 410.
        api.Compact();
        await api.CreateAsync(TestClusters.New("c"), CancellationToken.None);
        await WaitUntil(() => informer.Lists == 2 && Snapshot(seen).Contains("Added c"));
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Informer_relist_after_410_delivers_objects_deleted_while_it_was_not_watching()
    {
        var api = new InMemoryKubeApi();
        await api.CreateAsync(TestClusters.New("a"), CancellationToken.None);
        await api.CreateAsync(TestClusters.New("b"), CancellationToken.None);
        var seen = new List<string>();
        var informer = new Informer<CacheCluster>(api, "cache", (type, obj) => Record(seen, $"{type} {obj.Metadata.Name}"), NullLogger.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = informer.RunAsync(stop.Token);
        await WaitUntil(() => Snapshot(seen).Contains("Added b"));

        // b goes while the watch sees nothing, then the history is compacted: only a relist can tell.
        api.PauseWatches();
        await api.DeleteAsync<CacheCluster>("cache", "b", CancellationToken.None);
        api.Compact();
        await WaitUntil(() => informer.Lists == 2 && Snapshot(seen).Contains("Deleted b"));
        Assert.DoesNotContain("Deleted a", Snapshot(seen));
        api.ResumeWatches();
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Informer_moves_its_resource_version_on_with_bookmarks_and_resumes_from_it()
    {
        var api = new InMemoryKubeApi();
        await api.CreateAsync(TestClusters.New("a"), CancellationToken.None);
        var seen = new List<string>();
        var informer = new Informer<CacheCluster>(api, "cache", (type, obj) => Record(seen, $"{type} {obj.Metadata.Name}"), NullLogger.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = informer.RunAsync(stop.Token);
        await WaitUntil(() => Snapshot(seen).Contains("Added a"));

        // Writes to another kind move the store on; the CacheCluster watch hears of it only through bookmarks.
        var cluster = (await api.GetAsync<CacheCluster>("cache", "a", CancellationToken.None))!;
        await api.ApplyAsync(Manifests.ConfigMap(cluster, TestClusters.Plan(cluster)), "test", force: true, CancellationToken.None);
        var latest = (await api.ListAsync<V1ConfigMap>("cache", null, CancellationToken.None)).ResourceVersion;
        await WaitUntil(() => informer.ResourceVersion == latest);

        // The server forgets everything up to now and ends the watch (its timeout): resuming from the bookmark needs no relist.
        api.CompactHistory();
        api.EndWatches();
        await api.CreateAsync(TestClusters.New("c"), CancellationToken.None);
        await WaitUntil(() => Snapshot(seen).Contains("Added c"));
        Assert.Equal(1, informer.Lists);
        Assert.Equal(["Added a", "Added c"], Snapshot(seen));
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public async Task Informer_waits_as_long_as_429_says_and_retries_network_errors_without_ending()
    {
        var api = new InMemoryKubeApi();
        await api.CreateAsync(TestClusters.New("a"), CancellationToken.None);
        api.FailNext((verb, type, _) => verb == "list" && type.Kind == "CacheCluster", 429, TimeSpan.FromSeconds(7));
        api.FailNextWith((verb, type, _) => verb == "watch" && type.Kind == "CacheCluster", () => new HttpRequestException("connection reset"));
        api.FailNextWith((verb, type, _) => verb == "watch" && type.Kind == "CacheCluster", () => new TaskCanceledException("request timed out"));
        var delays = new List<TimeSpan>();
        var seen = new List<string>();
        var informer = new Informer<CacheCluster>(api, "cache", (type, obj) => Record(seen, $"{type} {obj.Metadata.Name}"), NullLogger.Instance)
        {
            // Recorded, not slept: the test checks what the informer asked for.
            Delay = (delay, _) =>
            {
                lock (delays)
                {
                    delays.Add(delay);
                }
                return Task.CompletedTask;
            },
        };
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = informer.RunAsync(stop.Token);
        await WaitUntil(() => Snapshot(seen).Contains("Added a"));
        await api.CreateAsync(TestClusters.New("b"), CancellationToken.None);
        await WaitUntil(() => Snapshot(seen).Contains("Added b"));

        List<TimeSpan> asked;
        lock (delays)
        {
            asked = delays.ToList();
        }
        Assert.Equal(3, asked.Count);
        Assert.Equal(TimeSpan.FromSeconds(7), asked[0]);
        // After the 429 the list succeeded, so the two watch failures back off from the start: 0.25-0.5 s, then 0.5-1 s.
        Assert.InRange(asked[1], Informer<CacheCluster>.InitialBackoff / 2, Informer<CacheCluster>.InitialBackoff);
        Assert.InRange(asked[2], Informer<CacheCluster>.InitialBackoff, Informer<CacheCluster>.InitialBackoff * 2);
        // The failed watches resumed from their version: no relist.
        Assert.Equal(1, informer.Lists);
        Assert.False(running.IsCompleted);
        await stop.CancelAsync();
        await running;
    }

    [Fact]
    public void Backoff_doubles_is_capped_and_jittered()
    {
        for (var failures = 1; failures <= 40; failures++)
        {
            var step = TimeSpan.FromTicks(Math.Min(Informer<CacheCluster>.InitialBackoff.Ticks << Math.Min(failures - 1, 20), Informer<CacheCluster>.MaxBackoff.Ticks));
            Assert.InRange(Informer<CacheCluster>.Backoff(failures), step / 2, step);
        }
        var samples = Enumerable.Range(0, 50).Select(_ => Informer<CacheCluster>.Backoff(30)).ToHashSet();
        Assert.True(samples.Count > 1, "the delay is jittered");
    }

    [Fact]
    public async Task Controller_watches_every_CacheCluster_but_only_the_owned_kinds_it_labelled()
    {
        var api = new InMemoryKubeApi();
        using var metrics = new OperatorMetrics();
        var runner = new OperatorRunner(api, new ScriptedTopology(), new ControllerOptions("cache", 1, TimeSpan.FromMinutes(10)), metrics, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = runner.RunControllerAsync(stop.Token);
        await WaitUntil(() => api.Reads.Where(r => r.Verb == "watch").Select(r => r.Kind).Distinct().Count() == 5);
        await stop.CancelAsync();
        await running;

        foreach (var read in api.Reads)
        {
            Assert.Equal("cache", read.Namespace);
            Assert.Equal(read.Kind == "CacheCluster" ? null : "app.kubernetes.io/managed-by=cache-operator", read.LabelSelector);
        }
        // The selector is the label every owned object carries.
        var cluster = TestClusters.New();
        Assert.All(Manifests.All(cluster, TestClusters.Plan(cluster), serviceMonitorAvailable: true), o => Assert.Equal("cache-operator", o.Metadata.Labels["app.kubernetes.io/managed-by"]));
    }

    [Fact]
    public async Task Watch_namespaces_run_informers_in_each_namespace_only()
    {
        var api = new InMemoryKubeApi();
        using var metrics = new OperatorMetrics();
        var options = new ControllerOptions(null, 1, TimeSpan.FromMinutes(10)) { WatchNamespaces = Program.SplitNamespaces(" team-a,team-b,,team-a ") };
        var runner = new OperatorRunner(api, new ScriptedTopology(), options, metrics, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var running = runner.RunControllerAsync(stop.Token);
        await WaitUntil(() => api.Reads.Count(r => r.Verb == "watch") == 10);
        await stop.CancelAsync();
        await running;
        Assert.Equal(["team-a", "team-b"], api.Reads.Select(r => r.Namespace).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(5, api.Reads.Count(r => r.Verb == "watch" && r.Namespace == "team-a"));
    }

    [Fact]
    public async Task Readyz_is_ready_for_a_standby_and_for_a_leader_only_once_its_informers_synced()
    {
        var api = new InMemoryKubeApi();
        using var metrics = new OperatorMetrics("CacheOperator.Operator.Test." + Guid.NewGuid().ToString("N"));
        var runner = new OperatorRunner(api, new ScriptedTopology(), new ControllerOptions("cache", 1, TimeSpan.FromMinutes(10)), metrics, NullLoggerFactory.Instance);
        var port = FreePort();
        var app = await MetricsServer.StartAsync(port, metrics, CancellationToken.None, () => OperatorRunner.Readiness(metrics.IsLeader, runner.InformersSynced));
        try
        {
            using var http = new HttpClient();
            async Task<(int, string)> Readyz()
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/readyz");
                return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
            }

            Assert.Equal((200, "standby: waiting for leadership"), await Readyz());
            metrics.SetLeader(true);
            // A leader whose informers have not listed (not started, or RBAC or the API refusing) is not ready.
            Assert.Equal((503, "leader: informers not synced yet"), await Readyz());
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            var running = runner.RunControllerAsync(stop.Token);
            await WaitUntil(() => runner.InformersSynced);
            Assert.Equal((200, "leader: informers synced"), await Readyz());
            await stop.CancelAsync();
            await running;
            Assert.False(runner.InformersSynced);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void Run_options_refuse_bad_namespaces_and_log_levels_and_the_log_level_takes_effect()
    {
        Assert.Contains(Program.BuildCommand().Parse(["run", "--watch-namespaces", "ok,Not_A_Namespace"]).Errors, e => e.Message.Contains("Not_A_Namespace", StringComparison.Ordinal));
        Assert.NotEmpty(Program.BuildCommand().Parse(["run", "--log-level", "Loud"]).Errors);
        Assert.Empty(Program.BuildCommand().Parse(["run", "--watch-namespaces", "a,b", "--log-level", "Warning"]).Errors);
        using var loggers = Program.CreateLoggers(Microsoft.Extensions.Logging.LogLevel.Warning);
        var logger = loggers.CreateLogger("x");
        Assert.False(logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Information));
        Assert.True(logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Warning));
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Record(List<string> list, string item)
    {
        lock (list)
        {
            list.Add(item);
        }
    }

    private static List<string> Snapshot(List<string> list)
    {
        lock (list)
        {
            return list.ToList();
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 30s");
            await Task.Delay(20);
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 30s");
            await Task.Delay(20);
        }
    }
}
