using System.Collections.Concurrent;
using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// Redis's own cluster manager (<c>redis-cli --cluster</c>) and a cluster-aware client over clusters of
/// real processes: all redis-server 7.0.15 (the reference run), all our nodes, and mixed. The tool compares
/// every node's view, so a CLUSTER NODES line or bus message that differs from Redis's makes it fail.
/// </summary>
public sealed class ClusterToolingTests : IDisposable
{
    private readonly ClusterMembers _members = new();

    /// <summary>The member kinds of each cluster the tests run on.</summary>
    public static TheoryData<string> Clusters => new() { "Redis,Redis,Redis", "Node,Node,Node", "Redis,Redis,Node", "Node,Node,Redis" };

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Create_write_reshard_under_writes_and_check(string kinds)
    {
        var members = _members.Start(kinds);
        Create(members);

        await using var client = await Connect(members);
        var db = client.GetDatabase();
        const int keys = 100_000;
        for (int from = 0; from < keys; from += 5000)
        {
            var writes = Enumerable.Range(from, 5000).Select(i => db.StringSetAsync($"key:{i}", $"v{i}")).ToArray();
            Assert.All(await Task.WhenAll(writes), Assert.True);
        }

        // A writer keeps overwriting keys while 1000 slots move; every acknowledged write must survive. A write the client
        // lost its connection for (StackExchange.Redis reconnecting on a loaded machine) or stopped redirecting was not
        // acknowledged: its key may hold either value until a later write is acknowledged, so it is left out of the checks;
        // most must be acknowledged.
        var acknowledged = new ConcurrentDictionary<string, string>();
        var unknown = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            int round = 0;
            var random = new Random(11);
            while (!stop.IsCancellationRequested)
            {
                round++;
                string key = $"key:{random.Next(keys)}";
                string value = $"w{round}";
                try
                {
                    await db.StringSetAsync(key, value);
                    acknowledged[key] = value;
                    unknown.TryRemove(key, out _);
                }
                catch (Exception e) when (e is RedisConnectionException || e is RedisServerException && e.Message.Contains("MOVED", StringComparison.Ordinal))
                {
                    // Also a write StackExchange.Redis gave up on after a second MOVED in a row: redis-cli 7.0 sets a moved
                    // slot's new owner on every master in list order, so for a moment the source already redirects to the
                    // target while the target (still importing) redirects back. Such a write was not acknowledged either.
                    acknowledged.TryRemove(key, out _);
                    unknown[key] = e.Message;
                }
            }
        });

        // 1000 slots from the first member to the third and 1000 back (in the mixed rows: from a redis-server to our node
        // and back, or the other way round).
        var source = members[0].Id();
        var target = members[2].Id();
        int sourceSlotsBefore = members[0].Nodes().Single(n => n.Id == source).SlotCount;
        var there = RedisCli.Cluster("reshard", members[0].Address, "--cluster-from", source, "--cluster-to", target, "--cluster-slots", "1000", "--cluster-yes");
        ClusterWait.UntilConverged(members);
        int targetSlotsBetween = members[2].Nodes().Single(n => n.Id == target).SlotCount;
        var back = RedisCli.Cluster("reshard", members[0].Address, "--cluster-from", target, "--cluster-to", source, "--cluster-slots", "1000", "--cluster-yes");
        string reshard = there + back;
        stop.Cancel();
        await writer;
        Assert.DoesNotContain("[ERR]", reshard, StringComparison.Ordinal);

        ClusterWait.UntilConverged(members);
        AssertChecksClean(members[2]);
        Assert.Equal(keys, members.Sum(m => DbSize(m)));
        Assert.True(unknown.Count < acknowledged.Count, $"{unknown.Count} writes lost their connection, {acknowledged.Count} keys acknowledged: {unknown.Values.FirstOrDefault()}");
        var sample = Enumerable.Range(0, keys).Where(i => i % 7 == 0).Select(i => $"key:{i}").Where(k => !unknown.ContainsKey(k)).ToArray();
        foreach (var key in sample)
        {
            var expected = acknowledged.TryGetValue(key, out var last) ? last : $"v{key[4..]}";
            Assert.Equal(expected, (string?)await db.StringGetAsync(key));
        }
        foreach (var (key, value) in acknowledged)
        {
            Assert.Equal(value, (string?)await db.StringGetAsync(key));
        }
        Assert.Equal(5461 + 1000, targetSlotsBetween);
        Assert.Equal(sourceSlotsBefore, members[0].Nodes().Single(n => n.Id == source).SlotCount);
    }

    [Theory]
    // Rebalancing moves slots off every member and back: the all-Redis row is the reference for the all-node one.
    [InlineData("Redis,Redis,Redis")]
    [InlineData("Node,Node,Node")]
    public async Task Add_node_rebalance_and_del_node(string kinds)
    {
        var members = _members.Start(kinds);
        Create(members);
        await using (var client = await Connect(members))
        {
            var db = client.GetDatabase();
            var writes = Enumerable.Range(0, 3000).Select(i => db.StringSetAsync($"k{i}", i)).ToArray();
            await Task.WhenAll(writes);
        }

        // A fourth, empty master of the first kind joins, takes a share, then leaves again.
        var added = _members.Add(members[0].Kind);
        var addOutput = RedisCli.Cluster("add-node", added.Address, members[0].Address);
        Assert.Contains("[OK] New node added correctly.", addOutput, StringComparison.Ordinal);
        var all = members.Append(added).ToList();
        // A new master reports cluster_state:fail for a while after joining (Redis's rejoin delay) and refuses RESTORE until then.
        ClusterWait.UntilConverged(all);

        var rebalance = RedisCli.Cluster("rebalance", members[0].Address, "--cluster-use-empty-masters", "--cluster-yes");
        Assert.DoesNotContain("[ERR]", rebalance, StringComparison.Ordinal);
        ClusterWait.UntilConverged(all);
        Assert.True(added.Nodes().Single(n => n.Id == added.Id()).SlotCount >= 4000, rebalance + ClusterWait.Describe(added));
        AssertChecksClean(added);

        var drain = RedisCli.Cluster("rebalance", members[0].Address, "--cluster-weight", $"{added.Id()}=0", "--cluster-yes");
        Assert.DoesNotContain("[ERR]", drain, StringComparison.Ordinal);
        var del = RedisCli.Cluster("del-node", members[0].Address, added.Id());
        Assert.True(del.Contains("Sending CLUSTER RESET SOFT to the deleted node.", StringComparison.Ordinal) && !del.Contains("[ERR]", StringComparison.Ordinal), del);
        Assert.Single(added.Nodes());
        ClusterWait.UntilConverged(members);
        AssertChecksClean(members[0]);
        Assert.Equal(3000, members.Sum(m => DbSize(m)));
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Fix_closes_a_slot_left_migrating(string kinds)
    {
        var members = _members.Start(kinds);
        Create(members);
        var owner = members.First(m => m.Nodes().Single(n => n.Flags.Contains("myself")).Slots.Contains("0-5460"));
        var other = members.First(m => m != owner);
        using (var client = owner.Client())
        {
            Assert.Equal("OK", client.Call("SET", "{06S}a", "1").Text); // slot 0
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "0", "MIGRATING", other.Id()).Text);
        }

        var check = RedisCli.Cluster("check", owner.Address);
        Assert.Contains("open slot", check, StringComparison.OrdinalIgnoreCase);
        var fix = RedisCli.Cluster("fix", owner.Address, "--cluster-yes");
        Assert.DoesNotContain("[ERR]", fix.Split("Fixing open slot")[^1], StringComparison.Ordinal);
        ClusterWait.Until(() => !RedisCli.Cluster("check", owner.Address).Contains("[WARNING]", StringComparison.Ordinal), "check reports no open slot");
        var found = members.Sum(m =>
        {
            using var c = m.Client();
            return c.Call("CLUSTER", "COUNTKEYSINSLOT", "0").Integer;
        });
        Assert.Equal(1, found);
    }

    /// <inheritdoc/>
    public void Dispose() => _members.Dispose();

    private static void Create(IReadOnlyList<ClusterMember> members)
    {
        var output = RedisCli.Cluster("create", [.. members.Select(m => m.Address), "--cluster-yes"]);
        Assert.Contains("[OK] All 16384 slots covered.", output, StringComparison.Ordinal);
        ClusterWait.UntilConverged(members);
        AssertChecksClean(members[0]);
    }

    private static void AssertChecksClean(ClusterMember member)
    {
        // check polls: a view just changed by a reshard step can take a gossip round to agree everywhere.
        string last = "";
        ClusterWait.Until(
            () =>
            {
                last = RedisCli.Cluster("check", member.Address);
                return last.Contains("[OK] All nodes agree about slots configuration.", StringComparison.Ordinal)
                    && last.Contains("[OK] All 16384 slots covered.", StringComparison.Ordinal)
                    && !last.Contains("[WARNING]", StringComparison.Ordinal)
                    && !last.Contains("[ERR]", StringComparison.Ordinal);
            },
            "redis-cli --cluster check is clean",
            describe: () => last);
    }

    private static async Task<ConnectionMultiplexer> Connect(IReadOnlyList<ClusterMember> members)
    {
        var options = new ConfigurationOptions { AbortOnConnectFail = true, ConnectTimeout = 20000, SyncTimeout = 20000, AsyncTimeout = 20000 };
        foreach (var member in members)
        {
            options.EndPoints.Add("127.0.0.1", member.Port);
        }
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    private static long DbSize(ClusterMember member)
    {
        using var client = member.Client();
        return client.Call("DBSIZE").Integer;
    }
}
