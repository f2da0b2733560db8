using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using CacheOperator.Node.Monitoring;

namespace CacheOperator.Node.Tests.Monitoring;

/// <summary>Scrapes /metrics of a running node after a known workload; probes /healthz and /readyz.</summary>
public sealed partial class MetricsEndpointTests
{
    /// <summary>OPERATOR-CONTRACT.md's node metrics: names and types are fixed.</summary>
    private static readonly Dictionary<string, string> Contract = new()
    {
        ["cache_commands_processed_total"] = "counter",
        ["cache_command_duration_seconds"] = "histogram",
        ["cache_connected_clients"] = "gauge",
        ["cache_blocked_clients"] = "gauge",
        ["cache_rejected_connections_total"] = "counter",
        ["cache_keys"] = "gauge",
        ["cache_expiring_keys"] = "gauge",
        ["cache_memory_used_bytes"] = "gauge",
        ["cache_memory_max_bytes"] = "gauge",
        ["cache_evicted_keys_total"] = "counter",
        ["cache_expired_keys_total"] = "counter",
        ["cache_keyspace_hits_total"] = "counter",
        ["cache_keyspace_misses_total"] = "counter",
        ["cache_net_input_bytes_total"] = "counter",
        ["cache_net_output_bytes_total"] = "counter",
        ["cache_uptime_seconds"] = "gauge",
    };

    [Fact]
    public async Task Counters_match_a_known_workload()
    {
        await using var node = await MonitoredNode.StartAsync("--maxmemory", "50mb", "--maxclients", "1");
        using (var c = node.Client())
        {
            c.Call("SET", "a", "1");
            c.Call("SET", "b", "2", "EX", "1000");
            c.Call("SET", "c", "3");
            c.Call("GET", "a");
            c.Call("GET", "b");
            c.Call("GET", "x");
            c.Call("GET", "y");
            c.Call("GET", "z");
            c.Call("SELECT", "3");
            c.Call("SET", "d", "4");
            c.Call("CONFIG", "GET", "maxmemory");
            using var refused = node.Client();
            Assert.Equal("ERR max number of clients reached", refused.Read().Text);
            var samples = MonitoredNode.Samples(await node.ScrapeAsync());
            Assert.Equal(5, samples["cache_commands_processed_total{cmd=\"get\"}"]);
            Assert.Equal(4, samples["cache_commands_processed_total{cmd=\"set\"}"]);
            Assert.Equal(1, samples["cache_commands_processed_total{cmd=\"config|get\"}"]);
            Assert.Equal(5, samples["cache_command_duration_seconds_count{cmd=\"get\"}"]);
            Assert.Equal(5, samples["cache_command_duration_seconds_bucket{cmd=\"get\",le=\"+Inf\"}"]);
            Assert.True(samples["cache_command_duration_seconds_sum{cmd=\"get\"}"] > 0);
            Assert.Equal(2, samples["cache_keyspace_hits_total"]);
            Assert.Equal(3, samples["cache_keyspace_misses_total"]);
            Assert.Equal(3, samples["cache_keys{db=\"db0\"}"]);
            Assert.Equal(1, samples["cache_expiring_keys{db=\"db0\"}"]);
            Assert.Equal(1, samples["cache_keys{db=\"db3\"}"]);
            Assert.Equal(0, samples["cache_expiring_keys{db=\"db3\"}"]);
            Assert.Equal(1, samples["cache_connected_clients"]);
            Assert.Equal(0, samples["cache_blocked_clients"]);
            Assert.Equal(1, samples["cache_rejected_connections_total"]);
            Assert.Equal(50 * 1024 * 1024, samples["cache_memory_max_bytes"]);
            Assert.Equal(node.Server.Memory.Used, samples["cache_memory_used_bytes"]);
            Assert.Equal(0, samples["cache_evicted_keys_total"]);
            Assert.Equal(0, samples["cache_expired_keys_total"]);
            Assert.Equal(node.Server.Stats.NetInputBytes, samples["cache_net_input_bytes_total"]);
            Assert.True(samples["cache_net_output_bytes_total"] > 20);
            Assert.True(samples["cache_uptime_seconds"] > 0);
        }
    }

    [Fact]
    public async Task Exported_names_and_types_are_the_contract_and_promtool_finds_nothing()
    {
        await using var node = await MonitoredNode.StartAsync();
        using var c = node.Client();
        c.Call("SET", "k", "v", "EX", "100");
        c.Call("GET", "k");
        string scrape = await node.ScrapeAsync();
        var types = TypeLine().Matches(scrape).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        types.Remove("target_info");
        Assert.Equal(Contract.OrderBy(p => p.Key), types.OrderBy(p => p.Key));
        Assert.Equal(Contract.Keys.Order(), NodeMetrics.Definitions.Select(d => d.Name).Order());
        Assert.All(NodeMetrics.Definitions, d => Assert.Equal(Contract[d.Name], d.Kind.ToString().ToLowerInvariant()));

        var promtool = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(promtool)!;
        await process.StandardInput.WriteAsync(scrape);
        process.StandardInput.Close();
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0 && output.Trim().Length == 0, "promtool check metrics: " + output);
    }

    [Fact]
    public async Task Health_and_readiness_probes()
    {
        var node = await MonitoredNode.StartAsync();
        try
        {
            var health = await node.Http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("ok\n", await health.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/readyz")).StatusCode);
            node.Server.RequestShutdown("test");
            await node.Server.Stopped;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await node.Http.GetAsync("/readyz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz")).StatusCode);
        }
        finally
        {
            await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Probe_paths_match_as_routes_do_and_other_paths_are_not_found()
    {
        await using var node = await MonitoredNode.StartAsync();
        Assert.Equal("ok\n", await node.Http.GetStringAsync("/HEALTHZ/"));
        Assert.Equal("ready\n", await node.Http.GetStringAsync("/readyz/"));
        Assert.Contains("# TYPE cache_uptime_seconds gauge", await node.Http.GetStringAsync("/metrics/"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await node.Http.GetAsync("/healthzz")).StatusCode);
    }

    [Fact]
    public void Readme_metrics_table_is_generated_from_the_instruments()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        const string Start = "<!-- metrics-table -->\n";
        const string End = "<!-- /metrics-table -->";
        int from = readme.IndexOf(Start, StringComparison.Ordinal);
        int to = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(from >= 0 && to > from, "README.md lacks the metrics table markers");
        Assert.Equal(NodeMetrics.MarkdownTable(), readme[(from + Start.Length)..to]);
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CacheOperator.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
