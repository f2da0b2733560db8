using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server.Transport;

namespace CacheOperator.Node.Server;

/// <summary>
/// One client's socket: reads requests into a <see cref="CommandBatch"/>, runs each batch under the
/// keyspace lock, and flushes all of the batch's replies at once.
/// </summary>
internal sealed class ClientConnection
{
    private readonly NodeServer _server;
    private readonly Socket _socket;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly CommandBatch _batch = new();

    /// <summary>True when the socket belongs to the epoll loop, which closes it once the replies are out.</summary>
    private readonly bool _transportOwnsSocket;
    private volatile bool _stopping;

    /// <summary>A read done while a command waited, not yet parsed: the next read of the request loop.</summary>
    private ReadResult? _heldRead;

    /// <summary>A client on <paramref name="socket"/>; <paramref name="transport"/> is the epoll loop's pipes, or null for .NET's socket streams.</summary>
    public ClientConnection(NodeServer server, Socket socket, long id, IDuplexPipe? transport)
    {
        _server = server;
        _socket = socket;
        if (transport is not null)
        {
            _reader = transport.Input;
            _writer = transport.Output;
            _transportOwnsSocket = true;
        }
        else
        {
            var stream = new NetworkStream(socket, ownsSocket: true);
            // Zero-byte reads: an idle client holds no buffer (1,000 idle clients would pin 16 MiB otherwise) and
            // costs no extra syscall (a peek replaces the receive that would find nothing), so a big buffer
            // fits a whole pipelined batch of large values in one read.
            _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, useZeroByteReads: true));
            _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024));
        }
        Session = new Session(server, id, new ReplyWriter(_writer), Describe(socket.RemoteEndPoint), Describe(socket.LocalEndPoint))
        {
            Abort = Abort,
            Fd = socket.Handle.ToInt64(),
        };
        // Pushes wake the request loop with a cancelled read: on the epoll loop's thread (where the loop runs
        // inline), or from the thread pool, never on the pushing thread, which holds the keyspace lock.
        Session.Outbound.Wake = transport is EpollConnection epoll ? epoll.WakeReader : WakeFromPool;
    }

    public Session Session { get; }

    /// <summary>Stops after the replies in flight are written (shutdown).</summary>
    public void StopGracefully()
    {
        _stopping = true;
        _reader.CancelPendingRead();
    }

    /// <summary>Closes the socket now (CLIENT KILL, idle timeout).</summary>
    public void Abort()
    {
        _stopping = true;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        _reader.CancelPendingRead();
    }

    public async Task RunAsync()
    {
        try
        {
            await ServeAsync();
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
            // The peer went away mid-read or mid-write; nothing is left half-applied because commands run whole.
        }
        finally
        {
            ForgetKeyState();
            Interlocked.Add(ref _server.Stats.NetOutputBytesClosed, Session.Reply.BytesWritten);
            await _reader.CompleteAsync();
            await _writer.CompleteAsync();
            if (!_transportOwnsSocket)
            {
                _socket.Dispose();
            }
        }
    }

    private async Task ServeAsync()
    {
        long maxBulk = _server.Config.ProtoMaxBulkLen.Number;
        long leftover = 0;
        while (!_stopping)
        {
            var result = _heldRead ?? await _reader.ReadAsync();
            _heldRead = null;
            var buffer = result.Buffer;
            Interlocked.Add(ref _server.Stats.NetInputBytes, buffer.Length - leftover);
            ProtocolException? error = null;
            SequencePosition consumed;
            try
            {
                consumed = RespParser.Parse(buffer, _batch, maxBulk);
            }
            catch (ProtocolException e)
            {
                error = e;
                consumed = buffer.End;
            }
            leftover = buffer.Slice(consumed).Length;
            Session.QueryBufferBytes = leftover;
            _reader.AdvanceTo(consumed, buffer.End);

            if (_batch.CommandCount > 0)
            {
                Session.LastInteractionMs = Environment.TickCount64;
                if (!await ExecuteBatchAsync())
                {
                    return;
                }
            }
            else if (Session.Outbound.PendingBytes > 0 && !await SendPushesAsync())
            {
                return;
            }
            if (error is not null)
            {
                _server.Log.Verbose($"Protocol error from client id={Session.Id} addr={Session.RemoteAddress}: {error.Message}");
                Session.Reply.WriteError("ERR " + error.Message);
                await _writer.FlushAsync();
                return;
            }
            // A cancelled read that is not a stop is the one that ended a wait (see WaitWhileSuspendedAsync): keep going.
            if (result.IsCompleted || (result.IsCanceled && _stopping))
            {
                return;
            }
        }
    }

    /// <summary>Runs the parsed commands; false when the connection must close.</summary>
    private async ValueTask<bool> ExecuteBatchAsync()
    {
        var keyspace = _server.Keyspace;
        int count = _batch.CommandCount;
        int next = 0;
        while (next < count)
        {
            next = CommandRunner.RunBatch(Session, _batch, next);
            if (Session.Suspension is { } suspension)
            {
                Session.Suspension = null;
                // Whoever answers the wait writes to the outbound queue, which the next turn drains.
                await _writer.FlushAsync();
                Session.IsBlocked = true;
                try
                {
                    if (!await WaitWhileSuspendedAsync(suspension))
                    {
                        return false;
                    }
                    Session.Blocked = null;
                }
                finally
                {
                    Session.IsBlocked = false;
                }
            }
            if (Session.CloseAfterReply)
            {
                _batch.ClearCompleted();
                lock (keyspace.Sync)
                {
                    // An answer queued by whoever ended a wait (a forced unblock) goes out before the close.
                    Session.Outbound.DrainTo(Session.Reply);
                }
                await _writer.FlushAsync();
                return false;
            }
        }
        _batch.ClearCompleted();
        var flush = await _writer.FlushAsync();
        return !flush.IsCompleted && !flush.IsCanceled;
    }

    /// <summary>
    /// Waits for a suspended command while keeping a read pending, so a client that disconnects while
    /// blocked is noticed at once (and its wait forgotten) rather than handed data it will never read.
    /// Bytes that arrive meanwhile are left unparsed for the request loop. False when the client is gone.
    /// </summary>
    private async Task<bool> WaitWhileSuspendedAsync(Task suspension)
    {
        while (true)
        {
            if (_heldRead is { } held)
            {
                // Nothing consumed, everything examined: the next read waits for more bytes or the end.
                _reader.AdvanceTo(held.Buffer.Start, held.Buffer.End);
                _heldRead = null;
            }
            var read = _reader.ReadAsync().AsTask();
            if (await Task.WhenAny(suspension, read) == suspension)
            {
                _reader.CancelPendingRead();
                _heldRead = await read;
                return true;
            }
            var result = await read;
            if (result.IsCompleted || _stopping)
            {
                return false;
            }
            _heldRead = result;
            // Nobody else writes the pipe during the wait (the answer is queued too), so pushes may go out now.
            if (result.IsCanceled && Session.Outbound.PendingBytes > 0 && !await SendPushesAsync())
            {
                return false;
            }
        }
    }

    /// <summary>Sends what the outbound queue holds while the client sends nothing; false when the connection must close.</summary>
    private async ValueTask<bool> SendPushesAsync()
    {
        lock (_server.Keyspace.Sync)
        {
            Session.Outbound.DrainTo(Session.Reply);
        }
        var flush = await _writer.FlushAsync();
        return !flush.IsCompleted && !flush.IsCanceled;
    }

    private void WakeFromPool() => ThreadPool.UnsafeQueueUserWorkItem(static reader => reader.CancelPendingRead(), _reader, preferLocal: false);

    /// <summary>Drops what the keyspace keeps for this client: a pending blocking wait, watched keys and tracking.</summary>
    private void ForgetKeyState()
    {
        if (Session.Blocked is null && Session.Watcher is null && !Session.IsMonitor && Session.Replica is null && !Session.WaitsForReplicas && Session.Subscriptions is null
            && Session.Tracking is null)
        {
            return;
        }
        var keyspace = _server.Keyspace;
        lock (keyspace.Sync)
        {
            _server.Replicator.Forget(Session);
            _server.Monitors.Remove(Session);
            _server.Blocking.Forget(Session);
            _server.PubSub.UnsubscribeAll(Session);
            _server.Tracking.Disable(Session);
            if (Session.Watcher is { } watcher)
            {
                keyspace.Watches.UnwatchAll(watcher);
            }
        }
    }

    private static string Describe(EndPoint? endpoint) => endpoint switch
    {
        IPEndPoint ip when ip.AddressFamily == AddressFamily.InterNetworkV6 && !ip.Address.IsIPv4MappedToIPv6 => $"{ip.Address}:{ip.Port}",
        IPEndPoint ip => $"{(ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address)}:{ip.Port}",
        _ => "?:0",
    };
}
