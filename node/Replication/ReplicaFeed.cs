using System.Buffers;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Replication;

/// <summary>Where a replica connected to this master stands, with Redis's names (INFO slaveN state).</summary>
public enum ReplicaState
{
    /// <summary>Announced itself with REPLCONF, no PSYNC yet.</summary>
    Handshake,

    /// <summary>Waiting for the snapshot to be taken (another background save runs).</summary>
    WaitBgsave,

    /// <summary>The snapshot is being sent.</summary>
    SendBulk,

    /// <summary>Receiving the live stream.</summary>
    Online,
}

/// <summary>
/// One replica connected to this master (Redis's slave client): what it announced with REPLCONF, its acknowledged
/// offset, and its copy of the change stream. While its snapshot is taken and sent, the stream is held here; then
/// (for the <c>$EOF:</c> form, once the replica's first ACK shows it read the snapshot's end mark) it goes out through
/// the client's outbound queue, whose replica-class output limit applies. Under the keyspace lock.
/// </summary>
public sealed class ReplicaFeed(Session session) : IChangeSubscriber
{
    private ArrayBufferWriter<byte>? _held;

    /// <summary>The replica's connection.</summary>
    public Session Session { get; } = session;

    /// <summary>REPLCONF listening-port.</summary>
    public int ListeningPort { get; set; }

    /// <summary>REPLCONF ip-address, or null for the connection's address.</summary>
    public string? AnnouncedIp { get; set; }

    /// <summary>REPLCONF capa eof: reads the snapshot in the <c>$EOF:&lt;mark&gt;</c> form.</summary>
    public bool CapableOfEof { get; set; }

    /// <summary>REPLCONF capa psync2: understands <c>+CONTINUE &lt;replid&gt;</c>.</summary>
    public bool CapableOfPsync2 { get; set; }

    /// <summary>The replication state (INFO slaveN state).</summary>
    public ReplicaState State { get; internal set; } = ReplicaState.Handshake;

    /// <summary>The offset the replica last acknowledged (REPLCONF ACK).</summary>
    public long AckOffset { get; internal set; }

    /// <summary>When it last acknowledged (TickCount64 ms).</summary>
    public long AckTimeMs { get; internal set; } = Environment.TickCount64;

    /// <summary>The snapshot was sent in the <c>$EOF:</c> form: the stream waits for the replica's first ACK.</summary>
    internal bool OnlineOnAck { get; set; }

    /// <summary>When it started waiting for a snapshot (TickCount64 ms): repl-diskless-sync-delay counts from here.</summary>
    internal long WaitingSinceMs { get; set; }

    /// <summary>Came with SYNC (pre-PSYNC replica): no +FULLRESYNC line, the snapshot in the <c>$len</c> form.</summary>
    internal bool IsSync { get; set; }

    /// <summary>The connection closed: the snapshot sender stops.</summary>
    internal volatile bool Closed;

    /// <summary>The address INFO shows: the announced one, or the connection's.</summary>
    public string Ip => AnnouncedIp ?? Session.RemoteAddress[..Session.RemoteAddress.LastIndexOf(':')];

    /// <summary>Seconds since the last ACK (INFO lag).</summary>
    public long LagSeconds => (Environment.TickCount64 - AckTimeMs) / 1000;

    /// <summary>Starts holding the stream (from the snapshot point on) until <see cref="GoOnline"/>.</summary>
    internal void Hold() => _held = new ArrayBufferWriter<byte>(4096);

    /// <inheritdoc/>
    public void Receive(ReadOnlySpan<byte> commands)
    {
        if (_held is not null)
        {
            _held.Write(commands);
            return;
        }
        Send(commands);
    }

    /// <summary>Queues raw bytes to the replica.</summary>
    internal void Send(ReadOnlySpan<byte> bytes)
    {
        Session.Outbound.Writer.WriteRaw(bytes);
        Session.Outbound.Send();
    }

    /// <summary>Sends what was held and passes the stream through from now on.</summary>
    internal void GoOnline()
    {
        State = ReplicaState.Online;
        OnlineOnAck = false;
        AckTimeMs = Environment.TickCount64;
        if (_held is { } held)
        {
            _held = null;
            if (held.WrittenCount > 0)
            {
                Send(held.WrittenSpan);
            }
        }
    }
}
