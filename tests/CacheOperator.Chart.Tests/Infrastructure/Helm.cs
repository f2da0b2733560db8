using System.Collections.Concurrent;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>A set of chart values: value files from the chart's ci/ folder plus --set overrides.</summary>
/// <param name="Name">How tests name this set.</param>
/// <param name="ValueFiles">Value files relative to the chart.</param>
/// <param name="Sets">--set expressions.</param>
public sealed record ChartValues(string Name, IReadOnlyList<string> ValueFiles, IReadOnlyList<string> Sets)
{
    /// <summary>The chart's defaults.</summary>
    public static ChartValues Default { get; } = new("default", [], []);

    /// <summary>Every optional feature enabled (ServiceMonitor, PrometheusRule, dashboards).</summary>
    public static ChartValues AllFeatures { get; } = new("all-features", ["ci/all-features-values.yaml"], []);

    /// <summary>The defaults and every value file in the chart's ci/ folder.</summary>
    public static IReadOnlyList<ChartValues> All { get; } =
    [
        Default,
        .. Directory.GetFiles(Path.Combine(RepositoryPaths.Chart, "ci"), "*.yaml")
            .Order(StringComparer.Ordinal)
            .Select(f => new ChartValues(Path.GetFileNameWithoutExtension(f), [Path.Combine("ci", Path.GetFileName(f))], [])),
    ];

    /// <summary>Looks a set up by name (for xunit theories, which pass names).</summary>
    public static ChartValues Named(string name) => All.Single(v => v.Name == name);

    /// <summary>The helm arguments selecting these values.</summary>
    public IEnumerable<string> Arguments()
    {
        foreach (var file in ValueFiles)
        {
            yield return "--values";
            yield return Path.Combine(RepositoryPaths.Chart, file);
        }
        foreach (var set in Sets)
        {
            yield return "--set";
            yield return set;
        }
    }
}

/// <summary>Runs the helm binary that scripts/install-helm.sh puts at .tools/bin/helm.</summary>
public static class Helm
{
    /// <summary>Release name used for every render.</summary>
    public const string ReleaseName = "cache-operator";

    /// <summary>Namespace used for every render.</summary>
    public const string Namespace = "cache-system";

    static readonly Lazy<string> Binary = new(Install);
    static readonly ConcurrentDictionary<string, IReadOnlyList<RenderedManifest>> Renders = new();

    /// <summary>Runs helm with the given arguments from the repository root.</summary>
    public static ProcessResult Run(params IEnumerable<string> arguments) => ProcessRunner.Run(Binary.Value, arguments);

    /// <summary>helm template of the chart (CRDs included), without checking the exit code.</summary>
    public static ProcessResult Template(ChartValues values) =>
        Run(["template", ReleaseName, RepositoryPaths.Chart, "--namespace", Namespace, "--include-crds", .. values.Arguments()]);

    /// <summary>The documents helm template renders for <paramref name="values"/>; fails if helm fails.</summary>
    public static IReadOnlyList<RenderedManifest> Render(ChartValues values) =>
        Renders.GetOrAdd(values.Name + "|" + string.Join('|', values.ValueFiles) + "|" + string.Join('|', values.Sets), _ =>
        {
            var result = Template(values);
            if (result.ExitCode != 0 || result.Stderr.Trim().Length > 0)
            {
                throw new InvalidOperationException($"helm template with {values.Name} values did not render cleanly:\n{result.Output}");
            }
            return RenderedManifest.Split(result.Stdout);
        });

    static string Install()
    {
        var helm = Path.Combine(RepositoryPaths.Root, ".tools", "bin", "helm");
        if (!File.Exists(helm))
        {
            var install = ProcessRunner.Run("bash", [Path.Combine(RepositoryPaths.Root, "scripts", "install-helm.sh")], timeout: TimeSpan.FromMinutes(5));
            if (install.ExitCode != 0)
            {
                throw new InvalidOperationException($"scripts/install-helm.sh failed:\n{install.Output}");
            }
        }
        return helm;
    }
}
