using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// The codec against real redis-server 7.0.15 cluster buses: frames redis sends decode and re-encode
/// byte for byte, and frames we encode are accepted by redis (it lists us, delivers our PUBLISH, applies
/// our UPDATE and FAIL).
/// </summary>
public class ClusterBusWireTests
{
    [Fact]
    public void RedisFramesDecodeAndReencodeByteForByte()
    {
        // A long node timeout: on a loaded machine a slow answer of ours would make us PFAIL, and PFAIL nodes ride in
        // every gossip section on top of the counted entries this test checks.
        using var members = new ClusterMembers();
        var a = members.Add(MemberKind.Redis, 15000, "--cluster-announce-hostname", "node-a.test");
        var b = members.Add(MemberKind.Redis, 15000);
        string aId = a.Id(), bId = b.Id();
        a.Call("CLUSTER", "MEET", "127.0.0.1", b.Port.ToString(), b.BusPort.ToString());
        Wait.Until(() => a.NodeLine(bId)?.Contains(" connected", StringComparison.Ordinal) == true && b.NodeLine(aId)?.Contains(" connected", StringComparison.Ordinal) == true, "a and b know each other");

        using var peer = new FakeBusPeer();
        Assert.Equal("OK", a.Call("CLUSTER", "MEET", "127.0.0.1", "1", peer.BusPort.ToString()).Text);
        Wait.Until(() => a.NodeLine(peer.Name)?.Contains("master - ", StringComparison.Ordinal) == true, "redis renames the handshake node to our name");
        Wait.Until(() => peer.OfType(ClusterMessageType.Ping).Count(p => p.Message.Sender == aId) >= 2, "redis pings us");
        Assert.Equal(1, a.Call("PUBLISH", "news", "hello bus").Integer >= 0 ? 1 : 0);
        Wait.Until(() => peer.OfType(ClusterMessageType.Publish).Count >= 1, "redis propagates PUBLISH to us");

        var meet = peer.OfType(ClusterMessageType.Meet)[0].Message;
        Assert.Equal(aId, meet.Sender);
        Assert.Equal(a.Port, meet.Port);
        Assert.Equal(a.BusPort, meet.CPort);
        Assert.Equal(1 | 16, meet.Flags); // master, myself
        Assert.Null(meet.SlaveOf);
        Assert.Equal("node-a.test", meet.Hostname);
        Assert.True((meet.MFlags0 & ClusterMessage.Flag0ExtData) != 0);

        // Three nodes: at most one gossip entry a packet (wanted = min(max(3, n/10), n-2), wanted*3 random
        // draws that may all hit a itself), about b or about us.
        // (b learns about us from a's gossip and pings us too; its pings are checked by the byte comparison only.)
        Wait.Until(() => peer.OfType(ClusterMessageType.Ping).Any(p => p.Message.Sender == aId && p.Message.Gossip.Any(g => g.Name == bId)), "a gossips about b");
        var pings = peer.OfType(ClusterMessageType.Ping).Select(p => p.Message).Where(p => p.Sender == aId).ToList();
        Assert.All(pings, p => Assert.True(p.Gossip.Count <= 1 && p.Gossip.All(g => g.Name == bId || g.Name == peer.Name)));
        var ping = pings.First(p => p.Gossip.Any(g => g.Name == bId));
        var gossip = ping.Gossip[0];
        Assert.Equal(bId, gossip.Name);
        Assert.Equal("127.0.0.1", gossip.Ip);
        Assert.Equal(b.Port, gossip.Port);
        Assert.Equal(b.BusPort, gossip.CPort);
        Assert.Equal(1, gossip.Flags);
        Assert.Equal("node-a.test", ping.Hostname);

        Assert.Empty(peer.Refused);
        foreach (var (raw, message) in peer.Received)
        {
            Assert.Equal(raw, ClusterMessageCodec.Encode(message));
        }

        var publish = peer.OfType(ClusterMessageType.Publish)[0].Message;
        Assert.Equal("news"u8.ToArray(), publish.Channel);
        Assert.Equal("hello bus"u8.ToArray(), publish.Payload);
    }

    [Fact]
    public void RedisAcceptsOurMeetPublishUpdateAndFail()
    {
        using var members = new ClusterMembers();
        var redis = members.Add(MemberKind.Redis);
        using var peer = new FakeBusPeer { ClientPort = 7777 };
        using var other = new FakeBusPeer { ClientPort = 7778 };

        // Our MEET on redis's bus port: redis adds a handshake node, connects to our bus port, pings,
        // and renames the node to our name when our PONG arrives.
        peer.Connect(redis.BusPort, peer.Header(ClusterMessageType.Meet));
        other.Connect(redis.BusPort, other.Header(ClusterMessageType.Meet));
        Wait.Until(() => redis.NodeLine(peer.Name)?.Contains(" connected", StringComparison.Ordinal) == true, "redis lists our node");
        Wait.Until(() => redis.NodeLine(other.Name)?.Contains(" connected", StringComparison.Ordinal) == true, "redis lists the other node");
        string line = redis.NodeLine(peer.Name)!;
        Assert.StartsWith($"{peer.Name} 127.0.0.1:7777@{peer.BusPort} master - 0 ", line);
        Assert.EndsWith(" 0 connected", line);
        Assert.Empty(peer.Refused);

        // Our PUBLISH reaches a subscriber of redis.
        using var subscriber = redis.Client();
        subscriber.Call("SUBSCRIBE", "ours");
        var link = peer.Connect(redis.BusPort, peer.Header(ClusterMessageType.Ping));
        var publish = peer.Header(ClusterMessageType.Publish);
        publish.Channel = "ours"u8.ToArray();
        publish.Payload = "from the bus"u8.ToArray();
        link.Send(ClusterMessageCodec.Encode(publish));
        Assert.Equal(new string?[] { "message", "ours", "from the bus" }, subscriber.Read().Texts);

        // Our UPDATE about ourselves with a newer configEpoch gives us the slots it carries.
        var update = peer.Header(ClusterMessageType.Update);
        update.UpdateNode = peer.Name;
        update.UpdateConfigEpoch = 7;
        for (int slot = 0; slot < 100; slot++)
        {
            update.UpdateSlots[slot >> 3] |= (byte)(1 << (slot & 7));
            peer.Slots[slot >> 3] |= (byte)(1 << (slot & 7));
        }
        peer.ConfigEpoch = 7;
        link.Send(ClusterMessageCodec.Encode(update));
        Wait.Until(() => redis.NodeLine(peer.Name)?.EndsWith(" 7 connected 0-99", StringComparison.Ordinal) == true, "redis applies our UPDATE");

        // Our FAIL about the other node (silent now) makes redis flag it as failed.
        other.Dispose();
        var fail = peer.Header(ClusterMessageType.Fail);
        fail.FailingNode = other.Name;
        link.Send(ClusterMessageCodec.Encode(fail));
        Wait.Until(() => redis.NodeLine(other.Name)?.Contains(" master,fail ", StringComparison.Ordinal) == true, "redis applies our FAIL");
    }
}
