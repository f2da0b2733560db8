using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Server;
using CacheOperator.Operator.Monitoring;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>Prometheus metric types, which decide the series names a metric produces.</summary>
public enum MetricType
{
    /// <summary>A counter (its name ends in _total).</summary>
    Counter,

    /// <summary>A gauge.</summary>
    Gauge,

    /// <summary>A histogram: series NAME_bucket, NAME_sum and NAME_count.</summary>
    Histogram,
}

/// <summary>
/// The one place that says which series names exist for dashboards and alerts to query. The node's
/// metrics are read from a real scrape of a node's /metrics (an in-process node with its metrics
/// endpoint, after a small workload so that every metric has a sample), and the operator's from a real
/// scrape of the operator's metrics server after one of each recorded event.
/// </summary>
public static partial class ExportedMetrics
{
    private static readonly Lazy<IReadOnlyDictionary<string, MetricType>> s_node = new(ScrapeNode);

    /// <summary>Metrics the cache node exports on :9121/metrics, by name, as a running node reports them.</summary>
    public static IReadOnlyDictionary<string, MetricType> Node => s_node.Value;

    private static readonly Lazy<IReadOnlyDictionary<string, MetricType>> s_operator = new(ScrapeOperator);

    /// <summary>Metrics the operator exports on :8080/metrics, by name, as a running metrics server reports them.</summary>
    public static IReadOnlyDictionary<string, MetricType> Operator => s_operator.Value;

    /// <summary>Series Prometheus adds to every scrape target itself.</summary>
    public static IReadOnlySet<string> Synthetic { get; } = new HashSet<string> { "up" };

    /// <summary>Every series name a query may use.</summary>
    public static IReadOnlySet<string> SeriesNames => Node.Concat(Operator)
        .SelectMany(m => SeriesOf(m.Key, m.Value))
        .Concat(Synthetic)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The series names one metric produces.</summary>
    public static IEnumerable<string> SeriesOf(string name, MetricType type) => type == MetricType.Histogram
        ? [name + "_bucket", name + "_sum", name + "_count"]
        : [name];

    /// <summary>
    /// The metrics of a standalone node after a small workload (<see cref="ScrapeStandaloneNode"/>) and those only a
    /// node in cluster mode exports (cache_cluster_*, present from start-up).
    /// </summary>
    private static IReadOnlyDictionary<string, MetricType> ScrapeNode()
    {
        var metrics = new Dictionary<string, MetricType>(ScrapeStandaloneNode(), StringComparer.Ordinal);
        foreach (var (name, type) in ScrapeClusterNode())
        {
            metrics[name] = type;
        }
        return metrics;
    }

    /// <summary>Starts a node in cluster mode (its nodes.conf in a temporary directory) with its metrics endpoint, and reads a scrape.</summary>
    private static IReadOnlyDictionary<string, MetricType> ScrapeClusterNode()
    {
        var directory = Directory.CreateTempSubdirectory("chart-metrics-");
        try
        {
            return Task.Run(async () =>
            {
                var config = new NodeConfig();
                ConfigLoader.Load(config, ["--port", "0", "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                    "--cluster-config-file", Path.Combine(directory.FullName, "nodes.conf"), "--cluster-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await using var server = new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning }, "CacheOperator.Node.ChartTests.Cluster");
                server.Start();
                int port = FreePort();
                await using var host = await MetricsHost.StartAsync(server, port, loopbackOnly: true);
                return await ScrapeTypesAsync(port);
            }).GetAwaiter().GetResult();
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Starts a node with its metrics endpoint on a free loopback port, runs a few commands, and reads the # TYPE lines of a scrape.</summary>
    private static IReadOnlyDictionary<string, MetricType> ScrapeStandaloneNode()
    {
        return Task.Run(async () =>
        {
            var config = new NodeConfig();
            ConfigLoader.Load(config, ["--port", "0", "--bind", "127.0.0.1"]);
            await using var server = new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning }, "CacheOperator.Node.ChartTests");
            server.Start();
            int port = FreePort();
            await using var host = await MetricsHost.StartAsync(server, port, loopbackOnly: true);
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(IPAddress.Loopback, server.Port);
                var stream = client.GetStream();
                // A key with a TTL and a command, so that the per-db gauges and the per-command metrics have samples.
                await stream.WriteAsync("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nEX\r\n$3\r\n100\r\n"u8.ToArray());
                var reply = new byte[5];
                await stream.ReadExactlyAsync(reply);
            }
            return await ScrapeTypesAsync(port);
        }).GetAwaiter().GetResult();
    }

    /// <summary>Starts the operator's metrics server on a free loopback port, records one of each metric, and reads a scrape.</summary>
    private static IReadOnlyDictionary<string, MetricType> ScrapeOperator()
    {
        return Task.Run(async () =>
        {
            using var metrics = new OperatorMetrics("CacheOperator.Operator.ChartTests");
            int port = FreePort();
            var app = await MetricsServer.StartAsync(port, metrics, CancellationToken.None);
            try
            {
                metrics.RecordReconcile("success", TimeSpan.FromMilliseconds(5));
                metrics.RecordTopologyAction("create_shard");
                metrics.SetCluster("cache", "demo", "Ready", 3, 3);
                metrics.SetLeader(true);
                metrics.ObserveQueueDepth(() => 0);
                return await ScrapeTypesAsync(port);
            }
            finally
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }).GetAwaiter().GetResult();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>The metric names and types of a scrape's # TYPE lines (OpenTelemetry's target_info left out).</summary>
    private static async Task<IReadOnlyDictionary<string, MetricType>> ScrapeTypesAsync(int port)
    {
        using var http = new HttpClient();
        string scrape = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        return TypeLine().Matches(scrape)
            .Where(m => m.Groups[1].Value != "target_info")
            .ToDictionary(m => m.Groups[1].Value, m => Enum.Parse<MetricType>(m.Groups[2].Value, ignoreCase: true), StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
