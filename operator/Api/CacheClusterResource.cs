namespace CacheOperator.Operator.Api;

/// <summary>Fixed names of the CacheCluster API (see OPERATOR-CONTRACT.md): never rename.</summary>
public static class CacheClusterResource
{
    /// <summary>API group.</summary>
    public const string Group = "cacheoperator.io";

    /// <summary>API version.</summary>
    public const string Version = "v1alpha1";

    /// <summary>group/version.</summary>
    public const string ApiVersion = Group + "/" + Version;

    /// <summary>Kind.</summary>
    public const string Kind = "CacheCluster";

    /// <summary>Plural resource name.</summary>
    public const string Plural = "cacheclusters";

    /// <summary>Singular resource name.</summary>
    public const string Singular = "cachecluster";

    /// <summary>Short name for kubectl.</summary>
    public const string ShortName = "cc";

    /// <summary>Name of the CustomResourceDefinition.</summary>
    public const string CrdName = Plural + "." + Group;

    /// <summary>File name of the generated CRD in crds/.</summary>
    public const string CrdFileName = CrdName + ".yaml";

    /// <summary>The finalizer the operator puts on every CacheCluster.</summary>
    public const string Finalizer = "cacheoperator.io/cleanup";

    /// <summary>Field manager of every server-side apply the operator makes.</summary>
    public const string FieldManager = "cache-operator";
}
