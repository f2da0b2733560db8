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

    /// <summary>Most shards a cluster may have (the CRD's bound on spec.shards).</summary>
    public const int MaxShards = 1000;

    /// <summary>
    /// Longest StatefulSet name whose pods can be made: the controller labels each pod controller-revision-hash
    /// "&lt;statefulset&gt;-&lt;hash of up to 10&gt;", and label values are at most 63 characters.
    /// </summary>
    public const int MaxStatefulSetName = 52;

    /// <summary>
    /// Longest cluster name every derived name allows: its longest, the StatefulSet "&lt;name&gt;-shard-&lt;MaxShards-1&gt;", within
    /// <see cref="MaxStatefulSetName"/>; the Services "&lt;name&gt;" and "&lt;name&gt;-headless" (DNS-1035 labels, at most 63) then fit too.
    /// </summary>
    public static int MaxNameLength => MaxStatefulSetName - $"-shard-{MaxShards - 1}".Length;

    /// <summary>A DNS-1035 label (the client Service is named after the cluster): lower case, starts with a letter.</summary>
    public const string NamePattern = "^[a-z]([-a-z0-9]*[a-z0-9])?$";

    /// <summary>The finalizer the operator puts on every CacheCluster.</summary>
    public const string Finalizer = "cacheoperator.io/cleanup";

    /// <summary>Field manager of every server-side apply the operator makes.</summary>
    public const string FieldManager = "cache-operator";
}
