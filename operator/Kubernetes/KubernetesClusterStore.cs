using System.Text.Json.Nodes;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>CacheClusters in the Kubernetes API: the resource, its status subresource and its Events.</summary>
public sealed class KubernetesClusterStore(IKubeApi api, TimeProvider? time = null) : IClusterStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <inheritdoc />
    public Task<CacheCluster?> GetClusterAsync(ClusterKey key, CancellationToken cancellationToken) =>
        api.GetAsync<CacheCluster>(key.Namespace, key.Name, cancellationToken);

    /// <inheritdoc />
    public Task<CacheCluster> SetFinalizersAsync(CacheCluster cluster, IReadOnlyList<string> finalizers, CancellationToken cancellationToken)
    {
        // A JSON merge patch replaces the whole list; the resourceVersion makes it conditional, so a finalizer another
        // controller added since our read is never dropped (409, read again).
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = cluster.Metadata.ResourceVersion,
                ["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode?)JsonValue.Create(f))]),
            },
        };
        return api.MergePatchAsync<CacheCluster>(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name, patch, cancellationToken);
    }

    /// <inheritdoc />
    public Task<CacheCluster> UpdateStatusAsync(CacheCluster cluster, CancellationToken cancellationToken) =>
        api.ReplaceStatusAsync(cluster, cancellationToken);

    /// <inheritdoc />
    public async Task RecordEventAsync(CacheCluster cluster, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var kubernetesEvent = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                // Unique as the real recorder's (name.hex): never cut short, so two events never share a name.
                Name = $"{cluster.Metadata.Name}.{Guid.NewGuid():N}",
                NamespaceProperty = cluster.Metadata.NamespaceProperty,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = CacheClusterResource.ApiVersion,
                Kind = CacheClusterResource.Kind,
                Name = cluster.Metadata.Name,
                NamespaceProperty = cluster.Metadata.NamespaceProperty,
                Uid = cluster.Metadata.Uid,
                ResourceVersion = cluster.Metadata.ResourceVersion,
            },
            Type = type,
            Reason = reason,
            Message = message,
            Source = new V1EventSource { Component = CacheClusterResource.FieldManager },
            ReportingComponent = CacheClusterResource.FieldManager,
            ReportingInstance = Environment.MachineName,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
        try
        {
            await api.CreateEventAsync(kubernetesEvent, cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Events are best effort, as client-go's recorder: in a namespace being deleted the API server refuses new
            // content with 403, and losing an Event must never stop a reconcile (or a deletion) half way.
        }
    }
}
