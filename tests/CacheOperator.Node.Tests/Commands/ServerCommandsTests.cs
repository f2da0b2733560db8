using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class ServerCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_answer_exactly_as_redis(int protocol)
    {
        servers.AssertSameReplies(protocol,
            ["INFO", "nosuchsection"],
            ["INFO", "a", "b"],
            ["TIME", "x"],
            ["DEBUG"],
            ["CLUSTER"],
            ["CLUSTER", "NODES"],
            ["CLUSTER", "INFO"],
            ["CONFIG"],
            ["CONFIG", "foo"],
            ["CONFIG", "GET"],
            ["CONFIG", "SET"],
            ["CONFIG", "SET", "maxmemory"],
            ["CONFIG", "SET", "foo", "bar"],
            ["CONFIG", "SET", "maxmemory", "1", "foo"],
            ["CONFIG", "SET", "maxmemory", "abc"],
            ["CONFIG", "SET", "maxmemory", "1", "maxmemory", "2"],
            ["CONFIG", "SET", "databases", "3"],
            ["CONFIG", "SET", "Databases", "3"],
            ["CONFIG", "SET", "MAXMEMORY", "abc"],
            ["CONFIG", "SET", "FOO", "bar"],
            ["CONFIG", "SET", "maxmemory", "1", "MAXMEMORY", "2"],
            ["CONFIG", "GET", "MAXMEMORY"],
            ["CONFIG", "SET", "hz", "abc"],
            ["CONFIG", "SET", "maxmemory-policy", "bad"],
            ["CONFIG", "SET", "protected-mode", "maybe"],
            ["CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "bad"],
            ["CONFIG", "GET", "maxmemory"],
            ["CONFIG", "GET", "maxmemory-policy"],
            ["CONFIG", "GET", "nosuchoption"],
            ["CONFIG", "GET", "hz"],
            ["CONFIG", "RESETSTAT", "x"],
            ["CONFIG", "HELP", "x"],
            ["COMMAND", "foo"],
            ["COMMAND", "COUNT", "x"],
            ["COMMAND", "GETKEYS"],
            ["COMMAND", "GETKEYS", "get"],
            ["COMMAND", "GETKEYS", "nosuch", "a"],
            ["COMMAND", "GETKEYS", "get", "a", "b"],
            ["COMMAND", "GETKEYS", "ping", "x"],
            ["COMMAND", "GETKEYS", "config", "get", "x"],
            ["COMMAND", "GETKEYS", "get", "a"],
            ["COMMAND", "GETKEYS", "set", "k", "v", "EX", "10"],
            ["COMMAND", "GETKEYS", "del", "a", "b", "c"],
            ["COMMAND", "INFO", "get", "nosuch", "echo", "select", "ping", "time", "info", "reset", "hello", "auth"],
            ["COMMAND", "INFO", "config|set", "client|list", "client|id", "command|docs", "config|nosuch"],
            ["COMMAND", "DOCS", "nosuch"],
            ["COMMAND", "LIST", "foo"],
            ["COMMAND", "LIST", "FILTERBY", "foo", "bar"],
            ["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"],
            ["COMMAND", "HELP", "x"]);
    }

    [Fact]
    public void Config_set_is_all_or_nothing_and_config_get_takes_patterns()
    {
        using var client = servers.Node.Client();
        try
        {
            Assert.StartsWith("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')",
                client.Call("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "bad").Text);
            Assert.Equal(["maxmemory", "0"], Strings(client.Call("CONFIG", "GET", "maxmemory")));
            Assert.Equal("OK", client.Call("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru").Text);
            Assert.Equal(["maxmemory", "10485760", "maxmemory-policy", "allkeys-lru"], Strings(client.Call("CONFIG", "GET", "maxmemory", "maxmemory-policy")));
            // As Redis: a plain name comes back spelled as asked.
            Assert.Equal(["MAXMEMORY", "10485760"], Strings(client.Call("CONFIG", "GET", "MAXMEMORY")));
            var pattern = client.Call("CONFIG", "GET", "maxmemory*", "max*", "hz");
            Assert.Equal(["hz", "maxclients", "maxmemory", "maxmemory-policy", "maxmemory-samples"], Strings(pattern).Where((_, i) => i % 2 == 0).Order(StringComparer.Ordinal));
            Assert.Equal(10, pattern.Elements.Count);
            var all = client.Call("CONFIG", "GET", "*").Texts;
            Assert.Contains("requirepass", all);
            Assert.Contains("port", all);
            Assert.Equal(RespKind.Map, ConfigGetResp3(client));
        }
        finally
        {
            client.Call("HELLO", "2");
            client.Call("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction");
        }
    }

    private static RespKind ConfigGetResp3(RespClient client)
    {
        client.Call("HELLO", "3");
        return client.Call("CONFIG", "GET", "hz").Kind;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Info_has_redis_sections_fields_and_format(int protocol)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            client.Call("HELLO", protocol.ToString(CultureInfo.InvariantCulture));
            client.Call("FLUSHALL");
            client.Call("SET", "k", "v");
            client.Call("SET", "t", "v", "EX", "100");
            client.Call("GET", "k");
            client.Call("GET", "missing");
        }
        var expected = redis.Call("INFO", "everything");
        var actual = node.Call("INFO", "everything");
        Assert.Equal(expected.Kind, actual.Kind);
        string text = actual.Text!;
        if (protocol == 3)
        {
            Assert.StartsWith("txt:", text);
            text = text[4..];
        }
        Assert.StartsWith("# Server\r\nredis_version:7.0.15\r\n", text);
        Assert.EndsWith("\r\n", text);
        Assert.DoesNotContain("\r\n\r\n\r\n", text);
        var expectedText = expected.Text!;
        var sections = Sections(text);
        foreach (var name in new[] { "Server", "Clients", "Memory", "Stats", "Replication", "CPU", "Commandstats", "Errorstats", "Latencystats", "Keyspace" })
        {
            Assert.Contains(name, sections.Keys);
        }
        // Every field we print exists in Redis 7.0's INFO (no invented names), except our allocator's absence of detail.
        var redisFields = Sections(expectedText.StartsWith("txt:", StringComparison.Ordinal) ? expectedText[4..] : expectedText)
            .SelectMany(s => s.Value.Keys).ToHashSet();
        // Per-command sections name the commands each server ran.
        foreach (var (section, fields) in sections.Where(s => s.Key is not ("Commandstats" or "Errorstats" or "Latencystats" or "Keyspace")))
        {
            foreach (var field in fields.Keys)
            {
                Assert.True(redisFields.Contains(field), $"{section}: {field} is not a Redis 7.0 INFO field");
            }
        }
        Assert.Equal("standalone", sections["Server"]["redis_mode"]);
        Assert.Equal(servers.Node.Port.ToString(CultureInfo.InvariantCulture), sections["Server"]["tcp_port"]);
        Assert.Equal(Environment.ProcessId.ToString(CultureInfo.InvariantCulture), sections["Server"]["process_id"]);
        Assert.Matches("^[0-9a-f]{40}$", sections["Server"]["run_id"]);
        Assert.Equal("master", sections["Replication"]["role"]);
        Assert.Equal("0", sections["Replication"]["connected_slaves"]);
        Assert.Equal("db0:keys=2,expires=1", string.Join(',', $"db0:{sections["Keyspace"]["db0"]}".Split(',').Take(2)));
        Assert.InRange(long.Parse(sections["Keyspace"]["db0"].Split("avg_ttl=")[1], CultureInfo.InvariantCulture), 1, 100_000);
        Assert.Matches(@"^calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$", sections["Commandstats"]["cmdstat_get"]);
        Assert.True(long.Parse(sections["Stats"]["keyspace_hits"], CultureInfo.InvariantCulture) >= 1);
        Assert.True(long.Parse(sections["Stats"]["keyspace_misses"], CultureInfo.InvariantCulture) >= 1);
        Assert.True(long.Parse(sections["Memory"]["used_memory"], CultureInfo.InvariantCulture) > 0);
        Assert.True(long.Parse(sections["Memory"]["used_memory_rss"], CultureInfo.InvariantCulture) > 0);
        Assert.Equal("0B", sections["Memory"]["maxmemory_human"]);
        Assert.Matches(@"^\d+\.\d{6}$", sections["CPU"]["used_cpu_user"]);
    }

    [Fact]
    public void Info_sections_are_selected_by_name_in_any_case()
    {
        using var client = servers.Node.Client();
        Assert.Equal("", client.Call("INFO", "nosuch").Text);
        var two = client.Call("INFO", "KEYSPACE", "server").Text!;
        Assert.StartsWith("# Server\r\n", two);
        Assert.Contains("\r\n\r\n# Keyspace\r\n", two);
        Assert.DoesNotContain("# Clients", two);
        var standard = client.Call("INFO").Text!;
        Assert.Equal(client.Call("INFO", "default").Text!.Split("\r\n").Length, standard.Split("\r\n").Length);
        Assert.DoesNotContain("# Commandstats", standard);
        Assert.Contains("# Commandstats", client.Call("INFO", "all").Text);
        Assert.Equal("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n", string.Join("\r\n", client.Call("INFO", "replication").Text!.Split("\r\n").Take(3)) + "\r\n");
    }

    [Fact]
    public void Errors_are_counted_in_errorstats_and_commandstats_and_resetstat_clears_them()
    {
        using var client = servers.Node.Client();
        Assert.Equal("OK", client.Call("CONFIG", "RESETSTAT").Text);
        client.Call("SET", "s", "v");
        client.Call("CONFIG", "SET", "foo", "bar");
        client.Call("GET");
        client.Call("NOSUCHCOMMAND");
        var info = Sections(client.Call("INFO", "commandstats", "errorstats", "stats").Text!);
        Assert.Equal("count=3", info["Errorstats"]["errorstat_ERR"]);
        Assert.Matches(@"^calls=1,.*rejected_calls=0,failed_calls=1$", info["Commandstats"]["cmdstat_config|set"]);
        Assert.Matches(@"^calls=0,usec=0,usec_per_call=0\.00,rejected_calls=1,failed_calls=0$", info["Commandstats"]["cmdstat_get"]);
        Assert.Equal("3", info["Stats"]["total_error_replies"]);
        Assert.Equal("OK", client.Call("CONFIG", "RESETSTAT").Text);
        info = Sections(client.Call("INFO", "commandstats", "errorstats", "stats").Text!);
        Assert.Empty(info["Errorstats"]);
        // As in Redis, RESETSTAT itself is counted once it has run.
        Assert.Equal(["cmdstat_config|resetstat"], info["Commandstats"].Keys);
        Assert.Equal("0", info["Stats"]["total_error_replies"]);
        Assert.Equal("0", info["Stats"]["keyspace_hits"]);
        Assert.Equal("1", info["Stats"]["total_commands_processed"]);
    }

    [Fact]
    public void Time_is_seconds_and_microseconds_as_bulk_strings()
    {
        using var client = servers.Node.Client();
        var time = client.Call("TIME");
        Assert.Equal(RespKind.Array, time.Kind);
        Assert.All(time.Elements, e => Assert.Equal(RespKind.Bulk, e.Kind));
        long seconds = long.Parse(time.Texts[0]!, CultureInfo.InvariantCulture);
        Assert.InRange(seconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        Assert.InRange(long.Parse(time.Texts[1]!, CultureInfo.InvariantCulture), 0, 999_999);
    }

    [Fact]
    public void Command_count_list_and_info_cover_every_command()
    {
        using var client = servers.Node.Client();
        long count = client.Call("COMMAND", "COUNT").Integer;
        var all = client.Call("COMMAND");
        Assert.Equal(count, all.Elements.Count);
        var names = all.Elements.Select(e => e.Elements[0].Text).ToHashSet();
        foreach (var name in new[] { "get", "set", "info", "config", "command", "client", "ping", "time", "reset" })
        {
            Assert.Contains(name, names);
        }
        var list = client.Call("COMMAND", "LIST").Texts;
        Assert.Contains("config|get", list);
        Assert.Contains("get", list);
        Assert.Equal(["config|get"], Strings(client.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "config|g*")));
        var connection = client.Call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection").Texts;
        Assert.Contains("ping", connection);
        Assert.DoesNotContain("get", connection);
        Assert.Equal(count, client.Call("COMMAND", "INFO").Elements.Count);
        var config = client.Call("COMMAND", "INFO", "config").Elements[0];
        Assert.Contains(config.Elements[9].Elements, sub => sub.Elements[0].Text == "config|get");
    }

    [Fact]
    public void Command_docs_describe_arguments_from_the_syntax()
    {
        using var client = servers.Node.Client();
        client.Call("HELLO", "3");
        var docs = client.Call("COMMAND", "DOCS", "set", "get", "config");
        Assert.Equal(RespKind.Map, docs.Kind);
        var set = Map(docs)["set"];
        var setMap = Map(set);
        Assert.Equal("string", setMap["group"].Text);
        Assert.Equal("1.0.0", setMap["since"].Text);
        Assert.Equal("O(1)", setMap["complexity"].Text);
        var args = setMap["arguments"].Elements.Select(Map).ToList();
        Assert.Equal(["key", "value"], args.Take(2).Select(a => a["name"].Text));
        Assert.Equal("key", args[0]["type"].Text);
        Assert.Equal(0, args[0]["key_spec_index"].Integer);
        Assert.Equal("string", args[1]["type"].Text);
        var condition = args[2];
        Assert.Equal("oneof", condition["type"].Text);
        Assert.Equal(["optional"], Strings(condition["flags"]));
        Assert.Equal(["NX", "XX"], condition["arguments"].Elements.Select(a => Map(a)["token"].Text));
        Assert.All(condition["arguments"].Elements, a => Assert.Equal("pure-token", Map(a)["type"].Text));
        var expiration = args.Single(a => a["type"].Text == "oneof" && a["arguments"].Elements.Any(e => Map(e)["token"].Text == "EX"));
        var ex = Map(expiration["arguments"].Elements[0]);
        Assert.Equal("seconds", ex["name"].Text);
        Assert.Equal("integer", ex["type"].Text);
        var getArgs = Map(Map(docs)["get"])["arguments"].Elements;
        Assert.Equal("key", Map(Assert.Single(getArgs))["name"].Text);
        var subcommands = Map(Map(docs)["config"])["subcommands"];
        var configSet = Map(Map(subcommands)["config|set"]);
        var pair = Map(Assert.Single(configSet["arguments"].Elements));
        Assert.Equal("block", pair["type"].Text);
        Assert.Equal(["multiple"], Strings(pair["flags"]));
        Assert.Equal(["parameter", "value"], pair["arguments"].Elements.Select(a => Map(a)["name"].Text));
        Assert.Equal(client.Call("COMMAND", "COUNT").Integer, client.Call("COMMAND", "DOCS").Elements.Count / 2);
    }

    [Fact]
    public void Command_getkeys_reads_fixed_key_positions()
    {
        using var client = servers.Node.Client();
        Assert.Equal(["a", "c"], Strings(client.Call("COMMAND", "GETKEYS", "EXISTS", "a", "c")));
        Assert.Equal(["k"], Strings(client.Call("COMMAND", "GETKEYS", "set", "k", "v", "EX", "10")));
    }

    [Fact]
    public void Help_replies_list_subcommands()
    {
        using var client = servers.Node.Client();
        foreach (var command in new[] { "CONFIG", "COMMAND" })
        {
            var help = client.Call(command, "HELP");
            Assert.Equal($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Elements[0].Text);
            Assert.All(help.Elements, e => Assert.Equal(RespKind.Simple, e.Kind));
            Assert.Equal("HELP", help.Elements[^2].Text);
        }
    }

    [Fact]
    public async Task Debug_needs_enable_debug_command_and_sleep_blocks_the_server()
    {
        await using var node = TestNode.Start("--enable-debug-command", "yes");
        using var sleeper = node.Client();
        using var other = node.Client();
        Assert.Equal("OK", sleeper.Call("DEBUG", "SLEEP", "0").Text);
        Assert.Equal("OK", sleeper.Call("DEBUG", "SLEEP", "abc").Text);
        Assert.StartsWith("ERR Unknown subcommand or wrong number of arguments for 'nosuch'", sleeper.Call("DEBUG", "nosuch").Text);
        Assert.Equal(RespKind.Array, sleeper.Call("DEBUG", "HELP").Kind);
        // While the sleep runs the whole server stops, as in Redis: a PING sent meanwhile is answered only after
        // the sleeper's OK. The sleep may not have started when a PING arrives (a loaded machine), so ping until
        // one PING overlaps it, which shows as a PING that took at least a second.
        sleeper.Send("DEBUG", "SLEEP", "2");
        long longestPingMs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (longestPingMs < 1000 && DateTime.UtcNow < deadline)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal("PONG", other.Call("PING").Text);
            longestPingMs = Math.Max(longestPingMs, watch.ElapsedMilliseconds);
        }
        Assert.True(longestPingMs >= 1000, $"no PING waited for DEBUG SLEEP 2 (longest {longestPingMs} ms)");
        Assert.Equal("OK", sleeper.Read().Text);
    }

    private static string[] Strings(RespValue reply) => reply.Texts.Select(t => t ?? "(nil)").ToArray();

    private static Dictionary<string, RespValue> Map(RespValue map)
    {
        var result = new Dictionary<string, RespValue>();
        for (int i = 0; i < map.Elements.Count; i += 2)
        {
            result[map.Elements[i].Text!] = map.Elements[i + 1];
        }
        return result;
    }

    /// <summary>INFO text as section title -> field -> value.</summary>
    internal static Dictionary<string, Dictionary<string, string>> Sections(string text)
    {
        var sections = new Dictionary<string, Dictionary<string, string>>();
        Dictionary<string, string>? current = null;
        foreach (var line in text.Split("\r\n"))
        {
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                current = sections[line[2..]] = [];
            }
            else if (line.Length > 0)
            {
                int colon = line.IndexOf(':');
                current![line[..colon]] = line[(colon + 1)..];
            }
        }
        return sections;
    }
}
