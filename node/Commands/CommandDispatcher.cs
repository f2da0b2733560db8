using System.Diagnostics;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>
/// Runs one parsed command for a session: finds it in the table, checks arity and authentication,
/// resolves subcommands, and counts it. Callers hold the keyspace lock.
/// </summary>
public static class CommandDispatcher
{
    /// <summary>Runs <paramref name="args"/> (name first) for <paramref name="session"/>.</summary>
    public static void Execute(Session session, ArgList args)
    {
        if (session.Asking)
        {
            ExecuteAfterAsking(session, args);
            return;
        }
        RunMuted(session, args);
    }

    private static void RunMuted(Session session, ArgList args)
    {
        // CLIENT REPLY OFF/SKIP: the command runs as always into a muted writer (a transaction's commands inherit EXEC's).
        bool mute = (session.ReplyOff || session.ReplySkip) && !session.Reply.Muted;
        session.Reply.Muted |= mute;
        Run(session, args);
        if (mute)
        {
            session.Reply.Muted = false;
        }
        if ((session.ReplySkip || session.ReplySkipNext) && !session.DenyBlocking && !session.Postponed)
        {
            session.ReplySkip = session.ReplySkipNext;
            session.ReplySkipNext = false;
        }
    }

    /// <summary>A command after ASKING: the flag lasts for this one command (for a transaction, until its EXEC), as Redis's resetClient.</summary>
    private static void ExecuteAfterAsking(Session session, ArgList args)
    {
        // The slot check reads the flag while the command runs.
        RunMuted(session, args);
        bool isAsking = args[0].Length == 6 && Ascii.EqualsIgnoreCase(args[0], "asking"u8);
        if (!isAsking && session.Multi is null)
        {
            session.Asking = false;
        }
    }

    private static void Run(Session session, ArgList args)
    {
        var server = session.Server;
        var spec = server.Commands.Find(args[0]);
        if (spec is null)
        {
            session.Reply.WriteError(UnknownCommand(args));
            server.Stats.CountError(session.Reply);
            FailTransaction(session);
            return;
        }
        if (!session.Authenticated && (spec.Flags & CommandFlags.NoAuth) == 0)
        {
            Reject(session, spec, Errors.NoAuth);
            return;
        }
        if (spec.Subcommands.Count > 0 && args.Count >= 2)
        {
            var sub = CommandTable.FindSubcommand(spec, args[1]);
            if (sub is null)
            {
                Reject(session, spec, $"ERR unknown subcommand '{Truncate(args.GetString(1))}'. Try {spec.Name.ToUpperInvariant()} HELP.");
                return;
            }
            spec = sub;
        }
        if (spec.Arity > 0 ? args.Count != spec.Arity : args.Count < -spec.Arity)
        {
            Reject(session, spec, Errors.WrongArgs(spec.Name));
            return;
        }
        if (session.IsMonitor && (spec.Flags & (CommandFlags.Write | CommandFlags.ReadOnly)) != 0)
        {
            Reject(session, spec, "ERR Replica can't interact with the keyspace");
            return;
        }
        // Cluster mode: one step decides whether this node serves the keys (Redis's getNodeByQuery); standalone pays one branch.
        if (server.Cluster is { } cluster && !session.IsScript && !RoutedHere(cluster, session, spec, args))
        {
            return;
        }
        if (session.IsPubSub && session.Reply.Protocol == 2 && (spec.Flags & CommandFlags.SubscriberContext) == 0)
        {
            // RESP2 subscriber mode: the connection carries messages, so only commands that keep that readable run.
            Reject(session, spec, PubSubCommands.SubscriberModeError(spec));
            return;
        }
        if (server.Snapshots.IsLoading && (spec.Flags & CommandFlags.Loading) == 0)
        {
            Reject(session, spec, Errors.Loading);
            return;
        }
        if (server.Snapshots.DeniesWrites && ((spec.Flags & CommandFlags.Write) != 0 || spec.Name == "ping"))
        {
            // Redis's writeCommandsDeniedByDiskError: PING too, so that monitoring notices.
            Reject(session, spec, Errors.BgsaveFailed);
            return;
        }
        if (!session.IsMaster && !ReplicationAllows(session, spec, args))
        {
            return;
        }
        if (server.Pause.Kind != PauseKind.None && server.Pause.Hold(session, spec))
        {
            return;
        }
        if (session.Multi is { } multi && (spec.Flags & CommandFlags.TransactionControl) == 0)
        {
            if ((spec.Flags & CommandFlags.NoMulti) != 0)
            {
                Reject(session, spec, "ERR Command not allowed inside a transaction");
                return;
            }
            // Inside MULTI: keep a copy for EXEC, which runs the queue atomically.
            multi.Commands.Add(args.ToArrays());
            multi.HasWrites |= (spec.Flags & CommandFlags.Write) != 0;
            session.Reply.WriteRaw("+QUEUED\r\n"u8);
            return;
        }

        session.LastCommand = spec;
        long started = Stopwatch.GetTimestamp();
        server.Keyspace.UpdateClock(started);
        if (server.Config.MaxMemory.Number > 0 && !session.IsMaster && !server.Memory.Admit(spec.FlagsWith?.Invoke(session, args) ?? spec.Flags))
        {
            Reject(session, spec, MemoryManager.OomError);
            return;
        }
        session.Reply.LastErrorPrefix = null;
        if (session.NoTouch)
        {
            // CLIENT NO-TOUCH: this client's commands leave LRU/LFU as they were, except TOUCH itself.
            server.Keyspace.NoTouch = spec.Name != "touch";
        }
        // The master's commands see keys a replica hides as expired (it deletes them with its own DELs).
        server.Keyspace.ApplyingMaster = session.IsMaster;
        if (server.Keyspace.Snapshot is not null && (spec.Flags & CommandFlags.Write) != 0)
        {
            BeforeWrite(session, spec, args);
        }
        var tracker = server.Tracking;
        var outerCommand = tracker.CallerCommand;
        var outerArgs = tracker.CallerArgs;
        if (tracker.ClientCount > 0 && (tracker.Current is null || tracker.Current == session))
        {
            // What a script run by this command reads is tracked under this command's keys (Redis 7.0's caller->argv).
            tracker.CallerCommand = spec;
            tracker.CallerArgs = args;
        }
        long dirty = server.Propagator.BeginCommand();
        var pubSub = server.PubSub;
        var outerClient = pubSub.CurrentClient;
        pubSub.CurrentClient = session;
        if (spec.MonitoredFirst && server.Monitors.Count > 0)
        {
            server.Monitors.Feed(session, args);
        }
        try
        {
            spec.Handler!(session, args);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug in one command must not take the server down for everyone. The reply stream may hold
            // part of an answer, so the client gets an error and is disconnected; other clients go on.
            server.Log.Event(LogLevel.Warning, "command_failed", "A command failed with an internal error",
                ("cmd", spec.Name), ("client_id", session.Id), ("error", $"{e.GetType().Name}: {e.Message}"));
            session.Reply.WriteError($"ERR internal error while running '{spec.Name}'");
            session.CloseAfterReply = true;
        }
        pubSub.CurrentClient = outerClient;
        // The one place a client's command reaches the change stream: as run, or as its handler rewrote it.
        server.Propagator.EndCommand(session.Db, args, (spec.Flags & CommandFlags.TransactionControl) == 0, dirty);
        server.Keyspace.NoTouch = false;
        server.Keyspace.ApplyingMaster = false;
        if ((spec.Flags & CommandFlags.ReadOnly) != 0 && (server.Tracking.Current ?? session) is { Tracking: { } tracking } reader
            && spec.Name is not ("eval_ro" or "evalsha_ro" or "fcall_ro"))
        {
            // Redis 7.0's call(): after a read-only command, the keys of the tracking client's command are remembered for its
            // invalidations; inside a script that is the script command's (its declared keys), not the script's own call.
            bool inScript = reader != session && server.Tracking.CallerCommand is not null;
            server.Tracking.RememberKeys(reader, tracking, inScript ? server.Tracking.CallerCommand! : spec, inScript ? server.Tracking.CallerArgs : args);
        }
        tracker.CallerCommand = outerCommand;
        tracker.CallerArgs = outerArgs;
        long elapsed = Stopwatch.GetTimestamp() - started;
        if ((spec.Flags & CommandFlags.Write) != 0)
        {
            MemoryManager.AfterWrite(session, spec, args);
        }
        server.Telemetry.Observe(session, spec, args, elapsed);
        long micros = (long)(elapsed * (1_000_000.0 / Stopwatch.Frequency));
        spec.Stats.Calls++;
        spec.Stats.Microseconds += micros;
        server.Stats.CommandsProcessed++;
        if (session.Reply.LastErrorPrefix is not null)
        {
            spec.Stats.FailedCalls++;
            server.Stats.CountError(session.Reply);
        }
        // As Redis 7.0's call(): after the command (so SELECT shows the new database and a transaction's
        // commands come before its EXEC), never administrative commands.
        if (server.Monitors.Count > 0 && (spec.Flags & (CommandFlags.Admin | CommandFlags.SkipMonitor)) == 0)
        {
            server.Monitors.Feed(session, args);
        }
        session.RedactedArgs = 0;
    }

    [ThreadStatic]
    private static KeyBuffer? t_writeKeys;

    /// <summary>
    /// While a keyspace snapshot runs, a write command may change its keys' values in place (HSET, LPUSH, INCR): the
    /// snapshot first writes those it has yet to write, as they are before the command. Commands in a transaction pass
    /// here one by one at EXEC.
    /// </summary>
    private static void BeforeWrite(Session session, CommandSpec spec, ArgList args)
    {
        var keys = t_writeKeys ??= new KeyBuffer();
        int count = KeyExtractor.GetKeys(spec, args, keys, positionsOnly: true);
        var db = session.Db;
        for (int i = 0; i < count; i++)
        {
            db.BeforeWrite(args[keys[i].Position]);
        }
    }

    /// <summary>
    /// The cluster slot check for commands with keys and EXEC: false after answering with the redirection or error. A
    /// refused EXEC discards the transaction; a refused command being queued dooms it (EXECABORT).
    /// </summary>
    private static bool RoutedHere(Cluster.ClusterState cluster, Session session, CommandSpec spec, ArgList args)
    {
        bool isExec = spec.Name == "exec";
        // The replication master's stream is obeyed whatever the slot (Redis's mustObeyClient): its keys are our master's.
        if (session.IsMaster || (!isExec && !KeyExtractor.HasRoutingKeys(spec)))
        {
            return true;
        }
        if (Cluster.ClusterRouting.Check(cluster, session, spec, args, isExec, out string? error))
        {
            return true;
        }
        if (isExec)
        {
            TransactionCommands.DiscardState(session);
        }
        Reject(session, spec, error!);
        return false;
    }

    /// <summary>
    /// Redis's processCommand checks for replication, in its order: too few good replicas for a write (-NOREPLICAS), a
    /// write on a read-only replica (-READONLY), a replica whose link is down with replica-serve-stale-data no (-MASTERDOWN).
    /// A write is a write command, or EXEC of a transaction that queued one.
    /// </summary>
    private static bool ReplicationAllows(Session session, CommandSpec spec, ArgList args)
    {
        var replicator = session.Server.Replicator;
        bool tooFewReplicas = replicator.TooFewReplicas;
        if (replicator.Link is null && !tooFewReplicas)
        {
            return true;
        }
        var flags = spec.FlagsWith?.Invoke(session, args) ?? spec.Flags;
        bool write = (flags & CommandFlags.Write) != 0 || (spec.Name == "exec" && session.Multi is { HasWrites: true });
        if (write && tooFewReplicas)
        {
            Reject(session, spec, "NOREPLICAS Not enough good replicas to write.");
            return false;
        }
        if (replicator.Link is not { } link)
        {
            return true;
        }
        if (write && session.Server.Config.ReplicaReadOnly.IsOn)
        {
            Reject(session, spec, "READONLY You can't write against a read only replica.");
            return false;
        }
        if (!link.IsUp && (flags & CommandFlags.Stale) == 0 && !session.Server.Config.ReplicaServeStaleData.IsOn)
        {
            Reject(session, spec, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
            return false;
        }
        return true;
    }

    private static void Reject(Session session, CommandSpec spec, string error)
    {
        spec.Stats.RejectedCalls++;
        session.Reply.WriteError(error);
        session.Server.Stats.CountError(session.Reply);
        FailTransaction(session);
    }

    /// <summary>A command refused while queueing dooms the transaction: EXEC will answer EXECABORT.</summary>
    private static void FailTransaction(Session session)
    {
        if (session.Multi is { } multi)
        {
            multi.Failed = true;
        }
    }

    /// <summary>Redis's text: the name and up to 128 characters of quoted arguments, each followed by a space.</summary>
    private static string UnknownCommand(ArgList args)
    {
        var listed = new StringBuilder();
        for (int i = 1; i < args.Count && listed.Length < 128; i++)
        {
            string arg = args.GetString(i);
            int room = 128 - listed.Length;
            listed.Append('\'').Append(arg.Length > room ? arg[..room] : arg).Append("' ");
        }
        return $"ERR unknown command '{Truncate(args.GetString(0))}', with args beginning with: {listed}";
    }

    private static string Truncate(string text) => text.Length > 128 ? text[..128] : text;
}
