using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Consumer groups against redis-server 7.0.15, RESP2 and RESP3: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
/// XAUTOCLAIM, XINFO GROUPS / CONSUMERS / STREAM FULL, every option and error, replies byte for byte (clock readings
/// compared as non-negative and otherwise ignored).
/// </summary>
public class ConsumerGroupDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string[] C(params string[] args) => args;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xgroup_subcommands_and_their_errors_answer_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XGROUP", "CREATE", "s", "g", "$"), C("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), C("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
            C("XADD", "s", "1-1", "a", "1"), C("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "5"), C("XGROUP", "CREATE", "s", "g3", "1", "ENTRIESREAD", "-1", "MKSTREAM"),
            C("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "-2"), C("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "x"), C("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD"),
            C("XGROUP", "CREATE", "s", "g4", "0", "FOO"), C("XGROUP", "CREATE", "s", "g4", "-"), C("XGROUP", "CREATE", "s", "g4", "+"), C("XGROUP", "CREATE", "s", "g4", "1-x"),
            C("XGROUP", "CREATE", "s", "g4", "99999999999999999999999"), C("XGROUP", "CREATE", "s", "g4", "5", "MKSTREAM", "MKSTREAM", "MKSTREAM", "MKSTREAM"),
            C("XGROUP", "CREATE", "nokey", "g", "0"), C("XGROUP", "CREATE", "s"), C("XGROUP", "CREATE", "s", "g"),
            C("XINFO", "GROUPS", "s"),
            C("XGROUP", "SETID", "s", "g", "-"), C("XGROUP", "SETID", "s", "g", "+"), C("XGROUP", "SETID", "s", "g", "$"), C("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "3"),
            C("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "x"), C("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "-3"), C("XGROUP", "SETID", "s", "g", "0", "FOO", "1"),
            C("XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD"), C("XGROUP", "SETID", "s", "nog", "0"), C("XGROUP", "SETID", "nokey", "g", "0"), C("XGROUP", "SETID", "s", "g", "bad"),
            C("XINFO", "GROUPS", "s"),
            C("XGROUP", "CREATECONSUMER", "s", "g", "alice"), C("XGROUP", "CREATECONSUMER", "s", "g", "alice"), C("XGROUP", "CREATECONSUMER", "s", "g", "bob"),
            C("XGROUP", "CREATECONSUMER", "s", "nog", "x"), C("XGROUP", "CREATECONSUMER", "s", "g"), C("XINFO", "CONSUMERS", "s", "g"),
            C("XGROUP", "DELCONSUMER", "s", "g", "alice"), C("XGROUP", "DELCONSUMER", "s", "g", "alice"), C("XGROUP", "DELCONSUMER", "s", "nog", "x"),
            C("XGROUP", "DESTROY", "s", "g"), C("XGROUP", "DESTROY", "s", "g"), C("XGROUP", "DESTROY", "nokey", "g"), C("XGROUP", "DESTROY", "s", "g", "x"),
            C("XGROUP", "HELP"), C("XGROUP", "HELP", "x"), C("XGROUP", "FOO"), C("XGROUP"), C("XGROUP", "foo", "a", "b", "c"),
            C("SET", "str", "x"), C("XGROUP", "CREATE", "str", "g", "0"), C("XGROUP", "DESTROY", "str", "g"), C("XGROUP", "CREATE", "str", "g", "0", "MKSTREAM"),
            C("XINFO", "GROUPS", "s"), C("XINFO", "GROUPS", "nokey"), C("XINFO", "GROUPS", "str"), C("XINFO", "CONSUMERS", "s", "nog"), C("XINFO", "CONSUMERS", "nokey", "g"),
            C("XINFO", "GROUPS"), C("XINFO", "CONSUMERS", "s"), C("XINFO", "HELP"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xreadgroup_delivers_new_entries_history_and_noack_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XADD", "s", "1-1", "a", "1"), C("XADD", "s", "2-1", "b", "2", "c", "3"), C("XADD", "s", "3-1", "a", "4"), C("XADD", "t", "5-0", "x", "y"),
            C("XGROUP", "CREATE", "s", "g", "0"), C("XGROUP", "CREATE", "t", "g", "$"),
            C("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "t", ">", ">"),
            C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
            C("XADD", "t", "6-0", "x", "z"), C("XADD", "s", "4-1", "n", "1"),
            C("XREADGROUP", "GROUP", "g", "carol", "COUNT", "5", "NOACK", "STREAMS", "s", "t", ">", ">"),
            C("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"), C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0-0"),
            C("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "STREAMS", "s", "1-1"), C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "t", "0", "0"),
            C("XREADGROUP", "GROUP", "g", "nobody", "STREAMS", "s", "0"), C("XINFO", "CONSUMERS", "s", "g"),
            C("XDEL", "s", "2-1"), C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0"), C("XPENDING", "s", "g"),
            C("XGROUP", "SETID", "s", "g", "0"), C("XREADGROUP", "GROUP", "g", "dave", "COUNT", "2", "STREAMS", "s", ">"),
            C("XPENDING", "s", "g"), C("XPENDING", "s", "g", "-", "+", "10"), C("XINFO", "GROUPS", "s"), C("XINFO", "GROUPS", "t"),
            C("XREADGROUP", "GROUP", "g", "dave", "COUNT", "0", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "dave", "COUNT", "-5", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "dave", "BLOCK", "0", "NOACK", "COUNT", "1", "STREAMS", "s", "0"),
            C("XINFO", "STREAM", "s", "FULL"), C("XINFO", "STREAM", "s", "FULL", "COUNT", "1"), C("XINFO", "STREAM", "s"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xreadgroup_errors_answer_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XADD", "s", "1-1", "a", "1"), C("XGROUP", "CREATE", "s", "g", "0"), C("SET", "str", "x"),
            C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"), C("XREADGROUP", "STREAMS", "s", ">"), C("XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "s", ">"),
            C("XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "nokey", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "str", ">", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "BLOCK", "-1", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "c", "BLOCK", "x", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "BLOCK", "1.5", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "c", "BLOCK", "9223372036854775807", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "COUNT", "x", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "c", "FOO", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "x"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "-"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "+"),
            C("XREADGROUP", "GROUP", "g", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "c", "NOACK", "NOACK", "STREAMS", "s", ">"),
            C("XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"), C("XINFO", "CONSUMERS", "s", "g"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xack_and_xpending_answer_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XACK", "s", "g", "1-1"), C("XACK", "s", "g", "bad"), C("XPENDING", "s", "g"),
            C("XADD", "s", "1-1", "a", "1"), C("XADD", "s", "2-1", "a", "2"), C("XADD", "s", "3-1", "a", "3"), C("XADD", "s", "4-1", "a", "4"),
            C("XGROUP", "CREATE", "s", "g", "0"), C("XPENDING", "s", "g"), C("XPENDING", "s", "g", "-", "+", "10"),
            C("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"),
            C("XPENDING", "s", "g"), C("XPENDING", "s", "g", "-", "+", "10"), C("XPENDING", "s", "g", "-", "+", "2"), C("XPENDING", "s", "g", "2-1", "3", "10"),
            C("XPENDING", "s", "g", "(1-1", "(4-1", "10"), C("XPENDING", "s", "g", "-", "+", "10", "bob"), C("XPENDING", "s", "g", "-", "+", "10", "nobody"),
            C("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10"), C("XPENDING", "s", "g", "IDLE", "100000000", "-", "+", "10"), C("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10", "alice"),
            C("XPENDING", "s", "g", "-", "+", "0"), C("XPENDING", "s", "g", "-", "+", "-1"), C("XPENDING", "s", "g", "+", "-", "10"),
            C("XPENDING", "s", "g", "-", "+"), C("XPENDING", "s", "g", "-"), C("XPENDING", "s", "g", "IDLE", "1", "-", "+"), C("XPENDING", "s", "g", "IDLE", "x", "-", "+", "1"),
            C("XPENDING", "s", "g", "-", "+", "x"), C("XPENDING", "s", "g", "x", "+", "1"), C("XPENDING", "s", "g", "-", "x", "1"), C("XPENDING", "s", "g", "(-", "+", "1"),
            C("XPENDING", "s", "g", "(18446744073709551615-18446744073709551615", "+", "1"), C("XPENDING", "s", "g", "-", "(0-0", "1"),
            C("XPENDING", "s", "g", "-", "+", "1", "alice", "extra", "more"), C("XPENDING", "s", "nog"), C("XPENDING", "nokey", "g"), C("XPENDING", "nokey", "g", "-", "+", "1"),
            C("XACK", "s", "g", "1-1", "1-1", "3-1", "9-9"), C("XACK", "s", "g", "1-1"), C("XACK", "s", "g", "2-1", "bad"), C("XACK", "s", "g", "2-1", "-"),
            C("XACK", "s", "nog", "2-1"), C("XACK", "nokey", "g", "bad"), C("XACK", "s", "g", "2"), C("XPENDING", "s", "g"), C("XINFO", "CONSUMERS", "s", "g"),
            C("SET", "str", "x"), C("XACK", "str", "g", "1-1"), C("XPENDING", "str", "g"), C("XPENDING", "str", "g", "x", "+", "1"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xclaim_answers_as_redis_with_every_option(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XADD", "s", "1-1", "a", "1"), C("XADD", "s", "2-1", "a", "2"), C("XADD", "s", "3-1", "a", "3"), C("XADD", "s", "4-1", "a", "4"),
            C("XGROUP", "CREATE", "s", "g", "0"), C("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"),
            C("XCLAIM", "s", "g", "bob", "0", "1-1"), C("XCLAIM", "s", "g", "bob", "0", "2-1", "JUSTID"), C("XCLAIM", "s", "g", "bob", "100000000", "3-1"),
            C("XCLAIM", "s", "g", "carol", "0", "3-1", "RETRYCOUNT", "7", "JUSTID"), C("XCLAIM", "s", "g", "carol", "0", "4-1", "IDLE", "5000", "RETRYCOUNT", "2"),
            C("XCLAIM", "s", "g", "dave", "0", "1-1", "TIME", "1000", "JUSTID"), C("XPENDING", "s", "g", "-", "+", "10"),
            C("XCLAIM", "s", "g", "eve", "0", "9-9"), C("XCLAIM", "s", "g", "eve", "0", "9-9", "FORCE"), C("XADD", "s", "5-1", "a", "5"),
            C("XCLAIM", "s", "g", "eve", "0", "5-1"), C("XCLAIM", "s", "g", "eve", "0", "5-1", "FORCE", "JUSTID"), C("XCLAIM", "s", "g", "eve", "0", "5-1", "FORCE"),
            C("XCLAIM", "s", "g", "eve", "0", "1-1", "LASTID", "8-0", "JUSTID"), C("XINFO", "GROUPS", "s"), C("XCLAIM", "s", "g", "eve", "100000000", "1-1", "LASTID", "9-0"),
            C("XINFO", "GROUPS", "s"), C("XCLAIM", "s", "g", "eve", "0", "1-1", "LASTID", "1-0"), C("XINFO", "GROUPS", "s"),
            C("XDEL", "s", "2-1"), C("XCLAIM", "s", "g", "frank", "0", "2-1", "3-1"), C("XPENDING", "s", "g"), C("XCLAIM", "s", "g", "frank", "0", "2-1", "FORCE"),
            C("XCLAIM", "s", "g", "frank", "0", "3-1", "1", "4-1", "JUSTID", "FORCE", "RETRYCOUNT", "0"), C("XCLAIM", "s", "g", "frank", "-5", "3-1", "IDLE", "-100", "TIME", "-3"),
            C("XPENDING", "s", "g", "-", "+", "10"), C("XINFO", "CONSUMERS", "s", "g"),
            C("XCLAIM", "s", "g", "x", "0", "1-1", "foo"), C("XCLAIM", "s", "g", "x", "0", "1-1", "IDLE", "x"), C("XCLAIM", "s", "g", "x", "0", "1-1", "TIME", "x"),
            C("XCLAIM", "s", "g", "x", "0", "1-1", "RETRYCOUNT", "x"), C("XCLAIM", "s", "g", "x", "0", "1-1", "LASTID", "x"), C("XCLAIM", "s", "g", "x", "0", "1-1", "LASTID", "-"),
            C("XCLAIM", "s", "g", "x", "0", "1-1", "IDLE"), C("XCLAIM", "s", "g", "x", "0", "bad", "1-1"), C("XCLAIM", "s", "g", "x", "bad", "1-1"),
            C("XCLAIM", "s", "nog", "x", "0", "1-1"), C("XCLAIM", "nokey", "g", "x", "0", "1-1"), C("XCLAIM", "s", "g", "x", "0"),
            C("XCLAIM", "s", "g", "x", "0", "+"), C("XINFO", "CONSUMERS", "s", "g"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xautoclaim_answers_as_redis_with_deleted_entries_and_cursor(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        var script = new List<string[]>();
        for (int i = 1; i <= 30; i++)
        {
            script.Add(C("XADD", "s", $"{i}-1", "f", $"v{i}"));
        }
        script.AddRange(
        [
            C("XGROUP", "CREATE", "s", "g", "0"), C("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"),
            C("XAUTOCLAIM", "s", "g", "bob", "0", "0", "COUNT", "3"), C("XAUTOCLAIM", "s", "g", "bob", "0", "4-1", "COUNT", "2", "JUSTID"),
            C("XAUTOCLAIM", "s", "g", "bob", "100000000", "0"), C("XINFO", "CONSUMERS", "s", "g"),
            C("XDEL", "s", "7-1", "8-1", "10-1", "20-1"), C("XAUTOCLAIM", "s", "g", "carol", "0", "6-1", "COUNT", "3"), C("XPENDING", "s", "g"),
            C("XAUTOCLAIM", "s", "g", "carol", "0", "(9-1", "COUNT", "2", "JUSTID"), C("XAUTOCLAIM", "s", "g", "dave", "0", "-"), C("XAUTOCLAIM", "s", "g", "dave", "0", "29-1", "COUNT", "5"),
            C("XAUTOCLAIM", "s", "g", "dave", "0", "31"), C("XPENDING", "s", "g", "-", "+", "100"), C("XINFO", "CONSUMERS", "s", "g"),
            C("XAUTOCLAIM", "s", "g", "x", "bad", "0"), C("XAUTOCLAIM", "s", "g", "x", "0", "bad"), C("XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT", "0"),
            C("XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT", "x"), C("XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT", "9223372036854775807"), C("XAUTOCLAIM", "s", "g", "x", "0", "0", "COUNT"),
            C("XAUTOCLAIM", "s", "g", "x", "0", "0", "FOO"), C("XAUTOCLAIM", "s", "nog", "x", "0", "0"), C("XAUTOCLAIM", "nokey", "g", "x", "0", "0"),
            C("XAUTOCLAIM", "s", "g", "x", "0", "(18446744073709551615-18446744073709551615"), C("XAUTOCLAIM", "s", "g", "x", "0", "+"), C("XAUTOCLAIM", "s", "g", "x", "-1", "0", "COUNT", "1"),
            C("SET", "str", "v"), C("XAUTOCLAIM", "str", "g", "x", "0", "0"), C("XCLAIM", "str", "g", "x", "0", "0"), C("XINFO", "STREAM", "s", "FULL", "COUNT", "3"),
        ]);
        d.Script([.. script]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Entries_read_and_lag_follow_redis_through_deletions_trims_and_setid(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        var script = new List<string[]>();
        for (int i = 1; i <= 10; i++)
        {
            script.Add(C("XADD", "s", $"{i}-0", "f", "v"));
        }
        script.AddRange(
        [
            C("XGROUP", "CREATE", "s", "g1", "0"), C("XGROUP", "CREATE", "s", "g2", "$"), C("XGROUP", "CREATE", "s", "g3", "5-0"), C("XGROUP", "CREATE", "s", "g4", "0", "ENTRIESREAD", "0"),
            C("XINFO", "GROUPS", "s"), C("XREADGROUP", "GROUP", "g1", "c", "COUNT", "3", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g3", "c", "COUNT", "1", "STREAMS", "s", ">"),
            C("XREADGROUP", "GROUP", "g4", "c", "COUNT", "2", "STREAMS", "s", ">"), C("XINFO", "GROUPS", "s"),
            C("XDEL", "s", "5-0"), C("XINFO", "GROUPS", "s"), C("XREADGROUP", "GROUP", "g1", "c", "COUNT", "3", "STREAMS", "s", ">"), C("XINFO", "GROUPS", "s"),
            C("XDEL", "s", "10-0"), C("XINFO", "GROUPS", "s"), C("XTRIM", "s", "MAXLEN", "3"), C("XINFO", "GROUPS", "s"),
            C("XREADGROUP", "GROUP", "g1", "c", "STREAMS", "s", ">"), C("XREADGROUP", "GROUP", "g3", "c", "NOACK", "STREAMS", "s", ">"), C("XINFO", "GROUPS", "s"),
            C("XGROUP", "SETID", "s", "g2", "7-0"), C("XGROUP", "SETID", "s", "g4", "1-0", "ENTRIESREAD", "1"), C("XINFO", "GROUPS", "s"),
            C("XADD", "s", "11-0", "f", "v"), C("XINFO", "GROUPS", "s"), C("XDEL", "s", "7-0", "8-0", "9-0", "11-0"), C("XINFO", "GROUPS", "s"),
            C("XREADGROUP", "GROUP", "g2", "c", "STREAMS", "s", ">"), C("XINFO", "GROUPS", "s"), C("XINFO", "STREAM", "s", "FULL"),
            C("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM"), C("XINFO", "GROUPS", "e"), C("XADD", "e", "1-0", "f", "v"), C("XINFO", "GROUPS", "e"),
            C("XDEL", "e", "1-0"), C("XINFO", "GROUPS", "e"), C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "e", ">"), C("XINFO", "GROUPS", "e"), C("XINFO", "STREAM", "e", "FULL"),
        ]);
        d.Script([.. script]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xreadgroup_blocks_and_is_served_by_xadd_first_come_first_served(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        var sides = new[] { (servers.Redis.Client(), servers.Redis.Client(), d.Redis), (servers.Node.Client(), servers.Node.Client(), d.Node) };
        var replies = new List<List<RespValue>>();
        try
        {
            foreach (var (first, second, control) in sides)
            {
                var got = new List<RespValue>();
                replies.Add(got);
                foreach (var c in new[] { first, second })
                {
                    if (protocol == 3)
                    {
                        c.Call("HELLO", "3");
                    }
                }
                control.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
                control.Call("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM");
                first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "t", "s", ">", ">");
                WaitBlocked(control, 1);
                second.Send("XREADGROUP", "GROUP", "g", "bob", "COUNT", "1", "NOACK", "BLOCK", "0", "STREAMS", "s", ">");
                WaitBlocked(control, 2);
                // One XADD serves the first waiter only: the group moved past the entry.
                got.Add(control.Call("XADD", "s", "1-1", "a", "1"));
                got.Add(first.Read());
                WaitBlocked(control, 1);
                control.Call("MULTI");
                control.Call("XADD", "s", "2-1", "a", "2");
                control.Call("XADD", "s", "3-1", "a", "3");
                got.Add(control.Call("EXEC"));
                got.Add(second.Read());
                WaitBlocked(control, 0);
                got.Add(control.Call("XINFO", "GROUPS", "s"));
                got.Add(control.Call("XPENDING", "s", "g", "-", "+", "10"));
                // Timeout, then the deletion of the group and of the key end the waits with Redis's errors.
                got.Add(first.Call("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "10", "STREAMS", "s", ">"));
                first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">");
                WaitBlocked(control, 1);
                got.Add(control.Call("XGROUP", "DESTROY", "s", "g"));
                got.Add(first.Read());
                first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "t", ">");
                second.Send("XREAD", "BLOCK", "0", "STREAMS", "t", "$");
                WaitBlocked(control, 2);
                got.Add(control.Call("DEL", "t"));
                got.Add(first.Read());
                WaitBlocked(control, 1);
                got.Add(control.Call("XADD", "t", "9-9", "x", "y"));
                got.Add(second.Read());
                control.Call("XGROUP", "CREATE", "t", "g", "$");
                first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "t", ">");
                WaitBlocked(control, 1);
                got.Add(control.Call("SET", "t", "string"));
                got.Add(first.Read());
                control.Call("XGROUP", "CREATE", "u", "g", "$", "MKSTREAM");
                first.Send("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "u", ">");
                WaitBlocked(control, 1);
                got.Add(control.Call("FLUSHALL"));
                got.Add(first.Read());
                got.Add(control.Call("MULTI"));
                got.Add(control.Call("XGROUP", "CREATE", "v", "g", "$", "MKSTREAM"));
                got.Add(control.Call("XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "v", ">"));
                got.Add(control.Call("EXEC"));
            }
            Assert.Equal(replies[0].Count, replies[1].Count);
            for (int i = 0; i < replies[0].Count; i++)
            {
                var expected = GroupConversation.WithoutTimes(replies[0][i]);
                var actual = GroupConversation.WithoutTimes(replies[1][i]);
                Assert.True(GroupConversation.Equal(expected, actual), $"step {i}\n  redis: {replies[0][i]}\n  node:  {replies[1][i]}");
            }
        }
        finally
        {
            foreach (var (first, second, _) in sides)
            {
                first.Dispose();
                second.Dispose();
            }
        }
    }

    [Fact]
    public void Xreadgroup_block_from_a_script_is_refused_as_redis()
    {
        using var d = new GroupConversation(servers, 2);
        d.Script(
            C("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"),
            C("EVAL", "return redis.call('xreadgroup','group','g','c','block','0','streams','s','>')", "1", "s"),
            C("EVAL", "return redis.call('XREADGROUP','GROUP','g','c','STREAMS','s','>')", "1", "s"),
            C("EVAL", "redis.call('xadd','s','1-1','a','1') return redis.call('XREADGROUP','GROUP','g','c','STREAMS','s','>')", "1", "s"),
            C("XPENDING", "s", "g"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Copy_rename_and_move_carry_independent_groups_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        d.Script(
            C("XADD", "s", "1-1", "a", "1"), C("XADD", "s", "2-1", "a", "2"), C("XGROUP", "CREATE", "s", "g", "0"),
            C("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"), C("XCLAIM", "s", "g", "d", "0", "2-1", "TIME", "1700000000000", "RETRYCOUNT", "3"),
            C("COPY", "s", "copy"), C("XINFO", "STREAM", "copy", "FULL"), C("XACK", "copy", "g", "1-1"), C("XGROUP", "CREATECONSUMER", "copy", "g", "e"),
            C("XPENDING", "s", "g"), C("XPENDING", "copy", "g"), C("XINFO", "CONSUMERS", "s", "g"), C("XINFO", "CONSUMERS", "copy", "g"),
            C("RENAME", "copy", "renamed"), C("XINFO", "STREAM", "renamed", "FULL"), C("MOVE", "renamed", "1"), C("SELECT", "1"), C("XPENDING", "renamed", "g"),
            C("SELECT", "0"), C("XINFO", "STREAM", "s", "FULL"));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Client_unblock_ends_a_blocked_xreadgroup_as_redis(int protocol)
    {
        using var d = new GroupConversation(servers, protocol);
        var replies = new List<string>();
        foreach (var (port, control) in new[] { (servers.Redis.Port, d.Redis), (servers.Node.Port, d.Node) })
        {
            using var waiter = new RespClient(port);
            if (protocol == 3)
            {
                waiter.Call("HELLO", "3");
            }
            control.Call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
            string id = waiter.Call("CLIENT", "ID").Integer.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var mode in new[] { "TIMEOUT", "ERROR" })
            {
                waiter.Send("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">");
                WaitBlocked(control, 1);
                replies.Add(control.Call("CLIENT", "UNBLOCK", id, mode).ToString());
                replies.Add(waiter.Read().ToString());
            }
            replies.Add(control.Call("XINFO", "GROUPS", "s").ToString());
            control.Call("DEL", "s");
        }
        Assert.Equal(replies.Take(replies.Count / 2), replies.Skip(replies.Count / 2));
    }

    [Fact]
    public void Pending_entries_count_toward_the_key_s_memory_as_on_redis()
    {
        using var d = new GroupConversation(servers, 2);
        for (int i = 1; i <= 2000; i++)
        {
            d.Same("XADD", "s", $"{i}-1", "f", "v");
        }
        d.Same("XGROUP", "CREATE", "s", "g", "0");
        long redisBefore = d.Redis.Call("MEMORY", "USAGE", "s").Integer, nodeBefore = d.Node.Call("MEMORY", "USAGE", "s").Integer;
        d.Same("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">");
        long redisGrowth = d.Redis.Call("MEMORY", "USAGE", "s").Integer - redisBefore, nodeGrowth = d.Node.Call("MEMORY", "USAGE", "s").Integer - nodeBefore;
        // 2,000 pending entries weigh on both servers (Redis's sampled estimate is far higher; the node's is what it holds).
        Assert.True(redisGrowth > 2000 * 16, $"redis: {redisGrowth}");
        Assert.InRange(nodeGrowth, 2000 * 16, 2000 * 200);
        d.Same([.. new[] { "XACK", "s", "g" }, .. Enumerable.Range(1, 2000).Select(i => $"{i}-1")]);
        Assert.True(d.Node.Call("MEMORY", "USAGE", "s").Integer - nodeBefore < 2000 * 16, "acknowledged entries no longer count");
    }

    private static void WaitBlocked(RespClient control, int count) =>
        Wait.Until(() => control.Call("INFO", "clients").Text!.Contains($"blocked_clients:{count}\r\n", StringComparison.Ordinal), $"{count} clients blocked");
}
