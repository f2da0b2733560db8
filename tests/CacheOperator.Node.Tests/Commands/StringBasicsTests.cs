using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class StringBasicsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Set_options_answer_exactly_as_redis()
    {
        servers.AssertSameReplies(
            ["SET", "k", "v"],
            ["SET", "k", "w", "NX"],
            ["SET", "k", "w", "XX", "GET"],
            ["SET", "missing", "w", "XX"],
            ["SET", "k", "x", "EX", "0"],
            ["SET", "k", "x", "EX", "-5"],
            ["SET", "k", "x", "EX", "abc"],
            ["SET", "k", "x", "NX", "XX"],
            ["SET", "k", "x", "EX", "10", "PX", "100"],
            ["SET", "k", "x", "KEEPTTL", "EX", "10"],
            ["SET", "k", "x", "EX", "9223372036854775807"],
            ["SET", "k", "x", "PXAT", "1"],
            ["GET", "k"],
            ["GET", "nothing"]);
    }
}
