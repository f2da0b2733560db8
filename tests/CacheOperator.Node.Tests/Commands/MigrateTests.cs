using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Replication;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// MIGRATE between the node and real redis-server 7.0.15 processes in both directions: values of every type with their
/// TTLs, COPY, REPLACE, KEYS, NOKEY, the target's errors, AUTH, a target that is down or silent, the cached connection,
/// and the DEL the source propagates. The same MIGRATE calls made with redis-server as the source give the same replies
/// and leave the same data on the target.
/// </summary>
public class MigrateTests
{
    private static readonly string[][] BuildEveryType =
    [
        ["SET", "s", "hello"],
        ["SET", "n", "12345"],
        ["SET", "big", new string('x', 100_000)],
        ["SET", "ttl", "v", "PX", "50000"],
        ["RPUSH", "list", "a", "b", "3", "-4"],
        ["RPUSH", "biglist", .. Enumerable.Range(0, 2000).Select(i => "e" + i)],
        ["HSET", "hash", "f1", "v1", "f2", "2"],
        ["HSET", "bighash", .. Enumerable.Range(0, 600).SelectMany(i => new[] { "f" + i, "v" + i })],
        ["SADD", "intset", "1", "2", "-70000"],
        ["SADD", "set", "a", "b", "c"],
        ["SADD", "bigset", .. Enumerable.Range(0, 600).Select(i => "m" + i)],
        ["ZADD", "zset", "1.5", "a", "-inf", "b", "2", "c"],
        ["ZADD", "bigzset", .. Enumerable.Range(0, 300).SelectMany(i => new[] { (i * 0.5).ToString(CultureInfo.InvariantCulture), "z" + i })],
    ];

    private static readonly string[] EveryTypeKeys = [.. BuildEveryType.Select(c => c[1])];

    /// <summary>A key's type and contents, in an order that does not depend on hashing.</summary>
    private static string Contents(RespClient client, string key)
    {
        string type = client.Call("TYPE", key).Text!;
        IEnumerable<string?> items = type switch
        {
            "string" => [client.Call("GET", key).Text],
            "list" => client.Call("LRANGE", key, "0", "-1").Texts,
            "hash" => client.Call("HGETALL", key).Texts.Chunk(2).Select(p => p[0] + "=" + p[1]).Order(StringComparer.Ordinal),
            "set" => client.Call("SMEMBERS", key).Texts.Order(StringComparer.Ordinal),
            "zset" => client.Call("ZRANGE", key, "0", "-1", "WITHSCORES").Texts,
            _ => [],
        };
        return type + ":" + string.Join(",", items);
    }

    private static void Build(RespClient client, IEnumerable<string[]> commands)
    {
        foreach (var command in commands)
        {
            var reply = client.Call(command);
            Assert.False(reply.IsError, $"{string.Join(' ', command.Take(3))}: {reply}");
        }
    }

    private static string[] Migrate(int port, string key, params string[] rest) =>
        ["MIGRATE", "127.0.0.1", port.ToString(CultureInfo.InvariantCulture), key, .. rest];

    [Fact]
    public async Task The_node_moves_every_value_type_to_redis_with_its_ttl()
    {
        await using var node = TestNode.Start();
        using var target = RedisServerProcess.Start();
        using var source = node.Client();
        using var dest = target.Client();
        Build(source, BuildEveryType);
        var expected = EveryTypeKeys.ToDictionary(k => k, k => Contents(source, k));

        var reply = source.Call(Migrate(target.Port, "", ["0", "5000", "KEYS", .. EveryTypeKeys]));

        Assert.Equal("OK", reply.Text);
        Assert.Equal(RespKind.Simple, reply.Kind);
        foreach (var key in EveryTypeKeys)
        {
            Assert.Equal(expected[key], Contents(dest, key));
            Assert.Equal(0, source.Call("EXISTS", key).Integer);
        }
        long pttl = dest.Call("PTTL", "ttl").Integer;
        Assert.InRange(pttl, 1, 50000);
        Assert.Equal(-1, dest.Call("PTTL", "s").Integer);
    }

    [Fact]
    public async Task Redis_moves_every_value_type_to_the_node_authenticating_as_asked()
    {
        await using var node = TestNode.Start("--requirepass", "secret");
        using var origin = RedisServerProcess.Start();
        using var source = origin.Client();
        using var dest = node.Client();
        Assert.Equal("OK", dest.Call("AUTH", "secret").Text);
        Build(source, BuildEveryType);
        var expected = EveryTypeKeys.ToDictionary(k => k, k => Contents(source, k));

        // Without the password the node refuses the RESTOREs, and redis reports it.
        var refused = source.Call(Migrate(node.Port, "s", "0", "5000"));
        Assert.Equal("ERR Target instance replied with error: NOAUTH Authentication required.", refused.Text);
        var wrong = source.Call(Migrate(node.Port, "s", "0", "5000", "AUTH", "nope"));
        Assert.Equal("ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled.", wrong.Text);
        Assert.Equal(1, source.Call("EXISTS", "s").Integer);

        var reply = source.Call(Migrate(node.Port, "", ["3", "5000", "AUTH2", "default", "secret", "KEYS", .. EveryTypeKeys]));

        Assert.Equal("OK", reply.Text);
        Assert.Equal("OK", dest.Call("SELECT", "3").Text);
        foreach (var key in EveryTypeKeys)
        {
            Assert.Equal(expected[key], Contents(dest, key));
            Assert.Equal(0, source.Call("EXISTS", key).Integer);
        }
        Assert.InRange(dest.Call("PTTL", "ttl").Integer, 1, 50000);
    }

    /// <summary>One MIGRATE scenario run against a source and its own target: the replies, then the target's data.</summary>
    private static List<string> RunScenario(RespClient source, RespClient target, int targetPort, int authTargetPort, int deadPort)
    {
        var log = new List<string>();
        void Call(params string[] command)
        {
            var reply = source.Call(command);
            // Without host and port, which differ between the runs.
            log.Add($"{string.Join(' ', command.Skip(3))} -> {reply.Kind} {reply}");
        }
        source.Call("FLUSHALL");
        target.Call("FLUSHALL");
        source.Call("SET", "k1", "v1");
        source.Call("SET", "k2", "v2", "EX", "1000");
        source.Call("RPUSH", "k3", "a", "b");
        source.Call("SET", "k4", "v4");
        source.Call("SET", "k5", "v5");
        source.Call("SET", "k6", "v6");
        target.Call("SET", "k4", "old");

        Call(Migrate(targetPort, "nokey", "0", "1000"));
        Call(Migrate(targetPort, "", "0", "1000", "KEYS", "nokey1", "nokey2"));
        Call(Migrate(targetPort, "k1", "0", "1000", "BOGUS"));
        Call(Migrate(targetPort, "k1", "0", "1000", "AUTH"));
        Call(Migrate(targetPort, "k1", "0", "1000", "AUTH2", "user"));
        Call(Migrate(targetPort, "k1", "0", "1000", "KEYS", "k2"));
        Call(Migrate(targetPort, "k1", "0", "notanumber"));
        Call(Migrate(targetPort, "k1", "x", "1000"));
        Call(Migrate(targetPort, "k1", "0", "1000", "COPY"));
        Call(Migrate(targetPort, "k1", "0", "1000"));
        Call(Migrate(targetPort, "k1", "0", "1000"));
        Call(Migrate(targetPort, "", "0", "1000", "KEYS", "k2", "missing", "k3"));
        Call(Migrate(targetPort, "k4", "0", "1000"));
        Call(Migrate(targetPort, "k4", "0", "1000", "COPY", "REPLACE"));
        Call(Migrate(targetPort, "", "0", "1000", "KEYS", "k5", "k4"));
        source.Call("SET", "k5", "again");
        Call(Migrate(targetPort, "k5", "1", "0"));
        Call(Migrate(targetPort, "k5", "1", "1000", "AUTH", "pw"));
        source.Call("SET", "k3", "three");
        Call(Migrate(targetPort, "k3", "1", "1000", "AUTH", "pw"));
        Call(Migrate(targetPort, "k3", "1", "1000", "REPLACE"));
        Call(Migrate(authTargetPort, "k6", "0", "1000"));
        Call(Migrate(authTargetPort, "k6", "0", "1000", "AUTH", "wrong"));
        Call(Migrate(authTargetPort, "k6", "0", "1000", "AUTH2", "default", "wrong"));
        Call(Migrate(authTargetPort, "k6", "2", "1000", "AUTH2", "default", "pw"));
        source.Call("SET", "k7", "v7");
        Call(Migrate(deadPort, "k7", "0", "1000"));
        Call(["MIGRATE", "127.0.0.1", "notaport", "k7", "0", "1000"]);
        Call(["MIGRATE", "127.0.0.1", "-1", "k7", "0", "1000"]);

        foreach (int db in new[] { 0, 1, 2 })
        {
            source.Call("SELECT", db.ToString(CultureInfo.InvariantCulture));
            target.Call("SELECT", db.ToString(CultureInfo.InvariantCulture));
            foreach (var key in new[] { "k1", "k2", "k3", "k4", "k5", "k6", "k7" })
            {
                log.Add($"db{db} source {key}: {Contents(source, key)}");
                log.Add($"db{db} target {key}: {Contents(target, key)}");
            }
            long ttl = target.Call("TTL", "k2").Integer;
            log.Add($"db{db} target k2 ttl: {(ttl is > 990 and <= 1000 ? "about 1000" : ttl.ToString(CultureInfo.InvariantCulture))}");
        }
        source.Call("SELECT", "0");
        target.Call("SELECT", "0");
        // One change per key moved, as Redis counts them (and none for COPY).
        log.Add(source.Call("INFO", "persistence").Text!.Split("\r\n").Single(l => l.StartsWith("rdb_changes_since_last_save:", StringComparison.Ordinal)));
        return log;
    }

    [Fact]
    public async Task Replies_and_target_data_are_redis_s_when_redis_is_the_source()
    {
        await using var node = TestNode.Start();
        using var redisSource = RedisServerProcess.Start();
        using var nodeTarget = RedisServerProcess.Start();
        using var redisTarget = RedisServerProcess.Start();
        using var nodeAuthTarget = RedisServerProcess.Start("--requirepass", "pw");
        using var redisAuthTarget = RedisServerProcess.Start("--requirepass", "pw");
        int deadPort = NodeProcess.FreePort();

        using var nodeClient = new RespClient(node.Port, TimeSpan.FromSeconds(20));
        using var nodeTargetClient = new RespClient(nodeTarget.Port, TimeSpan.FromSeconds(20));
        var actual = RunScenario(nodeClient, nodeTargetClient, nodeTarget.Port, nodeAuthTarget.Port, deadPort);
        using var redisClient = new RespClient(redisSource.Port, TimeSpan.FromSeconds(20));
        using var redisTargetClient = new RespClient(redisTarget.Port, TimeSpan.FromSeconds(20));
        var expected = RunScenario(redisClient, redisTargetClient, redisTarget.Port, redisAuthTarget.Port, deadPort);

        // The auth targets' data, compared too.
        using var nodeAuth = nodeAuthTarget.Client();
        using var redisAuth = redisAuthTarget.Client();
        nodeAuth.Call("AUTH", "pw");
        redisAuth.Call("AUTH", "pw");
        nodeAuth.Call("SELECT", "2");
        redisAuth.Call("SELECT", "2");
        actual.Add("auth target k6: " + Contents(nodeAuth, "k6"));
        expected.Add("auth target k6: " + Contents(redisAuth, "k6"));

        Assert.Equal(expected, actual);
        // Not vacuous: keys did move, and errors did come back.
        Assert.Contains("db0 target k1: string:v1", actual);
        Assert.Contains(actual, l => l.Contains("BUSYKEY", StringComparison.Ordinal));
        Assert.Contains("auth target k6: string:v6", actual);
    }

    [Fact]
    public async Task A_target_that_never_answers_gives_ioerr_within_the_timeout_and_the_key_stays()
    {
        // The MIGRATE blocks the node's event loop for the timeout, as it blocks redis-server.
        await using var node = TestNode.Start();
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var source = node.Client();
        source.Call("SET", "stay", "v");

        var clock = Stopwatch.StartNew();
        // 1 s: enough for the connect itself to succeed on a loaded machine, so that it is the reply that times out.
        var reply = source.Call(Migrate(port, "stay", "0", "1000"));
        clock.Stop();

        Assert.Equal("IOERR error or timeout reading to target instance", reply.Text);
        Assert.Equal(RespKind.Error, reply.Kind);
        Assert.True(clock.ElapsedMilliseconds >= 900, $"answered after {clock.ElapsedMilliseconds} ms, before the timeout");
        Assert.Equal("v", source.Call("GET", "stay").Text);
        // The node went on serving meanwhile and after.
        Assert.Equal("PONG", source.Call("PING").Text);
        Assert.Equal(0, node.Server.MigrateConnections.Count);
    }

    [Fact]
    public async Task A_target_that_is_down_or_unknown_gives_redis_s_ioerr()
    {
        await using var node = TestNode.Start();
        using var source = node.Client();
        source.Call("SET", "k", "v");
        // As redis-server 7.0.15: its non-blocking connect to a closed port fails at the first write.
        Assert.Equal("IOERR error or timeout writing to target instance", source.Call(Migrate(NodeProcess.FreePort(), "k", "0", "1000")).Text);
        Assert.Equal("IOERR error or timeout connecting to the client", source.Call(["MIGRATE", "nosuchhost.invalid", "6379", "k", "0", "1000"]).Text);
        Assert.Equal("IOERR error or timeout connecting to the client", source.Call(["MIGRATE", "127.0.0.1", "-5", "k", "0", "1000"]).Text);
        Assert.Equal("v", source.Call("GET", "k").Text);
    }

    [Fact]
    public async Task Repeated_migrates_reuse_one_connection_which_closes_when_idle_or_killed()
    {
        await using var node = TestNode.Start();
        using var target = RedisServerProcess.Start();
        using var source = node.Client();
        using var dest = target.Client();
        for (int i = 0; i < 5; i++)
        {
            source.Call("SET", "key" + i, "v" + i);
            Assert.Equal("OK", source.Call(Migrate(target.Port, "key" + i, i % 2 == 0 ? "0" : "1", "1000", "COPY", "REPLACE")).Text);
            Assert.Equal("OK", source.Call(Migrate(target.Port, "key" + i, "0", "1000", "REPLACE")).Text);
        }
        Assert.Equal("NOKEY", source.Call(Migrate(target.Port, "", "0", "1000", "KEYS", "nothing", "here")).Text);
        int MigrateClients() => dest.Call("CLIENT", "LIST").Text!.Split('\n').Count(l => l.Contains("cmd=restore", StringComparison.Ordinal) || l.Contains("cmd=select", StringComparison.Ordinal));
        Assert.Equal(1, MigrateClients());
        Assert.Equal(1, node.Server.MigrateConnections.Count);
        Assert.Equal("v4", dest.Call("GET", "key4").Text);

        // Killed by the target: the next MIGRATE connects again, selects again, and succeeds.
        Assert.Equal(1, dest.Call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Integer);
        source.Call("SET", "after", "kill");
        Wait.Until(() => MigrateClients() == 0, "the killed connection is gone");
        Assert.Equal("OK", source.Call(Migrate(target.Port, "after", "0", "1000")).Text);
        Assert.Equal("kill", dest.Call("GET", "after").Text);
        Assert.Equal(1, MigrateClients());

        // The background cycle closes it once idle for more than 10 s (here: as if 11 s had passed).
        node.Server.MigrateConnections.CloseIdle(Environment.TickCount64 + 11_000);
        Assert.Equal(0, node.Server.MigrateConnections.Count);
        Wait.Until(() => MigrateClients() == 0, "the idle connection is closed on the target");
    }

    [Fact]
    public async Task The_source_propagates_del_of_exactly_the_keys_the_target_took()
    {
        await using var node = TestNode.Start();
        using var target = RedisServerProcess.Start();
        using var source = node.Client();
        using var dest = target.Client();
        var capture = StreamCapture.Attach(node.Server);
        Build(source, [["SET", "a", "1"], ["SET", "b", "2"], ["SET", "busy", "3"], ["SET", "c", "4"]]);
        dest.Call("SET", "busy", "there");
        capture.Take();

        Assert.Equal("OK", source.Call(Migrate(target.Port, "", "0", "1000", "KEYS", "a", "missing", "b")).Text);
        Assert.Equal(["DEL a b"], capture.Take());

        var error = source.Call(Migrate(target.Port, "", "0", "1000", "KEYS", "busy", "c"));
        Assert.Equal("ERR Target instance replied with error: BUSYKEY Target key name already exists.", error.Text);
        Assert.Equal(["DEL c"], capture.Take());
        Assert.Equal("3", source.Call("GET", "busy").Text);

        Assert.Equal("OK", source.Call(Migrate(target.Port, "busy", "0", "1000", "COPY", "REPLACE")).Text);
        Assert.Empty(capture.Take());
        Assert.Equal("3", dest.Call("GET", "busy").Text);
        Assert.Equal("NOKEY", source.Call(Migrate(target.Port, "gone", "0", "1000")).Text);
        Assert.Empty(capture.Take());
    }

    [Fact]
    public async Task Restore_asking_restores_as_restore_does_on_both_servers()
    {
        await using var node = TestNode.Start();
        using var redis = RedisServerProcess.Start();
        using var n = node.Client();
        using var r = redis.Client();
        r.Call("RPUSH", "src", "x", "y");
        var payload = r.Call("DUMP", "src").Bytes!;
        foreach (var client in new[] { n, r })
        {
            var name = "RESTORE-ASKING"u8.ToArray();
            Assert.Equal("OK", client.Call(name, "dst"u8.ToArray(), "5000"u8.ToArray(), payload).Text);
            Assert.Equal("BUSYKEY Target key name already exists.", client.Call(name, "dst"u8.ToArray(), "0"u8.ToArray(), payload).Text);
            Assert.Equal("OK", client.Call(name, "dst"u8.ToArray(), "0"u8.ToArray(), payload, "REPLACE"u8.ToArray()).Text);
            Assert.Equal("x,y", string.Join(",", client.Call("LRANGE", "dst", "0", "-1").Texts));
        }
        Assert.Equal(r.Call("COMMAND", "INFO", "restore-asking").ToString(), n.Call("COMMAND", "INFO", "restore-asking").ToString());
        Assert.Equal(r.Call("COMMAND", "INFO", "migrate").ToString(), n.Call("COMMAND", "INFO", "migrate").ToString());
    }
    [Fact]
    public async Task A_node_moves_every_value_type_to_a_node_process_authenticating()
    {
        // The target is another process: in one process, nodes share the epoll loop, which the source's MIGRATE blocks.
        await using var node = TestNode.Start();
        using var target = NodeProcess.Start(["--port", "{port}"]);
        using var source = node.Client();
        using var dest = new RespClient(target.Port);
        Assert.Equal("OK", dest.Call("CONFIG", "SET", "requirepass", "pw").Text);
        Assert.Equal("OK", dest.Call("AUTH", "pw").Text);
        Build(source, BuildEveryType);
        var expected = EveryTypeKeys.ToDictionary(k => k, k => Contents(source, k));

        Assert.Equal("OK", source.Call(Migrate(target.Port, "", ["0", "5000", "AUTH", "pw", "KEYS", .. EveryTypeKeys])).Text);

        foreach (var key in EveryTypeKeys)
        {
            Assert.Equal(expected[key], Contents(dest, key));
            Assert.Equal(0, source.Call("EXISTS", key).Integer);
        }
        Assert.InRange(dest.Call("PTTL", "ttl").Integer, 1, 50000);
    }
    [Fact]
    public async Task Monitor_shows_migrate_with_its_passwords_redacted_as_redis_does()
    {
        await using var node = TestNode.Start();
        using var redis = RedisServerProcess.Start();
        int deadPort = NodeProcess.FreePort();
        string Seen(int port)
        {
            using var monitor = new RespClient(port);
            Assert.Equal("OK", monitor.Call("MONITOR").Text);
            using var client = new RespClient(port);
            client.Call("SET", "k", "v");
            client.Call("MIGRATE", "127.0.0.1", deadPort.ToString(CultureInfo.InvariantCulture), "k", "0", "1000", "AUTH2", "user", "secret");
            client.Call("MIGRATE", "127.0.0.1", deadPort.ToString(CultureInfo.InvariantCulture), "k", "0", "1000", "AUTH", "secret");
            var lines = new[] { monitor.Read().Text!, monitor.Read().Text!, monitor.Read().Text! };
            return string.Join("\n", lines.Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..]));
        }
        string expected = Seen(redis.Port);
        Assert.Equal(expected, Seen(node.Port));
        Assert.Contains("(redacted)", expected, StringComparison.Ordinal);
    }
}
