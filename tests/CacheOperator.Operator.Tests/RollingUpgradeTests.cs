using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Reconcile;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

/// <summary>Rolling upgrades on the in-memory API: OnDelete StatefulSets whose pods the operator deletes in its own order.</summary>
public class RollingUpgradeTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(World World, CacheCluster Cluster)> ReadyClusterAsync(int shards = 3, int replicas = 1)
    {
        var world = new World();
        var cluster = await world.CreateAsync(TestClusters.New(shards: shards, replicas: replicas));
        await world.ReconcileAsync(cluster);
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, (await world.GetAsync(cluster)).Status!.Phase);
        return (world, await world.GetAsync(cluster));
    }

    private static async Task<CacheCluster> EditSpecAsync(World world, CacheCluster cluster, Action<CacheClusterSpec> edit)
    {
        var fresh = await world.GetAsync(cluster);
        edit(fresh.Spec);
        return await world.Api.ReplaceAsync(fresh, None);
    }

    private static async Task<IReadOnlyList<string>> PodDeletionsDuringAsync(World world, Func<Task> action)
    {
        var before = world.Api.Writes.Count;
        await action();
        return world.Api.Writes.Skip(before).Where(w => w is { Verb: "delete", Kind: "Pod" }).Select(w => w.Name).ToList();
    }

    private static async Task<Dictionary<string, string>> RevisionsAsync(World world) =>
        (await world.StatefulSetsAsync()).ToDictionary(s => s.Metadata.Name, s => s.Status.UpdateRevision);

    [Fact]
    public async Task StatefulSets_are_OnDelete_and_a_template_change_is_a_new_revision_that_replaces_no_pod_by_itself()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        Assert.All(await world.StatefulSetsAsync(), s => Assert.Equal("OnDelete", s.Spec.UpdateStrategy.Type));
        var pod = (await world.Api.GetAsync<V1Pod>("cache", "demo-shard-0-0", None))!;
        var revisions = await RevisionsAsync(world);
        Assert.Equal(revisions["demo-shard-0"], pod.Metadata.Labels[Manifests.RevisionLabel]);

        await world.MakeAllReadyAsync();
        Assert.Equal(revisions, await RevisionsAsync(world)); // a status write keeps the revision
        await EditSpecAsync(world, cluster, s => s.Image = "cache-node:2");
        var deleted = await PodDeletionsDuringAsync(world, () => world.ReconcileAsync(cluster));
        Assert.Empty(deleted); // the StatefulSets are not yet observed at their new generation
        var updated = await RevisionsAsync(world);
        Assert.All(updated, p => Assert.NotEqual(revisions[p.Key], p.Value));
        Assert.Equal(revisions["demo-shard-0"], (await world.Api.GetAsync<V1Pod>("cache", "demo-shard-0-0", None))!.Metadata.Labels[Manifests.RevisionLabel]);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Upgrading, cluster.Status!.Phase);
        Assert.Equal(("True", "RollingUpgrade"), Condition(cluster, Conditions.Progressing));
        Assert.Equal(0, cluster.Status.Upgrade!.NodesUpdated);
        Assert.Equal(6, cluster.Status.Upgrade.NodesTotal);
        Assert.Single(world.EventsWithReason("RollingUpgradeStarted"));
    }

    [Fact]
    public async Task A_restart_requiring_change_rolls_replicas_first_one_at_a_time_then_each_master_after_a_hand_over()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Config = new() { ["databases"] = "32" });

        var steps = new List<string>();
        var checkedLag = false;
        for (var round = 0; round < 60; round++)
        {
            await world.MakeAllReadyAsync();
            var handOvers = world.Topology.HandOvers.Count;
            var deleted = await PodDeletionsDuringAsync(world, () => world.ReconcileAsync(cluster));
            Assert.True(deleted.Count + world.Topology.HandOvers.Count - handOvers <= 1, $"more than one step in one reconcile: {string.Join(", ", deleted)}");
            steps.AddRange(world.Topology.HandOvers.Skip(handOvers).Select(r => "hand over to " + r));
            steps.AddRange(deleted.Select(d => "restart " + d));
            if (deleted.Count == 1)
            {
                // One at a time: until the deleted pod is back, nothing else is touched.
                Assert.Empty(await PodDeletionsDuringAsync(world, () => world.ReconcileAsync(cluster)));
                Assert.Contains(deleted[0], (await world.GetAsync(cluster)).Status!.Upgrade!.Message);
            }
            if (deleted is ["demo-shard-0-1"] && !checkedLag)
            {
                // Back but not in sync: still nothing.
                checkedLag = true;
                await world.MakeAllReadyAsync();
                world.Topology.Lagging.Add("demo-shard-0-1");
                Assert.Empty(await PodDeletionsDuringAsync(world, () => world.ReconcileAsync(cluster)));
                Assert.Contains("demo-shard-0-1 is 50000000 bytes behind", (await world.GetAsync(cluster)).Status!.Upgrade!.Message);
                world.Topology.Lagging.Clear();
            }
            if ((await world.GetAsync(cluster)).Status!.Phase == ClusterPhase.Ready)
            {
                break;
            }
        }

        Assert.Equal(
        [
            "restart demo-shard-0-1", "restart demo-shard-1-1", "restart demo-shard-2-1",
            "hand over to demo-shard-0-1", "restart demo-shard-0-0",
            "hand over to demo-shard-1-1", "restart demo-shard-1-0",
            "hand over to demo-shard-2-1", "restart demo-shard-2-0",
        ], steps);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);
        var upgrade = cluster.Status.Upgrade!;
        Assert.Equal((6, 6, 3, 13L), (upgrade.NodesUpdated, upgrade.NodesTotal, upgrade.HandOvers, upgrade.WorstWriteUnavailableMs));
        Assert.Equal(6, world.EventsWithReason("NodeRestarted").Count);
        Assert.Equal(3, world.EventsWithReason("MasterHandedOver").Count);
        Assert.Contains("13 ms", Assert.Single(world.EventsWithReason("RollingUpgradeComplete")).Message);
        var revisions = await RevisionsAsync(world);
        foreach (var pod in (await world.Api.ListAsync<V1Pod>("cache", null, None)).Items)
        {
            Assert.Equal(revisions[pod.Metadata.Name[..^2]], pod.Metadata.Labels[Manifests.RevisionLabel]);
        }
        // The new masters stay masters: nothing fails back.
        Assert.Equal("demo-shard-1-1", cluster.Status.Shards![1].Master);
    }

    [Fact]
    public async Task A_change_nodes_take_live_is_CONFIG_SET_everywhere_and_restarts_nothing()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        var revisions = await RevisionsAsync(world);
        var template = (await world.StatefulSetsAsync()).Select(s => s.Spec.Template.Metadata.Annotations[Manifests.ConfigHashAnnotation]).ToList();
        cluster = await EditSpecAsync(world, cluster, s =>
        {
            s.MaxMemory = "256Mi";
            s.Config = new() { ["cluster-node-timeout"] = "7000" };
        });

        var deleted = await PodDeletionsDuringAsync(world, async () =>
        {
            await world.ReconcileAsync(cluster);
            await world.MakeAllReadyAsync();
            await world.ReconcileAsync(cluster);
        });

        Assert.Empty(deleted);
        Assert.Equal(revisions, await RevisionsAsync(world));
        Assert.Equal(template, (await world.StatefulSetsAsync()).Select(s => s.Spec.Template.Metadata.Annotations[Manifests.ConfigHashAnnotation]).ToList());
        var config = (await world.Api.GetAsync<V1ConfigMap>("cache", "demo-config", None))!.Data[Manifests.ConfigKey];
        Assert.Contains("maxmemory 268435456\n", config); // what a node restarted later starts with
        var sets = world.Topology.ConfigSets;
        Assert.Equal(12, sets.Count);
        Assert.Equal(6, sets.Count(s => s is { Name: "maxmemory", Value: "268435456" }));
        Assert.Equal(6, sets.Count(s => s is { Name: "cluster-node-timeout", Value: "7000" }));
        Assert.Equal(12, world.EventsWithReason("ConfigApplied").Count);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);
        Assert.Null(cluster.Status.Upgrade);

        // Applied once: later reconciles send nothing more.
        await world.ReconcileAsync(cluster);
        Assert.Equal(12, world.Topology.ConfigSets.Count);
    }

    [Fact]
    public async Task A_master_without_replicas_restarts_with_a_warning_that_its_writes_are_unavailable()
    {
        var (world, cluster) = await ReadyClusterAsync(shards: 1, replicas: 0);
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Image = "cache-node:2");
        var deleted = new List<string>();
        for (var round = 0; round < 10 && deleted.Count == 0; round++)
        {
            await world.MakeAllReadyAsync();
            deleted.AddRange(await PodDeletionsDuringAsync(world, () => world.ReconcileAsync(cluster)));
        }
        Assert.Equal(["demo-shard-0-0"], deleted);
        Assert.Empty(world.Topology.HandOvers);
        Assert.Contains("writes to shard 0 fail", Assert.Single(world.EventsWithReason("WritesUnavailable")).Message);
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, (await world.GetAsync(cluster)).Status!.Phase);
    }

    private static (string? Status, string? Reason) Condition(CacheCluster cluster, string type) =>
        Conditions.Find(cluster.Status, type) is { } c ? (c.Status, c.Reason) : (null, null);
}
