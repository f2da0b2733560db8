using System.Globalization;
using System.IO.Pipelines;

namespace CacheOperator.Node.Protocol;

/// <summary>
/// Writes RESP2 or RESP3 replies straight into a connection's <see cref="PipeWriter"/>; the reply
/// shape for nulls, maps, sets, doubles and booleans follows the protocol the client chose with HELLO.
/// </summary>
public sealed class ReplyWriter
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();
    private readonly PipeWriter _target;
    private PipeWriter _writer;
    private long _bytesBeforeMute;
    private DiscardingPipeWriter? _discard;

    /// <summary>Replies into <paramref name="target"/>.</summary>
    public ReplyWriter(PipeWriter target)
    {
        _target = target;
        _writer = target;
    }

    /// <summary>2 (the default) or 3 after HELLO 3.</summary>
    public int Protocol { get; set; } = 2;

    /// <summary>Bytes handed to the pipe so far, for INFO's net_output_bytes.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Set by an error reply; the dispatcher reads and clears it to count failed calls.</summary>
    public string? LastErrorPrefix { get; set; }

    internal PipeWriter Pipe => _target;

    /// <summary>
    /// While true, replies are dropped (CLIENT REPLY OFF and SKIP) and not counted; the dispatcher sets it
    /// around a command, so handlers write as always.
    /// </summary>
    public bool Muted
    {
        get => _writer != _target;
        set
        {
            if (value == Muted)
            {
                return;
            }
            if (value)
            {
                _bytesBeforeMute = BytesWritten;
                _writer = _discard ??= new DiscardingPipeWriter();
            }
            else
            {
                BytesWritten = _bytesBeforeMute;
                _writer = _target;
            }
        }
    }

    /// <summary>+OK</summary>
    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary>A simple string; must not contain CR or LF.</summary>
    public void WriteSimple(ReadOnlySpan<byte> text)
    {
        var span = _writer.GetSpan(text.Length + 3);
        span[0] = (byte)'+';
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        Commit(text.Length + 3);
    }

    /// <summary>A simple string from text.</summary>
    public void WriteSimple(string text) => WriteSimple(Encoding.UTF8.GetBytes(text));

    /// <summary>An error reply; <paramref name="message"/> starts with its code (ERR, WRONGTYPE, ...).</summary>
    public void WriteError(string message)
    {
        // Newlines would break framing; Redis replaces them with spaces too.
        message = message.Replace('\r', ' ').Replace('\n', ' ');
        int space = message.IndexOf(' ');
        LastErrorPrefix = space > 0 ? message[..space] : message;
        int length = Encoding.UTF8.GetByteCount(message);
        var span = _writer.GetSpan(length + 3);
        span[0] = (byte)'-';
        Encoding.UTF8.GetBytes(message, span[1..]);
        span[length + 1] = (byte)'\r';
        span[length + 2] = (byte)'\n';
        Commit(length + 3);
    }

    /// <summary>An integer reply.</summary>
    public void WriteInteger(long value) => WriteNumberLine((byte)':', value);

    /// <summary>A bulk string.</summary>
    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 4096)
        {
            var span = _writer.GetSpan(value.Length + 24);
            span[0] = (byte)'$';
            value.Length.TryFormat(span[1..], out int digits, default, CultureInfo.InvariantCulture);
            int pos = digits + 1;
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            value.CopyTo(span[pos..]);
            pos += value.Length;
            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            Commit(pos);
            return;
        }
        WriteNumberLine((byte)'$', value.Length);
        WriteRaw(value);
        WriteRaw(Crlf);
    }

    /// <summary>A bulk string from text.</summary>
    public void WriteBulk(string value) => WriteBulk(Encoding.UTF8.GetBytes(value));

    /// <summary>A bulk string holding a decimal integer (as GET returns counters).</summary>
    public void WriteBulkInteger(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        value.TryFormat(digits, out int n, default, CultureInfo.InvariantCulture);
        WriteBulk(digits[..n]);
    }

    /// <summary>The null bulk string: <c>$-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void WriteNullBulk() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>The null array: <c>*-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void WriteNullArray() => WriteRaw(Protocol == 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>An array header of <paramref name="count"/> elements.</summary>
    public void WriteArrayHeader(int count) => WriteNumberLine((byte)'*', count);

    /// <summary>A map header: <c>%</c> in RESP3, a flat array of twice the pairs in RESP2.</summary>
    public void WriteMapHeader(int pairs)
    {
        if (Protocol == 3)
        {
            WriteNumberLine((byte)'%', pairs);
        }
        else
        {
            WriteNumberLine((byte)'*', pairs * 2L);
        }
    }

    /// <summary>A set header: <c>~</c> in RESP3, an array in RESP2.</summary>
    public void WriteSetHeader(int count) => WriteNumberLine(Protocol == 3 ? (byte)'~' : (byte)'*', count);

    /// <summary>A push header (RESP3 only; RESP2 clients get an array).</summary>
    public void WritePushHeader(int count) => WriteNumberLine(Protocol == 3 ? (byte)'>' : (byte)'*', count);

    /// <summary>A double: <c>,</c> in RESP3, a bulk string in RESP2, as Redis 7.0's addReplyDouble prints it (%.17g).</summary>
    public void WriteDouble(double value)
    {
        Span<byte> text = stackalloc byte[40];
        WriteDoubleText(text[..NumberFormat.FormatDoubleG17(value, text)]);
    }

    /// <summary>A double as Redis 7.0's addReplyHumanLongDouble sends it (GEOPOS, WITHCOORD): <c>%.17Lf</c> trimmed, <c>,</c> in RESP3, a bulk string in RESP2.</summary>
    public void WriteHumanDouble(double value)
    {
        Span<byte> text = stackalloc byte[48];
        WriteDoubleText(text[..NumberFormat.FormatHumanLongDouble(value, text)]);
    }

    /// <summary>A double already printed: a <c>,</c> line in RESP3, a bulk string in RESP2.</summary>
    private void WriteDoubleText(ReadOnlySpan<byte> text)
    {
        if (Protocol == 3)
        {
            int n = text.Length;
            var span = _writer.GetSpan(n + 3);
            span[0] = (byte)',';
            text.CopyTo(span[1..]);
            span[n + 1] = (byte)'\r';
            span[n + 2] = (byte)'\n';
            Commit(n + 3);
        }
        else
        {
            WriteBulk(text);
        }
    }

    /// <summary>A boolean: <c>#t</c>/<c>#f</c> in RESP3, <c>:1</c>/<c>:0</c> in RESP2.</summary>
    public void WriteBoolean(bool value)
    {
        if (Protocol == 3)
        {
            WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        }
        else
        {
            WriteRaw(value ? ":1\r\n"u8 : ":0\r\n"u8);
        }
    }

    /// <summary>Text such as INFO's: a verbatim string in RESP3, a bulk string in RESP2.</summary>
    public void WriteVerbatim(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (Protocol == 3)
        {
            WriteNumberLine((byte)'=', bytes.Length + 4);
            WriteRaw("txt:"u8);
            WriteRaw(bytes);
            WriteRaw(Crlf);
        }
        else
        {
            WriteBulk(bytes);
        }
    }

    /// <summary>Bytes already in RESP form.</summary>
    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        _writer.Write(bytes);
        BytesWritten += bytes.Length;
    }

    private void WriteNumberLine(byte prefix, long value)
    {
        var span = _writer.GetSpan(24);
        span[0] = prefix;
        value.TryFormat(span[1..], out int digits, default, CultureInfo.InvariantCulture);
        span[digits + 1] = (byte)'\r';
        span[digits + 2] = (byte)'\n';
        Commit(digits + 3);
    }

    private void Commit(int count)
    {
        _writer.Advance(count);
        BytesWritten += count;
    }
}

/// <summary>A pipe writer that drops everything: where a muted <see cref="ReplyWriter"/> writes.</summary>
internal sealed class DiscardingPipeWriter : PipeWriter
{
    private byte[] _buffer = new byte[4096];

    /// <inheritdoc/>
    public override void Advance(int bytes)
    {
    }

    /// <inheritdoc/>
    public override Memory<byte> GetMemory(int sizeHint = 0) => Buffer(sizeHint);

    /// <inheritdoc/>
    public override Span<byte> GetSpan(int sizeHint = 0) => Buffer(sizeHint).Span;

    /// <inheritdoc/>
    public override void CancelPendingFlush()
    {
    }

    /// <inheritdoc/>
    public override void Complete(Exception? exception = null)
    {
    }

    /// <inheritdoc/>
    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => new(new FlushResult(false, false));

    private Memory<byte> Buffer(int sizeHint)
    {
        if (sizeHint > _buffer.Length)
        {
            _buffer = new byte[Math.Max(sizeHint, _buffer.Length * 2)];
        }
        return _buffer;
    }
}
