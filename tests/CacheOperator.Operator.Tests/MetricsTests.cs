using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;

namespace CacheOperator.Operator.Tests;

public class MetricsTests
{
    private static readonly string[] ContractNames =
    [
        "cacheoperator_reconcile_total",
        "cacheoperator_reconcile_duration_seconds_bucket",
        "cacheoperator_reconcile_duration_seconds_sum",
        "cacheoperator_reconcile_duration_seconds_count",
        "cacheoperator_queue_depth",
        "cacheoperator_clusters",
        "cacheoperator_shards_ready",
        "cacheoperator_shards_desired",
        "cacheoperator_topology_actions_total",
        "cacheoperator_leader",
    ];

    [Fact]
    public async Task Metrics_endpoint_serves_the_contract_names_and_passes_promtool()
    {
        using var metrics = new OperatorMetrics("CacheOperator.Operator.Test." + Guid.NewGuid().ToString("N"));
        // The exporter sees only what is recorded after it starts, as in the operator (server first).
        var port = FreePort();
        var app = await MetricsServer.StartAsync(port, metrics, CancellationToken.None);
        try
        {
            var api = new InMemoryKubeApi();
            var reconciler = new CacheClusterReconciler(new KubernetesClusterStore(api), new KubernetesNodeRuntime(api), new ScriptedTopology(), metrics);
            await api.CreateAsync(TestClusters.New(), CancellationToken.None);
            await reconciler.ReconcileAsync(new ClusterKey("cache", "demo"), CancellationToken.None);
            metrics.SetLeader(true);
            using var queue = new WorkQueue<ClusterKey>();
            queue.Add(new ClusterKey("cache", "other"));
            metrics.ObserveQueueDepth(() => queue.Depth);

            using var http = new HttpClient();
            var text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
            foreach (var name in ContractNames)
            {
                Assert.Contains("\n" + name, "\n" + text);
            }
            AssertSample(text, "cacheoperator_leader", [], "1");
            AssertSample(text, "cacheoperator_queue_depth", [], "1");
            AssertSample(text, "cacheoperator_reconcile_total", ["result=\"requeue\""], "1");
            AssertSample(text, "cacheoperator_clusters", ["phase=\"Creating\""], "1");
            AssertSample(text, "cacheoperator_shards_desired", ["namespace=\"cache\"", "cluster=\"demo\""], "3");
            AssertSample(text, "cacheoperator_shards_ready", ["namespace=\"cache\"", "cluster=\"demo\""], "0");
            AssertSample(text, "cacheoperator_topology_actions_total", ["kind=\"create_shard\""], "3");
            Assert.Equal("ok", await http.GetStringAsync($"http://127.0.0.1:{port}/healthz"));

            var (exit, output) = await PromtoolCheckAsync(text);
            Assert.True(exit == 0 && output.Trim().Length == 0, $"promtool check metrics failed (exit {exit}):\n{output}\n--- scraped ---\n{text}");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static void AssertSample(string text, string name, string[] labels, string value)
    {
        var found = text.Split('\n').Any(line =>
            (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
            && labels.All(l => line.Contains(l, StringComparison.Ordinal))
            && line.EndsWith(" " + value, StringComparison.Ordinal));
        Assert.True(found, $"no sample {name}{{{string.Join(",", labels)}}} {value} in:\n{text}");
    }

    private static async Task<(int Exit, string Output)> PromtoolCheckAsync(string text)
    {
        var promtool = Environment.GetEnvironmentVariable("PATH")!.Split(':').Select(d => Path.Combine(d, "promtool")).FirstOrDefault(File.Exists);
        Assert.True(promtool is not null, "promtool is not installed (Debian: apt-get install prometheus); the metrics check needs it");
        var start = new ProcessStartInfo(promtool!, ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(text);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
