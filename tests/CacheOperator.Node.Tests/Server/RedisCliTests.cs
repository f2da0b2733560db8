using System.Globalization;
using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>redis-cli (Debian's 7.0) against the node prints exactly what it prints against redis-server.</summary>
public class RedisCliTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Runs redis-cli with the same arguments against both servers and returns (redis, node) output.</summary>
    private (string Redis, string Node) Both(params string[] args) =>
        (RedisCli.Run(servers.Redis.Port, args), RedisCli.Run(servers.Node.Port, args));

    private void AssertSameOutput(params string[] args)
    {
        var (redis, node) = Both(args);
        Assert.Equal(redis, node);
    }

    [Fact]
    public void Set_get_and_config_print_as_against_redis()
    {
        // Database 8 keeps the key with a TTL away from the INFO keyspace test: Redis's avg_ttl estimate lingers after keys go.
        AssertSameOutput("-n", "8", "DEL", "k");
        AssertSameOutput("-n", "8", "SET", "k", "v", "EX", "100");
        AssertSameOutput("-n", "8", "GET", "k");
        AssertSameOutput("-n", "8", "GET", "missing");
        AssertSameOutput("CONFIG", "GET", "maxmemory");
        AssertSameOutput("CONFIG", "SET", "foo", "bar");
        Assert.Equal("v", RedisCli.Command(servers.Node.Port, "-n", "8", "GET", "k"));
        Assert.Equal("maxmemory\n0", RedisCli.Command(servers.Node.Port, "CONFIG", "GET", "maxmemory"));
    }

    [Fact]
    public void The_foundation_walkthrough_prints_as_against_redis()
    {
        // Database 9 is this test's own, so the other tests' keys and INFO keyspace are not disturbed.
        AssertSameOutput("-n", "9", "FLUSHDB");
        AssertSameOutput("-n", "9", "SET", "k", "v", "EX", "100");
        AssertSameOutput("-n", "9", "GET", "k");
        // TTL reads a clock that moves while redis-cli processes start: a loaded machine may take seconds per spawn.
        var (redisTtl, nodeTtl) = Both("-n", "9", "TTL", "k");
        Assert.InRange(int.Parse(redisTtl, CultureInfo.InvariantCulture), 80, 100);
        Assert.InRange(int.Parse(nodeTtl, CultureInfo.InvariantCulture), 80, 100);
        AssertSameOutput("-n", "9", "INCR", "n");
        AssertSameOutput("-n", "9", "INCR", "n");
        AssertSameOutput("-n", "9", "MSET", "a", "1", "b", "2");
        AssertSameOutput("-n", "9", "MGET", "a", "b", "nothing");
        AssertSameOutput("-n", "9", "--no-raw", "MGET", "a", "b", "nothing");
        // SCAN's key order is the table's own, so compare the cursor and the set of keys.
        var (redis, node) = Both("-n", "9", "SCAN", "0");
        static string[] Sorted(string output) => output.TrimEnd('\n').Split('\n').Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(Sorted(redis), Sorted(node));
        Assert.Equal(["0", "a", "b", "k", "n"], Sorted(node));
        AssertSameOutput("-n", "9", "FLUSHDB");
    }

    [Fact]
    public async Task Info_keyspace_prints_as_against_redis()
    {
        // Servers of its own: INFO keyspace shows every database, and Redis's avg_ttl estimate lingers after keys go.
        var own = new RedisAndNode();
        await own.InitializeAsync();
        try
        {
            void Same(params string[] args) => Assert.Equal(RedisCli.Run(own.Redis.Port, args), RedisCli.Run(own.Node.Port, args));
            Same("SET", "a", "1");
            Same("SET", "b", "2");
            Same("INFO", "keyspace");
            Same("--no-raw", "INFO", "keyspace");
            Assert.Equal("# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n", RedisCli.Run(own.Node.Port, ["INFO", "keyspace"]));
        }
        finally
        {
            await own.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("--no-raw", "CONFIG", "GET", "maxmemory")]
    [InlineData("-3", "--no-raw", "CONFIG", "GET", "maxmemory")]
    [InlineData("--no-raw", "GET", "missing")]
    [InlineData("-3", "--no-raw", "GET", "missing")]
    [InlineData("--no-raw", "CLIENT", "GETNAME")]
    [InlineData("--no-raw", "COMMAND", "INFO", "get", "echo", "nosuch")]
    [InlineData("-3", "--no-raw", "COMMAND", "INFO", "get", "time")]
    [InlineData("--no-raw", "COMMAND", "GETKEYS", "set", "a", "b")]
    [InlineData("--no-raw", "CONFIG", "SET", "maxmemory", "abc")]
    [InlineData("--no-raw", "CLIENT", "KILL", "ID", "abc")]
    [InlineData("--no-raw", "RESET")]
    [InlineData("--no-raw", "CLUSTER", "NODES")]
    public void No_raw_formatting_is_the_same(params string[] args) => AssertSameOutput(args);

    [Theory]
    [InlineData("--no-raw")]
    [InlineData("-3", "--no-raw")]
    public void Hello_3_prints_the_same_but_for_the_client_id(params string[] options)
    {
        var (redis, node) = Both([.. options, "HELLO", "3"]);
        Assert.Equal(WithoutId(redis), WithoutId(node));
        Assert.Contains("\"version\"", node);
        Assert.Contains("\"7.0.15\"", node);
    }

    [Fact]
    public void Time_prints_two_lines()
    {
        var lines = RedisCli.Command(servers.Node.Port, "--no-raw", "TIME").Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.Matches("^1\\) \"\\d+\"$", lines[0]);
        Assert.Matches("^2\\) \"\\d+\"$", lines[1]);
    }

    private static string WithoutId(string output) => Regex.Replace(output, @"(integer\) )\d+(\n5)", "${1}N$2");
}
