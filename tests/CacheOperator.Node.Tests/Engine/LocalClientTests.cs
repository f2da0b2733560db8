using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using CacheOperator.Client;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Server;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Engine;

/// <summary>
/// The engine without a socket: a node that never listened runs commands for a <see cref="LocalClient"/>
/// through the same dispatcher as a connection, and answers byte for byte as redis-server does over TCP.
/// </summary>
public class LocalClientTests
{
    private static NodeServer UnstartedNode(params string[] options)
    {
        var config = new NodeConfig();
        ConfigLoader.Load(config, options);
        return new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning });
    }

    [Fact]
    public async Task A_node_that_never_listened_answers_as_redis_does_over_tcp()
    {
        using var redisServer = RedisServerProcess.Start();
        await using var redis = await RespConnection.ConnectAsync("127.0.0.1", redisServer.Port);
        var node = UnstartedNode();
        var client = node.ConnectLocal();
        string[][] script =
        [
            ["SET", "k", "v"], ["GET", "k"], ["INCR", "n"], ["INCRBYFLOAT", "n", "1.5"], ["LPUSH", "l", "a", "b"],
            ["LRANGE", "l", "0", "-1"], ["HSET", "h", "f", "1"], ["HGETALL", "h"], ["GET", "l"], ["NOSUCH", "x"],
            ["MULTI"], ["SET", "t", "1"], ["INCR", "t"], ["EXEC"], ["SELECT", "3"], ["SET", "k", "db3"], ["GET", "k"],
            ["SELECT", "0"], ["GET", "k"], ["HELLO", "3"], ["HGETALL", "h"], ["ZADD", "z", "1.5", "m"], ["ZSCORE", "z", "m"],
            ["BLPOP", "l", "0"], ["DBSIZE"],
        ];
        foreach (var command in script)
        {
            string local = Encoding.UTF8.GetString(await client.RunAsync(command));
            string expected = Encoding.UTF8.GetString((await redis.ExecuteAsync(command)).Raw.Span);
            if (command[0] == "HELLO")
            {
                // The reply carries each server's own client id.
                (local, expected) = (WithoutClientId(local), WithoutClientId(expected));
            }
            Assert.True(expected == local, $"{string.Join(' ', command)}\n  redis: {expected}\n  local: {local}");
        }
    }

    private static string WithoutClientId(string hello) => Regex.Replace(hello, "\\$2\r\nid\r\n:\\d+", "$$2\r\nid\r\n:N");

    [Fact]
    public async Task A_blocked_local_client_is_served_by_another_clients_push()
    {
        var node = UnstartedNode();
        var waiter = node.ConnectLocal();
        var pusher = node.ConnectLocal();
        var pop = waiter.RunAsync("BLPOP", "queue", "0");
        Wait.Until(() => waiter.Session.IsBlocked, "the local client blocks on the empty list");
        Assert.False(pop.IsCompleted);
        Assert.Equal(":1\r\n", Encoding.ASCII.GetString(await pusher.RunAsync("RPUSH", "queue", "job")));
        Assert.Equal("*2\r\n$5\r\nqueue\r\n$3\r\njob\r\n", Encoding.ASCII.GetString(await pop.WaitAsync(TimeSpan.FromSeconds(30))));
        Assert.Equal(":0\r\n", Encoding.ASCII.GetString(await pusher.RunAsync("EXISTS", "queue")));
    }

    [Fact]
    public async Task A_stream_of_resp_commands_runs_in_order_with_its_database_selection()
    {
        var node = UnstartedNode("--databases", "4");
        var client = node.ConnectLocal();
        var stream = new ArrayBufferWriter<byte>();
        foreach (var command in new[] { new[] { "SELECT", "2" }, ["SET", "a", "1"], ["RPUSH", "l", "x", "y"], ["SELECT", "0"], ["SET", "a", "0"] })
        {
            stream.Write(RespClient.Encode(command));
        }
        byte[] replies = await client.RunRespAsync(new ReadOnlySequence<byte>(stream.WrittenMemory));
        Assert.Equal("+OK\r\n+OK\r\n:2\r\n+OK\r\n+OK\r\n", Encoding.ASCII.GetString(replies));
        var reader = node.ConnectLocal();
        Assert.Equal("$1\r\n0\r\n", Encoding.ASCII.GetString(await reader.RunAsync("GET", "a")));
        await reader.RunAsync("SELECT", "2");
        Assert.Equal("$1\r\n1\r\n", Encoding.ASCII.GetString(await reader.RunAsync("GET", "a")));
        Assert.Equal("-ERR DB index is out of range\r\n", Encoding.ASCII.GetString(await reader.RunAsync("SELECT", "4")));
    }

    [Fact]
    public async Task An_incomplete_command_at_the_end_of_a_stream_is_refused_and_runs_nothing()
    {
        var node = UnstartedNode();
        var client = node.ConnectLocal();
        byte[] full = RespClient.Encode("SET", "k", "v");
        await Assert.ThrowsAsync<CacheOperator.Node.Protocol.ProtocolException>(() => client.RunRespAsync(new ReadOnlySequence<byte>(full.AsMemory(0, full.Length - 3))));
        Assert.Equal(":0\r\n", Encoding.ASCII.GetString(await client.RunAsync("EXISTS", "k")));
    }
}
