using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>The alert rules and Grafana dashboards as the chart renders them with every feature on.</summary>
public static class ChartMonitoring
{
    static IReadOnlyList<RenderedManifest> Manifests => Helm.Render(ChartValues.AllFeatures);

    /// <summary>The rendered PrometheusRule's spec as a plain Prometheus rules file.</summary>
    public static string RulesFile() => YamlNodes.Write(YamlNodes.Child(RenderedManifest.Single(Manifests, "PrometheusRule").Root, "spec")!);

    /// <summary>Every alerting rule: name and PromQL expression.</summary>
    public static IReadOnlyList<(string Alert, string Expr)> Alerts()
    {
        var groups = (YamlSequenceNode)YamlNodes.At(RenderedManifest.Single(Manifests, "PrometheusRule").Root, "spec.groups")!;
        return groups.Children
            .SelectMany(g => ((YamlSequenceNode)YamlNodes.Child(g, "rules")!).Children)
            .Where(r => YamlNodes.Scalar(r, "alert") is not null)
            .Select(r => (YamlNodes.Scalar(r, "alert")!, YamlNodes.Scalar(r, "expr")!))
            .ToList();
    }

    /// <summary>The dashboard ConfigMaps.</summary>
    public static IReadOnlyList<RenderedManifest> DashboardConfigMaps() => Manifests.Where(m => m.Kind == "ConfigMap").ToList();

    /// <summary>Every dashboard: its file name in the ConfigMap and its parsed JSON.</summary>
    public static IReadOnlyList<(string File, JsonElement Dashboard)> Dashboards() =>
        DashboardConfigMaps()
            .Select(m => KubernetesModels.Parse<k8s.Models.V1ConfigMap>(m))
            .SelectMany(c => c.Data)
            .Select(d => (d.Key, JsonDocument.Parse(d.Value).RootElement.Clone()))
            .ToList();

    /// <summary>The panels of a dashboard, rows' nested panels included, rows themselves excluded.</summary>
    public static IEnumerable<JsonElement> Panels(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray().SelectMany(p =>
            p.GetProperty("type").GetString() == "row"
                ? (p.TryGetProperty("panels", out var nested) ? nested.EnumerateArray() : Enumerable.Empty<JsonElement>())
                : [p]);

    /// <summary>Every PromQL query in a dashboard: panel targets and variable queries.</summary>
    public static IEnumerable<string> Queries(JsonElement dashboard)
    {
        foreach (var panel in Panels(dashboard))
        {
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return target.GetProperty("expr").GetString()!;
            }
        }
        foreach (var variable in dashboard.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                yield return variable.GetProperty("definition").GetString()!;
            }
        }
    }
}
