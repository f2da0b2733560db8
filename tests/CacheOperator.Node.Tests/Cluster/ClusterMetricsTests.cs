using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Monitoring;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// Two of our nodes in cluster mode in the test process, each with its metrics endpoint, formed into one cluster over
/// the real bus (a: slots 0-8191, b: 8192-16383). The tests change counters only by deltas, so they do not depend on each other.
/// </summary>
public sealed class TwoNodeMetricsCluster : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cluster-metrics-").FullName;

    /// <summary>The node serving slots 0-8191.</summary>
    public MonitoredNode A { get; private set; } = null!;

    /// <summary>The node serving slots 8192-16383.</summary>
    public MonitoredNode B { get; private set; } = null!;

    /// <inheritdoc/>
    public async Task InitializeAsync()
    {
        A = await StartAsync("a", "epoll");
        // In one process, nodes on the epoll transport share its I/O thread, where a MIGRATE waits for its target's
        // reply: the target runs on .NET's sockets so the two can migrate keys to each other.
        B = await StartAsync("b", "sockets");
        using var a = A.Client();
        using var b = B.Client();
        // Distinct config epochs, as redis-cli --cluster create gives them: no collision to resolve later.
        Assert.Equal("OK", a.Call("CLUSTER", "SET-CONFIG-EPOCH", "1").Text);
        Assert.Equal("OK", b.Call("CLUSTER", "SET-CONFIG-EPOCH", "2").Text);
        Assert.Equal("OK", a.Call("CLUSTER", "ADDSLOTSRANGE", "0", "8191").Text);
        Assert.Equal("OK", b.Call("CLUSTER", "ADDSLOTSRANGE", "8192", "16383").Text);
        Assert.Equal("OK", a.Call("CLUSTER", "MEET", "127.0.0.1", B.Server.Port.ToString(CultureInfo.InvariantCulture), B.Server.Bus!.Port.ToString(CultureInfo.InvariantCulture)).Text);
        ClusterWait.Until(
            () => new[] { A, B }.All(n => Info(n)["cluster_state"] == "ok" && Info(n)["cluster_known_nodes"] == "2" && Info(n)["cluster_current_epoch"] == "2"),
            "both nodes report cluster_state:ok, 2 known nodes and current epoch 2",
            describe: () => $"a:\n{InfoText(A)}\nb:\n{InfoText(B)}");
    }

    /// <summary>A node's CLUSTER INFO fields.</summary>
    public static Dictionary<string, string> Info(MonitoredNode node) => InfoText(node)
        .Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(':', 2))
        .ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);

    private static string InfoText(MonitoredNode node)
    {
        using var client = node.Client();
        return client.Call("CLUSTER", "INFO").Text!;
    }

    private async Task<MonitoredNode> StartAsync(string name, string transport) => await MonitoredNode.StartAsync(
        "--network-transport", transport,
        "--cluster-enabled", "yes",
        "--cluster-config-file", Path.Combine(_directory, $"nodes-{name}.conf"),
        "--cluster-port", NodeProcess.FreePort().ToString(CultureInfo.InvariantCulture),
        "--cluster-node-timeout", "5000");

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        if (A is not null)
        {
            await A.DisposeAsync();
        }
        if (B is not null)
        {
            await B.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>
/// The cluster metrics on /metrics of a node in cluster mode: they agree with CLUSTER INFO, and MOVED/ASK replies,
/// hostile bus frames and MIGRATE move their counters.
/// </summary>
public sealed partial class ClusterMetricsTests(TwoNodeMetricsCluster cluster) : IClassFixture<TwoNodeMetricsCluster>
{
    /// <summary>A scrape of /metrics as samples, over HttpClient's synchronous API (it is polled from Wait.Until).</summary>
    private static Dictionary<string, double> Scrape(MonitoredNode node) => MonitoredNode.Samples(ScrapeText(node));

    private static string ScrapeText(MonitoredNode node)
    {
        using var response = node.Http.Send(new HttpRequestMessage(HttpMethod.Get, "/metrics"));
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(response.Content.ReadAsStream());
        return reader.ReadToEnd();
    }

    private static double Sample(MonitoredNode node, string series) =>
        Scrape(node).TryGetValue(series, out double value) ? value : throw new InvalidOperationException($"no sample {series}");

    /// <summary>A key of the given hash tag's slot, whose slot falls in [first, last].</summary>
    private static string TagIn(int first, int last) => Enumerable.Range(0, 1000).Select(i => "{t" + i + "}")
        .First(tag => HashSlot.Of(Encoding.ASCII.GetBytes(tag)) is var slot && slot >= first && slot <= last);

    [Fact]
    public void State_slots_nodes_and_epochs_agree_with_cluster_info()
    {
        string[] fields = ["cluster_state", "cluster_slots_assigned", "cluster_slots_ok", "cluster_slots_pfail", "cluster_slots_fail", "cluster_known_nodes", "cluster_size", "cluster_current_epoch", "cluster_my_epoch"];
        foreach (var node in new[] { cluster.A, cluster.B })
        {
            // A scrape between two equal CLUSTER INFOs (epochs move when another test finishes a slot migration).
            Dictionary<string, string> info = [];
            Dictionary<string, double> samples = [];
            Wait.Until(
                () =>
                {
                    info = TwoNodeMetricsCluster.Info(node);
                    samples = Scrape(node);
                    var after = TwoNodeMetricsCluster.Info(node);
                    return fields.All(f => info[f] == after[f]);
                },
                "CLUSTER INFO holds still around a scrape");
            Assert.Equal("ok", info["cluster_state"]);
            Assert.Equal(1, samples["cache_cluster_state"]);
            Assert.Equal(Number(info, "cluster_slots_assigned"), samples["cache_cluster_slots_assigned"]);
            Assert.Equal(Number(info, "cluster_slots_ok"), samples["cache_cluster_slots{state=\"ok\"}"]);
            Assert.Equal(Number(info, "cluster_slots_pfail"), samples["cache_cluster_slots{state=\"pfail\"}"]);
            Assert.Equal(Number(info, "cluster_slots_fail"), samples["cache_cluster_slots{state=\"fail\"}"]);
            Assert.Equal(HashSlot.Count, samples["cache_cluster_slots_assigned"]);
            Assert.Equal(HashSlot.Count, samples["cache_cluster_slots{state=\"ok\"}"]);
            Assert.Equal(Number(info, "cluster_known_nodes"), samples["cache_cluster_known_nodes"]);
            Assert.Equal(2, samples["cache_cluster_known_nodes"]);
            Assert.Equal(Number(info, "cluster_size"), samples["cache_cluster_size"]);
            Assert.Equal(2, samples["cache_cluster_size"]);
            Assert.Equal(Number(info, "cluster_current_epoch"), samples["cache_cluster_current_epoch"]);
            Assert.Equal(Number(info, "cluster_my_epoch"), samples["cache_cluster_my_epoch"]);
            Assert.True(samples["cache_cluster_my_epoch"] >= 1);
        }
    }

    [Fact]
    public void Bus_message_counters_lie_between_two_cluster_infos_and_grow()
    {
        var node = cluster.A;
        var before = TwoNodeMetricsCluster.Info(node);
        var samples = Scrape(node);
        var after = TwoNodeMetricsCluster.Info(node);
        // Every type is exported, zeros included, under CLUSTER INFO's name; each lies between the two CLUSTER INFOs.
        foreach (var name in BusMessageTypes.Names)
        {
            foreach (var direction in new[] { "sent", "received" })
            {
                double value = samples[$"cache_cluster_bus_messages_{direction}_total{{type=\"{name}\"}}"];
                string field = $"cluster_stats_messages_{name}_{direction}";
                Assert.InRange(value, Number(before, field), Number(after, field));
            }
        }
        Assert.True(samples["cache_cluster_bus_messages_sent_total{type=\"meet\"}"] >= 1, "a sent MEET");
        Assert.True(Sample(cluster.B, "cache_cluster_bus_messages_received_total{type=\"meet\"}") >= 1, "b received a MEET");
        double pingsSent = samples["cache_cluster_bus_messages_sent_total{type=\"ping\"}"];
        double pongsReceived = samples["cache_cluster_bus_messages_received_total{type=\"pong\"}"];
        Assert.True(pingsSent > 0 && pongsReceived > 0);
        Wait.Until(
            () => Scrape(node) is var later
                && later["cache_cluster_bus_messages_sent_total{type=\"ping\"}"] > pingsSent
                && later["cache_cluster_bus_messages_received_total{type=\"pong\"}"] > pongsReceived,
            "a's pings sent and pongs received grow");
    }

    [Fact]
    public void A_moved_and_an_ask_redirection_count_by_type()
    {
        var a = cluster.A;
        string keyOfB = TagIn(8192, 16383) + "moved";
        double moved = Sample(a, "cache_cluster_redirections_total{type=\"moved\"}");
        double ask = Sample(a, "cache_cluster_redirections_total{type=\"ask\"}");
        using (var client = a.Client())
        {
            var reply = client.Call("GET", keyOfB);
            Assert.True(reply.IsError && reply.Text!.StartsWith("MOVED ", StringComparison.Ordinal), reply.ToString());
        }
        Wait.Until(() => Sample(a, "cache_cluster_redirections_total{type=\"moved\"}") == moved + 1, "the MOVED counter counts the MOVED reply");
        Assert.Equal(ask, Sample(a, "cache_cluster_redirections_total{type=\"ask\"}"));

        // ASK: a missing key of a slot a is migrating to b.
        string tag = TagIn(0, 8191);
        int slot = HashSlot.Of(Encoding.ASCII.GetBytes(tag));
        string bId = Id(cluster.B);
        using (var client = a.Client())
        {
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", slot.ToString(CultureInfo.InvariantCulture), "MIGRATING", bId).Text);
            try
            {
                var reply = client.Call("GET", tag + "missing");
                Assert.True(reply.IsError && reply.Text!.StartsWith("ASK ", StringComparison.Ordinal), reply.ToString());
            }
            finally
            {
                Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", slot.ToString(CultureInfo.InvariantCulture), "STABLE").Text);
            }
        }
        Wait.Until(() => Sample(a, "cache_cluster_redirections_total{type=\"ask\"}") == ask + 1, "the ASK counter counts the ASK reply");
        Assert.Equal(moved + 1, Sample(a, "cache_cluster_redirections_total{type=\"moved\"}"));
    }

    [Fact]
    public void Hostile_frames_on_the_bus_port_count_by_reason()
    {
        var a = cluster.A;
        const string BadSignature = "cache_cluster_bus_frames_rejected_total{reason=\"bad_signature\"}";
        const string Truncated = "cache_cluster_bus_frames_rejected_total{reason=\"truncated\"}";
        var before = Scrape(a);
        Assert.Equal(
            ["bad_signature", "bad_total_length", "bad_version", "extension_overrun", "extension_padding", "length_mismatch", "too_short", "truncated"],
            before.Keys.Where(k => k.StartsWith("cache_cluster_bus_frames_rejected_total{", StringComparison.Ordinal))
                .Select(k => RejectionReason().Match(k).Groups[1].Value).Order());

        SendToBus(a, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Wait.Until(() => Sample(a, BadSignature) == before[BadSignature] + 1, "a bad signature counts once");

        // A frame's prefix announcing 3000 bytes, then the link closes after 100 of them.
        var partial = new byte[100];
        "RCmb"u8.CopyTo(partial);
        BinaryPrimitives.WriteUInt32BigEndian(partial.AsSpan(4), 3000);
        SendToBus(a, partial);
        Wait.Until(() => Sample(a, Truncated) == before[Truncated] + 1, "a truncated frame counts once");
        Assert.Equal(before[BadSignature] + 1, Sample(a, BadSignature));

        using var client = a.Client();
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.Equal("ok", TwoNodeMetricsCluster.Info(a)["cluster_state"]);
    }

    [Fact]
    public void Migrate_counts_keys_sent_on_the_source_and_received_on_the_target()
    {
        var (a, b) = (cluster.A, cluster.B);
        const string Sent = "cache_cluster_migrated_keys_total{direction=\"sent\"}";
        const string Received = "cache_cluster_migrated_keys_total{direction=\"received\"}";
        double sentBefore = Sample(a, Sent);
        double receivedBefore = Sample(b, Received);
        double bSentBefore = Sample(b, Sent);

        // The slot of a tag that no other test uses, moved from a to b as redis-cli --cluster reshard moves it.
        string tag = Enumerable.Range(500, 500).Select(i => "{t" + i + "}").First(t => HashSlot.Of(Encoding.ASCII.GetBytes(t)) < 8192);
        string slot = HashSlot.Of(Encoding.ASCII.GetBytes(tag)).ToString(CultureInfo.InvariantCulture);
        string[] keys = [tag + "1", tag + "2", tag + "3"];
        string aId = Id(a), bId = Id(b);
        using var ca = a.Client();
        using var cb = b.Client();
        foreach (var key in keys)
        {
            Assert.Equal("OK", ca.Call("SET", key, "v-" + key).Text);
        }
        Assert.Equal("OK", cb.Call("CLUSTER", "SETSLOT", slot, "IMPORTING", aId).Text);
        Assert.Equal("OK", ca.Call("CLUSTER", "SETSLOT", slot, "MIGRATING", bId).Text);
        Assert.Equal("OK", ca.Call(["MIGRATE", "127.0.0.1", b.Server.Port.ToString(CultureInfo.InvariantCulture), "", "0", "10000", "KEYS", .. keys]).Text);
        Assert.Equal("OK", cb.Call("CLUSTER", "SETSLOT", slot, "NODE", bId).Text);
        Assert.Equal("OK", ca.Call("CLUSTER", "SETSLOT", slot, "NODE", bId).Text);

        Wait.Until(() => Sample(a, Sent) == sentBefore + 3, "a counts 3 keys sent");
        Wait.Until(() => Sample(b, Received) == receivedBefore + 3, "b counts 3 keys received by RESTORE-ASKING");
        Assert.Equal(bSentBefore, Sample(b, Sent));
        Assert.Equal("v-" + keys[0], cb.Call("GET", keys[0]).Text);

        // The slot goes back, so that the cluster is as the fixture formed it (b sends, a receives).
        double aReceivedBefore = Sample(a, Received);
        Assert.Equal("OK", ca.Call("CLUSTER", "SETSLOT", slot, "IMPORTING", bId).Text);
        Assert.Equal("OK", cb.Call("CLUSTER", "SETSLOT", slot, "MIGRATING", aId).Text);
        Assert.Equal("OK", cb.Call(["MIGRATE", "127.0.0.1", a.Server.Port.ToString(CultureInfo.InvariantCulture), "", "0", "10000", "KEYS", .. keys]).Text);
        Assert.Equal("OK", ca.Call("CLUSTER", "SETSLOT", slot, "NODE", aId).Text);
        Assert.Equal("OK", cb.Call("CLUSTER", "SETSLOT", slot, "NODE", aId).Text);
        Wait.Until(() => Sample(b, Sent) == bSentBefore + 3 && Sample(a, Received) == aReceivedBefore + 3, "b counts 3 sent back, a 3 received");
        ClusterWait.Until(() => TwoNodeMetricsCluster.Info(a)["cluster_state"] == "ok" && TwoNodeMetricsCluster.Info(b)["cluster_state"] == "ok", "the cluster is ok again");
    }

    [Fact]
    public void Exported_names_and_types_are_the_definitions_and_promtool_finds_nothing()
    {
        string scrape = ScrapeText(cluster.A);
        var types = TypeLine().Matches(scrape).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        types.Remove("target_info");
        // The standalone metrics with samples in any node (the command metrics need a command) plus every cluster metric.
        var expected = NodeMetrics.Definitions.Concat(NodeMetrics.ClusterDefinitions)
            .Where(d => types.ContainsKey(d.Name) || d.Name.StartsWith("cache_cluster_", StringComparison.Ordinal))
            .ToDictionary(d => d.Name, d => d.Kind.ToString().ToLowerInvariant());
        Assert.Equal(expected.OrderBy(p => p.Key), types.OrderBy(p => p.Key));
        Assert.All(NodeMetrics.ClusterDefinitions, d => Assert.StartsWith("cache_cluster_", d.Name, StringComparison.Ordinal));

        var promtool = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(promtool)!;
        process.StandardInput.Write(scrape);
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0 && output.Trim().Length == 0, "promtool check metrics: " + output);
    }

    [Fact]
    public async Task A_standalone_node_exports_no_cluster_metric()
    {
        await using var node = await MonitoredNode.StartAsync();
        Assert.DoesNotContain("cache_cluster_", await node.ScrapeAsync(), StringComparison.Ordinal);
    }

    private static double Number(Dictionary<string, string> info, string field) =>
        info.TryGetValue(field, out string? text) ? double.Parse(text, CultureInfo.InvariantCulture) : 0; // CLUSTER INFO leaves zero message counts out

    private static string Id(MonitoredNode node)
    {
        using var client = node.Client();
        return client.Call("CLUSTER", "MYID").Text!;
    }

    /// <summary>Connects to the node's bus port, sends <paramref name="bytes"/>, closes its side, and reads until the node closes the link.</summary>
    private static void SendToBus(MonitoredNode node, byte[] bytes)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Connect("127.0.0.1", node.Server.Bus!.Port);
        socket.Send(bytes);
        socket.Shutdown(SocketShutdown.Send);
        socket.ReceiveTimeout = 30000;
        var buffer = new byte[4096];
        try
        {
            while (socket.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the node: closed as well.
        }
    }

    [GeneratedRegex(@"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex("reason=\"([a-z_]+)\"")]
    private static partial Regex RejectionReason();
}
