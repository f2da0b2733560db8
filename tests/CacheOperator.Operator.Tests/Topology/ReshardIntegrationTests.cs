using System.Diagnostics;
using System.Globalization;
using CacheOperator.Operator.Topology;
using StackExchange.Redis;
using Xunit.Abstractions;
using SlotRange = CacheOperator.Operator.Topology.SlotRange;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>Resharding against real cluster-mode processes: our node and redis-server 7.0.15.</summary>
public sealed class ReshardIntegrationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task Scales_3_to_4_and_back_to_3_under_a_writer_keeping_every_key(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 4, perShard: 1);
        var three = processes.All.Where(p => p.Shard < 3).ToList();
        // Small rounds, so that several rounds (and their progress) happen while the writer writes.
        var manager = new TopologyManager(migration: new MigrationOptions(TimeSpan.FromSeconds(1), MaxSlots: 1500));
        await ReconcileUntilAsync(manager, () => Desired(three, 3), r => r.Ready, "the 3-shard cluster is ready");

        const int Keys = 20_000;
        using var redis = await ConnectionMultiplexer.ConnectAsync(Options(processes.All));
        var db = redis.GetDatabase();
        for (int start = 0; start < Keys; start += 1000)
        {
            await Task.WhenAll(Enumerable.Range(start, 1000).Select(i => db.StringSetAsync($"key:{i}", $"value:{i}")));
        }

        // A writer overwrites keys in a loop and logs the last acknowledged value of each, and every error it saw.
        await using var writer = await AcknowledgedWriter.StartAsync(processes.All.Select(p => p.Port), keys: 2000, workers: 2);

        var rounds = new List<ReshardRound>();
        var grown = await ReconcileUntilAsync(manager, () => Desired(processes.All, 4), r =>
        {
            if (r.Resharding is { } round)
            {
                rounds.Add(round);
            }
            return r.Ready;
        }, "the 4-shard cluster is even");
        Assert.All(grown.Shards, s => Assert.Equal(4096, SlotCount(s)));
        Assert.True(rounds.Count >= 3, $"{rounds.Count} resharding rounds");
        Assert.Equal(4096, rounds.Sum(r => r.SlotsMoved));
        Assert.True(rounds.Sum(r => r.KeysMoved) > Keys / 8, $"{rounds.Sum(r => r.KeysMoved)} keys moved");
        Assert.All(rounds, r => Assert.Null(r.Failure));
        await TopologyIntegrationTests.AssertClusterCheckOkAsync(processes.All[0]);

        // 4 -> 3: shard 3 still runs while it drains; only once it owns nothing is it stopped, then forgotten.
        rounds.Clear();
        var drained = await ReconcileUntilAsync(manager, () => Desired(processes.All, 3), r =>
        {
            if (r.Resharding is { } round)
            {
                rounds.Add(round);
            }
            return r.DrainedShards.Contains(3);
        }, "shard 3 is drained");
        Assert.Equal(4096, rounds.Sum(r => r.SlotsMoved));
        Assert.Empty(drained.Shards[3].SlotRanges);
        var removed = processes.All.Single(p => p.Shard == 3);
        var removedId = await removed.IdAsync();
        removed.Kill();
        var shrunk = await ReconcileUntilAsync(manager, () => Desired(three, 3), r => r.Ready, "the 3-shard cluster is ready again");
        Assert.Equal(16384, shrunk.Shards.Sum(SlotCount));
        Assert.All(shrunk.Shards, s => Assert.InRange(SlotCount(s), 5461, 5462));
        foreach (var process in three)
        {
            Assert.DoesNotContain(removedId, (await process.CallAsync("CLUSTER", "NODES")).AsString(), StringComparison.Ordinal);
        }

        await writer.StopAsync();
        output.WriteLine($"writer: {writer.Writes} writes acknowledged, {writer.Errors.Count} errors, {writer.UnfollowedRedirections} redirections the client could not follow yet");
        writer.AssertNoErrors();
        Assert.Empty(await writer.FindLostWritesAsync(three.Select(p => p.Port)));

        using var reader = await ConnectionMultiplexer.ConnectAsync(Options(three));
        var rdb = reader.GetDatabase();
        for (int start = 0; start < Keys; start += 1000)
        {
            var values = await Task.WhenAll(Enumerable.Range(start, 1000).Select(i => rdb.StringGetAsync($"key:{i}")));
            for (int i = 0; i < values.Length; i++)
            {
                Assert.True(values[i] == $"value:{start + i}", $"key:{start + i} is {values[i]}");
            }
        }
        await TopologyIntegrationTests.AssertClusterCheckOkAsync(three[0]);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task Slots_left_open_by_a_crashed_operator_are_finished_or_closed(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 2, perShard: 1);
        var manager = new TopologyManager();
        await ReconcileUntilAsync(manager, () => Desired(processes.All, 2), r => r.Ready, "the cluster is ready");
        var (owner, other) = (processes.All[0], processes.All[1]);
        var (ownerId, otherId) = (await owner.IdAsync(), await other.IdAsync());

        // Slot of tag A: half moved when the "operator" died (both sides open). Slot of tag B: only the target opened, no keys moved.
        var tags = await TagsOwnedByAsync(owner, 2);
        var (tagA, tagB) = (tags[0].Tag, tags[1].Tag);
        var (a, b) = (tags[0].Slot, tags[1].Slot);
        for (int i = 0; i < 10; i++)
        {
            await owner.CallAsync("SET", $"{{{tagA}}}:{i}", $"a{i}");
            await owner.CallAsync("SET", $"{{{tagB}}}:{i}", $"b{i}");
        }
        await other.CallAsync("CLUSTER", "SETSLOT", a.ToString(CultureInfo.InvariantCulture), "IMPORTING", ownerId);
        await owner.CallAsync("CLUSTER", "SETSLOT", a.ToString(CultureInfo.InvariantCulture), "MIGRATING", otherId);
        var moved = await owner.CallAsync(["MIGRATE", "127.0.0.1", other.Port.ToString(CultureInfo.InvariantCulture), "", "0", "5000", "KEYS", .. Enumerable.Range(0, 5).Select(i => $"{{{tagA}}}:{i}")]);
        Assert.False(moved.IsError, moved.AsString());
        await other.CallAsync("CLUSTER", "SETSLOT", b.ToString(CultureInfo.InvariantCulture), "IMPORTING", ownerId);

        var report = await ReconcileUntilAsync(new TopologyManager(), () => Desired(processes.All, 2), r => r.Ready, "the open slots are settled");
        Assert.Contains(_actions, x => x.Kind == "stabilize_slot" && x.Detail == $"CLUSTER SETSLOT {b} STABLE" && x.Target == other.Name);
        // Slot a finished moving (to the other master; the spread was then evened by moving one slot back).
        Assert.Contains(report.Shards[1].SlotRanges.Select(ParseRange), r => r.Start <= a && a <= r.End);
        Assert.Contains(report.Shards[0].SlotRanges.Select(ParseRange), r => r.Start <= b && b <= r.End);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal($"a{i}", (await other.CallAsync("GET", $"{{{tagA}}}:{i}")).AsString());
            Assert.Equal($"b{i}", (await owner.CallAsync("GET", $"{{{tagB}}}:{i}")).AsString());
        }
        await TopologyIntegrationTests.AssertClusterCheckOkAsync(owner);
    }

    [Theory]
    [InlineData(ServerKind.Node)]
    [InlineData(ServerKind.Redis)]
    public async Task A_failed_migrate_is_reported_and_not_retried_until_its_backoff_ends(ServerKind kind)
    {
        using var processes = new ClusterProcesses();
        processes.Start(kind, shards: 2, perShard: 1);
        var manager = new TopologyManager(retryAfterFailure: TimeSpan.FromMinutes(5));
        await ReconcileUntilAsync(manager, () => Desired(processes.All, 2), r => r.Ready, "the cluster is ready");
        var (owner, other) = (processes.All[0], processes.All[1]);
        var (ownerId, otherId) = (await owner.IdAsync(), await other.IdAsync());
        var (tag, slot) = (await TagsOwnedByAsync(owner, 1))[0];
        string s = slot.ToString(CultureInfo.InvariantCulture);
        string busy = $"{{{tag}}}:busy";

        // The key exists on both sides (the target got a copy while importing): MIGRATE without REPLACE meets BUSYKEY.
        await owner.CallAsync("SET", busy, "owner");
        await other.CallAsync("CLUSTER", "SETSLOT", s, "IMPORTING", ownerId);
        await using (var connection = await CacheOperator.Client.RespConnection.ConnectAsync("127.0.0.1", other.Port))
        {
            Assert.False((await connection.ExecuteAsync("ASKING")).IsError);
            var set = await connection.ExecuteAsync("SET", busy, "stale");
            Assert.False(set.IsError, set.AsString());
        }
        await owner.CallAsync("CLUSTER", "SETSLOT", s, "MIGRATING", otherId);

        var failed = await ReconcileUntilAsync(manager, () => Desired(processes.All, 2), r => r.Resharding?.Failure is not null, "the migration fails");
        var failure = failed.Resharding!.Failure!;
        Assert.Equal(slot, failure.Slot);
        Assert.Contains("BUSYKEY", failure.Error, StringComparison.Ordinal);
        Assert.False(failure.RolledBack);
        Assert.Contains(failed.Problems, p => p.Contains($"moving slot {slot}", StringComparison.Ordinal) && p.Contains("BUSYKEY", StringComparison.Ordinal));

        // The next rounds do not try again: resharding is paused and says so.
        for (int i = 0; i < 3; i++)
        {
            var next = await manager.ReconcileAsync(Desired(processes.All, 2), CancellationToken.None);
            Assert.True(next.Resharding is { Paused: true, SlotsMoved: 0 }, $"round {i}: {next.Resharding}");
            Assert.Contains(next.Problems, p => p.StartsWith("resharding is paused", StringComparison.Ordinal));
        }
        Assert.Equal("owner", (await owner.CallAsync("GET", busy)).AsString());
    }

    private readonly List<TopologyActionResult> _actions = [];

    /// <summary>Hash tags whose slots <paramref name="owner"/> owns (as CLUSTER KEYSLOT and CLUSTER NODES say).</summary>
    private static async Task<List<(string Tag, int Slot)>> TagsOwnedByAsync(ClusterProcess owner, int count)
    {
        var mine = ClusterNodeEntry.ParseAll((await owner.CallAsync("CLUSTER", "NODES")).AsString()!).Single(e => e.IsMyself).AllSlots().ToHashSet();
        var tags = new List<(string, int)>();
        for (int i = 0; tags.Count < count; i++)
        {
            var tag = $"t{i}";
            int slot = (int)(await owner.CallAsync("CLUSTER", "KEYSLOT", tag)).AsInt64();
            if (mine.Contains(slot) && tags.All(t => t.Item2 != slot))
            {
                tags.Add((tag, slot));
            }
        }
        return tags;
    }

    private static int SlotCount(ShardReport shard) => shard.SlotRanges.Select(ParseRange).Sum(r => r.Count);

    private static SlotRange ParseRange(string text)
    {
        var parts = text.Split('-');
        int start = int.Parse(parts[0], CultureInfo.InvariantCulture);
        return new SlotRange(start, parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : start);
    }

    private static ConfigurationOptions Options(IEnumerable<ClusterProcess> processes) => AcknowledgedWriter.Options(processes.Select(p => p.Port));

    private static DesiredTopology Desired(IEnumerable<ClusterProcess> processes, int shards) =>
        new(shards, 0, processes.Select(p => p.Endpoint).ToList());

    private async Task<TopologyReport> ReconcileUntilAsync(ITopologyManager manager, Func<DesiredTopology> desired, Func<TopologyReport, bool> done, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var report = await manager.ReconcileAsync(desired(), CancellationToken.None);
            _actions.AddRange(report.Actions);
            foreach (var action in report.Actions)
            {
                output.WriteLine($"{stopwatch.Elapsed.TotalSeconds:F1}s {action.Kind} on {action.Target}: {action.Detail} {(action.Succeeded ? "ok" : action.Error)}");
            }
            if (report.Resharding is { } r)
            {
                output.WriteLine($"{stopwatch.Elapsed.TotalSeconds:F1}s reshard: {r.SlotsMoved}/{r.SlotsLeft} slots, {r.KeysMoved} keys in {r.Elapsed.TotalSeconds:F2}s{(r.Failure is null ? "" : $", failed: {r.Failure}")}");
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
            if (report.Resharding is null or { Paused: true })
            {
                await Task.Delay(250);
            }
        }
    }
}
