using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class ListCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>
    /// The differential run, after deleting the keys these tests use on the node (the harness's FLUSHALL may
    /// not be served by this branch's node), so both servers start from the same keyspace.
    /// </summary>
    private void AssertSameReplies(int protocol, params string[][] commands)
    {
        using (var node = servers.Node.Client())
        {
            node.Call("DEL", "l", "l2", "s1", "s2", "str", "missing", "bl", "bl2", "x");
        }
        servers.AssertSameReplies(protocol, commands);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Pushes_pops_and_counts_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["RPUSH", "l", "a", "b", "c"],
            ["LPUSH", "l", "z", "y"],
            ["LPUSHX", "missing", "a"],
            ["RPUSHX", "missing", "a", "b"],
            ["RPUSHX", "l", "d", "e"],
            ["LLEN", "l"],
            ["LLEN", "missing"],
            ["LPOP", "l"],
            ["RPOP", "l"],
            ["LPOP", "l", "0"],
            ["LPOP", "l", "2"],
            ["RPOP", "l", "-1"],
            ["RPOP", "l", "abc"],
            ["LPOP", "l", "1", "2"],
            ["LPOP", "missing"],
            ["LPOP", "missing", "0"],
            ["LPOP", "missing", "3"],
            ["RPOP", "l", "100"],
            ["EXISTS", "l"],
            ["LPOP", "l"],
            ["SET", "str", "x"],
            ["LPUSH", "str", "a"],
            ["LPOP", "str"],
            ["LPOP", "str", "0"],
            ["LLEN", "str"],
            ["RPUSHX", "str", "a"],
            ["LPUSH", "l"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Index_range_set_trim_insert_and_remove_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["RPUSH", "l", "a", "b", "c", "d", "e", "a", "b"],
            ["LRANGE", "l", "0", "-1"],
            ["LRANGE", "l", "-100", "100"],
            ["LRANGE", "l", "5", "2"],
            ["LRANGE", "l", "-2", "-1"],
            ["LRANGE", "l", "x", "1"],
            ["LRANGE", "missing", "0", "-1"],
            ["LINDEX", "l", "-1"],
            ["LINDEX", "l", "100"],
            ["LINDEX", "l", "x"],
            ["LINDEX", "missing", "x"],
            ["LSET", "l", "0", "Q"],
            ["LSET", "l", "-7", "R"],
            ["LSET", "l", "100", "Q"],
            ["LSET", "missing", "0", "Q"],
            ["LSET", "l", "x", "Q"],
            ["LINSERT", "l", "BEFORE", "c", "X"],
            ["LINSERT", "l", "after", "e", "Y"],
            ["LINSERT", "l", "AFTER", "zzz", "X"],
            ["LINSERT", "l", "middle", "c", "X"],
            ["LINSERT", "missing", "BEFORE", "c", "X"],
            ["LRANGE", "l", "0", "-1"],
            ["LREM", "l", "0", "a"],
            ["LREM", "l", "-1", "b"],
            ["LREM", "l", "1", "zzz"],
            ["LREM", "l", "x", "b"],
            ["LREM", "missing", "1", "b"],
            ["LRANGE", "l", "0", "-1"],
            ["LTRIM", "l", "1", "-2"],
            ["LRANGE", "l", "0", "-1"],
            ["LTRIM", "l", "x", "1"],
            ["LTRIM", "missing", "0", "1"],
            ["LTRIM", "l", "5", "1"],
            ["EXISTS", "l"],
            ["SET", "str", "x"],
            ["LRANGE", "str", "0", "1"],
            ["LINDEX", "str", "0"],
            ["LSET", "str", "0", "a"],
            ["LTRIM", "str", "0", "1"],
            ["LINSERT", "str", "BEFORE", "a", "b"],
            ["LREM", "str", "0", "a"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Lpos_options_and_errors_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["RPUSH", "l", "a", "b", "c", "d", "e", "a", "b", "a"],
            ["LPOS", "l", "a"],
            ["LPOS", "l", "a", "RANK", "2"],
            ["LPOS", "l", "a", "RANK", "-1"],
            ["LPOS", "l", "a", "RANK", "-2", "COUNT", "0"],
            ["LPOS", "l", "a", "COUNT", "0"],
            ["LPOS", "l", "a", "COUNT", "2"],
            ["LPOS", "l", "a", "RANK", "0"],
            ["LPOS", "l", "a", "RANK", "-9223372036854775808"],
            ["LPOS", "l", "a", "RANK", "x"],
            ["LPOS", "l", "a", "COUNT", "-1"],
            ["LPOS", "l", "a", "COUNT", "x"],
            ["LPOS", "l", "a", "MAXLEN", "-1"],
            ["LPOS", "l", "a", "MAXLEN", "3", "COUNT", "0"],
            ["LPOS", "l", "a", "RANK", "-1", "MAXLEN", "2", "COUNT", "0"],
            ["LPOS", "l", "a", "RANK", "2", "COUNT", "2", "MAXLEN", "1"],
            ["LPOS", "l", "a", "RANK", "9"],
            ["LPOS", "l", "z"],
            ["LPOS", "l", "z", "COUNT", "1"],
            ["LPOS", "missing", "a"],
            ["LPOS", "missing", "a", "COUNT", "1"],
            ["LPOS", "l", "a", "foo"],
            ["LPOS", "l", "a", "RANK"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Moves_and_multi_pops_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["RPUSH", "s1", "1", "2", "3"],
            ["LMOVE", "s1", "s2", "LEFT", "RIGHT"],
            ["LMOVE", "s1", "s1", "left", "left"],
            ["LMOVE", "s1", "s2", "UP", "RIGHT"],
            ["LMOVE", "missing", "s2", "LEFT", "RIGHT"],
            ["RPOPLPUSH", "s1", "s2"],
            ["RPOPLPUSH", "s1", "s2"],
            ["RPOPLPUSH", "s1", "s2"],
            ["EXISTS", "s1"],
            ["LRANGE", "s2", "0", "-1"],
            ["RPUSH", "l", "only"],
            ["LMOVE", "l", "l", "LEFT", "RIGHT"],
            ["LRANGE", "l", "0", "-1"],
            ["SET", "str", "x"],
            ["LMOVE", "s2", "str", "LEFT", "LEFT"],
            ["RPOPLPUSH", "str", "s2"],
            ["LRANGE", "s2", "0", "-1"],
            ["LMPOP", "2", "missing", "s2", "RIGHT", "COUNT", "2"],
            ["LMPOP", "1", "s2", "LEFT", "COUNT", "100"],
            ["LMPOP", "1", "missing", "LEFT"],
            ["LMPOP", "0", "missing", "LEFT"],
            ["LMPOP", "-1", "missing", "LEFT"],
            ["LMPOP", "x", "missing", "LEFT"],
            ["LMPOP", "2", "missing", "LEFT"],
            ["LMPOP", "1", "missing", "MIDDLE"],
            ["LMPOP", "1", "missing", "LEFT", "COUNT", "0"],
            ["LMPOP", "1", "missing", "LEFT", "COUNT", "-1"],
            ["LMPOP", "1", "missing", "LEFT", "COUNT", "x"],
            ["LMPOP", "1", "missing", "LEFT", "COUNT", "1", "COUNT", "2"],
            ["LMPOP", "1", "missing", "LEFT", "foo"],
            ["LMPOP", "1", "str", "LEFT"],
            ["LMPOP", "2", "missing", "str", "LEFT"],
            ["LMPOP", "1", "missing"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Blocking_commands_with_data_or_bad_arguments_answer_as_redis(int protocol)
    {
        AssertSameReplies(protocol,
            ["RPUSH", "bl", "1", "2", "3", "4"],
            ["BLPOP", "missing", "bl", "0"],
            ["BRPOP", "bl", "0.5"],
            ["BLMOVE", "bl", "bl2", "LEFT", "LEFT", "0"],
            ["BRPOPLPUSH", "bl", "bl2", "0"],
            ["LRANGE", "bl2", "0", "-1"],
            ["BLMPOP", "0", "2", "missing", "bl2", "LEFT", "COUNT", "5"],
            ["BLPOP", "missing", "0.01"],
            ["BRPOP", "missing", "missing", "0.01"],
            ["BLMOVE", "missing", "bl2", "LEFT", "LEFT", "0.01"],
            ["BRPOPLPUSH", "missing", "bl2", "0.01"],
            ["BLMPOP", "0.01", "1", "missing", "LEFT"],
            ["BLPOP", "missing", "abc"],
            ["BLPOP", "missing", ""],
            ["BLPOP", "missing", "nan"],
            ["BLPOP", "missing", "-1"],
            ["BLPOP", "missing", "inf"],
            ["BLPOP", "missing", "1e30"],
            ["BLMOVE", "missing", "x", "LEFT", "LEFT", "-1"],
            ["BLMOVE", "missing", "x", "UP", "LEFT", "0"],
            ["BRPOPLPUSH", "missing", "x", "-0.5"],
            ["BLMPOP", "0", "0", "missing", "LEFT"],
            ["BLMPOP", "-1", "1", "missing", "LEFT"],
            ["BLMPOP", "x", "0", "missing", "LEFT"],
            ["BLMPOP", "x", "1", "missing", "LEFT"],
            ["BLMPOP", "0", "1", "missing", "LEFT", "COUNT", "0"],
            ["SET", "str", "x"],
            ["BLPOP", "missing", "str", "0"],
            ["BLMOVE", "str", "x", "LEFT", "LEFT", "0"],
            ["BLPOP", "missing"]);
    }

    [Fact]
    public void Binary_elements_with_nul_and_crlf_survive_a_round_trip()
    {
        using var client = servers.Node.Client();
        byte[] weird = [0, 13, 10, 255, 0];
        client.Call("DEL", "bin");
        client.Call("RPUSH"u8.ToArray(), "bin"u8.ToArray(), weird, []);
        var range = client.Call("LRANGE", "bin", "0", "-1");
        Assert.Equal(weird, range.Elements[0].Bytes);
        Assert.Empty(range.Elements[1].Bytes!);
        Assert.Equal(0, client.Call("LPOS"u8.ToArray(), "bin"u8.ToArray(), weird).Integer);
    }

    [Fact]
    public void Large_lists_keep_order_across_growth_and_shrinking()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "big");
        var args = new List<string> { "RPUSH", "big" };
        args.AddRange(Enumerable.Range(0, 2000).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(2000, client.Call(args.ToArray()).Integer);
        Assert.Equal("1999", client.Call("LINDEX", "big", "-1").Text);
        Assert.Equal(1990, client.Call("LPOP", "big", "1990").Elements.Count);
        Assert.Equal(new string?[] { "1990", "1991", "1992" }, client.Call("LRANGE", "big", "0", "2").Texts);
        Assert.Equal("list", servers.Node.Server.Keyspace[0].Get("big"u8) is Node.Storage.ICollectionValue c ? c.TypeName : null);
    }
}
