using System.Globalization;
using CacheOperator.Client;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// Clusters of real processes formed and damaged the way the operator and Kubernetes will: formed by
/// CLUSTER MEET / ADDSLOTSRANGE through our RESP client library, views compared across every member,
/// a member killed with SIGKILL and restarted with its nodes.conf. Each row mixes redis-server 7.0.15 and
/// our node in another way; the all-redis row is the reference.
/// </summary>
public sealed class ClusterMembershipTests : IDisposable
{
    private readonly ClusterMembers _members = new();

    /// <summary>The member kinds of each cluster; the last member is the one killed.</summary>
    public static TheoryData<string> Clusters => new() { "Redis,Redis,Redis", "Node,Node,Node", "Redis,Redis,Node", "Node,Node,Redis" };

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Formed_by_meet_and_addslotsrange_through_the_client_library(string kinds)
    {
        var members = _members.Start(kinds);
        await FormWithClientLibrary(members);

        // Every member redirects a key it does not own to the owner all agree on.
        var ids = members.ToDictionary(m => m.Id());
        foreach (var member in members)
        {
            await using var connection = await RespConnection.ConnectAsync("127.0.0.1", member.Port);
            for (int slotKey = 0; slotKey < 30; slotKey++)
            {
                string key = $"user:{slotKey}";
                var reply = await connection.ExecuteAsync("SET", key, "v");
                var owner = Owner(members[0], key);
                if (owner == member.Id())
                {
                    Assert.Equal("OK", reply.AsString());
                }
                else
                {
                    var slot = (await connection.ExecuteAsync("CLUSTER", "KEYSLOT", key)).AsInt64();
                    Assert.Equal($"MOVED {slot} 127.0.0.1:{ids[owner].Port}", reply.AsString());
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task Views_agree_on_every_member(string kinds)
    {
        var members = _members.Start(kinds);
        await FormWithClientLibrary(members);

        // Config epochs settle after formation (collisions are resolved by gossip): poll until every view is the same.
        List<string> views = [], slotsViews = [];
        ClusterWait.Until(
            () =>
            {
                views = members.Select(NodesView).ToList();
                slotsViews = members.Select(SlotsView).ToList();
                return views.All(v => v == views[0]) && slotsViews.All(v => v == slotsViews[0]);
            },
            "CLUSTER NODES and CLUSTER SLOTS agree on every member",
            describe: () => string.Join("\n---\n", views.Concat(slotsViews)));
        Assert.Equal(3, views[0].Split('\n').Select(l => l.Split(' ')[4]).Distinct().Count());
    }

    /// <summary>CLUSTER NODES as every member should agree on it: sorted, without myself and the ping times.</summary>
    private static string NodesView(ClusterMember member) => string.Join("\n", member.Nodes()
        .Select(n => $"{n.Id} {n.Address.Split(',')[0]} {string.Join(',', n.Flags.Where(f => f != "myself").Order())} {n.Master} {n.ConfigEpoch} {string.Join(' ', n.Slots)}")
        .Order());

    /// <summary>CLUSTER SLOTS as ranges with their master's ip, port and id, sorted.</summary>
    private static string SlotsView(ClusterMember member)
    {
        using var client = member.Client();
        return string.Join("\n", client.Call("CLUSTER", "SLOTS").Elements
            .Select(range => string.Join(' ', range.Elements.Take(2).Select(e => e.Integer)) + " " + string.Join(' ', range.Elements[2].Texts))
            .Order());
    }

    [Theory]
    [MemberData(nameof(Clusters))]
    public async Task A_killed_member_is_marked_fail_by_all_and_rejoins_with_its_id(string kinds)
    {
        var members = _members.Start(kinds);
        await FormWithClientLibrary(members);
        var victim = members[^1];
        var survivors = members.Take(members.Count - 1).ToList();
        string victimId = victim.Id();

        victim.Kill();
        ClusterWait.Until(
            () => survivors.All(m => m.Nodes().Single(n => n.Id == victimId).Flags.Contains("fail")),
            "the survivors mark the killed member FAIL",
            describe: () => string.Join("\n---\n", survivors.Select(ClusterWait.Describe)));
        Assert.All(survivors, m => Assert.Equal("fail", m.Info("cluster_state")));

        victim.Restart();
        Assert.Equal(victimId, victim.Id());
        ClusterWait.UntilConverged(members);
    }

    /// <inheritdoc/>
    public void Dispose() => _members.Dispose();

    /// <summary>What the operator does: MEET every member from the first, then give each a third of the slots.</summary>
    private static async Task FormWithClientLibrary(IReadOnlyList<ClusterMember> members)
    {
        await using var first = await RespConnection.ConnectAsync("127.0.0.1", members[0].Port);
        foreach (var member in members.Skip(1))
        {
            Assert.Equal("OK", (await first.ExecuteAsync("CLUSTER", "MEET", "127.0.0.1", member.Port.ToString(CultureInfo.InvariantCulture), member.BusPort.ToString(CultureInfo.InvariantCulture))).AsString());
        }
        for (int i = 0; i < members.Count; i++)
        {
            int from = 16384 * i / members.Count;
            int to = (16384 * (i + 1) / members.Count) - 1;
            await using var connection = await RespConnection.ConnectAsync("127.0.0.1", members[i].Port);
            Assert.Equal("OK", (await connection.ExecuteAsync("CLUSTER", "ADDSLOTSRANGE", from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture))).AsString());
        }
        ClusterWait.UntilConverged(members);
    }

    private static string Owner(ClusterMember member, string key)
    {
        using var client = member.Client();
        long slot = client.Call("CLUSTER", "KEYSLOT", key).Integer;
        return member.Nodes().Single(n => n.Slots.Any(r =>
        {
            var parts = r.Split('-');
            return !r.StartsWith('[') && slot >= long.Parse(parts[0], CultureInfo.InvariantCulture) && slot <= long.Parse(parts[^1], CultureInfo.InvariantCulture);
        })).Id;
    }
}
