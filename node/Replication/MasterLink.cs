using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using CacheOperator.Client;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Replication;

/// <summary>Where a replica's link to its master stands, with Redis's names (ROLE's state).</summary>
public enum MasterLinkState
{
    /// <summary>Waiting to connect (after a failure, a second later).</summary>
    Connect,

    /// <summary>Connecting.</summary>
    Connecting,

    /// <summary>PING, AUTH, REPLCONF, PSYNC.</summary>
    Handshake,

    /// <summary>Receiving the snapshot.</summary>
    Sync,

    /// <summary>Applying the live stream.</summary>
    Connected,
}

/// <summary>
/// A replica's connection to its master, as the replica side of Redis's replication.c: the handshake (PING, AUTH with
/// masterauth/masteruser, REPLCONF listening-port and capa eof psync2, PSYNC with this node's history id and offset so
/// that a reconnect continues from the backlog), the snapshot in either form (<c>$EOF:&lt;mark&gt;</c> or <c>$len</c>)
/// loaded into fresh databases and swapped in, then the stream applied as the master client (writes allowed, replies
/// dropped) and passed on verbatim to this node's own backlog and replicas. REPLCONF ACK every second and on GETACK.
/// Reconnects a second after a failure.
/// </summary>
public sealed class MasterLink
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly NodeServer _server;
    private readonly Replicator _replicator;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _sendGate = new();
    private Socket? _socket;

    /// <summary>
    /// The master client, kept across reconnections (Redis's cached master): a partial resync continues in the
    /// database the stream last selected.
    /// </summary>
    private Session? _master;
    private Task? _run;
    private long _lastAckMs;

    internal MasterLink(NodeServer server, Replicator replicator, string host, int port)
    {
        _server = server;
        _replicator = replicator;
        Host = host;
        Port = port;
        DownSinceMs = 0;
    }

    /// <summary>The master's host (INFO master_host).</summary>
    public string Host { get; }

    /// <summary>The master's port.</summary>
    public int Port { get; }

    /// <summary>Where the link stands.</summary>
    public MasterLinkState State { get; private set; } = MasterLinkState.Connect;

    /// <summary>True while the stream is applied (INFO master_link_status:up).</summary>
    public bool IsUp => State == MasterLinkState.Connected;

    /// <summary>When the master last sent anything (TickCount64 ms); 0 before.</summary>
    public long LastIoMs { get; private set; }

    /// <summary>When the link went down (TickCount64 ms); 0 when it never was up.</summary>
    public long DownSinceMs { get; private set; }

    /// <summary>The master's offset of the bytes read (INFO slave_read_repl_offset).</summary>
    public long ReadOffset { get; private set; }

    /// <summary>Snapshot bytes expected (-1 for the <c>$EOF:</c> form, whose size is unknown).</summary>
    public long SyncTotalBytes { get; private set; }

    /// <summary>Snapshot bytes read so far.</summary>
    public long SyncReadBytes { get; private set; }

    /// <summary>The master asked for an ACK (REPLCONF GETACK): sent once the bytes read so far are applied.</summary>
    internal bool AckRequested { get; set; }

    /// <summary>Starts connecting in the background.</summary>
    public void Start() => _run = Task.Run(RunAsync);

    /// <summary>Closes the link for good (REPLICAOF NO ONE, another master, shutdown).</summary>
    public void Stop()
    {
        _stop.Cancel();
        Drop();
    }

    /// <summary>Closes the connection; the link reconnects a second later and continues (CLIENT KILL TYPE master).</summary>
    public void Disconnect() => Drop();

    /// <summary>The server's cycle (under the keyspace lock): drops a silent master after repl-timeout.</summary>
    internal void Cron(long now)
    {
        if (State is MasterLinkState.Connected or MasterLinkState.Sync && LastIoMs > 0 && now - LastIoMs > _server.Config.ReplTimeout.Number * 1000)
        {
            _server.Log.Event(LogLevel.Warning, "master_timeout", "MASTER timeout: no data nor PING received", ("host", Host), ("port", Port));
            Drop();
            return;
        }
        AckIfDue(now);
    }

    private void Drop()
    {
        try
        {
            _socket?.Dispose();
        }
        catch (ObjectDisposedException)
        {
            // Closed already.
        }
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await SessionAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (!_stop.IsCancellationRequested)
                {
                    _server.Log.Event(LogLevel.Warning, "master_link_error", "Error with MASTER link", ("host", Host), ("port", Port), ("error", e.Message));
                }
            }
            finally
            {
                Drop();
                lock (_server.Keyspace.Sync)
                {
                    if (_master is { Multi: not null } master)
                    {
                        // A transaction cut in half is never completed: the master resends it whole.
                        Commands.TransactionCommands.DiscardState(master);
                    }
                    if (State == MasterLinkState.Connected || DownSinceMs == 0)
                    {
                        DownSinceMs = Environment.TickCount64;
                    }
                    State = MasterLinkState.Connect;
                }
            }
            try
            {
                await Task.Delay(RetryDelay, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SessionAsync(CancellationToken cancel)
    {
        State = MasterLinkState.Connecting;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
        {
            connectTimeout.CancelAfter(TimeSpan.FromSeconds(_server.Config.ReplTimeout.Number));
            await socket.ConnectAsync(Host, Port, connectTimeout.Token).ConfigureAwait(false);
        }
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var reader = new RespFrameReader();
        State = MasterLinkState.Handshake;
        LastIoMs = Environment.TickCount64;

        var pong = await CallAsync(stream, reader, cancel, "PING").ConfigureAwait(false);
        // As Redis: an authentication error here is fine, AUTH follows.
        string pongText = pong.AsString() ?? "";
        if (pong.IsError && !pongText.StartsWith("NOAUTH", StringComparison.Ordinal)
            && !pongText.StartsWith("NOPERM", StringComparison.Ordinal) && !pongText.StartsWith("ERR operation not permitted", StringComparison.Ordinal))
        {
            throw new IOException($"Error reply to PING from master: '{pongText}'");
        }
        string password = _server.Config.MasterAuth.Text;
        if (password.Length > 0)
        {
            string user = _server.Config.MasterUser.Text;
            var auth = user.Length > 0
                ? await CallAsync(stream, reader, cancel, "AUTH", user, password).ConfigureAwait(false)
                : await CallAsync(stream, reader, cancel, "AUTH", password).ConfigureAwait(false);
            if (auth.IsError)
            {
                throw new IOException($"Unable to AUTH to MASTER: {auth.AsString()}");
            }
        }
        await CallAsync(stream, reader, cancel, "REPLCONF", "listening-port", _server.Port.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
        await CallAsync(stream, reader, cancel, "REPLCONF", "capa", "eof", "capa", "psync2").ConfigureAwait(false);

        string replid;
        long offset;
        bool failover;
        lock (_server.Keyspace.Sync)
        {
            // As Redis 7.0 (a master turning replica caches itself as the master): continue our own history if the master shares it.
            replid = _server.Replication.Id;
            offset = _server.Propagator.Stream.MasterOffset + 1;
            // A master failing over asks its target to take over with the same PSYNC.
            failover = _replicator.Failover.State == FailoverState.InProgress;
        }
        string offsetText = offset.ToString(CultureInfo.InvariantCulture);
        Write(stream, failover ? RespCommandEncoder.Encode("PSYNC", replid, offsetText, "FAILOVER") : RespCommandEncoder.Encode("PSYNC", replid, offsetText));
        string answer;
        do
        {
            // A master delaying a diskless sync (repl-diskless-sync-delay) sends newlines meanwhile.
            answer = await ReadLineAsync(stream, reader, cancel).ConfigureAwait(false);
        }
        while (answer.Length == 0);
        var words = answer.Split(' ');
        lock (_server.Keyspace.Sync)
        {
            if (!_replicator.Failover.PsyncAnswered(words[0] is "+FULLRESYNC" or "+CONTINUE"))
            {
                // The target refused: the failover is aborted and this node is a master again (the link is stopped).
                throw new IOException($"Failover target rejected psync request: {answer}");
            }
        }
        if (words[0] == "+FULLRESYNC" && words.Length == 3 && long.TryParse(words[2], CultureInfo.InvariantCulture, out long masterOffset))
        {
            _server.Log.Event(LogLevel.Notice, "full_resync", "Full resync from master", ("replid", words[1]), ("offset", masterOffset));
            await FullSyncAsync(stream, reader, words[1], masterOffset, cancel).ConfigureAwait(false);
        }
        else if (words[0] == "+CONTINUE")
        {
            lock (_server.Keyspace.Sync)
            {
                _replicator.Continue(words.Length > 1 && words[1].Length == 40 ? words[1] : null);
                ReadOffset = _server.Propagator.Stream.MasterOffset;
            }
            _server.Log.Event(LogLevel.Notice, "partial_resync", "Successful partial resynchronization with master", ("offset", ReadOffset));
        }
        else
        {
            throw new IOException($"Unexpected reply to PSYNC from master: {answer}");
        }
        lock (_server.Keyspace.Sync)
        {
            State = MasterLinkState.Connected;
            DownSinceMs = 0;
        }
        _server.Log.Event(LogLevel.Notice, "master_link_up", "MASTER <-> REPLICA sync: link up", ("host", Host), ("port", Port));
        SendAck(stream);
        await ApplyStreamAsync(stream, reader, cancel).ConfigureAwait(false);
    }

    /// <summary>
    /// Receives the snapshot and loads it into fresh databases, swapped in once whole (the old data is served until
    /// then). As repl-diskless-load says: disabled (or on-empty-db with keys) receives it into a temporary file in dir,
    /// which then replaces dbfilename, as Redis's replica does, and loads from there; otherwise it is received in memory.
    /// </summary>
    private async Task FullSyncAsync(NetworkStream stream, RespFrameReader reader, string replid, long masterOffset, CancellationToken cancel)
    {
        State = MasterLinkState.Sync;
        string header;
        do
        {
            // The master may send newlines while it prepares the snapshot, to keep the link alive.
            header = await ReadLineAsync(stream, reader, cancel).ConfigureAwait(false);
        }
        while (header.Length == 0);
        if (!header.StartsWith('$'))
        {
            throw new IOException($"Bad protocol from MASTER, the first byte is not '$' (we received '{header}')");
        }
        bool toDisk;
        lock (_server.Keyspace.Sync)
        {
            string mode = _server.Config.ReplDisklessLoad.Text;
            toDisk = mode == "disabled" || (mode == "on-empty-db" && _server.Keyspace.TotalKeys() > 0);
        }
        string dir = _server.Config.Dir.Text;
        string temp = Path.Combine(dir, $"temp-{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Environment.ProcessId}.rdb");
        Stream payload = toDisk ? new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16) : new MemoryStream();
        try
        {
            await ReceivePayloadAsync(stream, reader, header, payload, cancel).ConfigureAwait(false);
            _server.Log.Event(LogLevel.Notice, "sync_received", "MASTER <-> REPLICA sync: received the snapshot", ("bytes", payload.Length), ("to", toDisk ? "disk" : "memory"));
            var load = _replicator.LoadSnapshot ?? throw new IOException("this node cannot load a snapshot yet");
            if (toDisk)
            {
                payload.Flush();
                ((FileStream)payload).Flush(flushToDisk: true);
                await payload.DisposeAsync().ConfigureAwait(false);
                string path = _server.Snapshots.FilePath;
                File.Move(temp, path, overwrite: true);
                payload = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            }
            payload.Position = 0;
            var swapIn = load(payload);
            lock (_server.Keyspace.Sync)
            {
                swapIn();
                _replicator.AdoptMaster(replid, masterOffset);
                // A new history: the stream selects its database afresh.
                _master = null;
                _replicator.ForgetResumeDb();
                ReadOffset = masterOffset;
            }
        }
        finally
        {
            await payload.DisposeAsync().ConfigureAwait(false);
            if (toDisk && File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
        _server.Log.Event(LogLevel.Notice, "sync_loaded", "MASTER <-> REPLICA sync: Finished with success", ("replid", replid), ("offset", masterOffset));
    }

    /// <summary>Copies the snapshot to <paramref name="payload"/>: up to the end mark of the <c>$EOF:</c> form, or the <c>$len</c> bytes.</summary>
    private async Task ReceivePayloadAsync(NetworkStream stream, RespFrameReader reader, string header, Stream payload, CancellationToken cancel)
    {
        SyncReadBytes = 0;
        if (header.StartsWith("$EOF:", StringComparison.Ordinal) && header.Length == 45)
        {
            SyncTotalBytes = -1;
            var mark = Encoding.ASCII.GetBytes(header[5..]);
            // The newest bytes are held back until more follow: they may be the mark, which may straddle reads.
            var tail = new byte[mark.Length];
            int tailLength = 0;
            while (true)
            {
                var buffered = reader.Buffered;
                if (buffered.Length > 0)
                {
                    var span = buffered.Span;
                    int total = tailLength + span.Length;
                    int release = Math.Max(0, total - mark.Length);
                    int fromTail = Math.Min(release, tailLength);
                    payload.Write(tail, 0, fromTail);
                    payload.Write(span[..(release - fromTail)]);
                    var keep = new byte[total - release];
                    tail.AsSpan(fromTail, tailLength - fromTail).CopyTo(keep);
                    span[(release - fromTail)..].CopyTo(keep.AsSpan(tailLength - fromTail));
                    keep.CopyTo(tail, 0);
                    tailLength = keep.Length;
                    SyncReadBytes += span.Length;
                    reader.Consume(span.Length);
                    if (tailLength == mark.Length && tail.AsSpan().SequenceEqual(mark))
                    {
                        return;
                    }
                }
                await ReceiveAsync(stream, reader, cancel).ConfigureAwait(false);
            }
        }
        if (long.TryParse(header.AsSpan(1), CultureInfo.InvariantCulture, out long length) && length >= 0)
        {
            SyncTotalBytes = length;
            while (SyncReadBytes < length)
            {
                var buffered = reader.Buffered;
                if (buffered.Length == 0)
                {
                    await ReceiveAsync(stream, reader, cancel).ConfigureAwait(false);
                    continue;
                }
                int take = (int)Math.Min(buffered.Length, length - SyncReadBytes);
                payload.Write(buffered.Span[..take]);
                SyncReadBytes += take;
                reader.Consume(take);
            }
            return;
        }
        throw new IOException($"Bad snapshot header from MASTER: '{header}'");
    }

    /// <summary>Applies the master's commands as they come, whole commands at a time, and passes them on verbatim.</summary>
    private async Task ApplyStreamAsync(NetworkStream stream, RespFrameReader reader, CancellationToken cancel)
    {
        var session = _master ??= NewMasterClient();
        var batch = new CommandBatch();
        long maxBulk = _server.Config.ProtoMaxBulkLen.Number;
        while (true)
        {
            int complete = reader.ScanFrames();
            if (complete == 0)
            {
                if (reader.Buffered.Length > 0 && !IsFrameStart(reader.Buffered.Span[0]))
                {
                    throw new IOException("Protocol error from MASTER: not a command");
                }
                await ReceiveAsync(stream, reader, cancel).ConfigureAwait(false);
                continue;
            }
            var commands = reader.Buffered[..complete];
            RespParser.Parse(new ReadOnlySequence<byte>(commands), batch, maxBulk);
            lock (_server.Keyspace.Sync)
            {
                for (int next = 0; next < batch.CommandCount;)
                {
                    next = CommandRunner.RunBatch(session, batch, next);
                }
                _server.Propagator.Stream.PublishVerbatim(commands.Span);
                _server.Propagator.Stream.FollowedDb = session.Db.Id;
                ReadOffset = _server.Propagator.Stream.MasterOffset;
            }
            batch.ClearCompleted();
            reader.Consume(complete);
            if (AckRequested)
            {
                AckRequested = false;
                SendAck(stream);
            }
        }
    }

    private Session NewMasterClient()
    {
        var session = _server.ConnectLocal().Session;
        session.Db = _server.Keyspace[_replicator.ResumeDb];
        session.IsMaster = true;
        session.Authenticated = true;
        // The master reads no replies (REPLCONF ACK goes out by itself).
        session.ReplyOff = true;
        return session;
    }

    private static bool IsFrameStart(byte b) => b == (byte)'*';

    private async Task ReceiveAsync(NetworkStream stream, RespFrameReader reader, CancellationToken cancel)
    {
        if (await reader.ReceiveAsync(stream, cancel).ConfigureAwait(false) == 0)
        {
            throw new IOException("connection lost with MASTER");
        }
        LastIoMs = Environment.TickCount64;
        if (State == MasterLinkState.Connected && LastIoMs - Volatile.Read(ref _lastAckMs) >= 1000)
        {
            SendAck(stream);
        }
    }

    /// <summary>REPLCONF ACK with the offset applied (also every second from <see cref="AckLoopAsync"/>).</summary>
    private void SendAck(NetworkStream stream)
    {
        long offset;
        lock (_server.Keyspace.Sync)
        {
            offset = _server.Propagator.Stream.MasterOffset;
        }
        Volatile.Write(ref _lastAckMs, Environment.TickCount64);
        Write(stream, RespCommandEncoder.Encode("REPLCONF", "ACK", offset.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>Sends an ACK once a second while connected, whether or not the master sends anything.</summary>
    internal void AckIfDue(long now)
    {
        if (State == MasterLinkState.Connected && now - Volatile.Read(ref _lastAckMs) >= 1000 && _socket is { } socket)
        {
            try
            {
                using var stream = new NetworkStream(socket, ownsSocket: false);
                SendAck(stream);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // The read loop notices the broken link.
            }
        }
    }

    private void Write(NetworkStream stream, byte[] bytes)
    {
        lock (_sendGate)
        {
            stream.Write(bytes);
        }
    }

    private async Task<RespReply> CallAsync(NetworkStream stream, RespFrameReader reader, CancellationToken cancel, params string[] args)
    {
        Write(stream, RespCommandEncoder.Encode(args));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(_server.Config.ReplTimeout.Number));
        var reply = await reader.ReadAsync(stream, timeout.Token).ConfigureAwait(false);
        LastIoMs = Environment.TickCount64;
        return reply;
    }

    /// <summary>One line, without its CR LF (the PSYNC answer and the snapshot header are not all valid RESP).</summary>
    private async Task<string> ReadLineAsync(NetworkStream stream, RespFrameReader reader, CancellationToken cancel)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(TimeSpan.FromSeconds(_server.Config.ReplTimeout.Number));
        while (true)
        {
            var buffered = reader.Buffered.Span;
            int newline = buffered.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                string line = Encoding.ASCII.GetString(buffered[..newline]).TrimEnd('\r');
                reader.Consume(newline + 1);
                return line;
            }
            await ReceiveAsync(stream, reader, timeout.Token).ConfigureAwait(false);
        }
    }
}
