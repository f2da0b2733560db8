using System.Diagnostics;
using System.Net.Sockets;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>The node as a real process: configuration file and options, start-up errors, signals, auth and client limits.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cache-node-process-").FullName;

    private string WriteConfig(string text)
    {
        string path = Path.Combine(_directory, $"node-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Config_file_as_first_argument_is_read_and_the_command_line_wins()
    {
        string file = WriteConfig("# a comment\nport {port}\nbind 127.0.0.1\nmaxmemory 10mb\n\nhz 20\nmaxmemory-policy allkeys-lru\n");
        int port = NodeProcess.FreePort();
        File.WriteAllText(file, File.ReadAllText(file).Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        using var node = NodeProcess.Start([file, "--hz", "30"], port: port);
        using var client = new RespClient(node.Port);
        Assert.Equal(["maxmemory", "10485760"], Strings(client.Call("CONFIG", "GET", "maxmemory")));
        Assert.Equal(["hz", "30"], Strings(client.Call("CONFIG", "GET", "hz")));
        Assert.Equal(["maxmemory-policy", "allkeys-lru"], Strings(client.Call("CONFIG", "GET", "maxmemory-policy")));
        Assert.Contains($"config_file:{file}\r\n", client.Call("INFO", "server").Text);
    }

    [Fact]
    public void Config_file_given_with_config_option_is_read()
    {
        string file = WriteConfig("maxclients 77\ntimeout 5\n");
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--config", file, "--timeout", "9"]);
        using var client = new RespClient(node.Port);
        Assert.Equal(["maxclients", "77"], Strings(client.Call("CONFIG", "GET", "maxclients")));
        Assert.Equal(["timeout", "9"], Strings(client.Call("CONFIG", "GET", "timeout")));
        Assert.Contains("maxclients:77\r\n", client.Call("INFO", "clients").Text);
    }

    [Theory]
    [InlineData("port 7000\nnosuchdirective yes\n", 2, "nosuchdirective yes")]
    [InlineData("hz 10\nmaxmemory lots\n", 2, "maxmemory lots")]
    [InlineData("\n\n\nhz 10 20\n", 4, "hz 10 20")]
    [InlineData("appendonly maybe\n", 1, "appendonly maybe")]
    public void Bad_directive_exits_non_zero_with_redis_fatal_error_naming_line_and_directive(string text, int line, string shown)
    {
        string file = WriteConfig(text);
        using var node = NodeProcess.Start([file, "--port", "{port}"], waitUntilReady: false);
        Assert.NotEqual(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains($"*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line}\n>>> '{shown}'\n", node.Output.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("Ready to accept connections", node.Output);
    }

    [Fact]
    public void A_second_node_on_a_port_in_use_exits_and_the_first_keeps_every_client()
    {
        // As redis-server: the port is the node's alone. (SO_REUSEPORT would let both listen and split the clients.)
        using var first = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1"]);
        using var second = NodeProcess.Start(["--port", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"], waitUntilReady: false, port: first.Port);
        Assert.NotEqual(0, second.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("Address already in use", second.Output);
        Assert.DoesNotContain("Ready to accept connections", second.Output);
        using var client = new RespClient(first.Port);
        Assert.Equal("OK", client.Call("SET", "owner", "first").Text);
        for (int i = 0; i < 20; i++)
        {
            using var another = new RespClient(first.Port);
            Assert.Equal("first", another.Call("GET", "owner").Text);
        }
    }

    [Fact]
    public void Missing_config_file_and_bad_option_exit_non_zero()
    {
        using var missing = NodeProcess.Start([Path.Combine(_directory, "missing.conf")], waitUntilReady: false);
        Assert.NotEqual(0, missing.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("missing.conf", missing.Output);
        using var option = NodeProcess.Start(["--port", "{port}", "--nosuchoption", "1"], waitUntilReady: false);
        Assert.NotEqual(0, option.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("nosuchoption", option.Output);
    }

    [Fact]
    public void Sigterm_stops_the_server_with_exit_code_0()
    {
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1"]);
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal("PONG", client.Call("PING").Text);
        }
        using (var kill = Process.Start("kill", ["-TERM", node.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
            Assert.Equal(0, kill.ExitCode);
        }
        Assert.Equal(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("Server stopped", node.Output);
    }

    [Fact]
    public void Requirepass_demands_auth_before_commands()
    {
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--requirepass", "s3cret"]);
        using var client = new RespClient(node.Port);
        Assert.Equal("NOAUTH Authentication required.", client.Call("GET", "k").Text);
        Assert.Equal("NOAUTH Authentication required.", client.Call("CLIENT", "ID").Text);
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", client.Call("AUTH", "wrong").Text);
        Assert.Equal("WRONGPASS invalid username-password pair or user is disabled.", client.Call("AUTH", "other", "s3cret").Text);
        Assert.StartsWith("NOAUTH HELLO must be called with the client already authenticated", client.Call("HELLO", "3").Text);
        Assert.Equal("OK", client.Call("AUTH", "s3cret").Text);
        Assert.Equal(RespKind.Null, client.Call("GET", "k").Kind);

        using var hello = new RespClient(node.Port);
        var reply = hello.Call("HELLO", "3", "AUTH", "default", "s3cret");
        Assert.Equal(RespKind.Map, reply.Kind);
        Assert.Equal("PONG", hello.Call("PING").Text);
        Assert.Equal(RespKind.Null, hello.Call("GET", "k").Kind);
    }

    [Fact]
    public void Maxclients_refuses_extra_connections_with_redis_text()
    {
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--maxclients", "1"]);
        using var first = new RespClient(node.Port);
        Assert.Equal("PONG", first.Call("PING").Text);
        using var second = new RespClient(node.Port);
        var refusal = second.Read();
        Assert.Equal(RespKind.Error, refusal.Kind);
        Assert.Equal("ERR max number of clients reached", refusal.Text);
        Assert.Equal("PONG", first.Call("PING").Text);
        Assert.Contains("rejected_connections:1\r\n", first.Call("INFO", "stats").Text);
    }

    [Fact]
    public void Timeout_closes_idle_clients_only()
    {
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--timeout", "1"]);
        using var idle = new TcpClient("127.0.0.1", node.Port);
        idle.ReceiveTimeout = 30_000;
        idle.GetStream().Write("PING\r\n"u8);
        var buffer = new byte[64];
        Assert.Equal("+PONG\r\n", System.Text.Encoding.ASCII.GetString(buffer, 0, idle.GetStream().Read(buffer)));
        // The next read ends with 0 bytes when the server closes the idle connection (a receive timeout would throw instead).
        Assert.Equal(0, idle.GetStream().Read(buffer));
    }

    private static string[] Strings(RespValue reply) => reply.Texts.Select(t => t ?? "(nil)").ToArray();

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
