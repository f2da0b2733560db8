using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM, XSETID, XREAD and XINFO STREAM / HELP against redis-server 7.0.15:
/// replies, error texts, node layout (XINFO's radix-tree-keys / -nodes) and the stream's counters, in RESP2 and RESP3.
/// </summary>
public class StreamCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string N(long i) => i.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xadd_ids_options_and_errors_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "s", "1-1", "a", "1", "b", "2");
        both.Same("XADD", "s", "1-1", "a", "1");
        both.Same("XADD", "s", "1-0", "a", "1");
        both.Same("XADD", "s", "1-*", "a", "1");
        both.Same("XADD", "s", "2-*", "a", "1", "b", "2");
        both.Same("XADD", "s", "2", "x", "y");
        both.Same("XADD", "s", "3-5", "123", "-17", "4096", "99999999999", "", "long-" + new string('v', 70));
        both.Same("XADD", "s", "5000-*", "f", new string('z', 5000));
        both.Same("XADD", "new", "0-0", "a", "1");
        both.Same("EXISTS", "new");
        both.Same("XADD", "new", "0-*", "a", "1");
        both.Same("XADD", "new", "0", "a", "1");
        both.Same("XADD", "s", "a-1", "a", "1");
        both.Same("XADD", "s", "-", "a", "1");
        both.Same("XADD", "s", "+", "a", "1");
        both.Same("XADD", "s", "1-1-1", "a", "1");
        both.Same("XADD", "s", "18446744073709551616-1", "a", "1");
        both.Same("XADD", "s", "*", "a");
        both.Same("XADD", "s", "*", "a", "1", "b");
        both.Same("XADD", "s", "NOMKSTREAM", "*");
        both.Same("XADD", "nokey", "NOMKSTREAM", "1-1", "a", "1");
        both.Same("EXISTS", "nokey");
        both.Same("XADD", "s", "NOMKSTREAM", "9000-1", "a", "1");
        both.Same("XADD", "s", "MAXLEN", "-1", "*", "a", "1");
        both.Same("XADD", "s", "MAXLEN", "x", "*", "a", "1");
        both.Same("XADD", "s", "MAXLEN", "1", "MINID", "1", "*", "a", "1");
        both.Same("XADD", "s", "LIMIT", "10", "*", "a", "1");
        both.Same("XADD", "s", "MAXLEN", "1", "LIMIT", "10", "*", "a", "1");
        both.Same("XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "*", "a", "1");
        both.Same("XADD", "s", "MINID", "x", "*", "a", "1");
        both.Same("XADD", "s", "MINID", "-", "*", "a", "1");
        both.Same("SET", "str", "v");
        both.Same("XADD", "str", "*", "a", "1");
        both.Same("XADD", "str", "NOMKSTREAM", "*", "a", "1");
        both.Same("XADD", "s", "18446744073709551615-18446744073709551615", "a", "1");
        both.Same("XADD", "s", "*", "a", "1");
        both.Same("XADD", "s", "18446744073709551615-*", "a", "1");
        both.Same("XRANGE", "s", "-", "+");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XINFO", "STREAM", "s", "FULL");
        both.Same("TYPE", "s");
        both.Same("OBJECT", "ENCODING", "s");
        both.Same("XLEN", "s");
        both.Same("XLEN", "nokey");
        both.Same("XLEN", "str");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xrange_and_xrevrange_match_redis_over_several_nodes(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config(7, 300));
        for (int i = 1; i <= 60; i++)
        {
            if (i % 3 == 0)
            {
                both.Same("XADD", "s", $"{i}-{i % 4}", "f", N(i), "g", "v" + N(i));
            }
            else if (i % 3 == 1)
            {
                both.Same("XADD", "s", $"{i}-{i % 4}", "f", N(i));
            }
            else
            {
                both.Same("XADD", "s", $"{i}-{i % 4}", "other", new string('x', i));
            }
        }
        both.Same("XDEL", "s", "5-1", "6-2", "7-3", "30-2", "60-0");
        string[] bounds = ["-", "+", "0", "1", "5", "5-1", "(5-1", "(5", "7", "30-2", "(30-2", "59", "60", "(60-0", "61", "18446744073709551615", "(0-0",
            "(18446744073709551615-18446744073709551615", "(-", "(+", "x", "1-x", "("];
        foreach (var start in bounds)
        {
            foreach (var end in bounds)
            {
                both.Same("XRANGE", "s", start, end);
                both.Same("XREVRANGE", "s", end, start);
            }
        }
        foreach (var count in new[] { "0", "1", "3", "-5", "100", "x" })
        {
            both.Same("XRANGE", "s", "-", "+", "COUNT", count);
            both.Same("XREVRANGE", "s", "+", "-", "COUNT", count);
            both.Same("XRANGE", "s", "20", "+", "count", count);
        }
        both.Same("XRANGE", "s", "-", "+", "COUNT");
        both.Same("XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "2");
        both.Same("XRANGE", "s", "-", "+", "LIMIT", "1");
        both.Same("XRANGE", "nokey", "-", "+");
        both.Same("XRANGE", "nokey", "-", "+", "COUNT", "0");
        both.Same("XRANGE", "nokey", "x", "+");
        both.Same("SET", "str", "v");
        both.Same("XRANGE", "str", "-", "+");
        both.Same("XREVRANGE", "str", "+", "-");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XINFO", "STREAM", "s", "FULL", "COUNT", "0");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xdel_xtrim_and_xsetid_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config(10));
        for (int i = 1; i <= 100; i++)
        {
            both.Same("XADD", "s", $"{i}-1", "f", N(i), "g", "v");
        }
        both.Same("XDEL", "s", "1-1", "2-1", "2-1", "200-1");
        both.Same("XDEL", "s", "x");
        both.Same("XDEL", "s", "3-1", "x");
        both.Same("XDEL", "s", "-");
        both.Same("XDEL", "nokey", "x");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XTRIM", "s", "MAXLEN", "~", "85");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XTRIM", "s", "MAXLEN", "=", "85");
        both.Same("XTRIM", "s", "MAXLEN", "83");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XTRIM", "s", "MINID", "~", "35");
        both.Same("XTRIM", "s", "MINID", "35-1");
        both.Same("XTRIM", "s", "MINID", "=", "37");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "15");
        both.Same("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "10");
        both.Same("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "0");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XTRIM", "s", "MAXLEN", "1", "LIMIT", "10");
        both.Same("XTRIM", "s");
        both.Same("XTRIM", "s", "LIMIT", "10");
        both.Same("XTRIM", "s", "MAXLEN");
        both.Same("XTRIM", "s", "MAXLEN", "1", "extra");
        both.Same("XTRIM", "s", "NOMKSTREAM", "MAXLEN", "1");
        both.Same("XTRIM", "s", "MAXLEN", "1", "MINID", "5");
        both.Same("XTRIM", "nokey", "MAXLEN", "1");
        both.Same("XADD", "s", "MAXLEN", "~", "20", "150-1", "a", "b");
        both.Same("XLEN", "s");
        both.Same("XADD", "s", "MINID", "80", "200-1", "a", "b");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XSETID", "s", "1-1");
        both.Same("XSETID", "s", "200-1");
        both.Same("XSETID", "s", "300-1", "ENTRIESADDED", "5");
        both.Same("XSETID", "s", "300-1", "ENTRIESADDED", "-5");
        both.Same("XSETID", "s", "300-1", "ENTRIESADDED", "x");
        both.Same("XSETID", "s", "300-1", "MAXDELETEDID", "400-1");
        both.Same("XSETID", "s", "300-1", "MAXDELETEDID", "x");
        both.Same("XSETID", "s", "300-1", "ENTRIESADDED", "1000", "MAXDELETEDID", "250-1");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XSETID", "s", "260-1");
        both.Same("XSETID", "s", "300-1", "BOGUS");
        both.Same("XSETID", "s", "x");
        both.Same("XSETID", "s", "+");
        both.Same("XSETID", "nokey", "1-1");
        both.Same("XTRIM", "s", "MAXLEN", "0");
        both.Same("XINFO", "STREAM", "s");
        both.Same("EXISTS", "s");
        both.Same("XSETID", "s", "1-1");
        both.Same("XSETID", "s", "250-1");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XADD", "e", "5-1", "a", "1");
        both.Same("XDEL", "e", "5-1");
        both.Same("XINFO", "STREAM", "e");
        both.Same("XADD", "e", "5-1", "a", "1");
        both.Same("XADD", "e", "6-1", "a", "1");
        both.Same("XINFO", "STREAM", "e");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Xread_without_block_and_xinfo_errors_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config());
        both.Same("XADD", "a", "1-1", "f", "1");
        both.Same("XADD", "a", "2-1", "f", "2");
        both.Same("XADD", "b", "5-1", "g", "1");
        both.Same("XREAD", "STREAMS", "a", "0");
        both.Same("XREAD", "STREAMS", "a", "b", "0", "0");
        both.Same("XREAD", "COUNT", "1", "STREAMS", "a", "b", "nokey", "0", "4", "0");
        both.Same("XREAD", "COUNT", "0", "STREAMS", "a", "1-1");
        both.Same("XREAD", "COUNT", "-1", "STREAMS", "a", "1-1");
        both.Same("XREAD", "STREAMS", "a", "$");
        both.Same("XREAD", "STREAMS", "a", "2-1");
        both.Same("XREAD", "STREAMS", "a", "b");
        both.Same("XREAD", "STREAMS", "a", ">");
        both.Same("XREAD", "STREAMS", "a", "x");
        both.Same("XREAD", "STREAMS", "a", "-");
        both.Same("XREAD", "STREAMS", "a", "b", "0");
        both.Same("XREAD", "STREAMS");
        both.Same("XREAD", "COUNT", "1", "a", "0");
        both.Same("XREAD", "COUNT", "x", "STREAMS", "a", "0");
        both.Same("XREAD", "BLOCK", "x", "STREAMS", "a", "0");
        both.Same("XREAD", "BLOCK", "-1", "STREAMS", "a", "0");
        both.Same("XREAD", "GROUP", "g", "c", "STREAMS", "a", "0");
        both.Same("XREAD", "NOACK", "STREAMS", "a", "0");
        both.Same("XREAD", "BLOCK", "10", "STREAMS", "a", "0");
        both.Same("SET", "str", "v");
        both.Same("XREAD", "STREAMS", "str", "0");
        both.Same("XREAD", "STREAMS", "a", "str", "0", "0");
        both.Same("XDEL", "a", "2-1");
        both.Same("XREAD", "STREAMS", "a", "1-1");
        both.Same("XINFO", "STREAM", "a", "FULL", "COUNT", "1");
        both.Same("XINFO", "STREAM", "a", "FULL", "COUNT", "-1");
        both.Same("XINFO", "STREAM", "a", "FULL", "COUNT");
        both.Same("XINFO", "STREAM", "a", "FULL", "X", "1");
        both.Same("XINFO", "STREAM", "a", "BOGUS");
        both.Same("XINFO", "STREAM", "a", "FULL", "COUNT", "x");
        both.Same("XINFO", "STREAM", "nokey");
        both.Same("XINFO", "STREAM", "str");
        both.Same("XINFO", "STREAM");
        both.Same("XINFO", "HELP");
        both.Same("XINFO", "help");
        both.Same("XINFO", "NOSUCH", "a");
        both.Same("XINFO");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Node_sizes_follow_stream_node_max_bytes_and_entries(int protocol)
    {
        foreach (var (entries, bytes) in new[] { (100, 4096), (0, 200), (3, 0), (1, 1), (0, 0) })
        {
            using var both = new PairedDifferential(servers, protocol, StreamNodeSizes.Config(entries, bytes));
            for (int i = 1; i <= 120; i++)
            {
                both.Same("XADD", "s", $"{i * 1000}-{i}", "field", N(i * 7), "blob", new string('b', i % 40));
                if (i % 17 == 0)
                {
                    both.Same("XDEL", "s", $"{(i - 3) * 1000}-{i - 3}");
                }
            }
            both.Same("XINFO", "STREAM", "s");
            both.Same("XRANGE", "s", "-", "+", "COUNT", "20");
            both.Same("XREVRANGE", "s", "+", "-", "COUNT", "20");
            both.Same("XTRIM", "s", "MAXLEN", "~", "50");
            both.Same("XINFO", "STREAM", "s");
        }
    }
}
