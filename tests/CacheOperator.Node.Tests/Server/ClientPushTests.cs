using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>
/// The per-client outbound queue: what the server sends a client that sends nothing (here MONITOR lines)
/// arrives on both transports, and a client that never reads is closed once over its output buffer limit.
/// </summary>
public sealed partial class ClientPushTests
{
    [Fact]
    public async Task Pushes_reach_an_idle_client_on_the_epoll_loop()
    {
        await using var node = TestNode.Start();
        AssertPushesReachIdleClient(node.Port);
    }

    [Fact]
    public void Pushes_reach_an_idle_client_on_dotnet_sockets()
    {
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1"],
            environment: new Dictionary<string, string> { ["CACHE_NODE_TRANSPORT"] = "sockets" });
        AssertPushesReachIdleClient(node.Port);
    }

    /// <summary>The monitor sends MONITOR once, then only reads: each line comes because another client ran a command.</summary>
    private static void AssertPushesReachIdleClient(int port)
    {
        using var monitor = new RespClient(port);
        using var other = new RespClient(port);
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("OK", other.Call("SET", $"push:{i}", "v").Text);
            // RespClient's 10 s receive timeout is the deadline: the line must come without the monitor sending anything.
            var line = monitor.Read();
            Assert.Equal(RespKind.Simple, line.Kind);
            Assert.Matches(MonitorLine(), line.Text!);
            Assert.EndsWith($"\"SET\" \"push:{i}\" \"v\"", line.Text!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_monitor_that_never_reads_is_closed_over_its_limit_and_the_node_keeps_serving()
    {
        await using var node = TestNode.Start();
        var log = new StringBuilder();
        node.Server.Log.Output = TextWriter.Synchronized(new StringWriter(log));
        using var writer = node.Client();
        // A soft limit of one byte held for an hour: omem shows what waits, nobody is closed yet.
        Assert.Equal("OK", writer.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1 3600").Text);

        using var monitor = new TcpClient();
        monitor.ReceiveBufferSize = 4096;
        monitor.Connect("127.0.0.1", node.Port);
        monitor.GetStream().Write(RespClient.Encode("MONITOR"));
        long monitorId = 0;
        Wait.Until(() => (monitorId = FindClient(writer, "O")?.Id ?? 0) != 0, "the client is in MONITOR mode");

        // Each SET's monitor line is about 64 KiB: socket buffers and the connection's pipe fill, then the queue grows.
        var value = new string('x', 64 * 1024);
        int sets = 0;
        Wait.Until(() =>
        {
            for (int i = 0; i < 16; i++)
            {
                writer.Call("SET", $"big:{sets++}", value);
            }
            return FindClient(writer, "O") is { Omem: > 0 } client && client.TotMem >= client.Omem;
        }, "the monitor's queued output shows in omem");

        Assert.Equal("OK", writer.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 0 0").Text);
        Wait.Until(() =>
        {
            writer.Call("SET", $"big:{sets++}", value);
            return FindClient(writer, "O") is null;
        }, "the monitor is closed over its hard limit");

        Assert.Matches($"Client id={monitorId} addr=.* scheduled to be closed ASAP for overcoming of output buffer limits\\.", log.ToString());
        using var fresh = node.Client();
        Assert.Equal("PONG", fresh.Call("PING").Text);
        Assert.Equal(value.Length, writer.Call("STRLEN", "big:0").Integer);
    }

    private static (long Id, long Omem, long TotMem)? FindClient(RespClient client, string flags)
    {
        foreach (var line in client.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f.Length > 1 ? f[1] : "");
            if (fields["flags"] == flags)
            {
                return (long.Parse(fields["id"]), long.Parse(fields["omem"]), long.Parse(fields["tot-mem"]));
            }
        }
        return null;
    }

    [GeneratedRegex(@"^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] ")]
    private static partial Regex MonitorLine();
}
