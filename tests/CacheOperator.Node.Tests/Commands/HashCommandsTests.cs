using System.Text;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class HashCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[] Long70 = [new string('x', 70)];

    // Longer than 254 bytes: stored with the long form of the field length.
    private static readonly string LongField = new('k', 300);

    /// <summary>
    /// Same-length overwrites are copied into the stored value: nothing that read the old value earlier
    /// (a SORT ... GET ... STORE result, a COPY) may change with it, in the compact and the table form.
    /// </summary>
    [Fact]
    public void Values_overwritten_in_place_leave_earlier_copies_alone()
    {
        var bigFields = Enumerable.Range(0, 600).SelectMany(i => new[] { $"f{i}", "v" }).ToArray();
        CollectionDifferential.AssertSame(
            servers,
            2,
            ["HSET", "ip:h1", "f", "aaa"],
            ["HSET", "ip:h2", "f", "bbb", .. bigFields],
            ["RPUSH", "ip:l", "1", "2"],
            ["SORT", "ip:l", "BY", "nosort", "GET", "ip:h*->f", "STORE", "ip:out"],
            ["COPY", "ip:h2", "ip:copy"],
            ["HSET", "ip:h1", "f", "xyz"],
            ["HSET", "ip:h2", "f", "zzz", "f7", "w"],
            ["HSET", "ip:h2", "f8", "longer"],
            ["LRANGE", "ip:out", "0", "-1"],
            ["HGET", "ip:h1", "f"],
            ["HMGET", "ip:h2", "f", "f7", "f8"],
            ["HMGET", "ip:copy", "f", "f7", "f8"],
            ["HSTRLEN", "ip:h2", "f8"],
            ["HSET", "ip:h2", LongField, "first"],
            ["HSET", "ip:h2", LongField, "again"],
            ["HGET", "ip:h2", LongField],
            ["HSET", "ip:h2", LongField, "and a longer one"],
            ["HSTRLEN", "ip:h2", LongField],
            ["HDEL", "ip:h2", LongField, "f7"],
            ["HEXISTS", "ip:h2", LongField],
            ["HLEN", "ip:h2"],
            ["OBJECT", "ENCODING", "ip:h2"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Small_hash_commands_answer_exactly_as_redis(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["HSET", "h", "a", "1", "b", "2", "c", "3"],
            ["HSET", "h", "a", "10", "d", "4"],
            ["HSET", "h", "a"],
            ["HSET", "h", "a", "1", "b"],
            ["HMSET", "h", "e", "5"],
            ["HMSET", "h", "e"],
            ["HSETNX", "h", "a", "x"],
            ["HSETNX", "h", "z", "26"],
            ["HGET", "h", "a"],
            ["HGET", "h", "missing"],
            ["HGET", "nokey", "a"],
            ["HMGET", "h", "a", "missing", "z"],
            ["HMGET", "nokey", "a", "b"],
            ["HGETALL", "h"],
            ["HGETALL", "nokey"],
            ["HKEYS", "h"],
            ["HVALS", "h"],
            ["HKEYS", "nokey"],
            ["HLEN", "h"],
            ["HLEN", "nokey"],
            ["HEXISTS", "h", "a"],
            ["HEXISTS", "h", "nope"],
            ["HSTRLEN", "h", "a"],
            ["HSTRLEN", "h", "nope"],
            ["HDEL", "h", "a", "a", "nope", "b"],
            ["HGETALL", "h"],
            ["HDEL", "nokey", "a"],
            ["HDEL", "h", "c", "d", "e", "z"],
            ["EXISTS", "h"],
            ["HSET", "h", "", ""],
            ["HGETALL", "h"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Wrong_types_and_bad_arguments_give_redis_errors(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["SET", "str", "x"],
            ["HSET", "str", "a", "1"],
            ["HSETNX", "str", "a", "1"],
            ["HGET", "str", "a"],
            ["HMGET", "str", "a"],
            ["HGETALL", "str"],
            ["HDEL", "str", "a"],
            ["HLEN", "str"],
            ["HKEYS", "str"],
            ["HVALS", "str"],
            ["HEXISTS", "str", "a"],
            ["HSTRLEN", "str", "a"],
            ["HINCRBY", "str", "a", "1"],
            ["HINCRBY", "str", "a", "x"],
            ["HINCRBYFLOAT", "str", "a", "1"],
            ["HINCRBYFLOAT", "str", "a", "inf"],
            ["HRANDFIELD", "str"],
            ["HRANDFIELD", "str", "0"],
            ["HRANDFIELD", "str", "x"],
            ["HRANDFIELD", "str", "1", "WITHVALUES", "x"],
            ["HRANDFIELD", "str", "-9223372036854775807", "WITHVALUES"],
            ["HSCAN", "str", "0"],
            ["HSCAN", "str", "x"],
            ["HGET", "h"],
            ["HSET", "h"],
            ["HINCRBY", "h", "f"],
            ["HSCAN", "h"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Hincrby_and_hincrbyfloat_match_redis_digit_for_digit(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["HINCRBY", "h", "n", "5"],
            ["HINCRBY", "h", "n", "-12"],
            ["HINCRBY", "h", "n", "x"],
            ["HINCRBY", "h", "n", "1.5"],
            ["HSET", "h", "s", "abc", "big", "9223372036854775807", "small", "-9223372036854775808", "pad", " 1", "lead", "01"],
            ["HINCRBY", "h", "s", "1"],
            ["HINCRBY", "h", "pad", "1"],
            ["HINCRBY", "h", "lead", "1"],
            ["HINCRBY", "h", "big", "1"],
            ["HINCRBY", "h", "big", "-1"],
            ["HINCRBY", "h", "small", "-1"],
            ["HINCRBY", "h", "small", "9223372036854775807"],
            ["HINCRBY", "h", "n", "9223372036854775808"],
            ["HINCRBYFLOAT", "h", "f", "0.1"],
            ["HINCRBYFLOAT", "h", "f", "0.2"],
            ["HINCRBYFLOAT", "h", "g", "10.5"],
            ["HINCRBYFLOAT", "h", "g", "0.1"],
            ["HINCRBYFLOAT", "h", "g", "-5"],
            ["HINCRBYFLOAT", "h", "k", "1000.1"],
            ["HINCRBYFLOAT", "h", "k", "1"],
            ["HINCRBYFLOAT", "h", "e", "5.0e3"],
            ["HINCRBYFLOAT", "h", "e", "2.0e2"],
            ["HINCRBYFLOAT", "h", "e", "1E-20"],
            ["HINCRBYFLOAT", "h", "t", "3.0000000000000000001"],
            ["HINCRBYFLOAT", "h", "t", "-3"],
            ["HINCRBYFLOAT", "h", "t", "-0"],
            ["HINCRBYFLOAT", "h", "x", "0x10"],
            ["HINCRBYFLOAT", "h", "x", "+.5"],
            ["HINCRBYFLOAT", "h", "x", "5."],
            ["HINCRBYFLOAT", "h", "y", "1.5e300"],
            ["HINCRBYFLOAT", "h", "y", "1.5e300"],
            ["HINCRBYFLOAT", "h", "z", "1e4000"],
            ["HINCRBYFLOAT", "h", "m", "1e-4950"],
            ["HINCRBYFLOAT", "h", "m", "1e-5000"],
            ["HINCRBYFLOAT", "h", "m", "1e5000"],
            ["HINCRBYFLOAT", "h", "m", "inf"],
            ["HINCRBYFLOAT", "h", "m", "-infinity"],
            ["HINCRBYFLOAT", "h", "m", "nan"],
            ["HINCRBYFLOAT", "h", "m", " 1"],
            ["HINCRBYFLOAT", "h", "m", "1 "],
            ["HINCRBYFLOAT", "h", "m", "1e"],
            ["HINCRBYFLOAT", "h", "m", ""],
            ["HINCRBYFLOAT", "h", "s", "1"],
            ["HINCRBYFLOAT", "h", "pad", "1"],
            ["HINCRBYFLOAT", "h", "big", "1.5"],
            ["HSET", "h", "inf", "inf", "hex", "0x1p3"],
            ["HINCRBYFLOAT", "h", "inf", "1"],
            ["HINCRBYFLOAT", "h", "hex", "1"],
            ["HMGET", "h", "n", "s", "big", "small", "pad", "lead", "f", "g", "k", "e", "t", "x", "y", "z", "m", "inf", "hex"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Big_and_long_valued_hashes_answer_as_redis_in_any_order(int protocol)
    {
        var commands = new List<string[]>();
        var fill = new List<string> { "HSET", "big" };
        for (int i = 0; i < 200; i++)
        {
            fill.Add($"field:{i}");
            fill.Add($"value:{i}");
        }
        commands.Add(fill.ToArray());
        commands.Add(["HSET", "long", "f", Long70[0]]);
        commands.Add(["HLEN", "big"]);
        commands.Add(["HGETALL", "big"]);
        commands.Add(["HKEYS", "big"]);
        commands.Add(["HVALS", "big"]);
        commands.Add(["HGET", "big", "field:150"]);
        commands.Add(["HMGET", "big", "field:1", "field:199", "nope"]);
        commands.Add(["HDEL", "big", "field:3", "field:4"]);
        commands.Add(["HINCRBY", "big", "counter", "7"]);
        commands.Add(["HGETALL", "long"]);
        commands.Add(["HRANDFIELD", "big", "500"]);
        commands.Add(["HRANDFIELD", "big", "500", "WITHVALUES"]);
        bool Pairs(string[] c) => c[0] == "HGETALL" || (c[0] == "HRANDFIELD" && c.Length == 4 && protocol == 2);
        CollectionDifferential.AssertSameIgnoringOrder(servers, protocol, Pairs, commands.ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Hrandfield_whole_hash_and_scan_of_small_hash_match_redis(int protocol)
    {
        CollectionDifferential.AssertSame(
            servers,
            protocol,
            ["HSET", "h", "a", "1", "b", "2", "c", "3"],
            ["HRANDFIELD", "h", "3"],
            ["HRANDFIELD", "h", "10", "WITHVALUES"],
            ["HRANDFIELD", "h", "0"],
            ["HRANDFIELD", "h", "0", "WITHVALUES"],
            ["HRANDFIELD", "nokey"],
            ["HRANDFIELD", "nokey", "5"],
            ["HRANDFIELD", "nokey", "-5", "WITHVALUES"],
            ["HRANDFIELD", "h", "-9223372036854775808"],
            ["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
            ["HSCAN", "h", "0"],
            ["HSCAN", "h", "0", "MATCH", "[ab]"],
            ["HSCAN", "h", "0", "COUNT", "1", "MATCH", "*"],
            ["HSCAN", "h", "-1"],
            ["HSCAN", "h", "+7"],
            ["HSCAN", "h", "18446744073709551616"],
            ["HSCAN", "h", "0", "COUNT", "0"],
            ["HSCAN", "h", "0", "COUNT", "x"],
            ["HSCAN", "h", "0", "MATCH"],
            ["HSCAN", "h", "0", "NOVALUES"],
            ["HSCAN", "nokey", "0", "COUNT", "0"],
            ["HSCAN", "nokey", "x"]);
    }

    [Fact]
    public void Hrandfield_picks_have_redis_properties()
    {
        using var c = servers.Node.Client();
        c.Call("DEL", "h", "big");
        c.Call("HSET", "h", "a", "1", "b", "2", "c", "3", "d", "4");
        var fill = new List<string> { "HSET", "big" };
        for (int i = 0; i < 300; i++)
        {
            fill.AddRange([$"f{i}", $"v{i}"]);
        }
        c.Call(fill.ToArray());
        foreach (var key in new[] { "h", "big" })
        {
            var prefix = key == "h" ? "" : "f";
            var distinct = c.Call("HRANDFIELD", key, "3").Texts;
            Assert.Equal(3, distinct.Length);
            Assert.Equal(3, distinct.Distinct().Count());
            var repeated = c.Call("HRANDFIELD", key, "-50").Texts;
            Assert.Equal(50, repeated.Length);
            var withValues = c.Call("HRANDFIELD", key, "-20", "WITHVALUES").Texts;
            Assert.Equal(40, withValues.Length);
            for (int i = 0; i < withValues.Length; i += 2)
            {
                Assert.Equal(c.Call("HGET", key, withValues[i]!).Text, withValues[i + 1]);
            }
            Assert.All(repeated, f => Assert.Equal(1, c.Call("HEXISTS", key, f!).Integer));
            Assert.Equal(RespKind.Bulk, c.Call("HRANDFIELD", key).Kind);
            _ = prefix;
        }
        // Repeats do happen when asking 200 picks of a 4-field hash.
        Assert.True(c.Call("HRANDFIELD", "h", "-200").Texts.Distinct().Count() <= 4);
        c.Call("HELLO", "3");
        var pairs = c.Call("HRANDFIELD", "h", "2", "WITHVALUES");
        Assert.Equal(2, pairs.Elements.Count);
        Assert.All(pairs.Elements, p => Assert.Equal(RespKind.Array, p.Kind));
        Assert.All(pairs.Elements, p => Assert.Equal(2, p.Elements.Count));
    }

    [Fact]
    public void Hscan_returns_every_field_that_stays_while_others_come_and_go()
    {
        using var c = servers.Node.Client();
        c.Call("DEL", "h");
        var stable = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            c.Call("HSET", "h", $"f{i}", $"v{i}");
            if (i % 3 == 0)
            {
                stable.Add($"f{i}");
            }
        }
        var seen = new HashSet<string>();
        string cursor = "0";
        int round = 0;
        do
        {
            var reply = c.Call("HSCAN", "h", cursor, "COUNT", "25");
            cursor = reply.Elements[0].Text!;
            var items = reply.Elements[1].Texts;
            for (int i = 0; i < items.Length; i += 2)
            {
                if (items[i]!.StartsWith('f'))
                {
                    Assert.Equal("v" + items[i]![1..], items[i + 1]);
                }
                seen.Add(items[i]!);
            }
            // Churn between calls: delete some unstable fields and add new ones, growing the hash overall.
            for (int k = 0; k < 20; k++)
            {
                int n = (round * 20) + k;
                if (n % 3 != 0 && n < 1000)
                {
                    c.Call("HDEL", "h", $"f{n}");
                }
                c.Call("HSET", "h", $"new{round}_{k}", "x");
            }
            round++;
        }
        while (cursor != "0");
        Assert.Empty(stable.Except(seen));
        Assert.True(round > 10);
    }

    [Fact]
    public void Binary_fields_and_values_are_kept_exactly()
    {
        using var c = servers.Node.Client();
        byte[] field = [0, 13, 10, 255, (byte)'*'];
        byte[] value = [10, 0, 0, 13];
        c.Call(Encoding.ASCII.GetBytes("DEL"), Encoding.ASCII.GetBytes("bin"));
        Assert.Equal(1, c.Call(Encoding.ASCII.GetBytes("HSET"), Encoding.ASCII.GetBytes("bin"), field, value).Integer);
        Assert.Equal(value, c.Call(Encoding.ASCII.GetBytes("HGET"), Encoding.ASCII.GetBytes("bin"), field).Bytes);
        Assert.Equal(RespKind.Null, c.Call(Encoding.ASCII.GetBytes("HGET"), Encoding.ASCII.GetBytes("bin"), field[..4]).Kind);
        var all = c.Call("HGETALL", "bin").Elements;
        Assert.Equal(field, all[0].Bytes);
        Assert.Equal(value, all[1].Bytes);
        var big = new byte[100];
        big[50] = 13;
        c.Call(Encoding.ASCII.GetBytes("HSET"), Encoding.ASCII.GetBytes("bin"), big, field);
        Assert.Equal(field, c.Call(Encoding.ASCII.GetBytes("HGET"), Encoding.ASCII.GetBytes("bin"), big).Bytes);
        Assert.Equal(value, c.Call(Encoding.ASCII.GetBytes("HGET"), Encoding.ASCII.GetBytes("bin"), field).Bytes);
    }

    [Fact]
    public void Encoding_moves_from_listpack_to_hashtable_as_redis_defaults_say()
    {
        var limits = new EncodingLimits();
        var hash = new HashValue(limits);
        Assert.Equal("listpack", hash.EncodingName);
        long empty = hash.EstimatedBytes;
        Assert.Equal(512, limits.HashMaxListpackEntries);
        for (int i = 0; i < 512; i++)
        {
            hash.Set(Encoding.ASCII.GetBytes($"f{i}"), Encoding.ASCII.GetBytes("v"));
        }
        Assert.Equal("listpack", hash.EncodingName);
        Assert.True(hash.EstimatedBytes > empty + (128 * 3));
        hash.Set("f512"u8, "v"u8.ToArray());
        Assert.Equal("hashtable", hash.EncodingName);
        Assert.Equal(513, hash.Count);
        Assert.Equal("v"u8.ToArray(), hash.GetCopy("f77"u8));
        long before = hash.EstimatedBytes;
        Assert.True(hash.Remove("f77"u8));
        Assert.True(hash.EstimatedBytes < before);

        var longValue = new HashValue(limits);
        longValue.Set("f"u8, new byte[64]);
        Assert.Equal("listpack", longValue.EncodingName);
        longValue.Set("g"u8, new byte[65]);
        Assert.Equal("hashtable", longValue.EncodingName);
        var longField = new HashValue(limits);
        longField.Set(new byte[65], [1]);
        Assert.Equal("hashtable", longField.EncodingName);
        Assert.Equal("hashtable", ((HashValue)longField.Clone()).EncodingName);
        Assert.Equal("hash", longField.TypeName);
    }
}
