using System.Diagnostics;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Tracking;

/// <summary>
/// A real client library's client-side cache: node-redis 5's BasicClientSideCache (RESP3, CLIENT TRACKING ON, invalidation
/// pushes; tests/clients/csc_node_redis.js) serves reads locally until another client's write, an expiry or FLUSHALL
/// invalidates them, on redis-server and on the node alike.
/// </summary>
public sealed class NodeRedisClientSideCacheTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData("redis")]
    [InlineData("node")]
    public async Task Node_redis_client_side_cache_is_invalidated(string server)
    {
        int port = server == "redis" ? servers.Redis.Port : servers.Node.Port;
        string script = Path.Combine(RepoPaths.Root, "tests", "clients", "csc_node_redis.js");
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var process = Process.Start(info)!;
        var outputRead = process.StandardOutput.ReadToEndAsync();
        var errorRead = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        string output = await outputRead;
        string error = await errorRead;
        Assert.True(process.ExitCode == 0, $"csc_node_redis.js failed: {output}{error}");
        // Hits vary with the polling; the cache must have served reads and seen every invalidation (2 writes, expiry, flush).
        var fields = output.Trim().Split(' ');
        Assert.Equal("ok", fields[0]);
        Assert.True(long.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture) >= 2, output);
        Assert.True(long.Parse(fields[3], System.Globalization.CultureInfo.InvariantCulture) >= 4, output);
    }
}
