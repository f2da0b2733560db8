using System.Diagnostics;
using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// Cluster-aware clients other than StackExchange.Redis, as users run them: redis-py's RedisCluster
/// (Debian's python3-redis) and ioredis's Cluster (npm, tests/clients), each writing and reading keys
/// across all slots, a hash-tagged multi-key command, a pipeline and the cross-slot error.
/// </summary>
public sealed class RedisPyAndIoredisClusterTests : IDisposable
{
    private readonly ClusterMembers _members = new();

    /// <summary>The member kinds of each cluster the clients run against.</summary>
    public static TheoryData<string> Clusters => new() { "Redis,Redis,Redis", "Node,Node,Node", "Redis,Redis,Node", "Node,Node,Redis" };

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Redis_py_cluster_client(string kinds) =>
        AssertClientSucceeds(kinds, "/usr/bin/python3", Path.Combine(RepoPaths.Root, "tests", "clients", "cluster_redis_py.py"));

    [Theory]
    [MemberData(nameof(Clusters))]
    public void Ioredis_cluster_client(string kinds) =>
        AssertClientSucceeds(kinds, "node", Path.Combine(RepoPaths.Root, "tests", "clients", "cluster_ioredis.js"));

    /// <inheritdoc/>
    public void Dispose() => _members.Dispose();

    private void AssertClientSucceeds(string kinds, string program, string script)
    {
        var members = _members.Start(kinds);
        var created = RedisCli.Cluster("create", [.. members.Select(m => m.Address), "--cluster-yes"]);
        Assert.Contains("[OK] All 16384 slots covered.", created, StringComparison.Ordinal);
        ClusterWait.UntilConverged(members);

        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        info.ArgumentList.Add(script);
        foreach (var member in members)
        {
            info.ArgumentList.Add(member.Port.ToString(CultureInfo.InvariantCulture));
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "the client script did not finish");
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(script)} failed: {output.Result}{error.Result}");
        Assert.Equal("ok 2000", output.Result.Trim());
    }
}
