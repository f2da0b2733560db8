using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// The propagation tests' one procedure: a script runs on redis-server 7.0.15 while a fake replica reads what it sends,
/// then on a fresh node while its change stream is captured; both feeds come back as command lines for comparison.
/// </summary>
public static class PropagationDifferential
{
    /// <summary>Runs <paramref name="script"/> on one client of each server.</summary>
    public static Task<(List<string> Redis, List<string> Node)> CaptureAsync(string[][] script) =>
        CaptureAsync(connect =>
        {
            using var client = connect();
            foreach (var command in script)
            {
                client.Call(command);
            }
        });

    /// <summary>
    /// Runs <paramref name="run"/> against each server, both started with <paramref name="options"/> (it opens the
    /// clients it needs from the factory it is given), then "SET sentinel 1", whose arrival in redis-server's feed marks
    /// the end of what it propagates.
    /// </summary>
    public static async Task<(List<string> Redis, List<string> Node)> CaptureAsync(Action<Func<RespClient>> run, params string[] options)
    {
        string dir = Directory.CreateTempSubdirectory("redis-feed-").FullName;
        try
        {
            using var redis = RedisServerProcess.Start(["--dir", dir, "--repl-diskless-sync", "no", .. options]);
            using var feed = RedisReplicationFeed.Attach(redis.Port);
            RunThenSentinel(run, redis.Client);
            await using var node = TestNode.Start(options);
            var capture = StreamCapture.Attach(node.Server);
            RunThenSentinel(run, node.Client);
            var expected = new List<string>();
            Wait.Until(() => (expected = feed.Commands).Contains("SET sentinel 1"), "redis propagates the whole script");
            return (expected, capture.Commands.Select(StreamCapture.Format).ToList());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void RunThenSentinel(Action<Func<RespClient>> run, Func<RespClient> connect)
    {
        run(connect);
        using var client = connect();
        client.Call("SET", "sentinel", "1");
    }
}
