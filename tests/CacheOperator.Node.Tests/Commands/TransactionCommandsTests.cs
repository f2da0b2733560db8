using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class TransactionCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Reset_and_quit_run_at_once_inside_multi_and_transaction_commands_show_redis_flags()
    {
        servers.AssertSameReplies(
            ["MULTI"],
            ["SET", "k", "v"],
            ["RESET"],
            ["EXEC"],
            ["GET", "k"],
            ["COMMAND", "INFO", "multi", "exec", "discard", "watch", "quit", "reset"]);
    }

    private void AssertSameReplies(int protocol, params string[][] commands)
    {
        using (var node = servers.Node.Client())
        {
            node.Call("DEL", "k", "l", "str", "w");
        }
        servers.AssertSameReplies(protocol, commands);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Multi_exec_discard_and_their_errors_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["EXEC"],
            ["DISCARD"],
            ["MULTI"],
            ["MULTI"],
            ["SET", "k", "v"],
            ["RPUSH", "l", "a", "b"],
            ["GET", "k"],
            ["LPOP", "k"],
            ["LRANGE", "l", "0", "-1"],
            ["WATCH", "k"],
            ["UNWATCH"],
            ["EXEC"],
            ["EXEC"],
            ["MULTI"],
            ["EXEC"],
            ["MULTI"],
            ["SET", "k", "queued-then-discarded"],
            ["DISCARD"],
            ["GET", "k"],
            ["DISCARD"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_while_queueing_abort_the_transaction_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["MULTI"],
            ["SET", "k", "v"],
            ["NOSUCHCOMMAND", "x"],
            ["EXEC"],
            ["GET", "k"],
            ["MULTI"],
            ["SET", "k"],
            ["EXEC"],
            ["MULTI"],
            ["LPUSH", "k"],
            ["DISCARD"],
            ["MULTI"],
            ["SET", "str", "x"],
            ["LPUSH", "str", "a"],
            ["GET", "str"],
            ["EXEC"]);
    }

    [Fact]
    public void Exec_answers_null_when_another_client_modified_a_watched_key()
    {
        using var client = servers.Node.Client();
        using var other = servers.Node.Client();
        client.Call("DEL", "w");
        Assert.Equal("OK", client.Call("WATCH", "w").Text);
        other.Call("SET", "w", "theirs");
        client.Call("MULTI");
        client.Call("SET", "w", "mine");
        Assert.Equal(RespKind.Null, client.Call("EXEC").Kind);
        Assert.Equal("theirs", client.Call("GET", "w").Text);
        // The failed EXEC unwatched everything: the next transaction runs.
        client.Call("MULTI");
        client.Call("SET", "w", "mine");
        Assert.Equal(new string?[] { "OK" }, client.Call("EXEC").Texts);
    }

    [Fact]
    public void An_in_place_list_change_of_a_watched_key_fails_exec()
    {
        using var client = servers.Node.Client();
        using var other = servers.Node.Client();
        client.Call("DEL", "wl");
        client.Call("RPUSH", "wl", "a");
        client.Call("WATCH", "wl");
        other.Call("RPUSH", "wl", "b");
        client.Call("MULTI");
        client.Call("LPOP", "wl");
        Assert.Equal(RespKind.Null, client.Call("EXEC").Kind);
        Assert.Equal(2, client.Call("LLEN", "wl").Integer);
    }

    [Fact]
    public void Exec_runs_when_watched_keys_were_not_modified_or_only_by_the_transaction_itself()
    {
        using var client = servers.Node.Client();
        using var other = servers.Node.Client();
        client.Call("DEL", "w1", "w2");
        client.Call("WATCH", "w1", "w2");
        other.Call("DEL", "w1");
        other.Call("LPUSHX", "w2", "nothing happens");
        other.Call("SET", "unwatched", "x");
        client.Call("MULTI");
        client.Call("SET", "w1", "mine");
        client.Call("RPUSH", "w2", "mine");
        Assert.Equal(2, client.Call("EXEC").Elements.Count);
    }

    [Fact]
    public void Discard_and_unwatch_forget_watched_keys()
    {
        using var client = servers.Node.Client();
        using var other = servers.Node.Client();
        client.Call("WATCH", "w3");
        client.Call("MULTI");
        client.Call("DISCARD");
        other.Call("SET", "w3", "x");
        client.Call("MULTI");
        Assert.Empty(client.Call("EXEC").Elements);
        client.Call("WATCH", "w3");
        client.Call("UNWATCH");
        other.Call("SET", "w3", "y");
        client.Call("MULTI");
        client.Call("GET", "w3");
        Assert.Equal(new string?[] { "y" }, client.Call("EXEC").Texts);
    }

    [Fact]
    public void A_watched_key_in_another_database_is_told_apart()
    {
        using var client = servers.Node.Client();
        using var other = servers.Node.Client();
        client.Call("WATCH", "w4");
        other.Call("SELECT", "1");
        other.Call("SET", "w4", "other db");
        client.Call("MULTI");
        client.Call("PING");
        Assert.Equal(new string?[] { "PONG" }, client.Call("EXEC").Texts);
        client.Call("WATCH", "w4");
        other.Call("SELECT", "0");
        other.Call("SET", "w4", "same db");
        client.Call("MULTI");
        client.Call("PING");
        Assert.Equal(RespKind.Null, client.Call("EXEC").Kind);
    }

    [Fact]
    public void A_watched_key_that_expires_before_exec_fails_it_as_in_redis_7()
    {
        using var client = servers.Node.Client();
        long expiresAt;
        do
        {
            // The key must still be alive when WATCH runs (a loaded machine may be slow); otherwise try again.
            client.Call("UNWATCH");
            expiresAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 300;
            client.Call("SET", "w5", "v", "PXAT", expiresAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            client.Call("WATCH", "w5");
        }
        while (client.Call("PTTL", "w5").Integer <= 0);
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() <= expiresAt + 20)
        {
            Thread.Sleep(20);
        }
        client.Call("MULTI");
        client.Call("PING");
        Assert.Equal(RespKind.Null, client.Call("EXEC").Kind);
    }

    [Fact]
    public void Watch_inside_multi_is_refused_without_aborting()
    {
        using var client = servers.Node.Client();
        client.Call("MULTI");
        Assert.Equal("ERR WATCH inside MULTI is not allowed", client.Call("WATCH", "x").Text);
        Assert.Equal("QUEUED", client.Call("PING").Text);
        Assert.Equal(new string?[] { "PONG" }, client.Call("EXEC").Texts);
    }
}
