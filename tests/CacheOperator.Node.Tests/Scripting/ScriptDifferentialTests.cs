using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// A corpus of scripts run on redis-server 7.0.15 and on the node, RESP2 and RESP3: every reply identical, type and
/// bytes (conversions both ways, error texts with their script and line, pcall, cjson, bit, the sandbox's refusals,
/// shebang flags, SCRIPT and EVALSHA).
/// </summary>
public class ScriptDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string[] Eval(string script, params string[] keysThenArgs) => ["EVAL", script, .. keysThenArgs];

    private static string[] Eval0(string script) => ["EVAL", script, "0"];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Conversions_from_lua_to_the_reply(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("return 1"),
        Eval0("return 3.99"),
        Eval0("return -3.99"),
        Eval0("return 1e20"),
        Eval0("return 'text'"),
        Eval0("return ''"),
        Eval0("return true"),
        Eval0("return false"),
        Eval0("return nil"),
        Eval0("return {1, 2, nil, 3}"),
        Eval0("return {1, 'a', {2, {3, 'b'}}, true, false, 0.5}"),
        Eval0("return {}"),
        Eval0("return {ok = 'fine'}"),
        Eval0("return {ok = 'line\\r\\nbreak'}"),
        Eval0("return {err = 'MYERR custom'}"),
        Eval0("return {err = 'no code'}"),
        Eval0("return redis.status_reply('GOOD')"),
        Eval0("return redis.error_reply('oops')"),
        Eval0("return redis.error_reply('-X oops')"),
        Eval0("return redis.error_reply('MY error here')"),
        Eval0("return redis.error_reply()"),
        Eval0("return redis.status_reply(1)"),
        Eval0("return {double = 1.5}"),
        Eval0("return {big_number = '12345678901234567890'}"),
        Eval0("redis.setresp(3) return {double = 3.25}"),
        Eval0("redis.setresp(3) return true"),
        Eval0("redis.setresp(3) return false"),
        Eval0("redis.setresp(3) return {map = {a = 1}}"),
        Eval0("redis.setresp(3) return {set = {x = true}}"),
        Eval0("return {1, {ok = 'nested'}, {err = 'ERR nested'}}"),
        Eval0("return function() end"),
        Eval("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", "2", "k1", "k2", "a1", "a2"));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Conversions_from_command_replies_to_lua(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("redis.call('set', 'str', 'v') return redis.call('get', 'str')"),
        Eval0("return redis.call('get', 'missing') == false"),
        Eval0("return type(redis.call('get', 'missing'))"),
        Eval0("return redis.call('incr', 'n')"),
        Eval0("return redis.call('set', 'n2', 1.5)"),
        Eval0("redis.call('set', 'f', 0.1) return redis.call('get', 'f')"),
        Eval0("local r = redis.call('set', 's', 'x') return type(r) .. ':' .. r.ok"),
        Eval0("redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)"),
        Eval0("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')"),
        Eval0("redis.setresp(3) redis.call('hset', 'h3', 'f', 'v') local r = redis.call('hgetall', 'h3') return r.map.f"),
        Eval0("redis.setresp(3) redis.call('hset', 'h4', 'f', 'v') return redis.call('hgetall', 'h4')"),
        Eval0("redis.setresp(3) redis.call('sadd', 'st', 'm') local r = redis.call('smembers', 'st') return tostring(r.set.m)"),
        Eval0("redis.setresp(3) redis.call('zadd', 'z', 1.5, 'm') local r = redis.call('zscore', 'z', 'm') return r.double"),
        Eval0("redis.setresp(3) return redis.call('zscore', 'z', 'm')"),
        Eval0("redis.setresp(3) return tostring(redis.call('get', 'missing'))"),
        Eval0("return redis.call('type', 'l')"),
        Eval0("return redis.pcall('lpush', 'str', 'x')"),
        Eval0("local e = redis.pcall('lpush', 'str', 'x') return e.err"),
        Eval0("return redis.call('exists', 'str', 'l', 'none')"));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_have_redis_texts_and_positions(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("return x"),
        Eval0("x = 1"),
        Eval0("error('boom')"),
        Eval0("error({err = 'MY thing'})"),
        Eval0("local t = nil\nreturn t.x"),
        Eval0("return redis.call('incr', 'a', 'b')"),
        Eval0("return redis.call('nosuch')"),
        Eval0("return redis.pcall('nosuch')"),
        Eval0("return redis.call()"),
        Eval0("return redis.call('get', {})"),
        Eval0("return redis.call('shutdown')"),
        Eval0("return redis.call('eval', 'return 1', 0)"),
        Eval0("redis.call('set', 'w', 'x') return redis.call('lpush', 'w', 1)"),
        Eval0("local ok, e = pcall(function() redis.call('nosuch') end) return e"),
        Eval0("local ok, e = pcall(function() error({err = 'x'}) end) return type(e)"),
        Eval0("local ok, e = pcall(error, 'plain') return {tostring(ok), e}"),
        Eval0("return redis.setresp(4)"),
        Eval0("return redis.set_repl(9)"),
        Eval0("return redis.log()"),
        Eval0("return redis.log('x', 'y')"),
        Eval0("return redis.log(9, 'y')"),
        Eval0("return redis.sha1hex()"),
        Eval0("return math.random(0)"),
        Eval0("local function f()\n  return undefined_thing\nend\nreturn f()"),
        Eval0("syntax error here"),
        Eval0("return 'unfinished"),
        ["EVAL", "return 1", "x"],
        ["EVAL", "return 1", "2", "a"],
        ["EVAL", "return 1", "-1"],
        ["EVALSHA", "0000000000000000000000000000000000000000", "0"],
        ["EVALSHA", "short", "0"],
        ["EVAL_RO", "return redis.call('set', 'k', 'v')", "1", "k"],
        ["EVALSHA_RO", "ffffffffffffffffffffffffffffffffffffffff", "0"]);

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Sandbox_refuses_as_redis(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("return os.time()"),
        Eval0("return io.write('x')"),
        Eval0("return loadfile('/etc/passwd')"),
        Eval0("return dofile('/etc/passwd')"),
        Eval0("return require('os')"),
        Eval0("return package"),
        Eval0("return debug"),
        Eval0("return print"),
        Eval0("return newproxy"),
        Eval0("return setfenv"),
        Eval0("return getfenv"),
        Eval0("string.x = 1"),
        Eval0("redis.call = nil"),
        Eval0("math.pi = 3"),
        Eval0("_G.y = 1"),
        Eval0("return rawget(_G, 'y')"),
        Eval0("return loadstring('z = 1')()"),
        Eval0("return loadstring('return 1 + 1')()"),
        Eval0("local t = {} t.a = 1 return t.a"),
        Eval("KEYS[1] = 'changed' return KEYS[1]", "1", "k"),
        Eval0("return {type(unpack), type(math.mod), type(table.getn), type(loadstring), type(load), type(coroutine), type(gcinfo)}"),
        Eval0("return {unpack({1, 2, 3})}"),
        Eval0("return math.mod(7, 3)"),
        Eval0("return table.getn({1, 2, 3})"),
        Eval0("return tostring(0.1) .. ' ' .. tostring(1/3) .. ' ' .. 7 / 2"),
        Eval0("return _VERSION"));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Libraries_cjson_and_bit(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("return cjson.encode({1, 2, 3})"),
        Eval0("return cjson.encode({a = {b = 'c'}})"),
        Eval0("return cjson.encode({})"),
        Eval0("return cjson.encode('s\\n\"')"),
        Eval0("return cjson.encode(0.1)"),
        Eval0("return cjson.encode(cjson.null)"),
        Eval0("local t = cjson.decode('[1, 2.5, \"x\", null, true]') return {t[1], t[3], tostring(t[4] == cjson.null), tostring(t[5])}"),
        Eval0("local t = cjson.decode('{\"a\": {\"b\": [10, 20]}}') return t.a.b[2]"),
        Eval0("return cjson.decode('[1,')"),
        Eval0("return cjson.encode(function() end)"),
        Eval0("return bit.band(0xff, 0x0f)"),
        Eval0("return bit.bor(1, 2, 4)"),
        Eval0("return bit.bxor(5, 3)"),
        Eval0("return bit.bnot(0)"),
        Eval0("return bit.lshift(1, 31)"),
        Eval0("return bit.rshift(-1, 28)"),
        Eval0("return bit.arshift(-256, 4)"),
        Eval0("return bit.tohex(255)"),
        Eval0("return bit.tobit(2^32 + 5)"),
        Eval0("return redis.sha1hex('')"),
        Eval0("return redis.sha1hex('abc')"),
        Eval0("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.REPL_ALL, redis.REPL_NONE, redis.LOG_WARNING}"),
        Eval0("return redis.replicate_commands()"),
        Eval0("return redis.breakpoint()"),
        Eval0("return redis.debug('x')"),
        Eval0("redis.log(redis.LOG_DEBUG, 'from a script') return 1"),
        Eval0("return redis.acl_check_cmd('get', 'k')"),
        Eval0("return redis.acl_check_cmd('nosuch')"));

    private const string Hex = "local function hex(s) return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end)) end ";

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Library_cmsgpack(int protocol) => servers.AssertSameReplies(protocol,
        Eval0(Hex + "local out = {} for _, v in ipairs({0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, 1.5, 0.1, -0.25, 3.14159, 1e300, 2^53, -2^53, 1e-310, 1/0, -1/0}) do out[#out + 1] = hex(cmsgpack.pack(v)) end return out"),
        Eval0(Hex + "return {hex(cmsgpack.pack({1, 2, 3})), hex(cmsgpack.pack({a = 1})), hex(cmsgpack.pack(true, false, nil)), hex(cmsgpack.pack({})), hex(cmsgpack.pack(string.rep('y', 300)))}"),
        Eval0(Hex + "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return hex(cmsgpack.pack(t))"),
        Eval0("local t = cmsgpack.unpack(cmsgpack.pack({1, {2, 'x'}, {k = 'v'}, 1.5})) return {t[1], t[2][2], t[3].k, tostring(t[4])}"),
        Eval0("return {cmsgpack.unpack(cmsgpack.pack(1, 'two', 3))}"),
        Eval0("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)}"),
        Eval0("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}"),
        Eval0("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 2)}"),
        Eval0("return cmsgpack.pack()"),
        Eval0("return cmsgpack.unpack('\\193')"),
        Eval0("return cmsgpack.unpack('\\205\\1')"),
        Eval0("return tostring(cmsgpack.unpack(string.char(0xcb, 0x40, 0x09, 0x21, 0xf9, 0xf0, 0x1b, 0x86, 0x6e)))"),
        Eval0("return tostring(cmsgpack.unpack(string.char(0xd3, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff)))"));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Library_struct(int protocol) => servers.AssertSameReplies(protocol,
        Eval0(Hex + "return {hex(struct.pack('>I2', 258)), hex(struct.pack('<i4', -2)), hex(struct.pack('bBhHlL', -1, 255, -300, 65000, -5, 7)), hex(struct.pack('>d', 1.5)), hex(struct.pack('<f', 0.1)), hex(struct.pack('s', 'ab')), hex(struct.pack('c3', 'xyz')), hex(struct.pack('!4 b i', 1, 2)), hex(struct.pack('>i8', -3))}"),
        Eval0(Hex + "return {hex(struct.pack('i', 1.9)), hex(struct.pack('i', -1.9)), hex(struct.pack('>d', -0.1)), hex(struct.pack('<d', 1e300)), hex(struct.pack('<f', 1e-40)), hex(struct.pack('>I3', 70000))}"),
        Eval0("return {struct.size('!8 b d i2'), struct.size('>I4c5'), struct.size('!'), struct.size('c')}"),
        Eval0("return {tostring(struct.unpack('>d', struct.pack('>d', 3.25))), tostring(struct.unpack('<f', struct.pack('<f', 0.1)))}"),
        Eval0("return {struct.unpack('>i2i4', struct.pack('>i2i4', -7, 100000))}"),
        Eval0("return {struct.unpack('b c0', struct.pack('b c0', 3, 'abc'))}"),
        Eval0("return {struct.unpack('s s', 'ab\\0cd\\0')}"),
        Eval0("return {struct.unpack('B', '\\1\\2', 2)}"),
        Eval0("return struct.unpack('>i4', 'ab')"),
        Eval0("return struct.pack('q', 1)"),
        Eval0("return struct.pack('i', 'x')"),
        Eval0("return struct.pack('i')"),
        Eval0("return struct.pack()"),
        Eval0("return struct.unpack('b')"),
        Eval0("return struct.size('s')"),
        Eval0("return struct.size('c0')"),
        Eval0("return struct.unpack('s', 'ab')"),
        Eval0("return struct.pack('i40', 1)"),
        Eval0("return struct.pack('!3i', 1)"),
        Eval0("return struct.unpack('c0', 'ab')"),
        Eval0("return struct.unpack('b', 'a', 0)"),
        Eval0("return struct.pack('c5', 'ab')"));

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Shebang_flags_and_script_commands(int protocol) => servers.AssertSameReplies(protocol,
        Eval0("#!lua\nreturn 2"),
        Eval0("#!lua flags=no-writes\nreturn redis.call('get', 'k')"),
        Eval0("#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')"),
        Eval0("#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1"),
        Eval0("#!lua flags=\nreturn 1"),
        Eval0("#!lua flags=bad\nreturn 1"),
        Eval0("#!python\nreturn 1"),
        Eval0("#!lua x=1\nreturn 1"),
        Eval0("#!lua"),
        Eval0("#!lua\nerror('line two')"),
        ["EVAL_RO", "#!lua\nreturn 1", "0"],
        ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"],
        ["SCRIPT", "LOAD", "return 'loaded'"],
        ["EVALSHA", "8b7c5c6a5f6d2a47b9e0d6a4b3b2c4d1a9e7f3c2", "0"],
        ["SCRIPT", "EXISTS", "b7bdab7ae11aa2f4a55ad1a8b1d6b6c6f3d2a7b0", "0000000000000000000000000000000000000000"],
        ["SCRIPT", "LOAD", "syntax error"],
        ["SCRIPT", "FLUSH", "BAD"],
        ["SCRIPT", "KILL"],
        ["SCRIPT", "HELP"],
        ["SCRIPT", "NOSUCH"],
        ["SCRIPT", "FLUSH", "SYNC"],
        ["SCRIPT", "FLUSH", "ASYNC"],
        ["SCRIPT", "FLUSH"]);

    [Fact]
    public void Evalsha_runs_a_loaded_script_by_any_case_of_its_sha()
    {
        var sha = servers.AssertSameReplies(2, ["SCRIPT", "LOAD", "return {KEYS[1], ARGV[1]}"])[0].Text!;
        servers.AssertSameReplies(2,
            ["SCRIPT", "LOAD", "return {KEYS[1], ARGV[1]}"],
            ["EVALSHA", sha, "1", "key", "arg"],
            ["EVALSHA", sha.ToUpperInvariant(), "1", "key", "arg"],
            ["EVALSHA_RO", sha, "1", "key", "arg"],
            ["SCRIPT", "EXISTS", sha, sha.ToUpperInvariant(), "nope"],
            ["SCRIPT", "FLUSH"],
            ["SCRIPT", "EXISTS", sha],
            ["EVALSHA", sha, "0"]);
        using var node = servers.Node.Client();
        node.Call("SCRIPT", "FLUSH");
        node.Call("SCRIPT", "LOAD", "return 1");
        var memory = node.Call("INFO", "memory").Text!;
        Assert.Contains("number_of_cached_scripts:1\r\n", memory, StringComparison.Ordinal);
        Assert.Contains("used_memory_lua:", memory, StringComparison.Ordinal);
    }
}
