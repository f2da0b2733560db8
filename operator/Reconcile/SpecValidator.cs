using System.Text;
using CacheOperator.Node.Configuration;
using CacheOperator.Operator.Api;

namespace CacheOperator.Operator.Reconcile;

/// <summary>A reason a spec cannot be applied, for a condition and an event.</summary>
/// <param name="Reason">CamelCase reason.</param>
/// <param name="Message">What is wrong, naming the field.</param>
public sealed record SpecProblem(string Reason, string Message);

/// <summary>
/// Checks what the CRD schema cannot (quantities against each other, directives against the node's
/// catalog) and turns a good spec into a <see cref="ClusterPlan"/>. Pure: same spec, same answer.
/// </summary>
public static class SpecValidator
{
    /// <summary>Port every node listens on for clients.</summary>
    public const int RespPort = 6379;

    /// <summary>Where a node's persistent volume is mounted, and so its dir (snapshots) when spec.persistence is enabled.</summary>
    public const string DataDirectory = "/data";

    /// <summary>
    /// Directives the operator sets itself or that would break what it builds (ports the Services, probes and the bus use;
    /// the paths of the read-only pod; the password from spec.auth; the topology it manages); spec.config may not set
    /// them. The value says what to use instead.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> OperatorOwnedDirectives = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["port"] = $"the client port is {RespPort}, which the Services and probes use",
        ["bind"] = "the node listens on every address of its pod",
        ["protected-mode"] = "use spec.auth to require a password",
        ["maxmemory"] = "use spec.maxMemory",
        ["maxmemory-policy"] = "use spec.evictionPolicy",
        ["requirepass"] = "use spec.auth.secretRef (the password stays in the Secret)",
        ["masterauth"] = "use spec.auth.secretRef (replicas use the same password)",
        ["metrics-port"] = "the metrics, health and readiness port is 9121, which the probes, Services and ServiceMonitor use",
        ["dir"] = $"the data directory is {DataDirectory} with spec.persistence; the root filesystem is read-only",
        ["include"] = "the operator includes only its own files",
        ["replicaof"] = "the operator assigns replicas to masters",
        ["slaveof"] = "the operator assigns replicas to masters",
        ["cluster-enabled"] = "every CacheCluster is a Redis Cluster",
        ["cluster-config-file"] = "the operator places nodes.conf",
        ["cluster-port"] = $"the cluster bus port is {BusPort}",
        ["cluster-announce-ip"] = "nodes announce their pod's DNS name",
        ["cluster-announce-port"] = "nodes announce their pod's DNS name and ports",
        ["cluster-announce-tls-port"] = "nodes announce their pod's DNS name and ports",
        ["cluster-announce-bus-port"] = "nodes announce their pod's DNS name and ports",
        ["cluster-announce-hostname"] = "nodes announce their pod's DNS name",
        ["cluster-preferred-endpoint-type"] = "redirections name the pods' DNS names",
    };

    /// <summary>The cluster bus port: the RESP port + 10000, as Redis's default.</summary>
    public const int BusPort = RespPort + 10000;

    /// <summary>
    /// cluster-node-timeout the operator writes unless spec.config sets one: a failed master's replica takes over after
    /// about twice this, so it is shorter than Redis's 15 s default.
    /// </summary>
    public const int DefaultNodeTimeoutMs = 5000;

    /// <summary>Why a cluster cannot have this name (the CRD's rule, for clusters made before it or in local mode), or null.</summary>
    public static SpecProblem? NameProblem(string name) =>
        name.Length <= CacheClusterResource.MaxNameLength && System.Text.RegularExpressions.Regex.IsMatch(name, CacheClusterResource.NamePattern)
            ? null
            : new SpecProblem("InvalidName", $"metadata.name \"{name}\" cannot be used: it must be a DNS-1035 label of at most {CacheClusterResource.MaxNameLength} characters " +
                $"(lower case letters, digits and '-', starting with a letter), so that its StatefulSets <name>-shard-<i> stay within {CacheClusterResource.MaxStatefulSetName} " +
                "characters (longer ones never get pods) and its Services are valid; create the cluster again with a shorter name");

    /// <summary>The plan, or the problems that prevent one.</summary>
    public static ClusterPlan? Plan(CacheClusterSpec spec, out IReadOnlyList<SpecProblem> problems)
    {
        var found = new List<SpecProblem>();
        if (spec.Shards < 1)
        {
            found.Add(new SpecProblem("InvalidShards", $"spec.shards is {spec.Shards}; at least 1 is needed"));
        }
        if (spec.ReplicasPerShard < 0)
        {
            found.Add(new SpecProblem("InvalidReplicas", $"spec.replicasPerShard is {spec.ReplicasPerShard}; it cannot be negative"));
        }
        string? limit = null;
        spec.Resources?.Limits?.TryGetValue("memory", out limit);
        var maxMemory = MemoryPlan.NodeMaxMemory(spec.MaxMemory, limit, out var memoryError);
        if (memoryError is not null)
        {
            found.Add(new SpecProblem("InvalidMaxMemory", memoryError));
        }
        if (spec.Persistence is { Enabled: true } persistence)
        {
            if (string.IsNullOrWhiteSpace(persistence.Size))
            {
                found.Add(new SpecProblem("InvalidPersistence", "spec.persistence.size is required when persistence is enabled"));
            }
            else if (MemoryPlan.ParseBytes(persistence.Size, "spec.persistence.size", out var sizeError) is null)
            {
                found.Add(new SpecProblem("InvalidPersistence", sizeError!));
            }
        }

        var catalog = new NodeConfig();
        var directives = new List<(string Name, string Value)>
        {
            ("port", RespPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("protected-mode", "no"),
            ("maxmemory", (maxMemory ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("maxmemory-policy", spec.EvictionPolicy),
        };
        // Snapshots need somewhere to go: the volume when there is one; without one (a read-only root filesystem) the node
        // keeps none unless spec.config sets save, whose line comes later and wins.
        directives.Add(spec.Persistence is { Enabled: true } ? ("dir", DataDirectory) : ("save", ""));
        // Every CacheCluster is one Redis Cluster. nodes.conf (the node's identity and view) lives on the volume when there
        // is one, else in /tmp, an emptyDir that survives container restarts. Hostnames are announced per pod (arguments).
        directives.Add(("cluster-enabled", "yes"));
        directives.Add(("cluster-config-file", spec.Persistence is { Enabled: true } ? $"{DataDirectory}/nodes.conf" : "/tmp/nodes.conf"));
        directives.Add(("cluster-port", BusPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        directives.Add(("cluster-preferred-endpoint-type", "hostname"));
        if (spec.Config?.ContainsKey("cluster-node-timeout") != true)
        {
            directives.Add(("cluster-node-timeout", DefaultNodeTimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (catalog.MaxMemoryPolicy.Validate(spec.EvictionPolicy) is { } policyError)
        {
            found.Add(new SpecProblem("InvalidEvictionPolicy", $"spec.evictionPolicy: {policyError}"));
        }
        foreach (var (name, value) in (spec.Config ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var directive = catalog.Find(name);
            // By the name given and by the directive's own name (an alias of a reserved directive is reserved too).
            if (OperatorOwnedDirectives.TryGetValue(name, out var instead) || (directive is not null && OperatorOwnedDirectives.TryGetValue(directive.Name, out instead)))
            {
                found.Add(new SpecProblem("ReservedDirective", $"spec.config.{name}: the operator sets this directive itself; {instead}"));
            }
            else if (directive is null)
            {
                found.Add(new SpecProblem("UnknownDirective", $"spec.config: the node has no directive \"{name}\""));
            }
            else if (directive.Validate(value) is { } error)
            {
                found.Add(new SpecProblem("InvalidDirective", $"spec.config.{name}: {error}"));
            }
            else
            {
                directives.Add((directive.Name, value));
            }
        }

        problems = found;
        if (found.Count > 0)
        {
            return null;
        }
        var text = new StringBuilder("# Written by cache-operator from the CacheCluster spec.\n");
        foreach (var (name, value) in directives)
        {
            text.Append(name).Append(' ').Append(Quote(value)).Append('\n');
        }
        return new ClusterPlan(spec.Shards, spec.ReplicasPerShard, maxMemory ?? 0, text.ToString());
    }

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\')
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
