namespace CacheOperator.Node.Scripting;

/// <summary>
/// The libraries Redis vendors that Debian does not package for Lua 5.1, written in Lua. Their functions raise errors
/// without a position (level 0): the prelude makes them C functions (see as_c), which add the caller's position.
/// </summary>
internal static class LuaLibraries
{
    /// <summary>struct (Roberto Ierusalimschy's): not written yet, so its functions are absent (README lists it).</summary>
    public const string StructSource = "return {}";

    /// <summary>
    /// cmsgpack as Redis embeds it (lua_cmsgpack 0.4.0): the same bytes for every value (smallest integer forms,
    /// float32 when exact, str8, arrays when keys are 1..n, nil past 16 levels), the same errors.
    /// </summary>
    public const string CmsgpackSource = """
-- cmsgpack as Redis embeds it (lua_cmsgpack 0.4): pack(...), unpack(s), unpack_one(s [, offset]), unpack_limit(s, limit [, offset]).
local char, byte, sub, concat = string.char, string.byte, string.sub, table.concat
local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
local type, next, select, error, tonumber = type, next, select, error, tonumber
local MAX_NESTING = 16

local function be(n, bytes)
  local out = {}
  for i = bytes, 1, -1 do
    out[i] = n % 256
    n = floor(n / 256)
  end
  return char(unpack(out))
end

local function double_bytes(x)
  local sign = 0
  if x < 0 or (x == 0 and 1 / x < 0) then sign = 1; x = -x end
  if x ~= x then return char(0x7f, 0xf8, 0, 0, 0, 0, 0, 0) end
  if x == huge then return char(sign * 128 + 0x7f, 0xf0, 0, 0, 0, 0, 0, 0) end
  if x == 0 then return char(sign * 128, 0, 0, 0, 0, 0, 0, 0) end
  local m, e = frexp(x)            -- x = m * 2^e, 0.5 <= m < 1
  local exponent, mantissa = e + 1022, 0
  if exponent <= 0 then            -- subnormal
    mantissa = ldexp(m, e + 1074)
    exponent = 0
  else
    mantissa = (m * 2 - 1) * 2 ^ 52
  end
  local hi = sign * 2 ^ 31 + exponent * 2 ^ 20 + floor(mantissa / 2 ^ 32)
  local lo = mantissa % 2 ^ 32
  return be(hi, 4) .. be(lo, 4)
end

local function float_bytes(x)
  local sign = 0
  if x < 0 or (x == 0 and 1 / x < 0) then sign = 1; x = -x end
  if x ~= x then return char(0x7f, 0xc0, 0, 0) end
  if x == huge then return char(sign * 128 + 0x7f, 0x80, 0, 0) end
  if x == 0 then return char(sign * 128, 0, 0, 0) end
  local m, e = frexp(x)
  local exponent, mantissa = e + 126, 0
  if exponent <= 0 then
    mantissa = ldexp(m, e + 149)
    exponent = 0
  else
    mantissa = (m * 2 - 1) * 2 ^ 23
  end
  return be(sign * 2 ^ 31 + exponent * 2 ^ 23 + mantissa, 4)
end

-- True when a double survives the round trip through a float (C's (double)(float)d == d).
local function fits_float(x)
  if x ~= x or x == huge or x == -huge then return true end
  local a = x < 0 and -x or x
  if a == 0 then return true end
  local m, e = frexp(a)
  if e > 128 then return false end
  if e < -148 then return false end
  local bits = e >= -125 and 24 or (e + 149)
  local scaled = ldexp(m, bits)
  return scaled == floor(scaled)
end

local function encode_integer(n, out)
  if n >= 0 then
    if n <= 127 then out[#out + 1] = char(n)
    elseif n <= 0xff then out[#out + 1] = char(0xcc, n)
    elseif n <= 0xffff then out[#out + 1] = char(0xcd) .. be(n, 2)
    elseif n <= 0xffffffff then out[#out + 1] = char(0xce) .. be(n, 4)
    else out[#out + 1] = char(0xcf) .. be(n, 8) end
  else
    if n >= -32 then out[#out + 1] = char(256 + n)
    elseif n >= -128 then out[#out + 1] = char(0xd0, 256 + n)
    elseif n >= -32768 then out[#out + 1] = char(0xd1) .. be(65536 + n, 2)
    elseif n >= -2147483648 then out[#out + 1] = char(0xd2) .. be(4294967296 + n, 4)
    else
      -- Two's complement over 64 bits without losing precision: high and low words apart.
      local hi = floor(n / 4294967296)
      local lo = n - hi * 4294967296
      out[#out + 1] = char(0xd3) .. be(hi + 4294967296, 4) .. be(lo, 4)
    end
  end
end

local encode

local function is_array(t)
  local count, max = 0, 0
  for k in next, t do
    if type(k) == 'number' and k > 0 and k == floor(k) then
      if k > max then max = k end
      count = count + 1
    else
      return false
    end
  end
  return max == count
end

local function encode_table(t, out, level)
  if is_array(t) then
    local n = #t
    local len = 0
    for _ in next, t do len = len + 1 end
    if len < 16 then out[#out + 1] = char(0x90 + len)
    elseif len <= 0xffff then out[#out + 1] = char(0xdc) .. be(len, 2)
    else out[#out + 1] = char(0xdd) .. be(len, 4) end
    for i = 1, len do encode(t[i], out, level + 1) end
  else
    local len = 0
    for _ in next, t do len = len + 1 end
    if len < 16 then out[#out + 1] = char(0x80 + len)
    elseif len <= 0xffff then out[#out + 1] = char(0xde) .. be(len, 2)
    else out[#out + 1] = char(0xdf) .. be(len, 4) end
    for k, v in next, t do
      encode(k, out, level + 1)
      encode(v, out, level + 1)
    end
  end
end

encode = function(v, out, level)
  local t = type(v)
  if t == 'string' then
    local len = #v
    if len < 32 then out[#out + 1] = char(0xa0 + len)
    elseif len <= 0xff then out[#out + 1] = char(0xd9, len)
    elseif len <= 0xffff then out[#out + 1] = char(0xda) .. be(len, 2)
    else out[#out + 1] = char(0xdb) .. be(len, 4) end
    out[#out + 1] = v
  elseif t == 'boolean' then
    out[#out + 1] = v and char(0xc3) or char(0xc2)
  elseif t == 'number' then
    if v == floor(v) and v > -9223372036854775808 and v < 9223372036854775808 and v ~= huge and v ~= -huge then
      encode_integer(v, out)
    elseif fits_float(v) then
      out[#out + 1] = char(0xca) .. float_bytes(v)
    else
      out[#out + 1] = char(0xcb) .. double_bytes(v)
    end
  elseif t == 'table' then
    if level >= MAX_NESTING then out[#out + 1] = char(0xc0) else encode_table(v, out, level) end
  else
    out[#out + 1] = char(0xc0)
  end
end

local M = {}

M.pack = function(...)
  local n = select('#', ...)
  if n == 0 then error("bad argument #0 to 'pack' (MessagePack pack needs input.)", 0) end
  local out = {}
  for i = 1, n do encode((select(i, ...)), out, 0) end
  return concat(out)
end

-- Decoding: a cursor over the string; errors are raised as Redis's messages.
local function need(s, pos, n)
  if pos + n - 1 > #s then error('Missing bytes in input.', 0) end
end

local function uint(s, pos, n)
  need(s, pos, n)
  local v = 0
  for i = pos, pos + n - 1 do v = v * 256 + byte(s, i) end
  return v
end

local function sint(s, pos, n)
  local v = uint(s, pos, n)
  local limit = 2 ^ (8 * n - 1)
  if v >= limit then v = v - 2 * limit end
  return v
end

local function read_float(s, pos)
  local b = uint(s, pos, 4)
  local sign = b >= 2 ^ 31 and -1 or 1
  local exponent = floor(b / 2 ^ 23) % 256
  local mantissa = b % 2 ^ 23
  if exponent == 255 then return mantissa == 0 and sign * huge or 0 / 0 end
  if exponent == 0 then return sign * ldexp(mantissa, -149) end
  return sign * ldexp(mantissa + 2 ^ 23, exponent - 150)
end

local function read_double(s, pos)
  local hi, lo = uint(s, pos, 4), uint(s, pos + 4, 4)
  local sign = hi >= 2 ^ 31 and -1 or 1
  local exponent = floor(hi / 2 ^ 20) % 2048
  local mantissa = (hi % 2 ^ 20) * 2 ^ 32 + lo
  if exponent == 2047 then return mantissa == 0 and sign * huge or 0 / 0 end
  if exponent == 0 then return sign * ldexp(mantissa, -1074) end
  return sign * ldexp(mantissa + 2 ^ 52, exponent - 1075)
end

local decode

local function decode_array(s, pos, n)
  local t = {}
  for i = 1, n do
    local v
    v, pos = decode(s, pos)
    t[i] = v
  end
  return t, pos
end

local function decode_map(s, pos, n)
  local t = {}
  for _ = 1, n do
    local k, v
    k, pos = decode(s, pos)
    v, pos = decode(s, pos)
    if k ~= nil then t[k] = v end
  end
  return t, pos
end

local function read_bytes(s, pos, n)
  need(s, pos, n)
  return sub(s, pos, pos + n - 1), pos + n
end

decode = function(s, pos)
  need(s, pos, 1)
  local c = byte(s, pos)
  pos = pos + 1
  if c <= 0x7f then return c, pos end
  if c >= 0xe0 then return c - 256, pos end
  if c >= 0xa0 and c <= 0xbf then return read_bytes(s, pos, c - 0xa0) end
  if c >= 0x90 and c <= 0x9f then return decode_array(s, pos, c - 0x90) end
  if c >= 0x80 and c <= 0x8f then return decode_map(s, pos, c - 0x80) end
  if c == 0xc0 then return nil, pos end
  if c == 0xc2 then return false, pos end
  if c == 0xc3 then return true, pos end
  if c == 0xcc then return uint(s, pos, 1), pos + 1 end
  if c == 0xcd then return uint(s, pos, 2), pos + 2 end
  if c == 0xce then return uint(s, pos, 4), pos + 4 end
  if c == 0xcf then return uint(s, pos, 8), pos + 8 end
  if c == 0xd0 then return sint(s, pos, 1), pos + 1 end
  if c == 0xd1 then return sint(s, pos, 2), pos + 2 end
  if c == 0xd2 then return sint(s, pos, 4), pos + 4 end
  if c == 0xd3 then
    local hi, lo = sint(s, pos, 4), uint(s, pos + 4, 4)
    return hi * 4294967296 + lo, pos + 8
  end
  if c == 0xca then return read_float(s, pos), pos + 4 end
  if c == 0xcb then return read_double(s, pos), pos + 8 end
  if c == 0xd9 or c == 0xc4 then return read_bytes(s, pos + 1, uint(s, pos, 1)) end
  if c == 0xda or c == 0xc5 then return read_bytes(s, pos + 2, uint(s, pos, 2)) end
  if c == 0xdb or c == 0xc6 then return read_bytes(s, pos + 4, uint(s, pos, 4)) end
  if c == 0xdc then return decode_array(s, pos + 2, uint(s, pos, 2)) end
  if c == 0xdd then return decode_array(s, pos + 4, uint(s, pos, 4)) end
  if c == 0xde then return decode_map(s, pos + 2, uint(s, pos, 2)) end
  if c == 0xdf then return decode_map(s, pos + 4, uint(s, pos, 4)) end
  error('Bad data format in input.', 0)
end

-- Decodes up to limit objects (0: all) from offset; returns next offset (-1 at the end) then the objects.
local function unpack_full(s, limit, offset)
  if type(s) ~= 'string' then error("bad argument #1 to 'unpack' (string expected, got " .. type(s) .. ")", 0) end
  local results, count, pos = {}, 0, offset + 1
  while pos <= #s and (limit == 0 or count < limit) do
    local v
    v, pos = decode(s, pos)
    count = count + 1
    results[count] = v
  end
  return pos > #s and -1 or pos - 1, results, count
end

M.unpack = function(s)
  local _, results, count = unpack_full(s, 0, 0)
  return unpack(results, 1, count)
end
M.unpack_one = function(s, offset)
  local nextoffset, results, count = unpack_full(s, 1, tonumber(offset) or 0)
  return nextoffset, unpack(results, 1, count)
end
M.unpack_limit = function(s, limit, offset)
  local nextoffset, results, count = unpack_full(s, tonumber(limit) or 0, tonumber(offset) or 0)
  return nextoffset, unpack(results, 1, count)
end
M._NAME, M._VERSION, M._COPYRIGHT, M._DESCRIPTION = 'cmsgpack', 'lua-cmsgpack 0.4.0', 'Copyright (C) 2012, Salvatore Sanfilippo', 'MessagePack C implementation for Lua'
return M
""";
}
