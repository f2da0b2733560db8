using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class SortedSetWithSetInputsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Zunion_zinter_and_zdiff_take_plain_sets_as_members_with_score_one(int protocol)
    {
        using (var node = servers.Node.Client())
        {
            node.Call("DEL", "z", "s", "ints", "dest");
        }
        servers.AssertSameReplies(protocol,
            ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
            ["SADD", "s", "b", "c", "d"],
            ["SADD", "ints", "1", "2", "3"],
            ["ZUNION", "2", "z", "s", "WITHSCORES"],
            ["ZINTER", "2", "z", "s", "WEIGHTS", "2", "10", "WITHSCORES"],
            ["ZDIFF", "2", "z", "s", "WITHSCORES"],
            ["ZUNIONSTORE", "dest", "2", "s", "ints", "AGGREGATE", "MAX"],
            ["ZRANGE", "dest", "0", "-1", "WITHSCORES"],
            ["ZINTERCARD", "2", "z", "s"]);
    }
}
