namespace CacheOperator.Node.Scripting;

/// <summary>
/// The libraries Redis vendors that Debian does not package for Lua 5.1, written in Lua. Their functions raise errors
/// without a position (level 0): the prelude makes them C functions (see as_c), which add the caller's position.
/// </summary>
internal static class LuaLibraries
{
    /// <summary>
    /// struct as Redis embeds it (Roberto Ierusalimschy's lua_struct): pack, unpack, size with the same formats
    /// (endianness, alignment, integers of 1 to 32 bytes, floats, strings), bytes and errors.
    /// </summary>
    public const string StructSource = """
-- struct as Redis embeds it (Roberto Ierusalimschy's lua_struct 0.2): pack(fmt, ...), unpack(fmt, s [, pos]), size(fmt).
local char, byte, sub, find, concat = string.char, string.byte, string.sub, string.find, table.concat
local floor, frexp, ldexp, huge = math.floor, math.frexp, math.ldexp, math.huge
local type, tonumber, error, select = type, tonumber, error, select
local MAXINTSIZE, MAXALIGN = 32, 8

local function argerror(n, fname, msg) error("bad argument #" .. n .. " to '" .. fname .. "' (" .. msg .. ")", 0) end

local function typename(v, present) if not present then return 'no value' end return type(v) end

local function checknumber(n, fname, args, count)
  local v = args[n]
  local num = tonumber(v)
  if num == nil then argerror(n, fname, 'number expected, got ' .. type(v)) end
  return num
end

local function checkstring(n, fname, args, count, missing_is_nil)
  local v = args[n]
  local t = type(v)
  if n > count or (t ~= 'string' and t ~= 'number') then argerror(n, fname, 'string expected, got ' .. typename(v, missing_is_nil or n <= count)) end
  return tostring(v)
end

-- Reads the digits after position i of fmt; returns the number (df when none) and the next position.
local function getnum(fmt, i, df)
  local digits = fmt:match('^%d+', i)
  if not digits then return df, i end
  return tonumber(digits), i + #digits
end

-- One option: its size and the next position; changes h (endian, align) for '<', '>', '!'.
local function optsize(fmt, i, h, fname)
  local opt = sub(fmt, i, i)
  i = i + 1
  if opt == 'B' or opt == 'b' or opt == 'x' then return opt, 1, i end
  if opt == 'H' or opt == 'h' then return opt, 2, i end
  if opt == 'L' or opt == 'l' or opt == 'T' or opt == 'd' then return opt, 8, i end
  if opt == 'f' then return opt, 4, i end
  if opt == 's' then return opt, 0, i end
  if opt == 'c' then local n; n, i = getnum(fmt, i, 1); return opt, n, i end
  if opt == 'i' or opt == 'I' then
    local n; n, i = getnum(fmt, i, 4)
    if n > MAXINTSIZE then error('integral size ' .. n .. ' is larger than limit of ' .. MAXINTSIZE, 0) end
    return opt, n, i
  end
  if opt == ' ' then return opt, 0, i end
  if opt == '>' then h.little = false; return opt, 0, i end
  if opt == '<' then h.little = true; return opt, 0, i end
  if opt == '!' then
    local a; a, i = getnum(fmt, i, MAXALIGN)
    local p = 1
    while p < a do p = p * 2 end
    if p ~= a then error('alignment ' .. a .. ' is not a power of 2', 0) end
    h.align = a
    return opt, 0, i
  end
  argerror(1, fname, "invalid format option '" .. opt .. "'")
end

local function toalign(len, h, opt, size)
  if size == 0 or opt == 'c' then return 0 end
  if size > h.align then size = h.align end
  return (size - (len % size)) % size
end

local function intbytes(n, little, size)
  n = n >= 0 and floor(n) or -floor(-n)
  local out = {}
  for k = 0, size - 1 do
    local b = size - k > 8 and (n < 0 and 255 or 0) or floor(n / 256 ^ k) % 256
    if little then out[k + 1] = b else out[size - k] = b end
  end
  return char(unpack(out))
end

local function floatbytes(x, little, double)
  local ebits, mbits = double and 11 or 8, double and 52 or 23
  local bias = 2 ^ (ebits - 1) - 1
  local sign = 0
  if x < 0 or (x == 0 and 1 / x < 0) then sign = 1; x = -x end
  local e, m
  if x ~= x then e, m = 2 ^ ebits - 1, 2 ^ (mbits - 1)
  elseif x == huge then e, m = 2 ^ ebits - 1, 0
  elseif x == 0 then e, m = 0, 0
  else
    local fm, fe = frexp(x)
    e = fe + bias - 1
    if e <= 0 then m = ldexp(fm, fe + bias - 1 + mbits); e = 0
    elseif e >= 2 ^ ebits - 1 then e, m = 2 ^ ebits - 1, 0
    else m = (fm * 2 - 1) * 2 ^ mbits end
    m = floor(m + 0.5)
    if m >= 2 ^ mbits then m = 0; e = e + 1 end
  end
  local size = double and 8 or 4
  local out = {}
  -- Assemble bytes from the low end: mantissa bits, then exponent, then sign.
  local bytes = {}
  local mm = m
  for k = 1, size do bytes[k] = 0 end
  local bitpos = 0
  local function put(value, nbits)
    for _ = 1, nbits do
      local bit = value % 2
      value = floor(value / 2)
      local idx = floor(bitpos / 8) + 1
      bytes[idx] = bytes[idx] + bit * 2 ^ (bitpos % 8)
      bitpos = bitpos + 1
    end
  end
  put(mm, mbits); put(e, ebits); put(sign, 1)
  for k = 1, size do
    if little then out[k] = bytes[k] else out[size - k + 1] = bytes[k] end
  end
  return char(unpack(out))
end

local function readfloat(s, pos, little, double)
  local size = double and 8 or 4
  local ebits, mbits = double and 11 or 8, double and 52 or 23
  if double then
    local hi, lo = 0, 0
    for k = 1, 4 do hi = hi * 256 + byte(s, little and (pos + size - k) or (pos + k - 1)) end
    for k = 5, 8 do lo = lo * 256 + byte(s, little and (pos + size - k) or (pos + k - 1)) end
    local sign = hi >= 2 ^ 31 and -1 or 1
    local e = floor(hi / 2 ^ 20) % 2048
    local m = (hi % 2 ^ 20) * 2 ^ 32 + lo
    if e == 2047 then return m == 0 and sign * huge or 0 / 0 end
    if e == 0 then return sign * ldexp(m, -1074) end
    return sign * ldexp(m + 2 ^ 52, e - 1075)
  end
  local value = 0
  for k = 1, size do value = value * 256 + byte(s, little and (pos + size - k) or (pos + k - 1)) end
  local sign = value >= 2 ^ 31 and -1 or 1
  local e = floor(value / 2 ^ 23) % 256
  local m = value % 2 ^ 23
  if e == 255 then return m == 0 and sign * huge or 0 / 0 end
  if e == 0 then return sign * ldexp(m, -149) end
  return sign * ldexp(m + 2 ^ 23, e - 150)
end

local function readint(s, pos, little, signed, size)
  local value = 0
  for k = 1, size do
    value = value * 256 + byte(s, little and (pos + size - k) or (pos + k - 1))
  end
  if signed and size <= 8 and value >= 2 ^ (size * 8 - 1) then value = value - 2 ^ (size * 8) end
  return value
end

local M = {}

M.pack = function(...)
  local count = select('#', ...)
  local args = {...}
  local fmt = checkstring(1, 'pack', args, count)
  local h = {little = true, align = 1}
  local out, total, arg, i = {}, 0, 2, 1
  while i <= #fmt do
    local opt, size
    opt, size, i = optsize(fmt, i, h, 'pack')
    local pad = toalign(total, h, opt, size)
    if pad > 0 then out[#out + 1] = string.rep('\0', pad); total = total + pad end
    if opt == 'b' or opt == 'B' or opt == 'h' or opt == 'H' or opt == 'l' or opt == 'L' or opt == 'T' or opt == 'i' or opt == 'I' then
      out[#out + 1] = intbytes(checknumber(arg, 'pack', args, count), h.little, size); arg = arg + 1
    elseif opt == 'x' then
      out[#out + 1] = '\0'
    elseif opt == 'f' or opt == 'd' then
      out[#out + 1] = floatbytes(checknumber(arg, 'pack', args, count), h.little, opt == 'd'); arg = arg + 1
    elseif opt == 'c' or opt == 's' then
      local s = checkstring(arg, 'pack', args, count, true)
      local l = #s
      if size == 0 then size = l end
      if l < size then argerror(arg + 1, 'pack', 'string too short') end
      out[#out + 1] = sub(s, 1, size)
      if opt == 's' then out[#out + 1] = '\0'; size = size + 1 end
      arg = arg + 1
    end
    total = total + size
  end
  return concat(out)
end

M.unpack = function(...)
  local count = select('#', ...)
  local args = {...}
  local fmt = checkstring(1, 'unpack', args, count)
  local data = checkstring(2, 'unpack', args, count)
  local ld = #data
  local pos = 0
  if count >= 3 and args[3] ~= nil then
    local p = tonumber(args[3])
    if p == nil then argerror(3, 'unpack', 'number expected, got ' .. type(args[3])) end
    pos = (p >= 0 and floor(p) or -floor(-p)) - 1
  end
  if pos < 0 then argerror(3, 'unpack', 'offset must be 1 or greater') end
  local h = {little = true, align = 1}
  local results, n, i = {}, 0, 1
  while i <= #fmt do
    local opt, size
    opt, size, i = optsize(fmt, i, h, 'unpack')
    pos = pos + toalign(pos, h, opt, size)
    if pos + size > ld then argerror(2, 'unpack', 'data string too short') end
    if opt == 'b' or opt == 'B' or opt == 'h' or opt == 'H' or opt == 'l' or opt == 'L' or opt == 'T' or opt == 'i' or opt == 'I' then
      local signed = opt == 'b' or opt == 'h' or opt == 'l' or opt == 'i'
      n = n + 1; results[n] = readint(data, pos + 1, h.little, signed, size)
    elseif opt == 'f' or opt == 'd' then
      n = n + 1; results[n] = readfloat(data, pos + 1, h.little, opt == 'd')
    elseif opt == 'c' then
      if size == 0 then
        if n == 0 or type(results[n]) ~= 'number' then error("format 'c0' needs a previous size", 0) end
        size = results[n]
        results[n] = nil
        n = n - 1
        if pos + size > ld then argerror(2, 'unpack', 'data string too short') end
      end
      n = n + 1; results[n] = sub(data, pos + 1, pos + size)
    elseif opt == 's' then
      local e = find(data, '\0', pos + 1, true)
      if not e then error('unfinished string in data', 0) end
      size = e - pos
      n = n + 1; results[n] = sub(data, pos + 1, e - 1)
    end
    pos = pos + size
  end
  n = n + 1; results[n] = pos + 1
  return unpack(results, 1, n)
end

M.size = function(...)
  local count = select('#', ...)
  local args = {...}
  local fmt = checkstring(1, 'size', args, count)
  local h = {little = true, align = 1}
  local pos, i = 0, 1
  while i <= #fmt do
    local opt, size
    opt, size, i = optsize(fmt, i, h, 'size')
    if opt == 's' then argerror(1, 'size', "option 's' has no fixed size") end
    if opt == 'c' and size == 0 then argerror(1, 'size', "option 'c0' has no fixed size") end
    pos = pos + toalign(pos, h, opt, size)
    pos = pos + size
  end
  return pos
end
return M
""";

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
