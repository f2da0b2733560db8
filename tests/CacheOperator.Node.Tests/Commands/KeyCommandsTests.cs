using System.Globalization;
using System.Text;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>The generic family: replies compared with redis-server 7.0, plus SCAN, expiry and OBJECT semantics.</summary>
public class KeyCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private const string Chars44 = "0123456789012345678901234567890123456789abcd";

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Type_rename_copy_move_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["TYPE", "nope"],
            ["SET", "k", "v"],
            ["TYPE", "k"],
            ["TYPE"],
            ["RENAME", "k", "k"],
            ["RENAMENX", "k", "k"],
            ["RENAME", "nope", "nope"],
            ["RENAMENX", "nope", "x"],
            ["RENAME", "k", "k2"],
            ["GET", "k"],
            ["GET", "k2"],
            ["SET", "k", "other"],
            ["RENAMENX", "k2", "k"],
            ["RENAME", "k2", "k"],
            ["GET", "k"],
            ["EXISTS", "k2"],
            ["SET", "t", "v", "EX", "100"],
            ["RENAME", "t", "t2"],
            ["TTL", "t2"],
            ["TTL", "t"],
            ["SET", "k3", "x"],
            ["RENAME", "t2", "k3"],
            ["TTL", "k3"],
            ["RENAME", "k"],
            ["RENAMENX", "k", "a", "b"],
            ["COPY", "k", "k"],
            ["COPY", "k", "c"],
            ["GET", "c"],
            ["COPY", "k", "c"],
            ["SET", "k", "newer"],
            ["COPY", "k", "c", "REPLACE"],
            ["GET", "c"],
            ["COPY", "nope", "c"],
            ["COPY", "nope", "c", "REPLACE"],
            ["COPY", "k", "c", "DB", "16"],
            ["COPY", "k", "c", "DB", "-1"],
            ["COPY", "k", "c", "DB", "abc"],
            ["COPY", "k", "c", "DB", "4294967296"],
            ["COPY", "k", "c", "DB"],
            ["COPY", "k", "c", "FOO"],
            ["COPY", "k", "c", "REPLACE", "REPLACE", "DB", "0"],
            ["COPY", "k", "k", "DB", "0"],
            ["COPY", "k", "k", "DB", "1"],
            ["COPY", "k3", "k3", "DB", "1"],
            ["COPY", "k"],
            ["SELECT", "1"],
            ["GET", "k"],
            ["TTL", "k3"],
            ["COPY", "k", "k", "DB", "0"],
            ["COPY", "k", "k", "DB", "0", "REPLACE"],
            ["SELECT", "0"],
            ["MOVE", "k", "0"],
            ["MOVE", "nope", "0"],
            ["MOVE", "k", "16"],
            ["MOVE", "k", "-1"],
            ["MOVE", "k", "x"],
            ["MOVE", "k", "4294967296"],
            ["MOVE", "k", "-2147483649"],
            ["MOVE", "k", "99999999999999999999"],
            ["MOVE", "k", "1"],
            ["MOVE", "nope", "1"],
            ["MOVE", "c", "2"],
            ["EXISTS", "c"],
            ["MOVE", "k"],
            ["SELECT", "2"],
            ["GET", "c"],
            ["MOVE", "nope", "2"],
            ["MOVE", "c", "0"],
            ["SELECT", "0"],
            ["UNLINK", "c", "nope", "k", "c"],
            ["UNLINK"],
            ["DEL", "k3"],
            ["DBSIZE"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Expire_options_and_errors_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["EXPIRE", "nope", "10"],
            ["SET", "k", "v"],
            ["EXPIRE", "k", "100", "NX", "XX"],
            ["EXPIRE", "k", "100", "GT", "LT"],
            ["EXPIRE", "k", "100", "NX", "GT"],
            ["EXPIRE", "k", "100", "LT", "NX"],
            ["EXPIRE", "k", "100", "XX", "NX", "GT", "LT"],
            ["EXPIRE", "k", "100", "FOO"],
            ["EXPIRE", "k", "abc", "FOO"],
            ["EXPIRE", "k", "abc"],
            ["EXPIRE", "k", ""],
            ["EXPIRE", "k", "1.5"],
            ["EXPIRE", "k", "100", "GT"],
            ["EXPIRE", "k", "100", "XX"],
            ["EXPIRE", "k", "100", "lt"],
            ["TTL", "k"],
            ["EXPIRE", "k", "200", "NX"],
            ["EXPIRE", "k", "200", "LT"],
            ["EXPIRE", "k", "50", "LT"],
            ["TTL", "k"],
            ["EXPIRE", "k", "200", "GT"],
            ["EXPIRE", "k", "100", "GT"],
            ["EXPIRE", "k", "300", "XX", "GT"],
            ["EXPIRE", "k", "300", "nx", "nx"],
            ["TTL", "k"],
            ["PEXPIRE", "k", "400000", "GT"],
            ["TTL", "k"],
            ["PERSIST", "k"],
            ["PERSIST", "k"],
            ["PERSIST", "nope"],
            ["PERSIST"],
            ["EXPIRE", "k", "100", "NX"],
            ["EXPIRE", "k", "100", "NX"],
            ["EXPIRE", "k"],
            ["PEXPIRE", "k"],
            ["EXPIREAT", "k"],
            ["PEXPIREAT", "k"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Ttl_and_expiretime_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["TTL", "nope"],
            ["PTTL", "nope"],
            ["EXPIRETIME", "nope"],
            ["PEXPIRETIME", "nope"],
            ["SET", "k", "v"],
            ["TTL", "k"],
            ["PTTL", "k"],
            ["EXPIRETIME", "k"],
            ["PEXPIRETIME", "k"],
            ["EXPIREAT", "k", "4102444800"],
            ["EXPIRETIME", "k"],
            ["PEXPIRETIME", "k"],
            ["PEXPIREAT", "k", "4102444800499"],
            ["EXPIRETIME", "k"],
            ["PEXPIREAT", "k", "4102444800500"],
            ["EXPIRETIME", "k"],
            ["PEXPIRETIME", "k"],
            ["EXPIREAT", "k", "4102444800", "LT"],
            ["PEXPIRETIME", "k"],
            ["TTL"],
            ["PTTL", "a", "b"],
            ["EXPIRETIME"],
            ["PEXPIRETIME"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Huge_and_negative_expire_times_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["SET", "k", "v"],
            ["EXPIRE", "k", "9223372036854775807"],
            ["EXPIRE", "k", "9223372036854775"],
            ["EXPIRE", "k", "-9223372036854775808"],
            ["EXPIRE", "k", "-9223372036854775"],
            ["PEXPIRE", "k", "9223372036854775807"],
            ["EXPIREAT", "k", "9223372036854775807"],
            ["EXPIREAT", "k", "-9223372036854775808"],
            ["EXPIRE", "k", "99999999999999999999"],
            ["TTL", "k"],
            ["PEXPIREAT", "k", "9223372036854775807"],
            ["PEXPIRETIME", "k"],
            ["EXPIRETIME", "k"],
            ["PERSIST", "k"],
            ["EXPIRE", "k", "-1"],
            ["EXISTS", "k"],
            ["TTL", "k"],
            ["SET", "k", "v"],
            ["PEXPIRE", "k", "-9223372036854775808"],
            ["GET", "k"],
            ["SET", "k", "v"],
            ["EXPIREAT", "k", "1"],
            ["GET", "k"],
            ["SET", "k", "v"],
            ["PEXPIREAT", "k", "0"],
            ["EXISTS", "k"],
            ["SET", "k", "v"],
            ["EXPIRE", "k", "0"],
            ["EXISTS", "k"],
            ["SET", "k", "v", "EX", "100"],
            ["EXPIRE", "k", "-5", "NX"],
            ["EXPIRE", "k", "-5", "GT"],
            ["EXPIRE", "k", "-5", "LT"],
            ["EXISTS", "k"],
            ["DBSIZE"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Scan_arguments_and_cursors_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["SCAN", "0"],
            ["SCAN", "abc"],
            ["SCAN", "-1"],
            ["SCAN", "18446744073709551615"],
            ["SCAN", "18446744073709551616"],
            ["SCAN", "-18446744073709551616"],
            ["SCAN", ""],
            ["SCAN", "+0"],
            ["SCAN", "-0"],
            ["SCAN", " 0"],
            ["SCAN", "0 "],
            ["SCAN", "+"],
            ["SCAN", "-"],
            ["SCAN", "1.5"],
            ["SCAN", "0", "COUNT", "0"],
            ["SCAN", "0", "COUNT", "-1"],
            ["SCAN", "0", "COUNT", "abc"],
            ["SCAN", "0", "COUNT"],
            ["SCAN", "0", "MATCH"],
            ["SCAN", "0", "TYPE"],
            ["SCAN", "0", "FOO", "bar"],
            ["SCAN", "abc", "COUNT", "0"],
            ["SCAN", "0", "COUNT", "0", "FOO"],
            ["SCAN"],
            ["SET", "k", "v"],
            ["SCAN", "0"],
            ["SCAN", "0", "TYPE", "string"],
            ["SCAN", "0", "TYPE", "STRING"],
            ["SCAN", "0", "TYPE", "hash"],
            ["SCAN", "0", "TYPE", "nosuch"],
            ["SCAN", "0", "MATCH", "k*", "COUNT", "100"],
            ["SCAN", "0", "MATCH", "x*"],
            ["SCAN", "0", "match", "x*", "match", "k"],
            ["SCAN", "0", "TYPE", "string", "TYPE", "hash"],
            ["SCAN", "0", "COUNT", "9223372036854775807"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Object_subcommands_answer_as_redis(int protocol)
    {
        string[][] values =
        [
            ["i", "123"], ["zero", "0"], ["neg", "-5"], ["max", "9223372036854775807"], ["over", "9223372036854775808"],
            ["lead", "0123"], ["minus0", "-0"], ["space", " 1"], ["s", "hello"], ["e44", Chars44], ["r45", Chars44 + "x"],
            ["shared", "9999"], ["unshared", "10000"], ["empty", ""],
        ];
        var commands = new List<string[]>
        {
            new[] { "OBJECT" },
            new[] { "OBJECT", "HELP" },
            new[] { "OBJECT", "help" },
            new[] { "OBJECT", "HELP", "x" },
            new[] { "OBJECT", "FOO" },
            new[] { "OBJECT", "FOO", "k" },
            new[] { "OBJECT", "ENCODING" },
            new[] { "OBJECT", "ENCODING", "a", "b" },
            new[] { "OBJECT", "ENCODING", "nope" },
            new[] { "OBJECT", "FREQ", "nope" },
            new[] { "OBJECT", "IDLETIME", "nope" },
            new[] { "OBJECT", "REFCOUNT", "nope" },
        };
        foreach (var kv in values)
        {
            commands.Add(["SET", kv[0], kv[1]]);
            commands.Add(["OBJECT", "ENCODING", kv[0]]);
            commands.Add(["OBJECT", "refcount", kv[0]]);
        }
        commands.Add(["OBJECT", "FREQ", "s"]);
        servers.AssertSameReplies(protocol, [.. commands]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Keys_randomkey_touch_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["RANDOMKEY"],
            ["KEYS", "*"],
            ["SET", "only", "v"],
            ["RANDOMKEY"],
            ["KEYS", "*"],
            ["KEYS", "o?ly"],
            ["KEYS", "[a-o]nly"],
            ["KEYS", "x"],
            ["KEYS", ""],
            ["TOUCH", "only", "nope", "only"],
            ["TOUCH", "nope"],
            ["TOUCH"],
            ["KEYS"],
            ["KEYS", "a", "b"],
            ["RANDOMKEY", "x"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Binary_keys_answer_as_redis(int protocol)
    {
        const string binary = "a\0b\r\nc";
        const string other = "\u00e9\0\n";
        servers.AssertSameReplies(
            protocol,
            ["SET", binary, "v"],
            ["TYPE", binary],
            ["EXPIRE", binary, "100"],
            ["TTL", binary],
            ["KEYS", "a?b*"],
            ["SCAN", "0", "MATCH", "a\0b*"],
            ["RENAME", binary, other],
            ["EXISTS", binary],
            ["TTL", other],
            ["COPY", other, binary],
            ["GET", binary],
            ["MOVE", binary, "3"],
            ["OBJECT", "ENCODING", other],
            ["RANDOMKEY"],
            ["PERSIST", other],
            ["SET", "", "empty key"],
            ["TYPE", ""],
            ["RENAME", "", "e"],
            ["GET", "e"],
            ["DEL", other, "e"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Generic_commands_on_sorted_sets_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["ZADD", "z", "1", "a", "2", "b"],
            ["TYPE", "z"],
            ["OBJECT", "ENCODING", "z"],
            ["OBJECT", "REFCOUNT", "z"],
            ["SCAN", "0", "TYPE", "zset"],
            ["SCAN", "0", "TYPE", "string"],
            ["EXPIRE", "z", "100"],
            ["COPY", "z", "z2"],
            ["ZADD", "z2", "3", "c"],
            ["ZRANGE", "z", "0", "-1"],
            ["ZRANGE", "z2", "0", "-1"],
            ["TTL", "z2"],
            ["COPY", "z", "z2", "DB", "1", "REPLACE"],
            ["RENAME", "z2", "z3"],
            ["ZCARD", "z3"],
            ["MOVE", "z3", "1"],
            ["SET", "s", "v"],
            ["RENAME", "s", "z"],
            ["TYPE", "z"],
            ["SELECT", "1"],
            ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
            ["ZRANGE", "z3", "0", "-1"],
            ["TTL", "z"]);
    }

    [Fact]
    public void Keys_patterns_match_as_redis()
    {
        string[] keys =
        [
            "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h]llo", "h-llo", "hbllo", "hEllo",
            "foo", "foobar", "bar", "a\\b", "[abc", "a", "b", "-", "]", "user:1", "user:22", "user:333", "x\0y",
        ];
        string[] patterns =
        [
            "*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "h\\*llo", "h\\?llo", "h[\\]]llo",
            "h[a-c-e]llo", "[a-]", "[-a]", "[abc", "[]", "[^]", "a\\\\b", "a\\", "\\", "user:?", "user:*", "user:[0-9][0-9]",
            "*o*", "**", "*?", "?", "f*r", "x?y", "x\0*", "[^a-z]*", "h[E]llo",
        ];
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        foreach (var client in new[] { redis, node })
        {
            client.Call("FLUSHALL");
            foreach (var key in keys)
            {
                client.Call("SET", key, "v");
            }
        }
        foreach (var pattern in patterns)
        {
            var expected = Sorted(redis.Call("KEYS", pattern));
            Assert.Equal(expected, Sorted(node.Call("KEYS", pattern)));
            // A full SCAN with the same MATCH finds the same keys.
            Assert.Equal(expected, ScanAll(node, "MATCH", pattern).Order(StringComparer.Ordinal).ToArray());
        }
    }

    [Fact]
    public void Scan_full_iteration_returns_every_key_present_throughout_while_keys_come_and_go()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SELECT", "2");
        const int initial = 10_000;
        var random = new Random(12345);
        Pipeline(client, Enumerable.Range(0, initial).Select(i => new[] { "SET", $"key:{i}", "v" }));
        // Keys whose number is a multiple of 3 may be deleted during the iteration; the others stay throughout.
        var deletable = Enumerable.Range(0, initial).Where(i => i % 3 == 0).Select(i => $"key:{i}").ToList();
        var stable = Enumerable.Range(0, initial).Where(i => i % 3 != 0).Select(i => $"key:{i}").ToHashSet();
        var everExisted = Enumerable.Range(0, initial).Select(i => $"key:{i}").ToHashSet();
        var returned = new List<string>();
        int added = 0;
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = client.Call("SCAN", cursor, "COUNT", "100");
            cursor = reply.Elements[0].Text!;
            returned.AddRange(reply.Elements[1].Texts!);
            calls++;
            var churn = new List<string[]>();
            for (int n = 0; n < 20 && deletable.Count > 0; n++)
            {
                int pick = random.Next(deletable.Count);
                churn.Add(["DEL", deletable[pick]]);
                deletable.RemoveAt(pick);
            }
            for (int n = 0; n < 30; n++)
            {
                string key = $"new:{added++}";
                everExisted.Add(key);
                churn.Add(["SET", key, "v"]);
            }
            Pipeline(client, churn);
        }
        while (cursor != "0");

        Assert.True(calls > 10, $"a COUNT 100 scan of 10k keys took only {calls} calls");
        var seen = returned.ToHashSet();
        var missed = stable.Where(k => !seen.Contains(k)).ToList();
        Assert.True(missed.Count == 0, $"{missed.Count} keys present throughout were not returned, e.g. {string.Join(", ", missed.Take(5))}");
        var invented = seen.Where(k => !everExisted.Contains(k)).ToList();
        Assert.True(invented.Count == 0, $"returned keys that never existed: {string.Join(", ", invented.Take(5))}");
        // Entries never move, so no key is returned twice either.
        Assert.Equal(returned.Count, seen.Count);
    }

    [Fact]
    public void Scan_filters_by_type_and_count_bounds_each_call()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        lock (servers.Node.Server.Keyspace.Sync)
        {
            servers.Node.Server.Keyspace[0].Set("list1"u8, new FakeList(["a"u8.ToArray()]));
            servers.Node.Server.Keyspace[0].Set("list2"u8, new FakeList(["b"u8.ToArray()]));
        }
        Pipeline(client, Enumerable.Range(0, 50).Select(i => new[] { "SET", $"s{i}", "v" }));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"s{i}").Order(StringComparer.Ordinal), ScanAll(client, "TYPE", "string").Order(StringComparer.Ordinal));
        Assert.Equal(["list1", "list2"], ScanAll(client, "TYPE", "LIST").Order(StringComparer.Ordinal));
        Assert.Empty(ScanAll(client, "TYPE", "hash"));
        Assert.Equal(["list1"], ScanAll(client, "TYPE", "list", "MATCH", "*1"));
        Assert.Equal("list", client.Call("TYPE", "list1").Text);

        var first = client.Call("SCAN", "0", "COUNT", "5");
        Assert.NotEqual("0", first.Elements[0].Text);
        Assert.InRange(first.Elements[1].Elements.Count, 1, 5);
        var all = client.Call("SCAN", "0", "COUNT", "1000");
        Assert.Equal("0", all.Elements[0].Text);
        Assert.Equal(52, all.Elements[1].Elements.Count);
    }

    [Fact]
    public void Copy_clones_collections_deeply()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        var original = new FakeList(["a"u8.ToArray()]);
        lock (servers.Node.Server.Keyspace.Sync)
        {
            servers.Node.Server.Keyspace[0].Set("src"u8, original);
        }
        client.Call("EXPIRE", "src", "1000");
        Assert.Equal(1, client.Call("COPY", "src", "dst").Integer);
        Assert.Equal(1, client.Call("COPY", "src", "dst", "DB", "4").Integer);
        Assert.Equal("list", client.Call("TYPE", "dst").Text);
        Assert.Equal("fakelist", client.Call("OBJECT", "ENCODING", "dst").Text);
        Assert.InRange(client.Call("TTL", "dst").Integer, 990, 1000);
        lock (servers.Node.Server.Keyspace.Sync)
        {
            var keyspace = servers.Node.Server.Keyspace;
            var copy = Assert.IsType<FakeList>(keyspace[0].Get("dst"u8));
            var other = Assert.IsType<FakeList>(keyspace[4].Get("dst"u8));
            Assert.NotSame(original, copy);
            Assert.NotSame(original, other);
            original.Items[0][0] = (byte)'z';
            original.Items.Add("b"u8.ToArray());
            Assert.Equal(["a"], copy.Items.Select(Encoding.UTF8.GetString));
            Assert.Equal(["a"], other.Items.Select(Encoding.UTF8.GetString));
        }
        // Strings are copied too, since commands like SETRANGE may change a stored array in place.
        client.Call("SET", "s", "value");
        client.Call("COPY", "s", "s2");
        lock (servers.Node.Server.Keyspace.Sync)
        {
            var db = servers.Node.Server.Keyspace[0];
            Assert.NotSame(db.Get("s"u8), db.Get("s2"u8));
        }
        Assert.Equal("value", client.Call("GET", "s2").Text);
    }

    [Fact]
    public void Move_and_rename_keep_value_and_ttl()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SET", "k", "v", "EX", "1000");
        Assert.Equal("OK", client.Call("RENAME", "k", "k").Text);
        Assert.Equal(0, client.Call("RENAMENX", "k", "k").Integer);
        Assert.InRange(client.Call("TTL", "k").Integer, 990, 1000);
        Assert.Equal("ERR source and destination objects are the same", client.Call("MOVE", "k", "0").Text);
        Assert.Equal(1, client.Call("MOVE", "k", "5").Integer);
        Assert.Equal(0, client.Call("EXISTS", "k").Integer);
        client.Call("SELECT", "5");
        Assert.Equal("v", client.Call("GET", "k").Text);
        Assert.InRange(client.Call("TTL", "k").Integer, 990, 1000);
        Assert.Equal("OK", client.Call("RENAME", "k", "r").Text);
        Assert.Equal("v", client.Call("GET", "r").Text);
        Assert.InRange(client.Call("TTL", "r").Integer, 990, 1000);
        Assert.Equal(1, client.Call("DBSIZE").Integer);
    }

    [Fact]
    public void Expired_key_reads_as_missing()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SET", "k", "v", "PX", "100");
        // -2 when the machine stalled past the 100 ms already.
        Assert.True(client.Call("PTTL", "k").Integer is -2 or (>= 1 and <= 100));
        Thread.Sleep(300);
        Assert.Equal(RespKind.Null, client.Call("GET", "k").Kind);
        Assert.Equal(0, client.Call("EXISTS", "k").Integer);
        Assert.Equal(-2, client.Call("TTL", "k").Integer);
        Assert.Equal(0, client.Call("EXPIRE", "k", "100").Integer);
        Assert.Equal(0, client.Call("PERSIST", "k").Integer);
        Assert.Equal("ERR no such key", client.Call("RENAME", "k", "x").Text);
    }

    [Fact]
    public void Expired_keys_nobody_reads_are_reclaimed_actively()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SELECT", "3");
        Pipeline(client, Enumerable.Range(0, 500).Select(i => new[] { "SET", $"e{i}", "v", "PX", "100" }));
        client.Call("SET", "stays", "v");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        long size;
        while ((size = client.Call("DBSIZE").Integer) > 1 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(100);
        }
        Assert.Equal(1, size);
        Assert.Equal("v", client.Call("GET", "stays").Text);
    }

    [Fact]
    public void Ttl_rounds_to_the_nearest_second()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SET", "k", "v", "PX", "100400");
        // Rounded, not truncated: 100 unless the machine stalled between the two commands (then less, never more).
        Assert.InRange(client.Call("TTL", "k").Integer, 90, 100);
        Assert.InRange(client.Call("PTTL", "k").Integer, 90_000, 100_400);
        client.Call("PEXPIRE", "k", "100600");
        // 101 shows the rounding; a stall of more than 100 ms makes it 100 or less.
        Assert.InRange(client.Call("TTL", "k").Integer, 90, 101);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.InRange(client.Call("PEXPIRETIME", "k").Integer, now + 90_000, now + 100_600);
    }

    [Fact]
    public void Randomkey_skips_and_deletes_expired_keys()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SELECT", "4");
        Pipeline(client, Enumerable.Range(0, 50).Select(i => new[] { "SET", $"gone{i}", "v", "PX", "1" }));
        client.Call("SET", "stays", "v");
        Thread.Sleep(50);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal("stays", client.Call("RANDOMKEY").Text);
        }
        client.Call("DEL", "stays");
        Pipeline(client, Enumerable.Range(0, 20).Select(i => new[] { "SET", $"k{i}", "v" }));
        var seen = Enumerable.Range(0, 200).Select(_ => client.Call("RANDOMKEY").Text).ToHashSet();
        Assert.True(seen.Count > 5, $"RANDOMKEY returned only {seen.Count} distinct keys of 20");
        Assert.All(seen, k => Assert.StartsWith("k", k));
    }

    /// <summary>Seconds a loaded machine may take between two commands: idle times count whole seconds of the wall clock.</summary>
    private const long IdleSlack = 10;

    [Fact]
    public void Object_idletime_counts_from_the_last_access()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        client.Call("SET", "k", "v");
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "k").Integer, 0, IdleSlack);
        AgeKey("k", 100);
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "k").Integer, 100, 100 + IdleSlack);
        // TYPE, TTL, EXISTS and OBJECT look without touching.
        client.Call("TYPE", "k");
        client.Call("TTL", "k");
        client.Call("EXISTS", "k");
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "k").Integer, 100, 100 + IdleSlack);
        Assert.Equal(1, client.Call("TOUCH", "k", "nope").Integer);
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "k").Integer, 0, IdleSlack);
        AgeKey("k", 50);
        client.Call("GET", "k");
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "k").Integer, 0, IdleSlack);
        AgeKey("k", 50);
        client.Call("RENAME", "k", "r");
        Assert.InRange(client.Call("OBJECT", "IDLETIME", "r").Integer, 0, IdleSlack);
        Assert.Equal(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.",
            client.Call("OBJECT", "FREQ", "r").Text);
    }

    [Fact]
    public async Task Object_freq_and_idletime_follow_an_lfu_policy()
    {
        using var redisServer = RedisServerProcess.Start("--maxmemory-policy", "allkeys-lfu");
        await using var node = TestNode.Start("--maxmemory-policy", "allkeys-lfu");
        using var redis = redisServer.Client();
        using var client = node.Client();
        foreach (var c in new[] { redis, client })
        {
            c.Call("SET", "k", "v");
        }
        var expected = redis.Call("OBJECT", "IDLETIME", "k");
        Assert.True(expected.IsError);
        Assert.Equal(expected.Text, client.Call("OBJECT", "IDLETIME", "k").Text);
        var freq = client.Call("OBJECT", "FREQ", "k");
        Assert.Equal(RespKind.Integer, freq.Kind);
        Assert.InRange(freq.Integer, 0, 255);
        Assert.Equal(RespKind.Null, client.Call("OBJECT", "FREQ", "nope").Kind);
    }

    private void AgeKey(string key, uint seconds)
    {
        var keyspace = servers.Node.Server.Keyspace;
        lock (keyspace.Sync)
        {
            var db = keyspace[0];
            int index = db.Find(Encoding.UTF8.GetBytes(key), touch: false);
            db.Table[index].Access -= seconds;
        }
    }

    private static string[] Sorted(RespValue reply) => reply.Texts.Select(t => t!).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Every key a complete SCAN iteration returns, with extra options.</summary>
    private static List<string> ScanAll(RespClient client, params string[] options)
    {
        var keys = new List<string>();
        string cursor = "0";
        do
        {
            var reply = client.Call(["SCAN", cursor, "COUNT", "7", .. options]);
            cursor = reply.Elements[0].Text!;
            keys.AddRange(reply.Elements[1].Texts.Select(t => t!));
        }
        while (cursor != "0");
        return keys;
    }

    /// <summary>Sends commands in pipelined chunks and checks none failed.</summary>
    internal static void Pipeline(RespClient client, IEnumerable<string[]> commands)
    {
        foreach (var chunk in commands.Chunk(500))
        {
            foreach (var command in chunk)
            {
                client.Send(command);
            }
            foreach (var command in chunk)
            {
                var reply = client.Read();
                Assert.False(reply.IsError, $"{string.Join(' ', command)}: {reply}");
            }
        }
    }

    /// <summary>A stand-in collection (the list family lives elsewhere) to check generic commands on non-strings.</summary>
    private sealed class FakeList(List<byte[]> items) : ICollectionValue
    {
        public List<byte[]> Items { get; } = items;

        public string TypeName => "list";

        public string EncodingName => "fakelist";

        public long Count => Items.Count;

        public long EstimatedBytes => Items.Sum(i => (long)i.Length);

        public ICollectionValue Clone() => new FakeList(Items.Select(i => i.ToArray()).ToList());
    }
}
