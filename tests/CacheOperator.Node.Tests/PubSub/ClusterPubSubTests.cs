using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.PubSub;

/// <summary>
/// Pub/sub across a real 3-master cluster mixing redis-server 7.0.15 and our nodes (each a process): PUBLISH on any
/// member reaches subscribers on every member over the bus's PUBLISH message, SSUBSCRIBE/SPUBLISH are routed by the
/// shard channel's slot (MOVED, CROSSSLOT as redis-server answers them) and SPUBLISH reaches the shard's replica over
/// PUBLISHSHARD and no other shard.
/// </summary>
public sealed class ClusterPubSubTests : IDisposable
{
    private readonly ClusterMembers _cluster = new();

    public void Dispose() => _cluster.Dispose();

    /// <summary>Three masters (a redis-server, two nodes) each with a third of the slots, and a node replicating the redis-server.</summary>
    private List<ClusterMember> Form()
    {
        var members = new List<ClusterMember> { _cluster.Add(MemberKind.Redis), _cluster.Add(MemberKind.Node), _cluster.Add(MemberKind.Node), _cluster.Add(MemberKind.Node) };
        foreach (var member in members.Skip(1))
        {
            Assert.Equal("OK", members[0].Call("CLUSTER", "MEET", "127.0.0.1", member.Port.ToString(CultureInfo.InvariantCulture), member.BusPort.ToString(CultureInfo.InvariantCulture)).Text);
        }
        for (int i = 0; i < 3; i++)
        {
            int from = 16384 * i / 3, to = (16384 * (i + 1) / 3) - 1;
            Assert.Equal("OK", members[i].Call("CLUSTER", "ADDSLOTSRANGE", from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture)).Text);
        }
        ClusterWait.Until(() => members.All(m => m.Nodes().Count == 4), "every member knows the others", describe: () => string.Join("\n---\n", members.Select(ClusterWait.Describe)));
        Assert.Equal("OK", members[3].Call("CLUSTER", "REPLICATE", members[0].Id()).Text);
        ClusterWait.UntilConverged(members);
        ClusterWait.Until(() => members.All(m => m.Nodes().Count(n => n.Flags.Contains("slave")) == 1), "every member sees the replica",
            describe: () => string.Join("\n---\n", members.Select(ClusterWait.Describe)));
        return members;
    }

    [Fact]
    public void Publish_reaches_subscribers_on_every_member_and_spublish_stays_in_its_shard()
    {
        var members = Form();
        var subscribers = members.Select(m => m.Client()).ToList();
        try
        {
            foreach (var subscriber in subscribers)
            {
                Assert.Equal(new[] { "subscribe", "news", "1" }, subscriber.Call("SUBSCRIBE", "news").Texts);
            }
            // From the redis-server and from each node: every subscriber, wherever it is, gets each message once.
            for (int from = 0; from < members.Count; from++)
            {
                using var publisher = members[from].Client();
                Assert.Equal(1, publisher.Call("PUBLISH", "news", $"from {from}").Integer);
                foreach (var subscriber in subscribers)
                {
                    Assert.Equal(new[] { "message", "news", $"from {from}" }, subscriber.Read().Texts);
                }
            }

            // Shard channels: one owned by the redis-server's shard, one by the first node's.
            string redisChannel = ChannelOwnedBy(members[0], members);
            string nodeChannel = ChannelOwnedBy(members[1], members);
            using var onRedisReplica = members[3].Client();
            using var onNode = members[1].Client();
            Assert.Equal(new[] { "ssubscribe", redisChannel, "1" }, onRedisReplica.Call("SSUBSCRIBE", redisChannel).Texts);
            Assert.Equal(new[] { "ssubscribe", nodeChannel, "1" }, onNode.Call("SSUBSCRIBE", nodeChannel).Texts);

            using (var redisPublisher = members[0].Client())
            {
                Assert.Equal(0, redisPublisher.Call("SPUBLISH", redisChannel, "to the redis shard").Integer);
            }
            Assert.Equal(new[] { "smessage", redisChannel, "to the redis shard" }, onRedisReplica.Read().Texts);
            using (var nodePublisher = members[1].Client())
            {
                Assert.Equal(1, nodePublisher.Call("SPUBLISH", nodeChannel, "to the node shard").Integer);
            }
            Assert.Equal(new[] { "smessage", nodeChannel, "to the node shard" }, onNode.Read().Texts);
            // The replica subscribed to its master's channel saw only its shard's message: a PING answers next.
            Assert.Equal(new[] { "pong", "" }, onRedisReplica.Call("PING").Texts);

            // Slot errors as redis-server gives them, for the same channels.
            foreach (var command in new[] { new[] { "SSUBSCRIBE", nodeChannel }, ["SPUBLISH", nodeChannel, "x"], ["SSUBSCRIBE", redisChannel, nodeChannel] })
            {
                using var atRedis = members[0].Client();
                using var atNode = members[2].Client();
                var expected = atRedis.Call(command);
                var actual = atNode.Call(command);
                Assert.True(expected.IsError, $"{string.Join(' ', command)}: {expected}");
                Assert.Equal(expected.Text, actual.Text);
            }
        }
        finally
        {
            subscribers.ForEach(s => s.Dispose());
        }
    }

    /// <summary>A channel name whose slot <paramref name="owner"/> serves.</summary>
    private static string ChannelOwnedBy(ClusterMember owner, List<ClusterMember> members)
    {
        string id = owner.Id();
        var line = members[1].Nodes().Single(n => n.Id == id);
        for (int i = 0; ; i++)
        {
            string channel = $"shard-{i}";
            long slot = members[1].Call("CLUSTER", "KEYSLOT", channel).Integer;
            if (line.Slots.Any(range => InRange(range, slot)))
            {
                return channel;
            }
        }
    }

    private static bool InRange(string range, long slot)
    {
        var parts = range.Split('-');
        long from = long.Parse(parts[0], CultureInfo.InvariantCulture);
        long to = parts.Length > 1 ? long.Parse(parts[1], CultureInfo.InvariantCulture) : from;
        return slot >= from && slot <= to;
    }
}
