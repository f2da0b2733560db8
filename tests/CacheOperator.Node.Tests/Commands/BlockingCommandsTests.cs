using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class BlockingCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private int BlockedCount => servers.Node.Server.Blocking.BlockedCount;

    /// <summary>Polls until <paramref name="condition"/> holds; fails after a generous time.</summary>
    /// <summary>Sends a blocking command and waits until the node holds one more blocked client.</summary>
    private RespClient Block(string key, params string[] command)
    {
        var client = servers.Node.Client();
        client.Call("DEL", key);
        int before = BlockedCount;
        client.Send(command);
        Wait.Until(() => BlockedCount > before, $"{string.Join(' ', command)} blocks");
        return client;
    }

    [Fact]
    public void Clients_blocked_on_one_key_are_served_first_come_first_served()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "fifo");
        using var first = Block("fifo", "BLPOP", "fifo", "0");
        using var second = Block("fifo", "BLPOP", "fifo", "0");
        using var third = Block("fifo", "BRPOP", "fifo", "0");
        pusher.Call("RPUSH", "fifo", "a");
        pusher.Call("RPUSH", "fifo", "b");
        pusher.Call("RPUSH", "fifo", "c");
        Assert.Equal(new string?[] { "fifo", "a" }, first.Read().Texts);
        Assert.Equal(new string?[] { "fifo", "b" }, second.Read().Texts);
        Assert.Equal(new string?[] { "fifo", "c" }, third.Read().Texts);
        Assert.Equal(0, pusher.Call("EXISTS", "fifo").Integer);
    }

    [Fact]
    public void One_push_of_several_elements_serves_each_waiter_in_order_and_keeps_the_rest()
    {
        using var pusher = servers.Node.Client();
        using var first = Block("multi-el", "BLPOP", "multi-el", "0");
        using var second = Block("multi-el", "BLMPOP", "0", "1", "multi-el", "RIGHT", "COUNT", "2");
        Assert.Equal(5, pusher.Call("RPUSH", "multi-el", "1", "2", "3", "4", "5").Integer);
        Assert.Equal(new string?[] { "multi-el", "1" }, first.Read().Texts);
        var popped = second.Read();
        Assert.Equal("multi-el", popped.Elements[0].Text);
        Assert.Equal(new string?[] { "5", "4" }, popped.Elements[1].Texts);
        Assert.Equal(new string?[] { "2", "3" }, pusher.Call("LRANGE", "multi-el", "0", "-1").Texts);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_timeout_answers_null(int protocol)
    {
        using var client = servers.Node.Client();
        if (protocol == 3)
        {
            client.Call("HELLO", "3");
        }
        client.Call("DEL", "nothing");
        Assert.Equal(RespKind.Null, client.Call("BLPOP", "nothing", "0.1").Kind);
        Assert.Equal(RespKind.Null, client.Call("BLMOVE", "nothing", "dst", "LEFT", "LEFT", "0.1").Kind);
        Assert.Equal(RespKind.Null, client.Call("BLMPOP", "0.1", "1", "nothing", "LEFT").Kind);
        // The connection goes on normally afterwards.
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.Equal(0, BlockedCount);
    }

    [Fact]
    public void A_push_from_another_client_wakes_a_waiter_on_any_of_its_keys()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "wk1", "wk2");
        using var waiter = Block("wk1", "BRPOP", "wk1", "wk2", "0");
        pusher.Call("LPUSH", "wk2", "x", "y");
        Assert.Equal(new string?[] { "wk2", "x" }, waiter.Read().Texts);
        Assert.Equal(new string?[] { "y" }, pusher.Call("LRANGE", "wk2", "0", "-1").Texts);
    }

    [Fact]
    public void Blmove_moves_atomically_and_its_push_wakes_the_destination_waiter()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "mv-src", "mv-dst");
        using var mover = Block("mv-src", "BLMOVE", "mv-src", "mv-dst", "RIGHT", "LEFT", "0");
        using var popper = Block("mv-dst", "BLPOP", "mv-dst", "0");
        pusher.Call("RPUSH", "mv-src", "a", "b");
        Assert.Equal("b", mover.Read().Text);
        Assert.Equal(new string?[] { "mv-dst", "b" }, popper.Read().Texts);
        Assert.Equal(new string?[] { "a" }, pusher.Call("LRANGE", "mv-src", "0", "-1").Texts);
        Assert.Equal(0, pusher.Call("EXISTS", "mv-dst").Integer);
    }

    [Fact]
    public void A_waiter_that_disconnects_is_forgotten_and_the_next_push_is_not_lost()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "gone");
        var leaving = Block("gone", "BLPOP", "gone", "0");
        leaving.Dispose();
        Wait.Until(() => BlockedCount == 0, "the disconnected waiter is forgotten");
        pusher.Call("RPUSH", "gone", "kept");
        Assert.Equal(new string?[] { "kept" }, pusher.Call("LRANGE", "gone", "0", "-1").Texts);
    }

    [Fact]
    public void When_the_first_waiter_disconnects_the_push_goes_to_the_next_one()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "gone2");
        var leaving = Block("gone2", "BLPOP", "gone2", "0");
        using var staying = Block("gone2", "BLPOP", "gone2", "0");
        leaving.Dispose();
        Wait.Until(() => BlockedCount == 1, "the disconnected waiter is forgotten");
        pusher.Call("RPUSH", "gone2", "v");
        Assert.Equal(new string?[] { "gone2", "v" }, staying.Read().Texts);
    }

    [Fact]
    public void A_push_inside_multi_wakes_the_waiter_only_after_exec()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "tx-key");
        using var waiter = Block("tx-key", "BLPOP", "tx-key", "0");
        Assert.Equal("OK", pusher.Call("MULTI").Text);
        Assert.Equal("QUEUED", pusher.Call("RPUSH", "tx-key", "x", "y").Text);
        Assert.Equal("QUEUED", pusher.Call("LRANGE", "tx-key", "0", "-1").Text);
        var results = pusher.Call("EXEC");
        // Inside the transaction the list is whole: the waiter was not served between the commands.
        Assert.Equal(new string?[] { "x", "y" }, results.Elements[1].Texts);
        Assert.Equal(new string?[] { "tx-key", "x" }, waiter.Read().Texts);
        Assert.Equal(new string?[] { "y" }, pusher.Call("LRANGE", "tx-key", "0", "-1").Texts);
    }

    [Fact]
    public void A_key_pushed_and_deleted_inside_one_transaction_leaves_the_waiter_blocked()
    {
        using var pusher = servers.Node.Client();
        pusher.Call("DEL", "tx-del");
        using var waiter = Block("tx-del", "BLPOP", "tx-del", "0");
        pusher.Call("MULTI");
        pusher.Call("RPUSH", "tx-del", "x");
        pusher.Call("DEL", "tx-del");
        pusher.Call("EXEC");
        pusher.Call("SET", "tx-del", "a string");
        pusher.Call("DEL", "tx-del");
        Assert.True(BlockedCount >= 1);
        pusher.Call("RPUSH", "tx-del", "later");
        Assert.Equal(new string?[] { "tx-del", "later" }, waiter.Read().Texts);
    }

    [Fact]
    public void Replies_before_a_blocking_command_are_sent_and_commands_after_it_run_once_it_is_served()
    {
        using var pusher = servers.Node.Client();
        using var client = servers.Node.Client();
        client.Call("DEL", "pipe");
        var request = new MemoryStream();
        request.Write(RespClient.Encode("PING"));
        request.Write(RespClient.Encode("BLPOP", "pipe", "0"));
        request.Write(RespClient.Encode("ECHO", "after"));
        client.SendRaw(request.ToArray());
        Assert.Equal("PONG", client.Read().Text);
        Wait.Until(() => BlockedCount >= 1, "the pipelined BLPOP blocks");
        // More bytes while blocked are kept for later, not lost.
        client.Send("ECHO", "sent while blocked");
        pusher.Call("RPUSH", "pipe", "v");
        Assert.Equal(new string?[] { "pipe", "v" }, client.Read().Texts);
        Assert.Equal("after", client.Read().Text);
        Assert.Equal("sent while blocked", client.Read().Text);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void A_wait_that_ends_while_earlier_replies_are_still_being_flushed_answers_after_them()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "huge", "never");
        var big = new byte[16 * 1024 * 1024];
        Array.Fill(big, (byte)'x');
        client.Call("RPUSH"u8.ToArray(), "huge"u8.ToArray(), big);
        var request = new MemoryStream();
        request.Write(RespClient.Encode("LRANGE", "huge", "0", "-1"));
        request.Write(RespClient.Encode("BLPOP", "never", "0.01"));
        client.SendRaw(request.ToArray());
        // Not reading yet: the flush of the big reply stalls, and the short wait times out meanwhile.
        Thread.Sleep(300);
        Assert.Equal(big.Length, client.Read().Elements[0].Bytes!.Length);
        Assert.Equal(RespKind.Null, client.Read().Kind);
        Assert.Equal("PONG", client.Call("PING").Text);
        client.Call("DEL", "huge");
    }

    [Fact]
    public void Binary_keys_and_values_are_served_to_waiters_exactly()
    {
        byte[] key = [0, 13, 10, 200];
        byte[] value = Encoding.UTF8.GetBytes("v\r\n\0");
        using var pusher = servers.Node.Client();
        using var waiter = servers.Node.Client();
        waiter.Call("DEL"u8.ToArray(), key);
        int before = BlockedCount;
        waiter.Send("BLPOP"u8.ToArray(), key, "0"u8.ToArray());
        Wait.Until(() => BlockedCount > before, "BLPOP blocks");
        pusher.Call("RPUSH"u8.ToArray(), key, value);
        var reply = waiter.Read();
        Assert.Equal(key, reply.Elements[0].Bytes);
        Assert.Equal(value, reply.Elements[1].Bytes);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Blocking_commands_inside_multi_answer_null_at_once_as_redis(int protocol)
    {
        using (var node = servers.Node.Client())
        {
            node.Call("DEL", "missing", "dst");
        }
        servers.AssertSameReplies(protocol,
            ["MULTI"],
            ["BLPOP", "missing", "0"],
            ["BRPOP", "missing", "0"],
            ["BLMOVE", "missing", "dst", "LEFT", "LEFT", "0"],
            ["BRPOPLPUSH", "missing", "dst", "0"],
            ["BLMPOP", "0", "1", "missing", "LEFT"],
            ["BLPOP", "missing", "-1"],
            ["EXEC"]);
    }
}
