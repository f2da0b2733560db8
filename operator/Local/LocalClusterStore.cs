using System.Globalization;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;
using k8s;

namespace CacheOperator.Operator.Local;

/// <summary>An Event recorded on a cluster in local mode.</summary>
/// <param name="Time">When it was recorded.</param>
/// <param name="Type">Normal or Warning.</param>
/// <param name="Reason">CamelCase reason.</param>
/// <param name="Message">What happened.</param>
public sealed record LocalEvent(DateTimeOffset Time, string Type, string Reason, string Message);

/// <summary>
/// CacheClusters in memory, with the API server's semantics the reconciler relies on: every read is a copy, a write
/// with a stale metadata.resourceVersion fails with 409, a spec change bumps metadata.generation, status is written
/// only through <see cref="UpdateStatusAsync"/>, deletion waits for finalizers. Events are kept and handed to a sink.
/// </summary>
public sealed class LocalClusterStore(TimeProvider? time = null, Action<ClusterKey, LocalEvent>? eventSink = null) : IClusterStore
{
    /// <summary>How many events are kept per cluster.</summary>
    public const int EventsKept = 200;

    private readonly object _gate = new();
    private readonly Dictionary<ClusterKey, CacheCluster> _clusters = [];
    private readonly Dictionary<ClusterKey, List<LocalEvent>> _events = [];
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _resourceVersion;

    /// <summary>Raised after any write (create, spec, status, delete), with the cluster's key.</summary>
    public event Action<ClusterKey>? Changed;

    /// <summary>Creates the cluster as the API server would: uid, resourceVersion, generation 1, creationTimestamp.</summary>
    public CacheCluster Create(CacheCluster cluster)
    {
        var key = KeyOf(cluster);
        CacheCluster stored;
        lock (_gate)
        {
            if (_clusters.ContainsKey(key))
            {
                throw new ApiException(409, $"cacheclusters \"{key.Name}\" already exists", reason: "AlreadyExists");
            }
            stored = Copy(cluster);
            stored.Metadata.NamespaceProperty = key.Namespace;
            stored.Metadata.Uid = Guid.NewGuid().ToString();
            stored.Metadata.Generation = 1;
            stored.Metadata.CreationTimestamp = _time.GetUtcNow().UtcDateTime;
            stored.Metadata.DeletionTimestamp = null;
            stored.Metadata.ResourceVersion = NextVersion();
            stored.Status = null;
            _clusters[key] = stored;
        }
        Changed?.Invoke(key);
        return Copy(stored);
    }

    /// <inheritdoc />
    public Task<CacheCluster?> GetClusterAsync(ClusterKey key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_clusters.TryGetValue(key, out var stored) ? Copy(stored) : null);
        }
    }

    /// <inheritdoc />
    public Task<CacheCluster> SetFinalizersAsync(CacheCluster cluster, IReadOnlyList<string> finalizers, CancellationToken cancellationToken)
    {
        var key = KeyOf(cluster);
        CacheCluster stored;
        lock (_gate)
        {
            stored = Copy(Current(key, cluster.Metadata.ResourceVersion));
        }
        stored.Metadata.Finalizers = [.. finalizers];
        return UpdateClusterAsync(stored, cancellationToken);
    }

    /// <summary>Writes metadata (finalizers) and spec, conditional on metadata.resourceVersion; returns the stored object.</summary>
    public Task<CacheCluster> UpdateClusterAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        var key = KeyOf(cluster);
        CacheCluster? result;
        lock (_gate)
        {
            var stored = Current(key, cluster.Metadata.ResourceVersion);
            var updated = Copy(cluster);
            updated.Status = stored.Status;
            updated.Metadata.Uid = stored.Metadata.Uid;
            updated.Metadata.CreationTimestamp = stored.Metadata.CreationTimestamp;
            updated.Metadata.DeletionTimestamp = stored.Metadata.DeletionTimestamp;
            updated.Metadata.Generation = SpecJson(stored) == SpecJson(updated) ? stored.Metadata.Generation : stored.Metadata.Generation + 1;
            updated.Metadata.ResourceVersion = NextVersion();
            if (updated.Metadata.DeletionTimestamp is not null && (updated.Metadata.Finalizers ?? []).Count == 0)
            {
                // The last finalizer is gone: the object goes away, as the API server does.
                _clusters.Remove(key);
            }
            else
            {
                _clusters[key] = updated;
            }
            result = Copy(updated);
        }
        Changed?.Invoke(key);
        return Task.FromResult(result);
    }

    /// <inheritdoc />
    public Task<CacheCluster> UpdateStatusAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        var key = KeyOf(cluster);
        CacheCluster result;
        lock (_gate)
        {
            var stored = Current(key, cluster.Metadata.ResourceVersion);
            var updated = Copy(stored);
            updated.Status = cluster.Status is null ? null : Copy(cluster).Status;
            updated.Metadata.ResourceVersion = NextVersion();
            _clusters[key] = updated;
            result = Copy(updated);
        }
        Changed?.Invoke(key);
        return Task.FromResult(result);
    }

    /// <summary>
    /// Replaces the spec as <c>kubectl apply</c> would (no resourceVersion precondition); bumps the generation when it
    /// differs. Returns the stored object.
    /// </summary>
    public CacheCluster ReplaceSpec(ClusterKey key, CacheClusterSpec spec)
    {
        CacheCluster result;
        lock (_gate)
        {
            var stored = Current(key, resourceVersion: null);
            var updated = Copy(stored);
            updated.Spec = KubernetesJson.Deserialize<CacheClusterSpec>(KubernetesJson.Serialize(spec));
            if (SpecJson(stored) != SpecJson(updated))
            {
                updated.Metadata.Generation = stored.Metadata.Generation + 1;
                updated.Metadata.ResourceVersion = NextVersion();
                _clusters[key] = updated;
            }
            result = Copy(_clusters[key]);
        }
        Changed?.Invoke(key);
        return result;
    }

    /// <summary>Deletes the cluster: at once without finalizers, else it is marked (deletionTimestamp) until they are removed.</summary>
    public void Delete(ClusterKey key)
    {
        lock (_gate)
        {
            var stored = Current(key, resourceVersion: null);
            if ((stored.Metadata.Finalizers ?? []).Count == 0)
            {
                _clusters.Remove(key);
            }
            else if (stored.Metadata.DeletionTimestamp is null)
            {
                stored.Metadata.DeletionTimestamp = _time.GetUtcNow().UtcDateTime;
                stored.Metadata.ResourceVersion = NextVersion();
            }
        }
        Changed?.Invoke(key);
    }

    /// <inheritdoc />
    public Task RecordEventAsync(CacheCluster cluster, string type, string reason, string message, CancellationToken cancellationToken)
    {
        var key = KeyOf(cluster);
        var recorded = new LocalEvent(_time.GetUtcNow(), type, reason, message);
        lock (_gate)
        {
            if (!_events.TryGetValue(key, out var list))
            {
                _events[key] = list = [];
            }
            list.Add(recorded);
            if (list.Count > EventsKept)
            {
                list.RemoveRange(0, list.Count - EventsKept);
            }
        }
        eventSink?.Invoke(key, recorded);
        return Task.CompletedTask;
    }

    /// <summary>The events recorded on the cluster, oldest first (the last <see cref="EventsKept"/>).</summary>
    public IReadOnlyList<LocalEvent> Events(ClusterKey key)
    {
        lock (_gate)
        {
            return _events.TryGetValue(key, out var list) ? list.ToList() : [];
        }
    }

    /// <summary>The key of a cluster; the namespace defaults to "default" as kubectl's does.</summary>
    public static ClusterKey KeyOf(CacheCluster cluster) =>
        new(string.IsNullOrEmpty(cluster.Metadata.NamespaceProperty) ? "default" : cluster.Metadata.NamespaceProperty, cluster.Metadata.Name);

    private CacheCluster Current(ClusterKey key, string? resourceVersion)
    {
        if (!_clusters.TryGetValue(key, out var stored))
        {
            throw new ApiException(404, $"cacheclusters \"{key.Name}\" not found");
        }
        if (resourceVersion is not null && resourceVersion != stored.Metadata.ResourceVersion)
        {
            throw new ApiException(409, $"Operation cannot be fulfilled on cacheclusters \"{key.Name}\": the object has been modified; please apply your changes to the latest version and try again");
        }
        return stored;
    }

    private string NextVersion() => (++_resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static string SpecJson(CacheCluster cluster) => KubernetesJson.Serialize(cluster.Spec);

    private static CacheCluster Copy(CacheCluster cluster) => KubernetesJson.Deserialize<CacheCluster>(KubernetesJson.Serialize(cluster));
}
