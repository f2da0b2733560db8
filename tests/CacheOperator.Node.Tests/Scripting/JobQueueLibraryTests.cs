using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// A published job-queue library's Lua scripts: bee-queue 2.0.0 (tests/clients/jobqueue_bee_queue.js: jobs with counter
/// and custom ids, a pipelined batch, retries with backoff, failures, delayed jobs raised by a worker, removal, stalled-job
/// checks, health checks, events over pub/sub, raiseDelayedJobs's own replies over 1,500 delayed jobs) run against a node
/// process and a redis-server 7.0.15 print the same transcript of ids, states, counts, events, script replies and final
/// keys, and the library's scripts ran on the node through EVALSHA.
/// </summary>
public sealed class JobQueueLibraryTests
{
    private static readonly string ClientsDirectory = Path.Combine(RepoPaths.Root, "tests", "clients");

    [Fact]
    public async Task Bee_queue_workload_leaves_the_same_transcript_on_the_node_as_on_redis()
    {
        using var redis = RedisServerProcess.Start();
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--save", ""]);
        string expected = await RunDriver(redis.Port);
        string actual = await RunDriver(node.Port);
        Assert.Equal(expected, actual);

        // The workload did what it says on both (a transcript of errors would be equal too).
        Assert.DoesNotContain("\nerror ", actual, StringComparison.Ordinal);
        Assert.Contains("health after processing {\"waiting\":0,\"active\":0,\"succeeded\":10,\"failed\":2,\"delayed\":1,\"newestJob\":13}", actual, StringComparison.Ordinal);
        Assert.Contains("events 8 retrying:job 8 failed attempt 1 retrying:job 8 failed attempt 2 failed:job 8 failed attempt 3", actual, StringComparison.Ordinal);
        Assert.Contains("stall check 3 1\nstalled events 1\nstall waiting 1,2", actual, StringComparison.Ordinal);
        Assert.Contains("key bq:work:delayed zset persistent far-future", actual, StringComparison.Ordinal);
        Assert.Contains("direct raise 1 [1201,\"4102444801499\"]\ndirect raise 2 [100,\"4102444801499\"]\ndirect raise 3 [199,-1]", actual, StringComparison.Ordinal);

        // The library's five scripts are cached on the node and ran there through EVALSHA, none failing.
        string[] shas = [.. Directory.GetFiles(Path.Combine(ClientsDirectory, "node_modules", "bee-queue", "lib", "lua"), "*.lua")
            .Select(file => Convert.ToHexStringLower(SHA1.HashData(File.ReadAllBytes(file))))];
        Assert.Equal(5, shas.Length);
        using var client = new RespClient(node.Port);
        var exists = client.Call(["SCRIPT", "EXISTS", .. shas]);
        Assert.All(exists.Elements, e => Assert.Equal(1, e.Integer));
        var stats = CommandStats(client.Call("INFO", "commandstats").Text!);
        // At least 13 addJob, 3 addDelayedJob, 4 removeJob, 5 checkStalledJobs, 6 raiseDelayedJobs, 2 more addJob, 1,500 addDelayedJob.
        Assert.True(stats["evalsha"]["calls"] >= 1533, $"evalsha calls: {stats["evalsha"]["calls"]}");
        Assert.Equal(0, stats["evalsha"]["failed_calls"]);
        Assert.True(stats["script|load"]["calls"] >= 5);
        Assert.DoesNotContain("errorstat_", client.Call("INFO", "errorstats").Text!, StringComparison.Ordinal);
    }

    /// <summary>INFO commandstats as command → field → number.</summary>
    private static Dictionary<string, Dictionary<string, long>> CommandStats(string info) =>
        info.Split("\r\n").Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal)).ToDictionary(
            l => l["cmdstat_".Length..l.IndexOf(':', StringComparison.Ordinal)],
            l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(',').Select(f => f.Split('='))
                .ToDictionary(f => f[0], f => (long)double.Parse(f[1], CultureInfo.InvariantCulture)));

    private static async Task<string> RunDriver(int port)
    {
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ClientsDirectory,
        };
        info.ArgumentList.Add(Path.Combine(ClientsDirectory, "jobqueue_bee_queue.js"));
        info.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(info)!;
        var outputRead = process.StandardOutput.ReadToEndAsync();
        var errorRead = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(deadline.Token);
        string output = await outputRead;
        string error = await errorRead;
        Assert.True(process.ExitCode == 0, $"jobqueue_bee_queue.js against port {port} failed:\n{output}{error}");
        return output;
    }
}
