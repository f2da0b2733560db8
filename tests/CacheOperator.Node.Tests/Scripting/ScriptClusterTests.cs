using CacheOperator.Node.Tests.Cluster;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// Scripts in cluster mode, on a redis-server and a node that each serve every slot: declared keys go through the slot
/// check (-CROSSSLOT), keys redis.call uses must stay in one slot in a shebang script that does not allow cross-slot keys, and
/// no-cluster scripts are refused, and keys of another node's slot (or of a migrating slot where the key is not) get Redis's
/// redirections for declared keys and its "non local key" error inside redis.call; replies compared byte for byte.
/// </summary>
public sealed class ScriptClusterTests : IAsyncLifetime
{
    private ClusterModePair _pair = null!;


    /// <inheritdoc/>
    public Task InitializeAsync()
    {
        _pair = ClusterModePair.Start("script-cluster-");
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public void Keys_declared_and_used_follow_redis_slot_rules()
    {
        using var redis = _pair.Redis.Client();
        using var node = _pair.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            ClusterModePair.ServeEverySlot(client);
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

    [Fact]
    public void Keys_of_another_nodes_slot_get_redis_errors_inside_scripts()
    {
        using var redis = _pair.Redis.Client();
        using var node = _pair.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            ClusterModePair.ServeEverySlot(client);
            string other = _pair.MeetDeadNode(client);
            string localInMigrating = ClusterDifferentialTests.KeyInSlot(5061, "m");
            Assert.Equal("OK", client.Call("SET", localInMigrating, "here").Text);
            // Slot 12182 ("foo") is the other node's, 5061 migrates to it, 1000 is imported from it.
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "12182", "NODE", other).Text);
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "5061", "MIGRATING", other).Text);
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "1000", "NODE", other).Text);
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "1000", "IMPORTING", other).Text);
        }
        string migrating = ClusterDifferentialTests.KeyInSlot(5061, "m"), absentMigrating = ClusterDifferentialTests.KeyInSlot(5061, "n");
        string importing = ClusterDifferentialTests.KeyInSlot(1000, "i"), local = ClusterDifferentialTests.KeyInSlot(300);
        const string GetArg = "return redis.call('get', ARGV[1])";
        string[][] commands =
        [
            // A declared key of another node's slot: the script does not run, the client is redirected.
            ["EVAL", "return redis.call('get', KEYS[1])", "1", "foo"],
            ["EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "foo"],
            ["EVAL_RO", "return redis.call('get', KEYS[1])", "1", "foo"],
            // Undeclared keys reached by redis.call: an error raised in the script (redis.call), or returned (redis.pcall, pcall).
            ["EVAL", GetArg, "0", "foo"],
            ["EVAL", "return redis.pcall('get', ARGV[1])", "0", "foo"],
            ["EVAL", "local ok, e = pcall(redis.call, 'get', ARGV[1]) return {tostring(ok), e.err}", "0", "foo"],
            ["EVAL", "redis.call('set', ARGV[1], 'written') return redis.call('set', ARGV[2], 'x')", "0", local, "foo"],
            ["GET", local],
            ["EVAL", "return redis.call('mget', ARGV[1], ARGV[2])", "0", local, "foo"],
            ["EVAL", "#!lua flags=allow-cross-slot-keys\nreturn redis.call('get', ARGV[1])", "0", "foo"],
            ["EVAL_RO", GetArg, "0", "foo"],
            // A migrating slot: keys still here are served, absent ones are not (ASK outside, the error inside).
            ["EVAL", GetArg, "0", migrating],
            ["EVAL", "return redis.call('get', KEYS[1])", "1", migrating],
            ["EVAL", GetArg, "0", absentMigrating],
            ["EVAL", "return redis.call('set', ARGV[1], 'x')", "0", absentMigrating],
            ["EVAL", "return redis.call('get', KEYS[1])", "1", absentMigrating],
            // An importing slot: only after ASKING, which the script's calls inherit.
            ["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", importing],
            ["EVAL", "return redis.call('set', ARGV[1], 'v')", "0", importing],
            ["ASKING"],
            ["EVAL", "return redis.call('set', KEYS[1], 'v')", "1", importing],
            ["ASKING"],
            ["EVAL", "return redis.call('get', ARGV[1])", "0", importing],
            ["EVAL", "return redis.call('get', ARGV[1])", "0", importing],
        ];
        foreach (var command in commands)
        {
            var expected = redis.Call(command);
            var actual = node.Call(command);
            Assert.True(expected.ToString() == actual.ToString(), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        }
    }
}
