using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace CacheOperator.Node.Server.Transport;

/// <summary>
/// One client socket driven by <see cref="EpollLoop"/>: received bytes go into <see cref="Input"/> (whose
/// reader, the connection's request loop, runs inline on the loop thread), and whatever the request loop
/// writes to <see cref="Output"/> is sent when the loop ends its turn. Both pipes pause at 4 MiB, so a
/// client that floods requests or never reads its replies holds a bounded buffer. The loop closes the
/// socket itself once the replies are out, so its descriptor is never reused while the loop still uses it.
/// </summary>
internal sealed unsafe class EpollConnection : IDuplexPipe
{
    // Small segments: requests are copied in at the size that arrived and replies wait for the end of the
    // turn in 4 KiB pieces (Redis keeps a 16 KiB reply buffer per client), so a thousand clients hold little.
    private static readonly PipeOptions InputOptions = NewOptions(512);
    private static readonly PipeOptions OutputOptions = NewOptions(4096);

    private readonly EpollLoop _loop;
    private readonly Socket _socket;
    private readonly Pipe _input = new(InputOptions);
    private readonly Pipe _output = new(OutputOptions);
    private readonly Action _onOutputReady;
    private readonly Action _onInputResumed;
    private ValueTask<ReadResult> _outputRead;
    private bool _outputArmed;
    private bool _waitingWritable;
    private bool _inputPaused;
    private bool _inputDone;
    private bool _closed;
    private volatile bool _resumeRequested;
    private volatile bool _wakeRequested;

    public EpollConnection(EpollLoop loop, Socket socket)
    {
        _loop = loop;
        _socket = socket;
        Fd = (int)socket.Handle;
        _onOutputReady = () => _loop.Post(this);
        _onInputResumed = () =>
        {
            _resumeRequested = true;
            _loop.Post(this);
        };
        ArmOutput();
    }

    /// <summary>The socket's descriptor.</summary>
    internal int Fd { get; }

    /// <summary>The loop's slot for this connection, -1 when not (or no longer) registered.</summary>
    internal int Slot { get; set; } = -1;

    /// <summary>Set once the loop took the connection in.</summary>
    internal bool Registered { get; set; }

    /// <summary>True while queued for the end-of-turn send.</summary>
    internal bool SendScheduled { get; set; }

    /// <inheritdoc/>
    public PipeReader Input => _input.Reader;

    /// <inheritdoc/>
    public PipeWriter Output => _output.Writer;

    /// <summary>The socket is readable (or closed by the peer): one receive, then the request loop runs.</summary>
    internal void OnReadable()
    {
        if (_inputDone || _inputPaused || _closed)
        {
            return;
        }
        // Received into the loop's one buffer, then copied into the pipe at the size that arrived: a client
        // never holds a read-sized buffer of its own (1,000 clients would otherwise pin 64 MiB).
        var buffer = _loop.ReceiveBuffer;
        nint n = EpollLoop.Native.recv(Fd, buffer, EpollLoop.ReceiveBufferSize, 0);
        if (n > 0)
        {
            // An exact size hint: the pipe keeps its last segment, so a client of small requests keeps a small one.
            var target = _input.Writer.GetSpan((int)n);
            new ReadOnlySpan<byte>(buffer, (int)n).CopyTo(target);
            _input.Writer.Advance((int)n);
            var flush = _input.Writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                // The request loop has not consumed 4 MiB: stop reading this client until it has.
                _inputPaused = true;
                UpdateWatch();
                flush.GetAwaiter().UnsafeOnCompleted(_onInputResumed);
            }
            else if (flush.GetAwaiter().GetResult().IsCompleted)
            {
                EndInput(null);
            }
            return;
        }
        if (n < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is EpollLoop.Native.EAGAIN or EpollLoop.Native.EINTR)
            {
                return;
            }
            EndInput(new IOException($"recv failed: errno {errno}"));
            return;
        }
        EndInput(null);
    }

    /// <summary>The socket accepts data again after a send would have blocked.</summary>
    internal void OnWritable()
    {
        if (!_waitingWritable || _closed)
        {
            return;
        }
        _waitingWritable = false;
        UpdateWatch();
        ArmOutput();
    }

    /// <summary>Called by the loop at the end of its turn: resume input if asked, send what the request loop wrote.</summary>
    internal void OnSendScheduled()
    {
        if (_closed)
        {
            return;
        }
        if (_resumeRequested)
        {
            _resumeRequested = false;
            _inputPaused = false;
            UpdateWatch();
        }
        if (_wakeRequested)
        {
            _wakeRequested = false;
            // The request loop resumes inline here, drains the queue into the output pipe and flushes it.
            _input.Reader.CancelPendingRead();
            if (_closed)
            {
                return;
            }
        }
        if (!_outputArmed || !_outputRead.IsCompleted)
        {
            return;
        }
        _outputArmed = false;
        ReadResult result;
        try
        {
            result = _outputRead.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            Close(e);
            return;
        }
        Send(result);
    }

    /// <summary>
    /// Any thread: asks the loop to end the request loop's pending read (a cancelled read) so it runs, on the
    /// loop thread, and sends what the server queued for this client although the client sent nothing.
    /// </summary>
    internal void WakeReader()
    {
        _wakeRequested = true;
        _loop.Post(this);
    }

    /// <summary>Drops the connection after a failure: the request loop sees its input end with <paramref name="error"/>.</summary>
    internal void Fail(Exception error) => Close(error);

    private static PipeOptions NewOptions(int segmentSize) => new(
        pauseWriterThreshold: 4 * 1024 * 1024,
        resumeWriterThreshold: 2 * 1024 * 1024,
        minimumSegmentSize: segmentSize,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        useSynchronizationContext: false);

    private void Send(ReadResult result)
    {
        var buffer = result.Buffer;
        long sent = 0;
        bool blocked = false;
        while (sent < buffer.Length && !blocked)
        {
            var rest = buffer.Slice(sent);
            nint chunk;
            nint n;
            if (rest.First.Length >= EpollLoop.SendBufferSize || rest.IsSingleSegment)
            {
                fixed (byte* start = rest.FirstSpan)
                {
                    chunk = rest.First.Length;
                    n = EpollLoop.Native.send(Fd, start, chunk, EpollLoop.Native.MSG_NOSIGNAL);
                }
            }
            else
            {
                // Replies span several small segments: gathered into the loop's send buffer, one syscall for all.
                chunk = (nint)Math.Min(rest.Length, EpollLoop.SendBufferSize);
                rest.Slice(0, chunk).CopyTo(new Span<byte>(_loop.SendBuffer, (int)chunk));
                n = EpollLoop.Native.send(Fd, _loop.SendBuffer, chunk, EpollLoop.Native.MSG_NOSIGNAL);
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EpollLoop.Native.EINTR)
                {
                    continue;
                }
                if (errno != EpollLoop.Native.EAGAIN)
                {
                    // The client is gone: the request loop's next flush reports it, and a pending read ends.
                    Close(new IOException($"send failed: errno {errno}"));
                    return;
                }
                blocked = true;
                break;
            }
            sent += n;
            // A short send means the socket's buffer is full: wait until it drains rather than try again now.
            blocked = n < chunk;
        }
        // May resume a request loop paused on a full output pipe; it runs inline and may write more.
        _output.Reader.AdvanceTo(buffer.GetPosition(sent));
        if (blocked)
        {
            _waitingWritable = true;
            UpdateWatch();
            return;
        }
        if (result.IsCompleted || result.IsCanceled)
        {
            Close(null);
            return;
        }
        ArmOutput();
    }

    private void ArmOutput()
    {
        if (_closed)
        {
            return;
        }
        _outputRead = _output.Reader.ReadAsync();
        _outputArmed = true;
        if (_outputRead.IsCompleted)
        {
            _loop.Post(this);
        }
        else
        {
            _outputRead.GetAwaiter().UnsafeOnCompleted(_onOutputReady);
        }
    }

    private void EndInput(Exception? error)
    {
        if (_inputDone)
        {
            return;
        }
        _inputDone = true;
        if (!_closed)
        {
            UpdateWatch();
        }
        _input.Writer.Complete(error);
    }

    private void UpdateWatch()
    {
        if (Slot >= 0)
        {
            _loop.Watch(this, readable: !_inputDone && !_inputPaused, writable: _waitingWritable);
        }
    }

    /// <summary>Closes the socket; the request loop sees its input end (with <paramref name="error"/>, if any) and its flushes complete.</summary>
    private void Close(Exception? error)
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _loop.Remove(this);
        _output.Reader.Complete(error);
        EndInput(error);
        _socket.Dispose();
    }
}
