using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.Server;

/// <summary>StackExchange.Redis connects, handshakes and works against the node as it would against Redis.</summary>
public class StackExchangeRedisTests
{
    private static (ConnectionMultiplexer Connection, string Log) Connect(int port, int protocol)
    {
        var log = new StringWriter();
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        options.Protocol = protocol == 3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2;
        options.AbortOnConnectFail = true;
        options.AllowAdmin = true;
        options.ConnectTimeout = 10_000;
        options.SyncTimeout = 10_000;
        var connection = ConnectionMultiplexer.Connect(options, log);
        return (connection, log.ToString());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Handshake_is_clean_and_commands_work(int protocol)
    {
        await using var node = TestNode.Start();
        var (connection, log) = Connect(node.Port, protocol);
        using (connection)
        {
            Assert.True(connection.IsConnected, log);
            Assert.DoesNotContain("error", log, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("fail", log, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("warning", log, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("unknown", log, StringComparison.OrdinalIgnoreCase);
            var server = connection.GetServer(connection.GetEndPoints()[0]);
            Assert.Equal(ServerType.Standalone, server.ServerType);
            Assert.Equal(new Version(7, 0, 15), server.Version);
            Assert.False(server.IsReplica);

            var db = connection.GetDatabase();
            Assert.True(await db.StringSetAsync("se-key", "value"));
            Assert.Equal("value", (string?)await db.StringGetAsync("se-key"));
            Assert.True(await db.PingAsync() >= TimeSpan.Zero);

            var info = await server.InfoAsync("server");
            Assert.Contains(info.SelectMany(g => g), p => p.Key == "redis_version" && p.Value == "7.0.15");
            var config = await server.ConfigGetAsync("maxmemory");
            Assert.Equal("0", Assert.Single(config).Value);
            var clients = await server.ClientListAsync();
            Assert.Contains(clients, c => c.LibraryName is not null && c.LibraryName.StartsWith("SE.Redis", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Handshake_auto_configures_the_same_as_against_redis_server()
    {
        using var redis = RedisServerProcess.Start();
        var (redisConnection, redisLog) = Connect(redis.Port, 2);
        redisConnection.Dispose();
        await using var node = TestNode.Start();
        var (nodeConnection, nodeLog) = Connect(node.Port, 2);
        nodeConnection.Dispose();
        Assert.Equal(AutoConfigured(redisLog), AutoConfigured(nodeLog));
        Assert.Contains("read-only replica: True", nodeLog, StringComparison.Ordinal);
        Assert.Contains("16 databases", nodeLog, StringComparison.Ordinal);
    }

    /// <summary>What the client learnt about the server during the handshake, without connection ids and timing.</summary>
    private static string[] AutoConfigured(string log) =>
        log.Split('\n')
            .Where(line => line.Contains("Auto-configured", StringComparison.Ordinal) && !line.Contains("connection-id", StringComparison.Ordinal))
            .Select(line => line[line.IndexOf("Auto-configured", StringComparison.Ordinal)..].TrimEnd())
            .Order(StringComparer.Ordinal)
            .ToArray();
}
