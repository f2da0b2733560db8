using System.Globalization;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.Commands;

public class StringCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Runs the commands against redis-server and the node, from empty keyspaces, in RESP2 then RESP3.</summary>
    private void Same(params string[][] commands)
    {
        foreach (int protocol in new[] { 2, 3 })
        {
            ClearNode(servers.Node);
            servers.AssertSameReplies(protocol, commands);
        }
    }

    /// <summary>Empties every database of the node directly, so runs do not depend on FLUSHALL being served.</summary>
    internal static void ClearNode(TestNode node)
    {
        var keyspace = node.Server.Keyspace;
        lock (keyspace.Sync)
        {
            for (int i = 0; i < keyspace.DatabaseCount; i++)
            {
                keyspace[i].Clear();
            }
        }
    }

    [Fact]
    public void Setnx_setex_psetex_answer_as_redis()
    {
        Same(
            ["SETNX", "k", "1"],
            ["SETNX", "k", "2"],
            ["GET", "k"],
            ["SETNX", "k"],
            ["SETNX", "k", "1", "2"],
            ["SETEX", "k", "100", "v"],
            ["GET", "k"],
            ["SETEX", "k", "0", "v"],
            ["SETEX", "k", "-1", "v"],
            ["SETEX", "k", "abc", "v"],
            ["SETEX", "k", "1.5", "v"],
            ["SETEX", "k", "9223372036854775807", "v"],
            ["SETEX", "k", "9223372036854775", "v"],
            ["SETEX", "k", "9223372036854776", "v"],
            ["SETEX", "k", "10"],
            ["PSETEX", "k", "100000", "w"],
            ["GET", "k"],
            ["PSETEX", "k", "0", "v"],
            ["PSETEX", "k", "-100", "v"],
            ["PSETEX", "k", "9223372036854775807", "v"],
            ["PSETEX", "k", "x", "v"],
            ["GET", "k"]);
    }

    [Fact]
    public void Getset_getdel_answer_as_redis()
    {
        Same(
            ["GETSET", "k", "a"],
            ["GETSET", "k", "b"],
            ["GET", "k"],
            ["GETSET", "k"],
            ["GETDEL", "k"],
            ["GETDEL", "k"],
            ["GET", "k"],
            ["GETDEL", "k", "x"],
            ["SET", "e", ""],
            ["GETDEL", "e"],
            ["EXISTS", "e"]);
    }

    [Fact]
    public void Getex_options_and_errors_answer_as_redis()
    {
        Same(
            ["GETEX", "missing"],
            ["GETEX", "missing", "EX", "abc"],
            ["GETEX", "missing", "EX", "0"],
            ["GETEX", "missing", "FOO"],
            ["SET", "k", "v"],
            ["GETEX", "k"],
            ["GETEX", "k", "EX", "100"],
            ["GETEX", "k", "px", "100000"],
            ["GETEX", "k", "EXAT", "99999999999"],
            ["GETEX", "k", "PXAT", "99999999999000"],
            ["GETEX", "k", "PERSIST"],
            ["GETEX", "k", "persist", "PERSIST"],
            ["GETEX", "k", "EX", "10", "EX", "20"],
            ["GETEX", "k", "EX", "10", "PX", "20"],
            ["GETEX", "k", "EX", "10", "PERSIST"],
            ["GETEX", "k", "PERSIST", "EX", "10"],
            ["GETEX", "k", "KEEPTTL"],
            ["GETEX", "k", "NX"],
            ["GETEX", "k", "GET"],
            ["GETEX", "k", "EX"],
            ["GETEX", "k", "PX"],
            ["GETEX", "k", "EX", "abc"],
            ["GETEX", "k", "EX", "0"],
            ["GETEX", "k", "EX", "-1"],
            ["GETEX", "k", "PX", "0"],
            ["GETEX", "k", "EXAT", "0"],
            ["GETEX", "k", "EX", "9223372036854775807"],
            ["GETEX", "k", "PX", "9223372036854775807"],
            ["GETEX", "k", "FOO"],
            ["GET", "k"],
            ["GETEX", "k", "PXAT", "1"],
            ["GET", "k"],
            ["EXISTS", "k"],
            ["SET", "k", "v"],
            ["GETEX", "k", "EXAT", "1"],
            ["GET", "k"],
            ["GETEX"]);
    }

    [Fact]
    public void Set_option_repetitions_and_conflicts_answer_as_redis()
    {
        Same(
            ["SET", "k", "v", "NX", "NX"],
            ["SET", "k", "v", "XX", "XX"],
            ["SET", "k", "v", "GET", "GET"],
            ["SET", "k", "v", "EX", "10", "EX", "20"],
            ["SET", "k", "v", "EX", "10", "PX", "20"],
            ["SET", "k", "v", "PX", "10", "EXAT", "20"],
            ["SET", "k", "v", "KEEPTTL", "KEEPTTL"],
            ["SET", "k", "v", "EX", "10", "KEEPTTL"],
            ["SET", "k", "v", "KEEPTTL", "PXAT", "99999999999999"],
            ["SET", "k", "v", "PERSIST"],
            ["SET", "k", "v", "EX", "abc", "FOO"],
            ["SET", "k", "v", "EX", "abc", "NX", "XX"],
            ["SET", "k", "v", "EX"],
            ["SET", "k", "v", "NX", "GET"],
            ["SET", "new", "v", "NX", "GET"],
            ["SET", "k", "w", "XX", "GET", "EX", "100"],
            ["SET", "other", "w", "XX", "GET"],
            ["GET", "k"],
            ["GET", "other"]);
    }

    [Fact]
    public void Mget_mset_msetnx_answer_as_redis()
    {
        Same(
            ["MSET", "a", "1", "b", "2"],
            ["MGET", "a", "b", "c", "a"],
            ["MSET", "a", "1", "b"],
            ["MSET", "a"],
            ["MSET", "a", "x", "a", "y"],
            ["GET", "a"],
            ["MSETNX", "c", "3", "d", "4"],
            ["MSETNX", "d", "5", "e", "6"],
            ["MGET", "c", "d", "e"],
            ["MSETNX", "e", "1", "f"],
            ["MSETNX", "e", "1", "e", "2"],
            ["GET", "e"],
            ["MGET"],
            ["MGET", "nothing"]);
    }

    [Fact]
    public void Incr_family_answers_as_redis_including_overflow_and_bad_values()
    {
        Same(
            ["INCR", "n"],
            ["INCR", "n"],
            ["DECR", "n"],
            ["DECR", "n"],
            ["DECR", "n"],
            ["INCRBY", "n", "100"],
            ["INCRBY", "n", "-200"],
            ["DECRBY", "n", "-5"],
            ["DECRBY", "n", "5"],
            ["GET", "n"],
            ["INCRBY", "n", "abc"],
            ["INCRBY", "n", "1.5"],
            ["INCRBY", "n", " 1"],
            ["INCRBY", "n", "9223372036854775808"],
            ["DECRBY", "n", "-9223372036854775808"],
            ["DECRBY", "fresh", "-9223372036854775808"],
            ["SET", "max", "9223372036854775807"],
            ["INCR", "max"],
            ["INCRBY", "max", "0"],
            ["DECRBY", "max", "-1"],
            ["INCRBY", "max", "-9223372036854775807"],
            ["GET", "max"],
            ["SET", "min", "-9223372036854775808"],
            ["DECR", "min"],
            ["INCRBY", "min", "-1"],
            ["DECRBY", "min", "9223372036854775807"],
            ["INCRBY", "min", "9223372036854775807"],
            ["GET", "min"],
            ["SET", "s", "abc"],
            ["INCR", "s"],
            ["SET", "s", "12abc"],
            ["DECR", "s"],
            ["SET", "s", " 12"],
            ["INCR", "s"],
            ["SET", "s", "012"],
            ["INCR", "s"],
            ["SET", "s", "+12"],
            ["INCR", "s"],
            ["SET", "s", "-0"],
            ["INCR", "s"],
            ["SET", "s", "1.0"],
            ["INCR", "s"],
            ["SET", "s", ""],
            ["INCR", "s"],
            ["SET", "s", "9223372036854775808"],
            ["INCR", "s"],
            ["SET", "s", "-12"],
            ["INCR", "s"],
            ["GET", "s"],
            ["INCR", "s", "x"],
            ["INCRBY", "s"]);
    }

    [Fact]
    public void Incr_keeps_the_ttl_and_set_clears_it()
    {
        using var node = servers.Node.Client();
        Assert.Equal("OK", node.Call("SET", "incr:ttl", "5", "PX", "300").Text);
        Assert.Equal(6, node.Call("INCR", "incr:ttl").Integer);
        Assert.True(WaitUntilGone(node, "incr:ttl"), "INCR must keep the key's expiry");

        Assert.Equal("OK", node.Call("SET", "getset:ttl", "5", "PX", "300").Text);
        Assert.Equal("5", node.Call("GETSET", "getset:ttl", "6").Text);
        Thread.Sleep(800);
        Assert.Equal("6", node.Call("GET", "getset:ttl").Text);
    }

    [Fact]
    public void Incrbyfloat_answers_as_redis_with_long_double_precision_and_formatting()
    {
        Same(
            ["SET", "f", "10.50"],
            ["INCRBYFLOAT", "f", "0.1"],
            ["INCRBYFLOAT", "f", "-5"],
            ["INCRBYFLOAT", "f", "2.0e2"],
            ["INCRBYFLOAT", "g", "0.1"],
            ["INCRBYFLOAT", "g", "0.2"],
            ["INCRBYFLOAT", "g", "5e3"],
            ["INCRBYFLOAT", "g", "-5000.3"],
            ["GET", "g"],
            ["INCRBYFLOAT", "big", "1e300"],
            ["INCRBYFLOAT", "big", "1e4000"],
            ["INCRBYFLOAT", "big", "-1e4000"],
            ["INCRBYFLOAT", "tiny", "1e-20"],
            ["INCRBYFLOAT", "tiny2", "-1e-20"],
            ["INCRBYFLOAT", "tiny3", "-0.000000000000000005"],
            ["INCRBYFLOAT", "tiny4", "0.000000000000000015"],
            ["INCRBYFLOAT", "tiny5", "1e-4950"],
            ["INCRBYFLOAT", "tiny6", "1e-5000"],
            ["INCRBYFLOAT", "hex", "0x10"],
            ["INCRBYFLOAT", "hex", "0x1.8p1"],
            ["INCRBYFLOAT", "hex", "0x"],
            ["INCRBYFLOAT", "hex", "0X.8P-1"],
            ["INCRBYFLOAT", "hex", "0x1p"],
            ["INCRBYFLOAT", "long", "0.12345678901234567890123456789"],
            ["INCRBYFLOAT", "long", "123456789012345678901234567890"],
            ["INCRBYFLOAT", "long", "-123456789012345678901234567890.5"],
            ["INCRBYFLOAT", "long", "0.000000000000000000000000000000000000001e39"],
            ["INCRBYFLOAT", "half", "0.000003814697265625"],
            ["INCRBYFLOAT", "half", "0.000011444091796875"],
            ["INCRBYFLOAT", "half", "1.000000000000000005"],
            ["INCRBYFLOAT", "half", "1.000000000000000015"],
            ["INCRBYFLOAT", "sub", "4e-4951"],
            ["INCRBYFLOAT", "sub", "1e-4951"],
            ["INCRBYFLOAT", "sub", "0x1p-16445"],
            ["INCRBYFLOAT", "sub", "0x1p-16446"],
            ["INCRBYFLOAT", "edge", "1.189731495357231765e4932"],
            ["INCRBYFLOAT", "edge", "1.18973149535723176502e+4932"],
            ["INCRBYFLOAT", "edge", "1.1897314953572317651e+4932"],
            ["INCRBYFLOAT", "zeros", "0e999999999999"],
            ["INCRBYFLOAT", "zeros", "-0.0e-5"],
            ["INCRBYFLOAT", "z", "00000000000000000000000000000000000000000001.5"],
            ["INCRBYFLOAT", "neg0", "-0"],
            ["INCRBYFLOAT", "n", ".5"],
            ["INCRBYFLOAT", "n", "5."],
            ["INCRBYFLOAT", "n", "."],
            ["INCRBYFLOAT", "n", "+3"],
            ["INCRBYFLOAT", "n", "1e"],
            ["INCRBYFLOAT", "n", "1e+"],
            ["INCRBYFLOAT", "n", "1E+2"],
            ["INCRBYFLOAT", "n", " 1"],
            ["INCRBYFLOAT", "n", "1 "],
            ["INCRBYFLOAT", "n", ""],
            ["INCRBYFLOAT", "n", "abc"],
            ["INCRBYFLOAT", "n", "nan"],
            ["INCRBYFLOAT", "n", "inf"],
            ["INCRBYFLOAT", "n", "-infinity"],
            ["INCRBYFLOAT", "n", "1e5000"],
            ["INCRBYFLOAT", "n", "1.18e4932"],
            ["INCRBYFLOAT", "n", "1.18e4932"],
            ["GET", "n"],
            ["SET", "s", "abc"],
            ["INCRBYFLOAT", "s", "1"],
            ["INCRBYFLOAT", "s", "abc"],
            ["SET", "s", "inf"],
            ["INCRBYFLOAT", "s", "1"],
            ["SET", "s", "9223372036854775807"],
            ["INCRBYFLOAT", "s", "1"],
            ["SET", "s", "3"],
            ["INCRBYFLOAT", "s", "0"],
            ["INCRBYFLOAT", "s", "1.5"],
            ["INCR", "s"],
            ["INCRBYFLOAT", "s"]);
    }

    [Fact]
    public void Incrbyfloat_matches_redis_on_many_random_increments()
    {
        var random = new Random(20240611);
        var commands = new List<string[]>();
        for (int i = 0; i < 300; i++)
        {
            string key = "f" + (i % 7).ToString(CultureInfo.InvariantCulture);
            string increment = random.Next(4) switch
            {
                0 => (random.NextDouble() * 1000 - 500).ToString("R", CultureInfo.InvariantCulture),
                1 => random.Next(-100000, 100000).ToString(CultureInfo.InvariantCulture) + "." + random.Next(0, 1000).ToString("D3", CultureInfo.InvariantCulture),
                2 => (random.NextDouble() * 2 - 1).ToString("E5", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal),
                _ => "0." + random.NextInt64(0, long.MaxValue).ToString(CultureInfo.InvariantCulture),
            };
            commands.Add(["INCRBYFLOAT", key, increment]);
        }
        ClearNode(servers.Node);
        servers.AssertSameReplies(2, [.. commands]);
    }

    [Fact]
    public void Append_strlen_answer_as_redis_with_binary_values()
    {
        Same(
            ["APPEND", "k", "hello"],
            ["APPEND", "k", " world"],
            ["APPEND", "k", ""],
            ["APPEND", "k", "\0\r\n\0"],
            ["GET", "k"],
            ["STRLEN", "k"],
            ["APPEND", "e", ""],
            ["EXISTS", "e"],
            ["STRLEN", "e"],
            ["STRLEN", "missing"],
            ["SET", "n", "12"],
            ["APPEND", "n", "34"],
            ["INCR", "n"],
            ["STRLEN", "n"],
            ["APPEND", "k"],
            ["STRLEN"],
            ["STRLEN", "a", "b"]);
    }

    [Fact]
    public void Getrange_and_substr_answer_as_redis_for_every_kind_of_range()
    {
        var commands = new List<string[]>
        {
            new[] { "SET", "k", "This is a string" },
            new[] { "SET", "bin", "a\0b\r\nc" },
            new[] { "SET", "empty", "" },
            new[] { "SET", "num", "-12345" },
        };
        string[] indexes = ["0", "3", "-3", "-1", "-100", "100", "15", "16", "9223372036854775807", "-9223372036854775808"];
        foreach (string key in new[] { "k", "bin", "empty", "num", "missing" })
        {
            foreach (string start in indexes)
            {
                foreach (string end in indexes)
                {
                    commands.Add(["GETRANGE", key, start, end]);
                }
            }
        }
        commands.Add(["SUBSTR", "k", "0", "3"]);
        commands.Add(["SUBSTR", "k", "-3", "-1"]);
        commands.Add(["GETRANGE", "k", "a", "1"]);
        commands.Add(["GETRANGE", "k", "1", "b"]);
        commands.Add(["GETRANGE", "missing", "a", "1"]);
        commands.Add(["GETRANGE", "k", "1"]);
        Same([.. commands]);
    }

    [Fact]
    public void Setrange_answers_as_redis()
    {
        Same(
            ["SET", "k", "Hello World"],
            ["SETRANGE", "k", "6", "Redis"],
            ["GET", "k"],
            ["SETRANGE", "k", "20", "!"],
            ["GET", "k"],
            ["SETRANGE", "k", "0", ""],
            ["SETRANGE", "k", "100", ""],
            ["STRLEN", "k"],
            ["SETRANGE", "new", "3", "a\0\r\n"],
            ["GET", "new"],
            ["SETRANGE", "none", "5", ""],
            ["EXISTS", "none"],
            ["SETRANGE", "k", "-1", "x"],
            ["SETRANGE", "k", "abc", "x"],
            ["SETRANGE", "k", "536870911", "xy"],
            ["SETRANGE", "k", "536870912", "x"],
            ["SETRANGE", "k", "9223372036854775807", "x"],
            ["SETRANGE", "missing", "536870912", "x"],
            ["SETRANGE", "missing", "-1", ""],
            ["SET", "n", "12345"],
            ["SETRANGE", "n", "1", "9"],
            ["INCR", "n"],
            ["SETRANGE", "k", "1"]);
    }

    [Fact]
    public async Task Growth_past_proto_max_bulk_len_is_refused_as_redis_does()
    {
        using var redis = RedisServerProcess.Start("--proto-max-bulk-len", "1mb");
        await using var limitedNode = TestNode.Start("--proto-max-bulk-len", "1mb");
        using var r = redis.Client();
        using var n = limitedNode.Client();
        var big = new string('x', 600 * 1024);
        string[][] commands =
        [
            ["SETRANGE", "k", "1048575", "x"],
            ["SETRANGE", "k", "1048575", "xy"],
            ["SETRANGE", "k", "1048576", "x"],
            ["STRLEN", "k"],
            ["SET", "a", big],
            ["APPEND", "a", big],
            ["APPEND", "a", new string('y', 1024 * 1024 - 600 * 1024)],
            ["APPEND", "a", "z"],
            ["STRLEN", "a"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(r.Call(command).ToString(), n.Call(command).ToString());
        }
    }

    [Fact]
    public void Setex_and_getex_expiry_is_observed_by_get()
    {
        using var node = servers.Node.Client();
        Assert.Equal("OK", node.Call("SETEX", "setex:k", "1", "v").Text);
        Assert.Equal("v", node.Call("GET", "setex:k").Text);
        Assert.True(WaitUntilGone(node, "setex:k"), "SETEX key must expire");

        Assert.Equal("OK", node.Call("PSETEX", "psetex:k", "200", "v").Text);
        Assert.True(WaitUntilGone(node, "psetex:k"), "PSETEX key must expire");

        Assert.Equal("OK", node.Call("SET", "getex:k", "v").Text);
        Assert.Equal("v", node.Call("GETEX", "getex:k", "PX", "200").Text);
        Assert.True(WaitUntilGone(node, "getex:k"), "GETEX PX must set an expiry");

        Assert.Equal("OK", node.Call("SET", "persist:k", "v", "PX", "300").Text);
        Assert.Equal("v", node.Call("GETEX", "persist:k", "PERSIST").Text);
        Assert.Equal("OK", node.Call("SET", "keep:k", "v", "PX", "300").Text);
        Assert.Equal("v", node.Call("GETEX", "keep:k").Text);
        Assert.Equal(3, node.Call("APPEND", "keep:k", "xy").Integer);
        Thread.Sleep(900);
        Assert.Equal("v", node.Call("GET", "persist:k").Text);
        Assert.Equal(RespKind.Null, node.Call("GET", "keep:k").Kind);
    }

    [Fact]
    public void Mset_and_setex_replace_a_previous_ttl()
    {
        using var node = servers.Node.Client();
        Assert.Equal("OK", node.Call("SET", "mset:ttl", "v", "PX", "200").Text);
        Assert.Equal("OK", node.Call("MSET", "mset:ttl", "w").Text);
        Assert.Equal("OK", node.Call("SET", "setex:ttl", "v", "PX", "200").Text);
        Assert.Equal("OK", node.Call("SETEX", "setex:ttl", "100", "w").Text);
        Thread.Sleep(700);
        Assert.Equal("w", node.Call("GET", "mset:ttl").Text);
        Assert.Equal("w", node.Call("GET", "setex:ttl").Text);
    }

    [Fact]
    public void Commands_on_a_key_of_another_type_answer_as_redis()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        redis.Call("DEL", "wrong");
        redis.Call("RPUSH", "wrong", "x");
        var keyspace = servers.Node.Server.Keyspace;
        lock (keyspace.Sync)
        {
            keyspace[0].Set("wrong"u8, new FakeList());
        }
        string[][] commands =
        [
            ["GET", "wrong"],
            ["GETSET", "wrong", "v"],
            ["GETDEL", "wrong"],
            ["GETEX", "wrong"],
            ["GETEX", "wrong", "EX", "abc"],
            ["GETEX", "wrong", "FOO"],
            ["SET", "wrong", "v", "GET"],
            ["SETNX", "wrong", "v"],
            ["MSETNX", "wrong", "v"],
            ["MGET", "wrong", "nothing"],
            ["INCR", "wrong"],
            ["DECRBY", "wrong", "abc"],
            ["INCRBYFLOAT", "wrong", "1"],
            ["INCRBYFLOAT", "wrong", "abc"],
            ["APPEND", "wrong", "x"],
            ["STRLEN", "wrong"],
            ["GETRANGE", "wrong", "0", "1"],
            ["GETRANGE", "wrong", "x", "1"],
            ["SETRANGE", "wrong", "0", "x"],
            ["SETRANGE", "wrong", "0", ""],
            ["SETRANGE", "wrong", "-1", "x"],
            ["SETBIT", "wrong", "0", "1"],
            ["SETBIT", "wrong", "-1", "1"],
            ["GETBIT", "wrong", "0"],
            ["BITCOUNT", "wrong"],
            ["BITCOUNT", "wrong", "x"],
            ["BITPOS", "wrong", "1"],
            ["BITPOS", "wrong", "2"],
            ["SET", "wrong", "v"],
            ["GET", "wrong"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(redis.Call(command).ToString(), node.Call(command).ToString());
        }
    }

    [Fact]
    public void StackExchange_Redis_client_reads_and_writes_strings()
    {
        using var mux = ConnectionMultiplexer.Connect($"127.0.0.1:{servers.Node.Port},abortConnect=false,connectTimeout=5000");
        var db = mux.GetDatabase();
        Assert.True(db.StringSet("se:k", "hello"));
        Assert.Equal("hello", db.StringGet("se:k"));
        Assert.Equal(11, db.StringAppend("se:k", " world"));
        Assert.Equal("hello world", db.StringGet("se:k"));
        Assert.Equal(5, db.StringIncrement("se:n", 5));
        Assert.Equal(3, db.StringDecrement("se:n", 2));
        Assert.Equal(3.5, db.StringIncrement("se:n", 0.5));
        Assert.False(db.StringSet("se:k", "x", when: When.NotExists));
        Assert.Equal("hello world", db.StringGetSetExpiry("se:k", TimeSpan.FromSeconds(100)));
        var values = db.StringGet(["se:k", "se:missing", "se:n"]);
        Assert.Equal(["hello world", RedisValue.Null, "3.5"], values);
        Assert.Equal("ello", db.StringGetRange("se:k", 1, 4));
        Assert.Equal(11, db.StringLength("se:k"));
        Assert.True(db.StringSetBit("se:b", 7, true) == false);
        Assert.True(db.StringGetBit("se:b", 7));
        Assert.Equal(1, db.StringBitCount("se:b"));
        Assert.Equal("hello world", db.StringGetDelete("se:k"));
        Assert.False(db.KeyExists("se:k"));
    }

    /// <summary>Returns true once GET answers nil, polling for up to five seconds.</summary>
    internal static bool WaitUntilGone(RespClient client, string key)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            if (client.Call("GET", key).Kind == RespKind.Null)
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>A non-string value, standing in for a list until the list family exists.</summary>
    private sealed class FakeList : ICollectionValue
    {
        public string TypeName => "list";

        public string EncodingName => "listpack";

        public long Count => 1;

        public long EstimatedBytes => 16;

        public ICollectionValue Clone() => new FakeList();
    }
}
