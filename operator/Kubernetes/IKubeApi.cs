using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// The operator's narrow view of the Kubernetes API: typed get, list, watch, create, update, status update,
/// server-side apply and delete of the few kinds it uses (see <see cref="ResourceTypes"/>), events and a CRD
/// check. Failures throw <see cref="ApiException"/> with the API server's status code. Implemented thinly
/// on KubernetesClient (<see cref="KubernetesClientApi"/>) and in memory for tests (<see cref="InMemoryKubeApi"/>).
/// </summary>
public interface IKubeApi
{
    /// <summary>The object, or null when it does not exist.</summary>
    Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Objects in <paramref name="namespace"/> (null: all) matching an equality label selector, and the list's resourceVersion.</summary>
    Task<ObjectList<T>> ListAsync<T>(string? @namespace, string? labelSelector, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// Changes after <paramref name="resourceVersion"/> to objects matching the equality label selector (null: all), with
    /// bookmarks (allowWatchBookmarks): BOOKMARK events carry only metadata.resourceVersion, the version the watch has
    /// reached, to resume from. Throws 410 when <paramref name="resourceVersion"/> is too old; may end at any time (the
    /// server's watch timeout), after which the caller resumes from the last version it saw.
    /// </summary>
    IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync<T>(string? @namespace, string? labelSelector, string resourceVersion, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Creates the object; 409 when it exists.</summary>
    Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Replaces metadata and spec (status is kept); 409 when metadata.resourceVersion is stale.</summary>
    Task<T> ReplaceAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Replaces status only (the status subresource); 409 when metadata.resourceVersion is stale.</summary>
    Task<T> ReplaceStatusAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Server-side apply of the fields set in <paramref name="obj"/> as <paramref name="fieldManager"/>.</summary>
    Task<T> ApplyAsync<T>(T obj, string fieldManager, bool force, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// JSON merge patch (RFC 7386) of metadata and spec; a metadata.resourceVersion in the patch is a precondition
    /// (409 when stale). Lists are replaced whole.
    /// </summary>
    Task<T> MergePatchAsync<T>(string @namespace, string name, System.Text.Json.Nodes.JsonObject patch, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Deletes (or, with finalizers, marks for deletion) the object; no error when it is gone.</summary>
    Task DeleteAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>Whether a CustomResourceDefinition named <paramref name="crdName"/> is installed.</summary>
    Task<bool> CrdExistsAsync(string crdName, CancellationToken cancellationToken);

    /// <summary>Records an event.</summary>
    Task CreateEventAsync(Corev1Event kubernetesEvent, CancellationToken cancellationToken);
}

/// <summary>A list and the resourceVersion a watch continues from.</summary>
/// <param name="Items">The objects.</param>
/// <param name="ResourceVersion">The list's resourceVersion.</param>
public sealed record ObjectList<T>(IReadOnlyList<T> Items, string ResourceVersion);

/// <summary>Where a kind lives in the API.</summary>
/// <param name="Group">API group ("" for core).</param>
/// <param name="Version">Version.</param>
/// <param name="Plural">Resource name.</param>
/// <param name="Kind">Kind.</param>
/// <param name="HasStatus">Whether it has a status subresource.</param>
public sealed record ResourceType(string Group, string Version, string Plural, string Kind, bool HasStatus)
{
    /// <summary>apiVersion as written in objects.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";
}

/// <summary>The kinds the operator touches.</summary>
public static class ResourceTypes
{
    private static readonly Dictionary<Type, ResourceType> ByType = new()
    {
        [typeof(Api.CacheCluster)] = new(Api.CacheClusterResource.Group, Api.CacheClusterResource.Version, Api.CacheClusterResource.Plural, Api.CacheClusterResource.Kind, true),
        [typeof(V1StatefulSet)] = new("apps", "v1", "statefulsets", "StatefulSet", true),
        [typeof(V1Service)] = new("", "v1", "services", "Service", true),
        [typeof(V1ConfigMap)] = new("", "v1", "configmaps", "ConfigMap", false),
        [typeof(V1Secret)] = new("", "v1", "secrets", "Secret", false),
        [typeof(V1Pod)] = new("", "v1", "pods", "Pod", true),
        [typeof(V1PodDisruptionBudget)] = new("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
        [typeof(V1Lease)] = new("coordination.k8s.io", "v1", "leases", "Lease", false),
        [typeof(ServiceMonitor)] = new("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", false),
    };

    /// <summary>The resource of <typeparamref name="T"/>.</summary>
    public static ResourceType Of<T>() => Of(typeof(T));

    /// <summary>The resource of <paramref name="type"/>.</summary>
    public static ResourceType Of(Type type) =>
        ByType.TryGetValue(type, out var resource) ? resource : throw new ArgumentException($"{type.Name} is not a kind the operator uses");
}
