using CacheOperator.Client;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Local;
using CacheOperator.Operator.Reconcile;
using k8s.Models;

namespace CacheOperator.Operator.Tests.Local;

public class LocalNodeRuntimeTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    private static CacheCluster NewCluster(int shards, int replicas) => new()
    {
        Metadata = new V1ObjectMeta { Name = "rt", NamespaceProperty = "default" },
        Spec = new CacheClusterSpec { Shards = shards, ReplicasPerShard = replicas, MaxMemory = "64Mi", EvictionPolicy = "allkeys-lru" },
    };

    [Theory]
    [InlineData(null)]
    [InlineData("redis-server")]
    public async Task Starts_reports_restarts_a_killed_node_and_stops_cleanly(string? nodeCommand)
    {
        var directory = LocalTestSupport.TempDirectory();
        var basePort = LocalTestSupport.FreeBasePort(4);
        var runtime = new LocalNodeRuntime(new LocalOptions(directory, basePort, nodeCommand));
        var cluster = NewCluster(shards: 2, replicas: 0);
        var plan = SpecValidator.Plan(cluster.Spec, out _)!;
        try
        {
            var summary = await runtime.ApplyAsync(cluster, plan, CancellationToken.None);
            Assert.Equal([0, 1], summary.CreatedShards);
            var observed = await LocalTestSupport.PollAsync(
                async () => await runtime.ObserveAsync(cluster, CancellationToken.None) is { } o && o.Shards.All(s => s.Ready) ? o : null,
                Deadline, "both nodes ready");
            Assert.Equal(["rt-shard-0", "rt-shard-1"], observed.Shards.Select(s => s.Name));
            var member = observed.Shards[0].Members.Single();
            Assert.Equal("rt-shard-0-0", member.Name);
            Assert.Equal("127.0.0.1", member.Host);
            Assert.Equal(basePort, member.Port);
            Assert.Equal(basePort + 1, observed.Shards[1].Members.Single().Port);

            // The spec's memory settings reach the node, in cluster mode.
            await using (var connection = await RespConnection.ConnectAsync("127.0.0.1", member.Port))
            {
                var policy = (await connection.ExecuteAsync("CONFIG", "GET", "maxmemory-policy")).AsStrings();
                Assert.Equal("allkeys-lru", policy[1]);
                Assert.Contains("cluster_enabled:1", (await connection.ExecuteAsync("INFO", "cluster")).AsString());
            }
            Assert.True(File.Exists(Path.Combine(directory, "rt-shard-0-0", "node.conf")));

            // kill -9: observed not ready, then Apply starts it again on the same port.
            var pid = runtime.Members.Single(m => m.Name == "rt-shard-0-0").Pid;
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            await LocalTestSupport.PollAsync(
                async () => !(await runtime.ObserveAsync(cluster, CancellationToken.None)).Shards[0].Ready,
                Deadline, "the killed node seen as not ready");
            var again = await runtime.ApplyAsync(cluster, plan, CancellationToken.None);
            Assert.Empty(again.CreatedShards);
            await LocalTestSupport.PollAsync(
                async () => (await runtime.ObserveAsync(cluster, CancellationToken.None)).Shards.All(s => s.Ready),
                Deadline, "the killed node restarted");
            Assert.NotEqual(pid, runtime.Members.Single(m => m.Name == "rt-shard-0-0").Pid);

            // A runtime over the same directory (local up restarted) reuses the ports.
            var reopened = new LocalNodeRuntime(new LocalOptions(directory, basePort + 50, nodeCommand));
            Assert.Equal(basePort, (await reopened.ObserveAsync(cluster, CancellationToken.None)).Shards[0].Members[0].Port);

            var pids = runtime.Members.Select(m => m.Pid).ToList();
            await runtime.CleanUpAsync(cluster, CancellationToken.None);
            Assert.All(pids, p => Assert.False(NodeProcesses.IsAlive(p)));
        }
        finally
        {
            await runtime.StopAllAsync(null, CancellationToken.None);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Removing_a_shard_stops_its_nodes_and_a_new_shard_gets_a_new_port()
    {
        var directory = LocalTestSupport.TempDirectory();
        var basePort = LocalTestSupport.FreeBasePort(4);
        var runtime = new LocalNodeRuntime(new LocalOptions(directory, basePort, "redis-server"));
        try
        {
            var two = NewCluster(shards: 2, replicas: 0);
            await runtime.ApplyAsync(two, SpecValidator.Plan(two.Spec, out _)!, CancellationToken.None);
            var removed = runtime.Members.Single(m => m.Shard == 1);
            await runtime.DeleteShardAsync(two, 1, CancellationToken.None);
            Assert.False(NodeProcesses.IsAlive(removed.Pid));
            Assert.Single((await runtime.ObserveAsync(two, CancellationToken.None)).Shards);

            var three = NewCluster(shards: 3, replicas: 0);
            await runtime.ApplyAsync(three, SpecValidator.Plan(three.Spec, out _)!, CancellationToken.None);
            var ports = runtime.Members.OrderBy(m => m.Shard).Select(m => m.Port).ToList();
            Assert.Equal([basePort, basePort + 1, basePort + 2], ports);
        }
        finally
        {
            await runtime.StopAllAsync(null, CancellationToken.None);
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_node_config_is_the_plans_with_this_machines_ports_and_directories()
    {
        var directory = LocalTestSupport.TempDirectory();
        try
        {
            var cluster = NewCluster(shards: 1, replicas: 0);
            cluster.Spec.Config = new() { ["timeout"] = "60" };
            var plan = SpecValidator.Plan(cluster.Spec, out _)!;
            var member = new LocalMember { Name = "rt-shard-0-0", Port = 7005 };
            var config = new LocalNodeRuntime(new LocalOptions(directory, 7000)).NodeConfigFor(plan, member, "s3cret");
            Directory.CreateDirectory(Path.Combine(directory, "rt-shard-0-0"));
            var node = new CacheOperator.Node.Configuration.NodeConfig();
            CacheOperator.Node.Configuration.ConfigLoader.ApplyText(node, config);
            Assert.Equal(7005, node.Port.Number);
            Assert.Equal(17005, node.ClusterPort.Number);
            Assert.Equal(0, node.MetricsPort.Number);
            Assert.Equal("localhost", node.ClusterAnnounceHostname.Text);
            Assert.Equal("ip", node.ClusterPreferredEndpointType.Text);
            Assert.Equal(60, node.Timeout.Number);
            Assert.Equal("allkeys-lru", node.MaxMemoryPolicy.Text);
            Assert.Equal(Path.Combine(directory, "rt-shard-0-0"), node.Dir.Text);
            Assert.Contains("requirepass s3cret", config);
            Assert.Contains("masterauth s3cret", config);
            Assert.DoesNotContain("port 6379", config);

            // redis-server has no metrics-port directive.
            Assert.DoesNotContain("metrics-port", new LocalNodeRuntime(new LocalOptions(directory, 7000, "redis-server")).NodeConfigFor(plan, member, null));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Spec_auth_needs_the_local_password_variable()
    {
        var spec = new CacheClusterSpec { Auth = new AuthSpec { SecretRef = new SecretKeyRef { Name = "s" } } };
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(LocalOptions.PasswordVariable)))
        {
            Assert.Null(LocalOptions.Password(spec, out var error));
            Assert.Contains(LocalOptions.PasswordVariable, error);
        }
        Assert.Null(LocalOptions.Password(new CacheClusterSpec(), out var none));
        Assert.Null(none);
    }
}
