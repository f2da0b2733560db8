using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Memory;

/// <summary>Memory accounting (INFO used_memory, MEMORY USAGE/STATS/DOCTOR) and the replies shared with Redis.</summary>
public sealed class MemoryCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Errors_and_absent_keys_answer_as_redis()
    {
        foreach (int protocol in new[] { 2, 3 })
        {
            servers.AssertSameReplies(protocol,
                ["MEMORY", "USAGE", "nokey"],
                ["SET", "k", "v"],
                ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
                ["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
                ["MEMORY", "USAGE", "k", "SAMPLES"],
                ["MEMORY", "USAGE", "k", "foo"],
                ["MEMORY", "USAGE"],
                ["MEMORY", "NOPE"],
                ["MEMORY", "HELP"],
                ["SLOWLOG", "GET", "-2"],
                ["SLOWLOG", "GET", "x"],
                ["SLOWLOG", "HELP"],
                ["LATENCY", "HISTORY", "nothing"],
                ["LATENCY", "LATEST"],
                ["LATENCY", "DOCTOR"],
                ["CONFIG", "SET", "maxmemory-samples", "0"],
                ["CONFIG", "SET", "slowlog-max-len", "-1"],
                ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
                ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
                ["CONFIG", "SET", "lfu-log-factor", "-1"],
                ["CONFIG", "SET", "maxmemory-policy", "lru"],
                ["CONFIG", "SET", "maxmemory", "100mb"],
                ["CONFIG", "GET", "maxmemory"],
                ["CONFIG", "SET", "maxmemory", "2gb"],
                ["CONFIG", "GET", "maxmemory"],
                ["CONFIG", "SET", "maxmemory", "0"],
                ["DEL", "k"]);
        }
    }

    [Fact]
    public async Task Used_memory_follows_the_data_and_returns_after_deletes()
    {
        await using var node = TestNode.Start();
        using var c = node.Client();
        long empty = UsedMemory(c);
        Assert.Equal("OK", c.Call("SET", "key", new string('x', 1000)).Text);
        long withKey = UsedMemory(c);
        Assert.InRange(withKey - empty, 1000, 1100);
        long usage = c.Call("MEMORY", "USAGE", "key").Integer;
        Assert.InRange(usage, 1000, 1200);
        Assert.Equal(usage, c.Call("MEMORY", "USAGE", "key", "SAMPLES", "0").Integer);
        Assert.Equal(1001, c.Call("APPEND", "key", "y").Integer);
        Assert.InRange(UsedMemory(c) - withKey, 0, 8);
        Assert.Equal("OK", c.Call("SET", "key", "short").Text);
        Assert.True(UsedMemory(c) < withKey - 900);
        c.Call("DEL", "key");
        Assert.Equal(empty, UsedMemory(c));
    }

    [Fact]
    public async Task Collections_changed_in_place_are_recharged()
    {
        await using var node = TestNode.Start();
        using var c = node.Client();
        c.Call("ZADD", "z", "1", "a");
        long small = UsedMemory(c);
        for (int i = 0; i < 500; i++)
        {
            c.Call("ZADD", "z", i.ToString(CultureInfo.InvariantCulture), "member-with-a-long-name-" + i);
        }
        long large = UsedMemory(c);
        Assert.True(large - small > 500 * 24, $"500 members grew used_memory by {large - small} only");
        Assert.True(c.Call("MEMORY", "USAGE", "z").Integer > 500 * 24);
        c.Call("ZREMRANGEBYRANK", "z", "0", "-2");
        Assert.True(UsedMemory(c) < large - (400 * 24));
    }

    [Fact]
    public async Task Memory_stats_and_doctor_report_the_data()
    {
        await using var node = TestNode.Start("--maxmemory", "10mb");
        using var c = node.Client();
        c.Call("SET", "a", "1");
        c.Call("SET", "b", "2", "EX", "100");
        var stats = c.Call("MEMORY", "STATS").Elements;
        var map = Enumerable.Range(0, stats.Count / 2).ToDictionary(i => stats[2 * i].Text!, i => stats[(2 * i) + 1]);
        Assert.Equal(2, map["keys.count"].Integer);
        Assert.Equal(UsedMemory(c), map["total.allocated"].Integer);
        Assert.True(map["dataset.bytes"].Integer > 0);
        Assert.Contains("db.0", map.Keys);
        Assert.Equal(4, map["db.0"].Elements.Count);
        Assert.Contains("less than 5 MB", c.Call("MEMORY", "DOCTOR").Text, StringComparison.Ordinal);
        Assert.Equal("OK", c.Call("MEMORY", "PURGE").Text);
        Assert.Contains("dotnet GC", c.Call("MEMORY", "MALLOC-STATS").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Info_memory_has_the_fields_tools_read()
    {
        await using var node = TestNode.Start("--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lfu");
        using var c = node.Client();
        var memory = EvictionTests.Info(c, "memory");
        foreach (var field in new[] { "used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio" })
        {
            Assert.Contains(field, memory.Keys);
        }
        Assert.Equal("104857600", memory["maxmemory"]);
        Assert.Equal("100.00M", memory["maxmemory_human"]);
        Assert.Equal("allkeys-lfu", memory["maxmemory_policy"]);
        Assert.Contains("evicted_keys", EvictionTests.Info(c, "stats").Keys);
        var persistence = EvictionTests.Info(c, "persistence");
        // The change counter (Redis's dirty) and the snapshot fields monitoring tools read.
        foreach (var field in new[] { "rdb_changes_since_last_save", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status" })
        {
            Assert.Contains(field, persistence.Keys);
        }
        Assert.Equal("0", persistence["loading"]);
    }

    private static long UsedMemory(RespClient c) => long.Parse(EvictionTests.Info(c, "memory")["used_memory"], CultureInfo.InvariantCulture);
}
