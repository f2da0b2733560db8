using System.Globalization;
using System.Net.Sockets;
using CacheOperator.Client;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// MIGRATE (moving keys to another server as DUMP payloads sent as RESTORE, Redis 7.0's migrateCommand) and
/// RESTORE-ASKING, the RESTORE that a MIGRATE sends in cluster mode.
/// </summary>
internal static class MigrateCommands
{
    private const string MigrateNotes = "RW access delete incomplete";

    /// <summary>MIGRATE, in Redis's "generic" group.</summary>
    public static IEnumerable<CommandSpec> All =>
    [
        new("migrate", -6, Migrate)
        {
            Flags = CommandFlags.Write,
            // The key argument, and the KEYS list: incomplete, since "" with KEYS is no key and KEYS may be an AUTH password;
            // MigrateKeys says exactly (Redis's migrateGetKeys).
            KeySpecs = [KeySpec.Range("RW access delete", 3), KeySpec.KeywordRange(MigrateNotes, "KEYS", -2, lastKey: -1)],
            GetKeysProcedure = MigrateKeys,
            Acl = "@keyspace @write @slow @dangerous", Tips = "nondeterministic_output",
            Summary = "Atomically transfer a key from a Redis instance to another one.", Since = "2.6.0",
            Complexity = "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
            Syntax = "host port key destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key [key ...]]",
        },
    ];

    /// <summary>RESTORE-ASKING, in Redis's "server" group.</summary>
    public static IEnumerable<CommandSpec> ServerGroup =>
    [
        new("restore-asking", -4, RestoreAsking)
        {
            // Asking: the cluster slot check lets it in as if ASKING preceded it (an importing slot); the rest is RESTORE.
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Asking, Keys = (1, 1, 1), KeySpecFlags = "OW update",
            Acl = "@keyspace @write @slow @dangerous",
            Summary = "An internal command for migrating keys in a cluster", Since = "3.0.0",
            Complexity = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
            Syntax = "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        },
    ];

    /// <summary>RESTORE, counted in cluster mode as a key received by slot migration (the metrics' migrated keys).</summary>
    private static void RestoreAsking(Session s, ArgList a)
    {
        if (DumpCommands.RestoreKey(s, a) && s.Server.Cluster is { } cluster)
        {
            cluster.MigratedKeysReceived++;
        }
    }

    /// <summary>
    /// Redis's migrateGetKeys: the key argument, or with KEYS (after options whose values are skipped) every argument
    /// after it; none when KEYS comes with a non-empty key argument.
    /// </summary>
    public static void MigrateKeys(CommandLine line, KeyBuffer result)
    {
        const KeyFlags flags = KeyFlags.RW | KeyFlags.Access | KeyFlags.Delete;
        int first = 3;
        int count = 1;
        for (int i = 6; i < line.Count; i++)
        {
            var arg = line[i];
            if (Ascii.EqualsIgnoreCase(arg, "KEYS"u8))
            {
                if (!line[3].IsEmpty)
                {
                    return;
                }
                first = i + 1;
                count = line.Count - first;
                break;
            }
            if (Ascii.EqualsIgnoreCase(arg, "AUTH"u8))
            {
                i += 1;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "AUTH2"u8))
            {
                i += 2;
            }
        }
        for (int i = 0; i < count; i++)
        {
            result.Add(first + i, flags);
        }
    }

    /// <summary>
    /// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password | AUTH2 username password] [KEYS key ...],
    /// as Redis 7.0's migrateCommand. Like Redis, it blocks the node while it talks to the target: it runs under the
    /// keyspace lock and does blocking I/O on this thread (connect, each send and each reply read at most <c>timeout</c> ms),
    /// so the keys cannot change between the DUMP and the DEL and every key ends up in exactly one place. The cached
    /// connection (see <see cref="MigrateConnections"/>) receives AUTH when asked, SELECT when its database differs, then one
    /// RESTORE per key, in one write; each key the target acknowledged is deleted here (unless COPY) and the command propagates as
    /// DEL of exactly those keys. An I/O error before any reply is retried once on a new connection, as Redis does.
    /// </summary>
    private static void Migrate(Session s, ArgList a)
    {
        bool copy = false;
        bool replace = false;
        int userAt = 0;
        int passwordAt = 0;
        int firstKey = 3;
        int keyCount = 1;
        for (int j = 6; j < a.Count; j++)
        {
            int more = a.Count - 1 - j;
            if (a.Is(j, "COPY"u8))
            {
                copy = true;
            }
            else if (a.Is(j, "REPLACE"u8))
            {
                replace = true;
            }
            else if (a.Is(j, "AUTH"u8))
            {
                if (more < 1)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
                passwordAt = ++j;
                s.Redact(j);
            }
            else if (a.Is(j, "AUTH2"u8))
            {
                if (more < 2)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
                userAt = ++j;
                s.Redact(j);
                passwordAt = ++j;
                s.Redact(j);
            }
            else if (a.Is(j, "KEYS"u8))
            {
                if (!a[3].IsEmpty)
                {
                    s.Reply.WriteError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                    return;
                }
                firstKey = j + 1;
                keyCount = a.Count - j - 1;
                break;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (!s.TryParseLong(a[5], out long timeout) || !s.TryParseLong(a[4], out long dbid))
        {
            return;
        }
        if (timeout <= 0)
        {
            timeout = 1000;
        }

        // The keys that exist now (a read lookup each, as Redis's lookupKeyRead); all missing is not an error.
        var db = s.Db;
        var found = new List<(int Position, int Index)>(keyCount);
        for (int j = 0; j < keyCount; j++)
        {
            int index = s.FindForRead(a[firstKey + j]);
            if (index >= 0)
            {
                found.Add((firstKey + j, index));
            }
        }
        if (found.Count == 0)
        {
            s.Reply.WriteSimple("NOKEY"u8);
            return;
        }

        // The RESTOREs, built once: the TTL left (at least 1 ms), the payload; a key that expired meanwhile is skipped.
        bool asking = SendsRestoreAsking(s.Server);
        var restores = new List<(int Position, ReadOnlyMemory<byte>[] Command)>(found.Count);
        long now = s.Keyspace.NowMs;
        foreach (var (position, index) in found)
        {
            long ttl = 0;
            if (db.Table[index].HasExpiry)
            {
                ttl = db.Table.ExpireAt(index) - now;
                if (ttl < 0)
                {
                    continue;
                }
                ttl = Math.Max(ttl, 1);
            }
            var command = new ReadOnlyMemory<byte>[replace ? 5 : 4];
            command[0] = asking ? "RESTORE-ASKING"u8.ToArray() : "RESTORE"u8.ToArray();
            command[1] = a[position].ToArray();
            command[2] = Encoding.ASCII.GetBytes(ttl.ToString(CultureInfo.InvariantCulture));
            command[3] = DumpPayload.Create(db.Table[index].Value!, s.Server.Config.RdbCompression.IsOn);
            if (replace)
            {
                command[4] = "REPLACE"u8.ToArray();
            }
            restores.Add((position, command));
        }

        string host = a.GetString(1);
        string port = a.GetString(2);
        var connections = s.Server.MigrateConnections;
        for (bool mayRetry = true; ; mayRetry = false)
        {
            var target = connections.Get(host, port, timeout, out bool refused);
            if (target is null && refused && mayRetry)
            {
                continue;
            }
            if (target is null)
            {
                // Redis's non-blocking connect "succeeds" against a closed port and its first write fails.
                s.Reply.WriteError(refused ? "IOERR error or timeout writing to target instance" : "IOERR error or timeout connecting to the client");
                return;
            }
            var outcome = Transfer(s, a, target, restores, passwordAt, userAt, dbid, copy, timeout, mayRetry, out bool writeError);
            connections.Release(target);
            if (outcome == TransferOutcome.Done)
            {
                return;
            }
            connections.Close(host, port);
            if (outcome == TransferOutcome.TimedOut || !mayRetry)
            {
                s.Reply.WriteError(writeError ? "IOERR error or timeout writing to target instance" : "IOERR error or timeout reading to target instance");
                return;
            }
        }
    }

    /// <summary>How one attempt of a MIGRATE ended.</summary>
    private enum TransferOutcome
    {
        /// <summary>Replied to the client (OK or the target's error); keys acknowledged are deleted.</summary>
        Done,

        /// <summary>The connection failed before any RESTORE was answered: retried once on a new connection.</summary>
        Failed,

        /// <summary>No reply within the timeout, or the connection failed after some keys moved: IOERR, no retry.</summary>
        TimedOut,
    }

    /// <summary>One attempt over <paramref name="target"/>: sends everything at once, reads the replies in order with the timeout each.</summary>
    private static TransferOutcome Transfer(
        Session s, ArgList a, MigrateConnection target, List<(int Position, ReadOnlyMemory<byte>[] Command)> restores,
        int passwordAt, int userAt, long dbid, bool copy, long timeout, bool mayRetry, out bool writeError)
    {
        writeError = false;
        var request = new ArrayBufferWriter<byte>();
        bool auth = passwordAt > 0;
        if (auth)
        {
            ReadOnlyMemory<byte>[] command = userAt > 0
                ? ["AUTH"u8.ToArray(), a[userAt].ToArray(), a[passwordAt].ToArray()]
                : ["AUTH"u8.ToArray(), a[passwordAt].ToArray()];
            RespCommandEncoder.Write(request, command);
        }
        bool select = target.LastDb != dbid;
        if (select)
        {
            RespCommandEncoder.Write(request, ["SELECT", dbid.ToString(CultureInfo.InvariantCulture)]);
        }
        foreach (var (_, command) in restores)
        {
            RespCommandEncoder.Write(request, command);
        }
        try
        {
            target.Send(request.WrittenSpan, timeout);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            writeError = true;
            return IsTimeout(e) ? TransferOutcome.TimedOut : TransferOutcome.Failed;
        }

        RespReply? authReply = null;
        RespReply? selectReply = null;
        try
        {
            authReply = auth ? target.Read(timeout) : null;
            selectReply = select ? target.Read(timeout) : null;
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return IsTimeout(e) ? TransferOutcome.TimedOut : TransferOutcome.Failed;
        }

        bool errorFromTarget = false;
        bool socketError = false;
        bool timedOut = false;
        int answered = 0;
        var db = s.Db;
        PropagatedCommand? del = null;
        long deleted = 0;
        long acknowledged = 0;
        for (; answered < restores.Count; answered++)
        {
            RespReply reply;
            try
            {
                reply = target.Read(timeout);
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                socketError = true;
                timedOut = IsTimeout(e);
                break;
            }
            var error = authReply is { IsError: true } ? authReply : selectReply is { IsError: true } ? selectReply : reply.IsError ? reply : null;
            if (error is not null)
            {
                if (!errorFromTarget)
                {
                    // The first error is the answer; the database the connection has selected is unknown from now on.
                    target.LastDb = -1;
                    errorFromTarget = true;
                    s.Reply.WriteError("ERR Target instance replied with error: " + error.AsString());
                }
            }
            else
            {
                acknowledged++;
                if (!copy)
                {
                    var key = a[restores[answered].Position];
                    db.Delete(key);
                    db.Notify(KeyspaceEventTypes.Generic, "del"u8, key);
                    deleted++;
                    if (deleted == 1)
                    {
                        del = s.Server.Propagator.Rewrite("DEL"u8);
                    }
                    del?.Add(key);
                }
            }
        }
        if (s.Server.Cluster is { } cluster)
        {
            // Slot migration's keys sent (the metrics' migrated keys): every key the target stored, moved or copied.
            cluster.MigratedKeysSent += acknowledged;
        }
        if (deleted > 0)
        {
            // As Redis, one change per key moved; propagated as DEL of exactly the keys the target acknowledged.
            db.CountChanges(deleted);
        }
        if (!errorFromTarget && socketError && answered == 0 && mayRetry && !timedOut)
        {
            return TransferOutcome.Failed;
        }
        if (socketError && !errorFromTarget)
        {
            return TransferOutcome.TimedOut;
        }
        if (!errorFromTarget)
        {
            target.LastDb = dbid;
            s.Reply.WriteOk();
        }
        else if (socketError)
        {
            // The error reply is sent; the broken connection still goes.
            s.Server.MigrateConnections.Close(a.GetString(1), a.GetString(2));
        }
        return TransferOutcome.Done;
    }

    /// <summary>True when an I/O failure is the timeout running out (Redis's ETIMEDOUT: no retry).</summary>
    private static bool IsTimeout(Exception e) =>
        (e as SocketException ?? e.InnerException as SocketException)?.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock;

    /// <summary>
    /// Redis 7.0 sends RESTORE-ASKING when cluster_enabled. The hook for cluster mode: true once the node runs with
    /// cluster-enabled yes (read by name, so it takes effect as soon as the directive exists).
    /// </summary>
    private static bool SendsRestoreAsking(NodeServer server)
    {
        foreach (var directive in server.Config.All)
        {
            if (directive.Name == "cluster-enabled")
            {
                return directive.IsOn;
            }
        }
        return false;
    }
}
