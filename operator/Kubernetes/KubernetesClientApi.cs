using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// <see cref="IKubeApi"/> on a real API server through KubernetesClient's generic custom-object calls,
/// which address any group (the core group via <see cref="CoreGroupPathHandler"/>). Kept thin: every
/// method is one call plus error translation.
/// </summary>
public sealed class KubernetesClientApi(IKubernetes client) : IKubeApi
{
    /// <summary>A client for the kubeconfig at <paramref name="kubeconfig"/>, or in-cluster, or the default kubeconfig.</summary>
    public static KubernetesClientApi Connect(string? kubeconfig)
    {
        var config = kubeconfig is not null
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig)
            : KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile();
        return new KubernetesClientApi(new k8s.Kubernetes(config, new CoreGroupPathHandler()));
    }

    /// <inheritdoc />
    public async Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        try
        {
            var body = await client.CustomObjects.GetNamespacedCustomObjectAsync(type.Group, type.Version, @namespace, type.Plural, name, cancellationToken);
            return Convert<T>(body);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (HttpOperationException e)
        {
            throw Translate(e);
        }
    }

    /// <inheritdoc />
    public async Task<ObjectList<T>> ListAsync<T>(string? @namespace, string? labelSelector, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        var body = await Call(() => @namespace is null
            ? client.CustomObjects.ListClusterCustomObjectAsync(type.Group, type.Version, type.Plural, labelSelector: labelSelector, cancellationToken: cancellationToken)
            : client.CustomObjects.ListNamespacedCustomObjectAsync(type.Group, type.Version, @namespace, type.Plural, labelSelector: labelSelector, cancellationToken: cancellationToken));
        var list = JsonNode.Parse(((JsonElement)body).GetRawText())!;
        var items = (list["items"] as JsonArray ?? []).Select(item =>
        {
            // List items come without apiVersion and kind.
            item!["apiVersion"] = type.ApiVersion;
            item["kind"] = type.Kind;
            return KubernetesJson.Deserialize<T>(item.ToJsonString());
        }).ToList();
        return new ObjectList<T>(items, list["metadata"]?["resourceVersion"]?.GetValue<string>() ?? "0");
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync<T>(string? @namespace, string? labelSelector, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        // The watcher reports an ERROR event (410 when the version expired) and network errors through onError, not the stream.
        Exception? failure = null;
        void OnError(Exception e) => failure ??= e;
        // Bookmarks keep the resume version fresh; the server ends the watch after timeoutSeconds, randomised (as client-go
        // does) so replicas do not all re-watch at once, and a connection that silently died is noticed within that time.
        var timeoutSeconds = Random.Shared.Next(300, 600);
        var events = (@namespace is null
            ? client.CustomObjects.WatchListClusterCustomObjectAsync(type.Group, type.Version, type.Plural, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, onError: OnError, cancellationToken: cancellationToken)
            : client.CustomObjects.WatchListNamespacedCustomObjectAsync(type.Group, type.Version, @namespace, type.Plural, allowWatchBookmarks: true, labelSelector: labelSelector, resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds, onError: OnError, cancellationToken: cancellationToken))
            .GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    var more = await events.MoveNextAsync();
                    if (failure is not null)
                    {
                        throw failure;
                    }
                    if (!more)
                    {
                        yield break;
                    }
                }
                catch (KubernetesException e) when (e.Status?.Code is { } code)
                {
                    throw new ApiException(code, e.Status.Message ?? e.Message);
                }
                catch (HttpOperationException e)
                {
                    throw Translate(e);
                }
                var (eventType, body) = events.Current;
                if (eventType == WatchEventType.Error)
                {
                    // The API server ends a watch with an ERROR event carrying a Status (410 when expired).
                    var status = Convert<V1Status>(body);
                    throw new ApiException(status.Code ?? 500, status.Message ?? status.Reason ?? "watch error");
                }
                yield return (eventType, Convert<T>(body));
            }
        }
        finally
        {
            await events.DisposeAsync();
        }
    }

    /// <inheritdoc />
    public async Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        return Convert<T>(await Call(() => client.CustomObjects.CreateNamespacedCustomObjectAsync(obj, type.Group, type.Version, obj.Metadata.NamespaceProperty, type.Plural, cancellationToken: cancellationToken)));
    }

    /// <inheritdoc />
    public async Task<T> ReplaceAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        return Convert<T>(await Call(() => client.CustomObjects.ReplaceNamespacedCustomObjectAsync(obj, type.Group, type.Version, obj.Metadata.NamespaceProperty, type.Plural, obj.Metadata.Name, cancellationToken: cancellationToken)));
    }

    /// <inheritdoc />
    public async Task<T> ReplaceStatusAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        return Convert<T>(await Call(() => client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync(obj, type.Group, type.Version, obj.Metadata.NamespaceProperty, type.Plural, obj.Metadata.Name, cancellationToken: cancellationToken)));
    }

    /// <inheritdoc />
    public async Task<T> ApplyAsync<T>(T obj, string fieldManager, bool force, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        var patch = new V1Patch(KubernetesJson.Serialize(obj), V1Patch.PatchType.ApplyPatch);
        return Convert<T>(await Call(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(patch, type.Group, type.Version, obj.Metadata.NamespaceProperty, type.Plural, obj.Metadata.Name, fieldManager: fieldManager, force: force, cancellationToken: cancellationToken)));
    }

    /// <inheritdoc />
    public async Task<T> MergePatchAsync<T>(string @namespace, string name, JsonObject patch, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        var body = new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch);
        return Convert<T>(await Call(() => client.CustomObjects.PatchNamespacedCustomObjectAsync(body, type.Group, type.Version, @namespace, type.Plural, name, fieldManager: Api.CacheClusterResource.FieldManager, cancellationToken: cancellationToken)));
    }

    /// <inheritdoc />
    public async Task DeleteAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        try
        {
            await client.CustomObjects.DeleteNamespacedCustomObjectAsync(type.Group, type.Version, @namespace, type.Plural, name, propagationPolicy: "Background", cancellationToken: cancellationToken);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Already gone.
        }
        catch (HttpOperationException e)
        {
            throw Translate(e);
        }
    }

    /// <inheritdoc />
    public async Task<bool> CrdExistsAsync(string crdName, CancellationToken cancellationToken)
    {
        try
        {
            await client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crdName, cancellationToken: cancellationToken);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public Task CreateEventAsync(Corev1Event kubernetesEvent, CancellationToken cancellationToken) =>
        Call(() => client.CoreV1.CreateNamespacedEventAsync(kubernetesEvent, kubernetesEvent.Metadata.NamespaceProperty, cancellationToken: cancellationToken));

    private static T Convert<T>(object body) => KubernetesJson.Deserialize<T>(((JsonElement)body).GetRawText());

    private static async Task<TResult> Call<TResult>(Func<Task<TResult>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpOperationException e)
        {
            throw Translate(e);
        }
    }

    private static ApiException Translate(HttpOperationException e)
    {
        // The body is a Status: its reason tells a 409 Conflict from a 409 AlreadyExists.
        V1Status? status = null;
        try
        {
            status = string.IsNullOrEmpty(e.Response.Content) ? null : KubernetesJson.Deserialize<V1Status>(e.Response.Content);
        }
        catch (JsonException)
        {
            // Not a Status (a proxy's error page): keep the text.
        }
        var message = status?.Message ?? (string.IsNullOrEmpty(e.Response.Content) ? e.Message : e.Response.Content);
        return new ApiException((int)e.Response.StatusCode, message, RetryAfter(e.Response), status?.Reason);
    }

    /// <summary>The Retry-After header (429, 503): delay-seconds or an HTTP date.</summary>
    private static TimeSpan? RetryAfter(HttpResponseMessageWrapper response)
    {
        if (response.Headers is null || !response.Headers.TryGetValue("Retry-After", out var values) || values.FirstOrDefault() is not { } value)
        {
            return null;
        }
        if (int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }
        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? TimeSpan.FromTicks(Math.Max(0, (at - DateTimeOffset.UtcNow).Ticks))
            : null;
    }
}

/// <summary>
/// Lets the custom-object calls reach the core group: they build /apis/{group}/..., which for the empty
/// group must be /api/....
/// </summary>
public sealed class CoreGroupPathHandler : DelegatingHandler
{
    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri && uri.AbsolutePath.Contains("/apis//", StringComparison.Ordinal))
        {
            request.RequestUri = new Uri(uri, uri.AbsolutePath.Replace("/apis//", "/api/", StringComparison.Ordinal) + uri.Query);
        }
        return base.SendAsync(request, cancellationToken);
    }
}
