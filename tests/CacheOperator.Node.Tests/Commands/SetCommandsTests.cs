using System.Text;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class SetCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Integer_sets_answer_exactly_as_redis_including_order(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["SADD", "a", "5", "3", "1", "3", "-7", "100"],
            ["SADD", "b", "3", "4", "5", "6"],
            ["SADD", "c", "5", "9"],
            ["SMEMBERS", "a"],
            ["SCARD", "a"],
            ["SCARD", "nokey"],
            ["SISMEMBER", "a", "3"],
            ["SISMEMBER", "a", "03"],
            ["SISMEMBER", "nokey", "3"],
            ["SMISMEMBER", "a", "1", "2", "3"],
            ["SMISMEMBER", "nokey", "1"],
            ["SINTER", "a", "b"],
            ["SINTER", "a", "b", "c"],
            ["SINTER", "a", "nokey"],
            ["SINTER", "a"],
            ["SUNION", "a", "b", "nokey", "c"],
            ["SDIFF", "a", "b"],
            ["SDIFF", "a", "nokey", "c"],
            ["SDIFF", "nokey", "a"],
            ["SINTERCARD", "2", "a", "b"],
            ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
            ["SINTERCARD", "2", "a", "b", "LIMIT", "0"],
            ["SINTERCARD", "1", "a", "LIMIT", "5", "LIMIT", "2"],
            ["SINTERCARD", "2", "a", "nokey"],
            ["SINTERSTORE", "d", "a", "b"],
            ["SMEMBERS", "d"],
            ["SINTERSTORE", "d", "a", "nokey"],
            ["EXISTS", "d"],
            ["SUNIONSTORE", "d", "a", "b"],
            ["SMEMBERS", "d"],
            ["SDIFFSTORE", "d", "a", "b", "c"],
            ["SMEMBERS", "d"],
            ["SDIFFSTORE", "d", "c", "a", "b"],
            ["EXISTS", "d"],
            ["SUNIONSTORE", "a", "a", "c"],
            ["SMEMBERS", "a"],
            ["SREM", "c", "9", "9", "nope"],
            ["SREM", "nokey", "1"],
            ["SMOVE", "c", "b", "5"],
            ["EXISTS", "c"],
            ["SMOVE", "b", "b", "5"],
            ["SMOVE", "b", "b", "77"],
            ["SMOVE", "b", "e", "3"],
            ["SMEMBERS", "e"],
            ["SMOVE", "b", "e", "77"],
            ["SMOVE", "nokey", "e", "1"],
            ["SRANDMEMBER", "b", "10"],
            ["SRANDMEMBER", "b", "0"],
            ["SRANDMEMBER", "nokey"],
            ["SRANDMEMBER", "nokey", "3"],
            ["SPOP", "nokey"],
            ["SPOP", "nokey", "3"],
            ["SPOP", "b", "0"],
            ["SPOP", "b", "100"],
            ["EXISTS", "b"],
            ["SSCAN", "a", "0"],
            ["SSCAN", "a", "0", "MATCH", "1*", "COUNT", "1"],
            ["SSCAN", "a", "x"],
            ["SSCAN", "a", "0", "COUNT", "0"],
            ["SSCAN", "nokey", "0", "COUNT", "0"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_match_redis(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["SET", "str", "x"],
            ["SADD", "s", "1", "2"],
            ["SADD", "str", "1"],
            ["SREM", "str", "1"],
            ["SISMEMBER", "str", "1"],
            ["SMISMEMBER", "str", "1"],
            ["SMEMBERS", "str"],
            ["SCARD", "str"],
            ["SPOP", "str"],
            ["SPOP", "str", "0"],
            ["SPOP", "str", "-1"],
            ["SPOP", "s", "-1"],
            ["SPOP", "s", "x"],
            ["SPOP", "s", "1", "2"],
            ["SRANDMEMBER", "str"],
            ["SRANDMEMBER", "str", "0"],
            ["SRANDMEMBER", "s", "x"],
            ["SRANDMEMBER", "s", "1", "2"],
            ["SRANDMEMBER", "s", "-9223372036854775808"],
            ["SMOVE", "str", "s", "1"],
            ["SMOVE", "s", "str", "1"],
            ["SMOVE", "nokey", "str", "1"],
            ["SINTER", "nokey", "str"],
            ["SINTER", "s", "str"],
            ["SUNION", "s", "str"],
            ["SDIFF", "nokey", "str"],
            ["SINTERSTORE", "d", "s", "str"],
            ["SUNIONSTORE", "d", "str"],
            ["SDIFFSTORE", "d", "s", "str"],
            ["SUNIONSTORE", "str", "s"],
            ["SMEMBERS", "str"],
            ["SINTERCARD", "0", "s"],
            ["SINTERCARD", "-1", "s"],
            ["SINTERCARD", "x", "s"],
            ["SINTERCARD", "3", "s"],
            ["SINTERCARD", "1", "s", "LIMIT", "-1"],
            ["SINTERCARD", "1", "s", "LIMIT", "x"],
            ["SINTERCARD", "1", "s", "LIMIT"],
            ["SINTERCARD", "1", "s", "FOO", "1"],
            ["SINTERCARD", "2", "nokey", "str"],
            ["SINTERCARD", "1"],
            ["SADD", "s"],
            ["SSCAN", "str", "0"],
            ["SSCAN", "str", "x"],
            ["SSCAN", "s", "0", "MATCH"],
            ["SSCAN", "s", "18446744073709551616"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void String_and_big_sets_answer_as_redis_in_any_order(int protocol)
    {
        var big = new List<string> { "SADD", "big" };
        for (int i = 0; i < 600; i++)
        {
            big.Add(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        CollectionDifferential.AssertSameIgnoringOrder(
            servers,
            protocol,
            _ => false,
            ["SADD", "x", "apple", "pear", "1", "2"],
            ["SADD", "y", "pear", "plum", "2", new string('z', 70)],
            big.ToArray(),
            ["SMEMBERS", "x"],
            ["SMEMBERS", "y"],
            ["SCARD", "big"],
            ["SINTER", "x", "y"],
            ["SINTER", "big", "x"],
            ["SUNION", "x", "y"],
            ["SDIFF", "x", "y"],
            ["SDIFF", "big", "x", "y"],
            ["SINTERCARD", "2", "big", "x"],
            ["SUNIONSTORE", "u", "x", "y", "big"],
            ["SCARD", "u"],
            ["SMEMBERS", "u"],
            ["SREM", "big", "1", "2", "3", "nope"],
            ["SISMEMBER", "big", "2"],
            ["SRANDMEMBER", "x", "100"],
            ["SMOVE", "x", "y", "apple"],
            ["SMEMBERS", "y"]);
    }

    [Fact]
    public void Spop_and_srandmember_picks_have_redis_properties()
    {
        using var c = servers.Node.Client();
        c.Call("DEL", "s", "t");
        var members = Enumerable.Range(0, 300).Select(i => $"m{i}").ToArray();
        c.Call(["SADD", "s", .. members]);
        var distinct = c.Call("SRANDMEMBER", "s", "40").Texts;
        Assert.Equal(40, distinct.Distinct().Count());
        Assert.Subset(members.ToHashSet(), distinct.ToHashSet()!);
        var repeated = c.Call("SRANDMEMBER", "s", "-1000").Texts;
        Assert.Equal(1000, repeated.Length);
        Assert.True(repeated.Distinct().Count() < 300);
        Assert.Subset(members.ToHashSet(), repeated.ToHashSet()!);
        var popped = c.Call("SPOP", "s", "100").Texts;
        Assert.Equal(100, popped.Distinct().Count());
        Assert.Equal(200, c.Call("SCARD", "s").Integer);
        Assert.All(popped, m => Assert.Equal(0, c.Call("SISMEMBER", "s", m!).Integer));
        var one = c.Call("SPOP", "s").Text!;
        Assert.Equal(0, c.Call("SISMEMBER", "s", one).Integer);
        c.Call("SADD", "t", "1", "2", "3");
        c.Call("HELLO", "3");
        Assert.Equal(RespKind.Set, c.Call("SPOP", "t", "2").Kind);
        Assert.Equal(RespKind.Array, c.Call("SRANDMEMBER", "s", "2").Kind);
        Assert.Equal(RespKind.Set, c.Call("SPOP", "t", "5").Kind);
        Assert.Equal(0, c.Call("EXISTS", "t").Integer);
    }

    [Fact]
    public void Sscan_returns_every_member_that_stays_while_others_come_and_go()
    {
        using var c = servers.Node.Client();
        c.Call("DEL", "s");
        var stable = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            c.Call("SADD", "s", $"m{i}");
            if (i % 4 == 0)
            {
                stable.Add($"m{i}");
            }
        }
        var seen = new HashSet<string>();
        string cursor = "0";
        int round = 0;
        do
        {
            var reply = c.Call("SSCAN", "s", cursor, "COUNT", "20");
            cursor = reply.Elements[0].Text!;
            seen.UnionWith(reply.Elements[1].Texts!);
            // Churn: remove unstable members (shrinking), then add twice as many new ones (growing).
            for (int k = 0; k < 15 && round < 40; k++)
            {
                int n = (round * 15) + k;
                if (n % 4 != 0 && n < 1000)
                {
                    c.Call("SREM", "s", $"m{n}");
                }
                c.Call("SADD", "s", $"new{round}_{k}", $"more{round}_{k}");
            }
            round++;
        }
        while (cursor != "0");
        Assert.Empty(stable.Except(seen));
        Assert.True(round > 40);
    }

    [Fact]
    public void Binary_members_are_kept_exactly()
    {
        using var c = servers.Node.Client();
        byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);
        byte[] a = [0, 13, 10, 0];
        byte[] b = [0, 13, 10];
        c.Call(Bytes("DEL"), Bytes("bin"), Bytes("bin2"));
        Assert.Equal(2, c.Call(Bytes("SADD"), Bytes("bin"), a, b, a).Integer);
        Assert.Equal(1, c.Call(Bytes("SISMEMBER"), Bytes("bin"), b).Integer);
        Assert.Equal(0, c.Call(Bytes("SISMEMBER"), Bytes("bin"), [0, 13]).Integer);
        c.Call(Bytes("SADD"), Bytes("bin2"), a, new byte[100]);
        var inter = c.Call("SINTER", "bin", "bin2").Elements;
        Assert.Single(inter);
        Assert.Equal(a, inter[0].Bytes);
        Assert.Equal(1, c.Call(Bytes("SISMEMBER"), Bytes("bin2"), new byte[100]).Integer);
    }

    [Fact]
    public void Encoding_goes_intset_then_hashtable_as_in_redis_7_0()
    {
        var limits = new EncodingLimits();
        var set = new SetValue(limits);
        Assert.Equal("intset", set.EncodingName);
        Assert.True(set.Add("12"u8));
        Assert.True(set.Add("-3"u8));
        Assert.False(set.Add("12"u8));
        Assert.Equal("intset", set.EncodingName);
        Assert.True(set.Add("012"u8));
        Assert.Equal("hashtable", set.EncodingName);
        Assert.True(set.Contains("12"u8) && set.Contains("-3"u8) && set.Contains("012"u8));
        Assert.Equal("hashtable", ((SetValue)set.Clone()).EncodingName);

        var ints = new SetValue(limits);
        for (int i = 0; i < 512; i++)
        {
            ints.Add(Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        Assert.Equal("intset", ints.EncodingName);
        long bytes = ints.EstimatedBytes;
        ints.Add("512"u8);
        Assert.Equal("hashtable", ints.EncodingName);
        Assert.True(ints.EstimatedBytes > bytes);

        var longMember = new SetValue(limits);
        longMember.Add("1"u8);
        longMember.Add(new byte[65]);
        Assert.Equal("hashtable", longMember.EncodingName);
        var bigIntset = new SetValue(limits);
        for (int i = 0; i < 200; i++)
        {
            bigIntset.Add(Encoding.ASCII.GetBytes(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        bigIntset.Add("x"u8);
        Assert.Equal("hashtable", bigIntset.EncodingName);
        Assert.Equal("set", bigIntset.TypeName);
    }
}
