using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Tracking;

/// <summary>
/// Client-side caching against redis-server 7.0.15: the same multi-client script runs on both, and every byte each
/// connection receives (replies and invalidation pushes, in order) must be the same.
/// </summary>
public sealed class ClientTrackingDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static (int Client, string[] Command) S(int client, params string[] command) => (client, command);

    /// <summary>Runs the steps on both servers, compares the transcripts step by step and returns redis-server's.</summary>
    private string AssertSame(int[] protocols, params (int Client, string[] Command)[] steps)
    {
        var transcript = new System.Text.StringBuilder();
        using var redis = new TrackingScript(servers.Redis.Port, protocols);
        using var node = new TrackingScript(servers.Node.Port, protocols);
        foreach (var (client, command) in steps)
        {
            if (command[0] == "close")
            {
                // A redirection target goes away: both servers must have forgotten it before the next step.
                redis.Close(client);
                node.Close(client);
                WaitGone(servers.Redis.Port, redis.Id(client));
                WaitGone(servers.Node.Port, node.Id(client));
                continue;
            }
            string expected = redis.Step(client, command);
            string actual = node.Step(client, command);
            Assert.Equal(expected, actual);
            transcript.Append(expected);
        }
        for (int i = 0; i < protocols.Length; i++)
        {
            if (steps.All(s => s.Command[0] != "close" || s.Client != i))
            {
                Assert.Equal(redis.Drain(i), node.Drain(i));
            }
        }
        return transcript.ToString();
    }

    private static void WaitGone(int port, long id)
    {
        using var admin = new RespClient(port);
        Wait.Until(() => !admin.Call("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToString().Contains("id=", StringComparison.Ordinal),
            $"client {id} is gone");
    }

    [Fact]
    public void Errors_and_trackinginfo_match_redis()
    {
        string transcript = AssertSame([3, 2],
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "ab"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTIN", "OPTOUT"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "0"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "-5"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "abc"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}", "REDIRECT", "{id1}"),
            S(0, "CLIENT", "TRACKING", "ON", "PREFIX", "a"),
            S(0, "CLIENT", "TRACKING", "maybe"),
            S(0, "CLIENT", "TRACKING", "ON", "foo"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX"),
            S(0, "CLIENT", "TRACKING", "OFF", "PREFIX", "a"),
            S(0, "CLIENT", "TRACKING"),
            S(0, "CLIENT", "CACHING", "yes"),
            S(0, "CLIENT", "CACHING"),
            S(0, "CLIENT", "CACHING", "yes", "no"),
            S(0, "CLIENT", "GETREDIR"),
            S(0, "CLIENT", "GETREDIR", "x"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "CLIENT", "TRACKINGINFO", "x"),
            S(0, "CLIENT", "TRACKING", "on"),
            S(0, "CLIENT", "CACHING", "maybe"),
            S(0, "CLIENT", "CACHING", "yes"),
            S(0, "CLIENT", "CACHING", "no"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTOUT"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "CLIENT", "TRACKING", "OFF"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "OPTIN"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b", "PREFIX", "a", "NOLOOP", "REDIRECT", "{id1}"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "ab"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTIN"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "CLIENT", "GETREDIR"),
            S(1, "CLIENT", "TRACKINGINFO"),
            S(1, "CLIENT", "TRACKING", "ON", "OPTIN"),
            S(1, "CLIENT", "CACHING", "YES"),
            S(1, "CLIENT", "TRACKINGINFO"));
        Assert.Contains("caching-yes", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_mode_invalidates_what_was_read_once()
    {
        string transcript = AssertSame([3, 3],
            S(0, "CLIENT", "TRACKING", "ON"),
            S(0, "GET", "k"),
            S(1, "SET", "k", "v"),
            S(1, "SET", "k", "v2"),
            S(0, "GET", "k"),
            S(0, "MGET", "k", "a", "b"),
            S(1, "MSET", "a", "1", "b", "2", "c", "3"),
            S(1, "DEL", "k"),
            S(0, "GET", "k"),
            S(0, "SET", "k", "mine"),
            S(0, "HGETALL", "h"),
            S(1, "HSET", "h", "f", "v"),
            S(0, "STRLEN", "k"),
            S(1, "EXPIRE", "k", "100"),
            S(0, "EXISTS", "k"),
            S(1, "PERSIST", "k"),
            S(0, "TYPE", "k"),
            S(0, "GET", "k2"),
            S(1, "RENAME", "k", "k2"),
            S(0, "LRANGE", "l", "0", "-1"),
            S(1, "RPUSH", "l", "x", "y"),
            S(0, "GET", "n"),
            S(1, "INCR", "n"),
            S(0, "GET", "n"),
            S(1, "FLUSHDB"),
            S(0, "GET", "n"),
            S(1, "SELECT", "1"),
            S(1, "SET", "n", "other-db"),
            S(0, "MULTI"),
            S(0, "GET", "x"),
            S(0, "SET", "x", "1"),
            S(0, "GET", "y"),
            S(0, "EXEC"),
            S(1, "SET", "y", "1"),
            S(0, "GET", "z"),
            S(0, "CLIENT", "TRACKING", "OFF"),
            S(1, "SET", "z", "1"),
            S(0, "CLIENT", "TRACKING", "ON"),
            S(1, "SET", "z", "2"),
            S(0, "GET", "w"),
            S(0, "FLUSHALL"),
            S(1, "SET", "w", "1"),
            S(0, "PING"));
        Assert.Contains("0 <- >2\\r\\n$10\\r\\ninvalidate\\r\\n_", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Noloop_skips_the_clients_own_changes()
    {
        string transcript = AssertSame([3, 3],
            S(0, "CLIENT", "TRACKING", "ON", "NOLOOP"),
            S(0, "GET", "n"),
            S(0, "SET", "n", "1"),
            S(1, "SET", "n", "2"),
            S(0, "GET", "n"),
            S(1, "SET", "n", "3"),
            S(0, "MGET", "a", "b"),
            S(0, "DEL", "a"),
            S(1, "SET", "b", "1"),
            S(0, "FLUSHALL"),
            S(0, "CLIENT", "TRACKINGINFO"));
        Assert.Contains("invalidate\\r\\n*1\\r\\n$1\\r\\nn", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Bcast_with_prefixes_sends_the_changed_keys_per_prefix()
    {
        string transcript = AssertSame([3, 3, 3],
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "b:", "PREFIX", "a:"),
            S(1, "CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"),
            S(2, "MSET", "a:1", "x", "b:1", "y", "c:1", "z", "a:0", "w"),
            S(1, "SET", "a:2", "w"),
            S(1, "MSET", "a:3", "1", "c:3", "1"),
            S(2, "DEL", "a:1", "a:3", "missing"),
            S(0, "GET", "a:2"),
            S(2, "SET", "d:1", "1"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c:"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "c:x"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(2, "SET", "c:9", "1"),
            S(2, "FLUSHALL"),
            S(0, "CLIENT", "TRACKING", "OFF"),
            S(2, "SET", "a:5", "1"),
            S(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a:"),
            S(0, "SET", "a:6", "1"),
            S(2, "MULTI"),
            S(2, "SET", "a:8", "1"),
            S(2, "SET", "a:7", "1"),
            S(2, "EXEC"));
        Assert.Contains("*2\\r\\n$3\\r\\na:0\\r\\n$3\\r\\na:1", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Optin_and_optout_follow_client_caching()
    {
        string transcript = AssertSame([3, 3, 3],
            S(0, "CLIENT", "TRACKING", "ON", "OPTIN"),
            S(1, "CLIENT", "TRACKING", "ON", "OPTOUT"),
            S(0, "GET", "a"),
            S(0, "CLIENT", "CACHING", "YES"),
            S(0, "GET", "b"),
            S(0, "GET", "c"),
            S(1, "GET", "a"),
            S(1, "CLIENT", "CACHING", "NO"),
            S(1, "GET", "b"),
            S(1, "GET", "c"),
            S(2, "MSET", "a", "1", "b", "2", "c", "3"),
            S(0, "CLIENT", "CACHING", "YES"),
            S(0, "MULTI"),
            S(0, "GET", "d"),
            S(0, "GET", "e"),
            S(0, "EXEC"),
            S(0, "GET", "f"),
            S(2, "MSET", "d", "1", "e", "1", "f", "1"),
            S(0, "CLIENT", "CACHING", "YES"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "GET", "g"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(1, "CLIENT", "CACHING", "NO"),
            S(1, "CLIENT", "TRACKINGINFO"),
            S(2, "SET", "g", "1"),
            S(0, "CLIENT", "CACHING", "NO"),
            S(1, "CLIENT", "CACHING", "YES"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTOUT"),
            S(0, "CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"));
        Assert.Contains("caching-no", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Redirect_sends_to_the_other_client_and_reports_it_broken()
    {
        string transcript = AssertSame([2, 3, 2, 3, 3],
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"),
            S(0, "CLIENT", "GETREDIR"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(0, "GET", "k"),
            S(2, "SET", "k", "1"),
            S(0, "MGET", "k", "j"),
            S(0, "SET", "j", "own"),
            S(2, "FLUSHALL"),
            S(3, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"),
            S(3, "GET", "k"),
            S(2, "SET", "k", "2"),
            S(2, "FLUSHALL"),
            S(4, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id2}"),
            S(4, "GET", "q"),
            S(2, "SET", "q", "1"),
            S(0, "GET", "k"),
            S(3, "GET", "k"),
            S(1, "close"),
            S(2, "SET", "k", "3"),
            S(0, "CLIENT", "TRACKINGINFO"),
            S(3, "CLIENT", "TRACKINGINFO"),
            S(3, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"),
            S(3, "CLIENT", "TRACKING", "ON"),
            S(3, "CLIENT", "TRACKINGINFO"),
            S(3, "GET", "k"),
            S(2, "SET", "k", "4"));
        Assert.Contains("tracking-redir-broken", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Resp2_redirect_goes_to_the_subscriber_as_invalidate_channel_messages()
    {
        string transcript = AssertSame([2, 2, 2, 2, 2],
            S(1, "SUBSCRIBE", "__redis__:invalidate"),
            S(3, "SUBSCRIBE", "unrelated"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"),
            S(0, "GET", "k"),
            S(0, "MGET", "a", "b"),
            S(2, "MSET", "k", "1", "a", "2"),
            S(0, "SET", "b", "own"),
            S(0, "GET", "k"),
            S(2, "FLUSHALL"),
            S(4, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "REDIRECT", "{id1}"),
            S(2, "MSET", "user:1", "x", "user:2", "y", "other", "z"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id3}"),
            S(0, "GET", "q"),
            S(2, "SET", "q", "1"),
            S(0, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id2}"),
            S(0, "GET", "q"),
            S(2, "SET", "q", "2"),
            S(1, "UNSUBSCRIBE"),
            S(0, "GET", "q"),
            S(4, "SET", "user:3", "1"),
            S(2, "SET", "q", "3"));
        Assert.Contains("1 <- *3\\r\\n$7\\r\\nmessage\\r\\n$20\\r\\n__redis__:invalidate\\r\\n*2", transcript, StringComparison.Ordinal);
        Assert.Contains("3 <- *3\\r\\n$7\\r\\nmessage", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_a_script_reads_are_tracked_for_the_caller()
    {
        string transcript = AssertSame([3, 3],
            S(0, "CLIENT", "TRACKING", "ON"),
            S(0, "EVAL", "return redis.call('get', KEYS[1])", "1", "s1"),
            S(0, "EVAL_RO", "return redis.call('exists', 's2')", "1", "s3"),
            S(0, "EVAL", "redis.call('set', KEYS[1], 'x') return redis.call('get', KEYS[2])", "2", "own", "s4"),
            S(1, "MSET", "s1", "1", "s2", "2", "s3", "3", "s4", "4"),
            S(0, "EVAL_RO", "return redis.call('get', 'u1')", "0"),
            S(0, "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "u2"),
            S(0, "EVAL", "return redis.call('exists', 'u3')", "0"),
            S(0, "EVAL", "return 1", "1", "u5"),
            S(0, "EVAL_RO", "return 1", "1", "u6"),
            S(0, "MULTI"),
            S(0, "EVAL", "return redis.call('get', KEYS[1])", "1", "u7"),
            S(0, "GET", "u8"),
            S(0, "EXEC"),
            S(1, "MSET", "u1", "1", "u2", "2", "u3", "3", "u5", "5", "u6", "6", "u7", "7", "u8", "8"),
            S(0, "CLIENT", "TRACKING", "ON", "NOLOOP"),
            S(0, "EVAL", "return redis.call('get', KEYS[1])", "1", "s5"),
            S(0, "EVAL", "return redis.call('set', KEYS[1], 'mine')", "1", "s5"),
            S(1, "SET", "s5", "theirs"));
        Assert.Contains("$2\\r\\ns4", transcript, StringComparison.Ordinal);
    }
}
