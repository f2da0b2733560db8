using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.PubSub;

/// <summary>
/// Pub/sub against redis-server 7.0.15, frame by frame: subscription confirmations, messages, pattern and shard
/// messages, RESP2 subscriber mode (its PING and its refusals), RESP3 pushes while every command stays available,
/// PUBSUB introspection and the command table's entries. Each test uses channels of its own (the servers are shared).
/// </summary>
public sealed class PubSubDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Subscriptions_messages_and_unsubscriptions_match_redis(int protocol)
    {
        string p = $"sub{protocol}:";
        using var talk = new PubSubConversation(servers, 2, protocol == 3 ? [0] : []);
        talk.Run(0, "SUBSCRIBE", p + "a", p + "b", p + "a");
        talk.Run(0, "PSUBSCRIBE", p + "*", p + "[ab]", p + "*");
        talk.Run(0, "SSUBSCRIBE", p + "s1", p + "s2");
        talk.Run(1, "PUBLISH", p + "a", "hello");
        talk.Run(1, "PUBLISH", p + "c", "only patterns");
        talk.Run(1, "PUBLISH", p + "s1", "a plain channel named like a shard one");
        talk.Run(1, "SPUBLISH", p + "s1", "sharded");
        talk.Run(1, "SPUBLISH", p + "a", "nobody shards this");
        talk.Run(1, "PUBLISH", p + "b", "");
        talk.Run(1, "PUBLISH", p + "a", "bin\r\n\0ary");
        var frames = talk.Drain(0);
        Assert.Equal(14, frames.Count);
        Assert.All(frames.Take(12), f => Assert.Equal(protocol == 3 ? RespKind.Push : RespKind.Array, f.Kind));
        talk.Run(0, "PING");
        talk.Run(0, "PING", "hi");
        talk.Run(0, "UNSUBSCRIBE", p + "a", p + "nope");
        talk.Run(0, "PUNSUBSCRIBE", p + "*");
        talk.Run(0, "SUNSUBSCRIBE", p + "s2");
        talk.Run(0, "PUNSUBSCRIBE");
        talk.Run(0, "SUNSUBSCRIBE");
        talk.Run(0, "UNSUBSCRIBE");
        talk.Run(0, "UNSUBSCRIBE");
        talk.Run(0, "PUNSUBSCRIBE");
        talk.Run(0, "SUNSUBSCRIBE");
        talk.Run(1, "PUBLISH", p + "a", "after unsubscribing");
        talk.Run(0, "PING");
        talk.Run(0, "GET", p + "key");
    }

    [Fact]
    public void Resp2_subscriber_mode_refuses_other_commands_with_redis_s_error_until_the_last_unsubscription()
    {
        using var talk = new PubSubConversation(servers, 1);
        talk.Run(0, "SUBSCRIBE", "mode2:a");
        foreach (var command in new string[][] { ["GET", "k"], ["SET", "k", "v"], ["PUBLISH", "mode2:a", "x"], ["CLIENT", "INFO"], ["MULTI"], ["HELLO"], ["PUBSUB", "NUMPAT"], ["SELECT", "0"] })
        {
            var frames = talk.Run(0, command);
            Assert.StartsWith("ERR Can't execute", frames[0].Text, StringComparison.Ordinal);
        }
        talk.Run(0, "NOSUCHCOMMAND");
        talk.Run(0, "PSUBSCRIBE", "mode2:*");
        talk.Run(0, "UNSUBSCRIBE");
        talk.Run(0, "GET", "k");
        talk.Run(0, "PUNSUBSCRIBE");
        talk.Run(0, "GET", "k");
        talk.Run(0, "SSUBSCRIBE", "mode2:s");
        talk.Run(0, "GET", "k");
        talk.Run(0, "RESET");
        talk.Run(0, "GET", "k");
    }

    [Fact]
    public void Resp3_subscribers_run_any_command_and_see_their_own_messages_before_the_reply()
    {
        using var talk = new PubSubConversation(servers, 2, 0);
        talk.Run(0, "SUBSCRIBE", "mode3:a");
        talk.Run(0, "PSUBSCRIBE", "mode3:*");
        talk.Run(0, "SET", "mode3:k", "v");
        talk.Run(0, "GET", "mode3:k");
        talk.Run(0, "PUBLISH", "mode3:a", "to myself");
        talk.Run(0, "SSUBSCRIBE", "mode3:s");
        talk.Run(0, "SPUBLISH", "mode3:s", "to my shard self");
        talk.Run(1, "PUBLISH", "mode3:a", "from another");
        talk.Run(0, "DEL", "mode3:k");
        talk.Run(0, "RESET");
        talk.Run(1, "PUBLISH", "mode3:a", "after reset");
    }

    [Fact]
    public void Subscribing_inside_a_transaction_matches_redis()
    {
        using var talk = new PubSubConversation(servers, 1);
        talk.RunExpecting(0, 1, "MULTI");
        talk.RunExpecting(0, 1, "SUBSCRIBE", "multi:a");
        talk.RunExpecting(0, 1, "SSUBSCRIBE", "multi:s");
        talk.RunExpecting(0, 1, "EXEC");
        talk.Run(0, "UNSUBSCRIBE");
    }

    [Fact]
    public void Argument_errors_match_redis()
    {
        using var talk = new PubSubConversation(servers, 1);
        foreach (var command in new string[][]
        {
            ["SUBSCRIBE"], ["PSUBSCRIBE"], ["SSUBSCRIBE"], ["PUBLISH", "a"], ["PUBLISH", "a", "b", "c"], ["SPUBLISH", "a"],
            ["PUBSUB"], ["PUBSUB", "FOO"], ["PUBSUB", "CHANNELS", "a", "b"], ["PUBSUB", "SHARDCHANNELS", "a", "b"], ["PUBSUB", "NUMPAT", "x"],
            ["PUBSUB", "HELP"], ["PUBSUB", "help"], ["PUBSUB", "HELP", "x"], ["PUBSUB", "NUMSUB"], ["PUBSUB", "SHARDNUMSUB"],
            ["PING", "a", "b"],
        })
        {
            talk.Run(0, command);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Pubsub_introspection_matches_redis(int protocol)
    {
        string p = $"intro{protocol}:";
        using var talk = new PubSubConversation(servers, 4, protocol == 3 ? [3] : []);
        talk.Run(0, "SUBSCRIBE", p + "a", p + "b");
        talk.Run(1, "SUBSCRIBE", p + "a", p + "c");
        talk.Run(1, "PSUBSCRIBE", p + "*", p + "a*");
        talk.Run(2, "PSUBSCRIBE", p + "*");
        talk.Run(2, "SSUBSCRIBE", p + "s1", p + "s2");
        talk.Run(0, "SSUBSCRIBE", p + "s1");
        talk.Run(3, "PUBSUB", "NUMSUB", p + "a", p + "b", p + "c", p + "none", p + "s1");
        talk.Run(3, "PUBSUB", "SHARDNUMSUB", p + "s1", p + "s2", p + "a");
        talk.Run(3, "PUBSUB", "CHANNELS", p + "[a]");
        talk.Run(3, "PUBSUB", "CHANNELS", p + "none*");
        talk.Run(3, "PUBSUB", "SHARDCHANNELS", p + "s2");
        Sorted(talk.Run(3, "PUBSUB", "CHANNELS", p + "*"), [p + "a", p + "b", p + "c"]);
        Sorted(talk.Run(3, "PUBSUB", "SHARDCHANNELS", p + "*"), [p + "s1", p + "s2"]);
        talk.Run(3, "PUBLISH", p + "a", "m");
        talk.Run(3, "PUBLISH", p + "ab", "m");
        talk.Run(3, "PUBLISH", p + "s1", "m");
        talk.Run(3, "SPUBLISH", p + "s1", "m");
        talk.Run(1, "PUNSUBSCRIBE", p + "a*");
        talk.Run(3, "PUBLISH", p + "ab", "m");
        talk.Run(0, "UNSUBSCRIBE", p + "a");
        talk.Run(3, "PUBSUB", "NUMSUB", p + "a", p + "b");
        talk.Run(3, "PUBLISH", p + "a", "m");
        for (int i = 0; i < 3; i++)
        {
            talk.Drain(i);
        }
    }

    private static void Sorted(IReadOnlyList<RespValue> frames, string[] expected) =>
        Assert.Equal(expected, frames[0].Texts.Order(StringComparer.Ordinal).ToArray());

    [Fact]
    public void Command_info_and_docs_of_the_family_are_redis_s()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        redis.Call("HELLO", "3");
        node.Call("HELLO", "3");
        foreach (var name in new[] { "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "publish", "ssubscribe", "sunsubscribe", "spublish", "pubsub" })
        {
            foreach (var what in new[] { "INFO", "DOCS" })
            {
                var expected = redis.Call("COMMAND", what, name);
                var actual = node.Call("COMMAND", what, name);
                if (name == "pubsub")
                {
                    // Subcommands are listed in Redis's dictionary order, which is not part of the contract.
                    expected = SortSubcommands(expected, what);
                    actual = SortSubcommands(actual, what);
                }
                Assert.True(PubSubConversation.Same(expected, actual), $"COMMAND {what} {name}\n  redis: {expected}\n  node:  {actual}");
            }
        }
    }

    private static RespValue SortSubcommands(RespValue reply, string what)
    {
        if (what == "INFO")
        {
            var info = reply.Elements[0];
            var items = info.Elements.ToList();
            items[9] = items[9] with { Items = [.. items[9].Elements.OrderBy(e => e.Elements[0].Text, StringComparer.Ordinal)] };
            return reply with { Items = [info with { Items = items }] };
        }
        var docs = reply.Elements[1].Elements.ToList();
        int index = docs.FindIndex(e => e.Text == "subcommands") + 1;
        var pairs = docs[index].Elements.Chunk(2).OrderBy(p => p[0].Text, StringComparer.Ordinal).SelectMany(p => p).ToList();
        docs[index] = docs[index] with { Items = pairs };
        return reply with { Items = [reply.Elements[0], reply.Elements[1] with { Items = docs }] };
    }
}
