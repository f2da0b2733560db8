using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Reconcile;
using CacheOperator.Operator.Topology;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheOperator.Operator.Tests;

public class ReconcilerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task<(World World, CacheCluster Cluster)> ReadyClusterAsync(int shards = 3)
    {
        var world = new World();
        var cluster = await world.CreateAsync(TestClusters.New(shards: shards));
        await world.ReconcileAsync(cluster);
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        return (world, await world.GetAsync(cluster));
    }

    private static async Task<CacheCluster> EditSpecAsync(World world, CacheCluster cluster, Action<CacheClusterSpec> edit)
    {
        var fresh = await world.GetAsync(cluster);
        edit(fresh.Spec);
        return await world.Api.ReplaceAsync(fresh, None);
    }

    [Fact]
    public async Task Create_makes_every_object_then_goes_from_Creating_to_Ready()
    {
        using var world = new World();
        var cluster = await world.CreateAsync(TestClusters.New());

        var result = await world.ReconcileAsync(cluster);
        Assert.Equal(ReconcileOutcome.Requeue, result.Outcome);
        cluster = await world.GetAsync(cluster);
        // Everything made is owned by the cluster: garbage collection cleans up, no finalizer is needed.
        Assert.Empty(cluster.Metadata.Finalizers ?? []);
        Assert.Equal(["demo-shard-0", "demo-shard-1", "demo-shard-2"], (await world.StatefulSetsAsync()).Select(s => s.Metadata.Name));
        Assert.All(await world.StatefulSetsAsync(), s => Assert.Equal(2, s.Spec.Replicas));
        Assert.NotNull(await world.Api.GetAsync<V1Service>("cache", "demo", None));
        Assert.NotNull(await world.Api.GetAsync<V1Service>("cache", "demo-headless", None));
        Assert.NotNull(await world.Api.GetAsync<V1ConfigMap>("cache", "demo-config", None));
        Assert.NotNull(await world.Api.GetAsync<V1PodDisruptionBudget>("cache", "demo-shard-2", None));
        Assert.Equal(3, world.EventsWithReason("ShardCreated").Count);

        var status = cluster.Status!;
        Assert.Equal(ClusterPhase.Creating, status.Phase);
        Assert.Equal(0, status.ReadyShards);
        Assert.Equal(cluster.Metadata.Generation, status.ObservedGeneration);
        Assert.Equal("demo.cache.svc:6379", status.Endpoints);
        Assert.Equal(("False", "ShardsNotReady"), Condition(cluster, Conditions.Ready));
        Assert.Equal(("True", "Creating"), Condition(cluster, Conditions.Progressing));

        await world.MakeAllReadyAsync();
        // A ready cluster is still looked at every HealthPoll, so a failed node is healed without a watch event.
        Assert.Equal(ReconcileResult.After(CacheClusterReconciler.HealthPoll), await world.ReconcileAsync(cluster));
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);
        Assert.Equal(3, cluster.Status.ReadyShards);
        // The topology is given every pod with its pod IP and shard, from the pods themselves.
        var members = world.Topology.Requests[^1].Members;
        Assert.Equal(6, members.Count);
        Assert.Contains(new MemberEndpoint("demo-shard-2-1", 2, "10.0.2.2", 6379), members);
        Assert.Equal(("True", "AllShardsReady"), Condition(cluster, Conditions.Ready));
        Assert.Equal(("False", "AsExpected"), Condition(cluster, Conditions.Degraded));
        var shard = cluster.Status.Shards![1];
        Assert.Equal(("demo-shard-1", "demo-shard-1-0", true), (shard.Name, shard.Master, shard.Ready));
        Assert.Equal(["demo-shard-1-1"], shard.Replicas);
        Assert.Equal(["5461-10921"], shard.Slots);
    }

    [Fact]
    public async Task A_shard_losing_a_pod_makes_a_ready_cluster_Degraded_and_back()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        var set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-1", None))!;
        set.Status.ReadyReplicas = 1;
        await world.Api.ReplaceStatusAsync(set, None);

        Assert.Equal(ReconcileOutcome.Requeue, (await world.ReconcileAsync(cluster)).Outcome);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Degraded, cluster.Status!.Phase);
        Assert.Equal(("True", "ShardsNotReady"), Condition(cluster, Conditions.Degraded));
        Assert.False(cluster.Status.Shards![1].Ready);
        Assert.Equal(2, cluster.Status.ReadyShards);

        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, (await world.GetAsync(cluster)).Status!.Phase);
    }

    [Fact]
    public async Task A_second_reconcile_without_changes_writes_nothing()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        var writes = world.Api.Writes.Count;
        await world.ReconcileAsync(cluster);
        await world.ReconcileAsync(cluster);
        Assert.Equal(writes, world.Api.Writes.Count);
    }

    [Fact]
    public async Task Scale_out_adds_shards_through_Scaling_back_to_Ready()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Shards = 5);

        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(5, (await world.StatefulSetsAsync()).Count);
        Assert.Equal(ClusterPhase.Scaling, cluster.Status!.Phase);
        Assert.Equal(("True", "Scaling"), Condition(cluster, Conditions.Progressing));
        Assert.Single(world.EventsWithReason("ScaledOut"));
        Assert.Empty(cluster.Status.Shards![4].Slots!);
        Assert.Equal(["0-5460"], cluster.Status.Shards[0].Slots);

        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Scaling, (await world.GetAsync(cluster)).Status!.Phase);
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);
        Assert.Equal(5, cluster.Status.ReadyShards);
    }

    [Fact]
    public async Task A_topology_problem_degrades_a_ready_cluster_with_its_reason_and_each_action_becomes_an_event()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        world.Topology.Trouble = (
            ["slots 5461-10922 have no master"],
            [
                new TopologyActionResult("failover", "demo-shard-1-1", "CLUSTER FAILOVER FORCE", true, null),
                new TopologyActionResult("forget", "demo-shard-0-0", "CLUSTER FORGET 0123", false, "ERR Unknown node 0123"),
            ]);

        Assert.Equal(ReconcileResult.After(CacheClusterReconciler.NotReadyPoll), await world.ReconcileAsync(cluster));
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Degraded, cluster.Status!.Phase);
        Assert.Equal("fail", cluster.Status.ClusterState);
        Assert.Equal(("True", "TopologyIncomplete"), Condition(cluster, Conditions.Degraded));
        Assert.Equal("slots 5461-10922 have no master", Conditions.Find(cluster.Status, Conditions.Degraded)!.Message);
        Assert.Equal("CLUSTER FAILOVER FORCE on demo-shard-1-1", Assert.Single(world.EventsWithReason("FailoverStarted")).Message);
        var failed = Assert.Single(world.EventsWithReason("TopologyActionFailed"));
        Assert.Equal(("Warning", "CLUSTER FORGET 0123 on demo-shard-0-0 failed: ERR Unknown node 0123"), (failed.Type, failed.Message));

        world.Topology.Trouble = null;
        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, cluster.Status!.Phase);
        Assert.Equal(("False", "AsExpected"), Condition(cluster, Conditions.Degraded));
    }

    [Fact]
    public async Task Scale_in_drains_the_highest_shard_with_progress_in_status_and_events_before_deleting_it()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Shards = 2);
        world.Topology.Reshard.Enqueue(new ReshardRound(5462, 2000, 10_000, TimeSpan.FromSeconds(2), null));
        world.Topology.Reshard.Enqueue(new ReshardRound(3462, 3462, 17_310, TimeSpan.FromSeconds(3), null));

        // Round 1: slots move; the shard still runs; the next batch is asked for at once.
        Assert.Equal(ReconcileResult.After(TimeSpan.Zero), await world.ReconcileAsync(cluster));
        cluster = await world.GetAsync(cluster);
        Assert.Equal(3, (await world.StatefulSetsAsync()).Count);
        Assert.Equal(2, world.Topology.Requests[^1].Shards);
        Assert.Contains(world.Topology.Requests[^1].Members, m => m.Shard == 2);
        var progress = cluster.Status!.Resharding!;
        Assert.Equal(("2000/5462 slots", 10_000L, 5000L, 4L), (progress.Progress, progress.KeysMoved, progress.KeysPerSecond, progress.EstimatedSecondsLeft));
        Assert.Equal(ClusterPhase.Scaling, cluster.Status.Phase);
        Assert.Equal(("True", "Resharding"), Condition(cluster, Conditions.Progressing));
        Assert.Equal("Resharding started: 5462 slots to move", Assert.Single(world.EventsWithReason("ReshardStarted")).Message);
        Assert.StartsWith("Moved 2000 slots (10000 keys)", Assert.Single(world.EventsWithReason("SlotsMoved")).Message, StringComparison.Ordinal);

        // Round 2: the rest moves; the nodes report shard 2 owns nothing, so it is deleted.
        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(2, (await world.StatefulSetsAsync()).Count);
        Assert.Equal("5462/5462 slots", cluster.Status!.Resharding!.Progress);
        Assert.Equal(2, world.EventsWithReason("SlotsMoved").Count);
        Assert.Single(world.EventsWithReason("ShardRemoved"));
        Assert.Single(world.EventsWithReason("ScaledIn"));

        // Round 3: nothing left to move: done, Ready, progress gone.
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Null(cluster.Status!.Resharding);
        Assert.Equal(ClusterPhase.Ready, cluster.Status.Phase);
        Assert.StartsWith("Resharding done: moved 5462 slots and 27310 keys", Assert.Single(world.EventsWithReason("ReshardDone")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replicas_down_keeps_the_leaving_pods_until_none_is_a_master_then_removes_them()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.ReplicasPerShard = 0);
        world.Topology.LeavingUnsafeRounds = 1;

        await world.ReconcileAsync(cluster);
        Assert.All(await world.StatefulSetsAsync(), set => Assert.Equal(2, set.Spec.Replicas));
        Assert.Equal(["demo-shard-0-1", "demo-shard-1-1", "demo-shard-2-1"], world.Topology.Requests[^1].Leaving.Order(StringComparer.Ordinal));
        Assert.Empty(world.EventsWithReason("ReplicasRemoved"));

        await world.ReconcileAsync(cluster);
        Assert.All(await world.StatefulSetsAsync(), set => Assert.Equal(1, set.Spec.Replicas));
        Assert.Single(world.EventsWithReason("ReplicasRemoved"));
    }

    [Fact]
    public async Task A_failed_slot_move_is_a_warning_event_and_a_degraded_condition_with_the_slot_and_error_once()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Shards = 4);
        await world.MakeAllReadyAsync();
        var failure = new SlotMigrationFailure(4100, "demo-shard-0-0", "demo-shard-3-0", "MIGRATE on demo-shard-0-0: ERR Target instance replied with error: OOM command not allowed", RolledBack: false);
        world.Topology.Reshard.Enqueue(new ReshardRound(4096, 10, 50, TimeSpan.FromSeconds(1), failure));
        world.Topology.Reshard.Enqueue(new ReshardRound(4086, 0, 0, TimeSpan.Zero, failure, Paused: true));

        Assert.Equal(ReconcileResult.After(CacheClusterReconciler.NotReadyPoll), await world.ReconcileAsync(cluster));
        cluster = await world.GetAsync(cluster);
        var failed = Assert.Single(world.EventsWithReason("ReshardFailed"));
        Assert.Equal("Warning", failed.Type);
        Assert.Contains("moving slot 4100 from demo-shard-0-0 to demo-shard-3-0 failed", failed.Message, StringComparison.Ordinal);
        Assert.Contains("OOM command not allowed", failed.Message, StringComparison.Ordinal);
        Assert.Equal(("True", "ReshardFailed"), Condition(cluster, Conditions.Degraded));
        Assert.Contains("slot 4100", Conditions.Find(cluster.Status, Conditions.Degraded)!.Message, StringComparison.Ordinal);
        Assert.Equal("10/4096 slots", cluster.Status!.Resharding!.Progress);
        Assert.Contains("slot 4100", cluster.Status.Resharding.LastError, StringComparison.Ordinal);

        // Paused: no retry, no second event.
        await world.ReconcileAsync(cluster);
        Assert.Single(world.EventsWithReason("ReshardFailed"));
        Assert.Equal(("True", "ReshardFailed"), Condition(await world.GetAsync(cluster), Conditions.Degraded));
    }

    [Fact]
    public async Task Shards_that_never_got_slots_can_be_removed()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        cluster = await EditSpecAsync(world, cluster, s => s.Shards = 5);
        await world.ReconcileAsync(cluster);
        cluster = await EditSpecAsync(world, cluster, s => s.Shards = 3);
        await world.ReconcileAsync(cluster);

        Assert.Equal(["demo-shard-0", "demo-shard-1", "demo-shard-2"], (await world.StatefulSetsAsync()).Select(s => s.Metadata.Name));
        Assert.Null(await world.Api.GetAsync<V1PodDisruptionBudget>("cache", "demo-shard-4", None));
        Assert.Equal(2, world.EventsWithReason("ShardRemoved").Count);
    }

    [Theory]
    [InlineData("lots", null, "InvalidMaxMemory")]
    [InlineData("4Gi", null, "InvalidMaxMemory")]
    [InlineData("512Mi", "no-such-directive", "UnknownDirective")]
    public async Task A_spec_that_cannot_be_applied_gets_a_condition_and_event_and_leaves_objects_alone(string maxMemory, string? directive, string reason)
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        var before = await world.StatefulSetsAsync();
        cluster = await EditSpecAsync(world, cluster, s =>
        {
            s.MaxMemory = maxMemory;
            s.Shards = 4;
            if (directive is not null)
            {
                s.Config = new() { [directive] = "1" };
            }
        });
        var writes = world.Api.Writes.Count;

        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal([("status", "CacheCluster", "demo")], world.Api.Writes.Skip(writes));
        Assert.Equal(before.Select(s => s.Metadata.ResourceVersion), (await world.StatefulSetsAsync()).Select(s => s.Metadata.ResourceVersion));
        Assert.Equal(("True", reason), Condition(cluster, Conditions.Degraded));
        Assert.Equal(ClusterPhase.Degraded, cluster.Status!.Phase);
        Assert.Equal("Warning", Assert.Single(world.EventsWithReason(reason)).Type);
        Assert.Equal(3, cluster.Status.ReadyShards);
    }

    [Fact]
    public async Task An_invalid_spec_on_a_new_cluster_fails_without_creating_anything()
    {
        using var world = new World();
        var cluster = TestClusters.New();
        cluster.Spec.Config = new() { ["appendonly"] = "yes" };
        cluster = await world.CreateAsync(cluster);
        await world.ReconcileAsync(cluster);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Failed, cluster.Status!.Phase);
        Assert.Equal(("True", "InvalidDirective"), Condition(cluster, Conditions.Degraded));
        Assert.Empty(await world.StatefulSetsAsync());
    }

    [Fact]
    public async Task Delete_leaves_the_clean_up_to_garbage_collection()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        await world.Api.DeleteAsync<CacheCluster>("cache", "demo", None);
        Assert.Null(await world.Api.GetAsync<CacheCluster>("cache", "demo", None));
        Assert.Empty(await world.StatefulSetsAsync());
        Assert.Null(await world.Api.GetAsync<V1Service>("cache", "demo", None));
        Assert.Null(await world.Api.GetAsync<V1ConfigMap>("cache", "demo-config", None));
        Assert.Equal(ReconcileOutcome.Success, (await world.ReconcileAsync(cluster)).Outcome);
    }

    [Fact]
    public async Task A_finalizer_left_by_an_older_operator_is_removed_with_a_patch_and_deletion_completes_in_a_terminating_namespace()
    {
        using var world = new World();
        var created = TestClusters.New();
        // An older operator version put its clean-up finalizer on; another controller has its own.
        created.Metadata.Finalizers = ["example.com/backup", CacheClusterResource.Finalizer];
        var cluster = await world.CreateAsync(created);
        await world.ReconcileAsync(cluster);
        Assert.Equal(["example.com/backup"], (await world.GetAsync(cluster)).Metadata.Finalizers);
        // Metadata is patched (conditional on the resourceVersion), never replaced whole: fields unknown to this version survive.
        Assert.Contains(("patch", "CacheCluster", "demo"), world.Api.Writes);
        Assert.DoesNotContain(world.Api.Writes, w => w.Verb == "update" && w.Kind == "CacheCluster");

        // Its namespace is deleted before this operator ran again: our finalizer is still there, and every Event is now refused
        // with 403. The deletion must still complete (only the other controller's finalizer is left), with nothing crashing.
        var stale = await world.GetAsync(cluster);
        stale.Metadata.Finalizers = [CacheClusterResource.Finalizer, "example.com/backup"];
        await world.Api.ReplaceAsync(stale, None);
        world.Api.DeleteNamespace("cache");
        await Assert.ThrowsAsync<ApiException>(() => world.Api.CreateEventAsync(new Corev1Event { Metadata = new V1ObjectMeta { Name = "x.1", NamespaceProperty = "cache" } }, None));
        Assert.NotNull((await world.GetAsync(cluster)).Metadata.DeletionTimestamp);

        Assert.Equal(ReconcileOutcome.Success, (await world.ReconcileAsync(cluster)).Outcome);
        Assert.Equal(["example.com/backup"], (await world.GetAsync(cluster)).Metadata.Finalizers);
        var last = await world.GetAsync(cluster);
        last.Metadata.Finalizers = [];
        await world.Api.ReplaceAsync(last, None);
        Assert.Null(await world.Api.GetAsync<CacheCluster>("cache", "demo", None));
    }

    [Fact]
    public async Task A_field_the_spec_no_longer_asks_for_is_removed_from_the_live_object()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        await EditSpecAsync(world, cluster, s => s.PodTemplate = new PodTemplateSpec { NodeSelector = new() { ["disk"] = "ssd" }, Annotations = new() { ["team"] = "cache" } });
        await world.ReconcileAsync(cluster);
        var set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-0", None))!;
        Assert.Equal("ssd", set.Spec.Template.Spec.NodeSelector["disk"]);
        Assert.Equal("cache", set.Spec.Template.Metadata.Annotations["team"]);

        // Every field still desired is live, so "does the live object hold the desired fields" says yes; the last applied
        // configuration differs, so the operator applies again and server-side apply removes what it no longer sets.
        await EditSpecAsync(world, cluster, s => s.PodTemplate = null);
        await world.ReconcileAsync(cluster);
        set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-0", None))!;
        Assert.Null(set.Spec.Template.Spec.NodeSelector);
        Assert.False(set.Spec.Template.Metadata.Annotations.ContainsKey("team"));
        var writes = world.Api.Writes.Count;
        await world.ReconcileAsync(cluster);
        Assert.Equal(writes, world.Api.Writes.Count);
    }

    [Fact]
    public async Task An_object_of_a_needed_name_that_is_not_the_clusters_is_left_alone_and_reported()
    {
        using var world = new World();
        // Someone's ConfigMap happens to have the name the cluster's would get.
        await world.Api.CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "demo-config", NamespaceProperty = "cache" }, Data = new Dictionary<string, string> { ["theirs"] = "1" } }, None);
        var cluster = await world.CreateAsync(TestClusters.New());

        await world.ReconcileAsync(cluster);
        var map = (await world.Api.GetAsync<V1ConfigMap>("cache", "demo-config", None))!;
        Assert.Equal(new Dictionary<string, string> { ["theirs"] = "1" }, map.Data);
        Assert.Null(map.Metadata.OwnerReferences);
        Assert.Empty(await world.StatefulSetsAsync());
        cluster = await world.GetAsync(cluster);
        Assert.Equal(("True", "ObjectNotOwned"), Condition(cluster, Conditions.Degraded));
        Assert.Contains("ConfigMap demo-config", Conditions.Find(cluster.Status, Conditions.Degraded)!.Message);
        Assert.Contains("ConfigMap demo-config", Assert.Single(world.EventsWithReason("ObjectNotOwned")).Message);

        // Once it is gone, the cluster is made.
        await world.Api.DeleteAsync<V1ConfigMap>("cache", "demo-config", None);
        await world.ReconcileAsync(cluster);
        Assert.Equal(3, (await world.StatefulSetsAsync()).Count);
    }

    [Fact]
    public void Quantities_compare_by_value_as_the_API_server_stores_them_canonically()
    {
        Assert.True(KubernetesNodeRuntime.Holds(System.Text.Json.Nodes.JsonNode.Parse("""{"memory":"1Gi","cpu":"500m"}"""), System.Text.Json.Nodes.JsonNode.Parse("""{"memory":"1024Mi","cpu":"0.5"}""")));
        Assert.False(KubernetesNodeRuntime.Holds(System.Text.Json.Nodes.JsonNode.Parse("""{"memory":"1Gi"}"""), System.Text.Json.Nodes.JsonNode.Parse("""{"memory":"1000Mi"}""")));
        Assert.False(KubernetesNodeRuntime.Holds(System.Text.Json.Nodes.JsonNode.Parse("""{"type":"ClusterIP"}"""), System.Text.Json.Nodes.JsonNode.Parse("""{"type":"NodePort"}""")));
    }

    [Fact]
    public async Task A_change_the_API_server_rejects_as_invalid_is_reported_not_retried_behind_a_Ready_phase()
    {
        using var world = new World();
        var created = TestClusters.New();
        created.Spec.Persistence = new PersistenceSpec { Enabled = true, Size = "1Gi" };
        var cluster = await world.CreateAsync(created);
        await world.ReconcileAsync(cluster);
        await world.MakeAllReadyAsync();
        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Ready, (await world.GetAsync(cluster)).Status!.Phase);

        // The CRD's transition rule refuses this on a real API server; one installed before the rule existed lets it through,
        // and then the StatefulSet update is refused with 422 (volumeClaimTemplates are immutable).
        cluster = await EditSpecAsync(world, cluster, s => s.Persistence!.Size = "2Gi");
        Assert.Equal(ReconcileOutcome.Success, (await world.ReconcileAsync(cluster)).Outcome);
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Degraded, cluster.Status!.Phase);
        Assert.Equal(("True", "ChangeRejected"), Condition(cluster, Conditions.Degraded));
        var message = Conditions.Find(cluster.Status, Conditions.Degraded)!.Message!;
        Assert.Contains("StatefulSet demo-shard-0", message);
        Assert.Contains("Forbidden: updates to statefulset spec", message);
        Assert.Single(world.EventsWithReason("ChangeRejected"));
        var set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-0", None))!;
        Assert.Equal("1Gi", set.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests["storage"].ToString());

        // The next reconcile says the same once, not a new Event each time.
        await world.ReconcileAsync(cluster);
        Assert.Single(world.EventsWithReason("ChangeRejected"));
    }

    [Fact]
    public async Task A_name_too_long_for_the_derived_names_is_refused_with_a_condition()
    {
        using var world = new World();
        // 46 characters: a valid CacheCluster name for the API server, but demo-shard-0 would be 54, and a StatefulSet over 52
        // never gets pods (its pods' controller-revision-hash label would pass 63 characters).
        var name = "orders-" + new string('x', 39);
        var cluster = await world.CreateAsync(TestClusters.New(name));
        Assert.Equal(ReconcileOutcome.Success, (await world.ReconcileAsync(cluster)).Outcome);
        Assert.Empty(await world.StatefulSetsAsync());
        cluster = await world.GetAsync(cluster);
        Assert.Equal(ClusterPhase.Failed, cluster.Status!.Phase);
        Assert.Equal(("True", "InvalidName"), Condition(cluster, Conditions.Degraded));
        Assert.Single(world.EventsWithReason("InvalidName"));

        // The longest allowed name makes every derived name valid.
        var longest = new string('a', CacheClusterResource.MaxNameLength);
        Assert.Null(SpecValidator.NameProblem(longest));
        Assert.NotNull(SpecValidator.NameProblem(longest + "a"));
        Assert.NotNull(SpecValidator.NameProblem("1cache"));
        var big = TestClusters.New(longest);
        Assert.True(CacheClusterReconciler.ShardName(big, CacheClusterResource.MaxShards - 1).Length <= CacheClusterResource.MaxStatefulSetName);
        Assert.True(Manifests.HeadlessServiceName(big).Length <= 63);
    }

    [Fact]
    public async Task A_conflicting_status_write_is_retried_by_requeue()
    {
        using var world = new World();
        var cluster = await world.CreateAsync(TestClusters.New());
        world.Api.FailNext((verb, type, _) => verb == "status" && type.Kind == "CacheCluster", 409);

        var result = await world.ReconcileAsync(cluster);
        Assert.Equal((ReconcileOutcome.Requeue, TimeSpan.Zero), (result.Outcome, result.RequeueAfter));
        Assert.Null((await world.GetAsync(cluster)).Status);

        await world.ReconcileAsync(cluster);
        Assert.Equal(ClusterPhase.Creating, (await world.GetAsync(cluster)).Status!.Phase);
    }

    [Fact]
    public async Task A_concurrent_spec_edit_makes_the_finalizer_write_conflict_and_the_retry_sees_the_edit()
    {
        using var world = new World();
        var created = TestClusters.New();
        created.Metadata.Finalizers = [CacheClusterResource.Finalizer];
        var cluster = await world.CreateAsync(created);
        world.Api.FailNext((verb, type, _) => verb == "patch" && type.Kind == "CacheCluster", 409);
        Assert.Equal(ReconcileOutcome.Requeue, (await world.ReconcileAsync(cluster)).Outcome);
        await EditSpecAsync(world, cluster, s => s.Shards = 2);
        await world.ReconcileAsync(cluster);
        Assert.Equal(2, (await world.StatefulSetsAsync()).Count);
    }

    [Fact]
    public async Task Fields_of_other_managers_survive_and_ours_are_restored()
    {
        var (world, cluster) = await ReadyClusterAsync();
        using var _ = world;
        await world.Api.ApplyAsync(new V1StatefulSet
        {
            Metadata = new V1ObjectMeta { Name = "demo-shard-0", NamespaceProperty = "cache", Annotations = new Dictionary<string, string> { ["team/owner"] = "alice" } },
        }, "kubectl", force: false, None);
        var set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-0", None))!;
        set.Spec.Replicas = 7;
        await world.Api.ReplaceAsync(set, None);

        await world.ReconcileAsync(cluster);
        set = (await world.Api.GetAsync<V1StatefulSet>("cache", "demo-shard-0", None))!;
        Assert.Equal(2, set.Spec.Replicas);
        Assert.Equal("alice", set.Metadata.Annotations["team/owner"]);
    }

    [Fact]
    public async Task ServiceMonitor_is_created_only_when_its_crd_exists()
    {
        using var world = new World();
        var cluster = TestClusters.New();
        cluster.Spec.Metrics = new MetricsSpec { Enabled = true, ServiceMonitor = true };
        cluster = await world.CreateAsync(cluster);
        await world.ReconcileAsync(cluster);
        Assert.Null(await world.Api.GetAsync<ServiceMonitor>("cache", "demo", None));
        Assert.Contains("servicemonitors.monitoring.coreos.com", Assert.Single(world.EventsWithReason("Skipped")).Message);

        world.Api.InstalledCrds.Add(Manifests.ServiceMonitorCrd);
        await world.ReconcileAsync(cluster);
        var monitor = (await world.Api.GetAsync<ServiceMonitor>("cache", "demo", None))!;
        Assert.Equal("metrics", Assert.Single(monitor.Spec.Endpoints).Port);
    }

    [Fact]
    public async Task Controller_backs_off_on_errors_and_forgets_on_success()
    {
        using var world = new World();
        var cluster = await world.CreateAsync(TestClusters.New());
        using var queue = new WorkQueue<ClusterKey>(TimeSpan.FromHours(1));
        var controller = new Controller(world.Reconciler, queue, world.Metrics, NullLogger.Instance);
        var key = new ClusterKey("cache", "demo");

        world.Api.FailNext((verb, _, _) => verb == "get", 500);
        await controller.ProcessAsync(key, None);
        world.Api.FailNext((verb, _, _) => verb == "get", 500);
        await controller.ProcessAsync(key, None);
        Assert.Equal(2, queue.Failures(key));

        await controller.ProcessAsync(key, None);
        Assert.Equal(0, queue.Failures(key));
        Assert.Equal(ClusterPhase.Creating, (await world.GetAsync(cluster)).Status!.Phase);
    }

    private static (string? Status, string? Reason) Condition(CacheCluster cluster, string type) =>
        Conditions.Find(cluster.Status, type) is { } c ? (c.Status, c.Reason) : (null, null);
}
