using System.Diagnostics;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>
/// Directives that cannot be used stop start-up with redis-server 7.0.15's own fatal error text, from a config file
/// or the command line, compared with the real redis-server; directives Redis knows but the node does not implement
/// are refused (never silently accepted) in files, on the command line and by CONFIG SET.
/// </summary>
public sealed class ConfigRefusalTests(RedisAndNode servers) : IClassFixture<RedisAndNode>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cache-node-config-").FullName;

    /// <summary>Directives redis-server 7.0 implements and the node does not: refused by name everywhere.</summary>
    public static TheoryData<string, string> UnimplementedDirectives => new()
    {
        { "rdb-del-sync-files", "yes" },
        { "appendfsync", "always" },
        { "lazyfree-lazy-server-del", "yes" },
        { "activedefrag", "yes" },
        { "active-expire-effort", "5" },
        { "set-max-listpack-entries", "5" },
    };

    private string WriteConfig(string text)
    {
        string path = Path.Combine(_directory, $"bad-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The fatal error block a process printed (from its "*** FATAL" line), with '\n' line ends.</summary>
    private static string FatalBlock(string output)
    {
        output = output.ReplaceLineEndings("\n");
        int at = output.IndexOf("*** FATAL", StringComparison.Ordinal);
        Assert.True(at >= 0, $"no fatal configuration error in:\n{output}");
        return output[at..].TrimEnd('\n');
    }

    private static string RedisFatal(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            Assert.Fail("redis-server accepted a configuration it was expected to refuse");
        }
        Assert.Equal(1, process.ExitCode);
        return FatalBlock(stdout.Result + stderr.Result);
    }

    private static string NodeFatal(IEnumerable<string> args)
    {
        using var node = NodeProcess.Start(args, waitUntilReady: false);
        Assert.Equal(1, node.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain("Ready to accept connections", node.Output);
        return FatalBlock(node.Output);
    }

    [Theory]
    [InlineData("port 7000\nfoo bar\n")]
    [InlineData("set-max-listpack-entries 5\n")]
    [InlineData("hash-max-listpack-entries -1\n")]
    [InlineData("# comment\n\nhash-max-ziplist-value abc\n")]
    [InlineData("zset-max-ziplist-entries 1k\n")]
    [InlineData("list-max-listpack-size 1 2\n")]
    [InlineData("list-compress-depth -1\n")]
    [InlineData("set-max-intset-entries \"5\n")]
    [InlineData("loglevel nothing\n")]
    [InlineData("maxmemory -1\n")]
    [InlineData("hz 10 20\n")]
    [InlineData("list-max-ziplist-entries 5\nlua-replicate-commands yes\n  FOO   bar  \n")]
    public void Bad_config_file_line_stops_start_up_with_redis_text(string text)
    {
        string file = WriteConfig(text);
        int port = NodeProcess.FreePort();
        string[] args = [file, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1"];
        Assert.Equal(RedisFatal(args), NodeFatal(args));
    }

    [Theory]
    [InlineData("--foo", "bar")]
    [InlineData("--hash-max-ziplist-value", "abc")]
    [InlineData("--set-max-listpack-entries", "3")]
    [InlineData("--list-max-ziplist-size", "1", "2")]
    [InlineData("--zset-max-listpack-entries", "--port")]
    [InlineData("--hash-max-listpack-entries", "x y\"z\\é")]
    [InlineData("--save", "--hash-max-listpack-value", "-5")]
    public void Bad_command_line_option_stops_start_up_with_redis_text(params string[] args) =>
        Assert.Equal(RedisFatal(args), NodeFatal(args));

    [Theory]
    [MemberData(nameof(UnimplementedDirectives))]
    public void Directives_redis_has_and_the_node_lacks_are_refused_by_config_set_and_in_files(string name, string value)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        bool redisKnowsIt = redis.Call("CONFIG", "GET", name).Elements.Count == 2;
        Assert.Equal(name != "set-max-listpack-entries", redisKnowsIt);
        Assert.Equal($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'", node.Call("CONFIG", "SET", name, value).Text);
        Assert.Empty(node.Call("CONFIG", "GET", name).Elements);

        string file = WriteConfig($"{name} {value}\n");
        Assert.Equal($"*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 1\n>>> '{name} {value}'\nBad directive or wrong number of arguments",
            NodeFatal([file, "--port", "{port}"]));
    }

    [Theory]
    [InlineData("rdb-del-sync-files", "yes")]
    [InlineData("activedefrag", "yes")]
    public void Directives_the_node_lacks_are_refused_on_the_command_line(string name, string value) =>
        Assert.Equal($"*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> '{name} \"{value}\"'\nBad directive or wrong number of arguments",
            NodeFatal([$"--{name}", value, "--port", "{port}"]));

    [Fact]
    public void Values_of_implemented_directives_are_checked_and_kept_as_redis_does() =>
        servers.AssertSameReplies(
            ["CONFIG", "SET", "hz", "0"],
            ["CONFIG", "GET", "hz"],
            ["CONFIG", "SET", "hz", "1000"],
            ["CONFIG", "GET", "hz"],
            ["CONFIG", "SET", "hz", "-1"],
            ["CONFIG", "SET", "hz", "10"],
            ["CONFIG", "SET", "maxclients", "0"],
            ["CONFIG", "SET", "maxclients", "99999999999"],
            ["CONFIG", "SET", "maxclients", "+5"],
            ["CONFIG", "SET", "loglevel", "nothing"],
            ["CONFIG", "SET", "maxmemory", "-1"],
            ["CONFIG", "SET", "maxmemory", "+1"],
            ["CONFIG", "SET", "maxmemory", "1 kb"],
            ["CONFIG", "SET", "maxmemory", "007"],
            ["CONFIG", "GET", "maxmemory"],
            ["CONFIG", "SET", "maxmemory", "0"],
            ["CONFIG", "SET", "maxmemory-samples", "0"],
            ["CONFIG", "SET", "timeout", "-1"],
            ["CONFIG", "SET", "protected-mode", "maybe"],
            ["CONFIG", "SET", "slowlog-log-slower-than", "-2"]);

    [Theory]
    [InlineData("appendonly", "yes", "the append-only file is not supported yet")]
    public void The_append_only_file_is_refused_except_no(string name, string value, string reason)
    {
        using var node = servers.Node.Client();
        Assert.Equal($"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}", node.Call("CONFIG", "SET", name, value).Text);
        string file = WriteConfig($"{name} {value}\n");
        Assert.EndsWith($">>> '{name} {value}'\n{reason}", NodeFatal([file, "--port", "{port}"]));
        Assert.Equal("OK", node.Call("CONFIG", "SET", name, "no").Text);
    }

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
