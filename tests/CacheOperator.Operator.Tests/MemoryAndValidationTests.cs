using CacheOperator.Node.Configuration;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;

namespace CacheOperator.Operator.Tests;

public class MemoryAndValidationTests
{
    private const long Mi = 1024 * 1024;

    [Theory]
    [InlineData("512Mi", "1Gi", 512 * Mi)]
    [InlineData("1Gi", "1Gi", 1024 * Mi - 1024 * Mi / 10)]
    [InlineData(null, "1Gi", 1024 * Mi - 1024 * Mi / 10)]
    [InlineData(null, "100Mi", 100 * Mi - 16 * Mi)]
    [InlineData("90Mi", "100Mi", 100 * Mi - 16 * Mi)]
    [InlineData("2G", null, 2_000_000_000)]
    [InlineData(null, null, 0)]
    public void Node_maxmemory_keeps_headroom_below_the_limit(string? maxMemory, string? limit, long expected)
    {
        Assert.Equal(expected, MemoryPlan.NodeMaxMemory(maxMemory, limit, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("lots", "1Gi", "not a Kubernetes quantity")]
    [InlineData("2Gi", "1Gi", "above spec.resources.limits.memory")]
    [InlineData("1Mi", "10Mi", "leaves no room")]
    [InlineData("0", "1Gi", "must be above 0")]
    public void Unusable_memory_settings_are_explained(string maxMemory, string limit, string fragment)
    {
        Assert.Null(MemoryPlan.NodeMaxMemory(maxMemory, limit, out var error));
        Assert.Contains(fragment, error);
    }

    [Fact]
    public void Config_directives_are_checked_against_the_node_catalog()
    {
        var spec = TestClusters.New().Spec;
        spec.Config = new() { ["no-such-directive"] = "1", ["hz"] = "-1", ["maxmemory"] = "1", ["timeout"] = "30" };
        Assert.Null(SpecValidator.Plan(spec, out var problems));
        Assert.Equal(["InvalidDirective", "ReservedDirective", "UnknownDirective"], problems.Select(p => p.Reason).Order());
        Assert.Contains(problems, p => p.Message.Contains("no-such-directive"));
    }

    [Theory]
    [InlineData("metrics-port", "9999")]
    [InlineData("port", "7000")]
    [InlineData("dir", "/tmp")]
    [InlineData("include", "/etc/passwd")]
    [InlineData("requirepass", "x")]
    [InlineData("masterauth", "x")]
    [InlineData("bind", "127.0.0.1")]
    [InlineData("cluster-port", "17000")]
    [InlineData("cluster-announce-hostname", "elsewhere")]
    [InlineData("slaveof", "10.0.0.1 6379")]
    public void Operator_owned_directives_are_refused_naming_the_directive(string name, string value)
    {
        var spec = TestClusters.New().Spec;
        spec.Config = new() { [name] = value };
        Assert.Null(SpecValidator.Plan(spec, out var problems));
        var problem = Assert.Single(problems);
        Assert.Equal("ReservedDirective", problem.Reason);
        Assert.StartsWith($"spec.config.{name}: the operator sets this directive itself; ", problem.Message);
    }

    [Fact]
    public void Directives_the_node_refuses_never_reach_the_node_config()
    {
        // Redis 7.0 knows these, the node does not implement them: refused, so no config file carries them.
        var spec = TestClusters.New().Spec;
        spec.Config = new() { ["activedefrag"] = "yes", ["set-max-listpack-entries"] = "5", ["appendonly"] = "yes", ["save"] = "900", ["hash-max-ziplist-entries"] = "-1" };
        Assert.Null(SpecValidator.Plan(spec, out var problems));
        Assert.Equal(["InvalidDirective", "InvalidDirective", "InvalidDirective", "UnknownDirective", "UnknownDirective"], problems.Select(p => p.Reason).Order());
        Assert.Contains(problems, p => p.Message.Contains("argument must be between 0 and 9223372036854775807 inclusive"));
    }

    [Fact]
    public void Encoding_directives_and_their_aliases_are_written_under_the_directive_name()
    {
        var spec = TestClusters.New().Spec;
        spec.Config = new() { ["hash-max-ziplist-entries"] = "64", ["zset-max-listpack-value"] = "1kb", ["set-max-intset-entries"] = "1000", ["list-max-ziplist-size"] = "-3" };
        var plan = SpecValidator.Plan(spec, out var problems);
        Assert.Empty(problems);
        Assert.Contains("hash-max-listpack-entries 64\n", plan!.NodeConfig);
        Assert.Contains("zset-max-listpack-value 1kb\n", plan.NodeConfig);
        Assert.Contains("set-max-intset-entries 1000\n", plan.NodeConfig);
        Assert.Contains("list-max-listpack-size -3\n", plan.NodeConfig);
    }

    [Fact]
    public void Snapshots_go_to_the_volume_or_are_off_without_one()
    {
        var spec = TestClusters.New().Spec;
        Assert.Contains("save \"\"\n", SpecValidator.Plan(spec, out _)!.NodeConfig);
        spec.Config = new() { ["save"] = "900 1" };
        var config = new NodeConfig();
        ConfigLoader.ApplyText(config, SpecValidator.Plan(spec, out _)!.NodeConfig);
        Assert.Equal("900 1", config.Save.Text);
        spec.Config = null;
        spec.Persistence = new PersistenceSpec { Enabled = true, Size = "1Gi" };
        var plan = SpecValidator.Plan(spec, out _)!.NodeConfig;
        Assert.Contains("dir /data\n", plan);
        Assert.DoesNotContain("save", plan);
    }

    [Fact]
    public void A_good_spec_gives_a_plan()
    {
        var spec = TestClusters.New(shards: 4, replicas: 2).Spec;
        spec.Config = new() { ["timeout"] = "30" };
        var plan = SpecValidator.Plan(spec, out var problems);
        Assert.Empty(problems);
        Assert.Equal((4, 2, 512 * Mi), (plan!.Shards, plan.ReplicasPerShard, plan.NodeMaxMemoryBytes));
        Assert.Contains("timeout 30\n", plan.NodeConfig);
    }

    [Fact]
    public void Persistence_needs_a_valid_size()
    {
        var spec = TestClusters.New().Spec;
        spec.Persistence = new PersistenceSpec { Enabled = true, Size = "big" };
        Assert.Null(SpecValidator.Plan(spec, out var problems));
        Assert.Equal("InvalidPersistence", Assert.Single(problems).Reason);
    }

    [Fact]
    public void Slots_split_evenly_without_gaps()
    {
        Assert.Equal(["0-5460", "5461-10921", "10922-16383"], Enumerable.Range(0, 3).Select(i => Slots.EvenRange(i, 3)));
        Assert.Equal("0-16383", Slots.EvenRange(0, 1));
    }
}
