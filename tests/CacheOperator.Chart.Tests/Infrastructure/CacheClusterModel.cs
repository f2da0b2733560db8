using k8s.Models;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>A minimal CacheCluster model for parsing the examples (the operator owns the real one).</summary>
public sealed class CacheClusterModel
{
    /// <summary>cacheoperator.io/v1alpha1.</summary>
    public string? ApiVersion { get; set; }

    /// <summary>CacheCluster.</summary>
    public string? Kind { get; set; }

    /// <summary>Name, namespace, labels.</summary>
    public V1ObjectMeta? Metadata { get; set; }

    /// <summary>The desired cluster.</summary>
    public CacheClusterSpecModel? Spec { get; set; }
}

/// <summary>The spec of <see cref="CacheClusterModel"/>.</summary>
public sealed class CacheClusterSpecModel
{
    /// <summary>Number of shards.</summary>
    public int Shards { get; set; }

    /// <summary>Replicas of each shard's master.</summary>
    public int? ReplicasPerShard { get; set; }

    /// <summary>Cache node image.</summary>
    public string? Image { get; set; }

    /// <summary>maxmemory of each node.</summary>
    public string? MaxMemory { get; set; }

    /// <summary>maxmemory-policy of each node.</summary>
    public string? EvictionPolicy { get; set; }

    /// <summary>Resources of each node container.</summary>
    public V1ResourceRequirements? Resources { get; set; }

    /// <summary>Metrics options.</summary>
    public CacheClusterMetricsModel? Metrics { get; set; }
}

/// <summary>The metrics options of <see cref="CacheClusterSpecModel"/>.</summary>
public sealed class CacheClusterMetricsModel
{
    /// <summary>Expose the nodes' metrics port.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Create a ServiceMonitor for the nodes.</summary>
    public bool? ServiceMonitor { get; set; }
}
