using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>DBSIZE, FLUSHDB, FLUSHALL and SWAPDB, compared with redis-server 7.0 and checked across connections.</summary>
public class DatabaseCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Dbsize_and_flush_answer_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["DBSIZE"],
            ["SET", "a", "1"],
            ["SET", "b", "2"],
            ["DBSIZE"],
            ["DBSIZE", "x"],
            ["FLUSHDB", "FOO"],
            ["FLUSHDB", "SYNC", "ASYNC"],
            ["DBSIZE"],
            ["FLUSHDB", "async"],
            ["DBSIZE"],
            ["SET", "a", "1"],
            ["FLUSHDB", "sync"],
            ["DBSIZE"],
            ["SET", "a", "1"],
            ["FLUSHDB"],
            ["DBSIZE"],
            ["SET", "a", "1"],
            ["SELECT", "1"],
            ["SET", "b", "2"],
            ["SET", "c", "3"],
            ["FLUSHALL", "FOO"],
            ["FLUSHALL", "ASYNC", "x"],
            ["DBSIZE"],
            ["SELECT", "0"],
            ["FLUSHDB"],
            ["DBSIZE"],
            ["SELECT", "1"],
            ["DBSIZE"],
            ["FLUSHALL", "SYNC"],
            ["DBSIZE"],
            ["SET", "b", "2"],
            ["FLUSHALL", "ASYNC"],
            ["DBSIZE"],
            ["SET", "b", "2"],
            ["FLUSHALL"],
            ["DBSIZE"]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Swapdb_answers_as_redis(int protocol)
    {
        servers.AssertSameReplies(
            protocol,
            ["SWAPDB", "0", "16"],
            ["SWAPDB", "16", "0"],
            ["SWAPDB", "-1", "1"],
            ["SWAPDB", "1", "-1"],
            ["SWAPDB", "a", "1"],
            ["SWAPDB", "1", "a"],
            ["SWAPDB", "a", "b"],
            ["SWAPDB", "4294967296", "0"],
            ["SWAPDB", "0", "4294967296"],
            ["SWAPDB", "0", "99999999999999999999"],
            ["SWAPDB", "16", "a"],
            ["SWAPDB", "0"],
            ["SWAPDB", "0", "1", "2"],
            ["SWAPDB", "0", "0"],
            ["SET", "x", "in0"],
            ["SET", "t", "v", "EX", "100"],
            ["SWAPDB", "0", "1"],
            ["GET", "x"],
            ["DBSIZE"],
            ["SELECT", "1"],
            ["GET", "x"],
            ["TTL", "t"],
            ["DBSIZE"],
            ["SWAPDB", "1", "15"],
            ["DBSIZE"],
            ["SELECT", "15"],
            ["GET", "x"],
            ["SWAPDB", "15", "0"],
            ["GET", "x"],
            ["SELECT", "0"],
            ["GET", "x"]);
    }

    [Fact]
    public void Swapdb_is_seen_by_clients_that_selected_either_database()
    {
        using var first = servers.Node.Client();
        using var second = servers.Node.Client();
        first.Call("FLUSHALL");
        first.Call("SET", "k", "from0");
        second.Call("SELECT", "7");
        second.Call("SET", "k", "from7");
        Assert.Equal("OK", first.Call("SWAPDB", "0", "7").Text);
        Assert.Equal("from7", first.Call("GET", "k").Text);
        Assert.Equal("from0", second.Call("GET", "k").Text);
        // Writes after the swap land in the swapped content.
        second.Call("SET", "n", "new");
        Assert.Equal(RespKind.Null, first.Call("GET", "n").Kind);
        first.Call("SWAPDB", "7", "0");
        Assert.Equal("new", first.Call("GET", "n").Text);
    }

    [Fact]
    public void Flushall_clears_every_database_and_flushdb_only_the_selected_one()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        for (int db = 0; db < 16; db++)
        {
            client.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            KeyCommandsTests.Pipeline(client, Enumerable.Range(0, 10).Select(i => new[] { "SET", $"k{i}", "v" }));
        }
        client.Call("SELECT", "3");
        Assert.Equal("OK", client.Call("FLUSHDB", "ASYNC").Text);
        Assert.Equal(0, client.Call("DBSIZE").Integer);
        Assert.Equal(RespKind.Null, client.Call("GET", "k1").Kind);
        client.Call("SELECT", "4");
        Assert.Equal(10, client.Call("DBSIZE").Integer);

        Assert.Equal("OK", client.Call("FLUSHALL", "ASYNC").Text);
        for (int db = 0; db < 16; db++)
        {
            client.Call("SELECT", db.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(0, client.Call("DBSIZE").Integer);
        }
        // The databases are usable again at once.
        client.Call("SET", "after", "v");
        Assert.Equal(1, client.Call("DBSIZE").Integer);
        Assert.Equal(0, servers.Node.Server.Keyspace[0].Count);
    }

    [Fact]
    public void Dbsize_counts_keys_of_the_selected_database()
    {
        using var client = servers.Node.Client();
        client.Call("FLUSHALL");
        KeyCommandsTests.Pipeline(client, Enumerable.Range(0, 1000).Select(i => new[] { "SET", $"k{i}", "v" }));
        Assert.Equal(1000, client.Call("DBSIZE").Integer);
        KeyCommandsTests.Pipeline(client, Enumerable.Range(0, 400).Select(i => new[] { "DEL", $"k{i}" }));
        Assert.Equal(600, client.Call("DBSIZE").Integer);
        client.Call("SELECT", "9");
        Assert.Equal(0, client.Call("DBSIZE").Integer);
    }
}
