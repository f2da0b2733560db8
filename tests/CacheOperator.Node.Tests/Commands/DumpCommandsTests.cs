using System.Buffers.Binary;
using System.Text;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>DUMP and RESTORE: round trips of every type and encoding, TTLs, corruption, errors as Redis 7.0.</summary>
public class DumpCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Commands building one value of each type and encoding under key "src", with a reader of its contents.</summary>
    public static TheoryData<string, string[][], string[]> Values()
    {
        var many = Enumerable.Range(0, 300).Select(i => "member-" + i).ToArray();
        var longText = new string('x', 100);
        return new()
        {
            { "int", [["SET", "src", "12345"]], ["GET", "src"] },
            { "embstr", [["SET", "src", "hello"]], ["GET", "src"] },
            { "raw", [["SET", "src", longText]], ["GET", "src"] },
            { "empty string", [["SET", "src", ""]], ["GET", "src"] },
            { "binary", [["SET", "src", "a\0b\r\n\xff"]], ["GET", "src"] },
            { "small list", [["RPUSH", "src", "a", "", "3"]], ["LRANGE", "src", "0", "-1"] },
            { "large list", [["RPUSH", "src", .. many]], ["LRANGE", "src", "0", "-1"] },
            { "intset", [["SADD", "src", "5", "-3", "100"]], ["SMEMBERS", "src"] },
            { "small string set", [["SADD", "src", "a", "b", "c"]], ["SMEMBERS", "src"] },
            { "hashtable set", [["SADD", "src", .. many]], ["SCARD", "src"] },
            { "big intset", [["SADD", "src", .. Enumerable.Range(0, 600).Select(i => i.ToString())]], ["SCARD", "src"] },
            { "listpack zset", [["ZADD", "src", "1.5", "a", "-inf", "b", "inf", "c", "0", "d"]], ["ZRANGE", "src", "0", "-1", "WITHSCORES"] },
            { "skiplist zset", [["ZADD", "src", .. many.SelectMany((m, i) => new[] { (i * 0.25).ToString(System.Globalization.CultureInfo.InvariantCulture), m })]], ["ZRANGE", "src", "0", "-1", "WITHSCORES"] },
            { "long member zset", [["ZADD", "src", "1", longText]], ["ZRANGE", "src", "0", "-1", "WITHSCORES"] },
            { "listpack hash", [["HSET", "src", "f1", "v1", "f2", ""]], ["HGETALL", "src"] },
            { "hashtable hash", [["HSET", "src", .. Enumerable.Range(0, 600).SelectMany(i => new[] { "f" + i, "v" + i })]], ["HLEN", "src"] },
            { "many-field listpack hash", [["HSET", "src", .. many.SelectMany(m => new[] { m, m + "-value" })]], ["HGETALL", "src"] },
            { "long value hash", [["HSET", "src", "f", longText]], ["HGETALL", "src"] },
        };
    }

    [Theory]
    [MemberData(nameof(Values))]
    public void Every_type_and_encoding_survives_a_round_trip(string what, string[][] build, string[] read)
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "src", "copy");
        foreach (var command in build)
        {
            client.Call(command.Select(B).ToArray());
        }
        var payload = client.Call("DUMP", "src");
        Assert.Equal(RespKind.Bulk, payload.Kind);
        Assert.Equal("OK", client.Call([B("RESTORE"), B("copy"), B("0"), payload.Bytes!]).Text);
        var readCopy = read.Select(arg => arg == "src" ? "copy" : arg).ToArray();
        var original = client.Call(read);
        var restored = client.Call(readCopy);
        Assert.True(CollectionDifferential.Render(CollectionDifferential.Normalize(original, false))
            == CollectionDifferential.Render(CollectionDifferential.Normalize(restored, false)), what);
        Assert.Equal(client.Call("OBJECT", "ENCODING", "src").Text, client.Call("OBJECT", "ENCODING", "copy").Text);
        Assert.Equal(client.Call("TYPE", "src").Text, client.Call("TYPE", "copy").Text);
        Assert.Equal(-1, client.Call("TTL", "copy").Integer);
        // The same value dumps to the same bytes.
        Assert.Equal(payload.Bytes, client.Call("DUMP", "copy").Bytes);
    }

    [Fact]
    public void Set_members_all_survive_for_large_sets()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "bigset", "bigset2");
        var members = Enumerable.Range(0, 1000).Select(i => "m" + i).ToArray();
        client.Call(["SADD", "bigset", .. members]);
        var payload = client.Call("DUMP", "bigset").Bytes!;
        client.Call([B("RESTORE"), B("bigset2"), B("0"), payload]);
        Assert.Equal(0, client.Call("SDIFF", "bigset", "bigset2").Elements.Count + client.Call("SDIFF", "bigset2", "bigset").Elements.Count);
        Assert.Equal(1000, client.Call("SCARD", "bigset2").Integer);
    }

    [Fact]
    public void Ttl_is_relative_or_absolute_and_a_past_expiry_leaves_no_key()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "t", "t1", "t2", "t3", "t4");
        client.Call("SET", "t", "v");
        var payload = client.Call("DUMP", "t").Bytes!;

        Assert.Equal("OK", client.Call([B("RESTORE"), B("t1"), B("100000"), payload]).Text);
        long pttl = client.Call("PTTL", "t1").Integer;
        Assert.InRange(pttl, 1, 100000);

        long at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 200000;
        Assert.Equal("OK", client.Call([B("RESTORE"), B("t2"), B(at.ToString()), payload, B("ABSTTL")]).Text);
        Assert.Equal(at, client.Call("PEXPIRETIME", "t2").Integer);

        Assert.Equal("OK", client.Call([B("RESTORE"), B("t3"), B("1000"), payload, B("ABSTTL")]).Text);
        Assert.Equal(0, client.Call("EXISTS", "t3").Integer);

        // REPLACE with an expiry already past deletes the key it replaces.
        client.Call("SET", "t4", "old");
        Assert.Equal("OK", client.Call([B("RESTORE"), B("t4"), B("1"), payload, B("ABSTTL"), B("REPLACE")]).Text);
        Assert.Equal(0, client.Call("EXISTS", "t4").Integer);

        // REPLACE drops the old TTL when restoring without one.
        client.Call("SET", "t4", "old", "EX", "100");
        Assert.Equal("OK", client.Call([B("RESTORE"), B("t4"), B("0"), payload, B("REPLACE")]).Text);
        Assert.Equal("v", client.Call("GET", "t4").Text);
        Assert.Equal(-1, client.Call("TTL", "t4").Integer);
    }

    [Fact]
    public void Idletime_sets_the_idle_time()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "idle", "idle2");
        client.Call("SET", "idle", "v");
        var payload = client.Call("DUMP", "idle").Bytes!;
        Assert.Equal("OK", client.Call([B("RESTORE"), B("idle2"), B("0"), payload, B("IDLETIME"), B("1000")]).Text);
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "idle2").Integer, 1000, 1010);
    }

    [Fact]
    public void Flipping_any_byte_or_truncating_the_payload_is_detected()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "c", "c2");
        client.Call("HSET", "c", "field", "value", "other", "x");
        var payload = client.Call("DUMP", "c").Bytes!;
        for (int i = 0; i < payload.Length; i++)
        {
            foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
            {
                var corrupt = (byte[])payload.Clone();
                corrupt[i] ^= mask;
                var reply = client.Call([B("RESTORE"), B("c2"), B("0"), corrupt]);
                Assert.Equal("ERR DUMP payload version or checksum are wrong", reply.Text);
            }
        }
        for (int length = 0; length < payload.Length; length++)
        {
            var reply = client.Call([B("RESTORE"), B("c2"), B("0"), payload[..length]]);
            Assert.Equal("ERR DUMP payload version or checksum are wrong", reply.Text);
        }
        Assert.Equal(0, client.Call("EXISTS", "c2").Integer);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void A_body_with_a_valid_checksum_but_bad_contents_is_refused_without_a_crash()
    {
        using var client = servers.Node.Client();
        client.Call("DEL", "bad");
        var random = new Random(42);
        byte[][] bodies =
        [
            [],
            [9],
            [0, 5, (byte)'a'],
            [1, 0xff, 0xff, 0xff, 0xff, 0x0f],
            [1, 0],
            [3, 1, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0xf8, 0x7f],
            [3, 2, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0, 1, (byte)'a', 0, 0, 0, 0, 0, 0, 0, 0],
            [2, 2, 1, (byte)'a', 1, (byte)'a'],
            [4, 1, 1, (byte)'f'],
            [0, 1, (byte)'a', 0],
            .. Enumerable.Range(0, 200).Select(_ =>
            {
                var body = new byte[random.Next(1, 40)];
                random.NextBytes(body);
                body[0] = (byte)random.Next(0, 5);
                return body;
            }),
        ];
        foreach (var body in bodies)
        {
            var reply = client.Call([B("RESTORE"), B("bad"), B("0"), WithTrailer(body)]);
            Assert.True(reply.Text is "OK" or "ERR Bad data format", reply.ToString());
            client.Call("DEL", "bad");
        }
        Assert.Equal("ERR Bad data format", client.Call([B("RESTORE"), B("bad"), B("0"), WithTrailer([9])]).Text);
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void A_later_format_version_is_refused()
    {
        using var client = servers.Node.Client();
        var body = new byte[] { 0, 1, (byte)'v' };
        var payload = WithTrailer(body, DumpPayload.RdbVersion + 1);
        Assert.Equal("ERR DUMP payload version or checksum are wrong", client.Call([B("RESTORE"), B("later"), B("0"), payload]).Text);
        Assert.Equal("OK", client.Call([B("RESTORE"), B("later"), B("0"), WithTrailer(body)]).Text);
        Assert.Equal("v", client.Call("GET", "later").Text);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_and_their_order_match_redis(int protocol) =>
        servers.AssertSameReplies(protocol,
            ["DUMP", "nokey"],
            ["SET", "k", "v"],
            ["RESTORE", "k", "0", "garbage"],
            ["RESTORE", "k", "-1", "garbage"],
            ["RESTORE", "k", "0", "garbage", "REPLACE"],
            ["RESTORE", "n", "-1", "garbage"],
            ["RESTORE", "n", "abc", "garbage"],
            ["RESTORE", "n", "0", ""],
            ["RESTORE", "n", "0", "garbage", "BOGUS"],
            ["RESTORE", "k", "0", "garbage", "BOGUS"],
            ["RESTORE", "n", "0", "garbage", "IDLETIME"],
            ["RESTORE", "n", "0", "garbage", "IDLETIME", "-1"],
            ["RESTORE", "n", "0", "garbage", "IDLETIME", "x"],
            ["RESTORE", "n", "0", "garbage", "FREQ", "256"],
            ["RESTORE", "n", "0", "garbage", "FREQ", "-1"],
            ["RESTORE", "n", "0", "garbage", "FREQ", "1", "IDLETIME", "1"],
            ["RESTORE", "n", "0", "garbage", "IDLETIME", "1", "FREQ", "1"],
            ["RESTORE", "n", "0", "garbage", "IDLETIME", "1", "IDLETIME", "2", "ABSTTL", "REPLACE"],
            ["RESTORE", "n", "0"],
            ["DUMP"]);

    [Fact]
    public void Restore_replace_of_a_watched_key_fails_the_transaction()
    {
        using var watcher = servers.Node.Client();
        using var other = servers.Node.Client();
        other.Call("SET", "rw", "v");
        var payload = other.Call("DUMP", "rw").Bytes!;
        watcher.Call("WATCH", "rw");
        other.Call([B("RESTORE"), B("rw"), B("0"), payload, B("REPLACE")]);
        watcher.Call("MULTI");
        watcher.Call("PING");
        Assert.Equal(RespKind.Null, watcher.Call("EXEC").Kind);
    }

    private static byte[] WithTrailer(byte[] body, int version = DumpPayload.RdbVersion)
    {
        var payload = new byte[body.Length + DumpPayload.TrailerLength];
        body.CopyTo(payload, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(body.Length), (ushort)version);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(body.Length + 2), Crc64.Compute(payload.AsSpan(0, body.Length + 2)));
        return payload;
    }
}
