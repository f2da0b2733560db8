using System.Diagnostics;
using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// MONITOR, CLIENT PAUSE/UNPAUSE, CLIENT UNBLOCK, CLIENT REPLY and client-output-buffer-limit against
/// redis-server 7.0.15 (each server gets the same clients and commands), and CLIENT NO-TOUCH (Redis 7.2) alone.
/// </summary>
public sealed partial class ClientControlTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Monitor_shows_the_same_lines_as_redis()
    {
        string[][] commands =
        [
            ["SET", "mon:k", "123"],
            ["GET", "mon:k"],
            ["MULTI"],
            ["SET", "mon:a", "x y"],
            ["INCR", "mon:c"],
            ["EXEC"],
            ["EXEC"],
            ["AUTH", "foo", "bar"],
            ["AUTH", "a", "b", "c", "d"],
            ["HELLO", "2", "AUTH", "user", "secret"],
            ["HELLO", "3", "foo", "AUTH", "a", "b"],
            ["HELLO", "x", "AUTH", "a", "b"],
            ["HELLO", "2", "SETNAME", "x", "AUTH"],
            ["CONFIG", "GET", "maxmemory"],
            ["CLIENT", "LIST"],
            ["CLIENT", "ID"],
            ["SELECT", "3"],
            ["SET", "mon:bin", "\u0001\"\\ \n\r\t\u0007\u0008~"],
            ["PING"],
            ["FOOBAR", "x"],
            ["GET"],
            ["SLOWLOG", "LEN"],
            ["ECHO", "é"],
            ["BLPOP", "mon:none", "0.01"],
            ["CLIENT", "SETNAME", "n"],
            ["SELECT", "0"],
            ["SET", "mon:end", "1"],
        ];
        var expected = MonitorLines(servers.Redis.Port, commands);
        var actual = MonitorLines(servers.Node.Port, commands);
        Assert.Equal(expected, actual);
        Assert.Contains("[0] \"AUTH\" \"(redacted)\" \"(redacted)\"", actual);
    }

    /// <summary>Runs <paramref name="commands"/> on one client while another monitors; the lines without time and port.</summary>
    private static List<string> MonitorLines(int port, string[][] commands)
    {
        using var monitor = new RespClient(port);
        using var client = new RespClient(port);
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        foreach (var command in commands)
        {
            client.Call(command);
        }
        var lines = new List<string>();
        string line;
        do
        {
            line = LineHead().Replace(monitor.Read().Text!, "[$1] ");
            lines.Add(line);
        }
        while (!line.Contains("mon:end", StringComparison.Ordinal));
        client.Call("DEL", "mon:k", "mon:a", "mon:c", "mon:end");
        return lines;
    }

    [Fact]
    public void A_monitor_cannot_touch_the_keyspace_as_in_redis()
    {
        string[][] commands =
        [
            ["GET", "mon:absent"], ["PING"], ["SET", "x", "1"], ["DBSIZE"], ["CLIENT", "ID"], ["MONITOR"], ["MULTI"], ["GET", "mon:absent"],
            ["ECHO", "hi"], ["DISCARD"], ["RESET"], ["GET", "mon:absent"],
        ];
        Assert.Equal(MonitorOwnReplies(servers.Redis.Port, commands), MonitorOwnReplies(servers.Node.Port, commands));
    }

    /// <summary>A monitor's replies and the lines of its own commands, up to the null of the GET after RESET.</summary>
    private static List<string> MonitorOwnReplies(int port, string[][] commands)
    {
        using var monitor = new RespClient(port);
        Assert.Equal("OK", monitor.Call("MONITOR").Text);
        foreach (var command in commands)
        {
            monitor.Send(command);
        }
        var replies = new List<string>();
        RespValue reply;
        do
        {
            reply = monitor.Read();
            replies.Add(reply.Kind == RespKind.Integer ? "integer" : LineHead().Replace(reply.ToString(), "[$1] "));
        }
        while (reply.Kind != RespKind.Null);
        return replies;
    }

    [Fact]
    public void Client_reply_on_off_skip_answers_as_redis()
    {
        string[][] commands =
        [
            ["CLIENT", "REPLY", "ON"], ["CLIENT", "REPLY", "SKIP"], ["PING", "a"], ["PING", "b"], ["CLIENT", "REPLY", "OFF"], ["PING", "c"],
            ["CLIENT", "REPLY", "foo"], ["CLIENT", "REPLY", "SKIP"], ["CLIENT", "REPLY", "ON"], ["PING", "d"], ["CLIENT", "REPLY", "foo"],
            ["CLIENT", "REPLY"], ["CLIENT", "REPLY", "on", "x"], ["CLIENT", "REPLY", "SKIP"], ["MULTI"], ["PING", "e"], ["EXEC"], ["PING", "f"],
            ["CLIENT", "REPLY", "SKIP"], ["GET"], ["PING", "end"],
        ];
        Assert.Equal(RepliesUntilEnd(servers.Redis.Port, commands), RepliesUntilEnd(servers.Node.Port, commands));
    }

    /// <summary>Sends every command without waiting, then reads whatever replies come up to the bulk "end".</summary>
    private static List<string> RepliesUntilEnd(int port, string[][] commands)
    {
        using var client = new RespClient(port);
        foreach (var command in commands)
        {
            client.Send(command);
        }
        var replies = new List<string>();
        RespValue reply;
        do
        {
            reply = client.Read();
            replies.Add(reply.ToString());
        }
        while (reply.Text != "end");
        return replies;
    }

    [Fact]
    public void Client_pause_unpause_and_unblock_refuse_bad_arguments_as_redis()
    {
        servers.AssertSameReplies(
            ["CLIENT", "PAUSE"],
            ["CLIENT", "PAUSE", "abc"],
            ["CLIENT", "PAUSE", "-1"],
            ["CLIENT", "PAUSE", "10", "foo"],
            ["CLIENT", "PAUSE", "10", "write", "x"],
            ["CLIENT", "UNPAUSE", "x"],
            ["CLIENT", "UNPAUSE"],
            ["CLIENT", "UNBLOCK"],
            ["CLIENT", "UNBLOCK", "abc"],
            ["CLIENT", "UNBLOCK", "99999"],
            ["CLIENT", "UNBLOCK", "1", "foo"],
            ["CLIENT", "UNBLOCK", "1", "timeout", "x"],
            ["CLIENT", "REPLY", "foo"]);
    }

    [Fact]
    public void Client_unblock_ends_a_blocking_pop_as_redis()
    {
        Assert.Equal(UnblockTranscript(servers.Redis.Port), UnblockTranscript(servers.Node.Port));
    }

    private static List<string> UnblockTranscript(int port)
    {
        using var blocked = new RespClient(port);
        using var admin = new RespClient(port);
        long id = blocked.Call("CLIENT", "ID").Integer;
        var transcript = new List<string>();
        foreach (var mode in new[] { "TIMEOUT", "ERROR", null })
        {
            blocked.Send("BLPOP", "unblock:list", "0");
            Wait.Until(() => ClientFlags(admin, id) == "b", "the client is blocked");
            var unblock = mode is null ? admin.Call("CLIENT", "UNBLOCK", id.ToString()) : admin.Call("CLIENT", "UNBLOCK", id.ToString(), mode);
            transcript.Add(unblock.ToString());
            transcript.Add(blocked.Read().ToString());
        }
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", id.ToString()).ToString());
        blocked.Send("BLMOVE", "unblock:list", "unblock:dst", "LEFT", "RIGHT", "0");
        Wait.Until(() => ClientFlags(admin, id) == "b", "the client is blocked in BLMOVE");
        transcript.Add(admin.Call("CLIENT", "UNBLOCK", id.ToString(), "ERROR").ToString());
        transcript.Add(blocked.Read().ToString());
        transcript.Add(blocked.Call("PING").ToString());
        return transcript;
    }

    [Fact]
    public void Client_pause_write_holds_writes_not_reads_until_unpause_as_redis()
    {
        Assert.Equal(PauseWriteTranscript(servers.Redis.Port), PauseWriteTranscript(servers.Node.Port));
    }

    private static List<string> PauseWriteTranscript(int port)
    {
        using var writer = new RespClient(port);
        using var admin = new RespClient(port);
        long id = writer.Call("CLIENT", "ID").Integer;
        var transcript = new List<string>
        {
            writer.Call("SET", "pause:k", "old").ToString(),
            admin.Call("CLIENT", "PAUSE", "60000", "WRITE").ToString(),
            // Reads go on.
            writer.Call("GET", "pause:k").ToString(),
        };
        writer.Send("SET", "pause:k", "new");
        writer.Send("GET", "pause:k");
        Wait.Until(() => ClientFlags(admin, id) == "b", "the write is held");
        transcript.Add(ClientField(admin, id, "cmd"));
        transcript.Add(admin.Call("GET", "pause:k").ToString());
        transcript.Add(admin.Call("CLIENT", "UNPAUSE").ToString());
        transcript.Add(writer.Read().ToString());
        transcript.Add(writer.Read().ToString());
        transcript.Add(admin.Call("DEL", "pause:k").ToString());
        return transcript;
    }

    [Fact]
    public void Client_pause_write_keeps_expired_keys_until_unpause_as_redis()
    {
        Assert.Equal(PausedExpiryTranscript(servers.Redis.Port), PausedExpiryTranscript(servers.Node.Port));
    }

    private static List<string> PausedExpiryTranscript(int port)
    {
        using var client = new RespClient(port);
        client.Call("SELECT", "9");
        client.Call("FLUSHDB");
        // In one transaction, so the key cannot expire before the pause starts however slow the machine.
        client.Call("MULTI");
        client.Call("SET", "pexp:k", "v", "PX", "100");
        client.Call("CLIENT", "PAUSE", "60000", "WRITE");
        var transcript = new List<string> { client.Call("EXEC").ToString() };
        Wait.Until(() => client.Call("PTTL", "pexp:k").Integer == -2, "the key has expired");
        // Expired and read as missing, yet neither the read nor active expiry deletes it during the pause.
        transcript.Add(client.Call("GET", "pexp:k").ToString());
        transcript.Add(client.Call("DBSIZE").ToString());
        transcript.Add(client.Call("CLIENT", "UNPAUSE").ToString());
        Wait.Until(() => client.Call("DBSIZE").Integer == 0, "active expiry removes the key after the pause");
        return transcript;
    }

    [Fact]
    public void Client_pause_all_holds_every_command_even_unpause_until_its_timeout_as_redis()
    {
        foreach (int port in new[] { servers.Redis.Port, servers.Node.Port })
        {
            using var admin = new RespClient(port);
            using var other = new RespClient(port);
            var clock = Stopwatch.StartNew();
            Assert.Equal("OK", admin.Call("CLIENT", "PAUSE", "400", "ALL").Text);
            Assert.Equal("OK", other.Call("CLIENT", "UNPAUSE").Text);
            Assert.Equal("PONG", admin.Call("PING").Text);
            // Held until the pause's end: it cannot have answered sooner (timers may fire a little early, by < 20 ms).
            Assert.True(clock.ElapsedMilliseconds >= 380, $"port {port}: answered after {clock.ElapsedMilliseconds} ms");
        }
    }

    [Fact]
    public void Client_output_buffer_limit_reads_and_sets_as_redis()
    {
        try
        {
            servers.AssertSameReplies(
                ["CONFIG", "GET", "client-output-buffer-limit"],
                ["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3"],
                ["CONFIG", "GET", "client-output-buffer-limit"],
                ["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb"],
                ["CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"],
                ["CONFIG", "SET", "client-output-buffer-limit", "master 1 2 3"],
                ["CONFIG", "SET", "client-output-buffer-limit", "normal x 2 3"],
                ["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2 -3"],
                ["CONFIG", "SET", "client-output-buffer-limit", "normal 1k 1 x"],
                ["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 3 replica 4gb 5k 6"],
                ["CONFIG", "SET", "client-output-buffer-limit", "slave 7 8 9 pubsub 1 2 x"],
                ["CONFIG", "SET", "client-output-buffer-limit", ""],
                ["CONFIG", "GET", "client-output-buffer-limit"],
                ["CONFIG", "SET", "client-output-buffer-limit", "NORMAL 0 0 0 REPLICA 256mb 64mb 60 PUBSUB 32mb 8mb 60"],
                ["CONFIG", "GET", "client-output-*"]);
        }
        finally
        {
            foreach (var port in new[] { servers.Redis.Port, servers.Node.Port })
            {
                using var client = new RespClient(port);
                client.Call("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60");
            }
        }
    }

    [Fact]
    public async Task Client_no_touch_leaves_the_lfu_counter_except_for_touch()
    {
        await using var node = TestNode.Start("--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0");
        using var client = node.Client();
        client.Call("SET", "nt:k", "v");
        long start = client.Call("OBJECT", "FREQ", "nt:k").Integer;
        Assert.Equal("OK", client.Call("CLIENT", "NO-TOUCH", "ON").Text);
        Assert.Contains("flags=T", client.Call("CLIENT", "INFO").Text, StringComparison.Ordinal);
        for (int i = 0; i < 5; i++)
        {
            client.Call("GET", "nt:k");
        }
        Assert.Equal(start, client.Call("OBJECT", "FREQ", "nt:k").Integer);
        client.Call("TOUCH", "nt:k");
        Assert.Equal(start + 1, client.Call("OBJECT", "FREQ", "nt:k").Integer);
        Assert.Equal("OK", client.Call("CLIENT", "NO-TOUCH", "OFF").Text);
        client.Call("GET", "nt:k");
        Assert.Equal(start + 2, client.Call("OBJECT", "FREQ", "nt:k").Integer);
        Assert.Equal("ERR syntax error", client.Call("CLIENT", "NO-TOUCH", "maybe").Text);
    }

    private static string ClientFlags(RespClient admin, long id) => ClientField(admin, id, "flags");

    private static string ClientField(RespClient admin, long id, string name)
    {
        var line = admin.Call("CLIENT", "LIST", "ID", id.ToString()).Text!;
        return line.Split(' ').Select(f => f.Split('=', 2)).First(f => f[0] == name)[1].Trim();
    }

    [GeneratedRegex(@"\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\] ")]
    private static partial Regex LineHead();
}
