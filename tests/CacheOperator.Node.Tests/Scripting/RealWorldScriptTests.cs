using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>Scripts applications really run (a distributed lock, a sliding-window rate limiter), on both servers with the same replies.</summary>
public class RealWorldScriptTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Redlock's release: delete the key only when it still holds our token.</summary>
    private const string Unlock = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

    /// <summary>Extend the lock only when it is still ours.</summary>
    private const string Extend = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

    /// <summary>
    /// A sliding-window limiter over a sorted set: drop entries older than the window, count, admit and record when
    /// under the limit; replies {admitted, count} (times come from the caller so that both servers see the same).
    /// </summary>
    private const string RateLimit = """
        local key, now, window, limit, id = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
        redis.call('zremrangebyscore', key, '-inf', now - window)
        local count = redis.call('zcard', key)
        if count < limit then
          redis.call('zadd', key, now, id)
          redis.call('pexpire', key, window)
          return {1, count + 1}
        end
        return {0, count}
        """;

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Distributed_lock_acquire_release_and_extend(int protocol) => servers.AssertSameReplies(protocol,
        ["SET", "lock:order", "token-a", "NX", "PX", "30000"],
        ["SET", "lock:order", "token-b", "NX", "PX", "30000"],
        ["EVAL", Unlock, "1", "lock:order", "token-b"],
        ["GET", "lock:order"],
        ["EVAL", Extend, "1", "lock:order", "token-a", "60000"],
        ["EVAL", Extend, "1", "lock:order", "token-b", "60000"],
        ["EVAL", Unlock, "1", "lock:order", "token-a"],
        ["EXISTS", "lock:order"],
        ["EVAL", Unlock, "1", "lock:order", "token-a"],
        ["SET", "lock:order", "token-b", "NX", "PX", "30000"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Sliding_window_rate_limiter_admits_up_to_the_limit(int protocol)
    {
        var commands = new List<string[]>();
        for (int i = 0; i < 6; i++)
        {
            commands.Add(["EVAL", RateLimit, "1", "rate:user1", (1_000_000 + (i * 100)).ToString(System.Globalization.CultureInfo.InvariantCulture), "1000", "4", $"req-{i}"]);
        }
        // The window slides: the first requests fall out of it.
        commands.Add(["EVAL", RateLimit, "1", "rate:user1", "1001250", "1000", "4", "late"]);
        commands.Add(["ZCARD", "rate:user1"]);
        var replies = servers.AssertSameReplies(protocol, [.. commands]);
        Assert.Equal(1, replies[3].Elements[0].Integer);
        Assert.Equal(0, replies[4].Elements[0].Integer);
    }
}
