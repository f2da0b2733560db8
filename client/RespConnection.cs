using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CacheOperator.Client;

/// <summary>
/// One pipelined RESP connection, safe for concurrent callers: each command is encoded into the outgoing buffer
/// and queued as pending under one lock, so the order of bytes on the wire is the order of the queue; one
/// sender at a time flushes whatever accumulated in one send, and the receive loop completes pending requests
/// in order. Push frames never match a request. When the connection fails, every pending request fails with
/// the same <see cref="RespConnectionException"/>; reconnecting is the caller's choice. Commands that break
/// one-reply-per-request (MONITOR, CLIENT REPLY OFF|SKIP, SUBSCRIBE under RESP2) belong on a raw
/// <see cref="RespFrameReader"/> stream instead.
/// </summary>
public sealed class RespConnection : IAsyncDisposable, IDisposable
{
    private const int InitialBufferSize = 16 * 1024;
    private const int LargeBufferSize = 1024 * 1024;

    private readonly Socket _socket;
    private readonly Lock _sync = new();
    private readonly Queue<Pending> _pending = new();
    private readonly RespFrameReader _reader = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Channel<RespReply> _pushes = Channel.CreateUnbounded<RespReply>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly Action<RespReply>? _pushHandler;
    private readonly long _commandTimeoutMs;
    private readonly Timer? _timeoutTimer;
    private readonly Task _receiveLoop;
    private ArrayBufferWriter<byte> _outgoing = new(InitialBufferSize);
    private ArrayBufferWriter<byte> _sending = new(InitialBufferSize);
    private bool _sendInProgress;
    private RespConnectionException? _failure;

    private RespConnection(Socket socket, RespConnectionOptions options)
    {
        _socket = socket;
        EndPoint = $"{options.Host}:{options.Port.ToString(CultureInfo.InvariantCulture)}";
        Protocol = options.Protocol;
        _pushHandler = options.PushHandler;
        if (options.CommandTimeout != Timeout.InfiniteTimeSpan)
        {
            _commandTimeoutMs = (long)options.CommandTimeout.TotalMilliseconds;
            var period = TimeSpan.FromMilliseconds(Math.Clamp(_commandTimeoutMs / 4, 10, 1000));
            _timeoutTimer = new Timer(static state => ((RespConnection)state!).CheckTimeout(), this, period, period);
        }
        _receiveLoop = ReceiveLoopAsync();
    }

    /// <summary>"host:port", for messages.</summary>
    public string EndPoint { get; }

    /// <summary>The protocol negotiated at connect (2 or 3).</summary>
    public int Protocol { get; }

    /// <summary>The server's HELLO 3 reply (server, version, proto, id, mode, role, modules); null under RESP2.</summary>
    public RespReply? Hello { get; private set; }

    /// <summary>Push frames, when no <see cref="RespConnectionOptions.PushHandler"/> was given; completes when the connection fails.</summary>
    public ChannelReader<RespReply> Pushes => _pushes.Reader;

    /// <summary>Why the connection is unusable, or null while it works.</summary>
    public RespConnectionException? Failure
    {
        get
        {
            lock (_sync)
            {
                return _failure;
            }
        }
    }

    /// <summary>Requests sent and not answered yet (a batch counts once).</summary>
    public int PendingCount
    {
        get
        {
            lock (_sync)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> with default options (RESP2).</summary>
    public static Task<RespConnection> ConnectAsync(string host, int port, CancellationToken cancellationToken = default)
        => ConnectAsync(new RespConnectionOptions { Host = host, Port = port }, cancellationToken);

    /// <summary>
    /// Connects and runs the handshake in one batch: HELLO 3 (with AUTH and SETNAME) or AUTH and CLIENT SETNAME,
    /// then SELECT. A refused step throws <see cref="RespErrorReplyException"/>; a failure to connect or a
    /// timeout throws <see cref="RespConnectionException"/>.
    /// </summary>
    public static async Task<RespConnection> ConnectAsync(RespConnectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Protocol is not (2 or 3))
        {
            throw new ArgumentException($"Protocol must be 2 or 3, not {options.Protocol}", nameof(options));
        }
        string endPoint = $"{options.Host}:{options.Port.ToString(CultureInfo.InvariantCulture)}";
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            socket.Dispose();
            cancellationToken.ThrowIfCancellationRequested();
            throw new RespConnectionException(e is SocketException
                ? $"Connecting to {endPoint} failed: {e.Message}"
                : $"Connecting to {endPoint} timed out after {options.ConnectTimeout}", e);
        }
        var connection = new RespConnection(socket, options);
        try
        {
            await connection.HandshakeAsync(options, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new RespConnectionException($"The handshake with {endPoint} timed out after {options.ConnectTimeout}", e);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(RespConnectionOptions options, CancellationToken cancellationToken)
    {
        var batch = new RespBatch();
        var names = new List<string>();
        if (options.Protocol == 3)
        {
            var hello = new List<string> { "HELLO", "3" };
            if (options.Password is not null)
            {
                hello.AddRange(["AUTH", options.User ?? "default", options.Password]);
            }
            if (options.ClientName is not null)
            {
                hello.AddRange(["SETNAME", options.ClientName]);
            }
            batch.Add(hello.ToArray());
            names.Add("HELLO 3");
        }
        else
        {
            if (options.Password is not null)
            {
                batch.Add(options.User is null ? ["AUTH", options.Password] : ["AUTH", options.User, options.Password]);
                names.Add("AUTH");
            }
            if (options.ClientName is not null)
            {
                batch.Add("CLIENT", "SETNAME", options.ClientName);
                names.Add("CLIENT SETNAME");
            }
        }
        if (options.Database != 0)
        {
            batch.Add("SELECT", options.Database.ToString(CultureInfo.InvariantCulture));
            names.Add("SELECT");
        }
        if (batch.Count == 0)
        {
            return;
        }
        var replies = await ExecuteBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < replies.Length; i++)
        {
            if (replies[i].IsError)
            {
                throw new RespErrorReplyException(replies[i], $"{EndPoint} refused {names[i]} while connecting: {replies[i].AsString()}");
            }
        }
        if (options.Protocol == 3)
        {
            Hello = replies[0];
        }
    }

    /// <summary>Sends a command of UTF-8 strings; the task completes with its reply (an error reply is a reply, not an exception).</summary>
    public Task<RespReply> ExecuteAsync(params ReadOnlySpan<string> arguments) => ExecuteAsync(arguments, CancellationToken.None);

    /// <summary>Sends a command of UTF-8 strings; cancelling abandons the reply (it is still read and dropped).</summary>
    public Task<RespReply> ExecuteAsync(ReadOnlySpan<string> arguments, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<RespReply>(cancellationToken);
        }
        var request = new SingleReply(cancellationToken);
        lock (_sync)
        {
            if (_failure is not null)
            {
                request.Fail(_failure);
                return request.Task;
            }
            RespCommandEncoder.Write(_outgoing, arguments);
            Enqueue(request);
        }
        return request.Task;
    }

    /// <summary>Sends a command of binary arguments; the task completes with its reply.</summary>
    public Task<RespReply> ExecuteAsync(params ReadOnlySpan<byte[]> arguments) => ExecuteAsync(arguments, CancellationToken.None);

    /// <summary>Sends a command of binary arguments; cancelling abandons the reply (it is still read and dropped).</summary>
    public Task<RespReply> ExecuteAsync(ReadOnlySpan<byte[]> arguments, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<RespReply>(cancellationToken);
        }
        var request = new SingleReply(cancellationToken);
        lock (_sync)
        {
            if (_failure is not null)
            {
                request.Fail(_failure);
                return request.Task;
            }
            RespCommandEncoder.Write(_outgoing, arguments);
            Enqueue(request);
        }
        return request.Task;
    }

    /// <summary>Sends a command of binary arguments; cancelling abandons the reply (it is still read and dropped).</summary>
    public Task<RespReply> ExecuteAsync(ReadOnlySpan<ReadOnlyMemory<byte>> arguments, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<RespReply>(cancellationToken);
        }
        var request = new SingleReply(cancellationToken);
        lock (_sync)
        {
            if (_failure is not null)
            {
                request.Fail(_failure);
                return request.Task;
            }
            RespCommandEncoder.Write(_outgoing, arguments);
            Enqueue(request);
        }
        return request.Task;
    }

    /// <summary>
    /// Sends every command of <paramref name="batch"/> in one write; the task completes with their replies in
    /// order. The batch may be cleared and reused as soon as this returns.
    /// </summary>
    public Task<RespReply[]> ExecuteBatchAsync(RespBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<RespReply[]>(cancellationToken);
        }
        if (batch.Count == 0)
        {
            return Task.FromResult(Array.Empty<RespReply>());
        }
        var request = new BatchReplies(batch.Count, cancellationToken);
        lock (_sync)
        {
            if (_failure is not null)
            {
                request.Fail(_failure);
                return request.Task;
            }
            _outgoing.Write(batch.Encoded);
            Enqueue(request);
        }
        return request.Task;
    }

    /// <summary>
    /// Sends a command that gets no reply of its own: under RESP3, SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE and
    /// PUNSUBSCRIBE are answered by push frames. Anything else sent this way desynchronises the connection.
    /// </summary>
    public void Send(params ReadOnlySpan<string> arguments)
    {
        lock (_sync)
        {
            if (_failure is not null)
            {
                throw _failure;
            }
            RespCommandEncoder.Write(_outgoing, arguments);
            StartSendingIfIdle();
        }
    }

    private void Enqueue(object request)
    {
        _pending.Enqueue(new Pending(request, Environment.TickCount64));
        StartSendingIfIdle();
    }

    private void StartSendingIfIdle()
    {
        if (!_sendInProgress)
        {
            _sendInProgress = true;
            // Runs on the thread pool: the caller holds the lock, and the send must not run under it.
            ThreadPool.UnsafeQueueUserWorkItem(static connection => _ = connection.SendLoopAsync(), this, preferLocal: true);
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                ArrayBufferWriter<byte> buffer;
                lock (_sync)
                {
                    if (_outgoing.WrittenCount == 0 || _failure is not null)
                    {
                        _sendInProgress = false;
                        return;
                    }
                    buffer = _outgoing;
                    _outgoing = _sending;
                    _sending = buffer;
                }
                var data = buffer.WrittenMemory;
                while (!data.IsEmpty)
                {
                    int sent = await _socket.SendAsync(data, SocketFlags.None, _lifetime.Token).ConfigureAwait(false);
                    data = data[sent..];
                }
                if (buffer.Capacity > LargeBufferSize)
                {
                    _sending = new ArrayBufferWriter<byte>(InitialBufferSize);
                }
                else
                {
                    buffer.ResetWrittenCount();
                }
            }
        }
        catch (Exception e)
        {
            Fail($"sending failed: {e.Message}", e);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                int received = await _socket.ReceiveAsync(_reader.GetReceiveMemory(), SocketFlags.None, _lifetime.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    var closed = _reader.EndOfStream();
                    Fail(closed.Message, null);
                    return;
                }
                _reader.Advance(received);
                while (_reader.TryRead(out var reply))
                {
                    Dispatch(reply);
                }
            }
        }
        catch (Exception e)
        {
            // A server that closes a connection with input it has not read resets it (RST) rather than ending it (FIN):
            // either way the server closed the connection.
            Fail(e switch
            {
                RespProtocolException => $"protocol error: {e.Message}",
                SocketException { SocketErrorCode: SocketError.ConnectionReset } => $"{_reader.EndOfStream().Message} (connection reset)",
                _ => $"receiving failed: {e.Message}",
            }, e);
        }
    }

    private void Dispatch(RespReply reply)
    {
        if (reply.Kind == RespReplyKind.Push)
        {
            if (_pushHandler is not null)
            {
                _pushHandler(reply);
            }
            else
            {
                _pushes.Writer.TryWrite(reply);
            }
            return;
        }
        object request;
        bool complete;
        lock (_sync)
        {
            if (!_pending.TryPeek(out var head))
            {
                throw new RespProtocolException($"a reply arrived with no request pending: {reply}");
            }
            request = head.Request;
            complete = request is not BatchReplies batch || batch.Add(reply);
            if (complete)
            {
                _pending.Dequeue();
            }
        }
        if (request is SingleReply single)
        {
            single.Complete(reply);
        }
        else if (complete)
        {
            ((BatchReplies)request).Complete();
        }
    }

    private void CheckTimeout()
    {
        bool expired;
        lock (_sync)
        {
            expired = _pending.TryPeek(out var head) && Environment.TickCount64 - head.Enqueued > _commandTimeoutMs;
        }
        if (expired)
        {
            Fail($"no reply within the command timeout of {TimeSpan.FromMilliseconds(_commandTimeoutMs)}", new TimeoutException());
        }
    }

    /// <summary>Marks the connection failed, closes it and fails every pending request with one exception.</summary>
    private void Fail(string reason, Exception? cause)
    {
        Pending[] failed;
        RespConnectionException failure;
        lock (_sync)
        {
            if (_failure is not null)
            {
                return;
            }
            failed = _pending.ToArray();
            _pending.Clear();
            failure = new RespConnectionException(
                $"Connection to {EndPoint} failed: {reason}" + (failed.Length > 0 ? $"; {failed.Length} pending request(s) failed with it" : ""), cause);
            _failure = failure;
        }
        _timeoutTimer?.Dispose();
        _lifetime.Cancel();
        _socket.Dispose();
        _pushes.Writer.TryComplete(failure);
        foreach (var pending in failed)
        {
            switch (pending.Request)
            {
                case SingleReply single:
                    single.Fail(failure);
                    break;
                case BatchReplies batch:
                    batch.Fail(failure);
                    break;
            }
        }
    }

    /// <summary>Closes the connection; pending requests fail with <see cref="RespConnectionException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Fail("the connection was disposed", null);
        try
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The receive loop reports through Fail; its end is all that is awaited here.
        }
        _lifetime.Dispose();
    }

    /// <summary>Closes the connection; pending requests fail with <see cref="RespConnectionException"/>.</summary>
    public void Dispose() => Fail("the connection was disposed", null);

    private readonly record struct Pending(object Request, long Enqueued);

    /// <summary>A request answered by one reply.</summary>
    private sealed class SingleReply : TaskCompletionSource<RespReply>
    {
        private readonly CancellationTokenRegistration _registration;

        public SingleReply(CancellationToken cancellationToken)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((SingleReply)state!).TrySetCanceled(token), this);
            }
        }

        public void Complete(RespReply reply)
        {
            _registration.Unregister();
            TrySetResult(reply);
        }

        public void Fail(Exception failure)
        {
            _registration.Unregister();
            TrySetException(failure);
        }
    }

    /// <summary>A batch, answered by as many replies as it has commands.</summary>
    private sealed class BatchReplies : TaskCompletionSource<RespReply[]>
    {
        private readonly CancellationTokenRegistration _registration;
        private readonly RespReply[] _replies;
        private int _received;

        public BatchReplies(int count, CancellationToken cancellationToken)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _replies = new RespReply[count];
            if (cancellationToken.CanBeCanceled)
            {
                _registration = cancellationToken.UnsafeRegister(static (state, token) => ((BatchReplies)state!).TrySetCanceled(token), this);
            }
        }

        /// <summary>Records the next reply; true when it was the last.</summary>
        public bool Add(RespReply reply)
        {
            _replies[_received++] = reply;
            return _received == _replies.Length;
        }

        public void Complete()
        {
            _registration.Unregister();
            TrySetResult(_replies);
        }

        public void Fail(Exception failure)
        {
            _registration.Unregister();
            TrySetException(failure);
        }
    }
}
