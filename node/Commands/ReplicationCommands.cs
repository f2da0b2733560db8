using System.Globalization;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The replication family: REPLICAOF/SLAVEOF, REPLCONF, PSYNC/SYNC, WAIT and ROLE, as Redis 7.0's replication.c.</summary>
internal static class ReplicationCommands
{
    private const CommandFlags AdminFlags = CommandFlags.Admin | CommandFlags.NoScript;

    public static IEnumerable<CommandSpec> All =>
    [
        new("replicaof", 3, ReplicaOf)
        {
            Flags = AdminFlags | CommandFlags.Stale, Acl = "@admin @slow @dangerous", Since = "5.0.0",
            Summary = "Configures a server as replica of another, or promotes it to a master.", Complexity = "O(1)", Syntax = "host port",
        },
        new("slaveof", 3, ReplicaOf)
        {
            Flags = AdminFlags | CommandFlags.Stale, Acl = "@admin @slow @dangerous",
            Summary = "Sets a Redis server as a replica of another, or promotes it to being a master.", Complexity = "O(1)", Syntax = "host port",
        },
        new("replconf", -1, Replconf)
        {
            Flags = AdminFlags | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.AllowBusy, Acl = "@admin @slow @dangerous", Since = "3.0.0",
            Summary = "An internal command for configuring the replication stream.", Complexity = "O(1)",
        },
        new("psync", -3, Psync)
        {
            Flags = AdminFlags | CommandFlags.NoMulti, Acl = "@admin @slow @dangerous", Since = "2.8.0",
            Summary = "An internal command used in replication.", Syntax = "replicationid offset",
        },
        new("sync", 1, Sync)
        {
            Flags = AdminFlags | CommandFlags.NoMulti, Acl = "@admin @slow @dangerous", Summary = "An internal command used in replication.",
        },
        new("wait", 3, Wait)
        {
            Flags = CommandFlags.NoScript, Acl = "@slow @connection", Since = "3.0.0",
            Summary = "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
            Complexity = "O(1)", Tips = "request_policy:all_shards response_policy:agg_min", Syntax = "numreplicas timeout",
        },
        new("failover", -1, Failover)
        {
            Flags = AdminFlags | CommandFlags.Stale, Acl = "@admin @slow @dangerous", Since = "6.2.0",
            Summary = "Starts a coordinated failover from a server to one of its replicas.", Complexity = "O(1)",
            Syntax = "[TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]",
        },
        new("role", 1, Role)
        {
            Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Acl = "@admin @fast @dangerous", Since = "2.8.12",
            Summary = "Returns the replication role.", Complexity = "O(1)",
        },
    ];

    private static void ReplicaOf(Session s, ArgList a)
    {
        var server = s.Server;
        if (server.Cluster is not null)
        {
            s.Reply.WriteError("ERR REPLICAOF not allowed in cluster mode.");
            return;
        }
        var replicator = server.Replicator;
        if (replicator.Failover.State != FailoverState.None)
        {
            s.Reply.WriteError("ERR REPLICAOF not allowed while failing over.");
            return;
        }
        if (Ascii.EqualsIgnoreCase(a[1], "no"u8) && Ascii.EqualsIgnoreCase(a[2], "one"u8))
        {
            replicator.Promote();
            s.Reply.WriteOk();
            return;
        }
        if (s.IsReplica)
        {
            s.Reply.WriteError("ERR Command is not valid when client is a replica.");
            return;
        }
        if (!NumberFormat.TryParseInt64(a[2], out long port) || port < 0 || port > 65535)
        {
            s.Reply.WriteError("ERR Invalid master port");
            return;
        }
        string host = a.GetString(1);
        if (replicator.Link is { } link && string.Equals(link.Host, host, StringComparison.OrdinalIgnoreCase) && link.Port == port)
        {
            s.Reply.WriteRaw("+OK Already connected to specified master\r\n"u8);
            return;
        }
        replicator.Follow(host, (int)port);
        s.Reply.WriteOk();
    }

    private static void Replconf(Session s, ArgList a)
    {
        if (a.Count % 2 == 0)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var replicator = s.Server.Replicator;
        for (int i = 1; i < a.Count; i += 2)
        {
            var option = a[i];
            if (Ascii.EqualsIgnoreCase(option, "listening-port"u8))
            {
                if (!s.TryParseLong(a[i + 1], out long port))
                {
                    return;
                }
                replicator.Announce(s).ListeningPort = (int)port;
            }
            else if (Ascii.EqualsIgnoreCase(option, "ip-address"u8))
            {
                replicator.Announce(s).AnnouncedIp = a.GetString(i + 1);
            }
            else if (Ascii.EqualsIgnoreCase(option, "capa"u8))
            {
                var feed = replicator.Announce(s);
                if (Ascii.EqualsIgnoreCase(a[i + 1], "eof"u8))
                {
                    feed.CapableOfEof = true;
                }
                else if (Ascii.EqualsIgnoreCase(a[i + 1], "psync2"u8))
                {
                    feed.CapableOfPsync2 = true;
                }
            }
            else if (Ascii.EqualsIgnoreCase(option, "ack"u8))
            {
                // From a replica only, never answered.
                if (NumberFormat.TryParseInt64(a[i + 1], out long offset))
                {
                    replicator.Ack(s, offset);
                }
                return;
            }
            else if (Ascii.EqualsIgnoreCase(option, "getack"u8))
            {
                // From our master only: answered with an ACK on the link once the bytes read so far are applied.
                if (s.IsMaster && replicator.Link is { } link)
                {
                    link.AckRequested = true;
                }
                return;
            }
            else if (Ascii.EqualsIgnoreCase(option, "rdb-only"u8))
            {
                if (!s.TryParseLong(a[i + 1], out long rdbOnly) || rdbOnly is not (0 or 1))
                {
                    return;
                }
            }
            else
            {
                s.Reply.WriteError($"ERR Unrecognized REPLCONF option: {a.GetString(i)}");
                return;
            }
        }
        s.Reply.WriteOk();
    }

    private static void Psync(Session s, ArgList a) =>
        s.Server.Replicator.Psync(s, a.GetString(1), a.GetString(2), failover: a.Count > 3 && Ascii.EqualsIgnoreCase(a[3], "failover"u8));

    /// <summary>FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], parsed and checked in Redis's order.</summary>
    private static void Failover(Session s, ArgList a)
    {
        if (s.Server.Cluster is not null)
        {
            s.Reply.WriteError("ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
            return;
        }
        var failover = s.Server.Replicator.Failover;
        if (a.Count == 2 && Ascii.EqualsIgnoreCase(a[1], "abort"u8))
        {
            if (failover.Abort())
            {
                s.Reply.WriteOk();
            }
            else
            {
                s.Reply.WriteError("ERR No failover in progress.");
            }
            return;
        }
        long timeoutMs = 0;
        long port = 0;
        string? host = null;
        bool force = false;
        for (int i = 1; i < a.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(a[i], "timeout"u8) && i + 1 < a.Count && timeoutMs == 0)
            {
                if (!s.TryParseLong(a[i + 1], out timeoutMs))
                {
                    return;
                }
                if (timeoutMs <= 0)
                {
                    s.Reply.WriteError("ERR FAILOVER timeout must be greater than 0");
                    return;
                }
                i++;
            }
            else if (Ascii.EqualsIgnoreCase(a[i], "to"u8) && i + 2 < a.Count && host is null)
            {
                if (!s.TryParseLong(a[i + 2], out port))
                {
                    return;
                }
                host = a.GetString(i + 1);
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(a[i], "force"u8) && !force)
            {
                force = true;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        // Redis keeps the port as a C long and compares it with the replicas' int ports: out of range matches none.
        int targetPort = port is >= int.MinValue and <= int.MaxValue ? (int)port : -1;
        if (failover.Start(host, targetPort, force, timeoutMs) is { } error)
        {
            s.Reply.WriteError("ERR " + error);
            return;
        }
        s.Reply.WriteOk();
    }

    private static void Sync(Session s, ArgList a) => s.Server.Replicator.Psync(s, null, "-1");

    private static void Wait(Session s, ArgList a)
    {
        var replicator = s.Server.Replicator;
        if (replicator.IsReplica)
        {
            s.Reply.WriteError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable "
                + "(which is not the default) writes to replicas are just local and are not propagated.");
            return;
        }
        if (!s.TryParseLong(a[1], out long replicas))
        {
            return;
        }
        if (!NumberFormat.TryParseInt64(a[2], out long timeoutMs))
        {
            s.Reply.WriteError("ERR timeout is not an integer or out of range");
            return;
        }
        if (timeoutMs < 0)
        {
            s.Reply.WriteError("ERR timeout is negative");
            return;
        }
        replicator.Wait(s, replicas, timeoutMs);
    }

    private static void Role(Session s, ArgList a)
    {
        var server = s.Server;
        var r = s.Reply;
        var replicator = server.Replicator;
        if (replicator.Link is { } link)
        {
            r.WriteArrayHeader(5);
            r.WriteBulk("slave"u8);
            r.WriteBulk(Encoding.UTF8.GetBytes(link.Host));
            r.WriteInteger(link.Port);
            r.WriteBulk(link.State switch
            {
                MasterLinkState.Connect => "connect"u8,
                MasterLinkState.Connecting => "connecting"u8,
                MasterLinkState.Handshake => "handshake"u8,
                MasterLinkState.Sync => "sync"u8,
                _ => "connected"u8,
            });
            r.WriteInteger(link.IsUp ? server.Propagator.Stream.MasterOffset : -1);
            return;
        }
        r.WriteArrayHeader(3);
        r.WriteBulk("master"u8);
        r.WriteInteger(server.Propagator.Stream.MasterOffset);
        var online = replicator.Replicas.Where(f => f.State == ReplicaState.Online).ToList();
        r.WriteArrayHeader(online.Count);
        foreach (var feed in online)
        {
            r.WriteArrayHeader(3);
            r.WriteBulk(Encoding.UTF8.GetBytes(feed.Ip));
            r.WriteBulk(Encoding.ASCII.GetBytes(feed.ListeningPort.ToString(CultureInfo.InvariantCulture)));
            r.WriteBulk(Encoding.ASCII.GetBytes(feed.AckOffset.ToString(CultureInfo.InvariantCulture)));
        }
    }
}
