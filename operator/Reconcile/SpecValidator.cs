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

    /// <summary>Directives the operator sets itself; spec.config may not override them.</summary>
    public static readonly IReadOnlyList<string> OperatorOwnedDirectives =
    [
        "port", "bind", "maxmemory", "maxmemory-policy", "requirepass", "masterauth", "protected-mode",
        "cluster-enabled", "cluster-config-file", "cluster-port", "cluster-announce-ip", "cluster-announce-port",
        "cluster-announce-bus-port", "cluster-announce-hostname", "cluster-preferred-endpoint-type",
    ];

    /// <summary>The cluster bus port: the RESP port + 10000, as Redis's default.</summary>
    public const int BusPort = RespPort + 10000;

    /// <summary>
    /// cluster-node-timeout the operator writes unless spec.config sets one: a failed master's replica takes over after
    /// about twice this, so it is shorter than Redis's 15 s default.
    /// </summary>
    public const int DefaultNodeTimeoutMs = 5000;

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
            if (directive is null)
            {
                found.Add(new SpecProblem("UnknownDirective", $"spec.config: the node has no directive \"{name}\""));
            }
            else if (OperatorOwnedDirectives.Contains(directive.Name, StringComparer.OrdinalIgnoreCase))
            {
                found.Add(new SpecProblem("ReservedDirective", $"spec.config: \"{name}\" is set by the operator (use spec.maxMemory, spec.evictionPolicy or spec.auth)"));
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
