using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>LCS against redis-server 7.0.15: the subsequence, LEN, IDX with MINMATCHLEN and WITHMATCHLEN, in RESP2 and RESP3, and its errors.</summary>
public class LcsCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private void Same(params string[][] commands)
    {
        foreach (int protocol in new[] { 2, 3 })
        {
            StringCommandsTests.ClearNode(servers.Node);
            servers.AssertSameReplies(protocol, commands);
        }
    }

    /// <summary>Every combination of options (and an option given twice) for the two keys.</summary>
    private static IEnumerable<string[]> AllOptions(string key1, string key2)
    {
        string[][] optionSets =
        [
            [], ["LEN"], ["IDX"], ["idx", "WITHMATCHLEN"], ["IDX", "MINMATCHLEN", "2"], ["IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"],
            ["WITHMATCHLEN", "IDX", "MINMATCHLEN", "0"], ["IDX", "MINMATCHLEN", "-3"], ["MINMATCHLEN", "100", "IDX"], ["LEN", "LEN"],
            ["IDX", "IDX", "WITHMATCHLEN"], ["MINMATCHLEN", "3"], ["WITHMATCHLEN"], ["LEN", "MINMATCHLEN", "2", "WITHMATCHLEN"],
        ];
        foreach (var options in optionSets)
        {
            yield return ["LCS", key1, key2, .. options];
            yield return ["LCS", key2, key1, .. options];
        }
    }

    [Fact]
    public void Lcs_answers_as_redis_for_every_option()
    {
        var commands = new List<string[]>
        {
            new[] { "SET", "key1", "ohmytext" },
            new[] { "SET", "key2", "mynewtext" },
            new[] { "SET", "a", "the quick brown fox jumps over the lazy dog" },
            new[] { "SET", "b", "a quick brown dog jumps over the lazy fox!" },
            new[] { "SET", "same", "the quick brown fox jumps over the lazy dog" },
            new[] { "SET", "none", "XYZ" },
            new[] { "SET", "empty", "" },
            new[] { "SET", "n1", "1234567890" },
            new[] { "SET", "n2", "9081726354" },
            new[] { "SET", "rep1", "aaaaabbbbbaaaaa" },
            new[] { "SET", "rep2", "ababababab" },
        };
        (string, string)[] pairs =
        [
            ("key1", "key2"), ("a", "b"), ("a", "same"), ("a", "none"), ("a", "empty"), ("a", "missing"), ("missing", "missing2"),
            ("n1", "n2"), ("rep1", "rep2"), ("rep1", "rep1"), ("empty", "empty"),
        ];
        foreach (var (key1, key2) in pairs)
        {
            commands.AddRange(AllOptions(key1, key2));
        }
        Same([.. commands]);
    }

    [Fact]
    public void Lcs_errors_are_redis_s()
    {
        Same(
            ["SET", "a", "hello"],
            ["RPUSH", "list", "x"],
            ["LCS", "a", "list"],
            ["LCS", "list", "a"],
            ["LCS", "list", "a", "FOO"],
            ["LCS", "a", "a", "LEN", "IDX"],
            ["LCS", "a", "a", "IDX", "LEN"],
            ["LCS", "a", "a", "FOO"],
            ["LCS", "a", "a", "MINMATCHLEN"],
            ["LCS", "a", "a", "MINMATCHLEN", "x"],
            ["LCS", "a", "a", "MINMATCHLEN", "1.5", "IDX"],
            ["LCS", "a", "a", "FOO", "LEN", "IDX"],
            ["LCS", "a", "a", "LEN", "IDX", "FOO"],
            ["LCS", "a"],
            ["LCS"]);
    }

    [Fact]
    public void Random_strings_give_redis_s_subsequence_length_and_ranges()
    {
        var random = new Random(11);
        var commands = new List<string[]>();
        for (int round = 0; round < 30; round++)
        {
            // Small alphabets so there are many ties in the table, which the walk back must break as Redis does.
            string alphabet = round % 3 == 0 ? "ab" : round % 3 == 1 ? "abcd" : "abcdefghij";
            string Text() => new(Enumerable.Range(0, random.Next(0, 60)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            string k1 = "x" + round.ToString(CultureInfo.InvariantCulture), k2 = "y" + round.ToString(CultureInfo.InvariantCulture);
            commands.Add(["SET", k1, Text()]);
            commands.Add(["SET", k2, Text()]);
            commands.Add(["LCS", k1, k2]);
            commands.Add(["LCS", k1, k2, "LEN"]);
            commands.Add(["LCS", k1, k2, "IDX", "WITHMATCHLEN"]);
            commands.Add(["LCS", k1, k2, "IDX", "MINMATCHLEN", random.Next(0, 4).ToString(CultureInfo.InvariantCulture)]);
        }
        Same([.. commands]);
    }

    [Fact]
    public async Task The_table_is_limited_by_proto_max_bulk_len_as_in_redis()
    {
        using var redis = RedisServerProcess.Start("--proto-max-bulk-len", "1mb");
        await using var node = TestNode.Start("--proto-max-bulk-len", "1mb");
        using var r = redis.Client();
        using var n = node.Client();
        string big = new('a', 1000);
        string fits = new('a', 400);
        string[][] commands =
        [
            ["SET", "big", big], ["SET", "fits", fits], ["SET", "small", "xaay"],
            ["LCS", "big", "big", "LEN"], ["LCS", "big", "small", "LEN"], ["LCS", "fits", "fits", "LEN"], ["LCS", "big", "missing"],
            ["LCS", "big", "big", "LEN", "IDX"],
        ];
        foreach (var command in commands)
        {
            Assert.Equal(r.Call(command).ToString(), n.Call(command).ToString());
        }
    }
}
