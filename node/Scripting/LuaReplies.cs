using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Scripting;

/// <summary>
/// Redis 7.0's conversions (script_lua.c): a command's RESP2/RESP3 reply to a Lua value for redis.call, and a
/// script's Lua result to the caller's reply. Only non-raising Lua API calls are used (raw access, no metamethods).
/// </summary>
internal static class LuaReplies
{
    /// <summary>Pushes Redis's error table {err = <paramref name="message"/>}.</summary>
    public static void PushErrorTable(nint l, string message)
    {
        Lua51.CreateTable(l, 0, 1);
        Lua51.PushString(l, message);
        Lua51.RawSetField(l, -2, "err");
    }

    /// <summary>Pushes the one reply in <paramref name="reply"/> as a Lua value.</summary>
    public static void Push(nint l, ReadOnlySpan<byte> reply)
    {
        int position = 0;
        if (reply.IsEmpty)
        {
            Lua51.PushBoolean(l, 0);
            return;
        }
        Parse(l, reply, ref position);
    }

    private static void Parse(nint l, ReadOnlySpan<byte> r, ref int p)
    {
        Lua51.CheckStack(l, 4);
        byte kind = r[p];
        var line = Line(r, ref p);
        switch (kind)
        {
            case (byte)'+':
                Lua51.CreateTable(l, 0, 1);
                Lua51.PushBytes(l, line);
                Lua51.RawSetField(l, -2, "ok");
                break;
            case (byte)'-':
                Lua51.CreateTable(l, 0, 1);
                Lua51.PushBytes(l, line);
                Lua51.RawSetField(l, -2, "err");
                break;
            case (byte)':':
                Lua51.PushNumber(l, ParseLong(line));
                break;
            case (byte)'$':
                {
                    long length = ParseLong(line);
                    if (length < 0)
                    {
                        Lua51.PushBoolean(l, 0);
                        break;
                    }
                    Lua51.PushBytes(l, r.Slice(p, (int)length));
                    p += (int)length + 2;
                    break;
                }
            case (byte)'=':
                {
                    int length = (int)ParseLong(line);
                    var body = r.Slice(p, length);
                    p += length + 2;
                    Lua51.CreateTable(l, 0, 1);
                    Lua51.CreateTable(l, 0, 2);
                    Lua51.PushBytes(l, body[4..]);
                    Lua51.RawSetField(l, -2, "string");
                    Lua51.PushBytes(l, body[..3]);
                    Lua51.RawSetField(l, -2, "format");
                    Lua51.RawSetField(l, -2, "verbatim_string");
                    break;
                }
            case (byte)'*':
            case (byte)'>':
                {
                    long count = ParseLong(line);
                    if (count < 0)
                    {
                        Lua51.PushBoolean(l, 0);
                        break;
                    }
                    Lua51.CreateTable(l, (int)count, 0);
                    for (int i = 1; i <= count; i++)
                    {
                        Parse(l, r, ref p);
                        Lua51.RawSetI(l, -2, i);
                    }
                    break;
                }
            case (byte)'%':
                {
                    long count = ParseLong(line);
                    Lua51.CreateTable(l, 0, 1);
                    Lua51.CreateTable(l, 0, (int)count);
                    for (int i = 0; i < count; i++)
                    {
                        Parse(l, r, ref p);
                        Parse(l, r, ref p);
                        Lua51.RawSet(l, -3);
                    }
                    Lua51.RawSetField(l, -2, "map");
                    break;
                }
            case (byte)'~':
                {
                    long count = ParseLong(line);
                    Lua51.CreateTable(l, 0, 1);
                    Lua51.CreateTable(l, 0, (int)count);
                    for (int i = 0; i < count; i++)
                    {
                        Parse(l, r, ref p);
                        Lua51.PushBoolean(l, 1);
                        Lua51.RawSet(l, -3);
                    }
                    Lua51.RawSetField(l, -2, "set");
                    break;
                }
            case (byte)'_':
                Lua51.PushNil(l);
                break;
            case (byte)'#':
                Lua51.PushBoolean(l, line.Length > 0 && line[0] == (byte)'t' ? 1 : 0);
                break;
            case (byte)',':
                Lua51.CreateTable(l, 0, 1);
                Lua51.PushNumber(l, NumberFormat.TryParseDouble(line, out double d) ? d : ParseSpecial(line));
                Lua51.RawSetField(l, -2, "double");
                break;
            case (byte)'(':
                Lua51.CreateTable(l, 0, 1);
                Lua51.PushBytes(l, line);
                Lua51.RawSetField(l, -2, "big_number");
                break;
            case (byte)'|':
                {
                    // Attributes are not shown to scripts: skip them, convert the reply they annotate.
                    long count = ParseLong(line);
                    int top = Lua51.GetTop(l);
                    for (int i = 0; i < count * 2; i++)
                    {
                        Parse(l, r, ref p);
                    }
                    Lua51.SetTop(l, top);
                    Parse(l, r, ref p);
                    break;
                }
            default:
                Lua51.PushNil(l);
                break;
        }
    }

    private static double ParseSpecial(ReadOnlySpan<byte> text) =>
        text.SequenceEqual("inf"u8) ? double.PositiveInfinity : text.SequenceEqual("-inf"u8) ? double.NegativeInfinity : double.NaN;

    private static ReadOnlySpan<byte> Line(ReadOnlySpan<byte> r, ref int p)
    {
        int end = r[p..].IndexOf("\r\n"u8) + p;
        var line = r[(p + 1)..end];
        p = end + 2;
        return line;
    }

    private static long ParseLong(ReadOnlySpan<byte> text) => Utf8Parser.TryParse(text, out long value, out _) ? value : 0;

    /// <summary>Writes the value on top of the stack (and pops it) as the script's reply, as luaReplyToRedisReply.</summary>
    public static void Write(ReplyWriter reply, nint l, int scriptResp, int clientResp)
    {
        WriteValue(reply, l, scriptResp, clientResp, 0);
        Lua51.Pop(l, 1);
    }

    private static void WriteValue(ReplyWriter reply, nint l, int scriptResp, int clientResp, int depth)
    {
        int index = Lua51.GetTop(l);
        if (Lua51.CheckStack(l, 4) == 0 || depth > 1000)
        {
            reply.WriteError("ERR reached lua stack limit");
            return;
        }
        switch (Lua51.Type(l, index))
        {
            case Lua51.TypeString:
                reply.WriteBulk(Lua51.ToBytes(l, index));
                return;
            case Lua51.TypeBoolean:
                bool value = Lua51.ToBoolean(l, index) != 0;
                if (scriptResp == 2)
                {
                    if (value)
                    {
                        reply.WriteInteger(1);
                    }
                    else
                    {
                        reply.WriteNullBulk();
                    }
                }
                else
                {
                    reply.WriteBoolean(value);
                }
                return;
            case Lua51.TypeNumber:
                reply.WriteInteger(ToLong(Lua51.ToNumber(l, index)));
                return;
            case Lua51.TypeTable:
                WriteTable(reply, l, index, scriptResp, clientResp, depth);
                return;
            default:
                reply.WriteNullBulk();
                return;
        }
    }

    /// <summary>C's (long long) cast of a double on x86-64: truncation, and the "integer indefinite" value when out of range.</summary>
    private static long ToLong(double value) => double.IsNaN(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0 ? long.MinValue : (long)value;

    private static void WriteTable(ReplyWriter reply, nint l, int t, int scriptResp, int clientResp, int depth)
    {
        if (Lua51.RawGetField(l, t, "err"u8) == Lua51.TypeString)
        {
            string message = Encoding.UTF8.GetString(Lua51.ToBytes(l, -1));
            Lua51.Pop(l, 1);
            WriteErrorText(reply, message);
            return;
        }
        Lua51.Pop(l, 1);
        if (Lua51.RawGetField(l, t, "ok"u8) == Lua51.TypeString)
        {
            var ok = Lua51.ToBytes(l, -1).ToArray();
            Lua51.Pop(l, 1);
            for (int i = 0; i < ok.Length; i++)
            {
                if (ok[i] is (byte)'\r' or (byte)'\n')
                {
                    ok[i] = (byte)' ';
                }
            }
            reply.WriteSimple(ok);
            return;
        }
        Lua51.Pop(l, 1);
        if (Lua51.RawGetField(l, t, "double"u8) == Lua51.TypeNumber)
        {
            double d = Lua51.ToNumber(l, -1);
            Lua51.Pop(l, 1);
            reply.WriteDouble(d);
            return;
        }
        Lua51.Pop(l, 1);
        if (Lua51.RawGetField(l, t, "big_number"u8) == Lua51.TypeString)
        {
            var big = Lua51.ToBytes(l, -1).ToArray();
            Lua51.Pop(l, 1);
            for (int i = 0; i < big.Length; i++)
            {
                if (big[i] is (byte)'\r' or (byte)'\n')
                {
                    big[i] = (byte)' ';
                }
            }
            if (clientResp == 3)
            {
                reply.WriteRaw("("u8);
                reply.WriteRaw(big);
                reply.WriteRaw("\r\n"u8);
            }
            else
            {
                reply.WriteBulk(big);
            }
            return;
        }
        Lua51.Pop(l, 1);
        if (Lua51.RawGetField(l, t, "verbatim_string"u8) == Lua51.TypeTable)
        {
            int v = Lua51.GetTop(l);
            if (Lua51.RawGetField(l, v, "format"u8) == Lua51.TypeString && Lua51.RawGetField(l, v, "string"u8) == Lua51.TypeString)
            {
                var format = Lua51.ToBytes(l, -2);
                var text = Lua51.ToBytes(l, -1);
                if (clientResp == 3)
                {
                    var buffer = new byte[text.Length + 4];
                    format[..Math.Min(3, format.Length)].CopyTo(buffer);
                    buffer[3] = (byte)':';
                    text.CopyTo(buffer.AsSpan(4));
                    reply.WriteRaw(Encoding.ASCII.GetBytes($"={buffer.Length}\r\n"));
                    reply.WriteRaw(buffer);
                    reply.WriteRaw("\r\n"u8);
                }
                else
                {
                    reply.WriteBulk(text);
                }
                Lua51.Pop(l, 3);
                return;
            }
            Lua51.SetTop(l, v - 1);
        }
        else
        {
            Lua51.Pop(l, 1);
        }
        if (Lua51.RawGetField(l, t, "map"u8) == Lua51.TypeTable)
        {
            int m = Lua51.GetTop(l);
            int pairs = CountPairs(l, m);
            reply.WriteMapHeader(pairs);
            Lua51.PushNil(l);
            while (Lua51.Next(l, m) != 0)
            {
                Lua51.PushValue(l, -2);
                WriteValue(reply, l, scriptResp, clientResp, depth + 1);
                Lua51.Pop(l, 1);
                WriteValue(reply, l, scriptResp, clientResp, depth + 1);
                Lua51.Pop(l, 1);
            }
            Lua51.Pop(l, 1);
            return;
        }
        Lua51.Pop(l, 1);
        if (Lua51.RawGetField(l, t, "set"u8) == Lua51.TypeTable)
        {
            int s = Lua51.GetTop(l);
            int count = CountPairs(l, s);
            reply.WriteSetHeader(count);
            Lua51.PushNil(l);
            while (Lua51.Next(l, s) != 0)
            {
                Lua51.Pop(l, 1);
                Lua51.PushValue(l, -1);
                WriteValue(reply, l, scriptResp, clientResp, depth + 1);
                Lua51.Pop(l, 1);
            }
            Lua51.Pop(l, 1);
            return;
        }
        Lua51.Pop(l, 1);
        // An array: up to the first nil.
        int length = 0;
        while (true)
        {
            Lua51.RawGetI(l, t, length + 1);
            bool isNil = Lua51.Type(l, -1) == Lua51.TypeNil;
            Lua51.Pop(l, 1);
            if (isNil)
            {
                break;
            }
            length++;
        }
        reply.WriteArrayHeader(length);
        for (int i = 1; i <= length; i++)
        {
            Lua51.RawGetI(l, t, i);
            WriteValue(reply, l, scriptResp, clientResp, depth + 1);
            Lua51.Pop(l, 1);
        }
    }

    private static int CountPairs(nint l, int table)
    {
        int count = 0;
        Lua51.PushNil(l);
        while (Lua51.Next(l, table) != 0)
        {
            Lua51.Pop(l, 1);
            count++;
        }
        return count;
    }

    /// <summary>An error reply of the text as given (Redis writes "-%s"), newlines made spaces.</summary>
    public static void WriteErrorText(ReplyWriter reply, string text)
    {
        text = text.TrimEnd('\r', '\n');
        reply.WriteError(text);
    }
}

/// <summary>Where the script's own client writes command replies: one growable buffer, read back after each command.</summary>
internal sealed class ReplyBuffer : PipeWriter
{
    private byte[] _buffer = new byte[4096];
    private int _written;

    /// <summary>The bytes written since the last reset.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _written);

    /// <summary>Empties the buffer (keeps a big one only until it is not needed).</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer.Length > 1024 * 1024)
        {
            _buffer = new byte[4096];
        }
    }

    public override void Advance(int bytes) => _written += bytes;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public override Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        int need = _written + Math.Max(sizeHint, 256);
        if (need > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(need, _buffer.Length * 2));
        }
    }

    public override void CancelPendingFlush()
    {
    }

    public override void Complete(Exception? exception = null)
    {
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => new(new FlushResult(false, false));
}
