using CacheOperator.Operator.Kubernetes;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>The names fixed in OPERATOR-CONTRACT.md that the chart must match.</summary>
public static class OperatorContract
{
    /// <summary>Port of the operator's metrics, health and readiness endpoints.</summary>
    public const int OperatorMetricsPort = 8080;

    /// <summary>Expands rules (groups x resources x verbs) into single permissions.</summary>
    public static IReadOnlySet<Permission> Expand(IEnumerable<(string Group, string[] Resources, string[] Verbs)> rules) =>
        rules.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => new Permission(r.Group, res, v)))).ToHashSet();
}
