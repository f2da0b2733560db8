using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// What the change stream carries for each command whose effect is relative or random, as Redis 7.0 rewrites it,
/// and for changes no client command made (expiry, eviction, served blocked clients). Each test has its own node.
/// </summary>
public class RewriteTests
{
    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Asserts the command is "NAME key ... TIME" with TIME within [low, high].</summary>
    private static void AssertAbsolute(string command, string prefix, long low, long high, string suffix = "")
    {
        Assert.StartsWith(prefix + " ", command);
        var rest = command[(prefix.Length + 1)..];
        if (suffix.Length > 0)
        {
            Assert.EndsWith(" " + suffix, rest);
            rest = rest[..^(suffix.Length + 1)];
        }
        long at = long.Parse(rest, CultureInfo.InvariantCulture);
        // The node's clock is the wall clock re-read by its background cycle: allow it to stray a second.
        Assert.InRange(at, low - 1000, high + 1000);
    }

    private static async Task<(TestNode Node, StreamCapture Stream, RespClient Client)> Start(params string[] options)
    {
        await Task.Yield();
        var node = TestNode.Start(options);
        return (node, StreamCapture.Attach(node.Server), node.Client());
    }

    [Fact]
    public async Task Set_with_a_relative_expiry_propagates_as_set_pxat()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        long before = Now();
        c.Call("SET", "k", "v", "EX", "100");
        c.Call("SET", "k2", "v", "PX", "5000", "GET");
        c.Call("SETEX", "k3", "10", "v3");
        c.Call("PSETEX", "k4", "10000", "v4");
        long after = Now();
        c.Call("SET", "k5", "v", "PXAT", "99999999999999");
        c.Call("SET", "k", "other", "NX", "EX", "5");
        var commands = stream.Take();
        Assert.Equal("SELECT 0", commands[0]);
        AssertAbsolute(commands[1], "SET k v PXAT", before + 100_000, after + 100_000);
        AssertAbsolute(commands[2], "SET k2 v PXAT", before + 5000, after + 5000);
        AssertAbsolute(commands[3], "SET k3 v3 PXAT", before + 10_000, after + 10_000);
        AssertAbsolute(commands[4], "SET k4 v4 PXAT", before + 10_000, after + 10_000);
        Assert.Equal("SET k5 v PXAT 99999999999999", commands[5]);
        Assert.Equal(6, commands.Count);
    }

    [Fact]
    public async Task Getex_propagates_as_pexpireat_persist_or_del()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("SET", "k", "v");
        c.Call("GETEX", "k");
        c.Call("GETEX", "k", "PERSIST");
        long before = Now();
        c.Call("GETEX", "k", "EX", "50");
        long after = Now();
        c.Call("GETEX", "k", "PERSIST");
        c.Call("GETEX", "k", "EXAT", "1");
        c.Call("GETEX", "missing", "EX", "5");
        var commands = stream.Take();
        Assert.Equal("SET k v", commands[1]);
        AssertAbsolute(commands[2], "PEXPIREAT k", before + 50_000, after + 50_000);
        Assert.Equal(["PERSIST k", "DEL k"], commands[3..]);
    }

    [Fact]
    public async Task Expire_family_propagates_as_pexpireat_keeping_options_and_past_times_as_del()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("MSET", "a", "1", "b", "2", "c", "3");
        long before = Now();
        c.Call("EXPIRE", "a", "100");
        c.Call("PEXPIRE", "b", "100000", "NX");
        long after = Now();
        c.Call("EXPIREAT", "c", "4000000000");
        c.Call("PEXPIREAT", "c", "4000000000001", "GT");
        c.Call("EXPIRE", "a", "200", "NX");
        c.Call("EXPIRE", "missing", "10");
        c.Call("EXPIRE", "b", "-1");
        c.Call("CONFIG", "SET", "lazyfree-lazy-expire", "yes");
        c.Call("PEXPIREAT", "c", "1");
        var commands = stream.Take();
        Assert.Equal("MSET a 1 b 2 c 3", commands[1]);
        AssertAbsolute(commands[2], "PEXPIREAT a", before + 100_000, after + 100_000);
        AssertAbsolute(commands[3], "PEXPIREAT b", before + 100_000, after + 100_000, "NX");
        Assert.Equal(["PEXPIREAT c 4000000000000", "PEXPIREAT c 4000000000001 GT", "DEL b", "UNLINK c"], commands[4..]);
    }

    [Fact]
    public async Task Spop_propagates_the_members_it_chose_as_srem()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("SADD", "s", "a", "b", "c", "d", "e");
        string one = c.Call("SPOP", "s").Text!;
        var two = c.Call("SPOP", "s", "2").Texts;
        c.Call("SPOP", "s", "0");
        c.Call("SPOP", "missing", "3");
        var rest = c.Call("SPOP", "s", "10").Texts;
        Assert.Equal(2, rest.Length);
        var commands = stream.Take();
        Assert.Equal($"SREM s {one}", commands[2]);
        Assert.Equal(["MULTI", $"SREM s {two[0]}", $"SREM s {two[1]}", "EXEC", "DEL s"], commands[3..]);
    }

    [Fact]
    public async Task Incrbyfloat_and_hincrbyfloat_propagate_the_result()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("SET", "f", "10.5", "EX", "1000");
        c.Call("INCRBYFLOAT", "f", "0.1");
        c.Call("HINCRBYFLOAT", "h", "x", "2.5e3");
        c.Call("INCRBYFLOAT", "f", "abc");
        var commands = stream.Take();
        Assert.Equal(["SET f 10.6 KEEPTTL", "HSET h x 2500"], commands[2..]);
    }

    [Fact]
    public async Task Getdel_propagates_as_del_or_unlink()
    {
        var (node, stream, c) = await Start("--lazyfree-lazy-user-del", "yes");
        await using var _ = node;
        using var __ = c;
        c.Call("SET", "k", "v");
        c.Call("GETDEL", "k");
        c.Call("GETDEL", "k");
        Assert.Equal(["SELECT 0", "SET k v", "UNLINK k"], stream.Take());
    }

    [Fact]
    public async Task Restore_with_a_relative_ttl_gets_absttl()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("RPUSH", "l", "a", "b");
        var payload = c.Call("DUMP", "l").Bytes!;
        stream.Take();
        long before = Now();
        c.Call("RESTORE"u8.ToArray(), "r"u8.ToArray(), "60000"u8.ToArray(), payload);
        long after = Now();
        c.Call("RESTORE"u8.ToArray(), "r2"u8.ToArray(), "0"u8.ToArray(), payload);
        c.Call("RESTORE"u8.ToArray(), "r2"u8.ToArray(), "1"u8.ToArray(), payload, "REPLACE"u8.ToArray(), "ABSTTL"u8.ToArray());
        var commands = StreamCapture.Parse(stream.Bytes).Skip(2).ToList();
        Assert.Equal("RESTORE", StreamCapture.Format([commands[0][0]]));
        Assert.Equal("r", System.Text.Encoding.UTF8.GetString(commands[0][1]));
        Assert.InRange(long.Parse(System.Text.Encoding.UTF8.GetString(commands[0][2]), CultureInfo.InvariantCulture), before + 59_000, after + 61_000);
        Assert.Equal(payload, commands[0][3]);
        Assert.Equal("ABSTTL", System.Text.Encoding.UTF8.GetString(commands[0][4]));
        Assert.Equal(5, commands[0].Length);
        Assert.Equal(4, commands[1].Length);
        Assert.Equal("DEL r2", StreamCapture.Format(commands[2]));
        Assert.Equal(3, commands.Count);
    }

    [Fact]
    public async Task Blocking_pops_served_at_once_propagate_as_their_non_blocking_forms()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("RPUSH", "l", "a", "b", "c", "d", "e");
        c.Call("ZADD", "z", "1", "m1", "2", "m2", "3", "m3", "4", "m4");
        stream.Take();
        c.Call("BLPOP", "empty", "l", "1");
        c.Call("BRPOP", "l", "1");
        c.Call("BLMOVE", "l", "l2", "LEFT", "RIGHT", "1");
        c.Call("BRPOPLPUSH", "l", "l2", "1");
        c.Call("LMPOP", "2", "empty", "l", "LEFT", "COUNT", "5");
        c.Call("BLMPOP", "1", "1", "l2", "RIGHT");
        c.Call("BZPOPMIN", "z", "1");
        c.Call("BZPOPMAX", "z", "1");
        c.Call("ZMPOP", "1", "z", "MIN", "COUNT", "1");
        c.Call("BZMPOP", "1", "2", "empty", "z", "MAX");
        c.Call("BLPOP", "empty", "0.01");
        Assert.Equal(
            ["LPOP l", "RPOP l", "LMOVE l l2 LEFT RIGHT", "RPOPLPUSH l l2", "LPOP l 1", "RPOP l2 1",
             "ZPOPMIN z", "ZPOPMAX z", "ZPOPMIN z 1", "ZPOPMAX z 1"],
            stream.Take());
    }

    [Fact]
    public async Task A_blocked_client_served_by_a_push_propagates_the_push_then_the_pop()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        using var waiter = node.Client();
        using var mover = node.Client();
        using var zwaiter = node.Client();
        c.Call("SELECT", "3");
        waiter.Call("SELECT", "3");
        mover.Call("SELECT", "3");
        zwaiter.Call("SELECT", "3");
        waiter.Send("BLMPOP", "0", "2", "a", "b", "LEFT", "COUNT", "2");
        Wait.Until(() => BlockedClients(c) == 1, "BLMPOP blocks");
        mover.Send("BLMOVE", "b", "dst", "RIGHT", "LEFT", "0");
        Wait.Until(() => BlockedClients(c) == 2, "BLMOVE blocks");
        zwaiter.Send("BZPOPMIN", "z", "0");
        Wait.Until(() => BlockedClients(c) == 3, "BZPOPMIN blocks");
        c.Call("RPUSH", "b", "x", "y", "z");
        Assert.Equal("b", waiter.Read().Elements[0].Text);
        Assert.Equal("z", mover.Read().Text);
        c.Call("ZADD", "z", "1", "m");
        Assert.Equal("m", zwaiter.Read().Elements[1].Text);
        Assert.Equal(["SELECT 3", "RPUSH b x y z", "LPOP b 2", "LMOVE b dst RIGHT LEFT", "ZADD z 1 m", "ZPOPMIN z"], stream.Take());
    }

    private static long BlockedClients(RespClient c)
    {
        var info = c.Call("INFO", "clients").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("blocked_clients:", StringComparison.Ordinal));
        return long.Parse(line["blocked_clients:".Length..], CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_transaction_is_one_multi_exec_block_when_it_changed_several_things()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        using var other = node.Client();
        c.Call("MULTI");
        c.Call("SET", "a", "1");
        c.Call("GET", "a");
        c.Call("INCR", "a");
        c.Call("SELECT", "2");
        c.Call("SET", "b", "2", "EX", "100");
        c.Call("EXEC");
        var commands = stream.Take();
        Assert.Equal(["SELECT 0", "MULTI", "SET a 1", "INCR a", "SELECT 2"], commands[..5]);
        Assert.StartsWith("SET b 2 PXAT ", commands[5]);
        Assert.Equal("EXEC", commands[6]);
        Assert.Equal(7, commands.Count);

        // One change in EXEC goes alone (Redis 7.0 wraps only several); none, or a failed WATCH, emits nothing.
        c.Call("MULTI");
        c.Call("GET", "b");
        c.Call("SET", "c", "3");
        c.Call("EXEC");
        c.Call("MULTI");
        c.Call("GET", "b");
        c.Call("EXEC");
        c.Call("WATCH", "b");
        other.Call("SELECT", "2");
        other.Call("APPEND", "b", "x");
        c.Call("MULTI");
        c.Call("SET", "d", "4");
        c.Call("DEL", "b");
        Assert.Equal(RespKind.Null, c.Call("EXEC").Kind);
        Assert.Equal(["SET c 3", "APPEND b x"], stream.Take());
    }

    [Fact]
    public async Task Expired_keys_propagate_as_del_or_unlink_when_read_or_found_by_the_cycle()
    {
        var (node, stream, c) = await Start("--hz", "100");
        await using var _ = node;
        using var __ = c;
        c.Call("SET", "lazy", "v", "PX", "1");
        c.Call("SET", "active", "v", "PX", "1");
        Wait.Until(() => stream.Commands.Count >= 4, "the active cycle deletes a key");
        Wait.Until(() => c.Call("GET", "lazy").Kind == RespKind.Null, "the key expires");
        var all = stream.Commands.Select(StreamCapture.Format).ToList();
        Assert.Contains("DEL lazy", all);
        Assert.Contains("DEL active", all);
        Assert.Equal(1, all.Count(x => x == "DEL lazy"));

        c.Call("CONFIG", "SET", "lazyfree-lazy-expire", "yes");
        c.Call("SET", "u", "v", "PX", "1");
        Wait.Until(() => stream.Commands.Select(StreamCapture.Format).Contains("UNLINK u"), "the expired key propagates as UNLINK");
        Assert.Equal(0, c.Call("EXISTS", "u").Integer);
    }

    [Fact]
    public async Task Evicted_keys_propagate_as_del_or_unlink()
    {
        var (node, stream, c) = await Start("--maxmemory-policy", "allkeys-random");
        await using var _ = node;
        using var __ = c;
        string value = new('x', 1000);
        for (int i = 0; i < 50; i++)
        {
            c.Call("SET", $"k{i}", value);
        }
        c.Call("CONFIG", "SET", "maxmemory", "20000");
        c.Call("CONFIG", "SET", "lazyfree-lazy-eviction", "yes");
        c.Call("SET", "trigger", value);
        // INFO itself may evict first (the data is over the limit again): read the count, then the stream.
        long evicted = long.Parse(c.Call("INFO", "stats").Text!.Split("\r\n").First(l => l.StartsWith("evicted_keys:", StringComparison.Ordinal))[13..], CultureInfo.InvariantCulture);
        var commands = stream.Take();
        var deleted = commands.Where(x => x.StartsWith("DEL ", StringComparison.Ordinal)).Select(x => x[4..]).ToList();
        var unlinked = commands.Where(x => x.StartsWith("UNLINK ", StringComparison.Ordinal)).Select(x => x[7..]).ToList();
        Assert.NotEmpty(deleted);
        Assert.Equal(evicted, deleted.Count + unlinked.Count);
        foreach (var key in deleted.Concat(unlinked))
        {
            Assert.Equal(0, c.Call("EXISTS", key).Integer);
        }
        Assert.Contains("SET trigger " + value, commands);
    }

    [Fact]
    public async Task Database_commands_propagate_as_run_and_flushes_even_when_empty()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("FLUSHALL");
        c.Call("SELECT", "1");
        c.Call("FLUSHDB", "ASYNC");
        c.Call("SET", "k", "v");
        c.Call("COPY", "k", "k2", "DB", "4");
        c.Call("MOVE", "k", "5");
        c.Call("MOVE", "k", "5");
        c.Call("SWAPDB", "4", "5");
        c.Call("DEL", "missing");
        c.Call("SADD", "s", "a");
        c.Call("SADD", "s", "a");
        c.Call("LPUSHX", "nolist", "a");
        c.Call("HDEL", "s", "x");
        Assert.Equal(
            ["SELECT 0", "FLUSHALL", "SELECT 1", "FLUSHDB ASYNC", "SET k v", "COPY k k2 DB 4", "MOVE k 5", "SWAPDB 4 5", "SADD s a"],
            stream.Take());
    }

    [Fact]
    public async Task Master_offset_counts_the_bytes_emitted()
    {
        var (node, stream, c) = await Start();
        await using var _ = node;
        using var __ = c;
        c.Call("SET", "k", "v");
        c.Call("SELECT", "9");
        c.Call("RPUSH", "l", "a");
        byte[] expected = "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\na\r\n"u8.ToArray();
        Assert.Equal(expected, stream.Bytes);
        var info = c.Call("INFO", "replication").Text!;
        Assert.Contains($"master_repl_offset:{expected.Length}\r\n", info);
    }
}
