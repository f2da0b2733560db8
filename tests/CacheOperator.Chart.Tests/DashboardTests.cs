using System.Text.Json;
using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>The Grafana dashboards: valid dashboard JSON with PromQL targets, in ConfigMaps the sidecar picks up.</summary>
public sealed class DashboardTests
{
    [Fact]
    public void DashboardsAreInConfigMapsLabelledForTheGrafanaSidecar()
    {
        var configMaps = Helm.Render(ChartValues.Default).Where(m => m.Kind == "ConfigMap")
            .Select(KubernetesModels.Parse<V1ConfigMap>).ToList();
        Assert.Equal(2, configMaps.Count);
        Assert.All(configMaps, c =>
        {
            Assert.Equal("1", c.Metadata.Labels["grafana_dashboard"]);
            Assert.Equal(Helm.Namespace, c.Metadata.NamespaceProperty);
            Assert.EndsWith(".json", Assert.Single(c.Data).Key);
        });
        Assert.Equal(["cachecluster.json", "operator.json"], configMaps.Select(c => c.Data.Keys.Single()).Order());
    }

    [Fact]
    public void DashboardNamespaceAndFolderFollowValues()
    {
        var configMaps = Helm.Render(ChartValues.AllFeatures).Where(m => m.Kind == "ConfigMap")
            .Select(KubernetesModels.Parse<V1ConfigMap>).ToList();
        Assert.All(configMaps, c =>
        {
            Assert.Equal("monitoring", c.Metadata.NamespaceProperty);
            Assert.Equal("Cache", c.Metadata.Annotations["grafana_folder"]);
        });
    }

    [Fact]
    public void DashboardsCanBeTurnedOff()
    {
        Assert.DoesNotContain(Helm.Render(ChartValues.Named("minimal-values")), m => m.Kind == "ConfigMap");
    }

    [Fact]
    public void EveryDashboardIsGrafanaJsonWithPromQlTargets()
    {
        var dashboards = ChartMonitoring.Dashboards();
        Assert.Equal(2, dashboards.Count);
        Assert.Equal(2, dashboards.Select(d => d.Dashboard.GetProperty("uid").GetString()).Distinct().Count());
        foreach (var (file, dashboard) in dashboards)
        {
            Assert.True(dashboard.GetProperty("schemaVersion").GetInt32() >= 36, file);
            Assert.False(string.IsNullOrEmpty(dashboard.GetProperty("title").GetString()));
            var all = dashboard.GetProperty("panels").EnumerateArray().ToList();
            Assert.Equal(all.Count, all.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
            var panels = ChartMonitoring.Panels(dashboard).ToList();
            Assert.NotEmpty(panels);
            foreach (var panel in panels)
            {
                var grid = panel.GetProperty("gridPos");
                Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
                Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
                var targets = panel.GetProperty("targets").EnumerateArray().ToList();
                Assert.NotEmpty(targets);
                Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString())));
                Assert.Equal(targets.Count, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            }
            var variables = dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
            Assert.Contains(variables, v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");
        }
    }

    [Fact]
    public void ClusterDashboardShowsWhatTheIssueAsksFor()
    {
        var dashboard = ChartMonitoring.Dashboards().Single(d => d.File == "cachecluster.json").Dashboard;
        var titles = ChartMonitoring.Panels(dashboard).Select(p => p.GetProperty("title").GetString()!).ToList();
        var queries = string.Join('\n', ChartMonitoring.Queries(dashboard));
        Assert.Contains("Operations/s", titles);
        Assert.Contains("Hit ratio", titles);
        Assert.Contains("Latency p50 / p99", titles);
        Assert.Contains("histogram_quantile(0.50", queries);
        Assert.Contains("histogram_quantile(0.99", queries);
        Assert.Contains("Memory", titles);
        Assert.Contains(titles, t => t.StartsWith("Evictions", StringComparison.Ordinal));
        Assert.Contains("Clients", titles);
        Assert.Contains(dashboard.GetProperty("panels").EnumerateArray(), p => p.GetProperty("title").GetString() == "Per shard");
        Assert.True(titles.Count(t => t.EndsWith("by shard", StringComparison.Ordinal)) >= 5);
        var variables = dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()).ToList();
        Assert.Equal(["datasource", "namespace", "cluster", "shard"], variables);
    }

    [Fact]
    public void OperatorDashboardShowsReconcilesQueueLeaderAndClusters()
    {
        var dashboard = ChartMonitoring.Dashboards().Single(d => d.File == "operator.json").Dashboard;
        var used = PromQlMetricNames.ExtractAll(ChartMonitoring.Queries(dashboard));
        var operatorSeries = ExportedMetrics.Operator.SelectMany(m => ExportedMetrics.SeriesOf(m.Key, m.Value));
        // Every operator metric appears (histograms through at least their buckets).
        foreach (var (name, type) in ExportedMetrics.Operator)
        {
            Assert.Contains(ExportedMetrics.SeriesOf(name, type).First(), used);
        }
        Assert.Subset(operatorSeries.ToHashSet(), used.ToHashSet());
    }

    [Fact]
    public void DashboardJsonFilesAreWhatTheConfigMapsCarry()
    {
        foreach (var (file, dashboard) in ChartMonitoring.Dashboards())
        {
            var source = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Chart, "files", "dashboards", file))).RootElement;
            Assert.Equal(source.GetRawText(), dashboard.GetRawText());
        }
    }
}
