using System.Globalization;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.HyperLogLog;

/// <summary>
/// PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST against redis-server 7.0.15: replies, the raw HLL bytes (GET) in the
/// sparse encoding and after promotion to dense, the cached count, errors, the dirty counter, keyspace events and the
/// command table entries, in RESP2 and RESP3.
/// </summary>
public class HyperLogLogCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>The sparse limit both servers run with (Redis's default).</summary>
    private static readonly string[] HllConfig = ["hll-sparse-max-bytes", "3000"];

    private static string[] Elements(string prefix, int from, int count) =>
        Enumerable.Range(from, count).Select(i => prefix + i.ToString(CultureInfo.InvariantCulture)).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Pfadd_pfcount_and_get_bytes_match_redis_from_sparse_to_dense(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, HllConfig);
        both.Same("PFADD", "h");
        both.Same("GET", "h");
        both.Same("PFADD", "h");
        both.Same("PFCOUNT", "h");
        both.Same("PFADD", "h", "a", "b", "c", "a");
        both.Same("GET", "h");
        both.Same("PFADD", "h", "a");
        both.Same("PFCOUNT", "h");
        // The count is cached in the header: GET shows it written back.
        both.Same("GET", "h");
        both.Same("PFDEBUG", "ENCODING", "h");
        both.Same("PFDEBUG", "DECODE", "h");
        bool dense = false;
        for (int batch = 0; batch < 60; batch++)
        {
            both.Same(["PFADD", "h", .. Elements("e", batch * 97, 97)]);
            both.Same("GET", "h");
            if (batch % 5 == 0)
            {
                both.Same("PFCOUNT", "h");
                both.Same("GET", "h");
            }
            dense |= both.Same("PFDEBUG", "ENCODING", "h").Text == "dense";
        }
        Assert.True(dense, "the HLL never became dense");
        both.Same("PFCOUNT", "h");
        both.Same("STRLEN", "h");
        both.Same("PFADD", "h", "x");
        both.Same("PFCOUNT", "h");
        both.Same("GET", "h");
        both.Same("PFCOUNT", "nosuch");
        both.Same("EXISTS", "nosuch");
        both.Same("PFADD");
        both.Same("PFCOUNT");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Pfmerge_and_pfcount_of_several_keys_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, HllConfig);
        both.Same(["PFADD", "a", .. Elements("x", 0, 300)]);
        both.Same(["PFADD", "b", .. Elements("x", 200, 300)]);
        both.Same(["PFADD", "big", .. Elements("y", 0, 5000)]);
        both.Same("PFCOUNT", "a", "b");
        both.Same("PFCOUNT", "a", "b", "nosuch");
        both.Same("PFCOUNT", "a", "big");
        // Counting several keys writes nothing: the cached counts stay stale.
        both.Same("GET", "a");
        both.Same("PFMERGE", "m", "a", "b");
        both.Same("GET", "m");
        both.Same("PFCOUNT", "m");
        both.Same("PFMERGE", "m", "big");
        both.Same("GET", "m");
        both.Same("PFDEBUG", "ENCODING", "m");
        both.Same("PFMERGE", "only");
        both.Same("GET", "only");
        both.Same("PFMERGE", "fresh", "nosuch", "a");
        both.Same("GET", "fresh");
        both.Same("PFMERGE", "a", "a");
        both.Same("GET", "a");
        both.Same("PFMERGE", "sparse", "a", "b", "m");
        both.Same("GET", "sparse");
        both.Same("PFCOUNT", "sparse", "m", "big", "a");
        both.Same("PFMERGE");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, HllConfig);
        both.Same("SET", "s", "not an hll");
        both.Same("RPUSH", "l", "x");
        both.Same("PFADD", "h", "x");
        foreach (var key in new[] { "s", "l" })
        {
            both.Same("PFADD", key, "a");
            both.Same("PFCOUNT", key);
            both.Same("PFCOUNT", "h", key);
            both.Same("PFMERGE", "h", key);
            both.Same("PFMERGE", key, "h");
            both.Same("PFDEBUG", "GETREG", key);
        }
        both.Same("GET", "h");
        // Valid headers over corrupted bodies: sparse opcodes that cover too few or too many registers, a dense
        // value of the wrong length, an unknown encoding, a short string. (Not a sparse value cut inside its last XZERO:
        // Redis then writes one byte past the string's end and reads it back later; the node's values end at their length.)
        byte[] header = [.. "HYLL"u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];
        byte[][] corrupt =
        [
            [.. header, 0x7f, 0xfe],
            [.. header, 0x7f, 0xff, 0x80],
            [.. header, 0x40, 0x00, 0x7f, 0xff],
            [.. header],
            [.. header[..4], 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 1, 2, 3],
            [.. header[..4], 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x7f, 0xff],
            [.. "HYLL"u8, 1],
            [.. "HYLX"u8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff],
            [.. header, 0x7f, 0xfe, 0x80, 0x80],
            [.. header, 0x80, 0x7f, 0xfe],
            [.. header, 0x7f, 0xff, 0x00],
        ];
        foreach (var value in corrupt)
        {
            byte[] key = "c"u8.ToArray();
            both.Same("SET"u8.ToArray(), key, value);
            both.Same("PFCOUNT"u8.ToArray(), key);
            both.Same("PFCOUNT"u8.ToArray(), key, "h"u8.ToArray());
            both.Same("PFADD"u8.ToArray(), key, "a"u8.ToArray(), "b"u8.ToArray());
            both.Same("GET"u8.ToArray(), key);
            both.Same("PFMERGE"u8.ToArray(), "d"u8.ToArray(), key);
            both.Same("PFMERGE"u8.ToArray(), key, "h"u8.ToArray());
            both.Same("GET"u8.ToArray(), key);
            both.Same("PFDEBUG"u8.ToArray(), "DECODE"u8.ToArray(), key);
            both.Same("PFDEBUG"u8.ToArray(), "TODENSE"u8.ToArray(), key);
            both.Same("GET"u8.ToArray(), key);
        }
        // A stale count in a valid sparse value is recomputed; a valid one is returned as stored.
        byte[] cached = [.. "HYLL"u8, 1, 0, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff];
        both.Same("SET"u8.ToArray(), "k"u8.ToArray(), cached);
        both.Same("PFCOUNT", "k");
        both.Same("PFADD", "k", "a");
        both.Same("PFCOUNT", "k");
        both.Same("GET", "k");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Pfdebug_and_pfselftest_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, HllConfig);
        both.Same(["PFADD", "h", .. Elements("d", 0, 40)]);
        both.Same("PFDEBUG", "ENCODING", "h");
        both.Same("PFDEBUG", "decode", "h");
        both.Same("PFDEBUG", "GETREG", "h");
        // GETREG converted it, keeping the stale cached count.
        both.Same("PFDEBUG", "ENCODING", "h");
        both.Same("GET", "h");
        both.Same("PFDEBUG", "DECODE", "h");
        both.Same("PFDEBUG", "TODENSE", "h");
        both.Same(["PFADD", "h2", .. Elements("d", 0, 10)]);
        both.Same("PFCOUNT", "h2");
        both.Same("PFDEBUG", "todense", "h2");
        both.Same("GET", "h2");
        both.Same("PFDEBUG", "nosuch", "h2");
        both.Same("PFDEBUG", "GETREG", "nosuch");
        both.Same("PFDEBUG", "nosuch", "nosuch");
        both.Same("PFDEBUG", "GETREG");
        both.Same("PFDEBUG", "GETREG", "h", "extra");
        both.Same("PFSELFTEST", "extra");
        Assert.Equal("OK", both.Node("PFSELFTEST").Text);
    }

    [Fact]
    public void Hll_sparse_max_bytes_moves_the_promotion_as_in_redis()
    {
        using var both = new PairedDifferential(servers, 2, HllConfig);
        both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "40");
        both.Same("CONFIG", "GET", "hll-sparse-max-bytes");
        for (int i = 0; i < 30; i++)
        {
            both.Same("PFADD", "h", "v" + i.ToString(CultureInfo.InvariantCulture));
            both.Same("GET", "h");
            both.Same("PFDEBUG", "ENCODING", "h");
        }
        Assert.Equal("dense", both.Node("PFDEBUG", "ENCODING", "h").Text);
        both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "0");
        both.Same("PFADD", "z", "a");
        both.Same("GET", "z");
        both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "-1");
        both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "1kb");
        both.Same("CONFIG", "GET", "hll-sparse-max-bytes");
        both.Same("CONFIG", "SET", "hll-sparse-max-bytes", "3000");
    }

    /// <summary>
    /// Redis counts a change for each register a PFADD raised, one for a PFCOUNT that cached its count (which is why it is
    /// propagated), one for a merge and one for a PFDEBUG conversion: rdb_changes_since_last_save moves alike on both.
    /// </summary>
    [Fact]
    public void Changes_are_counted_as_redis_counts_them()
    {
        using var both = new PairedDifferential(servers, 2, HllConfig);
        string[][] steps =
        [
            ["PFADD", "h", "a", "b", "c"], ["PFADD", "h", "a"], ["PFCOUNT", "h"], ["PFCOUNT", "h"], ["PFCOUNT", "h", "x"],
            ["PFMERGE", "m", "h"], ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "TODENSE", "m"], ["PFDEBUG", "GETREG", "h"], ["PFADD", "new"],
        ];
        foreach (var step in steps)
        {
            both.SameChanges(step);
        }
    }

    [Fact]
    public void Keyspace_events_and_watch_match_redis()
    {
        using var both = new PairedDifferential(servers, 2, HllConfig);
        both.Same("CONFIG", "SET", "notify-keyspace-events", "KEA");
        var transcripts = new List<string>();
        foreach (var server in new Func<RespClient>[] { servers.Redis.Client, servers.Node.Client })
        {
            using var subscriber = server();
            using var client = server();
            subscriber.Call("PSUBSCRIBE", "__key*__:*");
            client.Call("PFADD", "h", "a");
            client.Call("PFADD", "h", "a");
            client.Call("PFCOUNT", "h");
            client.Call("PFMERGE", "m", "h");
            client.Call("PFDEBUG", "TODENSE", "m");
            client.Call("PFCOUNT", "nosuch");
            client.Call("PFCOUNT", "h", "nosuch");
            // WATCH sees PFCOUNT's cache write (signalModifiedKey), not a PFADD that changed nothing.
            client.Call("PFADD", "w", "a");
            client.Call("WATCH", "w");
            client.Call("PFADD", "w", "a");
            client.Call("MULTI");
            client.Call("PING");
            string first = client.Call("EXEC").ToString();
            client.Call("WATCH", "w");
            client.Call("PFCOUNT", "w");
            client.Call("MULTI");
            client.Call("PING");
            string second = client.Call("EXEC").ToString();
            var lines = new List<string> { first, second };
            lines.AddRange(subscriber.ReadMessagesUntilPing().Select(m => m.ToString()));
            transcripts.Add(string.Join('\n', lines));
        }
        both.Same("CONFIG", "SET", "notify-keyspace-events", "");
        Assert.Contains("pfadd", transcripts[0], StringComparison.Ordinal);
        Assert.Equal(transcripts[0], transcripts[1]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Command_info_docs_and_getkeys_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, HllConfig);
        foreach (var name in new[] { "pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest" })
        {
            both.Same("COMMAND", "INFO", name);
            both.Same("COMMAND", "DOCS", name);
        }
        both.Same("COMMAND", "GETKEYS", "PFADD", "k", "a", "b");
        both.Same("COMMAND", "GETKEYS", "PFCOUNT", "a", "b", "c");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "PFMERGE", "d", "a", "b");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "PFCOUNT", "a");
        both.Same("COMMAND", "GETKEYS", "PFDEBUG", "GETREG", "k");
        both.Same("COMMAND", "GETKEYS", "PFSELFTEST");
    }

    /// <summary>HLLs are plain strings: a value built on one server, DUMPed and RESTOREd on the other, counts and reads the same there.</summary>
    [Theory]
    [InlineData(50)]
    [InlineData(20000)]
    public void Dump_and_restore_carry_hlls_both_ways(int elements)
    {
        using var both = new PairedDifferential(servers, 2, HllConfig);
        both.Same(["PFADD", "h", .. Elements("r", 0, elements)]);
        both.Same("PFADD", "stale", "x");
        var fromRedis = both.Redis("DUMP", "h");
        var fromNode = both.Node("DUMP", "h");
        var staleFromRedis = both.Redis("DUMP", "stale");
        Assert.Equal(RespKind.Bulk, fromRedis.Kind);
        Assert.Equal(RespKind.Bulk, fromNode.Kind);
        Assert.Equal("OK", both.Node("RESTORE"u8.ToArray(), "copy"u8.ToArray(), "0"u8.ToArray(), fromRedis.Bytes!).Text);
        Assert.Equal("OK", both.Redis("RESTORE"u8.ToArray(), "copy"u8.ToArray(), "0"u8.ToArray(), fromNode.Bytes!).Text);
        Assert.Equal("OK", both.Node("RESTORE"u8.ToArray(), "stale2"u8.ToArray(), "0"u8.ToArray(), staleFromRedis.Bytes!).Text);
        Assert.Equal("OK", both.Redis("RESTORE"u8.ToArray(), "stale2"u8.ToArray(), "0"u8.ToArray(), staleFromRedis.Bytes!).Text);
        both.Same("GET", "copy");
        both.Same("PFCOUNT", "copy");
        both.Same("PFCOUNT", "copy", "h");
        both.Same("PFADD", "copy", "one more");
        both.Same("GET", "copy");
        both.Same("PFCOUNT", "stale2");
        both.Same("GET", "stale2");
    }
}
