using System.Diagnostics;
using CacheOperator.Operator.Topology;
using Xunit.Abstractions;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>The topology manager against real cluster-mode processes: our node and redis-server 7.0.15.</summary>
public sealed class TopologyIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task Creates_a_3x1_cluster_from_fresh_nodes(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 3, perShard: 2);
        var desired = Desired(processes, shards: 3, replicas: 1);

        var report = await ReconcileUntilAsync(new TopologyManager(), () => desired, r => r.Ready, "the cluster is ready");

        Assert.Equal(["0-5460", "5461-10922", "10923-16383"], report.Shards.Select(s => string.Join(",", s.SlotRanges)));
        foreach (var shard in report.Shards)
        {
            Assert.Equal(shard.Index, processes[shard.Master!].Shard);
            var replica = Assert.Single(shard.Replicas);
            Assert.True(replica.LinkUp);
            Assert.Equal(shard.Index, processes[replica.Name].Shard);
        }
        Assert.Equal("ok", report.ClusterState);
        await AssertClusterCheckOkAsync(processes.All[0]);

        // Once ready, a round changes nothing.
        var again = await new TopologyManager().ReconcileAsync(desired, CancellationToken.None);
        Assert.True(again.Ready, string.Join("; ", again.Problems));
        Assert.Empty(again.Actions);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task A_killed_master_is_replaced_by_its_replica_and_rejoins_empty_on_a_new_port_as_a_replica(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 3, perShard: 2);
        var manager = new TopologyManager(failoverGrace: TimeSpan.FromSeconds(8));
        var ready = await ReconcileUntilAsync(manager, () => Desired(processes, 3, 1), r => r.Ready, "the cluster is ready");
        var shard0 = ready.Shards[0];
        var killed = processes[shard0.Master!];
        var replica = shard0.Replicas.Single().Name;
        var oldId = await killed.IdAsync();

        killed.Kill();
        var failedOver = await ReconcileUntilAsync(manager, () => Desired(processes, 3, 1),
            r => r.Shards.Count == 3 && r.Shards[0].Master == replica && string.Join(",", r.Shards[0].SlotRanges) == "0-5460"
                && !r.Problems.Any(p => p.Contains("cluster_state", StringComparison.Ordinal) || p.Contains("no master", StringComparison.Ordinal)),
            $"{replica} serves shard 0");
        Assert.Contains(failedOver.Problems, p => p.Contains($"member {killed.Name} is unreachable", StringComparison.Ordinal));

        killed.RestartEmptyOnNewPort();
        var newId = await killed.IdAsync();
        Assert.NotEqual(oldId, newId);
        var report = await ReconcileUntilAsync(manager, () => Desired(processes, 3, 1), r => r.Ready, "the restarted node is attached");

        Assert.Equal(replica, report.Shards[0].Master);
        Assert.Equal(killed.Name, Assert.Single(report.Shards[0].Replicas).Name);
        Assert.Contains(report.Actions.Concat(_actions), a => a.Kind == "meet");
        foreach (var process in processes.All)
        {
            Assert.DoesNotContain(oldId, (await process.CallAsync("CLUSTER", "NODES")).AsString(), StringComparison.Ordinal);
        }
        await AssertClusterCheckOkAsync(processes.All[0]);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task A_cluster_whose_nodes_all_restart_on_new_ports_is_ready_again_with_the_same_nodes(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 3, perShard: 2);
        var manager = new TopologyManager();
        var before = await ReconcileUntilAsync(manager, () => Desired(processes, 3, 1), r => r.Ready, "the cluster is ready");
        var ids = new Dictionary<string, string>();
        foreach (var process in processes.All)
        {
            ids[process.Name] = await process.IdAsync();
        }
        var oldPorts = processes.All.Select(p => p.Port).ToHashSet();
        int actionsBefore = _actions.Count;

        // Everything stops at once and comes back at new addresses, each node with its nodes.conf: every node's view of
        // the others is stale, so no node can reach another until the operator meets them at their new addresses.
        foreach (var process in processes.All)
        {
            process.Kill();
        }
        foreach (var process in processes.All)
        {
            process.RestartOnNewPort();
        }
        Assert.DoesNotContain(processes.All, p => oldPorts.Contains(p.Port));

        var after = await ReconcileUntilAsync(manager, () => Desired(processes, 3, 1), r => r.Ready, "the restarted cluster is ready");
        foreach (var process in processes.All)
        {
            Assert.Equal(ids[process.Name], await process.IdAsync());
        }
        Assert.Equal(before.Shards.Select(s => string.Join(",", s.SlotRanges)), after.Shards.Select(s => string.Join(",", s.SlotRanges)));
        // The nodes kept their slots and roles: the operator only met them again, it assigned nothing anew.
        var sinceRestart = _actions.Skip(actionsBefore).ToList();
        Assert.Contains(sinceRestart, a => a.Kind == "meet" && a.Succeeded);
        Assert.DoesNotContain(sinceRestart, a => a.Kind is "add_slots" or "reset");
        await AssertClusterCheckOkAsync(processes.All[0]);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task A_stopped_node_that_is_no_longer_a_member_is_forgotten(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 3, perShard: 2);
        var extra = processes.Add(kind, shard: 0);
        var members = new List<ClusterProcess>(processes.All);
        var manager = new TopologyManager();
        var ready = await ReconcileUntilAsync(manager, () => Desired(members, 3, 1), r => r.Ready, "the cluster is ready");
        Assert.Equal(2, ready.Shards[0].Replicas.Count);

        // The ghost is a replica of shard 0 (never its master: that would be a failover test).
        var ghost = processes[ready.Shards[0].Replicas[^1].Name];
        var ghostId = await ghost.IdAsync();
        ghost.Kill();
        members.Remove(ghost);

        var report = await ReconcileUntilAsync(manager, () => Desired(members, 3, 1), r => r.Ready, "the ghost is forgotten");
        Assert.Contains(_actions, a => a.Kind == "forget" && a.Detail.Contains(ghostId, StringComparison.Ordinal) && a.Succeeded);
        foreach (var process in members)
        {
            Assert.DoesNotContain(ghostId, (await process.CallAsync("CLUSTER", "NODES")).AsString(), StringComparison.Ordinal);
        }
        Assert.Single(report.Shards[0].Replicas);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task A_fresh_manager_converges_after_an_operator_crash_between_commands(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 3, perShard: 2);
        var desired = Desired(processes, 3, 1);

        // Each "operator" runs only the first command of its plan, then dies; until one has assigned slots or replicas.
        var kinds = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        while (!kinds.Contains("add_slots") && !kinds.Contains("replicate"))
        {
            Assert.True(stopwatch.Elapsed < Deadline, $"no slots were assigned within {Deadline}: {string.Join(", ", kinds)}");
            var plan = await new TopologyManager().PlanAsync(desired, CancellationToken.None);
            if (plan.Actions.Count == 0)
            {
                await Task.Delay(200);
                continue;
            }
            var results = await new TopologyExecutor().ExecuteAsync(plan.Actions.Take(1).ToList(), desired, CancellationToken.None);
            kinds.Add(results[0].Kind);
            output.WriteLine($"crashed after {results[0].Detail} on {results[0].Target}: {(results[0].Succeeded ? "ok" : results[0].Error)}");
        }

        var report = await ReconcileUntilAsync(new TopologyManager(), () => desired, r => r.Ready, "a fresh manager made the cluster ready");
        Assert.Equal(["0-5460", "5461-10922", "10923-16383"], report.Shards.Select(s => string.Join(",", s.SlotRanges)));
        await AssertClusterCheckOkAsync(processes.All[0]);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task Creates_a_cluster_of_nodes_that_require_a_password(ServerKind kind)
    {
        using var processes = new ClusterProcesses { Password = "s3cret-topology" };
        processes.Start(kind, shards: 2, perShard: 2);
        var desired = Desired(processes, 2, 1) with { Password = "s3cret-topology" };

        var report = await ReconcileUntilAsync(new TopologyManager(), () => desired, r => r.Ready, "the cluster is ready");
        Assert.All(report.Shards, s => Assert.True(Assert.Single(s.Replicas).LinkUp));

        // Without the password every member is unreachable, and says why.
        var refused = await new TopologyManager().ReconcileAsync(desired with { Password = null }, CancellationToken.None);
        Assert.False(refused.Ready);
        Assert.Equal(4, refused.Problems.Count(p => p.Contains("is unreachable", StringComparison.Ordinal)));
        Assert.Empty(refused.Actions);
    }

    [Fact]
    public async Task An_unreachable_member_is_reported_not_thrown()
    {
        var desired = new DesiredTopology(1, 0, [new MemberEndpoint("cache-shard-0-0", 0, "127.0.0.1", 1), new MemberEndpoint("cache-shard-0-1", 0, null, 6379)]);
        var report = await new TopologyManager().ReconcileAsync(desired, CancellationToken.None);
        Assert.False(report.Ready);
        Assert.Equal("unknown", report.ClusterState);
        Assert.Contains(report.Problems, p => p.StartsWith("member cache-shard-0-0 is unreachable", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.StartsWith("member cache-shard-0-1 is unreachable", StringComparison.Ordinal));
        Assert.Empty(report.Actions);
    }

    private readonly List<TopologyActionResult> _actions = [];

    private static DesiredTopology Desired(ClusterProcesses processes, int shards, int replicas) => Desired(processes.All, shards, replicas);

    private static DesiredTopology Desired(IEnumerable<ClusterProcess> processes, int shards, int replicas) =>
        new(shards, replicas, processes.Select(p => p.Endpoint).ToList());

    private async Task<TopologyReport> ReconcileUntilAsync(ITopologyManager manager, Func<DesiredTopology> desired, Func<TopologyReport, bool> done, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        TopologyReport? report = null;
        while (true)
        {
            report = await manager.ReconcileAsync(desired(), CancellationToken.None);
            _actions.AddRange(report.Actions);
            foreach (var action in report.Actions)
            {
                output.WriteLine($"{stopwatch.Elapsed.TotalSeconds:F1}s {action.Kind} on {action.Target}: {action.Detail} {(action.Succeeded ? "ok" : action.Error)}");
            }
            if (done(report))
            {
                output.WriteLine($"{what} after {stopwatch.Elapsed.TotalSeconds:F1}s");
                return report;
            }
            if (stopwatch.Elapsed > Deadline)
            {
                Assert.Fail($"Timed out waiting until {what}. Problems: {string.Join("; ", report.Problems)}");
            }
            await Task.Delay(250);
        }
    }

    internal static async Task AssertClusterCheckOkAsync(ClusterProcess entry)
    {
        // redis-cli's own audit: every slot covered, nodes agree, no open slots.
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var info = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "--cluster", "check", $"127.0.0.1:{entry.Port}" })
            {
                info.ArgumentList.Add(argument);
            }
            using var process = Process.Start(info)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            var text = await stdout + await stderr;
            bool ok = text.Contains("[OK] All 16384 slots covered", StringComparison.Ordinal)
                && !text.Contains("[ERR]", StringComparison.Ordinal) && !text.Contains("[WARNING]", StringComparison.Ordinal);
            if (ok)
            {
                return;
            }
            // Config epochs or views may still be settling right after Ready: retry until the deadline.
            if (stopwatch.Elapsed > TimeSpan.FromSeconds(60))
            {
                Assert.Fail($"redis-cli --cluster check is not clean:\n{text}");
            }
            await Task.Delay(500);
        }
    }
}
