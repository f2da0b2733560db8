using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Keyspace notifications (xadd, xtrim, xdel, xsetid, and the generic ones), client tracking invalidations, WATCH and
/// the dirty counter for the stream commands, against redis-server 7.0.15.
/// </summary>
public class StreamNotificationTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[][] Script =
    [
        ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "2-1", "f", "v"], ["XADD", "s", "1-1", "f", "v"], ["XADD", "s", "MAXLEN", "1", "3-1", "f", "v"],
        ["XADD", "s", "MAXLEN", "5", "4-1", "f", "v"], ["XDEL", "s", "4-1"], ["XDEL", "s", "4-1"], ["XTRIM", "s", "MAXLEN", "0"], ["XTRIM", "s", "MAXLEN", "0"],
        ["XSETID", "s", "10-1"], ["XADD", "n", "NOMKSTREAM", "1-1", "f", "v"], ["XRANGE", "s", "-", "+"], ["XLEN", "s"], ["DEL", "s"],
        ["SET", "sentinel", "1"],
    ];

    /// <summary>The keyevent notifications one server publishes for <see cref="Script"/>, in order.</summary>
    private static List<string> Events(Func<RespClient> connect)
    {
        using var subscriber = connect();
        using var client = connect();
        client.Call("FLUSHALL");
        client.Call("CONFIG", "SET", "notify-keyspace-events", "KEA");
        subscriber.Call("PSUBSCRIBE", "__keyevent@0__:*");
        var events = new List<string>();
        foreach (var command in Script)
        {
            client.Call(command);
        }
        while (true)
        {
            var message = subscriber.Read();
            string line = message.Elements[2].Text + " " + message.Elements[3].Text;
            events.Add(line);
            if (line == "__keyevent@0__:set sentinel")
            {
                break;
            }
        }
        client.Call("CONFIG", "SET", "notify-keyspace-events", "");
        return events;
    }

    [Fact]
    public void Keyspace_events_match_redis()
    {
        var expected = Events(servers.Redis.Client);
        var actual = Events(servers.Node.Client);
        Assert.Contains("__keyevent@0__:xsetid s", expected);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Dirty_counter_and_watch_follow_redis()
    {
        foreach (var connect in new Func<RespClient>[] { servers.Redis.Client, servers.Node.Client })
        {
            using var client = connect();
            client.Call("FLUSHALL");
        }
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var command in Script)
        {
            long redisBefore = Dirty(redis), nodeBefore = Dirty(node);
            redis.Call(command);
            node.Call(command);
            Assert.True(Dirty(redis) - redisBefore == Dirty(node) - nodeBefore, $"dirty after {string.Join(' ', command)}: redis +{Dirty(redis) - redisBefore}, node +{Dirty(node) - nodeBefore}");
        }
        // An XADD from another client makes a watching transaction fail; a failed XADD does not.
        foreach (var (client, connect) in new[] { (redis, (Func<RespClient>)servers.Redis.Client), (node, servers.Node.Client) })
        {
            using var other = connect();
            client.Call("XADD", "w", "5-1", "f", "v");
            client.Call("WATCH", "w");
            other.Call("XADD", "w", "1-1", "f", "v");
            client.Call("MULTI");
            client.Call("XLEN", "w");
            Assert.Equal(RespKind.Array, client.Call("EXEC").Kind);
            client.Call("WATCH", "w");
            other.Call("XADD", "w", "6-1", "f", "v");
            client.Call("MULTI");
            client.Call("XLEN", "w");
            Assert.Equal(RespKind.Null, client.Call("EXEC").Kind);
        }
    }

    private static long Dirty(RespClient client) => InfoField(client, "persistence", "rdb_changes_since_last_save");

    private static long InfoField(RespClient client, string section, string field)
    {
        string info = client.Call("INFO", section).Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Keyspace_hits_and_misses_count_as_redis_s()
    {
        string[][] reads =
        [
            ["XREAD", "STREAMS", "s", "nokey", "0", "0"], ["XREAD", "STREAMS", "s", "nokey", "$", "0"], ["XREAD", "COUNT", "1", "STREAMS", "s", "5-0"],
            ["XRANGE", "s", "-", "+"], ["XREVRANGE", "nokey", "+", "-"], ["XLEN", "s"], ["XLEN", "nokey"], ["XINFO", "STREAM", "s"], ["XINFO", "STREAM", "nokey"],
            ["XADD", "s", "2-1", "f", "v"], ["XDEL", "s", "2-1"], ["XTRIM", "s", "MAXLEN", "5"], ["XSETID", "s", "9-9"], ["XADD", "nokey", "NOMKSTREAM", "10-1", "a", "b"],
        ];
        foreach (var connect in new Func<RespClient>[] { servers.Redis.Client, servers.Node.Client })
        {
            using var client = connect();
            client.Call("FLUSHALL");
            client.Call("XADD", "s", "1-1", "f", "v");
        }
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var command in reads)
        {
            redis.Call("CONFIG", "RESETSTAT");
            node.Call("CONFIG", "RESETSTAT");
            redis.Call(command);
            node.Call(command);
            foreach (var field in new[] { "keyspace_hits", "keyspace_misses" })
            {
                Assert.True(InfoField(redis, "stats", field) == InfoField(node, "stats", field),
                    $"{field} after {string.Join(' ', command)}: redis {InfoField(redis, "stats", field)}, node {InfoField(node, "stats", field)}");
            }
        }
    }

    [Fact]
    public void Tracking_clients_are_invalidated_by_stream_writes_as_by_redis()
    {
        foreach (var connect in new Func<RespClient>[] { servers.Redis.Client, servers.Node.Client })
        {
            using var reader = connect();
            using var writer = connect();
            reader.Call("HELLO", "3");
            reader.Call("CLIENT", "TRACKING", "ON");
            writer.Call("DEL", "tracked");
            writer.Call("XADD", "tracked", "1-1", "f", "v");
            reader.Call("XRANGE", "tracked", "-", "+");
            writer.Call("XADD", "tracked", "2-1", "f", "v");
            var push = reader.Read();
            Assert.Equal(RespKind.Push, push.Kind);
            Assert.Equal("invalidate", push.Elements[0].Text);
            Assert.Equal("tracked", push.Elements[1].Elements[0].Text);
            // XLEN is a read too; a trim that removes nothing does not invalidate, one that removes does.
            reader.Call("XLEN", "tracked");
            writer.Call("XTRIM", "tracked", "MAXLEN", "5");
            // Nothing was pushed before this reply (a push would be read here instead).
            Assert.Equal("PONG", reader.Call("PING").Text);
            writer.Call("XTRIM", "tracked", "MAXLEN", "1");
            var second = reader.Read();
            Assert.Equal("tracked", second.Elements[1].Elements[0].Text);
            Assert.Equal("PONG", reader.Call("PING").Text);
        }
    }
}
