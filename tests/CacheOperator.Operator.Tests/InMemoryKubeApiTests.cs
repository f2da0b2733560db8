using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

public class InMemoryKubeApiTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Stale_resource_version_gets_409_and_fresh_one_succeeds()
    {
        var api = new InMemoryKubeApi();
        var created = await api.CreateAsync(TestClusters.New(), None);
        var first = (await api.GetAsync<CacheCluster>("cache", "demo", None))!;
        var second = (await api.GetAsync<CacheCluster>("cache", "demo", None))!;
        first.Spec.Shards = 5;
        var updated = await api.ReplaceAsync(first, None);
        Assert.NotEqual(created.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);

        second.Spec.Shards = 7;
        var conflict = await Assert.ThrowsAsync<ApiException>(() => api.ReplaceAsync(second, None));
        Assert.True(conflict.IsConflict);
        Assert.Equal(409, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(TestClusters.New(), None))).StatusCode);
    }

    [Fact]
    public async Task Generation_moves_only_with_spec_changes()
    {
        var api = new InMemoryKubeApi();
        var cluster = await api.CreateAsync(TestClusters.New(), None);
        Assert.Equal(1, cluster.Metadata.Generation);

        cluster.Metadata.Labels = new Dictionary<string, string> { ["team"] = "a" };
        cluster.Metadata.Finalizers = ["x/y"];
        cluster = await api.ReplaceAsync(cluster, None);
        Assert.Equal(1, cluster.Metadata.Generation);

        cluster.Status = new CacheClusterStatus { Phase = ClusterPhase.Ready };
        cluster = await api.ReplaceStatusAsync(cluster, None);
        Assert.Equal(1, cluster.Metadata.Generation);

        cluster.Spec.Shards = 4;
        cluster = await api.ReplaceAsync(cluster, None);
        Assert.Equal(2, cluster.Metadata.Generation);

        var version = cluster.Metadata.ResourceVersion;
        cluster = await api.ReplaceAsync(cluster, None);
        Assert.Equal(version, cluster.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Status_subresource_and_main_resource_do_not_overwrite_each_other()
    {
        var api = new InMemoryKubeApi();
        var cluster = await api.CreateAsync(TestClusters.New(), None);
        cluster.Status = new CacheClusterStatus { Phase = ClusterPhase.Ready, ReadyShards = 3 };
        cluster.Spec.Shards = 9;
        cluster = await api.ReplaceStatusAsync(cluster, None);
        Assert.Equal(3, cluster.Spec.Shards);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);

        cluster.Status = new CacheClusterStatus { Phase = ClusterPhase.Failed };
        cluster.Spec.Shards = 4;
        cluster = await api.ReplaceAsync(cluster, None);
        Assert.Equal(4, cluster.Spec.Shards);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);

        var map = await api.CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache" } }, None);
        Assert.Equal(404, (await Assert.ThrowsAsync<ApiException>(() => api.ReplaceStatusAsync(map, None))).StatusCode);
    }

    [Fact]
    public async Task Finalizers_hold_deletion_until_removed_then_dependents_are_collected()
    {
        var api = new InMemoryKubeApi();
        var cluster = TestClusters.New();
        cluster.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        cluster = await api.CreateAsync(cluster, None);
        var owned = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "demo-config", NamespaceProperty = "cache", OwnerReferences = [Manifests.OwnerReference(cluster)] } };
        await api.CreateAsync(owned, None);

        await api.DeleteAsync<CacheCluster>("cache", "demo", None);
        var deleting = (await api.GetAsync<CacheCluster>("cache", "demo", None))!;
        Assert.NotNull(deleting.Metadata.DeletionTimestamp);
        Assert.NotNull(await api.GetAsync<V1ConfigMap>("cache", "demo-config", None));

        deleting.Metadata.Finalizers = [];
        await api.ReplaceAsync(deleting, None);
        Assert.Null(await api.GetAsync<CacheCluster>("cache", "demo", None));
        Assert.Null(await api.GetAsync<V1ConfigMap>("cache", "demo-config", None));
    }

    [Fact]
    public async Task Merge_patch_replaces_lists_keeps_other_fields_and_checks_the_resourceVersion_it_carries()
    {
        var api = new InMemoryKubeApi();
        var cluster = TestClusters.New();
        cluster.Metadata.Labels = new Dictionary<string, string> { ["team"] = "a" };
        cluster.Metadata.Finalizers = ["x/one", "x/two"];
        cluster = await api.CreateAsync(cluster, None);

        System.Text.Json.Nodes.JsonObject Finalizers(string? resourceVersion, params string[] names) => new()
        {
            ["metadata"] = new System.Text.Json.Nodes.JsonObject
            {
                ["resourceVersion"] = resourceVersion,
                ["finalizers"] = new System.Text.Json.Nodes.JsonArray([.. names.Select(n => (System.Text.Json.Nodes.JsonNode?)n)]),
            },
        };
        var patched = await api.MergePatchAsync<CacheCluster>("cache", "demo", Finalizers(cluster.Metadata.ResourceVersion, "x/two"), None);
        Assert.Equal(["x/two"], patched.Metadata.Finalizers);
        Assert.Equal("a", patched.Metadata.Labels["team"]);
        Assert.Equal(3, patched.Spec.Shards);
        Assert.Equal(1, patched.Metadata.Generation);
        Assert.True((await Assert.ThrowsAsync<ApiException>(() => api.MergePatchAsync<CacheCluster>("cache", "demo", Finalizers(cluster.Metadata.ResourceVersion), None))).IsConflict);

        // Being deleted, an object may lose finalizers but not gain one (the API server's metadata validation).
        await api.DeleteAsync<CacheCluster>("cache", "demo", None);
        var deleting = (await api.GetAsync<CacheCluster>("cache", "demo", None))!;
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.MergePatchAsync<CacheCluster>("cache", "demo", Finalizers(deleting.Metadata.ResourceVersion, "x/two", "x/three"), None))).StatusCode);
        deleting.Metadata.Finalizers = ["x/two", "x/three"];
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.ReplaceAsync(deleting, None))).StatusCode);
        await api.MergePatchAsync<CacheCluster>("cache", "demo", Finalizers(deleting.Metadata.ResourceVersion), None);
        Assert.Null(await api.GetAsync<CacheCluster>("cache", "demo", None));
    }

    [Fact]
    public async Task A_terminating_namespace_refuses_new_objects_and_events_with_403_and_the_store_drops_refused_events()
    {
        var api = new InMemoryKubeApi();
        var cluster = await api.CreateAsync(TestClusters.New(), None);
        var keep = TestClusters.New("kept");
        keep.Metadata.Finalizers = ["x/y"];
        await api.CreateAsync(keep, None);
        api.DeleteNamespace("cache");

        Assert.Null(await api.GetAsync<CacheCluster>("cache", "demo", None));
        Assert.NotNull((await api.GetAsync<CacheCluster>("cache", "kept", None))!.Metadata.DeletionTimestamp);
        Assert.Equal(403, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(TestClusters.New("new"), None))).StatusCode);
        var map = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache" } };
        Assert.Equal(403, (await Assert.ThrowsAsync<ApiException>(() => api.ApplyAsync(map, "cache-operator", force: true, None))).StatusCode);
        var refused = await Assert.ThrowsAsync<ApiException>(() => api.CreateEventAsync(new Corev1Event { Metadata = new V1ObjectMeta { Name = "demo.1", NamespaceProperty = "cache" } }, None));
        Assert.Equal(403, refused.StatusCode);
        Assert.Contains("being terminated", refused.Message);

        // Events are best effort: recording one there is not an error.
        await new KubernetesClusterStore(api).RecordEventAsync(cluster, "Normal", "Test", "dropped", None);
        Assert.Empty(api.Events);
        // Other namespaces are unaffected.
        await api.CreateAsync(TestClusters.New(ns: "other"), None);
    }

    [Fact]
    public async Task Quantities_of_built_in_kinds_are_stored_canonically_and_custom_resources_as_written()
    {
        var api = new InMemoryKubeApi();
        var cluster = TestClusters.New();
        cluster.Spec.Resources!.Limits!["memory"] = "1024Mi";
        cluster = await api.CreateAsync(cluster, None);
        Assert.Equal("1024Mi", cluster.Spec.Resources!.Limits!["memory"]);

        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0);
        await api.ApplyAsync(set, "cache-operator", force: true, None);
        var patch = System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"cache-node","resources":{"limits":{"memory":"1024Mi","cpu":"0.5"}}}]}}}}""")!.AsObject();
        var patched = await api.MergePatchAsync<V1StatefulSet>("cache", "demo-shard-0", patch, None);
        var limits = patched.Spec.Template.Spec.Containers[0].Resources.Limits;
        Assert.Equal(("1Gi", "500m"), (limits["memory"].ToString(), limits["cpu"].ToString()));
        var invalid = System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"template":{"spec":{"containers":[{"name":"cache-node","resources":{"limits":{"memory":"lots"}}}]}}}}""")!.AsObject();
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.MergePatchAsync<V1StatefulSet>("cache", "demo-shard-0", invalid, None))).StatusCode);
    }

    [Fact]
    public async Task StatefulSet_updates_may_change_only_replicas_template_and_update_strategy()
    {
        var api = new InMemoryKubeApi();
        var cluster = TestClusters.New();
        cluster.Spec.Persistence = new PersistenceSpec { Enabled = true, Size = "1Gi" };
        cluster = await api.CreateAsync(cluster, None);
        var set = await api.ApplyAsync(Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0), "cache-operator", force: true, None);

        set.Spec.Replicas = 5;
        set.Spec.Template.Metadata.Annotations["x"] = "y";
        set = await api.ReplaceAsync(set, None);
        set.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests["storage"] = new ResourceQuantity("2Gi");
        var rejected = await Assert.ThrowsAsync<ApiException>(() => api.ReplaceAsync(set, None));
        Assert.Equal(422, rejected.StatusCode);
        Assert.Contains("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'", rejected.Message);

        cluster.Spec.Persistence!.Size = "2Gi";
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.ApplyAsync(Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0), "cache-operator", force: true, None))).StatusCode);
        var patch = System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"serviceName":"other"}}""")!.AsObject();
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.MergePatchAsync<V1StatefulSet>("cache", "demo-shard-0", patch, None))).StatusCode);
    }

    [Fact]
    public async Task Names_and_labels_are_validated_and_event_names_must_be_unique()
    {
        var api = new InMemoryKubeApi();
        V1Service Service(string name) => new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "cache" } };
        await api.CreateAsync(Service(new string('s', 63)), None);
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(Service(new string('s', 64)), None))).StatusCode);
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(Service("1cache"), None))).StatusCode);
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.ApplyAsync(Service("a.b"), "cache-operator", force: true, None))).StatusCode);
        await api.CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "a.b", NamespaceProperty = "cache" } }, None);
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "Upper", NamespaceProperty = "cache" } }, None))).StatusCode);
        var labelled = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "l", NamespaceProperty = "cache", Labels = new Dictionary<string, string> { ["app.kubernetes.io/instance"] = new string('x', 64) } } };
        Assert.Equal(422, (await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(labelled, None))).StatusCode);

        // A second create of a name is AlreadyExists, which is not a Conflict (nothing to re-read and retry).
        var exists = await Assert.ThrowsAsync<ApiException>(() => api.CreateAsync(Service(new string('s', 63)), None));
        Assert.True(exists.IsAlreadyExists);
        Assert.False(exists.IsConflict);
        var first = new Corev1Event { Metadata = new V1ObjectMeta { Name = "demo.1", NamespaceProperty = "cache" } };
        await api.CreateEventAsync(first, None);
        Assert.True((await Assert.ThrowsAsync<ApiException>(() => api.CreateEventAsync(first, None))).IsAlreadyExists);

        // The store's event names never collide, however long the cluster's name.
        var cluster = await api.CreateAsync(TestClusters.New(new string('c', 60)), None);
        var store = new KubernetesClusterStore(api);
        for (var i = 0; i < 50; i++)
        {
            await store.RecordEventAsync(cluster, "Normal", "Test", $"event {i}", None);
        }
        Assert.Equal(50, api.Events.Count(e => e.Reason == "Test"));
    }

    [Fact]
    public async Task Server_side_apply_tracks_field_owners()
    {
        var api = new InMemoryKubeApi();
        V1ConfigMap Ours(params (string, string)[] data) => new()
        {
            Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache", Labels = new Dictionary<string, string> { ["owner"] = "operator" } },
            Data = data.ToDictionary(d => d.Item1, d => d.Item2),
        };
        await api.ApplyAsync(Ours(("a", "1"), ("b", "2")), "cache-operator", force: false, None);

        // Another manager adds its own field: no conflict, and our later applies keep it.
        await api.ApplyAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache", Annotations = new Dictionary<string, string> { ["note"] = "mine" } } }, "kubectl", force: false, None);
        // It may not take our field with a different value unless it forces.
        var conflict = await Assert.ThrowsAsync<ApiException>(() => api.ApplyAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache" }, Data = new Dictionary<string, string> { ["a"] = "9" } }, "kubectl", force: false, None));
        Assert.True(conflict.IsConflict);
        Assert.Contains("/data/a", conflict.Message);

        // We stop setting b: it is removed; the other manager's annotation stays.
        var after = await api.ApplyAsync(Ours(("a", "1")), "cache-operator", force: true, None);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1" }, after.Data);
        Assert.Equal("mine", after.Metadata.Annotations["note"]);
        var owners = api.ManagedFields<V1ConfigMap>("cache", "m");
        Assert.Contains("/data/a", owners["cache-operator"]);
        Assert.Contains("/metadata/annotations/note", owners["kubectl"]);

        // Forced, the other manager takes a: ours no longer.
        await api.ApplyAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "m", NamespaceProperty = "cache" }, Data = new Dictionary<string, string> { ["a"] = "9" } }, "kubectl", force: true, None);
        Assert.DoesNotContain("/data/a", api.ManagedFields<V1ConfigMap>("cache", "m")["cache-operator"]);

        // Applying the same content again writes nothing.
        await api.ApplyAsync(Ours(("a", "9")), "cache-operator", force: true, None);
        var writes = api.Writes.Count;
        var version = (await api.GetAsync<V1ConfigMap>("cache", "m", None))!.Metadata.ResourceVersion;
        await api.ApplyAsync(Ours(("a", "9")), "cache-operator", force: true, None);
        Assert.Equal(writes, api.Writes.Count);
        Assert.Equal(version, (await api.GetAsync<V1ConfigMap>("cache", "m", None))!.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Watch_streams_changes_and_gives_410_after_compaction()
    {
        var api = new InMemoryKubeApi();
        var list = await api.ListAsync<CacheCluster>("cache", null, None);
        await api.CreateAsync(TestClusters.New("a"), None);
        await api.CreateAsync(TestClusters.New("b"), None);
        await api.DeleteAsync<CacheCluster>("cache", "a", None);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var seen = new List<string>();
        await foreach (var (type, obj) in api.WatchAsync<CacheCluster>("cache", null, list.ResourceVersion, timeout.Token))
        {
            seen.Add($"{type} {obj.Metadata.Name}");
            if (seen.Count == 3)
            {
                break;
            }
        }
        Assert.Equal(["Added a", "Added b", "Deleted a"], seen);

        api.Compact();
        var gone = await Assert.ThrowsAsync<ApiException>(async () =>
        {
            await foreach (var _ in api.WatchAsync<CacheCluster>("cache", null, list.ResourceVersion, timeout.Token))
            {
            }
        });
        Assert.True(gone.IsGone);
    }

    [Fact]
    public async Task Label_selectors_filter_lists()
    {
        var api = new InMemoryKubeApi();
        // The owner exists: the garbage collector deletes objects whose owners are all gone.
        var cluster = await api.CreateAsync(TestClusters.New(), None);
        foreach (var obj in Manifests.All(cluster, TestClusters.Plan(cluster), false).OfType<V1StatefulSet>())
        {
            await api.ApplyAsync(obj, "cache-operator", true, None);
        }
        Assert.Equal(3, (await api.ListAsync<V1StatefulSet>("cache", "app.kubernetes.io/instance=demo", None)).Items.Count);
        Assert.Single((await api.ListAsync<V1StatefulSet>("cache", "app.kubernetes.io/instance=demo,cacheoperator.io/shard=2", None)).Items);
        Assert.Empty((await api.ListAsync<V1StatefulSet>("other", null, None)).Items);
    }

    [Fact]
    public async Task Watch_with_a_label_selector_sees_only_matching_objects_and_bookmarks_for_the_rest()
    {
        var api = new InMemoryKubeApi();
        var start = (await api.ListAsync<V1ConfigMap>("cache", "owner=us", None)).ResourceVersion;
        await api.CreateAsync(Map("ours", ("owner", "us")), None);
        await api.CreateAsync(Map("theirs", ("owner", "them")), None);
        // Relabelled out of the selection: gone for this watch; another kind changing: only a bookmark.
        var ours = (await api.GetAsync<V1ConfigMap>("cache", "ours", None))!;
        ours.Metadata.Labels["owner"] = "them";
        await api.ReplaceAsync(ours, None);
        await api.CreateAsync(TestClusters.New("other-kind"), None);
        var latest = (await api.ListAsync<CacheCluster>("cache", null, None)).ResourceVersion;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<string>();
        await foreach (var (type, obj) in api.WatchAsync<V1ConfigMap>("cache", "owner=us", start, timeout.Token))
        {
            seen.Add($"{type} {obj.Metadata.Name ?? obj.Metadata.ResourceVersion}");
            if (type == WatchEventType.Bookmark)
            {
                break;
            }
        }
        Assert.Equal(["Added ours", "Deleted ours", $"Bookmark {latest}"], seen);
        Assert.Contains(("watch", "ConfigMap", "cache", "owner=us"), api.Reads);
    }

    [Fact]
    public async Task Injected_429_carries_retry_after()
    {
        var api = new InMemoryKubeApi();
        api.FailNext((verb, _, _) => verb == "list", 429, TimeSpan.FromSeconds(3));
        var throttled = await Assert.ThrowsAsync<ApiException>(() => api.ListAsync<V1ConfigMap>("cache", null, None));
        Assert.True(throttled.IsTooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(3), throttled.RetryAfter);
        Assert.Empty((await api.ListAsync<V1ConfigMap>("cache", null, None)).Items);
    }

    private static V1ConfigMap Map(string name, params (string Key, string Value)[] labels) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "cache", Labels = labels.ToDictionary(l => l.Key, l => l.Value) },
    };
}
