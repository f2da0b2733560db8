using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Memory;

/// <summary>Fills a node past maxmemory under each policy and checks which keys survive.</summary>
public sealed class EvictionTests
{
    private static readonly string Value = new('v', 1000);

    [Fact]
    public async Task Noeviction_refuses_writes_but_serves_reads_and_deletes()
    {
        await using var node = TestNode.Start("--maxmemory", "200kb", "--maxmemory-policy", "noeviction");
        using var c = node.Client();
        int stored = 0;
        RespValue reply;
        while (!(reply = c.Call("SET", "k" + stored, Value)).IsError)
        {
            stored++;
            Assert.True(stored < 1000, "the limit never refused a write");
        }
        Assert.Equal("OOM command not allowed when used memory > 'maxmemory'.", reply.Text);
        Assert.True(stored > 100, $"only {stored} keys fit in 200kb");
        Assert.Equal(Value, c.Call("GET", "k0").Text);
        Assert.True(c.Call("APPEND", "k1", "x").IsError);
        Assert.Equal(1, c.Call("DEL", "k0").Integer);
        Assert.Equal(1, c.Call("DEL", "k1").Integer);
        Assert.Equal("OK", c.Call("SET", "again", Value).Text);
        var info = Info(c, "stats");
        Assert.Equal("0", info["evicted_keys"]);
        Assert.Contains("rejected_calls=1", Info(c, "commandstats")["cmdstat_set"], StringComparison.Ordinal);
        Assert.Contains("OOM", Info(c, "errorstats").Keys.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allkeys_lru_keeps_recently_read_keys()
    {
        await using var node = TestNode.Start("--maxmemory", "330kb", "--maxmemory-policy", "allkeys-lru", "--maxmemory-samples", "10");
        using var c = node.Client();
        Fill(c, "a:", 150);
        // The LRU clock counts seconds, as Redis's.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        for (int i = 0; i < 50; i++)
        {
            Assert.NotNull(c.Call("GET", "a:" + i).Text);
        }
        Fill(c, "b:", 200);
        AssertUnderLimit(c);
        int hot = Survivors(c, "a:", 0, 50);
        int cold = Survivors(c, "a:", 50, 150);
        Assert.True(hot >= 48, $"only {hot} of 50 recently read keys survived ({cold} of 100 idle ones did)");
        Assert.True(cold < 80, $"{cold} of 100 idle keys survived");
        Assert.Equal(200, Survivors(c, "b:", 0, 200));
    }

    [Fact]
    public async Task Allkeys_lfu_keeps_frequently_read_keys()
    {
        await using var node = TestNode.Start("--maxmemory", "330kb", "--maxmemory-policy", "allkeys-lfu", "--maxmemory-samples", "10", "--lfu-log-factor", "0");
        using var c = node.Client();
        Fill(c, "a:", 150);
        for (int round = 0; round < 5; round++)
        {
            for (int i = 0; i < 50; i++)
            {
                c.Call("GET", "a:" + i);
            }
        }
        Fill(c, "b:", 200);
        AssertUnderLimit(c);
        Assert.True(Survivors(c, "a:", 0, 50) >= 48, "frequently read keys were evicted");
        Assert.True(Survivors(c, "a:", 50, 150) + Survivors(c, "b:", 0, 200) < 300, "nothing was evicted");
    }

    [Fact]
    public async Task Volatile_policies_evict_only_keys_with_a_ttl_then_refuse()
    {
        foreach (var policy in new[] { "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl" })
        {
            await using var node = TestNode.Start("--maxmemory", "300kb", "--maxmemory-policy", policy);
            using var c = node.Client();
            Fill(c, "p:", 100);
            Fill(c, "v:", 100, ttl: true);
            Fill(c, "w:", 60, ttl: true);
            Assert.True(long.Parse(Info(c, "stats")["evicted_keys"], CultureInfo.InvariantCulture) > 0, policy + " evicted nothing");
            Assert.Equal(100, Survivors(c, "p:", 0, 100));
            AssertUnderLimit(c);
            int n = 0;
            RespValue reply;
            while (!(reply = c.Call("SET", "x:" + n, Value)).IsError)
            {
                n++;
                Assert.True(n < 1000, policy + " never refused a write");
            }
            Assert.StartsWith("OOM ", reply.Text, StringComparison.Ordinal);
            Assert.Equal(100, Survivors(c, "p:", 0, 100));
            Assert.Equal(0, Survivors(c, "v:", 0, 100) + Survivors(c, "w:", 0, 60));
        }
    }

    [Fact]
    public async Task Volatile_ttl_evicts_the_nearest_expiry_first()
    {
        await using var node = TestNode.Start("--maxmemory", "300kb", "--maxmemory-policy", "volatile-ttl", "--maxmemory-samples", "10");
        using var c = node.Client();
        for (int i = 0; i < 400; i++)
        {
            c.Call("SET", "t:" + i, Value, "EX", (10_000 + (i * 100)).ToString(CultureInfo.InvariantCulture));
        }
        AssertUnderLimit(c);
        var survivors = Enumerable.Range(0, 400).Where(i => c.Call("EXISTS", "t:" + i).Integer == 1).ToList();
        var evicted = Enumerable.Range(0, 400).Except(survivors).ToList();
        Assert.NotEmpty(evicted);
        // Evicted while writing, so early keys had fewer rivals; still, the far expiries must dominate the survivors.
        Assert.True(evicted.Average() < survivors.Average() - 20, $"evicted avg {evicted.Average()} vs survivors {survivors.Average()}");
        Assert.True(survivors.Count(i => i >= 350) >= 45, "keys expiring last were evicted");
    }

    [Fact]
    public async Task Allkeys_random_stays_under_the_limit()
    {
        await using var node = TestNode.Start("--maxmemory", "300kb", "--maxmemory-policy", "allkeys-random");
        using var c = node.Client();
        Fill(c, "r:", 600);
        AssertUnderLimit(c);
        int alive = Survivors(c, "r:", 0, 600);
        Assert.InRange(alive, 100, 400);
        Assert.Equal((600 - alive).ToString(CultureInfo.InvariantCulture), Info(c, "stats")["evicted_keys"]);
    }

    [Fact]
    public async Task Lowering_maxmemory_evicts_at_once()
    {
        await using var node = TestNode.Start("--maxmemory-policy", "allkeys-lru");
        using var c = node.Client();
        Fill(c, "k:", 300);
        Assert.Equal("OK", c.Call("CONFIG", "SET", "maxmemory", "100kb").Text);
        AssertUnderLimit(c);
        Assert.True(Survivors(c, "k:", 0, 300) < 100);
    }

    [Fact]
    public async Task Large_writes_in_one_pipeline_never_take_the_data_past_the_limit()
    {
        await using var node = TestNode.Start("--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru");
        using var c = node.Client();
        var big = new string('b', 100_000);
        for (int i = 0; i < 100; i++)
        {
            c.Send("SET", "big:" + i, big);
        }
        for (int i = 0; i < 100; i++)
        {
            Assert.Equal("OK", c.Read().Text);
        }
        var info = Info(c, "memory");
        // One command may take it over by its own value at most; the peak shows every moment.
        Assert.True(long.Parse(info["used_memory_peak"], CultureInfo.InvariantCulture) <= (2 * 1024 * 1024) + 110_000, info["used_memory_peak"]);
    }

    internal static void Fill(RespClient c, string prefix, int count, bool ttl = false)
    {
        for (int i = 0; i < count; i++)
        {
            var reply = ttl ? c.Call("SET", prefix + i, Value, "EX", "10000") : c.Call("SET", prefix + i, Value);
            Assert.Equal("OK", reply.Text);
        }
    }

    internal static int Survivors(RespClient c, string prefix, int from, int to) =>
        Enumerable.Range(from, to - from).Count(i => c.Call("EXISTS", prefix + i).Integer == 1);

    internal static void AssertUnderLimit(RespClient c)
    {
        var info = Info(c, "memory");
        Assert.True(long.Parse(info["used_memory"], CultureInfo.InvariantCulture) <= long.Parse(info["maxmemory"], CultureInfo.InvariantCulture),
            $"used_memory {info["used_memory"]} > maxmemory {info["maxmemory"]}");
    }

    internal static Dictionary<string, string> Info(RespClient c, string section) =>
        c.Call("INFO", section).Text!.Split("\r\n")
            .Where(l => l.Contains(':', StringComparison.Ordinal) && !l.StartsWith('#'))
            .ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)], l => l[(l.IndexOf(':', StringComparison.Ordinal) + 1)..]);
}
