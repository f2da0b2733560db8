using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// OBJECT ENCODING across types and their conversion thresholds, differential against redis-server 7.0.
/// One known difference is not compared here: the node derives a string's encoding from its bytes, so a short string written in place (APPEND,
/// SETRANGE, SETBIT) reports "embstr" or "int" where Redis reports "raw".
/// </summary>
public class ObjectEncodingTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string[] Numbered(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i).ToArray();

    private static string[] Pairs(string prefix, int count, string value = "v") => Enumerable.Range(0, count).SelectMany(i => new[] { prefix + i, value }).ToArray();

    [Fact]
    public void String_encodings_match_redis() =>
        servers.AssertSameReplies(
            ["SET", "int", "12345"],
            ["OBJECT", "ENCODING", "int"],
            ["SET", "neg", "-9223372036854775808"],
            ["OBJECT", "ENCODING", "neg"],
            ["SET", "toolong", "9223372036854775808"],
            ["OBJECT", "ENCODING", "toolong"],
            ["SET", "lead0", "0123"],
            ["OBJECT", "ENCODING", "lead0"],
            ["SET", "space", " 12"],
            ["OBJECT", "ENCODING", "space"],
            ["SET", "short", "hello"],
            ["OBJECT", "ENCODING", "short"],
            ["SET", "e44", new string('e', 44)],
            ["OBJECT", "ENCODING", "e44"],
            ["SET", "e45", new string('e', 45)],
            ["OBJECT", "ENCODING", "e45"],
            ["SET", "app", new string('a', 50)],
            ["APPEND", "app", "c"],
            ["OBJECT", "ENCODING", "app"],
            ["SET", "cnt", "10"],
            ["INCR", "cnt"],
            ["OBJECT", "ENCODING", "cnt"],
            ["INCRBYFLOAT", "cnt", "0.5"],
            ["OBJECT", "ENCODING", "cnt"],
            ["OBJECT", "ENCODING", "missing"]);

    [Fact]
    public void Hash_encodings_and_thresholds_match_redis() =>
        servers.AssertSameReplies(
            ["HSET", "h", "f", "v"],
            ["OBJECT", "ENCODING", "h"],
            ["HSET", "h129", .. Pairs("f", 129)],
            ["OBJECT", "ENCODING", "h129"],
            ["HSET", "h512", .. Pairs("f", 512)],
            ["OBJECT", "ENCODING", "h512"],
            ["HSET", "h513", .. Pairs("f", 513)],
            ["OBJECT", "ENCODING", "h513"],
            ["HDEL", "h513", "f0", "f1", "f2"],
            ["OBJECT", "ENCODING", "h513"],
            ["HSET", "grown", .. Pairs("f", 512)],
            ["HSET", "grown", "one-more", "v"],
            ["OBJECT", "ENCODING", "grown"],
            ["HSET", "v64", "f", new string('v', 64)],
            ["OBJECT", "ENCODING", "v64"],
            ["HSET", "v65", "f", new string('v', 65)],
            ["OBJECT", "ENCODING", "v65"],
            ["HSET", "k65", new string('k', 65), "v"],
            ["OBJECT", "ENCODING", "k65"],
            ["HSET", "grow", "f", "v"],
            ["HSET", "grow", "f", new string('v', 100)],
            ["OBJECT", "ENCODING", "grow"],
            ["HINCRBY", "num", "f", "1"],
            ["OBJECT", "ENCODING", "num"]);

    [Fact]
    public void Sorted_set_encodings_and_thresholds_match_redis() =>
        servers.AssertSameReplies(
            ["ZADD", "z", "1", "a"],
            ["OBJECT", "ENCODING", "z"],
            ["ZADD", "z128", .. Enumerable.Range(0, 128).SelectMany(i => new[] { i.ToString(), "m" + i })],
            ["OBJECT", "ENCODING", "z128"],
            ["ZADD", "z129", .. Enumerable.Range(0, 129).SelectMany(i => new[] { i.ToString(), "m" + i })],
            ["OBJECT", "ENCODING", "z129"],
            ["ZREMRANGEBYRANK", "z129", "0", "100"],
            ["OBJECT", "ENCODING", "z129"],
            ["ZADD", "m64", "1", new string('m', 64)],
            ["OBJECT", "ENCODING", "m64"],
            ["ZADD", "m65", "1", new string('m', 65)],
            ["OBJECT", "ENCODING", "m65"],
            ["ZUNIONSTORE", "u", "1", "z129"],
            ["OBJECT", "ENCODING", "u"],
            ["ZINCRBY", "inc", "1", "m"],
            ["OBJECT", "ENCODING", "inc"],
            ["ZRANGESTORE", "rs", "z128", "0", "9"],
            ["OBJECT", "ENCODING", "rs"]);

    [Fact]
    public void Integer_and_large_set_encodings_match_redis() =>
        servers.AssertSameReplies(
            ["SADD", "ints", "1", "2", "-3"],
            ["OBJECT", "ENCODING", "ints"],
            ["SADD", "i512", .. Enumerable.Range(0, 512).Select(i => i.ToString())],
            ["OBJECT", "ENCODING", "i512"],
            ["SADD", "i513", .. Enumerable.Range(0, 513).Select(i => i.ToString())],
            ["OBJECT", "ENCODING", "i513"],
            ["SADD", "big", .. Numbered("m", 200)],
            ["OBJECT", "ENCODING", "big"],
            ["SADD", "i512", "x"],
            ["SCARD", "i512"],
            ["OBJECT", "ENCODING", "i512"],
            ["SADD", "leading", "01"],
            ["SADD", "ints", "9223372036854775807", "-9223372036854775808"],
            ["OBJECT", "ENCODING", "ints"]);

    [Fact]
    public void List_encodings_match_redis() =>
        servers.AssertSameReplies(
            ["RPUSH", "l", "a"],
            ["OBJECT", "ENCODING", "l"],
            ["RPUSH", "big", .. Numbered("e", 1000)],
            ["OBJECT", "ENCODING", "big"],
            ["RPUSH", "long", new string('x', 10000)],
            ["OBJECT", "ENCODING", "long"]);

    [Fact]
    public void Restored_and_copied_values_keep_the_encoding_redis_gives_them() =>
        servers.AssertSameReplies(
            ["HSET", "h", .. Pairs("f", 600)],
            ["HDEL", "h", .. Numbered("f", 595)],
            ["COPY", "h", "hc"],
            ["OBJECT", "ENCODING", "hc"],
            ["ZADD", "z", "1", new string('m', 100), "2", "n"],
            ["ZREM", "z", new string('m', 100)],
            ["COPY", "z", "zc"],
            ["OBJECT", "ENCODING", "zc"]);

    [Fact]
    public void Sets_of_strings_are_hashtables_as_in_redis_7_0() =>
        servers.AssertSameReplies(
            ["SADD", "strs", "a", "b"],
            ["OBJECT", "ENCODING", "strs"],
            ["SADD", "mixed", "1", "2", "x"],
            ["OBJECT", "ENCODING", "mixed"],
            ["SADD", "strs", .. Numbered("m", 200)],
            ["OBJECT", "ENCODING", "strs"],
            ["SISMEMBER", "strs", "m150"],
            ["SCARD", "strs"]);
}
