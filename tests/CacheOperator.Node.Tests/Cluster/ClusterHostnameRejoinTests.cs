using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// A full restart of every node on other addresses (as pods get new IPs): nodes.conf holds stale IPs, but the
/// nodes announce hostnames, so they find each other through them and the cluster is ok again with all slots.
/// The hostnames resolve through cluster-hostname-resolve, a resolver the test controls (no /etc/hosts).
/// </summary>
public sealed class ClusterHostnameRejoinTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-hostname-").FullName;
    private readonly List<NodeProcess> _processes = [];

    private sealed record Member(string Hostname, int Port, int BusPort, string ConfigFile);

    private NodeProcess Launch(Member member, string ip, string resolve)
    {
        var process = NodeProcess.Start(
        [
            "--port", member.Port.ToString(CultureInfo.InvariantCulture),
            // 127.0.0.1 keeps the test's clients working; the bus is reached at the announced address only.
            "--bind", $"{ip} 127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-config-file", member.ConfigFile,
            "--cluster-port", member.BusPort.ToString(CultureInfo.InvariantCulture),
            "--cluster-node-timeout", "2000",
            "--cluster-announce-ip", ip,
            "--cluster-announce-hostname", member.Hostname,
            "--cluster-hostname-resolve", resolve,
        ], port: member.Port);
        _processes.Add(process);
        return process;
    }

    private static string Call(Member member, params string[] args)
    {
        using var client = new RespClient(member.Port);
        return client.Call(args).Text ?? "";
    }

    private static bool Converged(IReadOnlyList<Member> members) => members.All(m =>
    {
        try
        {
            var nodes = ClusterNodeLine.Parse(Call(m, "CLUSTER", "NODES"));
            return Call(m, "CLUSTER", "INFO").Contains("cluster_state:ok\r\n", StringComparison.Ordinal) && nodes.Count == members.Count
                && nodes.All(n => n.Link == "connected" && !n.Flags.Contains("fail?") && !n.Flags.Contains("fail") && !n.Flags.Contains("handshake"));
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            return false;
        }
    });

    [Fact]
    public void All_nodes_restarted_on_other_addresses_find_each_other_by_hostname()
    {
        var members = Enumerable.Range(1, 3).Select(i => new Member($"node-{i}.cache.test", NodeProcess.FreePort(), NodeProcess.FreePort(), Path.Combine(_directory, $"nodes-{i}.conf"))).ToList();
        string[] before = ["127.0.0.11", "127.0.0.12", "127.0.0.13"];
        string[] after = ["127.0.0.21", "127.0.0.22", "127.0.0.23"];
        string Resolve(string[] ips) => string.Join(',', members.Select((m, i) => $"{m.Hostname}={ips[i]}"));

        var processes = members.Select((m, i) => Launch(m, before[i], Resolve(before))).ToList();
        foreach (var (member, i) in members.Skip(1).Select((m, i) => (m, i + 1)))
        {
            Assert.Equal("OK", Call(members[0], "CLUSTER", "MEET", before[i], member.Port.ToString(CultureInfo.InvariantCulture), member.BusPort.ToString(CultureInfo.InvariantCulture)));
        }
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("OK", Call(members[i], "CLUSTER", "ADDSLOTSRANGE", (16384 * i / 3).ToString(CultureInfo.InvariantCulture), ((16384 * (i + 1) / 3) - 1).ToString(CultureInfo.InvariantCulture)));
        }
        ClusterWait.Until(() => Converged(members), "the cluster forms", seconds: 60);
        var ids = members.Select(m => Call(m, "CLUSTER", "MYID")).ToList();
        Assert.Contains("node-2.cache.test", Call(members[0], "CLUSTER", "NODES"), StringComparison.Ordinal);

        foreach (var process in processes)
        {
            process.Dispose();
        }
        _processes.Clear();
        // Every node back at once, each on a new address; nodes.conf still names the old ones.
        processes = members.Select((m, i) => Launch(m, after[i], Resolve(after))).ToList();
        ClusterWait.Until(() => Converged(members), "the cluster is ok again after the full restart", seconds: 60,
            describe: () => string.Join("\n---\n", members.Select(m => Call(m, "CLUSTER", "NODES"))));
        Assert.Equal(ids, members.Select(m => Call(m, "CLUSTER", "MYID")).ToList());
        Assert.Contains(processes, p => p.Output.Contains("reached by its hostname", StringComparison.Ordinal));
        string view = Call(members[0], "CLUSTER", "NODES");
        Assert.Contains($"{after[1]}:{members[1].Port}@{members[1].BusPort},node-2.cache.test", view, StringComparison.Ordinal);
        Assert.Contains($"{after[2]}:{members[2].Port}@{members[2].BusPort},node-3.cache.test", view, StringComparison.Ordinal);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Dispose();
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
