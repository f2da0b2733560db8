using System.Diagnostics;
using System.Globalization;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// Snapshots in a running node: SAVE, BGSAVE, the save rules, LASTSAVE and INFO persistence, SHUTDOWN and SIGTERM saving,
/// loading at start-up (with -LOADING meanwhile) and refusing a damaged file; compared with redis-server 7.0.15 where it answers.
/// </summary>
public sealed class SnapshotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("snapshot-").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string DumpPath => Path.Combine(_dir, "dump.rdb");

    private static string Info(RespClient client, string field)
    {
        foreach (var line in client.Call("INFO", "persistence").Text!.Split("\r\n"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return line[(field.Length + 1)..];
            }
        }
        throw new InvalidOperationException($"INFO has no {field}");
    }

    private static string[] InfoFieldNames(RespClient client) =>
        [.. client.Call("INFO", "persistence").Text!.Split("\r\n").Where(l => l.Contains(':', StringComparison.Ordinal)).Select(l => l[..l.IndexOf(':', StringComparison.Ordinal)])];

    private NodeProcess StartNode(params string[] options) => NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--dir", _dir, .. options]);

    [Fact]
    public void Save_then_restart_loads_every_type_and_encoding()
    {
        string expected;
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            RdbDataset.Populate(client);
            expected = RdbDataset.Canonical(client);
            Assert.Equal("OK", client.Call("SAVE").Text);
            Assert.Equal("0", Info(client, "rdb_changes_since_last_save"));
            Assert.Equal("1", Info(client, "rdb_saves"));
        }
        Assert.True(File.Exists(DumpPath));
        Assert.Empty(Directory.GetFiles(_dir, "temp-*"));
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal(expected, RdbDataset.Canonical(client));
            Assert.Equal(expected.Split('\n').Length.ToString(CultureInfo.InvariantCulture), Info(client, "rdb_last_load_keys_loaded"));
        }
    }

    [Fact]
    public void Redis_server_dump_loads_at_start_up()
    {
        string expected;
        using (var redis = RedisServerProcess.Start("--dir", _dir))
        using (var client = redis.Client())
        {
            RdbDataset.Populate(client);
            expected = RdbDataset.Canonical(client);
            Assert.Equal("OK", client.Call("SAVE").Text);
        }
        using var node = StartNode("--save", "");
        using var nodeClient = new RespClient(node.Port);
        Assert.Equal(expected, RdbDataset.Canonical(nodeClient));
    }

    [Fact]
    public void Node_dump_loads_into_redis_server_at_its_start_up()
    {
        string expected;
        using (var node = StartNode("--save", "", "--dbfilename", "node.rdb"))
        using (var client = new RespClient(node.Port))
        {
            RdbDataset.Populate(client);
            expected = RdbDataset.Canonical(client);
            Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
            Wait.Until(() => Info(client, "rdb_bgsave_in_progress") == "0", "the background save ends");
            Assert.Equal("ok", Info(client, "rdb_last_bgsave_status"));
        }
        using var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "node.rdb");
        using var redisClient = redis.Client();
        Assert.Equal(expected, RdbDataset.Canonical(redisClient));
    }

    [Theory]
    [InlineData("truncated", "truncated")]
    [InlineData("flipped", "checksum")]
    [InlineData("garbage", "signature")]
    public void A_damaged_file_stops_start_up_with_a_message_and_no_data(string damage, string message)
    {
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            for (int i = 0; i < 50; i++)
            {
                client.Call("SET", "key" + i, "value-" + i);
            }
            Assert.Equal("OK", client.Call("SAVE").Text);
        }
        var bytes = File.ReadAllBytes(DumpPath);
        bytes = damage switch
        {
            "truncated" => bytes[..(bytes.Length / 2)],
            "flipped" => Flip(bytes, bytes.AsSpan().IndexOf("value-25"u8) + 6),
            _ => "not an rdb file at all"u8.ToArray(),
        };
        File.WriteAllBytes(DumpPath, bytes);
        using var broken = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--dir", _dir], waitUntilReady: false);
        Assert.NotEqual(0, broken.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("Fatal error loading the DB", broken.Output, StringComparison.Ordinal);
        Assert.Contains(message, broken.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Ready to accept connections", broken.Output, StringComparison.Ordinal);
        // The file is left as it was, for inspection.
        Assert.Equal(bytes, File.ReadAllBytes(DumpPath));
    }

    private static byte[] Flip(byte[] bytes, int at)
    {
        bytes[at] ^= 0x01;
        return bytes;
    }

    [Fact]
    public void While_loading_commands_answer_loading_and_info_says_so()
    {
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            for (int i = 0; i < 60; i++)
            {
                client.Call("RPUSH", "list" + i, "a", "b");
            }
            Assert.Equal("OK", client.Call("SAVE").Text);
        }
        // 60 keys at 100 ms each: about 6 s of loading to observe. The listener is open before the load starts.
        using var loading = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--dir", _dir, "--save", "", "--key-load-delay", "100000"], waitUntilReady: false);
        RespValue? reply = null;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (reply is null)
        {
            try
            {
                using var probe = new RespClient(loading.Port);
                reply = probe.Call("GET", "list0");
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline && !loading.Process.HasExited)
            {
                Thread.Sleep(10);
            }
        }
        Assert.Equal("LOADING Redis is loading the dataset in memory", reply!.Text);
        using var client2 = new RespClient(loading.Port);
        Assert.Equal("1", Info(client2, "loading"));
        Assert.Contains("loading_eta_seconds", client2.Call("INFO", "persistence").Text, StringComparison.Ordinal);
        Assert.Equal(RespKind.Integer, client2.Call("LASTSAVE").Kind);
        Wait.Until(() => client2.Call("LLEN", "list59").Integer == 2, "the load ends");
        Assert.Equal("0", Info(client2, "loading"));
        Assert.Equal("60", Info(client2, "rdb_last_load_keys_loaded"));
    }

    [Fact]
    public void Shutdown_saves_as_asked_or_as_the_rules_say()
    {
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            client.Call("SET", "k", "nosave");
            client.SendRaw(RespClient.Encode("SHUTDOWN", "NOSAVE"));
            Assert.Equal(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        Assert.False(File.Exists(DumpPath));
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            client.Call("SET", "k", "saved");
            Assert.Equal("ERR syntax error", client.Call("SHUTDOWN", "SAVE", "NOSAVE").Text);
            client.SendRaw(RespClient.Encode("SHUTDOWN", "SAVE"));
            Assert.Equal(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        Assert.True(File.Exists(DumpPath));
        using (var node = StartNode("--save", "3600 1"))
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal("saved", client.Call("GET", "k").Text);
            client.Call("SET", "k", "by rule");
            client.SendRaw(RespClient.Encode("SHUTDOWN"));
            Assert.Equal(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
        }
        using (var node = StartNode("--save", "3600 1"))
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal("by rule", client.Call("GET", "k").Text);
            client.Call("SET", "k", "by SIGTERM");
            using (var kill = Process.Start("kill", ["-TERM", node.Process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                kill.WaitForExit();
            }
            Assert.Equal(0, node.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains("Saving the final RDB snapshot", node.Output, StringComparison.Ordinal);
        }
        using (var node = StartNode("--save", ""))
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal("by SIGTERM", client.Call("GET", "k").Text);
        }
    }

    [Fact]
    public async Task Save_rules_start_a_background_save()
    {
        await using var node = TestNode.Start("--save", "1 1", "--dir", _dir);
        using var client = node.Client();
        long before = client.Call("LASTSAVE").Integer;
        client.Call("SET", "k", "v");
        Assert.Equal("1", Info(client, "rdb_changes_since_last_save"));
        Wait.Until(() => Info(client, "rdb_saves") == "1" && Info(client, "rdb_bgsave_in_progress") == "0", "the save rule fires");
        Assert.Equal("0", Info(client, "rdb_changes_since_last_save"));
        Assert.Equal("ok", Info(client, "rdb_last_bgsave_status"));
        Assert.True(client.Call("LASTSAVE").Integer > before);
        Assert.True(File.Exists(DumpPath));
    }

    [Fact]
    public async Task Background_save_to_a_stream_reports_the_offset_of_its_snapshot_point()
    {
        await using var node = TestNode.Start("--dir", _dir);
        using var client = node.Client();
        RdbDataset.Populate(client);
        var destination = new MemoryStream();
        BackgroundSave save;
        lock (node.Server.Keyspace.Sync)
        {
            save = node.Server.Snapshots.StartBackgroundSave(destination)!;
            Assert.Null(node.Server.Snapshots.StartBackgroundSave(new MemoryStream()));
            Assert.Equal(node.Server.Propagator.Stream.MasterOffset, save.Offset);
        }
        Assert.True(await save.Completion);
        // A save to a stream is not the node's snapshot file.
        Assert.False(File.Exists(DumpPath));
        Assert.Equal("0", Info(client, "rdb_saves"));
        await using var target = TestNode.Start();
        lock (target.Server.Keyspace.Sync)
        {
            RdbReader.LoadInto(new MemoryStream(destination.ToArray()), target.Server.Keyspace, 0);
        }
        using var targetClient = target.Client();
        Assert.Equal(RdbDataset.Canonical(client), RdbDataset.Canonical(targetClient));
    }

    [Fact]
    public async Task Commands_and_info_answer_as_redis()
    {
        using var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "redis.rdb");
        await using var node = TestNode.Start("--dir", _dir);
        using var redisClient = redis.Client();
        using var nodeClient = node.Client();
        Assert.Equal(InfoFieldNames(redisClient), InfoFieldNames(nodeClient));
        foreach (var client in new[] { redisClient, nodeClient })
        {
            Assert.Equal("ERR syntax error", client.Call("BGSAVE", "NOW").Text);
            Assert.Equal("ERR wrong number of arguments for 'save' command", client.Call("SAVE", "x").Text);
            Assert.Equal("ERR wrong number of arguments for 'lastsave' command", client.Call("LASTSAVE", "x").Text);
            Assert.Equal("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", client.Call("CONFIG", "SET", "save", "1 2 3").Text);
            Assert.Equal("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", client.Call("CONFIG", "SET", "save", "0 1").Text);
            Assert.Equal("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters", client.Call("CONFIG", "SET", "save", "10 x").Text);
            Assert.Equal("OK", client.Call("CONFIG", "SET", "save", "900 1 300 10").Text);
            Assert.Equal("save 900 1 300 10", string.Join(" ", client.Call("CONFIG", "GET", "save").Texts));
            Assert.Equal("OK", client.Call("CONFIG", "SET", "save", "").Text);
            Assert.Equal("rdbcompression yes", string.Join(" ", client.Call("CONFIG", "GET", "rdbcompression").Texts));
            Assert.Equal("stop-writes-on-bgsave-error yes", string.Join(" ", client.Call("CONFIG", "GET", "stop-writes-on-bgsave-error").Texts));
            Assert.Equal("dir " + _dir, string.Join(" ", client.Call("CONFIG", "GET", "dir").Texts));
            client.Call("SET", "a", "1");
            client.Call("SET", "b", "2");
            Assert.Equal("2", Info(client, "rdb_changes_since_last_save"));
            Assert.Equal("OK", client.Call("SAVE").Text);
            Assert.Equal("0", Info(client, "rdb_changes_since_last_save"));
            Assert.Equal("Background saving started", client.Call("BGSAVE", "SCHEDULE").Text);
            Wait.Until(() => Info(client, "rdb_bgsave_in_progress") == "0", "the background save ends");
            Assert.Equal("ok", Info(client, "rdb_last_bgsave_status"));
            Assert.Equal("2", Info(client, "rdb_saves"));
        }
        foreach (var client in new[] { redisClient, nodeClient })
        {
            Assert.Equal("OK", client.Call("MULTI").Text);
            Assert.Equal("ERR Command not allowed inside a transaction", client.Call("SAVE").Text);
            Assert.StartsWith("EXECABORT", client.Call("EXEC").Text, StringComparison.Ordinal);
        }
        var command = new[] { "COMMAND", "INFO", "save", "bgsave", "lastsave" };
        Assert.Equal(redisClient.Call(command).ToString(), nodeClient.Call(command).ToString());
    }

    [Fact]
    public async Task A_failed_background_save_refuses_writes_until_one_succeeds_as_redis()
    {
        string redisDir = Directory.CreateDirectory(Path.Combine(_dir, "redis")).FullName;
        string nodeDir = Directory.CreateDirectory(Path.Combine(_dir, "node")).FullName;
        using var redis = RedisServerProcess.Start("--dir", redisDir, "--save", "3600 1");
        await using var node = TestNode.Start("--dir", nodeDir, "--save", "3600 1");
        using var redisClient = redis.Client();
        using var nodeClient = node.Client();
        // A directory where the file should go makes the final rename fail (redis-server cannot be moved to another dir at run time).
        Directory.CreateDirectory(Path.Combine(redisDir, "dump.rdb"));
        Directory.CreateDirectory(Path.Combine(nodeDir, "dump.rdb"));
        foreach (var client in new[] { redisClient, nodeClient })
        {
            client.Call("SET", "k", "v");
            Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
            Wait.Until(() => Info(client, "rdb_last_bgsave_status") == "err", "the background save fails");
            Assert.Equal(Node.Commands.Errors.BgsaveFailed, client.Call("SET", "k", "w").Text);
            Assert.Equal(Node.Commands.Errors.BgsaveFailed, client.Call("PING").Text);
            Assert.Equal("v", client.Call("GET", "k").Text);
            Assert.Equal("ERR", client.Call("SAVE").Text);
            Assert.Equal("ERR Errors trying to SHUTDOWN. Check logs.", client.Call("SHUTDOWN").Text);
            Assert.Equal("OK", client.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no").Text);
            Assert.Equal("OK", client.Call("SET", "k", "w").Text);
            Assert.Equal("OK", client.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes").Text);
        }
        Directory.Delete(Path.Combine(redisDir, "dump.rdb"));
        Directory.Delete(Path.Combine(nodeDir, "dump.rdb"));
        foreach (var client in new[] { redisClient, nodeClient })
        {
            Assert.Equal("Background saving started", client.Call("BGSAVE").Text);
            Wait.Until(() => Info(client, "rdb_last_bgsave_status") == "ok", "the background save succeeds");
            Assert.Equal("OK", client.Call("SET", "k", "x").Text);
        }
    }

    [Fact]
    public void Save_lines_in_a_file_add_rules_as_redis()
    {
        // What redis-server 7.0.15 answers for the same files and options.
        string file = Path.Combine(_dir, "save.conf");
        File.WriteAllText(file, "save 900 1\nsave 300 10\n");
        using (var node = NodeProcess.Start([file, "--port", "{port}", "--bind", "127.0.0.1", "--save", "60", "10000"]))
        using (var nodeClient = new RespClient(node.Port))
        {
            Assert.Equal("900 1 300 10 60 10000", nodeClient.Call("CONFIG", "GET", "save").Texts[1]);
        }
        var config = new Configuration.NodeConfig();
        Configuration.ConfigLoader.ApplyText(config, "save \"\"\nsave 10 1\n");
        Assert.Equal("10 1", config.Save.Text);
        Configuration.ConfigLoader.ApplyText(config, "save 5 5\nsave \"\"\n");
        Assert.Equal("", config.Save.Text);
    }

    [Fact]
    public async Task Flushall_with_save_rules_saves_the_empty_dataset()
    {
        await using var node = TestNode.Start("--dir", _dir, "--save", "3600 1");
        using var client = node.Client();
        client.Call("SET", "k", "v");
        Assert.Equal("OK", client.Call("SAVE").Text);
        long before = new FileInfo(DumpPath).Length;
        Assert.Equal("OK", client.Call("FLUSHALL").Text);
        Assert.True(new FileInfo(DumpPath).Length < before);
        var keyspace = new Node.Storage.Keyspace(16);
        using (var file = File.OpenRead(DumpPath))
        {
            Assert.Equal(0, RdbReader.LoadInto(file, keyspace, 0).KeysLoaded);
        }
    }
}
