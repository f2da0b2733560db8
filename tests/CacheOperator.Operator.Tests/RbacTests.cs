using System.Runtime.CompilerServices;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheOperator.Operator.Tests;

/// <summary>
/// The permissions the operator's code uses, recorded from its calls through a whole life (leader election, informers,
/// reconciles with a password and a ServiceMonitor, scaling out and in, a rolling upgrade, deletion), equal <see cref="OperatorPermissions"/>, which
/// the chart tests compare with the rendered RBAC: nothing granted that the code does not call, nothing called that is not granted.
/// </summary>
[Collection(nameof(TimingSensitive))]
public sealed class RbacTests
{
    [Fact]
    public async Task The_operator_uses_exactly_the_permissions_the_chart_grants()
    {
        RecordingKubeApi? recorded = null;
        using var world = new World(inner => recorded = new RecordingKubeApi(inner));
        var api = recorded!;
        var memory = world.Api;
        memory.InstalledCrds.Add(Manifests.ServiceMonitorCrd);

        // Leader election in the operator's namespace, and the controller's informers until each kind is watched.
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await OperatorRunner.RunAsLeaderAsync(api, "cache-system", "cache-operator-leader", "a", world.Metrics, NullLogger.Instance,
                async ct =>
                {
                    var runner = new OperatorRunner(api, new ScriptedTopology(), new ControllerOptions("cache", 1, TimeSpan.FromMinutes(10)), world.Metrics, NullLoggerFactory.Instance);
                    using var inner = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    var running = runner.RunControllerAsync(inner.Token);
                    while (memory.Reads.Count(r => r.Verb == "watch") < 5)
                    {
                        await Task.Delay(20, ct);
                    }
                    await inner.CancelAsync();
                    await running;
                    await stop.CancelAsync();
                }, stop.Token, TimeSpan.FromSeconds(4));
        }

        // A cluster's life: a password, a ServiceMonitor and an older operator's finalizer; ready; scaled out and in
        // (the empty shard is removed); a rolling upgrade (pods deleted in order); deleted.
        var cluster = TestClusters.New("life", shards: 2);
        cluster.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        cluster.Spec.Auth = new AuthSpec { SecretRef = new SecretKeyRef { Name = "life-auth", Key = "password" } };
        cluster.Spec.Metrics = new MetricsSpec { Enabled = true, ServiceMonitor = true };
        await memory.CreateAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = "life-auth", NamespaceProperty = "cache" }, StringData = new Dictionary<string, string> { ["password"] = "pw" } }, CancellationToken.None);
        cluster = await world.CreateAsync(cluster);
        async Task RoundsAsync(int count, Func<bool>? until = null)
        {
            for (var round = 0; round < count && !(until?.Invoke() ?? false); round++)
            {
                await world.ReconcileAsync(cluster);
                await world.MakeAllReadyAsync();
            }
        }
        async Task EditAsync(Action<CacheClusterSpec> edit)
        {
            var fresh = await world.GetAsync(cluster);
            edit(fresh.Spec);
            await memory.ReplaceAsync(fresh, CancellationToken.None);
        }
        await RoundsAsync(3);
        await EditAsync(s => s.Shards = 3);
        await RoundsAsync(3);
        await EditAsync(s => s.Shards = 2);
        await RoundsAsync(3);
        await EditAsync(s => s.Image = "cache-node:2");
        await RoundsAsync(60, () => api.Used.Any(u => u.Permission is { Resource: "pods", Verb: "delete" }));
        await memory.DeleteAsync<CacheCluster>("cache", "life", CancellationToken.None);
        await world.ReconcileAsync(cluster);

        var used = api.Used;
        var workload = used.Where(u => u.Namespace == "cache").Select(u => u.Permission).ToHashSet();
        var leader = used.Where(u => u.Namespace == "cache-system").Select(u => u.Permission).ToHashSet();
        var clusterScoped = used.Where(u => u.Namespace is null).Select(u => u.Permission).ToHashSet();
        Assert.Equal(Sorted(OperatorPermissions.Workload), Sorted(workload));
        Assert.Equal(Sorted(OperatorPermissions.LeaderElection), Sorted(leader));
        Assert.Equal(Sorted(OperatorPermissions.Cluster), Sorted(clusterScoped));
    }

    private static List<string> Sorted(IEnumerable<Permission> permissions) =>
        permissions.Select(p => $"{p.ApiGroup}/{p.Resource} {p.Verb}").Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// Passes every call to an inner API and records the RBAC permission the API server would check for it (and the
/// namespace it is checked in; null: cluster-scoped).
/// </summary>
internal sealed class RecordingKubeApi(IKubeApi inner) : IKubeApi
{
    private readonly List<(string? Namespace, Permission Permission)> _used = [];

    public IReadOnlyList<(string? Namespace, Permission Permission)> Used
    {
        get
        {
            lock (_used)
            {
                return _used.ToList();
            }
        }
    }

    public Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(@namespace, "get");
        return inner.GetAsync<T>(@namespace, name, cancellationToken);
    }

    public Task<ObjectList<T>> ListAsync<T>(string? @namespace, string? labelSelector, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(@namespace, "list");
        return inner.ListAsync<T>(@namespace, labelSelector, cancellationToken);
    }

    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync<T>(string? @namespace, string? labelSelector, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(@namespace, "watch");
        await foreach (var item in inner.WatchAsync<T>(@namespace, labelSelector, resourceVersion, cancellationToken))
        {
            yield return item;
        }
    }

    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(obj.Metadata.NamespaceProperty, "create");
        Owners(obj);
        return inner.CreateAsync(obj, cancellationToken);
    }

    public Task<T> ReplaceAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(obj.Metadata.NamespaceProperty, "update");
        Owners(obj);
        return inner.ReplaceAsync(obj, cancellationToken);
    }

    public Task<T> ReplaceStatusAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(obj.Metadata.NamespaceProperty, "update", "/status");
        return inner.ReplaceStatusAsync(obj, cancellationToken);
    }

    public async Task<T> ApplyAsync<T>(T obj, string fieldManager, bool force, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(obj.Metadata.NamespaceProperty, "patch");
        // An apply that creates the object is authorized as create too.
        if (await inner.GetAsync<T>(obj.Metadata.NamespaceProperty, obj.Metadata.Name, cancellationToken) is null)
        {
            Use<T>(obj.Metadata.NamespaceProperty, "create");
        }
        Owners(obj);
        return await inner.ApplyAsync(obj, fieldManager, force, cancellationToken);
    }

    public Task<T> MergePatchAsync<T>(string @namespace, string name, System.Text.Json.Nodes.JsonObject patch, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(@namespace, "patch");
        return inner.MergePatchAsync<T>(@namespace, name, patch, cancellationToken);
    }

    public Task DeleteAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Use<T>(@namespace, "delete");
        return inner.DeleteAsync<T>(@namespace, name, cancellationToken);
    }

    public Task<bool> CrdExistsAsync(string crdName, CancellationToken cancellationToken)
    {
        Add(null, new Permission("apiextensions.k8s.io", "customresourcedefinitions", "get"));
        return inner.CrdExistsAsync(crdName, cancellationToken);
    }

    public Task CreateEventAsync(Corev1Event kubernetesEvent, CancellationToken cancellationToken)
    {
        Add(kubernetesEvent.Metadata.NamespaceProperty, new Permission("", "events", "create"));
        return inner.CreateEventAsync(kubernetesEvent, cancellationToken);
    }

    private void Use<T>(string? @namespace, string verb, string subresource = "")
    {
        var type = ResourceTypes.Of<T>();
        Add(@namespace, new Permission(type.Group, type.Plural + subresource, verb));
    }

    /// <summary>Setting blockOwnerDeletion on an owner reference needs update on the owner's finalizers subresource.</summary>
    private void Owners(IKubernetesObject<V1ObjectMeta> obj)
    {
        foreach (var owner in obj.Metadata.OwnerReferences ?? [])
        {
            if (owner.BlockOwnerDeletion == true && owner.Kind == CacheClusterResource.Kind)
            {
                Add(obj.Metadata.NamespaceProperty, new Permission(CacheClusterResource.Group, CacheClusterResource.Plural + "/finalizers", "update"));
            }
        }
    }

    private void Add(string? @namespace, Permission permission)
    {
        lock (_used)
        {
            _used.Add((@namespace, permission));
        }
    }
}
