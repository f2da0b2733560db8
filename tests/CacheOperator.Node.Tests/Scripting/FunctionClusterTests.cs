using CacheOperator.Node.Tests.Cluster;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// Functions in cluster mode, on a redis-server and a node that each serve every slot but one: FCALL's declared keys go
/// through the slot check (-CROSSSLOT, -MOVED), keys redis.call uses stay in one slot unless the function allows
/// cross-slot keys, keys of another node's slot raise Redis's error, no-cluster functions are refused; replies byte for byte.
/// </summary>
public sealed class FunctionClusterTests : IAsyncLifetime
{
    private ClusterModePair _pair = null!;

    private const string Library = """
        #!lua name=clustered
        redis.register_function('get1', function(keys, args) return redis.call('get', keys[1]) end)
        redis.register_function('getboth', function(keys, args) redis.call('get', keys[1]) return redis.call('get', args[1]) end)
        redis.register_function{function_name='getcross', callback=function(keys, args) redis.call('get', args[1]) return redis.call('get', args[2]) end, flags={'allow-cross-slot-keys'}}
        redis.register_function{function_name='local', callback=function() return 1 end, flags={'no-cluster'}}
        redis.register_function('setboth', function(keys, args) redis.call('set', keys[1], '1') return redis.call('set', keys[2], '2') end)
        """;


    /// <inheritdoc/>
    public Task InitializeAsync()
    {
        _pair = ClusterModePair.Start("function-cluster-");
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync() => await _pair.DisposeAsync();

    [Fact]
    public void Fcall_follows_redis_slot_rules()
    {
        using var redis = _pair.Redis.Client();
        using var node = _pair.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            ClusterModePair.ServeEverySlot(client);
            string other = _pair.MeetDeadNode(client);
            // Slot 12182 ("foo") is the other node's.
            Assert.Equal("OK", client.Call("CLUSTER", "SETSLOT", "12182", "NODE", other).Text);
            Assert.Equal("clustered", client.Call("FUNCTION", "LOAD", Library).Text);
        }
        string a = ClusterDifferentialTests.KeyInSlot(100), b = ClusterDifferentialTests.KeyInSlot(200), a2 = ClusterDifferentialTests.KeyInSlot(100, "x");
        string[][] commands =
        [
            ["FCALL", "get1", "1", a],
            ["FCALL", "get1", "1", "foo"],
            ["FCALL_RO", "get1", "1", "foo"],
            ["FCALL", "get1", "2", a, b],
            ["FCALL", "getboth", "1", a, a2],
            ["FCALL", "getboth", "1", a, b],
            ["FCALL", "getboth", "1", a, "foo"],
            ["FCALL", "getcross", "0", a, b],
            ["FCALL", "getcross", "0", a, "foo"],
            ["FCALL", "setboth", "2", a, a2],
            ["FCALL", "local", "0"],
            ["FCALL", "nosuch", "1", "foo"],
        ];
        foreach (var command in commands)
        {
            var expected = redis.Call(command);
            var actual = node.Call(command);
            Assert.True(expected.ToString() == actual.ToString(), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        }
    }
}
