namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>Where the repository, the chart and the tools the chart tests run live.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root: the nearest folder above the test assembly holding CacheOperator.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The chart folder helm/cache-operator.</summary>
    public static string Chart => Path.Combine(Root, "helm", "cache-operator");

    /// <summary>The generated CRD the chart ships a copy of.</summary>
    public static string GeneratedCrd => Path.Combine(Root, "crds", "cacheclusters.cacheoperator.io.yaml");

    /// <summary>The chart's copy of the CRD.</summary>
    public static string ChartCrd => Path.Combine(Chart, "crds", "cacheclusters.cacheoperator.io.yaml");

    /// <summary>The CacheCluster manifests in examples/.</summary>
    public static string Examples => Path.Combine(Root, "examples");

    /// <summary>The promtool unit tests of the alert rules, one file per alert.</summary>
    public static string RuleTests => Path.Combine(Root, "tests", "CacheOperator.Chart.Tests", "rules-tests");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheOperator.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No CacheOperator.sln above {AppContext.BaseDirectory}");
    }
}
