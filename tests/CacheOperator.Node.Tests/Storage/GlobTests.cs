using System.Text;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Storage;

/// <summary>
/// Redis's stringmatchlen semantics. Every expectation below was checked against redis-server 7.0 with
/// KEYS (see also KeyCommandsTests.Keys_patterns_match_as_redis, which compares live).
/// </summary>
public class GlobTests
{
    [Theory]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hallo", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h?llo", "heello", false)]
    [InlineData("h*llo", "hllo", true)]
    [InlineData("h*llo", "heeeello", true)]
    [InlineData("h*llo", "hellox", false)]
    [InlineData("h*llo", "xhello", false)]
    [InlineData("h[ae]llo", "hello", true)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[ae]llo", "hllo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hbllo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[^e]llo", "hllo", false)]
    [InlineData("h[a-b]llo", "hallo", true)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("h[a-b]llo", "hcllo", false)]
    [InlineData("h[b-a]llo", "hallo", true)]
    [InlineData("h[b-a]llo", "hcllo", false)]
    [InlineData("h[a-c-e]llo", "hbllo", true)]
    [InlineData("h[a-c-e]llo", "h-llo", true)]
    [InlineData("h[a-c-e]llo", "hdllo", false)]
    [InlineData("[a-]", "a", true)]
    [InlineData("[a-]", "-", false)]
    [InlineData("[-a]", "-", true)]
    [InlineData("[-a]", "b", false)]
    public void Classes_ranges_and_wildcards(string pattern, string text, bool expected) => AssertMatch(pattern, text, expected);

    [Theory]
    [InlineData(@"h\*llo", "h*llo", true)]
    [InlineData(@"h\*llo", "hello", false)]
    [InlineData(@"h\?llo", "h?llo", true)]
    [InlineData(@"h\?llo", "hello", false)]
    [InlineData(@"h[\]]llo", "h]llo", true)]
    [InlineData(@"h[\]]llo", "hallo", false)]
    [InlineData(@"\", @"\", true)]
    [InlineData(@"\", "a", false)]
    [InlineData(@"a\", @"a\", true)]
    [InlineData(@"a\", "a", false)]
    public void Escapes(string pattern, string text, bool expected) => AssertMatch(pattern, text, expected);

    [Theory]
    [InlineData("[abc", "a", true)]
    [InlineData("[abc", "[abc", false)]
    [InlineData("[abc", "d", false)]
    [InlineData("[]", "]", false)]
    [InlineData("[]", "", false)]
    [InlineData("[^]", "]", true)]
    [InlineData("[^]", "a", true)]
    [InlineData("a[", "a[", false)]
    [InlineData("a[", "ab", false)]
    [InlineData("a[^", "ab", true)]
    [InlineData("a[^", "a", false)]
    public void Malformed_classes_behave_as_redis(string pattern, string text, bool expected) => AssertMatch(pattern, text, expected);

    [Theory]
    [InlineData("*", "", false)]
    [InlineData("*", "anything", true)]
    [InlineData("", "", true)]
    [InlineData("", "x", false)]
    [InlineData("**a", "ba", true)]
    [InlineData("**a", "bab", false)]
    [InlineData("a*b*c", "aXbYcZc", true)]
    [InlineData("a*b*c", "ac", false)]
    [InlineData("a*b*c", "abcX", false)]
    [InlineData("*?", "", false)]
    [InlineData("*?", "ab", true)]
    [InlineData("?*?", "a", false)]
    [InlineData("?*?", "ab", true)]
    [InlineData("a*", "a", true)]
    [InlineData("a**", "a", true)]
    public void Stars(string pattern, string text, bool expected) => AssertMatch(pattern, text, expected);

    [Theory]
    [InlineData("HELLO", "hello", true, false)]
    [InlineData("h?LLO", "HeLlo", true, false)]
    [InlineData("h[A-C]llo", "hbllo", true, false)]
    [InlineData("h[a-c]llo", "hBLLO", true, false)]
    [InlineData("h[^E]llo", "hello", false, true)]
    [InlineData("h[E]llo", "hello", true, false)]
    [InlineData("h\\Ello", "hello", true, false)]
    [InlineData("h*O", "hello", true, false)]
    public void Nocase_ignores_ascii_case(string pattern, string text, bool nocase, bool exact)
    {
        Assert.Equal(nocase, Glob.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text), ignoreCase: true));
        Assert.Equal(exact, Glob.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Binary_bytes_match_as_bytes()
    {
        byte[] text = [0, 0xFF, (byte)'\r', (byte)'\n', 0x80];
        Assert.True(Glob.IsMatch([0, (byte)'?', (byte)'\r', (byte)'*'], text));
        Assert.True(Glob.IsMatch([(byte)'[', 0, (byte)']', (byte)'*'], text));
        Assert.True(Glob.IsMatch([(byte)'?', (byte)'[', 0xF0, (byte)'-', 0xFF, (byte)']', (byte)'*'], text));
        Assert.False(Glob.IsMatch([(byte)'?', (byte)'[', 0x00, (byte)'-', 0x7F, (byte)']', (byte)'*'], text));
    }

    [Fact]
    public void MatchesAll_only_for_a_single_star()
    {
        Assert.True(Glob.MatchesAll("*"u8));
        Assert.False(Glob.MatchesAll("**"u8));
        Assert.False(Glob.MatchesAll("a*"u8));
        Assert.False(Glob.MatchesAll(""u8));
    }

    [Fact]
    public void Hostile_patterns_finish()
    {
        // Many stars against a long non-matching text: must neither overflow the stack nor hang.
        string pattern = string.Concat(Enumerable.Repeat("a*", 2000)) + "b";
        string text = new('a', 60);
        Assert.False(Glob.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text)));
        Assert.True(Glob.IsMatch("*"u8, Encoding.UTF8.GetBytes(new string('x', 100_000))));
    }

    private static void AssertMatch(string pattern, string text, bool expected) =>
        Assert.True(
            Glob.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text)) == expected,
            $"pattern '{pattern}' on '{text}': expected {expected}");
}
