using System.Text;

namespace CacheOperator.Client.Tests;

/// <summary>The pipelined connection against real redis-server 7.0.15 and our node, over real sockets.</summary>
public sealed class ConnectionTests(Servers servers) : IClassFixture<Servers>
{
    public static TheoryData<string> Both => new() { "redis", "node" };

    private static string Key(string name) => $"client:{name}:{Guid.NewGuid():N}";

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Ten_thousand_pipelined_commands_get_their_own_replies_in_order(string server)
    {
        await using var connection = await servers.Connect(server);
        string key = Key("pipeline");
        var replies = new Task<RespReply>[10_000];
        for (int i = 0; i < replies.Length; i++)
        {
            replies[i] = i % 2 == 0 ? connection.ExecuteAsync("INCR", key) : connection.ExecuteAsync("ECHO", $"echo-{i}");
        }
        await Task.WhenAll(replies);
        for (int i = 0; i < replies.Length; i++)
        {
            var reply = await replies[i];
            if (i % 2 == 0)
            {
                Assert.Equal(RespReplyKind.Integer, reply.Kind);
                Assert.Equal(i / 2 + 1, reply.Integer);
            }
            else
            {
                Assert.Equal($"echo-{i}", reply.AsString());
            }
        }
        Assert.Equal(0, connection.PendingCount);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task A_batch_of_a_thousand_commands_is_answered_in_order(string server)
    {
        await using var connection = await servers.Connect(server);
        string key = Key("batch");
        var batch = new RespBatch();
        for (int i = 0; i < 1000; i++)
        {
            batch.Add("RPUSH", key, $"v{i}");
        }
        batch.Add("LRANGE", key, "0", "-1");
        var replies = await connection.ExecuteBatchAsync(batch);
        Assert.Equal(1001, replies.Length);
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(i + 1, replies[i].Integer);
        }
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"v{i}"), replies[1000].Strings());

        batch.Clear();
        batch.Add("LLEN", key).Add("DEL", key);
        var again = await connection.ExecuteBatchAsync(batch);
        Assert.Equal([1000L, 1L], again.Select(r => r.Integer));
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Concurrent_callers_share_one_connection(string server)
    {
        await using var connection = await servers.Connect(server);
        string prefix = Key("concurrent");
        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            string key = $"{prefix}:{caller}";
            for (int i = 1; i <= 300; i++)
            {
                if (i % 3 == 0)
                {
                    var batch = new RespBatch().Add("INCR", key).Add("GET", key);
                    var replies = await connection.ExecuteBatchAsync(batch);
                    Assert.Equal(i, replies[0].Integer);
                    Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), replies[1].AsString());
                }
                else
                {
                    var reply = await connection.ExecuteAsync("INCR", key);
                    Assert.Equal(i, reply.Integer);
                }
            }
        })).ToArray();
        await Task.WhenAll(callers);
        for (int caller = 0; caller < 8; caller++)
        {
            Assert.Equal(300, (await connection.ExecuteAsync("GET", $"{prefix}:{caller}")).AsInt64());
        }
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Error_replies_are_replies_and_the_connection_goes_on(string server)
    {
        await using var connection = await servers.Connect(server);
        string key = Key("errors");
        await connection.ExecuteAsync("SET", key, "not a number");
        var batch = new RespBatch().Add("INCR", key).Add("LPUSH", key, "x").Add("NOSUCHCOMMAND").Add("GET", key);
        var replies = await connection.ExecuteBatchAsync(batch);
        Assert.True(replies[0].IsError);
        Assert.Equal("ERR value is not an integer or out of range", replies[0].AsString());
        Assert.Equal("WRONGTYPE Operation against a key holding the wrong kind of value", replies[1].AsString());
        Assert.StartsWith("ERR unknown command 'NOSUCHCOMMAND'", replies[2].AsString());
        Assert.Equal("not a number", replies[3].AsString());
        var thrown = Assert.Throws<RespErrorReplyException>(() => replies[1].ThrowIfError());
        Assert.StartsWith("WRONGTYPE", thrown.Message);
        Assert.Same(replies[3], replies[3].ThrowIfError());
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task A_ten_megabyte_bulk_goes_out_and_comes_back_intact(string server)
    {
        await using var connection = await servers.Connect(server);
        string key = Key("big");
        var value = new byte[10 * 1024 * 1024];
        new Random(42).NextBytes(value);
        Assert.Equal("OK", (await connection.ExecuteAsync([Encoding.UTF8.GetBytes("SET"), Encoding.UTF8.GetBytes(key), value])).AsString());
        var batch = new RespBatch().Add("GET", key).Add("STRLEN", key).Add("GET", key);
        var replies = await connection.ExecuteBatchAsync(batch);
        Assert.True(replies[0].Span.SequenceEqual(value));
        Assert.Equal(value.Length, replies[1].Integer);
        Assert.True(replies[2].Span.SequenceEqual(value));
        Assert.Equal(value.Length + $"${value.Length}\r\n\r\n".Length, replies[0].Raw.Length);
        await connection.ExecuteAsync("DEL", key);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Hello_3_auth_setname_and_select_on_connect(string server)
    {
        await using var resp3 = await RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Port = servers.Port(server),
            Protocol = 3,
            ClientName = "client-tests",
            Database = 2,
        });
        Assert.Equal(3, resp3.Protocol);
        Assert.NotNull(resp3.Hello);
        Assert.Equal(RespReplyKind.Map, resp3.Hello.Kind);
        Assert.True(resp3.Hello.TryGetValue("proto", out var proto));
        Assert.Equal(3, proto.Integer);
        Assert.Equal("client-tests", (await resp3.ExecuteAsync("CLIENT", "GETNAME")).AsString());
        string key = Key("db2");
        await resp3.ExecuteAsync("SET", key, "in db 2");
        await using var resp2 = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = servers.Port(server), Database = 2, ClientName = "second" });
        Assert.Equal("in db 2", (await resp2.ExecuteAsync("GET", key)).AsString());
        Assert.Equal("second", (await resp2.ExecuteAsync("CLIENT", "GETNAME")).AsString());
        Assert.Equal(RespReplyKind.Map, (await resp3.ExecuteAsync("CONFIG", "GET", "maxmemory")).Kind);
        Assert.Equal(RespReplyKind.Array, (await resp2.ExecuteAsync("CONFIG", "GET", "maxmemory")).Kind);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task A_refused_handshake_step_throws_with_the_servers_error(string server)
    {
        var refused = await Assert.ThrowsAsync<RespErrorReplyException>(() => RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Port = servers.Port(server),
            Database = 100000,
        }));
        Assert.Contains("refused SELECT", refused.Message);
        Assert.Equal("ERR DB index is out of range", refused.Reply.AsString());
    }

    [Fact]
    public async Task Auth_with_user_and_password_on_a_node_with_requirepass()
    {
        await using var node = Node.Tests.Infrastructure.TestNode.Start("--requirepass", "s3cret");
        await using (var resp2 = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = node.Port, Password = "s3cret" }))
        {
            Assert.Equal("PONG", (await resp2.ExecuteAsync("PING")).AsString());
        }
        await using (var resp3 = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = node.Port, Protocol = 3, User = "default", Password = "s3cret" }))
        {
            Assert.Equal("PONG", (await resp3.ExecuteAsync("PING")).AsString());
        }
        var wrong = await Assert.ThrowsAsync<RespErrorReplyException>(() => RespConnection.ConnectAsync(new RespConnectionOptions { Port = node.Port, Password = "wrong" }));
        Assert.StartsWith("WRONGPASS", wrong.Reply.AsString());
        await using var anonymous = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = node.Port });
        Assert.StartsWith("NOAUTH", (await anonymous.ExecuteAsync("GET", "k")).AsString());
    }

    [Fact]
    public async Task Every_resp3_type_from_debug_protocol_on_redis()
    {
        await using var connection = await servers.Connect("redis", 3);
        async Task<RespReply> Debug(string type) => await connection.ExecuteAsync("DEBUG", "PROTOCOL", type);

        var text = await Debug("string");
        Assert.Equal((RespReplyKind.BulkString, "Hello World"), (text.Kind, text.AsString()));
        Assert.Equal(12345, (await Debug("integer")).AsInt64());
        var pi = await Debug("double");
        Assert.Equal((RespReplyKind.Double, 3.141), (pi.Kind, pi.AsDouble()));
        var big = await Debug("bignum");
        Assert.Equal(RespReplyKind.BigNumber, big.Kind);
        Assert.Equal(System.Numerics.BigInteger.Parse("1234567999999999999999999999999999999", System.Globalization.CultureInfo.InvariantCulture), big.AsBigInteger());
        var nil = await Debug("null");
        Assert.Equal((RespReplyKind.Null, (byte)'_'), (nil.Kind, nil.TypeByte));
        Assert.Null(nil.AsString());
        var array = await Debug("array");
        Assert.Equal(RespReplyKind.Array, array.Kind);
        Assert.Equal([0L, 1L, 2L], array.Children.Select(c => c.Integer));
        var set = await Debug("set");
        Assert.Equal(RespReplyKind.Set, set.Kind);
        Assert.Equal(3, set.Count);
        var map = await Debug("map");
        Assert.Equal(RespReplyKind.Map, map.Kind);
        Assert.Equal([false, true, false], [map[1].AsBoolean(), map[3].AsBoolean(), map[5].AsBoolean()]);
        Assert.Equal(RespReplyKind.Boolean, map[1].Kind);
        Assert.True((await Debug("true")).AsBoolean());
        Assert.False((await Debug("false")).AsBoolean());
        var verbatim = await Debug("verbatim");
        Assert.Equal(RespReplyKind.VerbatimString, verbatim.Kind);
        Assert.Equal("txt", verbatim.VerbatimFormat);
        Assert.Equal("This is a verbatim\nstring", verbatim.AsString());

        var attributed = await Debug("attrib");
        Assert.Equal("Some real reply following the attribute", attributed.AsString());
        Assert.NotNull(attributed.Attributes);
        Assert.Equal(RespReplyKind.Attribute, attributed.Attributes.Kind);
        Assert.True(attributed.Attributes.TryGetValue("key-popularity", out var popularity));
        Assert.Equal(["key:123", "90"], popularity.Strings());
        Assert.Equal((byte)'|', attributed.Raw.Span[0]);
    }

    [Fact]
    public async Task Raw_bytes_are_exactly_what_the_server_sent()
    {
        string[][] commands =
        [
            ["DEBUG", "PROTOCOL", "map"], ["DEBUG", "PROTOCOL", "attrib"], ["DEBUG", "PROTOCOL", "verbatim"],
            ["DEBUG", "PROTOCOL", "double"], ["DEBUG", "PROTOCOL", "null"], ["CONFIG", "GET", "port"], ["NOSUCHCOMMAND", "x"],
        ];
        await using var connection = await servers.Connect("redis", 3);
        var batch = new RespBatch();
        foreach (var command in commands)
        {
            batch.Add(command);
        }
        var replies = await connection.ExecuteBatchAsync(batch);
        var actual = replies.SelectMany(r => r.Raw.ToArray()).ToArray();

        // The same commands over a plain socket: the concatenated raw replies are the byte stream, and nothing follows.
        using var socket = new System.Net.Sockets.TcpClient("127.0.0.1", servers.Redis.Port);
        var stream = socket.GetStream();
        stream.Write(RespCommandEncoder.Encode("HELLO", "3"));
        new RespFrameReader().Read(stream);
        stream.Write(commands.SelectMany(c => RespCommandEncoder.Encode(c)).Concat(RespCommandEncoder.Encode("PING")).ToArray());
        var expected = new byte[actual.Length + "+PONG\r\n".Length];
        stream.ReadExactly(expected);
        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(actual) + "+PONG\r\n");
    }

    [Fact]
    public async Task Push_frames_from_subscribe_and_publish_never_match_a_request()
    {
        await using var subscriber = await servers.Connect("redis", 3);
        await using var publisher = await servers.Connect("redis");
        string channel = Key("channel");
        subscriber.Send("SUBSCRIBE", channel);
        var confirmation = await subscriber.Pushes.ReadAsync();
        Assert.Equal(RespReplyKind.Push, confirmation.Kind);
        Assert.Equal(["subscribe", channel, "1"], confirmation.Strings());

        // Requests on the subscribed RESP3 connection keep getting their own replies while messages arrive.
        var pings = new List<Task<RespReply>>();
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(1, (await publisher.ExecuteAsync("PUBLISH", channel, $"m{i}")).Integer);
            pings.Add(subscriber.ExecuteAsync("PING", $"p{i}"));
        }
        for (int i = 0; i < 100; i++)
        {
            var message = await subscriber.Pushes.ReadAsync();
            Assert.Equal(["message", channel, $"m{i}"], message.Strings());
            Assert.Equal($"p{i}", (await pings[i]).AsString());
        }
        Assert.Equal(RespReplyKind.BulkString, (await pings[0]).Kind);

        // DEBUG PROTOCOL push: a push frame, then the command's real reply.
        var reply = await subscriber.ExecuteAsync("DEBUG", "PROTOCOL", "push");
        Assert.Equal("Some real reply following the push reply", reply.AsString());
        var push = await subscriber.Pushes.ReadAsync();
        Assert.Equal(["server-cpu-usage", "42"], push.Strings());
    }

    [Fact]
    public async Task A_push_handler_receives_pushes_on_the_receive_loop()
    {
        var received = new System.Collections.Concurrent.BlockingCollection<RespReply>();
        await using var subscriber = await RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Port = servers.Redis.Port,
            Protocol = 3,
            PushHandler = received.Add,
        });
        await using var publisher = await servers.Connect("redis");
        string channel = Key("handler");
        subscriber.Send("SUBSCRIBE", channel);
        Assert.True(received.TryTake(out var subscribed, TimeSpan.FromSeconds(30)));
        Assert.Equal("subscribe", subscribed[0].AsString());
        await publisher.ExecuteAsync("PUBLISH", channel, "hello");
        Assert.True(received.TryTake(out var message, TimeSpan.FromSeconds(30)));
        Assert.Equal(["message", channel, "hello"], message.Strings());
        Assert.Equal("PONG", (await subscriber.ExecuteAsync("PING")).AsString());
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task A_cancelled_request_drops_its_reply_and_the_next_gets_its_own(string server)
    {
        await using var connection = await servers.Connect(server);
        using var cancel = new CancellationTokenSource();
        var blocked = connection.ExecuteAsync(["BLPOP", Key("empty"), "0.2"], cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => blocked);
        Assert.Equal("after", (await connection.ExecuteAsync("ECHO", "after")).AsString());
        Assert.Equal(0, connection.PendingCount);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task The_server_closing_the_connection_fails_pending_and_later_requests(string server)
    {
        await using var victim = await servers.Connect(server);
        long id = (await victim.ExecuteAsync("CLIENT", "ID")).Integer;
        var blocked = victim.ExecuteAsync("BLPOP", Key("never"), "0");
        await using var killer = await servers.Connect(server);
        Assert.Equal(1, (await killer.ExecuteAsync("CLIENT", "KILL", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture))).Integer);
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => blocked);
        Assert.Contains("closed by the server", failure.Message);
        Assert.Contains("1 pending request(s) failed", failure.Message);
        await Assert.ThrowsAsync<RespConnectionException>(() => victim.ExecuteAsync("PING"));
        Assert.NotNull(victim.Failure);
    }

    [Theory]
    [MemberData(nameof(Both))]
    public async Task Disposing_fails_pending_requests_and_a_cancelled_batch_drops_its_replies(string server)
    {
        var connection = await servers.Connect(server);
        using var cancel = new CancellationTokenSource();
        var batch = new RespBatch().Add("BLPOP", Key("empty"), "0.2").Add("ECHO", "dropped");
        var cancelled = connection.ExecuteBatchAsync(batch, cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        ReadOnlyMemory<byte>[] echo = [Encoding.UTF8.GetBytes("ECHO"), Encoding.UTF8.GetBytes("binary\0arg")];
        Assert.Equal("binary\0arg", (await connection.ExecuteAsync(echo)).AsString());

        var blocked = connection.ExecuteAsync("BLPOP", Key("never"), "0");
        await connection.DisposeAsync();
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => blocked);
        Assert.Contains("disposed", failure.Message);
        Assert.Contains("1 pending request(s) failed", failure.Message);
    }

    [Fact]
    public async Task Connecting_to_a_port_nobody_listens_on_fails_clearly()
    {
        int port = Node.Tests.Infrastructure.NodeProcess.FreePort();
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => RespConnection.ConnectAsync("127.0.0.1", port));
        Assert.Contains($"127.0.0.1:{port}", failure.Message);
    }
}
