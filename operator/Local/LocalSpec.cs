using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;
using k8s;

namespace CacheOperator.Operator.Local;

/// <summary>Reads a CacheCluster YAML file for local mode and checks it as the operator would, with clear errors.</summary>
public static class LocalSpec
{
    /// <summary>The cluster in <paramref name="path"/>, or null with <paramref name="error"/> saying what is wrong.</summary>
    public static CacheCluster? Load(string path, out string? error)
    {
        error = null;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = $"cannot read {path}: {e.Message}";
            return null;
        }
        return Parse(text, path, out error);
    }

    /// <summary>The cluster in YAML <paramref name="text"/> (read from <paramref name="source"/>), or null with an error.</summary>
    public static CacheCluster? Parse(string text, string source, out string? error)
    {
        error = null;
        CacheCluster? cluster;
        try
        {
            cluster = KubernetesYaml.Deserialize<CacheCluster>(text);
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or InvalidOperationException or FormatException or ArgumentException)
        {
            error = $"{source} is not a valid CacheCluster: {Innermost(e).Message}";
            return null;
        }
        if (cluster is null)
        {
            error = $"{source} is empty";
            return null;
        }
        if (cluster.Kind != CacheClusterResource.Kind || cluster.ApiVersion != CacheClusterResource.ApiVersion)
        {
            error = $"{source} holds {cluster.ApiVersion}/{cluster.Kind}; local mode runs a {CacheClusterResource.ApiVersion} {CacheClusterResource.Kind}";
            return null;
        }
        if (string.IsNullOrWhiteSpace(cluster.Metadata?.Name))
        {
            error = $"{source}: metadata.name is required";
            return null;
        }
        if (cluster.Spec is null)
        {
            error = $"{source}: spec is required";
            return null;
        }
        cluster.Metadata.NamespaceProperty ??= "default";
        if (SpecValidator.Plan(cluster.Spec, out var problems) is null)
        {
            error = $"{source}: " + string.Join("; ", problems.Select(p => p.Message));
            return null;
        }
        LocalOptions.Password(cluster.Spec, out var passwordError);
        if (passwordError is not null)
        {
            error = $"{source}: {passwordError}";
            return null;
        }
        return cluster;
    }

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;
}
