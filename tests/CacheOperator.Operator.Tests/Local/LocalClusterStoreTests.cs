using CacheOperator.Operator.Api;
using CacheOperator.Operator.Local;
using CacheOperator.Operator.Reconcile;
using k8s.Models;

namespace CacheOperator.Operator.Tests.Local;

public class LocalClusterStoreTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static CacheCluster NewCluster() => new()
    {
        Metadata = new V1ObjectMeta { Name = "cache" },
        Spec = new CacheClusterSpec { Shards = 3, ReplicasPerShard = 1 },
    };

    [Fact]
    public async Task Create_sets_what_the_api_server_sets()
    {
        var store = new LocalClusterStore();
        var created = store.Create(NewCluster());
        Assert.Equal("default", created.Metadata.NamespaceProperty);
        Assert.Equal(1, created.Metadata.Generation);
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        Assert.Equal(409, Assert.Throws<ApiException>(() => store.Create(NewCluster())).StatusCode);
    }

    [Fact]
    public async Task A_write_with_a_stale_resource_version_conflicts()
    {
        var store = new LocalClusterStore();
        var key = LocalClusterStore.KeyOf(store.Create(NewCluster()));
        var first = (await store.GetClusterAsync(key, None))!;
        var second = (await store.GetClusterAsync(key, None))!;
        first.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        await store.UpdateClusterAsync(first, None);
        second.Status = new CacheClusterStatus { Phase = ClusterPhase.Creating };
        Assert.True((await Assert.ThrowsAsync<ApiException>(() => store.UpdateStatusAsync(second, None))).IsConflict);
        Assert.True((await Assert.ThrowsAsync<ApiException>(() => store.UpdateClusterAsync(second, None))).IsConflict);
    }

    [Fact]
    public async Task Only_a_spec_change_bumps_the_generation_and_status_goes_through_its_own_write()
    {
        var store = new LocalClusterStore();
        var key = LocalClusterStore.KeyOf(store.Create(NewCluster()));
        var cluster = (await store.GetClusterAsync(key, None))!;
        cluster.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        cluster.Status = new CacheClusterStatus { Phase = "Ignored" };
        cluster = await store.UpdateClusterAsync(cluster, None);
        Assert.Equal(1, cluster.Metadata.Generation);
        Assert.Null(cluster.Status);

        cluster.Status = new CacheClusterStatus { Phase = ClusterPhase.Creating };
        cluster = await store.UpdateStatusAsync(cluster, None);
        Assert.Equal(1, cluster.Metadata.Generation);
        Assert.Equal(ClusterPhase.Creating, (await store.GetClusterAsync(key, None))!.Status!.Phase);

        cluster.Spec.Shards = 4;
        cluster = await store.UpdateClusterAsync(cluster, None);
        Assert.Equal(2, cluster.Metadata.Generation);
        Assert.Equal(ClusterPhase.Creating, cluster.Status!.Phase);

        var applied = store.ReplaceSpec(key, new CacheClusterSpec { Shards = 5, ReplicasPerShard = 1 });
        Assert.Equal(3, applied.Metadata.Generation);
        Assert.Equal(3, store.ReplaceSpec(key, new CacheClusterSpec { Shards = 5, ReplicasPerShard = 1 }).Metadata.Generation);
    }

    [Fact]
    public async Task Reads_are_copies()
    {
        var store = new LocalClusterStore();
        var key = LocalClusterStore.KeyOf(store.Create(NewCluster()));
        var cluster = (await store.GetClusterAsync(key, None))!;
        cluster.Spec.Shards = 99;
        Assert.Equal(3, (await store.GetClusterAsync(key, None))!.Spec.Shards);
    }

    [Fact]
    public async Task Deletion_waits_for_the_finalizer()
    {
        var store = new LocalClusterStore();
        var key = LocalClusterStore.KeyOf(store.Create(NewCluster()));
        var cluster = (await store.GetClusterAsync(key, None))!;
        cluster.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        await store.UpdateClusterAsync(cluster, None);
        store.Delete(key);
        cluster = (await store.GetClusterAsync(key, None))!;
        Assert.NotNull(cluster.Metadata.DeletionTimestamp);
        cluster.Metadata.Finalizers = [];
        await store.UpdateClusterAsync(cluster, None);
        Assert.Null(await store.GetClusterAsync(key, None));
    }

    [Fact]
    public async Task Events_are_kept_and_handed_to_the_sink()
    {
        var seen = new List<LocalEvent>();
        var store = new LocalClusterStore(eventSink: (_, e) => seen.Add(e));
        var cluster = store.Create(NewCluster());
        await store.RecordEventAsync(cluster, "Normal", "NodeMet", "CLUSTER MEET on cache-shard-0-0", None);
        await store.RecordEventAsync(cluster, "Warning", "TopologyActionFailed", "boom", None);
        Assert.Equal(["NodeMet", "TopologyActionFailed"], store.Events(LocalClusterStore.KeyOf(cluster)).Select(e => e.Reason));
        Assert.Equal(2, seen.Count);
    }
}
