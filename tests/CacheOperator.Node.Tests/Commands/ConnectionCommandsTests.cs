using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class ConnectionCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Select_refuses_bad_database_numbers_with_redis_errors()
    {
        servers.AssertSameReplies(
            ["SELECT", "abc"],
            ["SELECT", "-1"],
            ["SELECT", "16"],
            ["SELECT", "4294967296"],
            ["SELECT", "15"],
            ["SELECT", "0"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reset_and_client_errors_answer_exactly_as_redis(int protocol)
    {
        servers.AssertSameReplies(protocol,
            ["RESET"],
            ["RESET", "x"],
            ["CLIENT"],
            ["CLIENT", "foo"],
            ["CLIENT", "GETNAME"],
            ["CLIENT", "SETNAME", "a b"],
            ["CLIENT", "SETNAME", "a\nb"],
            ["CLIENT", "SETNAME", "conn-1"],
            ["CLIENT", "GETNAME"],
            ["CLIENT", "SETNAME", ""],
            ["CLIENT", "GETNAME"],
            ["CLIENT", "GETNAME", "x"],
            ["CLIENT", "ID", "x"],
            ["CLIENT", "NO-EVICT", "on"],
            ["CLIENT", "NO-EVICT", "OFF"],
            ["CLIENT", "NO-EVICT", "maybe"],
            ["CLIENT", "KILL"],
            ["CLIENT", "KILL", "1.2.3.4:5"],
            ["CLIENT", "KILL", "addr"],
            ["CLIENT", "KILL", "ID", "999999"],
            ["CLIENT", "KILL", "ID", "abc"],
            ["CLIENT", "KILL", "ID", "0"],
            ["CLIENT", "KILL", "ID", "-3"],
            ["CLIENT", "KILL", "foo", "bar"],
            ["CLIENT", "KILL", "ID", "1", "ID"],
            ["CLIENT", "KILL", "SKIPME", "maybe"],
            ["CLIENT", "KILL", "TYPE", "foo"],
            ["CLIENT", "KILL", "TYPE", "master"],
            ["CLIENT", "KILL", "TYPE", "pubsub", "SKIPME", "yes"],
            ["CLIENT", "KILL", "USER", "nobody"],
            ["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
            ["CLIENT", "KILL", "MAXAGE", "1"],
            ["CLIENT", "LIST", "TYPE", "foo"],
            ["CLIENT", "LIST", "TYPE", "replica"],
            ["CLIENT", "LIST", "ID", "abc"],
            ["CLIENT", "LIST", "ID", "0"],
            ["CLIENT", "LIST", "ID", "999999"],
            ["CLIENT", "LIST", "foo"],
            ["CLIENT", "LIST", "TYPE"],
            ["CLIENT", "HELP", "x"]);
    }

    [Fact]
    public void Reset_returns_to_resp2_database_0_and_no_name()
    {
        using var client = servers.Node.Client();
        Assert.Equal(RespKind.Map, client.Call("HELLO", "3").Kind);
        Assert.Equal("OK", client.Call("SELECT", "5").Text);
        Assert.Equal("OK", client.Call("CLIENT", "SETNAME", "before").Text);
        Assert.Equal("OK", client.Call("CLIENT", "NO-EVICT", "on").Text);
        Assert.Contains("flags=e ", client.Call("CLIENT", "INFO").Text);
        var reset = client.Call("RESET");
        Assert.Equal(RespKind.Simple, reset.Kind);
        Assert.Equal("RESET", reset.Text);
        var info = client.Call("CLIENT", "INFO");
        Assert.Equal(RespKind.Bulk, info.Kind);
        Assert.Contains(" name= ", info.Text);
        Assert.Contains(" db=0 ", info.Text);
        Assert.Contains(" flags=N ", info.Text);
        Assert.EndsWith(" resp=2 lib-name= lib-ver=\n", info.Text);
        Assert.Equal(RespKind.Null, client.Call("CLIENT", "GETNAME").Kind);
    }

    [Fact]
    public async Task Reset_deauthenticates_when_a_password_is_set()
    {
        await using var node = TestNode.Start("--requirepass", "secret");
        using var client = node.Client();
        Assert.Equal("OK", client.Call("AUTH", "secret").Text);
        Assert.Equal("PONG", client.Call("PING").Text);
        Assert.Equal("RESET", client.Call("RESET").Text);
        Assert.Equal("NOAUTH Authentication required.", client.Call("PING").Text);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Client_info_and_list_have_redis_fields_in_order(int protocol)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            client.Call("HELLO", protocol.ToString(System.Globalization.CultureInfo.InvariantCulture));
            client.Call("SELECT", "3");
            client.Call("CLIENT", "SETNAME", "lister");
        }
        var expected = Unwrap(redis.Call("CLIENT", "INFO"));
        var actual = Unwrap(node.Call("CLIENT", "INFO"));
        Assert.Equal(expected.Kind, actual.Kind);
        // Redis 7.0 has no lib-name/lib-ver (7.2 appends them); otherwise the same fields in the same order.
        Assert.Equal(FieldNames(expected.Text!).Concat(["lib-name", "lib-ver"]), FieldNames(actual.Text!));
        Assert.EndsWith("\n", actual.Text);
        var fields = Fields(actual.Text!);
        Assert.Equal("lister", fields["name"]);
        Assert.Equal("3", fields["db"]);
        Assert.Equal("client|info", fields["cmd"]);
        Assert.Equal(protocol.ToString(System.Globalization.CultureInfo.InvariantCulture), fields["resp"]);
        Assert.Equal("N", fields["flags"]);
        Assert.Equal("-1", fields["multi"]);
        Assert.Equal("default", fields["user"]);
        Assert.Matches(@"^127\.0\.0\.1:\d+$", fields["addr"]);
        Assert.Equal($"127.0.0.1:{servers.Node.Port}", fields["laddr"]);

        var list = Unwrap(node.Call("CLIENT", "LIST"));
        Assert.Equal(expected.Kind, list.Kind);
        var mine = list.Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(line => Fields(line)["id"] == fields["id"]);
        Assert.Equal("client|list", Fields(mine)["cmd"]);
        var byId = Unwrap(node.Call("CLIENT", "LIST", "ID", fields["id"], "999999"));
        Assert.Equal(fields["id"], Fields(byId.Text!)["id"]);
        Assert.Single(byId.Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"id={fields["id"]} ", Unwrap(node.Call("CLIENT", "LIST", "TYPE", "normal")).Text);
        Assert.Equal("", Unwrap(node.Call("CLIENT", "LIST", "TYPE", "pubsub")).Text);
    }

    [Fact]
    public void Client_id_is_the_hello_id_and_setinfo_shows_in_client_info()
    {
        using var client = servers.Node.Client();
        long id = client.Call("CLIENT", "ID").Integer;
        var hello = client.Call("HELLO", "2").Texts;
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), hello[Array.IndexOf(hello, "id") + 1]);
        Assert.Equal("OK", client.Call("CLIENT", "SETINFO", "LIB-NAME", "mylib").Text);
        Assert.Equal("OK", client.Call("CLIENT", "SETINFO", "lib-ver", "1.2.3").Text);
        Assert.Equal("ERR Unrecognized option 'foo'", client.Call("CLIENT", "SETINFO", "foo", "x").Text);
        Assert.Equal("ERR lib-name cannot contain spaces, newlines or special characters.", client.Call("CLIENT", "SETINFO", "lib-name", "a b").Text);
        Assert.Equal("ERR wrong number of arguments for 'client|setinfo' command", client.Call("CLIENT", "SETINFO", "lib-name").Text);
        var fields = Fields(client.Call("CLIENT", "INFO").Text!);
        Assert.Equal("mylib", fields["lib-name"]);
        Assert.Equal("1.2.3", fields["lib-ver"]);
    }

    [Fact]
    public void Client_kill_by_id_addr_and_old_form_closes_the_other_connection()
    {
        using var killer = servers.Node.Client();
        foreach (var form in new[] { "id", "addr", "old", "laddr" })
        {
            using var victim = servers.Node.Client();
            var info = Fields(victim.Call("CLIENT", "INFO").Text!);
            var reply = form switch
            {
                "id" => killer.Call("CLIENT", "KILL", "ID", info["id"]),
                "addr" => killer.Call("CLIENT", "KILL", "ADDR", info["addr"], "SKIPME", "yes"),
                "laddr" => killer.Call("CLIENT", "KILL", "ID", info["id"], "LADDR", info["laddr"]),
                _ => killer.Call("CLIENT", "KILL", info["addr"]),
            };
            if (form == "old")
            {
                Assert.Equal("OK", reply.Text);
            }
            else
            {
                Assert.Equal(1, reply.Integer);
            }
            AssertClosed(victim);
        }
        Assert.Equal("PONG", killer.Call("PING").Text);
    }

    [Fact]
    public void Client_kill_of_oneself_answers_then_closes()
    {
        using var client = servers.Node.Client();
        var id = Fields(client.Call("CLIENT", "INFO").Text!)["id"];
        Assert.Equal(0, client.Call("CLIENT", "KILL", "ID", id).Integer);
        Assert.Equal(1, client.Call("CLIENT", "KILL", "ID", id, "SKIPME", "no").Integer);
        AssertClosed(client);

        using var other = servers.Node.Client();
        var addr = Fields(other.Call("CLIENT", "INFO").Text!)["addr"];
        Assert.Equal("OK", other.Call("CLIENT", "KILL", addr).Text);
        AssertClosed(other);
    }

    [Fact]
    public void Client_help_lists_the_subcommands_as_simple_strings()
    {
        using var client = servers.Node.Client();
        var help = client.Call("CLIENT", "HELP");
        Assert.All(help.Elements, e => Assert.Equal(RespKind.Simple, e.Kind));
        Assert.Equal("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", help.Elements[0].Text);
        Assert.Contains("KILL <ip:port>", help.Texts);
        Assert.Equal("    Prints this help.", help.Elements[^1].Text);
    }

    /// <summary>The server closed the connection: the next command gets no reply (a live one would answer PONG).</summary>
    private static void AssertClosed(RespClient client) => Assert.ThrowsAny<IOException>(() => client.Call("PING"));

    /// <summary>A verbatim reply without its "txt:" format prefix.</summary>
    private static RespValue Unwrap(RespValue reply)
    {
        if (reply.Kind == RespKind.Verbatim)
        {
            Assert.StartsWith("txt:", reply.Text);
            return reply with { Bytes = reply.Bytes![4..] };
        }
        return reply;
    }

    private static string[] FieldNames(string line) => line.TrimEnd('\n').Split(' ').Select(f => f[..f.IndexOf('=')]).ToArray();

    private static Dictionary<string, string> Fields(string line) =>
        Regex.Matches(line.TrimEnd('\n'), @"(\S+?)=(\S*)").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
}
