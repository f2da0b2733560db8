using CacheOperator.Node.Configuration;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheOperator.Operator.Tests;

public class EndToEndTests
{
    [Fact]
    public void The_node_loads_the_config_file_the_operator_writes()
    {
        var cluster = TestClusters.New();
        cluster.Spec.EvictionPolicy = "allkeys-lfu";
        cluster.Spec.Config = new() { ["timeout"] = "60", ["save"] = "", ["loglevel"] = "warning" };
        var config = new NodeConfig();
        ConfigLoader.ApplyText(config, TestClusters.Plan(cluster).NodeConfig);
        Assert.Equal(512L * 1024 * 1024, config.MaxMemory.Number);
        Assert.Equal("allkeys-lfu", config.MaxMemoryPolicy.Text);
        Assert.Equal(60, config.Timeout.Number);
        Assert.Equal(6379, config.Port.Number);
        Assert.Equal("warning", config.LogLevel.Text);
    }

    [Fact]
    public void A_pod_runs_a_cluster_node_announcing_its_stable_hostname()
    {
        // The node as the kubelet starts it: the ConfigMap's file, then the container's args with $(POD_NAME) expanded.
        var cluster = TestClusters.New();
        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 2);
        var args = set.Spec.Template.Spec.Containers[0].Args.Select(a => a.Replace("$(POD_NAME)", "demo-shard-2-1", StringComparison.Ordinal)).ToList();
        var directory = Directory.CreateTempSubdirectory("operator-config-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "node.conf"), TestClusters.Plan(cluster).NodeConfig);
            args[0] = Path.Combine(directory.FullName, "node.conf");
            var config = new NodeConfig();
            ConfigLoader.Load(config, args);
            Assert.True(config.ClusterEnabled.IsOn);
            Assert.Equal("demo-shard-2-1.demo-headless.cache.svc", config.ClusterAnnounceHostname.Text);
            Assert.Equal("hostname", config.ClusterPreferredEndpointType.Text);
            Assert.Equal("/tmp/nodes.conf", config.ClusterConfigFile.Text);
            Assert.Equal(5000, config.ClusterNodeTimeout.Number);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_node_loads_the_encoding_directives_the_operator_writes()
    {
        var cluster = TestClusters.New();
        cluster.Spec.Config = new() { ["hash-max-ziplist-value"] = "128", ["zset-max-ziplist-entries"] = "256", ["list-compress-depth"] = "1" };
        var config = new NodeConfig();
        ConfigLoader.ApplyText(config, TestClusters.Plan(cluster).NodeConfig);
        Assert.Equal(128, config.HashMaxListpackValue.Number);
        Assert.Equal(256, config.ZsetMaxListpackEntries.Number);
        Assert.Equal(1, config.ListCompressDepth.Number);
    }

    [Fact]
    public async Task The_controller_reacts_to_watch_events_and_shuts_down_gracefully()
    {
        var api = new InMemoryKubeApi();
        using var metrics = new OperatorMetrics();
        var runner = new OperatorRunner(api, new ScriptedTopology(), new ControllerOptions("cache", 2, TimeSpan.FromSeconds(30)), metrics, NullLoggerFactory.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var running = runner.RunControllerAsync(stop.Token);

        await api.CreateAsync(TestClusters.New(shards: 2), CancellationToken.None);
        await WaitForPhaseAsync(api, ClusterPhase.Creating);
        // Pods become ready: the StatefulSet status change (an owned object) triggers the reconcile.
        foreach (var set in (await api.ListAsync<V1StatefulSet>("cache", null, CancellationToken.None)).Items)
        {
            set.Status = new V1StatefulSetStatus { Replicas = 2, ReadyReplicas = 2, ObservedGeneration = set.Metadata.Generation };
            await api.ReplaceStatusAsync(set, CancellationToken.None);
        }
        await WaitForPhaseAsync(api, ClusterPhase.Ready);

        await api.DeleteAsync<CacheCluster>("cache", "demo", CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (await api.GetAsync<CacheCluster>("cache", "demo", CancellationToken.None) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the finalizer was not released");
            await Task.Delay(20);
        }
        Assert.Empty((await api.ListAsync<V1StatefulSet>("cache", null, CancellationToken.None)).Items);

        await stop.CancelAsync();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static async Task WaitForPhaseAsync(InMemoryKubeApi api, string phase)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while ((await api.GetAsync<CacheCluster>("cache", "demo", CancellationToken.None))?.Status?.Phase != phase)
        {
            Assert.True(DateTime.UtcNow < deadline, $"phase {phase} not reached");
            await Task.Delay(20);
        }
    }
}
