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
        ["MULTI"], ["PFADD", "t", "1"], ["PFCOUNT", "t"], ["EXEC"],
    ];

    [Fact]
    public async Task The_stream_matches_what_redis_sends_its_replicas()
    {
        var (expected, actual) = await PropagationDifferential.CaptureAsync(Script);
        Assert.Contains("PFCOUNT h", expected);
        Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
    }
}
