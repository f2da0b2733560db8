using CacheOperator.Node.Tests.Cluster;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// Scripts in cluster mode, on a redis-server and a node that each serve every slot: declared keys go through the slot
/// check (-CROSSSLOT), keys redis.call uses must stay in one slot in a shebang script that does not allow cross-slot keys, and
/// no-cluster scripts are refused; replies compared byte for byte.
/// </summary>
public sealed class ScriptClusterTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("script-cluster-").FullName;
    private RedisServerProcess _redis = null!;
    private TestNode _node = null!;

    public Task InitializeAsync()
    {
        _redis = RedisServerProcess.Start("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, "redis-nodes.conf"));
        _node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(_dir, "node-nodes.conf"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _redis.Dispose();
        await _node.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Keys_declared_and_used_follow_redis_slot_rules()
    {
        using var redis = _redis.Client();
        using var node = _node.Client();
        foreach (var client in new[] { redis, node })
        {
            Assert.Equal("OK", client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "16383").Text);
            Wait.Until(() => client.Call("CLUSTER", "INFO").Text!.Contains("cluster_state:ok", StringComparison.Ordinal), "the cluster is up");
        }
        string a = ClusterDifferentialTests.KeyInSlot(100), b = ClusterDifferentialTests.KeyInSlot(200), a2 = ClusterDifferentialTests.KeyInSlot(100, "x");
        string[][] commands =
        [
            ["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", a],
            ["EVAL", "return {KEYS[1], KEYS[2]}", "2", a, b],
            ["EVAL", "redis.call('set', KEYS[1], '1') return redis.call('set', KEYS[2], '2')", "2", a, a2],
            ["EVAL", "redis.call('get', KEYS[1]) return redis.call('get', ARGV[1])", "1", a, b],
            ["EVAL", "redis.call('get', ARGV[1]) return redis.call('get', ARGV[2])", "0", a, b],
            ["EVAL", "return redis.call('get', ARGV[1])", "0", b],
            ["EVAL", "#!lua\nredis.call('get', KEYS[1]) return redis.call('get', ARGV[1])", "1", a, b],
            ["EVAL", "#!lua\nredis.call('get', KEYS[1]) return redis.call('get', ARGV[1])", "1", a, a2],
            ["EVAL", "#!lua\nredis.call('get', ARGV[1]) return redis.call('get', ARGV[2])", "0", a, b],
            ["EVAL", "#!lua\nreturn redis.call('mget', ARGV[1], ARGV[2])", "0", a, b],
            ["EVAL", "#!lua flags=allow-cross-slot-keys\nredis.call('get', ARGV[1]) return redis.call('get', ARGV[2])", "0", a, b],
            ["EVAL", "#!lua flags=no-cluster\nreturn 1", "0"],
            ["EVAL", "return redis.call('mget', ARGV[1], ARGV[2])", "0", a, b],
        ];
        foreach (var command in commands)
        {
            var expected = redis.Call(command);
            var actual = node.Call(command);
            Assert.True(expected.ToString() == actual.ToString(), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        }
    }
}
