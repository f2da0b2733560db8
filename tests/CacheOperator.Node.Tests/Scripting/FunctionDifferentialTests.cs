using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// Redis 7.0 functions run on redis-server 7.0.15 and on the node, RESP2 and RESP3: FUNCTION LOAD's checks and the
/// load-time sandbox, redis.register_function's errors, FCALL/FCALL_RO replies and errors, FUNCTION LIST, STATS,
/// DELETE, FLUSH, DUMP, RESTORE and HELP, every reply identical (FUNCTION LIST's order, a dict's on Redis, is sorted).
/// </summary>
public class FunctionDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[] Flush = ["FUNCTION", "FLUSH"];

    private static string[] Load(string library, string code) => ["FUNCTION", "LOAD", "REPLACE", $"#!lua name={library}\n{code}"];

    private static string[] LoadProbe(string code) => Load("probe", code);

    /// <summary>Redis lists libraries and functions in its dicts' order: both sides are sorted before comparing.</summary>
    private static RespValue SortLists(string[] command, RespValue reply)
    {
        if (command.Length < 2 || !command[0].Equals("FUNCTION", StringComparison.OrdinalIgnoreCase)
            || !command[1].Equals("LIST", StringComparison.OrdinalIgnoreCase) || reply.Items is null)
        {
            return reply;
        }
        var libraries = reply.Items
            .Select(library => library with
            {
                Items = library.Items!.Select((v, i) => i == 5 && v.Items is { } functions
                    ? v with { Items = functions.OrderBy(f => f.ToString(), StringComparer.Ordinal).ToList() }
                    : v).ToList(),
            })
            .OrderBy(l => l.ToString(), StringComparer.Ordinal)
            .ToList();
        return reply with { Items = libraries };
    }

    private void Same(int protocol, params string[][] commands) => servers.AssertSameReplies(protocol, SortLists, [Flush, .. commands]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Load_checks_the_metadata_as_redis(int protocol) => Same(protocol,
        ["FUNCTION", "LOAD", "#!lua"],
        ["FUNCTION", "LOAD", "#!lua\n"],
        ["FUNCTION", "LOAD", "#!lua name=x"],
        ["FUNCTION", "LOAD", "#!lua name=a b=c\nreturn"],
        ["FUNCTION", "LOAD", "#!lua name=a-b\n"],
        ["FUNCTION", "LOAD", "#!lua name=\n"],
        ["FUNCTION", "LOAD", "#!lua  name=x  name=y\nredis.register_function('p2', function() end)"],
        ["FUNCTION", "LOAD", "#!luax name=x\n"],
        ["FUNCTION", "LOAD", "#! name=x\n"],
        ["FUNCTION", "LOAD", "lua name=x\n"],
        ["FUNCTION", "LOAD", "#!LUA name=x\n"],
        ["FUNCTION", "LOAD", "#!lua \"name=quoted\"\nredis.register_function('q1', function() return 1 end)"],
        ["FUNCTION", "LOAD", "#!lua NAME=upper\nredis.register_function('q2', function() return 1 end)"],
        ["FUNCTION", "LOAD", "#!lua name=x\nsyntax error"],
        ["FUNCTION", "LOAD", "#!lua name=x\nredis.register_function('p', function() end"],
        ["FUNCTION", "LOAD", "#!lua name=x\nreturn 1"],
        ["FUNCTION", "LOAD"],
        ["FUNCTION", "LOAD", "replace"],
        ["FUNCTION", "LOAD", "foo", "bar"],
        ["FUNCTION", "LOAD", "replace", "replace", "#!lua name=x\n"],
        ["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)"],
        ["FUNCTION", "LOAD", "#!lua name=lib1\nredis.register_function('f1', function() return 2 end)"],
        ["FUNCTION", "LOAD", "#!lua name=lib2\nredis.register_function('F1', function() return 3 end)"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib1\nredis.register_function('f1', function() return 4 end)"],
        ["FCALL", "f1", "0"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib1\nreturn 1"],
        ["FCALL", "f1", "0"],
        ["FUNCTION", "LOAD", "REPLACE", "#!lua name=lib1\nredis.register_function('g1', function() return 5 end)"],
        ["FCALL", "f1", "0"],
        ["FCALL", "G1", "0"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Load_runs_in_redis_s_load_time_sandbox(int protocol) => Same(protocol,
        LoadProbe("local v = redis.log\nredis.register_function('p', function() return 1 end)"),
        LoadProbe("local v = redis.LOG_NOTICE + redis.REDIS_VERSION_NUM .. redis.REDIS_VERSION\nredis.register_function('p', function() return 1 end)"),
        LoadProbe("redis.log(redis.LOG_DEBUG, 'loading')\nredis.register_function('p', function() return 1 end)"),
        LoadProbe("local v = redis.call"),
        LoadProbe("local v = redis.pcall"),
        LoadProbe("local v = redis.setresp"),
        LoadProbe("local v = redis.error_reply"),
        LoadProbe("local v = redis.sha1hex"),
        LoadProbe("local v = redis.REPL_ALL"),
        LoadProbe("redis.call('set', 'x', 'y')"),
        LoadProbe("local v = tostring"),
        LoadProbe("local v = string"),
        LoadProbe("local v = math"),
        LoadProbe("local v = KEYS"),
        LoadProbe("local v = _G"),
        LoadProbe("local v = cjson"),
        LoadProbe("local v = pcall"),
        LoadProbe("local v = os"),
        LoadProbe("error('x')"),
        LoadProbe("x = 1"),
        LoadProbe("redis.x = 1"),
        LoadProbe("local t = nil; local y = t.x"),
        LoadProbe("local t = {} .. 1"),
        LoadProbe("redis.log(redis.LOG_WARNING)"),
        LoadProbe("redis.log('x', 'y')"),
        LoadProbe("redis.register_function('p', function() end)\nwhile true do end"),
        ["FUNCTION", "LIST"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Register_function_errors_are_redis_s(int protocol) => Same(protocol,
        LoadProbe("redis.register_function('a-b', function() end)"),
        LoadProbe("redis.register_function('', function() end)"),
        LoadProbe("redis.register_function('ab', function() end)\nredis.register_function('ab', function() end)"),
        LoadProbe("redis.register_function{function_name='ab', callback=function() end, flags={'bad'}}"),
        LoadProbe("redis.register_function{function_name='ab', callback=function() end, foo=1}"),
        LoadProbe("redis.register_function{function_name='ab'}"),
        LoadProbe("redis.register_function{callback=function() end}"),
        LoadProbe("redis.register_function(1)"),
        LoadProbe("redis.register_function(1, 2)"),
        LoadProbe("redis.register_function()"),
        LoadProbe("redis.register_function('a', 'b')"),
        LoadProbe("redis.register_function({1}, 2)"),
        LoadProbe("redis.register_function('x', function() end, 3)"),
        LoadProbe("redis.register_function{function_name=function() end, callback=function() end}"),
        LoadProbe("redis.register_function{function_name='a', callback=1}"),
        LoadProbe("redis.register_function{function_name='a', callback=function() end, description={}}"),
        LoadProbe("redis.register_function{function_name='a', callback=function() end, flags='x'}"),
        LoadProbe("redis.register_function{[1]='a', callback=function() end}"),
        LoadProbe("redis.register_function{function_name='a', callback=function() end, flags={'no-writes', 2}}"),
        LoadProbe("redis.register_function{function_name='a', callback=function() end, flags={'no-writes', {}}}"),
        LoadProbe("redis.register_function{function_name='a', callback=function() end, flags={'No-Writes', 'ALLOW-OOM', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys', 'no-writes'}, description=1}"),
        ["FUNCTION", "LIST", "WITHCODE"],
        LoadProbe("redis.register_function{function_name=12, callback=function() end, description='about'}"),
        ["FUNCTION", "LIST"],
        LoadProbe("local r = redis\nredis.register_function('p', function() return r.register_function('q', function() end) end)"),
        ["FCALL", "p", "0"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Fcall_replies_and_errors_are_redis_s(int protocol) => Same(protocol,
        Load("calls", """
            redis.register_function('echo', function(keys, args) return {keys[1], keys[2], args[1], args[2], #keys, #args} end)
            redis.register_function('setget', function(keys, args) redis.call('set', keys[1], args[1]) return redis.call('get', keys[1]) end)
            redis.register_function{function_name='reader', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}
            redis.register_function{function_name='sneaky', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}
            redis.register_function('types', function() return {1, 'a', 3.7, true, false, {ok='fine'}, {err='MY nested'}} end)
            redis.register_function('resp3', function() redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return {redis.call('hgetall', 'h'), {double=1.5}, {map={a=1}}, {set={b=true}}} end)
            redis.register_function('fails', function() error('boom') end)
            redis.register_function('tablefail', function() error({err='MINE custom'}) end)
            redis.register_function('nilindex', function() local t = nil return t.x end)
            redis.register_function('unknown', function() return redis.call('nosuch') end)
            redis.register_function('pcalls', function() return redis.pcall('incr', 'setget_key') end)
            redis.register_function('global', function() x = 1 end)
            redis.register_function('keys', function() return KEYS end)
            redis.register_function('errreply', function() return redis.error_reply('MY err') end)
            redis.register_function('status', function() return redis.status_reply('GOOD') end)
            redis.register_function('sandbox', function() return {type(string), type(cjson), type(bit), type(os), type(redis.register_function)} end)
            redis.register_function('shutdown', function() return redis.call('shutdown') end)
            redis.register_function('nested', function() return redis.call('fcall', 'echo', '0') end)
            """),
        ["FCALL", "echo", "2", "k1", "k2", "a1", "a2"],
        ["FCALL", "ECHO", "0"],
        ["FCALL", "setget", "1", "setget_key", "value"],
        ["FCALL", "reader", "1", "setget_key"],
        ["FCALL_RO", "reader", "1", "setget_key"],
        ["FCALL_RO", "setget", "1", "setget_key", "v"],
        ["FCALL", "sneaky", "1", "k"],
        ["FCALL", "types", "0"],
        ["FCALL", "resp3", "0"],
        ["FCALL", "fails", "0"],
        ["FCALL", "tablefail", "0"],
        ["FCALL", "nilindex", "0"],
        ["FCALL", "unknown", "0"],
        ["FCALL", "pcalls", "0"],
        ["FCALL", "global", "0"],
        ["FCALL", "keys", "0"],
        ["FCALL", "errreply", "0"],
        ["FCALL", "status", "0"],
        ["FCALL", "sandbox", "0"],
        ["FCALL", "shutdown", "0"],
        ["FCALL", "nested", "0"],
        ["FCALL", "nosuch", "0"],
        ["FCALL", "nosuch", "x"],
        ["FCALL", "echo", "x"],
        ["FCALL", "echo", "-1"],
        ["FCALL", "echo", "3", "a"],
        ["FCALL", "echo"],
        ["FCALL"],
        ["FCALL_RO", "nosuch", "0"],
        ["EVAL", "return redis.call('fcall', 'echo', '0')", "0"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Function_subcommands_answer_as_redis(int protocol) => Same(protocol,
        Load("alpha", "redis.register_function('a1', function() return 1 end)\nredis.register_function{function_name='a2', callback=function() return 2 end, flags={'no-writes', 'allow-stale'}, description='second'}"),
        Load("beta", "redis.register_function('b1', function() return 1 end)"),
        ["FUNCTION", "LIST"],
        ["FUNCTION", "LIST", "WITHCODE"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "AL*"],
        ["FUNCTION", "LIST", "libraryname", "b?ta", "withcode"],
        ["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "none*"],
        ["FUNCTION", "LIST", "foo"],
        ["FUNCTION", "LIST", "LIBRARYNAME"],
        ["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
        ["FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "STATS", "x"],
        ["FUNCTION", "DELETE", "nosuch"],
        ["FUNCTION", "DELETE", "ALPHA"],
        ["FUNCTION", "DELETE", "alpha"],
        ["FCALL", "a1", "0"],
        ["FUNCTION", "STATS"],
        ["FUNCTION", "DELETE"],
        ["FUNCTION", "DELETE", "a", "b"],
        ["FUNCTION", "KILL"],
        ["FUNCTION", "KILL", "x"],
        ["FUNCTION", "FLUSH", "foo"],
        ["FUNCTION", "FLUSH", "a", "b"],
        ["FUNCTION", "FLUSH", "ASYNC"],
        ["FUNCTION", "LIST"],
        Load("gamma", "redis.register_function('c1', function() return 1 end)"),
        ["FUNCTION", "FLUSH", "sync"],
        ["FCALL", "c1", "0"],
        ["FUNCTION", "STATS"],
        ["FUNCTION"],
        ["FUNCTION", "foo"],
        ["FUNCTION", "HELP"],
        ["FUNCTION", "HELP", "x"],
        ["FUNCTION", "DUMP", "x"],
        ["FUNCTION", "RESTORE"],
        ["FUNCTION", "RESTORE", "a", "b", "c"],
        ["FUNCTION", "RESTORE", "payload", "nosuch"],
        ["FUNCTION", "RESTORE", "payload"],
        ["SCRIPT", "FLUSH"],
        Load("delta", "redis.register_function('d1', function() return 'survives SCRIPT FLUSH' end)"),
        ["SCRIPT", "FLUSH"],
        ["FCALL", "d1", "0"]);

    [Fact]
    public void Dump_is_redis_s_payload_and_restores_both_ways()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        string[] load1 = Load("one", "redis.register_function('one_f', function() return 'one' end)");
        string[] load2 = Load("two", "redis.register_function{function_name='two_f', callback=function() return 'two' end, flags={'no-writes'}, description='d'}");
        redis.Call(Flush);
        var emptyDump = redis.Call("FUNCTION", "DUMP").Bytes!;
        foreach (var client in new[] { redis, node })
        {
            client.Call(Flush);
            Assert.Equal(emptyDump, client.Call("FUNCTION", "DUMP").Bytes);
            Assert.Equal("one", client.Call(load1).Text);
        }
        // One library: the same bytes (code, LZF compression, version, CRC64).
        var redisDump = redis.Call("FUNCTION", "DUMP").Bytes!;
        Assert.Equal(redisDump, node.Call("FUNCTION", "DUMP").Bytes);
        foreach (var client in new[] { redis, node })
        {
            client.Call(load2);
        }
        var fromRedis = redis.Call("FUNCTION", "DUMP").Bytes!;
        var fromNode = node.Call("FUNCTION", "DUMP").Bytes!;
        byte[][] Restore(byte[] payload, string? policy) =>
            policy is null ? ["FUNCTION"u8.ToArray(), "RESTORE"u8.ToArray(), payload] : ["FUNCTION"u8.ToArray(), "RESTORE"u8.ToArray(), payload, System.Text.Encoding.ASCII.GetBytes(policy)];

        // Each restores the other's payload, policies and errors as Redis.
        foreach (var (target, payload) in new[] { (node, fromRedis), (redis, fromNode) })
        {
            var other = target == node ? redis : node;
            // Which library is named first follows the payload's libraries in a hash table's order on Redis.
            Assert.Matches("^ERR Library (one|two) already exists$", target.Call(Restore(payload, null)).Text);
            Assert.Matches("^ERR Library (one|two) already exists$", target.Call(Restore(payload, "APPEND")).Text);
            Assert.Equal("OK", target.Call(Restore(payload, "REPLACE")).Text);
            Assert.Equal("OK", target.Call(Flush).Text);
            Assert.Equal("OK", target.Call(Restore(payload, null)).Text);
            Assert.Equal("one", target.Call("FCALL", "one_f", "0").Text);
            Assert.Equal("two", target.Call("FCALL_RO", "two_f", "0").Text);
            Assert.Equal("OK", target.Call(Restore(payload, "FLUSH")).Text);
            Assert.Equal(SortLists(["FUNCTION", "LIST"], other.Call("FUNCTION", "LIST", "WITHCODE")).ToString(),
                SortLists(["FUNCTION", "LIST"], target.Call("FUNCTION", "LIST", "WITHCODE")).ToString());
        }

        // Payload errors, byte for byte.
        var corrupt = (byte[])fromRedis.Clone();
        corrupt[5] ^= 0x55;
        var notFunction = KeyDump(redis);
        var collide = Load("three", "redis.register_function('ONE_F', function() return 3 end)");
        foreach (var command in new[]
        {
            Restore(corrupt, null), Restore([1, 2, 3], null), Restore(notFunction, null), Restore(fromRedis, "bad"),
            Restore(emptyDump, null), Restore(emptyDump, "FLUSH"),
        })
        {
            var expected = redis.Call(command);
            Assert.Equal(expected.ToString(), node.Call(command).ToString());
        }
        foreach (var client in new[] { redis, node })
        {
            client.Call(Flush);
            client.Call(collide);
        }
        Assert.Equal(redis.Call(Restore(fromRedis, "REPLACE")).ToString(), node.Call(Restore(fromRedis, "REPLACE")).ToString());
        Assert.Equal(redis.Call(Restore(fromRedis, "APPEND")).ToString(), node.Call(Restore(fromRedis, "APPEND")).ToString());
        Assert.Equal("three", node.Call("FUNCTION", "LIST").Elements[0].Elements[1].Text);
    }

    [Fact]
    public void Monitor_shows_fcall_and_eval_before_their_commands_as_redis()
    {
        var transcripts = new List<string>();
        foreach (int port in new[] { servers.Redis.Port, servers.Node.Port })
        {
            using var monitor = new RespClient(port);
            using var client = new RespClient(port);
            client.Call(Flush);
            Assert.Equal("OK", monitor.Call("MONITOR").Text);
            client.Call(Load("mon", "redis.register_function('put', function(keys, args) return redis.call('set', keys[1], args[1]) end)"));
            client.Call("FCALL", "put", "1", "k", "v");
            client.Call("FCALL", "nosuch", "0");
            client.Call("FCALL", "put", "x");
            client.Call("EVAL", "return redis.call('get', KEYS[1])", "1", "k");
            client.Call("EVAL", "return 1", "x");
            client.Call("PING", "end");
            var lines = new List<string>();
            while (lines.Count == 0 || !lines[^1].EndsWith("\"end\"", StringComparison.Ordinal))
            {
                // "<time> [<db> <client>] <args>": the time and the client's address differ between the servers.
                string text = monitor.Read().Text!;
                text = System.Text.RegularExpressions.Regex.Replace(text, @"^\d+\.\d+ ", "");
                lines.Add(System.Text.RegularExpressions.Regex.Replace(text, @"^\[(\d+) (?!lua\])[^\]]+\]", "[$1 client]"));
            }
            transcripts.Add(string.Join("\n", lines));
        }
        Assert.Equal(transcripts[0], transcripts[1]);
        Assert.Contains("[0 lua] \"set\" \"k\" \"v\"", transcripts[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Over_maxmemory_a_function_s_flags_decide_as_redis(int protocol)
    {
        try
        {
            Same(protocol,
                Load("oom", "redis.register_function('writer', function(keys) return redis.call('set', keys[1], 'v') end)\n"
                    + "redis.register_function{function_name='reader', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}\n"
                    + "redis.register_function{function_name='roomy', callback=function() return 'ran' end, flags={'allow-oom'}}"),
                ["SCRIPT", "LOAD", "#!lua\nreturn 1"],
                ["CONFIG", "SET", "maxmemory", "1"],
                ["FCALL", "writer", "1", "k"],
                ["FCALL", "reader", "1", "k"],
                ["FCALL_RO", "reader", "1", "k"],
                ["FCALL", "roomy", "0"],
                ["FCALL_RO", "writer", "1", "k"],
                ["FCALL", "nosuch", "0"],
                ["EVAL", "#!lua\nreturn 1", "0"],
                ["EVAL", "#!lua flags=no-writes\nreturn 2", "0"],
                ["EVAL", "#!lua flags=allow-oom\nreturn 3", "0"],
                ["EVAL", "return 4", "0"],
                ["EVALSHA", "cb70127618f0b0be70c53cf6bfcfa54a29d9b0c0", "0"],
                ["FUNCTION", "LOAD", "#!lua name=more\nredis.register_function('m', function() return 1 end)"],
                ["FUNCTION", "DELETE", "oom"],
                ["CONFIG", "SET", "maxmemory", "0"],
                ["FCALL", "writer", "1", "k"]);
        }
        finally
        {
            using var redis = servers.Redis.Client();
            using var node = servers.Node.Client();
            redis.Call("CONFIG", "SET", "maxmemory", "0");
            node.Call("CONFIG", "SET", "maxmemory", "0");
        }
    }

    private static byte[] KeyDump(RespClient redis)
    {
        redis.Call("SET", "dumped", "value");
        return redis.Call("DUMP", "dumped").Bytes!;
    }
}
