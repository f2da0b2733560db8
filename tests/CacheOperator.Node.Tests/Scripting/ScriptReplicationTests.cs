using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>Scripts replicate as their effects: a redis-server replica of the node ends with the same data, and redis.set_repl(REPL_NONE) keeps writes local.</summary>
public class ScriptReplicationTests
{
    [Fact]
    public async Task Redis_server_replica_gets_the_effects_of_scripts()
    {
        await using var master = TestNode.Start();
        using var client = master.Client();
        using var redis = RedisServerProcess.Start("--replicaof", $"127.0.0.1 {master.Port}");
        using var replica = redis.Client();
        Wait.Until(() => ReplicationInfo.Info(replica, "master_link_status") == "up", "the replica's link is up");

        // Several writes (MULTI/EXEC on the stream), a random value the replica cannot compute, a single write, a read-only script.
        Assert.Equal(3, client.Call("EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('rpush', KEYS[2], 'a', 'b') return redis.call('incrby', KEYS[3], 3)", "3", "s", "l", "n", "v").Integer);
        client.Call("EVAL", "return redis.call('set', 'rand', tostring(math.random()))", "0");
        client.Call("EVAL", "return redis.call('hset', 'h', 'f', 'v')", "0");
        client.Call("EVAL", "return redis.call('get', 's')", "0");
        // Not replicated: set_repl(REPL_NONE) for the first write, REPL_ALL for the second.
        client.Call("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'local', '1') redis.set_repl(redis.REPL_ALL) return redis.call('set', 'shared', '1')", "0");
        client.Call("SET", "marker", "end");
        Wait.Until(() => replica.Call("GET", "marker").Text == "end", "the replica caught up");
        Assert.Equal("v", replica.Call("GET", "s").Text);
        Assert.Equal("a,b", string.Join(",", replica.Call("LRANGE", "l", "0", "-1").Texts));
        Assert.Equal("3", replica.Call("GET", "n").Text);
        Assert.Equal(client.Call("GET", "rand").Text, replica.Call("GET", "rand").Text);
        Assert.Equal("v", replica.Call("HGET", "h", "f").Text);
        Assert.Equal("1", replica.Call("GET", "shared").Text);
        Assert.Equal(RespKind.Null, replica.Call("GET", "local").Kind);
        Assert.Equal("1", client.Call("GET", "local").Text);
    }
}
