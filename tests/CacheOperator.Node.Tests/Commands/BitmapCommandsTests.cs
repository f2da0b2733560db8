using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

public class BitmapCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private void Same(params string[][] commands)
    {
        foreach (int protocol in new[] { 2, 3 })
        {
            StringCommandsTests.ClearNode(servers.Node);
            servers.AssertSameReplies(protocol, commands);
        }
    }

    /// <summary>SETBIT commands that build <paramref name="bytes"/> under <paramref name="key"/> (any byte values, not only UTF-8 text).</summary>
    private static IEnumerable<string[]> Build(string key, params byte[] bytes)
    {
        yield return ["SETBIT", key, (bytes.Length * 8 - 1).ToString(CultureInfo.InvariantCulture), "0"];
        for (int i = 0; i < bytes.Length * 8; i++)
        {
            if ((bytes[i >> 3] & (1 << (7 - (i & 7)))) != 0)
            {
                yield return ["SETBIT", key, i.ToString(CultureInfo.InvariantCulture), "1"];
            }
        }
    }

    [Fact]
    public void Setbit_and_getbit_answer_as_redis()
    {
        Same(
            ["SETBIT", "k", "7", "1"],
            ["SETBIT", "k", "7", "1"],
            ["GET", "k"],
            ["GETBIT", "k", "7"],
            ["GETBIT", "k", "6"],
            ["GETBIT", "k", "100"],
            ["GETBIT", "missing", "0"],
            ["SETBIT", "k", "7", "0"],
            ["SETBIT", "k", "7", "0"],
            ["SETBIT", "k", "100", "1"],
            ["STRLEN", "k"],
            ["GET", "k"],
            ["SETBIT", "k", "-1", "1"],
            ["SETBIT", "k", "4294967296", "1"],
            ["SETBIT", "k", "9223372036854775807", "1"],
            ["SETBIT", "k", "abc", "1"],
            ["SETBIT", "k", "1.5", "1"],
            ["SETBIT", "k", "1", "2"],
            ["SETBIT", "k", "1", "-1"],
            ["SETBIT", "k", "1", "abc"],
            ["SETBIT", "k", "abc", "abc"],
            ["SETBIT", "k", "1", ""],
            ["GETBIT", "k", "-1"],
            ["GETBIT", "k", "4294967296"],
            ["GETBIT", "k", "4294967295"],
            ["GETBIT", "k", "x"],
            ["SET", "s", "a\0\r\n"],
            ["GETBIT", "s", "1"],
            ["GETBIT", "s", "2"],
            ["SETBIT", "s", "9", "1"],
            ["GET", "s"],
            ["SET", "n", "12"],
            ["GETBIT", "n", "2"],
            ["GETBIT", "n", "3"],
            ["SETBIT", "n", "15", "1"],
            ["GET", "n"],
            ["SETBIT", "e", "0", "0"],
            ["GET", "e"],
            ["SETBIT", "k", "1"],
            ["GETBIT", "k"],
            ["GETBIT", "k", "1", "2"]);
    }

    [Fact]
    public void Setbit_keeps_the_ttl()
    {
        using var node = servers.Node.Client();
        Assert.Equal("OK", node.Call("SET", "setbit:ttl", "a", "PX", "300").Text);
        Assert.Equal(0, node.Call("SETBIT", "setbit:ttl", "100", "1").Integer);
        Assert.True(StringCommandsTests.WaitUntilGone(node, "setbit:ttl"), "SETBIT must keep the key's expiry");
    }

    [Fact]
    public void Bitcount_answers_as_redis_for_ranges_units_and_errors()
    {
        var commands = new List<string[]>();
        commands.AddRange(Build("k", 0xFF, 0xF0, 0x00, 0x0F, 0xAA, 0x55, 0x01, 0x80, 0xFF, 0x7E));
        commands.Add(["SET", "empty", ""]);
        commands.Add(["SET", "text", "foobar"]);
        string[] indexes = ["0", "1", "2", "-1", "-2", "-3", "5", "9", "10", "13", "79", "80", "-80", "-81", "100", "-100", "9223372036854775807", "-9223372036854775808"];
        foreach (string key in new[] { "k", "empty", "text" })
        {
            commands.Add(["BITCOUNT", key]);
            foreach (string start in indexes)
            {
                foreach (string end in indexes)
                {
                    commands.Add(["BITCOUNT", key, start, end]);
                    commands.Add(["BITCOUNT", key, start, end, "BIT"]);
                }
            }
            commands.Add(["BITCOUNT", key, "1", "3", "byte"]);
        }
        commands.AddRange(
        [
            ["BITCOUNT", "missing"],
            ["BITCOUNT", "missing", "0"],
            ["BITCOUNT", "missing", "a", "b", "c"],
            ["BITCOUNT", "k", "0"],
            ["BITCOUNT", "k", "0", "1", "BITS"],
            ["BITCOUNT", "k", "0", "1", "BIT", "x"],
            ["BITCOUNT", "k", "a", "1"],
            ["BITCOUNT", "k", "1", "b"],
            ["BITCOUNT", "k", "a", "1", "FOO"],
            ["BITCOUNT", "k", "-1", "-2", "FOO"],
            ["BITCOUNT"],
        ]);
        Same([.. commands]);
    }

    [Fact]
    public void Bitpos_answers_as_redis_for_ranges_units_and_errors()
    {
        var commands = new List<string[]>();
        commands.AddRange(Build("k", 0x00, 0x00, 0x0F, 0xFF, 0xFF, 0xF0, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE));
        commands.AddRange(Build("ones", 0xFF, 0xFF, 0xFF));
        commands.AddRange(Build("zeros", 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00));
        commands.Add(["SET", "empty", ""]);
        string[] indexes = ["0", "1", "2", "-1", "-2", "3", "7", "8", "9", "17", "23", "24", "63", "64", "-24", "100", "-100", "9223372036854775807", "-9223372036854775808"];
        foreach (string key in new[] { "k", "ones", "zeros", "empty", "missing" })
        {
            foreach (string bit in new[] { "0", "1" })
            {
                commands.Add(["BITPOS", key, bit]);
                foreach (string start in indexes)
                {
                    commands.Add(["BITPOS", key, bit, start]);
                    foreach (string end in indexes)
                    {
                        commands.Add(["BITPOS", key, bit, start, end]);
                        commands.Add(["BITPOS", key, bit, start, end, "BIT"]);
                    }
                }
                commands.Add(["BITPOS", key, bit, "0", "-1", "BYTE"]);
            }
        }
        commands.AddRange(
        [
            ["BITPOS", "k", "2"],
            ["BITPOS", "k", "-1"],
            ["BITPOS", "k", "x"],
            ["BITPOS", "missing", "2"],
            ["BITPOS", "missing", "1", "x"],
            ["BITPOS", "k", "1", "x"],
            ["BITPOS", "k", "1", "0", "x"],
            ["BITPOS", "k", "1", "0", "1", "FOO"],
            ["BITPOS", "k", "1", "x", "1", "FOO"],
            ["BITPOS", "k", "1", "0", "x", "FOO"],
            ["BITPOS", "k", "1", "0", "x", "BIT"],
            ["BITPOS", "k", "1", "0", "1", "BIT", "x"],
            ["BITPOS", "missing", "1", "0", "1", "BIT", "x"],
            ["BITPOS", "k"],
        ]);
        Same([.. commands]);
    }

    [Fact]
    public void Random_bitmaps_count_and_search_as_redis_does()
    {
        var random = new Random(7);
        var commands = new List<string[]>();
        for (int round = 0; round < 4; round++)
        {
            string key = "r" + round.ToString(CultureInfo.InvariantCulture);
            var bytes = new byte[random.Next(1, 40)];
            for (int i = 0; i < bytes.Length; i++)
            {
                // Mostly runs of zeros or ones, so searches cross word boundaries.
                bytes[i] = random.Next(4) switch { 0 => 0x00, 1 => 0xFF, _ => (byte)random.Next(256) };
            }
            commands.AddRange(Build(key, bytes));
            int bits = bytes.Length * 8;
            for (int i = 0; i < 150; i++)
            {
                string start = random.Next(-bits - 4, bits + 4).ToString(CultureInfo.InvariantCulture);
                string end = random.Next(-bits - 4, bits + 4).ToString(CultureInfo.InvariantCulture);
                string unit = random.Next(2) == 0 ? "BIT" : "BYTE";
                string bit = random.Next(2).ToString(CultureInfo.InvariantCulture);
                commands.Add(["BITCOUNT", key, start, end, unit]);
                commands.Add(["BITPOS", key, bit, start, end, unit]);
                commands.Add(["BITPOS", key, bit, start]);
            }
        }
        StringCommandsTests.ClearNode(servers.Node);
        servers.AssertSameReplies(2, [.. commands]);
    }

    [Fact]
    public async Task Bit_offsets_are_limited_by_proto_max_bulk_len_as_in_redis()
    {
        using var redis = RedisServerProcess.Start("--proto-max-bulk-len", "1mb");
        await using var node = TestNode.Start("--proto-max-bulk-len", "1mb");
        using var r = redis.Client();
        using var n = node.Client();
        string[][] commands =
        [
            ["SETBIT", "k", "8388607", "1"],
            ["SETBIT", "k", "8388608", "1"],
            ["GETBIT", "k", "8388608"],
            ["GETBIT", "k", "8388607"],
            ["BITCOUNT", "k"],
            ["BITPOS", "k", "1"],
            ["BITPOS", "k", "0", "-1"],
            ["STRLEN", "k"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(r.Call(command).ToString(), n.Call(command).ToString());
        }
    }

    [Fact]
    public void Bitop_answers_as_redis_for_every_operation_length_and_error()
    {
        var commands = new List<string[]>();
        commands.AddRange(Build("a", 0xFF, 0x0F, 0xA5, 0x00, 0x81, 0x7E, 0x01, 0x80, 0xFF, 0x55, 0xAA));
        commands.AddRange(Build("b", 0xF0, 0xFF, 0x5A));
        commands.Add(["SET", "c", "the quick brown fox jumps over the lazy dog, twice over"]);
        commands.Add(["SET", "empty", ""]);
        commands.Add(["RPUSH", "list", "x"]);
        string[][] sourceSets = [["a"], ["a", "b"], ["b", "a"], ["a", "b", "c"], ["c", "missing", "a"], ["missing"], ["missing", "missing2"], ["empty"], ["empty", "b"], ["a", "a"]];
        foreach (string op in new[] { "AND", "OR", "XOR", "NOT", "and", "Xor" })
        {
            foreach (var sources in sourceSets)
            {
                commands.Add(["BITOP", op, "dest", .. sources]);
                commands.Add(["GET", "dest"]);
                commands.Add(["EXISTS", "dest"]);
            }
        }
        commands.AddRange(
        [
            // The destination is replaced whatever it held, loses its TTL, and may be one of the sources.
            ["SET", "dest", "old", "EX", "1000"],
            ["BITOP", "OR", "dest", "b"],
            ["TTL", "dest"],
            ["GET", "dest"],
            ["RPUSH", "destlist", "x"],
            ["BITOP", "XOR", "destlist", "a", "b"],
            ["TYPE", "destlist"],
            ["GET", "destlist"],
            ["BITOP", "AND", "a2", "a"],
            ["BITOP", "NOT", "a2", "a2"],
            ["GET", "a2"],
            ["BITOP", "XOR", "a2", "a2", "a"],
            ["GET", "a2"],
            // An empty result deletes the destination.
            ["SET", "gone", "x"],
            ["BITOP", "AND", "gone", "missing", "empty"],
            ["EXISTS", "gone"],
            ["BITOP", "NOT", "gone", "missing"],
            ["SET", "num", "12345"],
            ["BITOP", "NOT", "numnot", "num"],
            ["GET", "numnot"],
            // Errors: the operation, NOT's single source, a source that is not a string (even after a good one).
            ["BITOP", "NAND", "dest", "a"],
            ["BITOP", "", "dest", "a"],
            ["BITOP", "NOT", "dest", "a", "b"],
            ["BITOP", "NOT", "dest"],
            ["BITOP", "AND", "dest"],
            ["BITOP", "AND", "dest", "a", "list"],
            ["BITOP", "OR", "dest", "list"],
            ["BITOP", "NOT", "dest", "list"],
            ["BITOP", "NAND", "dest", "list"],
            ["BITOP", "AND", "list", "a"],
            ["TYPE", "list"],
            ["BITOP"],
        ]);
        Same([.. commands]);
    }

    [Fact]
    public void Bitfield_set_and_incrby_overflow_as_redis_at_every_type_edge()
    {
        string[] types = ["i1", "i2", "i7", "i8", "i9", "i16", "i31", "i32", "i33", "i63", "i64", "u1", "u2", "u7", "u8", "u9", "u16", "u31", "u32", "u33", "u62", "u63"];
        var commands = new List<string[]>();
        foreach (string type in types)
        {
            int bits = int.Parse(type[1..], CultureInfo.InvariantCulture);
            bool signed = type[0] == 'i';
            // The edges of the type and of a 64-bit integer, and small values.
            var edges = new List<Int128> { 0, 1, -1, 2, -2, long.MaxValue, long.MinValue };
            Int128 max = signed ? (Int128.One << (bits - 1)) - 1 : (Int128.One << bits) - 1;
            Int128 min = signed ? -(Int128.One << (bits - 1)) : 0;
            edges.AddRange([max, max - 1, max + 1, min, min + 1, min - 1, max / 2, -max]);
            var values = edges.Where(v => v >= long.MinValue && v <= long.MaxValue).Distinct().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToList();
            foreach (string overflow in new[] { "WRAP", "SAT", "FAIL" })
            {
                foreach (string offset in new[] { "0", "3", "#1" })
                {
                    string key = $"{type}:{overflow}:{offset}";
                    foreach (string v in values)
                    {
                        commands.Add(["BITFIELD", key, "OVERFLOW", overflow, "SET", type, offset, v, "GET", type, offset]);
                        foreach (string increment in values)
                        {
                            commands.Add(["BITFIELD", key, "OVERFLOW", overflow, "INCRBY", type, offset, increment, "GET", type, offset]);
                            commands.Add(["BITFIELD", key, "OVERFLOW", overflow, "SET", type, offset, v]);
                        }
                    }
                    commands.Add(["GET", key]);
                }
            }
        }
        StringCommandsTests.ClearNode(servers.Node);
        servers.AssertSameReplies(2, [.. commands]);
    }

    [Fact]
    public void Bitfield_and_bitfield_ro_answer_as_redis_for_operations_offsets_and_errors()
    {
        var commands = new List<string[]>();
        commands.AddRange(Build("k", 0xFF, 0x0F, 0xA5, 0x00, 0x81, 0x7E, 0x01, 0x80, 0xFF, 0x55, 0xAA));
        commands.Add(["SET", "text", "12345"]);
        commands.Add(["RPUSH", "list", "x"]);
        foreach (string type in new[] { "i1", "u1", "i5", "u5", "i8", "u8", "i13", "u13", "i32", "u32", "i63", "u63", "i64" })
        {
            foreach (string offset in new[] { "0", "1", "7", "8", "11", "60", "85", "87", "88", "200", "#0", "#1", "#3", "#9" })
            {
                commands.Add(["BITFIELD", "k", "GET", type, offset]);
                commands.Add(["BITFIELD_RO", "text", "GET", type, offset]);
                commands.Add(["BITFIELD_RO", "missing", "GET", type, offset]);
            }
        }
        commands.AddRange(
        [
            // Several operations in one call, OVERFLOW applying to those after it, replies in order.
            ["BITFIELD", "f", "SET", "u8", "0", "200", "INCRBY", "u8", "0", "100", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "100", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1", "GET", "u8", "0", "OVERFLOW", "WRAP", "INCRBY", "u8", "0", "1"],
            ["GET", "f"],
            ["BITFIELD", "f", "set", "i4", "#2", "-3", "get", "i4", "#2", "incrby", "i4", "#2", "-10", "overflow", "sat", "incrby", "i4", "#2", "-10", "get", "u16", "0"],
            ["GET", "f"],
            ["BITFIELD", "f", "GET", "i8", "0", "OVERFLOW", "FAIL"],
            ["BITFIELD", "f"],
            ["BITFIELD", "missing"],
            ["BITFIELD_RO", "f"],
            ["BITFIELD", "f", "OVERFLOW", "SAT"],
            // A write past the end grows the string with zeros; a failed write still grows it.
            ["BITFIELD", "g", "OVERFLOW", "FAIL", "SET", "u8", "100", "1000"],
            ["STRLEN", "g"],
            ["BITFIELD", "g", "SET", "u8", "0", "0", "SET", "i64", "#20", "-1"],
            ["STRLEN", "g"],
            ["GET", "g"],
            ["BITFIELD", "text", "INCRBY", "u8", "#4", "1", "GET", "u64", "0"],
            ["BITFIELD", "text", "INCRBY", "u8", "#4", "1"],
            ["GET", "text"],
            ["SET", "ttl", "x", "EX", "1000"],
            ["BITFIELD", "ttl", "SET", "u8", "8", "65"],
            ["TTL", "ttl"],
            ["GET", "ttl"],
            // Errors, in Redis's order: syntax, type, offset, value; WRONGTYPE only after everything parsed.
            ["BITFIELD", "k", "GET"],
            ["BITFIELD", "k", "GET", "u8"],
            ["BITFIELD", "k", "SET", "u8", "0"],
            ["BITFIELD", "k", "INCRBY", "u8", "0"],
            ["BITFIELD", "k", "OVERFLOW"],
            ["BITFIELD", "k", "OVERFLOW", "nope", "GET", "u8", "0"],
            ["BITFIELD", "k", "FOO", "u8", "0"],
            ["BITFIELD", "k", "GET", "u8", "0", "extra"],
            ["BITFIELD", "k", "GET", "u64", "0"],
            ["BITFIELD", "k", "GET", "i65", "0"],
            ["BITFIELD", "k", "GET", "i0", "0"],
            ["BITFIELD", "k", "GET", "u0", "0"],
            ["BITFIELD", "k", "GET", "I8", "0"],
            ["BITFIELD", "k", "GET", "i", "0"],
            ["BITFIELD", "k", "GET", "", "0"],
            ["BITFIELD", "k", "GET", "i08", "0"],
            ["BITFIELD", "k", "GET", "i-8", "0"],
            ["BITFIELD", "k", "GET", "s8", "0"],
            ["BITFIELD", "k", "GET", "i8", "-1"],
            ["BITFIELD", "k", "GET", "i8", "#-1"],
            ["BITFIELD", "k", "GET", "i8", "#"],
            ["BITFIELD", "k", "GET", "i8", "##1"],
            ["BITFIELD", "k", "GET", "i8", "1.5"],
            ["BITFIELD", "k", "GET", "i8", "+1"],
            ["BITFIELD", "k", "GET", "i8", "4294967295"],
            ["BITFIELD", "k", "GET", "i8", "4294967296"],
            ["BITFIELD", "k", "GET", "i8", "#536870911"],
            ["BITFIELD", "k", "GET", "i8", "#536870912"],
            ["BITFIELD", "k", "GET", "i64", "#144115188075855872"],
            ["BITFIELD", "k", "GET", "i8", "#1152921504606846976"],
            ["BITFIELD", "k", "GET", "i8", "9223372036854775808"],
            ["BITFIELD", "k", "SET", "i8", "0", "x"],
            ["BITFIELD", "k", "SET", "i8", "0", "9223372036854775808"],
            ["BITFIELD", "k", "INCRBY", "i8", "0", "1.5"],
            ["BITFIELD", "k", "GET", "i8", "0", "SET", "u64", "0", "1"],
            ["BITFIELD", "k", "SET", "i8", "0", "1", "GET", "x8", "0"],
            ["GET", "k"],
            ["BITFIELD", "list", "GET", "u8", "0"],
            ["BITFIELD", "list", "SET", "u8", "0", "1"],
            ["BITFIELD", "list", "GET", "u8", "x"],
            ["BITFIELD_RO", "list", "GET", "u8", "0"],
            ["BITFIELD_RO", "k", "SET", "u8", "0", "1"],
            ["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"],
            ["BITFIELD_RO", "k", "OVERFLOW", "FAIL", "GET", "u8", "0"],
            ["BITFIELD_RO", "k", "GET", "u8", "0", "SET", "u8", "0", "x"],
            ["BITFIELD_RO", "list", "SET", "u8", "0", "1"],
            ["BITFIELD_RO", "k", "FOO"],
            ["GET", "k"],
            ["BITFIELD"],
            ["BITFIELD_RO"],
        ]);
        Same([.. commands]);
    }

    [Fact]
    public async Task Bitfield_offsets_are_limited_by_proto_max_bulk_len_as_in_redis()
    {
        using var redis = RedisServerProcess.Start("--proto-max-bulk-len", "1mb");
        await using var node = TestNode.Start("--proto-max-bulk-len", "1mb");
        using var r = redis.Client();
        using var n = node.Client();
        string[][] commands =
        [
            ["BITFIELD", "k", "SET", "i64", "8388607", "-1"],
            ["STRLEN", "k"],
            ["BITFIELD", "k", "GET", "i64", "8388607", "GET", "u8", "8388600"],
            ["BITFIELD", "k", "SET", "i8", "8388608", "1"],
            ["BITFIELD", "k", "GET", "u8", "#1048575"],
            ["BITFIELD", "k", "GET", "u8", "#1048576"],
            ["BITFIELD_RO", "k", "GET", "u16", "#524288"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(r.Call(command).ToString(), n.Call(command).ToString());
        }
    }
}
