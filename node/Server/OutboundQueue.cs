using System.IO.Pipelines;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>
/// What the server sends a client outside the client's own command replies: monitor lines, a blocked
/// command's answer, and next pub/sub messages, keyspace notifications, invalidations and the replication
/// stream. Any thread holding the keyspace lock writes to <see cref="Writer"/> and calls <see cref="Send"/>;
/// only the client's connection moves the bytes into its own pipe (<see cref="DrainTo"/>, also under the
/// lock), so two threads never write one pipe, and <see cref="Send"/> wakes the connection so the bytes go
/// out without the client sending anything. The bytes waiting here are bounded by the client class's
/// <c>client-output-buffer-limit</c>: over it the client is closed and the event logged, as Redis does.
/// </summary>
public sealed class OutboundQueue
{
    private readonly Session _session;
    private Pipe? _pipe;
    private ReplyWriter? _writer;
    private long _sent;
    private long _drained;
    private int _wakePending;

    internal OutboundQueue(Session session) => _session = session;

    /// <summary>Asks the connection to drain the queue soon; set by the connection, called from any thread.</summary>
    internal Action? Wake { get; set; }

    /// <summary>Bytes waiting to be moved into the connection's pipe (CLIENT LIST omem).</summary>
    public long PendingBytes => _sent - _drained;

    /// <summary>Messages waiting (CLIENT LIST oll).</summary>
    public int PendingMessages { get; private set; }

    /// <summary>True once the client was closed for going over its limit: what follows is dropped.</summary>
    public bool Closing { get; private set; }

    /// <summary>TickCount64 since when the soft limit has been exceeded; 0 while under it.</summary>
    private long _softLimitSinceMs;

    /// <summary>Where a message is written (in the client's protocol); call <see cref="Send"/> when it is whole.</summary>
    public ReplyWriter Writer
    {
        get
        {
            if (_writer is null)
            {
                _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 4096, useSynchronizationContext: false));
                _writer = new ReplyWriter(_pipe.Writer);
            }
            _writer.Protocol = _session.Reply.Protocol;
            return _writer;
        }
    }

    /// <summary>Queues what was written to <see cref="Writer"/> since the last call, checks the limits and wakes the connection.</summary>
    public void Send()
    {
        if (_writer is null)
        {
            return;
        }
        // Never blocks: the pipe does not pause its writer; this only makes the bytes readable.
        _ = _pipe!.Writer.FlushAsync();
        long written = _writer.BytesWritten;
        if (written == _sent)
        {
            return;
        }
        if (Closing)
        {
            Discard();
            return;
        }
        _sent = written;
        PendingMessages++;
        if (OverLimit())
        {
            CloseForLimit();
            return;
        }
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            Wake?.Invoke();
        }
    }

    /// <summary>Moves every queued byte into <paramref name="target"/> (the connection's own replies). Under the lock.</summary>
    internal void DrainTo(ReplyWriter target)
    {
        Volatile.Write(ref _wakePending, 0);
        if (_pipe is null || PendingBytes == 0)
        {
            return;
        }
        if (_pipe.Reader.TryRead(out var read))
        {
            foreach (var segment in read.Buffer)
            {
                target.WriteRaw(segment.Span);
            }
            _pipe.Reader.AdvanceTo(read.Buffer.End);
        }
        _drained = _sent;
        PendingMessages = 0;
        _softLimitSinceMs = 0;
    }

    /// <summary>Redis's checkClientOutputBufferLimits for the client's class.</summary>
    private bool OverLimit()
    {
        var limit = _session.Server.OutputLimits[(int)_session.Class];
        long used = PendingBytes;
        if (limit.Hard > 0 && used >= limit.Hard)
        {
            return true;
        }
        if (limit.Soft > 0 && used >= limit.Soft)
        {
            long now = Environment.TickCount64;
            if (_softLimitSinceMs == 0)
            {
                _softLimitSinceMs = now;
                return false;
            }
            return now - _softLimitSinceMs >= limit.SoftSeconds * 1000;
        }
        _softLimitSinceMs = 0;
        return false;
    }

    private void CloseForLimit()
    {
        Closing = true;
        string client = ClientDescription.Describe(_session);
        Discard();
        _session.Server.Log.Event(LogLevel.Warning, "client_output_buffer_limit",
            $"Client {client} scheduled to be closed ASAP for overcoming of output buffer limits.",
            ("client_id", _session.Id), ("class", _session.Class.ToString().ToLowerInvariant()));
        // Closed from a pool thread: the abort may run the connection's continuation inline, never under this lock.
        if (_session.Abort is { } abort)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static a => a(), abort, preferLocal: false);
        }
    }

    /// <summary>Frees what is queued (the client is going away).</summary>
    private void Discard()
    {
        if (_pipe!.Reader.TryRead(out var read))
        {
            _pipe.Reader.AdvanceTo(read.Buffer.End);
        }
        _sent = _drained = _writer!.BytesWritten;
        PendingMessages = 0;
    }
}
