namespace CacheOperator.Chart.Tests;

/// <summary>Every metric name a dashboard or alert queries is one the node or the operator exports.</summary>
public sealed class MetricNameTests
{
    [Theory]
    [InlineData("up{app_kubernetes_io_name=\"cache-node\"} == 0", "up")]
    [InlineData("sum by (cacheoperator_io_shard) (rate(cache_evicted_keys_total{cacheoperator_io_shard=~\"$shard\"}[5m]))", "cache_evicted_keys_total")]
    [InlineData("histogram_quantile(0.99, sum by (le) (rate(cache_command_duration_seconds_bucket[$__rate_interval])))", "cache_command_duration_seconds_bucket")]
    [InlineData("cache_memory_used_bytes / (cache_memory_max_bytes > 0) > 0.9", "cache_memory_max_bytes,cache_memory_used_bytes")]
    [InlineData("max by (namespace, cluster) (cacheoperator_shards_ready)\n  < max by (namespace, cluster) (cacheoperator_shards_desired)", "cacheoperator_shards_desired,cacheoperator_shards_ready")]
    [InlineData("label_values(cache_uptime_seconds{namespace=\"$namespace\"}, cacheoperator_io_shard)", "cache_uptime_seconds")]
    [InlineData("sum(rate(cacheoperator_reconcile_total{result=\"cache_fake_total\"}[5m])) or vector(0)", "cacheoperator_reconcile_total")]
    [InlineData("sum(rate(http_requests_total[5m])) + setup_duration", "")]
    public void ExtractsSelectedMetricNamesOnly(string promQl, string expected)
    {
        var names = PromQlMetricNames.Extract(promQl);
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(), names.Order());
    }

    [Fact]
    public void AlertsQueryOnlyExportedMetrics()
    {
        var alerts = ChartMonitoring.Alerts();
        Assert.All(alerts, a => Assert.NotEmpty(PromQlMetricNames.Extract(a.Expr)));
        var unknown = PromQlMetricNames.ExtractAll(alerts.Select(a => a.Expr)).Except(ExportedMetrics.SeriesNames).ToList();
        Assert.True(unknown.Count == 0, "alerts query metrics nobody exports: " + string.Join(", ", unknown));
    }

    [Fact]
    public void DashboardsQueryOnlyExportedMetrics()
    {
        foreach (var (file, dashboard) in ChartMonitoring.Dashboards())
        {
            var queries = ChartMonitoring.Queries(dashboard).ToList();
            var unknown = PromQlMetricNames.ExtractAll(queries).Except(ExportedMetrics.SeriesNames).ToList();
            Assert.True(unknown.Count == 0, $"{file} queries metrics nobody exports: {string.Join(", ", unknown)}");
        }
    }

    [Fact]
    public void ClusterDashboardUsesEveryNodeMetric()
    {
        var dashboard = ChartMonitoring.Dashboards().Single(d => d.File == "cachecluster.json").Dashboard;
        var used = PromQlMetricNames.ExtractAll(ChartMonitoring.Queries(dashboard));
        var unused = ExportedMetrics.Node.Where(m => !ExportedMetrics.SeriesOf(m.Key, m.Value).Any(used.Contains)).Select(m => m.Key).ToList();
        Assert.True(unused.Count == 0, "node metrics no panel shows: " + string.Join(", ", unused));
    }
}
