using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>
/// The encoding directives and their Redis 7.0 aliases, differential against redis-server 7.0.15: CONFIG GET/SET
/// texts and errors, patterns that match a directive and its alias, and OBJECT ENCODING under non-default limits set
/// by CONFIG SET (existing keys untouched until written) and on the command line.
/// </summary>
public class EncodingDirectivesTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[] Primaries =
        ["hash-max-listpack-entries", "hash-max-listpack-value", "zset-max-listpack-entries", "zset-max-listpack-value", "set-max-intset-entries", "list-max-listpack-size", "list-compress-depth"];

    private static readonly string[] Aliases =
        ["hash-max-ziplist-entries", "hash-max-ziplist-value", "zset-max-ziplist-entries", "zset-max-ziplist-value", "list-max-ziplist-size"];

    // Every test starts from Redis's defaults, whatever another test left behind.
    private static readonly string[] Defaults =
        ["CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "64", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "64",
            "set-max-intset-entries", "512", "list-max-listpack-size", "-2", "list-compress-depth", "0"];

    private static string[] Numbered(string prefix, int count) => Enumerable.Range(0, count).Select(i => prefix + i).ToArray();

    private static string[] Pairs(string prefix, int count) => Enumerable.Range(0, count).SelectMany(i => new[] { prefix + i, "v" }).ToArray();

    private static string[] Scored(string prefix, int count) => Enumerable.Range(0, count).SelectMany(i => new[] { i.ToString(System.Globalization.CultureInfo.InvariantCulture), prefix + i }).ToArray();

    /// <summary>CONFIG GET answers name/value pairs in the order of Redis's dict; the pairs, not their order, are the contract.</summary>
    private static RespValue SortPairs(string[] command, RespValue reply)
    {
        if (!command[0].Equals("CONFIG", StringComparison.OrdinalIgnoreCase) || !command[1].Equals("GET", StringComparison.OrdinalIgnoreCase) || reply.Items is null)
        {
            return reply;
        }
        var pairs = reply.Items.Chunk(2).OrderBy(p => p[0].Text, StringComparer.Ordinal).SelectMany(p => p).ToList();
        return reply with { Items = pairs };
    }

    [Fact]
    public void Config_get_and_set_of_each_directive_and_alias_answer_as_redis()
    {
        var commands = new List<string[]> { Defaults };
        foreach (string name in Primaries.Concat(Aliases))
        {
            commands.Add(["CONFIG", "GET", name]);
            foreach (string value in new[] { "-1", "abc", "1k", "1kb", "+5", "007", "", " 5", "5 ", "2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999", "0", "-2147483649", "-6", "3" })
            {
                commands.Add(["CONFIG", "SET", name, value]);
                commands.Add(["CONFIG", "GET", name]);
            }
            commands.Add(["CONFIG", "SET", name.ToUpperInvariant(), "abc"]);
            commands.Add(["CONFIG", "GET", name.ToUpperInvariant()]);
        }
        commands.Add(Defaults);
        servers.AssertSameReplies(2, SortPairs, [.. commands]);
    }

    [Fact]
    public void A_directive_and_its_alias_are_two_names_as_in_redis() =>
        servers.AssertSameReplies(3, SortPairs,
            Defaults,
            ["CONFIG", "SET", "hash-max-ziplist-entries", "5", "hash-max-listpack-entries", "6"],
            ["CONFIG", "GET", "hash-max-ziplist-entries"],
            ["CONFIG", "SET", "zset-max-listpack-value", "7", "zset-max-ziplist-value", "8"],
            ["CONFIG", "GET", "zset-max-listpack-value", "zset-max-ziplist-value"],
            ["CONFIG", "SET", "list-max-ziplist-size", "1", "LIST-MAX-ZIPLIST-SIZE", "2"],
            ["CONFIG", "SET", "hash-max-listpack-value", "1", "hash-max-ziplist-value", "x"],
            ["CONFIG", "GET", "hash-max-listpack-value"],
            ["CONFIG", "GET", "*max-*-entries"],
            ["CONFIG", "GET", "*ziplist*"],
            ["CONFIG", "GET", "*listpack*"],
            ["CONFIG", "GET", "list-*"],
            ["CONFIG", "GET", "*intset*", "set-max-intset-entries"],
            ["CONFIG", "GET", "hash-max-ziplist-entries", "hash-max-listpack-entries", "*hash-max-*"],
            ["CONFIG", "GET", "HASH-max-ziplist-entries", "hash-max-ziplist-entries"],
            ["CONFIG", "GET", "set-max-listpack-entries", "list-max-ziplist-entries"],
            ["CONFIG", "SET", "set-max-listpack-entries", "5"],
            ["CONFIG", "SET", "list-max-ziplist-entries", "5"],
            Defaults);

    [Fact]
    public void Hash_encoding_follows_limits_set_at_run_time() =>
        servers.AssertSameReplies(
            Defaults,
            ["HSET", "old", .. Pairs("f", 10)],
            ["CONFIG", "SET", "hash-max-ziplist-entries", "4", "hash-max-listpack-value", "8"],
            ["OBJECT", "ENCODING", "old"],
            ["HGET", "old", "f1"],
            ["OBJECT", "ENCODING", "old"],
            ["HSET", "old", "f1", "w"],
            ["OBJECT", "ENCODING", "old"],
            ["HSET", "h4", .. Pairs("f", 4)],
            ["OBJECT", "ENCODING", "h4"],
            ["HSET", "h4", "f0", "again"],
            ["OBJECT", "ENCODING", "h4"],
            ["HSET", "h4", "f4", "v"],
            ["OBJECT", "ENCODING", "h4"],
            ["HSET", "v8", "f", "12345678"],
            ["OBJECT", "ENCODING", "v8"],
            ["HSET", "v9", "f", "123456789"],
            ["OBJECT", "ENCODING", "v9"],
            ["HSET", "k9", "123456789", "v"],
            ["OBJECT", "ENCODING", "k9"],
            ["HINCRBY", "n", "f", "123456789"],
            ["OBJECT", "ENCODING", "n"],
            ["HSETNX", "nx", "f", "v"],
            ["OBJECT", "ENCODING", "nx"],
            ["CONFIG", "SET", "hash-max-listpack-entries", "0"],
            ["HSET", "zero", "f", "v"],
            ["OBJECT", "ENCODING", "zero"],
            ["CONFIG", "SET", "hash-max-listpack-entries", "512", "hash-max-listpack-value", "0"],
            ["HSET", "empty", "", ""],
            ["OBJECT", "ENCODING", "empty"],
            ["HSET", "one", "f", ""],
            ["OBJECT", "ENCODING", "one"],
            Defaults);

    [Fact]
    public void Sorted_set_encoding_follows_limits_set_at_run_time() =>
        servers.AssertSameReplies(
            Defaults,
            ["ZADD", "old", .. Scored("m", 10)],
            ["CONFIG", "SET", "zset-max-ziplist-entries", "3", "zset-max-listpack-value", "5"],
            ["OBJECT", "ENCODING", "old"],
            ["ZADD", "old", "100", "m1"],
            ["OBJECT", "ENCODING", "old"],
            ["ZADD", "old", "1", "new"],
            ["OBJECT", "ENCODING", "old"],
            ["ZADD", "z3", .. Scored("m", 3)],
            ["OBJECT", "ENCODING", "z3"],
            ["ZADD", "z3", "9", "m9"],
            ["OBJECT", "ENCODING", "z3"],
            ["ZADD", "dup", "1", "a", "1", "a", "2", "a", "3", "a"],
            ["OBJECT", "ENCODING", "dup"],
            ["ZADD", "long-first", "1", "abcdef", "2", "a"],
            ["ZREM", "long-first", "abcdef"],
            ["OBJECT", "ENCODING", "long-first"],
            ["ZADD", "long-later", "1", "a", "2", "abcdef"],
            ["OBJECT", "ENCODING", "long-later"],
            ["ZINCRBY", "inc", "1", "abcdef"],
            ["OBJECT", "ENCODING", "inc"],
            ["ZADD", "src", .. Scored("m", 5)],
            ["ZRANGESTORE", "r3", "src", "0", "2"],
            ["OBJECT", "ENCODING", "r3"],
            ["ZRANGESTORE", "r4", "src", "0", "3"],
            ["OBJECT", "ENCODING", "r4"],
            ["ZUNIONSTORE", "u3", "1", "z3"],
            ["OBJECT", "ENCODING", "u3"],
            ["ZREMRANGEBYRANK", "src", "0", "2"],
            ["ZUNIONSTORE", "u2", "1", "src"],
            ["OBJECT", "ENCODING", "u2"],
            ["ZINTERSTORE", "i1", "2", "src", "old"],
            ["OBJECT", "ENCODING", "i1"],
            ["CONFIG", "SET", "zset-max-listpack-entries", "0"],
            ["ZADD", "zero", "1", "a"],
            ["OBJECT", "ENCODING", "zero"],
            ["ZUNIONSTORE", "u0", "1", "z3"],
            ["OBJECT", "ENCODING", "u0"],
            Defaults);

    [Fact]
    public void Set_encoding_follows_limits_set_at_run_time() =>
        servers.AssertSameReplies(
            Defaults,
            ["SADD", "strs", "a", "b"],
            ["OBJECT", "ENCODING", "strs"],
            ["SADD", "old", .. Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            ["CONFIG", "SET", "set-max-intset-entries", "3"],
            ["OBJECT", "ENCODING", "old"],
            ["SADD", "old", "1"],
            ["OBJECT", "ENCODING", "old"],
            ["SREM", "old", "1"],
            ["OBJECT", "ENCODING", "old"],
            ["SADD", "old", "100"],
            ["OBJECT", "ENCODING", "old"],
            ["SADD", "i3", "1", "2", "3"],
            ["OBJECT", "ENCODING", "i3"],
            ["SADD", "i3", "4"],
            ["OBJECT", "ENCODING", "i3"],
            ["SADD", "a", "1", "2", "3"],
            ["SADD", "b", "3", "4", "5"],
            ["SUNIONSTORE", "u", "a", "b"],
            ["OBJECT", "ENCODING", "u"],
            ["SINTERSTORE", "in", "a", "b"],
            ["OBJECT", "ENCODING", "in"],
            ["SDIFFSTORE", "d", "a", "b"],
            ["OBJECT", "ENCODING", "d"],
            ["SMOVE", "a", "moved", "1"],
            ["OBJECT", "ENCODING", "moved"],
            ["CONFIG", "SET", "set-max-intset-entries", "0"],
            ["SADD", "zero", "1"],
            ["OBJECT", "ENCODING", "zero"],
            Defaults);

    [Fact]
    public void Copies_keep_their_encoding_and_lists_stay_quicklist() =>
        servers.AssertSameReplies(
            Defaults,
            ["HSET", "h", .. Pairs("f", 10)],
            ["ZADD", "z", .. Scored("m", 10)],
            ["SADD", "s", "1", "2", "3", "4"],
            ["CONFIG", "SET", "hash-max-listpack-entries", "2", "zset-max-listpack-entries", "2", "set-max-intset-entries", "2"],
            ["COPY", "h", "hc"],
            ["OBJECT", "ENCODING", "hc"],
            ["COPY", "z", "zc"],
            ["OBJECT", "ENCODING", "zc"],
            ["COPY", "s", "sc"],
            ["OBJECT", "ENCODING", "sc"],
            ["CONFIG", "SET", "list-max-listpack-size", "1", "list-compress-depth", "2"],
            ["RPUSH", "l", .. Numbered("e", 100)],
            ["OBJECT", "ENCODING", "l"],
            ["LRANGE", "l", "48", "52"],
            ["CONFIG", "SET", "list-max-ziplist-size", "-5"],
            ["LPUSH", "l", "x"],
            ["OBJECT", "ENCODING", "l"],
            Defaults);

    [Fact]
    public async Task A_config_file_with_each_directive_and_alias_is_read_as_redis_reads_it()
    {
        // Later lines win, also across a directive and its alias; redis-server reads its command line as lines
        // appended to the file, so it gets the same lines as options.
        (string Name, string Value)[] lines =
        [
            ("hash-max-listpack-entries", "9"), ("hash-max-ziplist-entries", "3"), ("hash-max-ziplist-value", "1kb"), ("hash-max-listpack-value", "5"),
            ("zset-max-listpack-entries", "7"), ("zset-max-ziplist-entries", "2"), ("zset-max-listpack-value", "4"), ("zset-max-ziplist-value", "6"),
            ("set-max-intset-entries", "2"), ("list-max-listpack-size", "9"), ("list-max-ziplist-size", "-4"), ("list-compress-depth", "3"),
            ("list-max-ziplist-entries", "5"), ("list-max-ziplist-value", "5"),
        ];
        string file = Path.Combine(Path.GetTempPath(), $"encoding-{Guid.NewGuid():N}.conf");
        File.WriteAllLines(file, ["# encoding directives", .. lines.Select(l => $"{l.Name} {l.Value}")]);
        try
        {
            using var redisServer = RedisServerProcess.Start([.. lines.SelectMany(l => new[] { "--" + l.Name, l.Value })]);
            await using var node = TestNode.Start("--config", file);
            using var redis = redisServer.Client();
            using var ours = node.Client();
            string[][] commands =
            [
                ["CONFIG", "GET", .. Primaries, .. Aliases],
                ["HSET", "h", .. Pairs("f", 3)],
                ["OBJECT", "ENCODING", "h"],
                ["HSET", "h", "f9", "v"],
                ["OBJECT", "ENCODING", "h"],
                ["HSET", "hv", "f", "123456"],
                ["OBJECT", "ENCODING", "hv"],
                ["ZADD", "z", .. Scored("m", 2)],
                ["OBJECT", "ENCODING", "z"],
                ["ZADD", "z", "5", "m5"],
                ["OBJECT", "ENCODING", "z"],
                ["SADD", "s", "1", "2"],
                ["OBJECT", "ENCODING", "s"],
                ["SADD", "s", "3"],
                ["OBJECT", "ENCODING", "s"],
            ];
            foreach (var command in commands)
            {
                var expected = SortPairs(command, redis.Call(command));
                var actual = SortPairs(command, ours.Call(command));
                string shown = string.Join(' ', command);
                Assert.Equal((shown, expected.ToString()), (shown, actual.ToString()));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Limits_given_on_the_command_line_apply_as_in_redis()
    {
        string[] options =
        [
            "--hash-max-ziplist-entries", "2", "--hash-max-listpack-value", "4", "--zset-max-ziplist-entries", "2", "--zset-max-ziplist-value", "3",
            "--set-max-intset-entries", "2", "--list-max-ziplist-size", "7", "--list-compress-depth", "1",
        ];
        using var redisServer = RedisServerProcess.Start(options);
        await using var node = TestNode.Start(options);
        using var redis = redisServer.Client();
        using var ours = node.Client();
        string[][] commands =
        [
            ["CONFIG", "GET", "*max-*-entries", "*max-*-value", "*-max-*-size"],
            ["CONFIG", "GET", "list-*"],
            ["HSET", "h2", .. Pairs("f", 2)],
            ["OBJECT", "ENCODING", "h2"],
            ["HSET", "h3", .. Pairs("f", 3)],
            ["OBJECT", "ENCODING", "h3"],
            ["HSET", "hv", "f", "12345"],
            ["OBJECT", "ENCODING", "hv"],
            ["ZADD", "z2", .. Scored("m", 2)],
            ["OBJECT", "ENCODING", "z2"],
            ["ZADD", "z3", .. Scored("m", 3)],
            ["OBJECT", "ENCODING", "z3"],
            ["ZADD", "zv", "1", "abcd"],
            ["OBJECT", "ENCODING", "zv"],
            ["SADD", "s2", "1", "2"],
            ["OBJECT", "ENCODING", "s2"],
            ["SADD", "s3", "1", "2", "3"],
            ["OBJECT", "ENCODING", "s3"],
            ["RPUSH", "l", .. Numbered("e", 20)],
            ["OBJECT", "ENCODING", "l"],
        ];
        foreach (var command in commands)
        {
            var expected = SortPairs(command, redis.Call(command));
            var actual = SortPairs(command, ours.Call(command));
            string shown = string.Join(' ', command);
            Assert.Equal((shown, expected.ToString()), (shown, actual.ToString()));
        }
    }
}
