using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// What consumer-group commands notify (xgroup-create, -setid, -destroy, -createconsumer, -delconsumer, MKSTREAM's new
/// key) and how much each moves the dirty counter (INFO rdb_changes_since_last_save), against redis-server 7.0.15: the
/// same keyspace and keyevent messages in the same order, the same delta per command.
/// </summary>
public class ConsumerGroupEventsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[][] Script =
    [
        ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], ["XGROUP", "CREATE", "s", "g", "$"], ["XADD", "s", "1-1", "a", "1"], ["XADD", "s", "2-1", "a", "2"],
        ["XADD", "s", "3-1", "a", "3"], ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "c2", "NOACK", "COUNT", "1", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c3", "STREAMS", "s", "0"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
        ["XCLAIM", "s", "g", "c4", "0", "1-1"], ["XCLAIM", "s", "g", "c4", "0", "1-1", "JUSTID"], ["XCLAIM", "s", "g", "c5", "100000000", "1-1"],
        ["XCLAIM", "s", "g", "c5", "0", "9-9", "LASTID", "9-9"], ["XAUTOCLAIM", "s", "g", "c6", "0", "0", "COUNT", "1"], ["XAUTOCLAIM", "s", "g", "c7", "100000000", "0"],
        ["XDEL", "s", "3-1"], ["XAUTOCLAIM", "s", "g", "c6", "0", "0"], ["XACK", "s", "g", "1-1", "2-1", "5-5"], ["XACK", "s", "g", "1-1"],
        ["XGROUP", "CREATECONSUMER", "s", "g", "c8"], ["XGROUP", "CREATECONSUMER", "s", "g", "c8"], ["XGROUP", "DELCONSUMER", "s", "g", "c8"],
        ["XGROUP", "DELCONSUMER", "s", "g", "c8"], ["XGROUP", "SETID", "s", "g", "0", "ENTRIESREAD", "0"], ["XGROUP", "CREATE", "s", "g2", "0"],
        ["XPENDING", "s", "g"], ["XINFO", "GROUPS", "s"], ["XINFO", "CONSUMERS", "s", "g"], ["XGROUP", "DESTROY", "s", "g2"], ["XGROUP", "DESTROY", "s", "g2"],
        ["XGROUP", "SETID", "s", "nogroup", "0"], ["XREADGROUP", "GROUP", "nogroup", "c", "STREAMS", "s", ">"], ["DEL", "s"],
    ];

    [Fact]
    public void Events_and_dirty_deltas_are_redis_s()
    {
        var seen = new List<List<string>>();
        foreach (var port in new[] { servers.Redis.Port, servers.Node.Port })
        {
            using var client = new RespClient(port);
            using var subscriber = new RespClient(port);
            client.Call("FLUSHALL");
            client.Call("CONFIG", "SET", "notify-keyspace-events", "KEA");
            subscriber.Call("PSUBSCRIBE", "__key*__:*");
            var log = new List<string>();
            foreach (var command in Script)
            {
                long before = Dirty(client);
                var reply = client.Call(command);
                log.Add($"{string.Join(' ', command)} -> {(reply.IsError ? reply.Text : "ok")}, dirty +{Dirty(client) - before}");
                log.AddRange(subscriber.ReadMessagesUntilPing().Select(m => "  " + string.Join(' ', m.Texts)));
            }
            client.Call("CONFIG", "SET", "notify-keyspace-events", "");
            seen.Add(log);
        }
        Assert.Equal(string.Join('\n', seen[0]), string.Join('\n', seen[1]));
        Assert.Contains(seen[0], line => line.Contains("xgroup-createconsumer", StringComparison.Ordinal));
    }

    private static long Dirty(RespClient client)
    {
        string info = client.Call("INFO", "persistence").Text!;
        int at = info.IndexOf("rdb_changes_since_last_save:", StringComparison.Ordinal) + "rdb_changes_since_last_save:".Length;
        return long.Parse(info[at..info.IndexOf('\r', at)], CultureInfo.InvariantCulture);
    }
}
