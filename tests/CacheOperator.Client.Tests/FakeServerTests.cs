using System.Text;
using System.Threading.Channels;

namespace CacheOperator.Client.Tests;

/// <summary>The connection against a hand-written server: replies split anyhow, cut off, malformed or missing.</summary>
public sealed class FakeServerTests
{
    /// <summary>One reply of every RESP2 and RESP3 type, with attributes and nesting.</summary>
    private const string EveryType =
        "+OK\r\n" + "-ERR bad\r\n" + ":-42\r\n" + "$5\r\nhe\r\nl\r\n" + "$-1\r\n" + "*-1\r\n" + "*0\r\n" + "$0\r\n\r\n"
        + "*2\r\n$1\r\na\r\n*1\r\n:1\r\n" + "%1\r\n+k\r\n~2\r\n#t\r\n#f\r\n" + ",-inf\r\n" + ",1.5\r\n"
        + "(-123456789012345678901234567890\r\n" + "=8\r\nmkd:# hi\r\n" + "_\r\n" + "!9\r\nSYNTAX no\r\n"
        + "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n";

    private const int EveryTypeCount = 17;

    private static void AssertEveryType(RespReply[] replies)
    {
        Assert.Equal(EveryTypeCount, replies.Length);
        Assert.Equal((RespReplyKind.SimpleString, "OK"), (replies[0].Kind, replies[0].AsString()));
        Assert.Equal((RespReplyKind.Error, "ERR bad"), (replies[1].Kind, replies[1].AsString()));
        Assert.Equal(-42, replies[2].Integer);
        Assert.Equal("he\r\nl", replies[3].AsString());
        Assert.Equal((RespReplyKind.Null, (byte)'$'), (replies[4].Kind, replies[4].TypeByte));
        Assert.Equal((RespReplyKind.Null, (byte)'*'), (replies[5].Kind, replies[5].TypeByte));
        Assert.Equal((RespReplyKind.Array, 0), (replies[6].Kind, replies[6].Count));
        Assert.Equal((RespReplyKind.BulkString, ""), (replies[7].Kind, replies[7].AsString()));
        Assert.Equal("a", replies[8][0].AsString());
        Assert.Equal(1, replies[8][1][0].Integer);
        Assert.True(replies[9].TryGetValue("k", out var set));
        Assert.Equal(RespReplyKind.Set, set.Kind);
        Assert.Equal([true, false], set.Children.Select(c => c.AsBoolean()));
        Assert.Equal(double.NegativeInfinity, replies[10].AsDouble());
        Assert.Equal(1.5, replies[11].AsDouble());
        Assert.Equal(System.Numerics.BigInteger.Parse("-123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture), replies[12].AsBigInteger());
        Assert.Equal(("mkd", "# hi"), (replies[13].VerbatimFormat, replies[13].AsString()));
        Assert.Equal((RespReplyKind.Null, (byte)'_'), (replies[14].Kind, replies[14].TypeByte));
        Assert.Equal((RespReplyKind.Error, (byte)'!', "SYNTAX no"), (replies[15].Kind, replies[15].TypeByte, replies[15].AsString()));
        Assert.Equal("v", replies[16].AsString());
        Assert.True(replies[16].Attributes!.TryGetValue("ttl", out var ttl));
        Assert.Equal(3, ttl.Integer);
        Assert.Equal(EveryType, string.Concat(replies.Select(r => Encoding.UTF8.GetString(r.Raw.Span))));
    }

    private static RespBatch Commands(int count)
    {
        var batch = new RespBatch();
        for (int i = 0; i < count; i++)
        {
            batch.Add("CMD", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return batch;
    }

    [Fact]
    public async Task Replies_of_every_type_arriving_one_byte_at_a_time()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync("127.0.0.1", server.Port);
        await accepted;
        var replies = connection.ExecuteBatchAsync(Commands(EveryTypeCount));
        for (int i = 0; i < EveryTypeCount; i++)
        {
            Assert.Equal(["CMD", i.ToString(System.Globalization.CultureInfo.InvariantCulture)], await server.ReadCommandAsync());
        }
        await server.WriteByteByByteAsync(Encoding.UTF8.GetBytes(EveryType));
        AssertEveryType(await replies);
    }

    [Fact]
    public async Task The_frame_reader_completes_a_frame_only_at_its_last_byte()
    {
        var bytes = Encoding.UTF8.GetBytes(EveryType);
        var reader = new RespFrameReader();
        var replies = new List<RespReply>();
        var frameEnds = new List<int>();
        for (int i = 0; i < bytes.Length; i++)
        {
            reader.Append(bytes.AsSpan(i, 1));
            while (reader.TryRead(out var reply))
            {
                replies.Add(reply);
                frameEnds.Add(i + 1);
            }
        }
        Assert.False(reader.HasBufferedData);
        AssertEveryType([.. replies]);
        int end = 0;
        for (int i = 0; i < replies.Count; i++)
        {
            end += replies[i].Raw.Length;
            Assert.Equal(end, frameEnds[i]);
        }
    }

    [Fact]
    public async Task Closing_in_the_middle_of_a_reply_fails_every_pending_request()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync("127.0.0.1", server.Port);
        await accepted;
        var first = connection.ExecuteAsync("GET", "a");
        var second = connection.ExecuteAsync("GET", "b");
        var third = connection.ExecuteBatchAsync(Commands(2));
        for (int i = 0; i < 4; i++)
        {
            await server.ReadCommandAsync();
        }
        await server.WriteAsync(Encoding.UTF8.GetBytes("$3\r\none\r\n$10\r\ntwo"));
        Assert.Equal("one", (await first).AsString());
        server.CloseClient();
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => second);
        Assert.Contains($"127.0.0.1:{server.Port}", failure.Message);
        Assert.Contains("in the middle of a reply", failure.Message);
        Assert.Contains("2 pending request(s) failed", failure.Message);
        Assert.Same(failure, await Assert.ThrowsAsync<RespConnectionException>(() => third));
        Assert.Same(failure, await Assert.ThrowsAsync<RespConnectionException>(() => connection.ExecuteAsync("PING")));
        Assert.Throws<RespConnectionException>(() => connection.Send("PING"));
        var closed = await Assert.ThrowsAsync<ChannelClosedException>(async () => await connection.Pushes.ReadAsync());
        Assert.Same(failure, closed.InnerException);
    }

    [Fact]
    public async Task Bytes_that_are_not_resp_fail_the_connection_with_a_protocol_error()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync("127.0.0.1", server.Port);
        await accepted;
        var pending = connection.ExecuteAsync("PING");
        await server.ReadCommandAsync();
        await server.WriteAsync(Encoding.UTF8.GetBytes("?what\r\n"));
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => pending);
        Assert.IsType<RespProtocolException>(failure.InnerException);
        Assert.Contains("Unknown RESP type byte '?'", failure.Message);
    }

    [Fact]
    public async Task A_reply_nobody_asked_for_fails_the_connection()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync("127.0.0.1", server.Port);
        await accepted;
        await server.WriteAsync(Encoding.UTF8.GetBytes("+surprise\r\n"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (connection.Failure is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the unexpected reply was never noticed");
            await Task.Delay(10);
        }
        Assert.Contains("no request pending", connection.Failure.Message);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out_every_pending_request()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = server.Port, CommandTimeout = TimeSpan.FromMilliseconds(200) });
        await accepted;
        var first = connection.ExecuteAsync("GET", "a");
        var second = connection.ExecuteAsync("GET", "b");
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => first);
        Assert.Contains("no reply within the command timeout", failure.Message);
        Assert.IsType<TimeoutException>(failure.InnerException);
        Assert.Same(failure, await Assert.ThrowsAsync<RespConnectionException>(() => second));
    }

    [Fact]
    public async Task A_handshake_that_gets_no_answer_times_out()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        var failure = await Assert.ThrowsAsync<RespConnectionException>(() => RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Port = server.Port,
            Protocol = 3,
            ConnectTimeout = TimeSpan.FromSeconds(1),
        }));
        // On an overloaded machine even the TCP connect may take the whole second; otherwise the handshake did.
        Assert.Contains("timed out after 00:00:01", failure.Message);
        if (failure.Message.Contains("handshake", StringComparison.Ordinal))
        {
            await accepted;
            Assert.Equal(["HELLO", "3"], await server.ReadCommandAsync());
        }
    }

    [Fact]
    public async Task A_batch_of_a_hundred_commands_arrives_whole_and_is_answered_in_order()
    {
        using var server = new FakeServer();
        var accepted = server.AcceptAsync();
        await using var connection = await RespConnection.ConnectAsync("127.0.0.1", server.Port);
        await accepted;
        var batch = Commands(100);
        var replies = connection.ExecuteBatchAsync(batch);
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal(["CMD", i.ToString(System.Globalization.CultureInfo.InvariantCulture)], await server.ReadCommandAsync());
        }
        await server.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $":{i}\r\n"))));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), (await replies).Select(r => r.Integer));
    }
}
