namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>One RBAC permission: a verb on a resource of an API group ("" is the core group).</summary>
/// <param name="ApiGroup">API group.</param>
/// <param name="Resource">Resource, with its subresource if any (cacheclusters/status).</param>
/// <param name="Verb">Verb.</param>
public sealed record Permission(string ApiGroup, string Resource, string Verb);

/// <summary>The names fixed in OPERATOR-CONTRACT.md that the chart must match.</summary>
public static class OperatorContract
{
    /// <summary>Port of the operator's metrics, health and readiness endpoints.</summary>
    public const int OperatorMetricsPort = 8080;

    /// <summary>Every permission the operator needs, and so exactly what the chart's ClusterRole grants.</summary>
    public static IReadOnlySet<Permission> Rbac { get; } = Expand(
    [
        ("cacheoperator.io", ["cacheclusters"], ["get", "list", "watch", "update", "patch"]),
        ("cacheoperator.io", ["cacheclusters/status"], ["get", "update", "patch"]),
        ("cacheoperator.io", ["cacheclusters/finalizers"], ["update"]),
        ("apps", ["statefulsets"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("", ["services", "configmaps"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("", ["secrets"], ["get", "list", "watch"]),
        ("", ["pods"], ["get", "list", "watch"]),
        ("", ["events"], ["create", "patch"]),
        ("policy", ["poddisruptionbudgets"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("coordination.k8s.io", ["leases"], ["get", "create", "update"]),
        ("events.k8s.io", ["events"], ["create", "patch"]),
        ("monitoring.coreos.com", ["servicemonitors"], ["get", "list", "watch", "create", "update", "patch", "delete"]),
        ("apiextensions.k8s.io", ["customresourcedefinitions"], ["get", "list"]),
    ]);

    /// <summary>Expands rules (groups x resources x verbs) into single permissions.</summary>
    public static IReadOnlySet<Permission> Expand(IEnumerable<(string Group, string[] Resources, string[] Verbs)> rules) =>
        rules.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => new Permission(r.Group, res, v)))).ToHashSet();
}
