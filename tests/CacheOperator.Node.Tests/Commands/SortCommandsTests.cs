using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>SORT and SORT_RO, differential against redis-server 7.0 on lists, sets and sorted sets.</summary>
public class SortCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Data shared by the runs: weights and objects for BY and GET, a hash per element.</summary>
    private static readonly string[][] Setup =
    [
        ["RPUSH", "nums", "3", "1", "10", "2", "-5", "2.5", "1e2"],
        ["RPUSH", "words", "pear", "apple", "fig", "banana", "cherry"],
        ["SADD", "ints", "30", "4", "17", "8", "-2"],
        ["ZADD", "zs", "1", "c", "2", "a", "3", "b", "4", "e", "5", "d"],
        ["MSET", "w_pear", "3", "w_apple", "1", "w_fig", "5", "w_banana", "2", "w_cherry", "4"],
        ["MSET", "obj_pear", "P", "obj_apple", "A", "obj_banana", "B", "obj_cherry", "C"],
        ["HSET", "h_pear", "rank", "30", "name", "Pear"],
        ["HSET", "h_apple", "rank", "10", "name", "Apple"],
        ["HSET", "h_fig", "rank", "50"],
        ["HSET", "h_banana", "rank", "20", "name", "Banana"],
        ["HSET", "h_cherry", "rank", "40", "name", "Cherry"],
        ["MSET", "w_a", "9", "w_b", "8", "w_c", "7", "w_d", "6", "w_e", "5"],
        ["MSET", "w_30", "1", "w_4", "2", "w_17", "3", "w_8", "4", "w_-2", "5"],
    ];

    private IReadOnlyList<RespValue> Same(int protocol, params string[][] commands) =>
        servers.AssertSameReplies(protocol, [.. Setup, .. commands]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Numeric_and_alpha_sorts_with_limit_and_direction_match_redis(int protocol) =>
        Same(protocol,
            ["SORT", "nums"],
            ["SORT", "nums", "DESC"],
            ["SORT", "nums", "ASC", "DESC", "ASC"],
            ["SORT", "nums", "LIMIT", "1", "3"],
            ["SORT", "nums", "LIMIT", "-3", "2"],
            ["SORT", "nums", "LIMIT", "2", "-1"],
            ["SORT", "nums", "LIMIT", "6", "10"],
            ["SORT", "nums", "LIMIT", "7", "1"],
            ["SORT", "nums", "LIMIT", "100", "1"],
            ["SORT", "nums", "LIMIT", "0", "0"],
            ["SORT", "nums", "ALPHA"],
            ["SORT", "words", "ALPHA"],
            ["SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "2"],
            ["SORT", "words"],
            ["SORT", "ints"],
            ["SORT", "ints", "DESC", "ALPHA"],
            ["SORT", "zs", "ALPHA"],
            ["SORT", "zs", "ALPHA", "DESC"],
            ["SORT", "zs"],
            ["SORT", "missing"],
            ["SORT", "missing", "ALPHA", "LIMIT", "0", "5"],
            ["SORT_RO", "nums", "DESC", "LIMIT", "0", "2"],
            ["SORT_RO", "words", "ALPHA"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void By_and_get_patterns_match_redis(int protocol) =>
        Same(protocol,
            ["SORT", "words", "BY", "w_*"],
            ["SORT", "words", "BY", "w_*", "DESC"],
            ["SORT", "words", "BY", "w_*", "GET", "obj_*"],
            ["SORT", "words", "BY", "w_*", "GET", "#", "GET", "obj_*", "GET", "h_*->name"],
            ["SORT", "words", "BY", "h_*->rank", "DESC"],
            ["SORT", "words", "BY", "h_*->name", "ALPHA"],
            ["SORT", "words", "BY", "obj_*", "ALPHA", "DESC", "LIMIT", "0", "3"],
            ["SORT", "words", "BY", "nosort"],
            ["SORT", "words", "BY", "nosort", "DESC"],
            ["SORT", "words", "BY", "nosort", "LIMIT", "1", "2"],
            ["SORT", "words", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
            ["SORT", "words", "BY", "nosort", "GET", "w_*", "GET", "#"],
            ["SORT", "zs", "BY", "nosort"],
            ["SORT", "zs", "BY", "nosort", "DESC", "LIMIT", "1", "3"],
            ["SORT", "zs", "BY", "w_*"],
            ["SORT", "zs", "BY", "w_*", "LIMIT", "1", "2", "GET", "#", "GET", "missing_*"],
            ["SORT", "ints", "BY", "w_*"],
            ["SORT", "ints", "BY", "nosort"],
            ["SORT", "ints", "GET", "nopattern"],
            ["SORT", "ints", "GET", "w_*->x"],
            ["SORT", "words", "GET", "h_*->"],
            ["SORT", "words", "BY", "missing_*"],
            ["SORT", "words", "BY", "nosort", "BY", "w_*"],
            ["SORT", "words", "BY", "w_*", "GET", "w_*", "ALPHA"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Store_writes_a_list_and_an_empty_result_deletes_the_destination(int protocol) =>
        Same(protocol,
            ["SORT", "nums", "STORE", "dst"],
            ["LRANGE", "dst", "0", "-1"],
            ["TYPE", "dst"],
            ["SORT", "words", "BY", "w_*", "GET", "obj_*", "GET", "#", "STORE", "dst"],
            ["LRANGE", "dst", "0", "-1"],
            ["SORT", "ints", "BY", "nosort", "STORE", "dst"],
            ["LRANGE", "dst", "0", "-1"],
            ["SET", "str-dst", "x"],
            ["EXPIRE", "str-dst", "100"],
            ["SORT", "zs", "ALPHA", "STORE", "str-dst"],
            ["TYPE", "str-dst"],
            ["TTL", "str-dst"],
            ["SORT", "missing", "STORE", "dst"],
            ["EXISTS", "dst"],
            ["SORT", "nums", "LIMIT", "50", "5", "STORE", "str-dst"],
            ["EXISTS", "str-dst"],
            ["SORT", "nums", "STORE"],
            ["SORT_RO", "nums", "STORE", "dst"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_match_redis(int protocol) =>
        Same(protocol,
            ["SORT", "words"],
            ["SORT", "words", "BY", "obj_*"],
            ["RPUSH", "odd", "1", "", " 2", "0x10", "inf", "-inf", "3"],
            ["SORT", "odd"],
            ["RPUSH", "bad", "1", "2 ", "3"],
            ["SORT", "bad"],
            ["RPUSH", "nan", "nan"],
            ["SORT", "nan"],
            ["RPUSH", "big", "1e400"],
            ["SORT", "big"],
            ["SET", "str", "v"],
            ["SORT", "str"],
            ["SORT", "str", "junk"],
            ["SORT", "nums", "LIMIT", "x", "1"],
            ["SORT", "nums", "LIMIT", "1"],
            ["SORT", "nums", "GET"],
            ["SORT", "nums", "BY"],
            ["SORT", "nums", "junk"],
            ["SORT", "nums", "STORE", "dst", "extra"],
            ["SORT"]);

    [Fact]
    public void Sort_handles_binary_elements_and_large_inputs()
    {
        var values = Enumerable.Range(0, 700).Select(i => ((i * 7919) % 1000).ToString()).Distinct().ToArray();
        servers.AssertSameReplies(
            ["RPUSH", "bin", "a\0b", "a\0a", "\r\n", "a", "b\0"],
            // STORE compares whole byte strings; a reply compares C strings (strcoll stops at NUL), ties unordered.
            ["SORT", "bin", "ALPHA", "STORE", "bin-sorted"],
            ["LRANGE", "bin-sorted", "0", "-1"],
            ["RPUSH", "crlf", "b\r\n", "a\r\n", "\r\n"],
            ["SORT", "crlf", "ALPHA"],
            ["SADD", "bigset", .. values],
            ["SORT", "bigset"],
            ["SORT", "bigset", "DESC", "LIMIT", "10", "20"],
            ["ZADD", "bigz", .. values.SelectMany(v => new[] { v, "m" + v })],
            ["SORT", "bigz", "BY", "nosort", "LIMIT", "100", "5"],
            ["SORT", "bigz", "ALPHA", "LIMIT", "0", "5"]);
    }
}
