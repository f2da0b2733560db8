using System.Globalization;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.HyperLogLog;

/// <summary>
/// Random inputs of 0 to 1,000,000 elements (FsCheck's own strings, arbitrary binary elements, plus a bulk drawn from a
/// seed), added in random batches to two keys on redis-server 7.0.15 and on the node: every PFADD reply, the raw bytes,
/// PFCOUNT of each key and of both, and the PFMERGE result must be identical.
/// </summary>
public class HyperLogLogProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>The sparse limit both servers run with (Redis's default).</summary>
    private static readonly string[] HllConfig = ["hll-sparse-max-bytes", "3000"];

    /// <summary>FsCheck's sizes rarely reach the largest class: one run of it always, text and binary elements.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Counts_and_bytes_equal_redis_s_for_up_to_a_million_elements(bool binary) =>
        Assert.True(Counts_and_bytes_equal_redis_s([], seed: 1_000_000, sizeClass: 6, binary));

    [Property(MaxTest = 25)]
    public bool Counts_and_bytes_equal_redis_s(string[] given, int seed, byte sizeClass, bool binary)
    {
        var random = new Random(seed);
        int bulk = (sizeClass % 7) switch
        {
            0 => 0,
            1 => random.Next(200),
            2 => random.Next(200, 3000),
            3 => random.Next(3000, 12000),
            4 => random.Next(12000, 40000),
            5 => random.Next(40000, 100_001 - given.Length),
            _ => random.Next(100_000, 1_000_001 - given.Length),
        };
        var elements = given.Where(e => e is not null).Select(Encoding.UTF8.GetBytes).ToList();
        for (int i = 0; i < bulk; i++)
        {
            if (binary)
            {
                var element = new byte[random.Next(0, 24)];
                random.NextBytes(element);
                elements.Add(element);
            }
            else
            {
                elements.Add(Encoding.ASCII.GetBytes("m" + random.Next(bulk * 2 + 1).ToString(CultureInfo.InvariantCulture)));
            }
        }
        using var both = new PairedDifferential(servers, 2, HllConfig);
        byte[][] keys = ["a"u8.ToArray(), "b"u8.ToArray()];
        int at = 0;
        while (at < elements.Count)
        {
            int batch = Math.Min(elements.Count - at, random.Next(1, 2000));
            var key = keys[random.Next(2)];
            both.Same([.. new[] { "PFADD"u8.ToArray(), key }, .. elements.Skip(at).Take(batch)]);
            at += batch;
            if (random.Next(8) == 0)
            {
                both.Same("PFCOUNT"u8.ToArray(), key);
            }
        }
        foreach (var key in keys)
        {
            both.Same("GET"u8.ToArray(), key);
            both.Same("PFCOUNT"u8.ToArray(), key);
            both.Same("GET"u8.ToArray(), key);
        }
        both.Same("PFCOUNT", "a", "b");
        both.Same("PFMERGE", "m", "a", "b");
        both.Same("GET", "m");
        both.Same("PFCOUNT", "m");
        return true;
    }
}
