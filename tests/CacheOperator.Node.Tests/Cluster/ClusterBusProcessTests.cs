using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// The bus between separate processes: our node (cache-node.dll) and redis-server 7.0.15 joined by CLUSTER
/// MEET and ADDSLOTSRANGE over RESP, every view compared; SIGKILL of either kind is flagged FAIL by the
/// others; hostile bytes on our bus port change nothing.
/// </summary>
public sealed class ClusterBusProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-bus-process-").FullName;
    private readonly List<ClusterMember> _members = [];

    private List<ClusterMember> Form(params MemberKind[] kinds)
    {
        var members = kinds.Select(k => ClusterMember.Start(k, _directory)).ToList();
        _members.AddRange(members);
        using (var first = members[0].Client())
        {
            foreach (var member in members.Skip(1))
            {
                Assert.Equal("OK", first.Call("CLUSTER", "MEET", "127.0.0.1", member.Port.ToString(CultureInfo.InvariantCulture), member.BusPort.ToString(CultureInfo.InvariantCulture)).Text);
            }
        }
        for (int i = 0; i < members.Count; i++)
        {
            using var client = members[i].Client();
            int from = 16384 * i / members.Count, to = (16384 * (i + 1) / members.Count) - 1;
            Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", from.ToString(CultureInfo.InvariantCulture), to.ToString(CultureInfo.InvariantCulture)).Text);
        }
        ClusterWait.UntilConverged(members);
        // Same owner of every range in every member's CLUSTER NODES.
        ClusterWait.Until(
            () => members.Select(m => string.Join("|", m.Nodes().OrderBy(n => n.Id).Select(n => $"{n.Id} {n.Address} {string.Join(',', n.Flags.Where(f => f != "myself").Order())} {string.Join(' ', n.Slots)}"))).Distinct().Count() == 1,
            "every member has the same view",
            describe: () => string.Join("\n---\n", members.Select(ClusterWait.Describe)));
        return members;
    }

    [Fact]
    public void Node_and_two_redis_converge_and_a_killed_redis_is_marked_fail()
    {
        var members = Form(MemberKind.Node, MemberKind.Redis, MemberKind.Redis);
        var victim = members[2];
        string victimId = victim.Id();
        victim.Kill();
        ClusterWait.Until(
            () => members.Take(2).All(m => m.Nodes().Single(n => n.Id == victimId).Flags.Contains("fail")),
            "our node and redis flag the killed redis node FAIL", seconds: 30,
            describe: () => string.Join("\n---\n", members.Take(2).Select(ClusterWait.Describe)));
        ClusterWait.Until(() => members.Take(2).All(m => m.Info("cluster_state") == "fail"), "cluster_state:fail", seconds: 30);
    }

    [Fact]
    public void A_killed_node_process_is_marked_fail_by_redis()
    {
        var members = Form(MemberKind.Redis, MemberKind.Redis, MemberKind.Node);
        var victim = members[2];
        string victimId = victim.Id();
        victim.Kill();
        ClusterWait.Until(
            () => members.Take(2).All(m => m.Nodes().Single(n => n.Id == victimId).Flags.Contains("fail")),
            "redis flags our killed node FAIL", seconds: 30,
            describe: () => string.Join("\n---\n", members.Take(2).Select(ClusterWait.Describe)));
    }

    [Fact]
    public void Hostile_frames_on_the_bus_port_change_nothing()
    {
        var members = Form(MemberKind.Node, MemberKind.Redis, MemberKind.Redis);
        var node = members[0];
        string before = string.Join("\n", node.Nodes().Select(n => $"{n.Id} {n.Address} {n.ConfigEpoch} {string.Join(' ', n.Slots)}").Order());
        var random = new Random(7);
        var valid = new ClusterMessage { Type = ClusterMessageType.Ping, Sender = members[1].Id(), Port = 1, CPort = 2 };
        var frame = ClusterMessageCodec.Encode(valid);
        var hostile = new List<byte[]>();
        for (int i = 0; i < 20; i++)
        {
            var noise = new byte[random.Next(1, 6000)];
            random.NextBytes(noise);
            hostile.Add(noise);
        }
        hostile.Add(frame[..1000]);                                   // truncated, then the link closes
        var oversized = (byte[])frame.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(oversized.AsSpan(4), uint.MaxValue);
        hostile.Add(oversized);                                       // totlen far beyond the maximum
        var badCount = (byte[])frame.Clone();
        badCount[15] = 50;                                            // 50 gossip entries claimed, none sent
        hostile.Add(badCount);
        var badVersion = (byte[])frame.Clone();
        badVersion[9] = 9;
        hostile.Add(badVersion);
        foreach (var bytes in hostile)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Connect("127.0.0.1", node.BusPort);
            try
            {
                socket.Send(bytes);
                socket.Shutdown(SocketShutdown.Send);
                // The node closes the link after a bad frame: read until it does.
                var buffer = new byte[8192];
                socket.ReceiveTimeout = 10000;
                while (socket.Receive(buffer) > 0)
                {
                }
            }
            catch (SocketException)
            {
            }
        }
        using (var client = node.Client())
        {
            Assert.Equal("PONG", client.Call("PING").Text);
        }
        string after = string.Join("\n", node.Nodes().Select(n => $"{n.Id} {n.Address} {n.ConfigEpoch} {string.Join(' ', n.Slots)}").Order());
        Assert.Equal(before, after);
        // The node logs a refusal as it reads the frame; the log line reaches us through its stdout a moment later.
        ClusterWait.Until(() => node.Output.Contains("bad frame", StringComparison.Ordinal), "the node logs the bad frames", describe: () => node.Output);
        ClusterWait.UntilConverged(members);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var member in _members)
        {
            member.Dispose();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
