using System.Text.Json;
using CacheOperator.Node.Server;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Monitoring;

/// <summary>SLOWLOG, LATENCY and structured logs.</summary>
public sealed class DiagnosticsTests
{
    [Fact]
    public async Task Slowlog_records_commands_over_the_threshold()
    {
        await using var node = TestNode.Start("--slowlog-log-slower-than", "0", "--slowlog-max-len", "3");
        using var c = node.Client();
        c.Call("CLIENT", "SETNAME", "tester");
        c.Call("SET", "key", new string('x', 200));
        c.Call("GET", "key");
        var entries = c.Call("SLOWLOG", "GET").Elements;
        Assert.Equal(3, entries.Count);
        var newest = entries[0].Elements;
        Assert.Equal(6, newest.Count);
        Assert.Equal(new string?[] { "GET", "key" }, newest[3].Texts);
        Assert.Equal("tester", newest[5].Text);
        Assert.StartsWith("127.0.0.1:", newest[4].Text, StringComparison.Ordinal);
        var set = entries[1].Elements[3].Texts;
        Assert.Equal(new string('x', 128) + "... (72 more bytes)", set[2]);
        Assert.True(entries[0].Elements[0].Integer > entries[1].Elements[0].Integer);
        Assert.Single(c.Call("SLOWLOG", "GET", "1").Elements);
        Assert.Equal(3, c.Call("SLOWLOG", "LEN").Integer);
        Assert.Equal("OK", c.Call("SLOWLOG", "RESET").Text);
        c.Call("CONFIG", "SET", "slowlog-log-slower-than", "-1");
        c.Call("GET", "key");
        // As in Redis, the RESET itself is the first entry of the new log; nothing after the threshold went off.
        var left = Assert.Single(c.Call("SLOWLOG", "GET").Elements);
        Assert.Equal(new string?[] { "SLOWLOG", "RESET" }, left.Elements[3].Texts);
    }

    [Fact]
    public async Task Latency_monitor_records_slow_commands()
    {
        // A threshold well above what a cold (JIT-compiling) command takes on a loaded machine, and a sleep well above it.
        await using var node = TestNode.Start("--latency-monitor-threshold", "50", "--enable-debug-command", "yes");
        using var c = node.Client();
        c.Call("DEBUG", "SLEEP", "0.2");
        var latest = c.Call("LATENCY", "LATEST").Elements;
        var command = Assert.Single(latest, e => e.Elements[0].Text == "command");
        Assert.True(command.Elements[2].Integer >= 200);
        Assert.Contains(c.Call("LATENCY", "HISTORY", "command").Elements, e => e.Elements[1].Integer >= 200);
        Assert.Contains("command", c.Call("LATENCY", "DOCTOR").Text, StringComparison.Ordinal);
        Assert.True(c.Call("LATENCY", "RESET").Integer >= 1);
        Assert.Empty(c.Call("LATENCY", "LATEST").Elements);
    }

    [Fact]
    public void Json_log_lines_carry_the_event_fields()
    {
        var output = new StringWriter();
        var log = new NodeLog { Format = LogFormat.Json, Output = output };
        log.Event(LogLevel.Warning, "memory_pressure", "Used memory is over maxmemory", ("used_memory", 123L), ("policy", "allkeys-lru"));
        log.Verbose("hidden");
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("warning", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("memory_pressure", json.RootElement.GetProperty("event").GetString());
        Assert.Equal(123, json.RootElement.GetProperty("used_memory").GetInt64());
        Assert.Equal("allkeys-lru", json.RootElement.GetProperty("policy").GetString());
        Assert.True(DateTimeOffset.TryParse(json.RootElement.GetProperty("ts").GetString(), out _));
    }

    [Fact]
    public void Text_log_lines_are_logfmt_with_values_quoted_when_they_hold_spaces()
    {
        var output = new StringWriter();
        var log = new NodeLog { Format = LogFormat.Text, Output = output };
        log.Event(LogLevel.Notice, "shutdown", "Shutting down", ("reason", "SHUTDOWN from client id=2"), ("port", 6379));
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)).TrimEnd('\r');
        Assert.Matches(@"^\S+Z notice Shutting down reason=""SHUTDOWN from client id=2"" port=6379$", line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a b")]
    [InlineData("say \"hi\"")]
    [InlineData("k=v")]
    [InlineData("tab\tnew\nline \\ <html> & 'quote' é 日本 \u0001")]
    public void Text_log_quotes_values_as_json_strings(string value)
    {
        var output = new StringWriter();
        var log = new NodeLog { Format = LogFormat.Text, Output = output };
        log.Event(LogLevel.Notice, "e", "m", ("v", value));
        string line = output.ToString().TrimEnd('\r', '\n');
        Assert.Equal(JsonSerializer.Serialize(value), line[(line.IndexOf(" v=", StringComparison.Ordinal) + 3)..]);
    }

    [Fact]
    public async Task Config_changes_and_eviction_pressure_are_logged()
    {
        var output = new StringWriter();
        var config = new Configuration.NodeConfig();
        Configuration.ConfigLoader.Load(config, ["--port", "0", "--bind", "127.0.0.1", "--maxmemory-policy", "allkeys-random"]);
        await using var server = new NodeServer(config, new NodeLog { Format = LogFormat.Json, Output = output });
        server.Start();
        using var c = new RespClient(server.Port);
        Memory.EvictionTests.Fill(c, "k:", 200);
        c.Call("CONFIG", "SET", "maxmemory", "100kb");
        c.Call("SET", "more", "x");
        var events = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()).ToList();
        Assert.Contains("startup", events);
        Assert.Contains("config_change", events);
        Assert.Single(events, e => e == "memory_pressure");
    }
}
