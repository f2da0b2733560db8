using System.Net.Sockets;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.PubSub;

/// <summary>
/// Delivery on the node itself: many subscribers and patterns in both protocols get every message in order, a
/// subscriber that never reads is closed at the pubsub output limit while the others miss nothing, subscriptions
/// leave with their connection, introspection counts follow, a replica's subscribers get the master's messages, and
/// StackExchange.Redis and redis-py (its PubSub, with keyspace notifications; the same script against redis-server as
/// the reference) subscribe as they do against Redis.
/// </summary>
public sealed class PubSubDeliveryTests
{
    [Fact]
    public async Task Many_subscribers_and_patterns_in_both_protocols_get_every_message_in_order()
    {
        await using var node = TestNode.Start();
        const int subscribers = 40;
        const int messages = 200;
        var clients = new List<RespClient>();
        try
        {
            for (int i = 0; i < subscribers; i++)
            {
                var client = node.Client();
                clients.Add(client);
                if (i % 2 == 1)
                {
                    client.Call("HELLO", "3");
                }
                // Even clients: the channel itself; odd ones: two patterns that both match it, and one that does not.
                var confirmation = i % 2 == 0 ? client.Call("SUBSCRIBE", "news") : client.Call("PSUBSCRIBE", "ne*", "*s", "other*");
                Assert.Equal(i % 2 == 0 ? "subscribe" : "psubscribe", confirmation.Elements[0].Text);
                if (i % 2 == 1)
                {
                    client.Read();
                    client.Read();
                }
            }
            using var publisher = node.Client();
            for (int m = 0; m < messages; m++)
            {
                // 20 channel subscribers + 20 clients with two matching patterns each.
                Assert.Equal(subscribers / 2 * 3, publisher.Call("PUBLISH", "news", $"m{m}").Integer);
            }
            Assert.Equal(subscribers / 2, publisher.Call("PUBLISH", "other", "x").Integer);
            for (int i = 0; i < subscribers; i++)
            {
                var kind = i % 2 == 1 ? RespKind.Push : RespKind.Array;
                for (int m = 0; m < messages; m++)
                {
                    if (i % 2 == 0)
                    {
                        var message = clients[i].Read();
                        Assert.Equal(kind, message.Kind);
                        Assert.Equal(new[] { "message", "news", $"m{m}" }, message.Texts);
                    }
                    else
                    {
                        var patterns = new[] { clients[i].Read(), clients[i].Read() };
                        Assert.All(patterns, p => Assert.Equal(kind, p.Kind));
                        Assert.Equal(new[] { "*s", "ne*" }, patterns.Select(p => p.Elements[1].Text).Order(StringComparer.Ordinal));
                        Assert.All(patterns, p => Assert.Equal(new[] { "news", $"m{m}" }, p.Texts[2..]));
                    }
                }
                if (i % 2 == 1)
                {
                    Assert.Equal(new[] { "pmessage", "other*", "other", "x" }, clients[i].Read().Texts);
                }
            }
            Assert.Equal(3, publisher.Call("PUBSUB", "NUMPAT").Integer);
            Assert.Equal(new[] { "news", "20" }, publisher.Call("PUBSUB", "NUMSUB", "news").Texts);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_closed_at_the_pubsub_limit_while_publishing_goes_on()
    {
        await using var node = TestNode.Start();
        var log = new StringBuilder();
        node.Server.Log.Output = TextWriter.Synchronized(new StringWriter(log));
        using var publisher = node.Client();
        Assert.Equal("OK", publisher.Call("CONFIG", "SET", "client-output-buffer-limit", "pubsub 2mb 0 0").Text);

        using var slow = new TcpClient();
        slow.ReceiveBufferSize = 4096;
        slow.Connect("127.0.0.1", node.Port);
        slow.GetStream().Write(RespClient.Encode("SUBSCRIBE", "firehose"));
        using var fast = node.Client();
        Assert.Equal("subscribe", fast.Call("SUBSCRIBE", "firehose").Elements[0].Text);
        Wait.Until(() => publisher.Call("PUBSUB", "NUMSUB", "firehose").Elements[1].Integer == 2, "both clients subscribe");

        // 256 KiB messages: the slow client's socket and pipe fill, then its queue passes 2 MB and it is closed. The
        // fast one reads everything meanwhile; every PUBLISH answers at once whatever the slow one does.
        var payload = new string('p', 256 * 1024);
        int published = 0;
        int received = 0;
        Wait.Until(() =>
        {
            for (int i = 0; i < 4; i++)
            {
                long receivers = publisher.Call("PUBLISH", "firehose", $"{published}:{payload}").Integer;
                Assert.InRange(receivers, 1, 2);
                published++;
            }
            for (; received < published; received++)
            {
                var message = fast.Read();
                Assert.StartsWith($"{received}:", message.Elements[2].Text, StringComparison.Ordinal);
            }
            return publisher.Call("PUBSUB", "NUMSUB", "firehose").Elements[1].Integer == 1;
        }, "the slow subscriber is closed and unsubscribed");

        Assert.Contains("scheduled to be closed ASAP for overcoming of output buffer limits", log.ToString(), StringComparison.Ordinal);
        // The fast subscriber is still connected and in subscriber mode; it is the only pubsub client left.
        Assert.Equal(new[] { "pong", "" }, fast.Call("PING").Texts);
        Assert.Single(publisher.Call("CLIENT", "LIST", "TYPE", "pubsub").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal(1, publisher.Call("PUBLISH", "firehose", $"{published++}:after").Integer);
        }
        for (; received < published; received++)
        {
            Assert.StartsWith($"{received}:", fast.Read().Elements[2].Text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Client_list_info_and_disconnects_follow_the_subscriptions()
    {
        await using var node = TestNode.Start();
        using var admin = node.Client();
        var subscriber = node.Client();
        subscriber.Call("HELLO", "3");
        subscriber.Call("SUBSCRIBE", "c1");
        subscriber.Call("SUBSCRIBE", "c2");
        subscriber.Call("PSUBSCRIBE", "p*");
        subscriber.Call("SSUBSCRIBE", "s1");
        string info = subscriber.Call("CLIENT", "INFO").Text!;
        Assert.Contains(" flags=P ", info, StringComparison.Ordinal);
        Assert.Contains(" sub=2 psub=1 ssub=1 ", info, StringComparison.Ordinal);
        Assert.Contains("flags=P", admin.Call("CLIENT", "LIST", "TYPE", "pubsub").Text, StringComparison.Ordinal);
        string stats = admin.Call("INFO", "stats").Text!;
        Assert.Contains("pubsub_channels:2\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("pubsub_patterns:1\r\n", stats, StringComparison.Ordinal);
        Assert.Contains("pubsubshard_channels:1\r\n", stats, StringComparison.Ordinal);

        subscriber.Dispose();
        Wait.Until(() => admin.Call("INFO", "stats").Text!.Contains("pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n", StringComparison.Ordinal),
            "the closed client's subscriptions are gone");
        Assert.Equal(new[] { "c1", "0", "c2", "0" }, admin.Call("PUBSUB", "NUMSUB", "c1", "c2").Texts);
        Assert.Equal(0, admin.Call("PUBLISH", "c1", "x").Integer);
        Assert.Equal("", admin.Call("CLIENT", "LIST", "TYPE", "pubsub").Text);
    }

    [Fact]
    public async Task A_replica_s_subscribers_get_what_is_published_on_its_master()
    {
        await using var master = TestNode.Start();
        await using var replica = TestNode.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var replicaAdmin = replica.Client();
        Wait.Until(() => ReplicationInfo.Info(replicaAdmin, "master_link_status") == "up", "the replica's link is up");
        using var subscriber = replica.Client();
        subscriber.Call("SUBSCRIBE", "from-master");
        using var publisher = master.Client();
        Assert.Equal(0, publisher.Call("PUBLISH", "from-master", "hello").Integer);
        Assert.Equal(new[] { "message", "from-master", "hello" }, subscriber.Read().Texts);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Redis_py_subscribes_and_receives_messages_and_keyspace_notifications(bool againstRedis)
    {
        using var redis = againstRedis ? RedisServerProcess.Start() : null;
        await using var node = againstRedis ? null : TestNode.Start();
        int port = redis?.Port ?? node!.Port;
        string script = Path.Combine(RepoPaths.Root, "tests", "clients", "pubsub_redis_py.py");
        var info = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the client script did not finish");
        Assert.True(process.ExitCode == 0, $"pubsub_redis_py.py failed: {await output}{await error}");
        Assert.Equal("ok 201", (await output).Trim());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task StackExchange_redis_subscribes_and_receives(int protocol)
    {
        await using var node = TestNode.Start();
        var options = ConfigurationOptions.Parse($"127.0.0.1:{node.Port}");
        options.Protocol = protocol == 3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2;
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 10_000;
        options.SyncTimeout = 10_000;
        using var connection = await ConnectionMultiplexer.ConnectAsync(options);
        var subscriber = connection.GetSubscriber();
        var received = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var queue = await subscriber.SubscribeAsync(RedisChannel.Literal("orders"));
        queue.OnMessage(m => received.Enqueue($"{m.Channel}={m.Message}"));
        // Message queues deliver in order (plain handlers may run concurrently).
        var patternQueue = await subscriber.SubscribeAsync(RedisChannel.Pattern("ord*"));
        patternQueue.OnMessage(m => received.Enqueue($"pattern {m.Channel}={m.Message}"));
        using var publisher = node.Client();
        Wait.Until(() => publisher.Call("PUBSUB", "NUMPAT").Integer == 1 && publisher.Call("PUBSUB", "NUMSUB", "orders").Elements[1].Integer == 1, "both subscriptions are made");
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(2, await subscriber.PublishAsync(RedisChannel.Literal("orders"), $"o{i}"));
        }
        Wait.Until(() => received.Count == 20, "every message arrives twice (channel and pattern)");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"orders=o{i}"), received.Where(r => !r.StartsWith("pattern", StringComparison.Ordinal)));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"pattern orders=o{i}"), received.Where(r => r.StartsWith("pattern", StringComparison.Ordinal)));
        // The same connection still runs commands (RESP3), or a second one does (RESP2): both work.
        Assert.True(await connection.GetDatabase().StringSetAsync("k", "v"));
        await subscriber.UnsubscribeAllAsync();
        Wait.Until(() => publisher.Call("PUBSUB", "NUMPAT").Integer == 0 && publisher.Call("PUBSUB", "NUMSUB", "orders").Elements[1].Integer == 0, "unsubscribed");
    }
}
