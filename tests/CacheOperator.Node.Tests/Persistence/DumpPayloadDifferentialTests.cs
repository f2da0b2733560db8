using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Tests.Commands;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// DUMP payloads travel between the node and a real redis-server 7.0.15 in both directions (what MIGRATE
/// needs): a value dumped on one server restores on the other to the same contents and OBJECT ENCODING.
/// </summary>
public class DumpPayloadDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Commands building one value under the key "src" (a placeholder replaced per run).</summary>
    public static TheoryData<string, string[][]> Values()
    {
        var many = Enumerable.Range(0, 300).Select(i => "member-" + i).ToArray();
        var ints = Enumerable.Range(0, 600).Select(i => ((i * 7919L) - 100000).ToString(CultureInfo.InvariantCulture)).ToArray();
        var binary = Encoding.Latin1.GetString(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());
        return new()
        {
            { "empty string", [["SET", "src", ""]] },
            { "int8", [["SET", "src", "-12"]] },
            { "int16", [["SET", "src", "1234"]] },
            { "int32", [["SET", "src", "-2147483648"]] },
            { "int beyond 32 bits", [["SET", "src", "9223372036854775807"]] },
            { "not canonical int", [["SET", "src", "007"]] },
            { "short text", [["SET", "src", "hello"]] },
            { "21 bytes incompressible", [["SET", "src", "abcdefghijklmnopqrstu"]] },
            { "compressible", [["SET", "src", string.Concat(Enumerable.Repeat("abcdefgh", 500))]] },
            { "long mixed", [["SET", "src", string.Concat(Enumerable.Range(0, 2000).Select(i => (char)('a' + (i * i % 26))))]] },
            { "binary", [["SET", "src", binary + binary]] },
            { "small list", [["RPUSH", "src", "a", "", "3", "-4096", "100000", "9223372036854775807", "-9223372036854775808", new string('x', 70), new string('y', 5000)]] },
            { "large list", [["RPUSH", "src", .. many, .. many, .. many, .. ints]] },
            { "intset", [["SADD", "src", "5", "-3", "100", "70000", "-5000000000"]] },
            { "big intset", [["SADD", "src", .. ints]] },
            { "string set", [["SADD", "src", "a", "b", "c", "1"]] },
            { "large string set", [["SADD", "src", .. many]] },
            { "listpack zset", [["ZADD", "src", "1.5", "a", "-inf", "b", "inf", "c", "0", "d", "0.1", "e", "-2.5e-10", "f", "123456789012", "g", "1e300", "h"]] },
            { "skiplist zset", [["ZADD", "src", .. many.SelectMany((m, i) => new[] { F((i * 0.25) - 10), m }), "inf", "top", "-inf", "bottom"]] },
            { "long member zset", [["ZADD", "src", "1", new string('m', 100), "2", "x"]] },
            { "listpack hash", [["HSET", "src", "f1", "v1", "f2", "", "3", "-7", "big", "9223372036854775807"]] },
            { "many-field listpack hash", [["HSET", "src", .. many.Take(100).SelectMany(m => new[] { m, m + "-value" })]] },
            { "hashtable hash", [["HSET", "src", .. Enumerable.Range(0, 600).SelectMany(i => new[] { "f" + i, "v" + i })]] },
            { "long value hash", [["HSET", "src", "f", new string('v', 100), "g", "1"]] },
        };
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void A_value_dumped_by_redis_restores_on_the_node(string what, string[][] build)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        string key = "r2n:" + what;
        Build(redis, build, key);
        var payload = redis.Call("DUMP", key).Bytes!;
        node.Call("DEL", key);
        Assert.Equal("OK", node.Call([B("RESTORE"), B(key), B("0"), payload]).Text);
        Assert.Equal(Contents(redis, key), Contents(node, key));
        // The node's encoding after loading redis's payload is the one its own commands give the value, and redis's.
        Build(node, build, key + ":own");
        Assert.Equal(node.Call("OBJECT", "ENCODING", key + ":own").Text, node.Call("OBJECT", "ENCODING", key).Text);
        Assert.Equal(redis.Call("OBJECT", "ENCODING", key).Text, node.Call("OBJECT", "ENCODING", key).Text);
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void A_value_dumped_by_the_node_restores_on_redis(string what, string[][] build)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        string key = "n2r:" + what;
        Build(node, build, key);
        var payload = node.Call("DUMP", key).Bytes!;
        redis.Call("DEL", key);
        Assert.Equal("OK", redis.Call([B("RESTORE"), B(key), B("0"), payload]).Text);
        Assert.Equal(Contents(node, key), Contents(redis, key));
        // Redis's encoding after loading our payload is the one it gives its own copy of the value.
        Build(redis, build, key + ":own");
        Assert.Equal(redis.Call("OBJECT", "ENCODING", key + ":own").Text, redis.Call("OBJECT", "ENCODING", key).Text);
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void A_value_dumps_to_the_bytes_redis_dumps(string what, string[][] build)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        string key = "same:" + what;
        Build(redis, build, key);
        Build(node, build, key);
        var expected = redis.Call("DUMP", key).Bytes!;
        var actual = node.Call("DUMP", key).Bytes!;
        if (redis.Call("TYPE", key).Text is "set" or "hash" && redis.Call("OBJECT", "ENCODING", key).Text == "hashtable")
        {
            // A hashtable's iteration order is Redis's own; the bytes can only match up to it.
            Assert.Equal(expected.Length, actual.Length);
            return;
        }
        Assert.True(expected.AsSpan().SequenceEqual(actual), $"{what}\n  redis: {Convert.ToHexString(expected)}\n  node:  {Convert.ToHexString(actual)}");
    }

    [Fact]
    public void Every_single_byte_flip_of_redis_payloads_is_refused_without_a_crash()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var (_, build) in Values().Select(row => ((string)row[0], (string[][])row[1])).Where(v => v.Item1 is "small list" or "listpack zset" or "intset" or "compressible" or "listpack hash"))
        {
            Build(redis, build, "flip-src");
            var payload = redis.Call("DUMP", "flip-src").Bytes!;
            for (int i = 0; i < payload.Length; i++)
            {
                var corrupt = (byte[])payload.Clone();
                corrupt[i] ^= (byte)(1 << (i % 8));
                var reply = node.Call([B("RESTORE"), B("flip"), B("0"), corrupt, B("REPLACE")]);
                Assert.Equal("ERR DUMP payload version or checksum are wrong", reply.Text);
            }
            for (int length = 0; length < payload.Length; length++)
            {
                Assert.Equal("ERR DUMP payload version or checksum are wrong", node.Call([B("RESTORE"), B("flip"), B("0"), payload[..length], B("REPLACE")]).Text);
            }
        }
        Assert.Equal(0, node.Call("EXISTS", "flip").Integer);
        Assert.Equal("PONG", node.Call("PING").Text);
    }

    [Fact]
    public void Corrupt_bodies_with_a_valid_checksum_are_refused_or_restored_never_a_crash()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        var random = new Random(1234);
        var bodies = new List<byte[]>();
        foreach (var (_, build) in Values().Select(row => ((string)row[0], (string[][])row[1])))
        {
            Build(redis, build, "garbage-src");
            var body = redis.Call("DUMP", "garbage-src").Bytes![..^DumpPayload.TrailerLength];
            // Each body with one byte changed, truncated, and with random tails: the parser itself sees hostile input.
            for (int n = 0; n < 20; n++)
            {
                var changed = (byte[])body.Clone();
                changed[random.Next(changed.Length)] = (byte)random.Next(256);
                bodies.Add(changed);
                bodies.Add(body[..random.Next(body.Length)]);
            }
        }
        for (int n = 0; n < 500; n++)
        {
            var body = new byte[random.Next(1, 60)];
            random.NextBytes(body);
            body[0] = (byte)random.Next(0, 20);
            bodies.Add(body);
        }
        foreach (var body in bodies)
        {
            var reply = node.Call([B("RESTORE"), B("garbage"), B("0"), WithTrailer(body), B("REPLACE")]);
            Assert.True(reply.Text is "OK" or "ERR Bad data format", reply.ToString());
        }
        Assert.Equal("PONG", node.Call("PING").Text);
    }

    [Theory]
    [InlineData(6, "module")]
    [InlineData(7, "module 2")]
    [InlineData(9, "zipmap")]
    [InlineData(20, "unknown")]
    public void Types_the_node_does_not_hold_are_bad_data(byte type, string what)
    {
        using var node = servers.Node.Client();
        var reply = node.Call([B("RESTORE"), B("unsupported:" + what), B("0"), WithTrailer([type, 0, 0, 0])]);
        Assert.Equal("ERR Bad data format", reply.Text);
    }

    [Fact]
    public void Versions_up_to_10_load_and_later_ones_are_refused_as_by_redis()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        byte[] body = [0, 1, (byte)'v'];
        foreach (int version in new[] { 1, 9, 10, 11, 0xFFFF })
        {
            var payload = WithTrailer(body, version);
            foreach (var client in new[] { redis, node })
            {
                client.Call("DEL", "versioned");
                var reply = client.Call([B("RESTORE"), B("versioned"), B("0"), payload]);
                Assert.Equal(version <= 10 ? "OK" : "ERR DUMP payload version or checksum are wrong", reply.Text);
            }
        }
    }

    /// <summary>Older encodings redis-server 7.0 still loads (ziplists, text scores, plain lists), hand-built.</summary>
    [Fact]
    public void Older_encodings_load_as_on_redis()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        var ziplist = Ziplist("b", "-20000", "a", "1", "c", "2.5");
        byte[][] bodies =
        [
            [1, 3, 1, (byte)'x', 0xC0, 0x05, 0, ],
            [3, 2, 1, (byte)'a', 3, (byte)'1', (byte)'.', (byte)'5', 1, (byte)'b', 254],
            [10, .. Str(ziplist)],
            [12, .. Str(ziplist)],
            [13, .. Str(ziplist)],
            [14, 2, .. Str(ziplist), .. Str(Ziplist("z"))],
            [18, 2, 1, 3, (byte)'b', (byte)'i', (byte)'g', 2, .. Str(ListpackOf("p", "12"))],
        ];
        int n = 0;
        foreach (var body in bodies)
        {
            string key = "old:" + n++;
            var payload = WithTrailer(body, 9);
            Assert.Equal("OK", redis.Call([B("RESTORE"), B(key), B("0"), payload, B("REPLACE")]).Text);
            Assert.Equal("OK", node.Call([B("RESTORE"), B(key), B("0"), payload, B("REPLACE")]).Text);
            Assert.Equal(Contents(redis, key), Contents(node, key));
            Assert.Equal(redis.Call("OBJECT", "ENCODING", key).Text, node.Call("OBJECT", "ENCODING", key).Text);
        }
    }

    private static void Build(RespClient client, string[][] build, string key)
    {
        client.Call("DEL", key);
        foreach (var command in build)
        {
            client.Call(command.Select(arg => arg == "src" ? B(key) : Encoding.Latin1.GetBytes(arg)).ToArray());
        }
    }

    /// <summary>Type and contents, members sorted where their order is not part of the value.</summary>
    private static string Contents(RespClient client, string key)
    {
        string type = client.Call("TYPE", key).Text!;
        var value = type switch
        {
            "string" => client.Call("GET", key),
            "list" => client.Call("LRANGE", key, "0", "-1"),
            "set" => CollectionDifferential.Normalize(client.Call("SMEMBERS", key), false),
            "zset" => client.Call("ZRANGE", key, "0", "-1", "WITHSCORES"),
            "hash" => CollectionDifferential.Normalize(client.Call("HGETALL", key), true),
            _ => client.Call("TYPE", key),
        };
        return type + " " + CollectionDifferential.Render(value);
    }

    private static byte[] WithTrailer(byte[] body, int version = DumpPayload.RdbVersion)
    {
        var payload = new byte[body.Length + DumpPayload.TrailerLength];
        body.CopyTo(payload, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(body.Length), (ushort)version);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(body.Length + 2), Crc64.Compute(payload.AsSpan(0, body.Length + 2)));
        return payload;
    }

    /// <summary>An RDB plain string (short lengths only).</summary>
    private static byte[] Str(byte[] bytes) => [(byte)bytes.Length, .. bytes];

    private static byte[] ListpackOf(params string[] elements)
    {
        var builder = new Listpack.Builder();
        foreach (var element in elements)
        {
            builder.Append(B(element));
        }
        return builder.ToArray();
    }

    /// <summary>A ziplist of short strings, integers encoded as ziplist.c does for those that parse.</summary>
    private static byte[] Ziplist(params string[] elements)
    {
        var entries = new List<byte>();
        int previous = 0;
        int tail = 10;
        foreach (var element in elements)
        {
            tail = 10 + entries.Count;
            var entry = new List<byte> { (byte)previous };
            if (long.TryParse(element, CultureInfo.InvariantCulture, out long v) && v is >= short.MinValue and <= short.MaxValue)
            {
                if (v is >= 0 and <= 12)
                {
                    entry.Add((byte)(0xF1 + v));
                }
                else
                {
                    entry.Add(0xC0);
                    entry.Add((byte)v);
                    entry.Add((byte)(v >> 8));
                }
            }
            else
            {
                entry.Add((byte)element.Length);
                entry.AddRange(B(element));
            }
            previous = entry.Count;
            entries.AddRange(entry);
        }
        var result = new byte[10 + entries.Count + 1];
        BinaryPrimitives.WriteUInt32LittleEndian(result, (uint)result.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)tail);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)elements.Length);
        entries.CopyTo(result, 10);
        result[^1] = 0xFF;
        return result;
    }
}
