using CacheOperator.Operator.Api;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Where CacheClusters live: the Kubernetes API, or an in-memory store in local mode. Writes throw
/// <see cref="ApiException"/> with 409 when the object changed since it was read.
/// </summary>
public interface IClusterStore
{
    /// <summary>The cluster, or null when it no longer exists.</summary>
    Task<CacheCluster?> GetClusterAsync(ClusterKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Sets metadata.finalizers alone, with a patch conditional on the cluster's metadata.resourceVersion (409 when
    /// stale): never a full replace, which would drop fields this operator version does not know. Returns the stored object.
    /// </summary>
    Task<CacheCluster> SetFinalizersAsync(CacheCluster cluster, IReadOnlyList<string> finalizers, CancellationToken cancellationToken);

    /// <summary>Writes status only (the status subresource); returns the stored object.</summary>
    Task<CacheCluster> UpdateStatusAsync(CacheCluster cluster, CancellationToken cancellationToken);

    /// <summary>Records an event on the cluster (type Normal or Warning), best effort: a refused event (403 in a namespace being
    /// deleted, a throttled API) is dropped, never an error.</summary>
    Task RecordEventAsync(CacheCluster cluster, string type, string reason, string message, CancellationToken cancellationToken);
}
