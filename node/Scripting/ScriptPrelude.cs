namespace CacheOperator.Node.Scripting;

/// <summary>
/// The Lua half of the engine, run once when the interpreter starts: the <c>redis</c> table (whose commands reach
/// C# through the native functions passed in, which never raise: errors come back as markers and are raised here
/// with error()), Redis's pcall, math.random and error handler, the SCRIPT KILL hook, and the sandbox: read-only
/// globals and library tables, no debug/print/dofile/loadfile.
/// </summary>
internal static class ScriptPrelude
{
    /// <summary>The chunk name of this code: the error handler skips its frames to report the user's line.</summary>
    public const string ChunkName = "=cacheop";

    /// <summary>
    /// Called with the table of native functions; returns the error handler, the runner (function, then its
    /// arguments), the hidden globals table (where KEYS and ARGV are set) and the library loader (FUNCTION LOAD).
    /// </summary>
    public const string Source = """
local native = ...
local G = _G
local type, error, tostring, select, setmetatable, rawget, next, tonumber = type, error, tostring, select, setmetatable, rawget, next, tonumber
local floor, concat, lower, find = math.floor, table.concat, string.lower, string.find
local dbg = debug
local xpcall = xpcall
local getinfo, sethook = dbg.getinfo, dbg.sethook
local ncall = native.call
local INTERNAL = '=cacheop'

local function err_table(msg) return {err = 'ERR ' .. msg} end

-- Functions that raise errors must be C functions as in Redis, so that `return redis.call(...)` is no tail call
-- (which would lose the script's line) and error positions are the caller's. A coroutine.wrap closure is one:
-- each such function runs in a reusable coroutine, re-armed after an error ended it.
local cocreate, costatus, yield, wrap = coroutine.create, coroutine.status, coroutine.yield, coroutine.wrap
local getupvalue, setupvalue = native.getupvalue, native.setupvalue
local raisers = {}
local function loop(fn, ...) return loop(fn, yield(fn(...))) end
local function as_c(fn)
  local body = function(...) return loop(fn, ...) end
  local f = wrap(body)
  raisers[#raisers + 1] = {f, body}
  return f
end
local function rearm()
  for i = 1, #raisers do
    local r = raisers[i]
    if costatus(getupvalue(r[1])) == 'dead' then setupvalue(r[1], cocreate(r[2])) end
  end
end

local function toint(x)
  x = tonumber(x) or 0
  if x >= 0 then return floor(x) end
  return -floor(-x)
end

-- The Lua-written libraries raise like C ones: their functions become C functions too.
for _, lib in next, {cmsgpack, struct} do
  for k, f in next, lib do
    if type(f) == 'function' then lib[k] = as_c(f) end
  end
end

local redis = {}
redis.call = as_c(function(...)
  local r, failed = ncall(...)
  if failed then error(r) end
  return r
end)
redis.pcall = function(...)
  local r = ncall(...)
  return r
end
redis.sha1hex = as_c(function(...)
  if select('#', ...) ~= 1 then error(err_table('wrong number of arguments')) end
  return native.sha1hex((...))
end)
redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then return err_table('wrong number or type of arguments') end
  if e:sub(1, 1) ~= '-' then e = '-' .. e end
  local space = e:find(' ', 1, true)
  local code, msg
  if space then code, msg = e:sub(2, space - 1), e:sub(space + 1) else code, msg = 'ERR', e:sub(2) end
  msg = msg:gsub('^[\r\n]+', ''):gsub('[\r\n]+$', '')
  return {err = code .. ' ' .. msg}
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then return err_table('wrong number or type of arguments') end
  return {ok = s}
end
redis.log = as_c(function(...)
  local n = select('#', ...)
  if n < 2 then error(err_table('redis.log() requires two arguments or more.')) end
  local level = ...
  if tonumber(level) == nil then error(err_table('First argument must be a number (log level).')) end
  level = toint(level)
  if level < 0 or level > 3 then error(err_table('Invalid debug level.')) end
  local parts = {}
  for j = 2, n do
    local v = select(j, ...)
    local t = type(v)
    if t == 'string' or t == 'number' then parts[#parts + 1] = tostring(v) end
  end
  native.log(level, concat(parts, ' '))
end)
redis.setresp = as_c(function(...)
  if select('#', ...) ~= 1 then error(err_table('redis.setresp() requires one argument.')) end
  local resp = toint((...))
  if resp ~= 2 and resp ~= 3 then error(err_table('RESP version must be 2 or 3.')) end
  native.setresp(resp)
end)
redis.set_repl = as_c(function(...)
  if select('#', ...) ~= 1 then error(err_table('redis.set_repl() requires two arguments.')) end
  local flags = toint((...))
  if flags < 0 or flags > 3 then error(err_table('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.')) end
  native.set_repl(flags)
end)
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = as_c(function(...)
  local r = native.acl_check(...)
  if type(r) == 'table' then error(r) end
  return r
end)
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REDIS_VERSION, redis.REDIS_VERSION_NUM = native.version, native.version_num

-- math.random with Redis's own generator (redisLrand48), the same on every platform.
local rand48, srand48 = native.rand48, native.srand48
local function checkint(n, fname, ...)
  local v = select(n, ...)
  if select('#', ...) < n then error("bad argument #" .. n .. " to '" .. fname .. "' (number expected, got no value)", 0) end
  if tonumber(v) == nil then error("bad argument #" .. n .. " to '" .. fname .. "' (number expected, got " .. type(v) .. ")", 0) end
  return toint(v)
end
math.random = as_c(function(...)
  local r = rand48()
  local n = select('#', ...)
  if n == 0 then return r end
  if n == 1 then
    local u = checkint(1, 'random', ...)
    if u < 1 then error("bad argument #1 to 'random' (interval is empty)", 0) end
    return floor(r * u) + 1
  end
  if n == 2 then
    local l = checkint(1, 'random', ...)
    local u = checkint(2, 'random', ...)
    if l > u then error("bad argument #2 to 'random' (interval is empty)", 0) end
    return floor(r * (u - l + 1)) + l
  end
  error('wrong number of arguments', 0)
end)
math.randomseed = as_c(function(...) srand48(checkint(1, 'randomseed', ...)) end)

-- Redis 7's pcall: an error table caught by a script becomes its message.
local rawpcall = pcall
local function strip(ok, ...)
  if ok then return ok, ... end
  rearm()
  local e = ...
  if type(e) == 'table' then
    local m = e.err
    if type(m) == 'string' or type(m) == 'number' then return false, m end
  end
  return false, e
end
pcall = function(...) return strip(rawpcall(...)) end

-- Errors become {err=..., source=..., line=...} of the user's code (frames of this chunk are skipped).
local function err_handler(e)
  rearm()
  local level = 2
  local i = getinfo(level, 'nSl')
  if i and i.what == 'C' then level = level + 1; i = getinfo(level, 'nSl') end
  while i and i.source == INTERNAL do
    level = level + 1
    i = getinfo(level, 'nSl')
    if i and i.what == 'C' then level = level + 1; i = getinfo(level, 'nSl') end
  end
  if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end
  if i then
    e.source = i.source
    e.line = i.currentline
  end
  return e
end

-- Every 100000 instructions: C# notes the time (BUSY for others), serves I/O, and says whether SCRIPT KILL came.
local check = native.check
local hook
hook = function()
  if check() then
    -- From now on at every line: a pcall in the script cannot catch it for long.
    sethook(hook, 'l')
    error({err = 'ERR Script killed by user with SCRIPT KILL...'})
  end
end
local function run(f, ...)
  sethook(hook, '', 100000)
  return f(...)
end

-- The sandbox: globals live in a hidden table; _G is an empty read-only proxy that fails on unknown names.
local function readonly(t)
  return setmetatable({}, {__index = t, __newindex = function() error('Attempt to modify a readonly table', 2) end, __metatable = false})
end
local real = {}
for k, v in next, G do real[k] = v end
for k in next, real do G[k] = nil end
real.debug, real.print, real.dofile, real.loadfile, real.require, real.module, real.package, real.newproxy, real.getfenv, real.setfenv = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
real.redis = readonly(redis)
for _, name in next, {'string', 'table', 'math', 'coroutine', 'cjson', 'bit', 'struct', 'cmsgpack'} do
  if real[name] then real[name] = readonly(real[name]) end
end
real._G = G
local function missing(_, k) error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
setmetatable(real, {__index = missing})
local gmeta = {__index = real, __newindex = function() error('Attempt to modify a readonly table', 2) end}
setmetatable(G, gmeta)

-- FUNCTION LOAD: a library's code runs with only redis.register_function, redis.log and the constants in sight (Redis
-- 7.0's library API, switched in as the globals' __index while it loads); what it registers is collected for C#.
local loading, registered, registered_names = false, nil, nil
local function lib_error(msg) error(err_table(msg)) end
local flag_bits = {['no-writes'] = 1, ['allow-oom'] = 2, ['allow-stale'] = 4, ['no-cluster'] = 8, ['allow-cross-slot-keys'] = 16}
local function is_text(v) local t = type(v) return t == 'string' or t == 'number' end
local function read_flags(t)
  local bits, j = 0, 1
  while true do
    local v = t[j]
    if v == nil then return bits end
    if not is_text(v) then return nil end
    local b = flag_bits[lower(tostring(v))]
    if not b then return nil end
    if bits % (2 * b) < b then bits = bits + b end
    j = j + 1
  end
end
local function register_function(...)
  if not loading then lib_error('redis.register_function can only be called on FUNCTION LOAD command') end
  local argc = select('#', ...)
  if argc < 1 or argc > 2 then lib_error('wrong number of arguments to redis.register_function') end
  local name, fn, flags, desc
  if argc == 1 then
    local t = ...
    if type(t) ~= 'table' then lib_error('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).') end
    for k, v in next, t do
      if not is_text(k) then lib_error('named argument key given to redis.register_function is not a string') end
      local key = lower(tostring(k))
      if key == 'function_name' then
        if not is_text(v) then lib_error('function_name argument given to redis.register_function must be a string') end
        name = tostring(v)
      elseif key == 'description' then
        if not is_text(v) then lib_error('description argument given to redis.register_function must be a string') end
        desc = tostring(v)
      elseif key == 'callback' then
        if type(v) ~= 'function' then lib_error('callback argument given to redis.register_function must be a function') end
        fn = v
      elseif key == 'flags' then
        if type(v) ~= 'table' then lib_error('flags argument to redis.register_function must be a table representing function flags') end
        flags = read_flags(v)
        if not flags then lib_error('unknown flag given') end
      else
        lib_error('unknown argument given to redis.register_function')
      end
    end
    if not name then lib_error('redis.register_function must get a function name argument') end
    if not fn then lib_error('redis.register_function must get a callback argument') end
  else
    local n, f = ...
    if not is_text(n) then lib_error('first argument to redis.register_function must be a string') end
    if type(f) ~= 'function' then lib_error('second argument to redis.register_function must be a function') end
    name, fn = tostring(n), f
  end
  -- Redis 7.0.15 reports a bad function name with the library names' text.
  if not find(name, '^[a-zA-Z0-9_]+$') then lib_error('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long') end
  if registered_names[name] then lib_error('Function already exists in the library') end
  registered_names[name] = true
  registered[#registered + 1] = {name, fn, flags or 0, desc}
end
local load_redis = setmetatable({
  register_function = as_c(register_function), log = redis.log,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = native.version, REDIS_VERSION_NUM = native.version_num,
}, {__index = missing})
local library_api = setmetatable({redis = readonly(load_redis)}, {__index = missing})
local load_check = native.load_check
local load_hook
load_hook = function()
  if load_check() then
    -- Once timed out the hook runs at every line, but not in this chunk's own frames (the error handler).
    local i = getinfo(2, 'S')
    if i and i.source == INTERNAL then return end
    sethook(load_hook, 'l')
    error(err_table('FUNCTION LOAD timeout'))
  end
end
-- Runs a library's compiled chunk; returns true and the registrations ({name, callback, flags, description}), or false and the error text.
local function load_library(f)
  loading, registered, registered_names = true, {}, {}
  gmeta.__index = library_api
  sethook(load_hook, '', 100000)
  local ok, e = xpcall(f, err_handler)
  sethook()
  gmeta.__index = real
  local regs = registered
  loading, registered, registered_names = false, nil, nil
  if not ok then return false, e.err end
  return true, regs
end
return err_handler, run, real, load_library
""";
}
