using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// XREAD BLOCK against redis-server 7.0.15: a waiter is answered by the XADD that passes its ID (on any of its streams),
/// every waiter of a stream gets the entry in the order they blocked, COUNT limits the answer, a timeout answers null,
/// MULTI and scripts never block, and an XADD inside EXEC or a script wakes waiters once it is over.
/// </summary>
public class StreamBlockingTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private int NodeBlocked => servers.Node.Server.Blocking.BlockedCount;

    private static long RedisBlocked(RespClient redis)
    {
        string info = redis.Call("INFO", "clients").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal));
        return long.Parse(line["blocked_clients:".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A client of each server sends <paramref name="command"/> and both are seen blocked.</summary>
    private (RespClient Redis, RespClient Node) BlockBoth(int protocol, params string[] command)
    {
        var redis = servers.Redis.Client();
        var node = servers.Node.Client();
        if (protocol == 3)
        {
            redis.Call("HELLO", "3");
            node.Call("HELLO", "3");
        }
        using var redisAdmin = servers.Redis.Client();
        long redisBefore = RedisBlocked(redisAdmin);
        int nodeBefore = NodeBlocked;
        redis.Send(command);
        node.Send(command);
        Wait.Until(() => RedisBlocked(redisAdmin) > redisBefore, "redis blocks " + string.Join(' ', command));
        Wait.Until(() => NodeBlocked > nodeBefore, "the node blocks " + string.Join(' ', command));
        return (redis, node);
    }

    private static void AssertSame(RespValue expected, RespValue actual, string what) =>
        Assert.True(PairedDifferential.Equal(expected, actual), $"{what}\n  redis: {expected}\n  node:  {actual}");

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xadd_wakes_waiters_in_order_with_the_reply_redis_gives(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "s", "1-1", "f", "old");
        var first = BlockBoth(protocol, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        var second = BlockBoth(protocol, "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "other", "s", "0", "1-1");
        var third = BlockBoth(protocol, "XREAD", "BLOCK", "0", "STREAMS", "s", "5-0");
        // An entry at or below a waiter's ID does not answer it.
        both.Same("XADD", "s", "2-1", "f", "a", "g", "b");
        both.Same("XADD", "s", "3-1", "f", "c");
        AssertSame(first.Redis.Read(), first.Node.Read(), "waiter on $");
        AssertSame(second.Redis.Read(), second.Node.Read(), "waiter with COUNT 1 on two streams");
        Assert.Equal(1, NodeBlocked);
        both.Same("XADD", "s", "6-1", "h", "d");
        AssertSame(third.Redis.Read(), third.Node.Read(), "waiter after 5-0");
        Assert.Equal(0, NodeBlocked);
        foreach (var client in new[] { first.Redis, first.Node, second.Redis, second.Node, third.Redis, third.Node })
        {
            Assert.Equal("PONG", client.Call("PING").Text);
            client.Dispose();
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_waiter_on_several_streams_gets_the_one_that_grew_and_a_new_key_counts(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "a", "10-1", "f", "1");
        var waiter = BlockBoth(protocol, "XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$");
        // Other types and deleted entries do not answer it.
        both.Same("SET", "c", "x");
        both.Same("XDEL", "a", "10-1");
        both.Same("XADD", "b", "1-1", "g", "2");
        AssertSame(waiter.Redis.Read(), waiter.Node.Read(), "waiter on a and b after b was created");
        waiter.Redis.Dispose();
        waiter.Node.Dispose();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Timeouts_multi_and_scripts_never_leave_a_client_blocked(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "s", "1-1", "f", "v");
        both.Same("XREAD", "BLOCK", "50", "STREAMS", "s", "$");
        both.Same("XREAD", "BLOCK", "1", "STREAMS", "nokey", "0");
        both.Same("MULTI");
        both.Same("XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        both.Same("XREAD", "BLOCK", "0", "STREAMS", "s", "0");
        both.Same("EXEC");
        both.Same("EVAL", "return redis.call('XREAD', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')", "1", "s");
        both.Same("EVAL", "return redis.pcall('xread', 'BLOCK', '0', 'STREAMS', KEYS[1], '$')", "1", "s");
        both.Same("EVAL", "return redis.call('XREAD', 'STREAMS', KEYS[1], '0')", "1", "s");
        Assert.Equal(0, NodeBlocked);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xadd_in_exec_or_a_script_wakes_waiters_after_it(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "s", "1-1", "f", "v");
        var waiter = BlockBoth(protocol, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        both.Same("MULTI");
        both.Same("XADD", "s", "2-1", "f", "in-exec");
        both.Same("XADD", "s", "3-1", "f", "in-exec-too");
        both.Same("EXEC");
        // Served after EXEC: both entries of the transaction are in the answer.
        AssertSame(waiter.Redis.Read(), waiter.Node.Read(), "waiter woken by EXEC");
        waiter.Redis.Dispose();
        waiter.Node.Dispose();

        var scripted = BlockBoth(protocol, "XREAD", "BLOCK", "0", "STREAMS", "s", "$");
        both.Same("EVAL", "redis.call('XADD', KEYS[1], '4-1', 'f', 'a'); return redis.call('XADD', KEYS[1], '5-1', 'f', 'b')", "1", "s");
        AssertSame(scripted.Redis.Read(), scripted.Node.Read(), "waiter woken by a script");
        scripted.Redis.Dispose();
        scripted.Node.Dispose();
    }

    [Fact]
    public void A_timed_out_or_unblocked_waiter_answers_null_and_stays_usable()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "quiet");
        Assert.Equal(RespKind.Null, client.Call("XREAD", "BLOCK", "100", "STREAMS", "quiet", "$").Kind);
        using var admin = servers.Node.Client();
        long id = client.Call("CLIENT", "ID").Integer;
        int before = NodeBlocked;
        client.Send("XREAD", "BLOCK", "0", "STREAMS", "quiet", "$");
        Wait.Until(() => NodeBlocked > before, "XREAD BLOCK 0 blocks");
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Integer);
        Assert.Equal(RespKind.Null, client.Read().Kind);
        client.Send("XREAD", "BLOCK", "0", "STREAMS", "quiet", "$");
        Wait.Until(() => NodeBlocked > before, "XREAD BLOCK 0 blocks again");
        Assert.Equal(1, admin.Call("CLIENT", "UNBLOCK", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "ERROR").Integer);
        Assert.Equal("UNBLOCKED client unblocked via CLIENT UNBLOCK", client.Read().Text);
        Assert.Equal("PONG", client.Call("PING").Text);
    }
}
