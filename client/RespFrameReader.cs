using System.Diagnostics.CodeAnalysis;

namespace CacheOperator.Client;

/// <summary>
/// Turns received bytes into replies: a receive buffer that grows to the frame being read, the resumable
/// scanner, and one array per complete frame that the reply's elements slice. For the connection's receive
/// loop, for raw test clients and for stream consumers (a replica reading its master's command stream).
/// </summary>
public sealed class RespFrameReader
{
    private const int InitialSize = 16 * 1024;
    private const int MinimumRead = 4 * 1024;

    /// <summary>A frame at least this large keeps the receive buffer it arrived in instead of being copied.</summary>
    private const int LargeFrame = 1024 * 1024;

    private byte[] _buffer = new byte[InitialSize];
    private int _start;
    private int _end;
    private RespFrameScanner _scanner;

    /// <summary>True when bytes of a frame not yet complete (or of frames not yet read) are buffered.</summary>
    public bool HasBufferedData => _end > _start;

    /// <summary>Space to receive into; call <see cref="Advance"/> with the count received.</summary>
    public Memory<byte> GetReceiveMemory()
    {
        int buffered = _end - _start;
        long wanted = Math.Max(buffered + MinimumRead, _scanner.Needed);
        if (_start + wanted > _buffer.Length)
        {
            if (wanted > _buffer.Length)
            {
                var larger = new byte[Math.Min(Math.Max(wanted, _buffer.Length * 2L), Array.MaxLength)];
                Buffer.BlockCopy(_buffer, _start, larger, 0, buffered);
                _buffer = larger;
            }
            else
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, buffered);
            }
            _start = 0;
            _end = buffered;
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>The bytes received and not yet read, for consumers of raw data (a replica reading its master's snapshot).</summary>
    public ReadOnlyMemory<byte> Buffered => _buffer.AsMemory(_start, _end - _start);

    /// <summary>Drops the first <paramref name="count"/> bytes of <see cref="Buffered"/> (read raw by the caller).</summary>
    public void Consume(int count)
    {
        _start += count;
        _scanner = default;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    /// <summary>
    /// Length of the complete frames at the start of <see cref="Buffered"/> (0 while the first is incomplete), not
    /// consumed: a stream consumer applies them as raw bytes and then calls <see cref="Consume"/>.
    /// </summary>
    public int ScanFrames()
    {
        int total = 0;
        var data = _buffer.AsSpan(_start, _end - _start);
        while (total < data.Length)
        {
            var scanner = default(RespFrameScanner);
            int length = scanner.Scan(data[total..]);
            if (length < 0)
            {
                break;
            }
            total += length;
        }
        return total;
    }

    /// <summary>Records that <paramref name="count"/> bytes were received into <see cref="GetReceiveMemory"/>.</summary>
    public void Advance(int count) => _end += count;

    /// <summary>Copies <paramref name="bytes"/> in as if received.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var memory = GetReceiveMemory().Span;
            int n = Math.Min(memory.Length, bytes.Length);
            bytes[..n].CopyTo(memory);
            Advance(n);
            bytes = bytes[n..];
        }
    }

    /// <summary>The next complete reply, if one is buffered; throws <see cref="RespProtocolException"/> on bytes that are not RESP.</summary>
    public bool TryRead([NotNullWhen(true)] out RespReply? reply)
    {
        if (_end == _start)
        {
            reply = null;
            return false;
        }
        int length = _scanner.Scan(_buffer.AsSpan(_start, _end - _start));
        if (length < 0)
        {
            reply = null;
            return false;
        }
        if (length >= LargeFrame)
        {
            // Hand the buffer to the reply: no copy of a large bulk; what follows it moves to a fresh buffer.
            var frame = _buffer;
            int frameStart = _start;
            int rest = _end - _start - length;
            _buffer = new byte[Math.Max(InitialSize, rest)];
            Buffer.BlockCopy(frame, frameStart + length, _buffer, 0, rest);
            _start = 0;
            _end = rest;
            reply = RespReplyBuilder.Build(frame, frameStart);
            return true;
        }
        var copy = new byte[length];
        Buffer.BlockCopy(_buffer, _start, copy, 0, length);
        _start += length;
        if (_start == _end)
        {
            _start = _end = 0;
            if (_buffer.Length > LargeFrame)
            {
                _buffer = new byte[InitialSize];
            }
        }
        reply = RespReplyBuilder.Build(copy, 0);
        return true;
    }

    /// <summary>Reads once from <paramref name="stream"/> into the buffer; returns the count (0 at end of stream).</summary>
    public int Receive(Stream stream)
    {
        int n = stream.Read(GetReceiveMemory().Span);
        Advance(n);
        return n;
    }

    /// <summary>Reads once from <paramref name="stream"/> into the buffer; returns the count (0 at end of stream).</summary>
    public async ValueTask<int> ReceiveAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        int n = await stream.ReadAsync(GetReceiveMemory(), cancellationToken).ConfigureAwait(false);
        Advance(n);
        return n;
    }

    /// <summary>The next reply from <paramref name="stream"/>, blocking; <see cref="RespConnectionException"/> if it ends first.</summary>
    public RespReply Read(Stream stream)
    {
        RespReply? reply;
        while (!TryRead(out reply))
        {
            if (Receive(stream) == 0)
            {
                throw EndOfStream();
            }
        }
        return reply;
    }

    /// <summary>The next reply from <paramref name="stream"/>; <see cref="RespConnectionException"/> if it ends first.</summary>
    public async ValueTask<RespReply> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        RespReply? reply;
        while (!TryRead(out reply))
        {
            if (await ReceiveAsync(stream, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw EndOfStream();
            }
        }
        return reply;
    }

    /// <summary>The exception for a stream that ended, naming whether it ended inside a reply.</summary>
    internal RespConnectionException EndOfStream() => new(HasBufferedData
        ? $"Connection closed by the server in the middle of a reply ({_end - _start} bytes of it received)"
        : "Connection closed by the server");
}
