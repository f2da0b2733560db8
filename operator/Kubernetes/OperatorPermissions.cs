namespace CacheOperator.Operator.Kubernetes;

/// <summary>One RBAC permission: a verb on a resource of an API group ("" is the core group).</summary>
/// <param name="ApiGroup">API group.</param>
/// <param name="Resource">Resource, with its subresource if any (cacheclusters/status).</param>
/// <param name="Verb">Verb.</param>
public sealed record Permission(string ApiGroup, string Resource, string Verb);

/// <summary>
/// Every API permission the operator's code uses, and so exactly what the chart grants: a test records the calls the
/// operator makes (through <see cref="IKubeApi"/>) and checks they equal these sets, the chart tests check the rendered
/// RBAC equals them. Server-side apply needs create as well as patch (it creates missing objects, which the API server
/// authorizes as create); owner references with blockOwnerDeletion need update on the owner's finalizers.
/// </summary>
public static class OperatorPermissions
{
    /// <summary>In every namespace the operator watches (a ClusterRole, or a Role per watched namespace).</summary>
    public static IReadOnlySet<Permission> Workload { get; } = Expand(
    [
        // Stale finalizers of older operators are removed with a merge patch; status through the status subresource.
        ("cacheoperator.io", ["cacheclusters"], ["get", "list", "watch", "patch"]),
        ("cacheoperator.io", ["cacheclusters/status"], ["update"]),
        ("cacheoperator.io", ["cacheclusters/finalizers"], ["update"]),
        // Drained shards' StatefulSets and budgets are deleted; the rest goes with the cluster by garbage collection.
        ("apps", ["statefulsets"], ["get", "list", "watch", "create", "patch", "delete"]),
        ("", ["services", "configmaps"], ["get", "list", "watch", "create", "patch"]),
        ("policy", ["poddisruptionbudgets"], ["get", "list", "watch", "create", "patch", "delete"]),
        // OnDelete StatefulSets: the rolling upgrade deletes pods in its own order.
        ("", ["pods"], ["list", "delete"]),
        // The spec.auth password, by name: never list or watch, which would hand over every Secret.
        ("", ["secrets"], ["get"]),
        ("", ["events"], ["create"]),
        ("monitoring.coreos.com", ["servicemonitors"], ["get", "create", "patch"]),
    ]);

    /// <summary>The leader-election Lease, in the operator's own namespace only (a Role).</summary>
    public static IReadOnlySet<Permission> LeaderElection { get; } = Expand([("coordination.k8s.io", ["leases"], ["get", "create", "update"])]);

    /// <summary>Cluster-scoped: whether the ServiceMonitor CRD is installed (get of that one CRD by name).</summary>
    public static IReadOnlySet<Permission> Cluster { get; } = Expand([("apiextensions.k8s.io", ["customresourcedefinitions"], ["get"])]);

    /// <summary>Expands rules (groups x resources x verbs) into single permissions.</summary>
    public static IReadOnlySet<Permission> Expand(IEnumerable<(string Group, string[] Resources, string[] Verbs)> rules) =>
        rules.SelectMany(r => r.Resources.SelectMany(res => r.Verbs.Select(v => new Permission(r.Group, res, v)))).ToHashSet();
}
