using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Replication;

namespace CacheOperator.Node.Tests.HyperLogLog;

/// <summary>
/// What the HLL commands send to replicas, against what redis-server 7.0.15 sends for the same script: PFADD only when a
/// register grew, PFCOUNT when it cached a count (Redis treats that as a write of the string), PFMERGE always, PFDEBUG
/// GETREG/TODENSE when they converted a sparse value.
/// </summary>
public class HyperLogLogPropagationTests
{
    private static readonly string[][] Script =
    [
        ["PFADD", "h", "a", "b"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFCOUNT", "h"], ["PFADD", "h", "c"], ["PFCOUNT", "h", "nosuch"],
        ["PFCOUNT", "nosuch"], ["PFADD", "e"], ["PFMERGE", "m", "h", "e"], ["PFCOUNT", "m"], ["PFDEBUG", "ENCODING", "m"], ["PFDEBUG", "TODENSE", "m"],
        ["PFDEBUG", "TODENSE", "m"], ["PFADD", "g", "x"], ["PFDEBUG", "GETREG", "g"], ["PFDEBUG", "GETREG", "g"], ["SET", "s", "x"], ["PFADD", "s", "y"],
        ["MULTI"], ["PFADD", "t", "1"], ["PFCOUNT", "t"], ["EXEC"], ["SET", "sentinel", "1"],
    ];

    [Fact]
    public async Task The_stream_matches_what_redis_sends_its_replicas()
    {
        string dir = Directory.CreateTempSubdirectory("redis-hll-feed-").FullName;
        try
        {
            using var redis = RedisServerProcess.Start("--dir", dir, "--repl-diskless-sync", "no");
            using var feed = RedisReplicationFeed.Attach(redis.Port);
            using (var client = redis.Client())
            {
                foreach (var command in Script)
                {
                    client.Call(command);
                }
            }
            await using var node = TestNode.Start();
            var capture = StreamCapture.Attach(node.Server);
            using (var client = node.Client())
            {
                foreach (var command in Script)
                {
                    client.Call(command);
                }
            }
            var expected = new List<string>();
            Wait.Until(() => (expected = feed.Commands).Contains("SET sentinel 1"), "redis propagates the whole script");
            var actual = capture.Commands.Select(StreamCapture.Format).ToList();
            Assert.Contains("PFCOUNT h", expected);
            Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
