using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>The state of one client connection that commands read and change: database, protocol, name, auth.</summary>
public sealed class Session
{
    internal Session(NodeServer server, long id, ReplyWriter reply, string remoteAddress, string localAddress)
    {
        Server = server;
        Id = id;
        Reply = reply;
        RemoteAddress = remoteAddress;
        LocalAddress = localAddress;
        Db = server.Keyspace[0];
        Authenticated = server.Config.RequirePass.Text.Length == 0;
        CreatedMs = Environment.TickCount64;
        LastInteractionMs = CreatedMs;
        Outbound = new OutboundQueue(this);
    }

    /// <summary>What the server sends this client besides its command replies (pushes, monitor lines, a blocked command's answer).</summary>
    public OutboundQueue Outbound { get; }

    /// <summary>CLIENT TRACKING state while tracking is on, else null (set through <see cref="Tracking.TrackingTable"/>).</summary>
    public Tracking.ClientTracking? Tracking { get; internal set; }

    /// <summary>In MONITOR mode (set through <see cref="MonitorFeed"/>).</summary>
    public bool IsMonitor { get; internal set; }

    /// <summary>Subscribed to channels or patterns (set by pub/sub): its output limits are the pubsub class's.</summary>
    public bool IsPubSub { get; set; }

    /// <summary>This client's channels, patterns and shard channels; null until it first subscribes.</summary>
    public PubSub.ClientSubscriptions? Subscriptions { get; set; }

    /// <summary>A replica receiving the replication stream (set by replication): the replica class's limits.</summary>
    public bool IsReplica { get; set; }

    /// <summary>The class whose client-output-buffer-limit applies, as Redis's getClientType (a monitor is a normal client).</summary>
    public ClientClass Class => IsReplica && !IsMonitor ? ClientClass.Replica : IsPubSub ? ClientClass.PubSub : ClientClass.Normal;

    /// <summary>This replica's master applying its stream (never refused as read-only, stale or over memory; sees expired keys).</summary>
    public bool IsMaster { get; internal set; }

    /// <summary>What a replica connected here announced (REPLCONF) and, after PSYNC, its feed of the stream; null for other clients.</summary>
    public Replication.ReplicaFeed? Replica { get; set; }

    /// <summary>CLIENT REPLY OFF: no replies until CLIENT REPLY ON.</summary>
    public bool ReplyOff { get; set; }

    /// <summary>CLIENT REPLY SKIP took effect: the running command's reply is dropped.</summary>
    public bool ReplySkip { get; set; }

    /// <summary>CLIENT REPLY SKIP was just run: the next command's reply is dropped.</summary>
    public bool ReplySkipNext { get; set; }

    /// <summary>CLIENT NO-TOUCH ON: this client's commands leave keys' LRU/LFU as they are (TOUCH still updates them).</summary>
    public bool NoTouch { get; set; }

    /// <summary>Bits of the argument positions a command asked to hide from MONITOR (AUTH and HELLO secrets).</summary>
    public ulong RedactedArgs { get; set; }

    /// <summary>Set with <see cref="Suspension"/> when CLIENT PAUSE holds the command: it runs again once the pause ends.</summary>
    public bool Postponed { get; set; }

    /// <summary>Bytes received and not yet parsed into a whole command (CLIENT LIST qbuf).</summary>
    public long QueryBufferBytes { get; set; }

    /// <summary>Hides argument <paramref name="index"/> from MONITOR, as Redis's redactClientCommandArgument.</summary>
    public void Redact(int index)
    {
        if (index < 64)
        {
            RedactedArgs |= 1UL << index;
        }
    }

    /// <summary>The server this client talks to.</summary>
    public NodeServer Server { get; }

    /// <summary>Where replies go.</summary>
    public ReplyWriter Reply { get; }

    /// <summary>CLIENT ID.</summary>
    public long Id { get; }

    /// <summary>The keyspace.</summary>
    public Keyspace Keyspace => Server.Keyspace;

    /// <summary>The selected database.</summary>
    public Database Db { get; set; }

    /// <summary>Whether commands other than AUTH/HELLO are allowed.</summary>
    public bool Authenticated { get; set; }

    /// <summary>CLIENT SETNAME.</summary>
    public string? Name { get; set; }

    /// <summary>CLIENT SETINFO LIB-NAME.</summary>
    public string? LibName { get; set; }

    /// <summary>CLIENT SETINFO LIB-VER.</summary>
    public string? LibVersion { get; set; }

    /// <summary>CLIENT NO-EVICT.</summary>
    public bool NoEvict { get; set; }

    /// <summary>Peer address as ip:port.</summary>
    public string RemoteAddress { get; }

    /// <summary>The socket's file descriptor, for CLIENT LIST.</summary>
    public long Fd { get; init; }

    /// <summary>Local address as ip:port.</summary>
    public string LocalAddress { get; }

    /// <summary>When the connection was accepted (TickCount64 ms).</summary>
    public long CreatedMs { get; }

    /// <summary>When the last command arrived (TickCount64 ms).</summary>
    public long LastInteractionMs { get; set; }

    /// <summary>The command running or last run, for CLIENT LIST.</summary>
    public CommandSpec? LastCommand { get; set; }

    /// <summary>Set by QUIT or a kill of oneself: close once the reply is flushed.</summary>
    public bool CloseAfterReply { get; set; }

    /// <summary>
    /// Set by a command that must wait (a blocking pop): the connection stops running its batch, flushes,
    /// and resumes with the next command once the task completes. Whoever completes it writes the reply.
    /// </summary>
    public Task? Suspension { get; set; }

    /// <summary>True while the client waits in a blocking command.</summary>
    public bool IsBlocked { get; internal set; }

    /// <summary>The wait of the blocking command this client is in (or was last in), for the connection and the registry.</summary>
    public BlockedClient? Blocked { get; internal set; }

    /// <summary>True while the client waits in WAIT (the replicator holds its wait until answered or forgotten).</summary>
    internal bool WaitsForReplicas { get; set; }

    /// <summary>ASKING was sent (cluster mode): the next command may use an importing slot; cleared after it (after EXEC inside MULTI).</summary>
    public bool Asking { get; set; }

    /// <summary>READONLY was sent (cluster mode): reads of the master's slots are served by this replica.</summary>
    public bool ReadOnlyReplica { get; set; }

    /// <summary>The transaction being queued after MULTI; null outside one.</summary>
    public MultiState? Multi { get; set; }

    /// <summary>The keys WATCHed by this client; null when it never watched.</summary>
    public KeyWatcher? Watcher { get; set; }

    /// <summary>The client scripts run their commands as (redis.call): the script engine checks routing itself.</summary>
    public bool IsScript { get; init; }

    /// <summary>True while commands must not block (inside EXEC, later scripts): blocking commands answer at once.</summary>
    public bool DenyBlocking { get; set; }

    /// <summary>Closes the connection from outside (CLIENT KILL, shutdown, idle timeout).</summary>
    internal Action? Abort { get; set; }

    /// <summary>Parses an integer argument; on failure writes Redis's error and returns false.</summary>
    public bool TryParseLong(ReadOnlySpan<byte> text, out long value, string error = Errors.NotInteger)
    {
        if (NumberFormat.TryParseInt64(text, out value))
        {
            return true;
        }
        Reply.WriteError(error);
        return false;
    }

    /// <summary>Parses a float argument; on failure writes Redis's error and returns false.</summary>
    public bool TryParseDouble(ReadOnlySpan<byte> text, out double value, string error = Errors.NotFloat)
    {
        if (NumberFormat.TryParseDouble(text, out value))
        {
            return true;
        }
        Reply.WriteError(error);
        return false;
    }

    /// <summary>Looks a key up for reading, counting keyspace hits and misses; -1 when absent.</summary>
    public int FindForRead(ReadOnlySpan<byte> key)
    {
        int index = Db.Find(key);
        if (index < 0)
        {
            Keyspace.Misses++;
            Db.Notify(KeyspaceEventTypes.KeyMiss, "keymiss"u8, key);
        }
        else
        {
            Keyspace.Hits++;
        }
        return index;
    }

    /// <summary>
    /// The string value of a key for reading (null when absent). Writes WRONGTYPE and returns false
    /// when the key holds another type.
    /// </summary>
    public bool TryReadString(ReadOnlySpan<byte> key, out byte[]? value)
    {
        int index = FindForRead(key);
        if (index < 0)
        {
            value = null;
            return true;
        }
        if (Db.Table[index].Value is byte[] bytes)
        {
            value = bytes;
            return true;
        }
        value = null;
        Reply.WriteError(Errors.WrongType);
        return false;
    }
}
