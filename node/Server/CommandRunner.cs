using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>
/// The one way commands reach the keyspace, with or without a socket: runs parsed commands for a session
/// under the keyspace lock through the dispatcher, and serves blocked clients after each command, as one
/// turn of Redis's event loop. Client connections, local clients (<see cref="LocalClient"/>), and later the
/// replica link, snapshot loading and scripts all run commands through it.
/// </summary>
public static class CommandRunner
{
    /// <summary>
    /// Runs the commands of <paramref name="batch"/> from <paramref name="next"/> on, taking the lock once;
    /// stops after a command that suspends the session (a blocking wait) or closes it. Returns the index of
    /// the first command not run.
    /// </summary>
    public static int RunBatch(Session session, CommandBatch batch, int next)
    {
        int count = batch.CommandCount;
        var sync = session.Keyspace.Sync;
        if (!EnterUnlessBusy(session, sync))
        {
            return AnswerBusy(session, batch, next);
        }
        try
        {
            // Pushes queued since this client last ran go before the replies to its new commands.
            session.Outbound.DrainTo(session.Reply);
            var tracking = session.Server.Tracking;
            tracking.BeginTurn();
            while (next < count)
            {
                RunLocked(session, batch.GetCommand(next++));
                if (session.Postponed)
                {
                    // Held by CLIENT PAUSE: the same command runs again once the pause ends.
                    session.Postponed = false;
                    next--;
                }
                if (session.Suspension is not null || session.CloseAfterReply)
                {
                    break;
                }
            }
            // As Redis's clusterBeforeSleep: what the batch's commands changed in the cluster view is applied and saved once.
            if (session.Server.Cluster is { Pending: not Cluster.ClusterTodo.None } cluster)
            {
                cluster.DoPending();
            }
            // As Redis's beforeSleep: the keys the batch changed under BCAST prefixes go out, after the batch's replies.
            tracking.EndTurn();
            if (session.Outbound.PendingBytes > 0)
            {
                session.Outbound.DrainTo(session.Reply);
            }
        }
        finally
        {
            sync.Exit();
        }
        return next;
    }

    /// <summary>
    /// Takes the keyspace lock, unless a script holds it past busy-reply-threshold (on another thread, or on this one
    /// when the network loop serves clients from inside the script): then false, and the commands get -BUSY.
    /// </summary>
    private static bool EnterUnlessBusy(Session session, Lock sync)
    {
        var scripts = session.Server.Scripts;
        if (sync.IsHeldByCurrentThread)
        {
            if (scripts.IsRunning)
            {
                return false;
            }
            sync.Enter();
            return true;
        }
        if (sync.TryEnter())
        {
            return true;
        }
        while (!sync.TryEnter(10))
        {
            if (scripts.CheckBusy())
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Answers the batch's commands while a script is busy, as Redis's processCommand: SCRIPT KILL, FUNCTION KILL and
    /// FUNCTION STATS are served, everything else gets -BUSY. Stops (returning the index reached) as soon as the script is over.
    /// </summary>
    private static int AnswerBusy(Session session, CommandBatch batch, int next)
    {
        var scripts = session.Server.Scripts;
        int count = batch.CommandCount;
        bool sameThread = session.Keyspace.Sync.IsHeldByCurrentThread;
        while (next < count && (sameThread ? scripts.IsRunning : scripts.IsBusy))
        {
            var args = batch.GetCommand(next++);
            bool functionCommand = args.Count == 2 && Ascii.EqualsIgnoreCase(args[0], "function"u8);
            if (functionCommand && Ascii.EqualsIgnoreCase(args[1], "stats"u8))
            {
                Commands.ScriptingCommands.WriteFunctionStats(session);
                continue;
            }
            if (args.Count == 2 && (functionCommand || Ascii.EqualsIgnoreCase(args[0], "script"u8)) && Ascii.EqualsIgnoreCase(args[1], "kill"u8))
            {
                if (scripts.RequestKill(function: functionCommand) is { } error)
                {
                    session.Reply.WriteError(error);
                }
                else
                {
                    session.Reply.WriteOk();
                }
                continue;
            }
            if (args.Count == 2 && Ascii.EqualsIgnoreCase(args[0], "shutdown"u8) && Ascii.EqualsIgnoreCase(args[1], "nosave"u8))
            {
                // Redis exits at once: the script is stopped even after writes, nothing is saved, the node shuts down.
                scripts.Abort();
                session.CloseAfterReply = true;
                session.Server.RequestShutdown($"SHUTDOWN NOSAVE from client id={session.Id} while a script was busy");
                return count;
            }
            session.Reply.WriteError(scripts.BusyError);
        }
        return next;
    }

    /// <summary>Runs one command; the caller holds the keyspace lock.</summary>
    public static void RunLocked(Session session, ArgList args)
    {
        var tracking = session.Server.Tracking;
        if (tracking.ClientCount > 0)
        {
            // As Redis's processCommand: the tracking table is brought back under tracking-table-max-keys first.
            tracking.LimitUsedSlots();
            if (session.Outbound.PendingBytes > 0)
            {
                // Not yet running its command: this client's own invalidations go ahead of the reply, as in Redis.
                session.Outbound.DrainTo(session.Reply);
            }
        }
        tracking.Current = session;
        CommandDispatcher.Execute(session, args);
        tracking.Current = null;
        if (session.Tracking is { CachingGiven: true } clientTracking && session.Multi is null
            && !(args[0].Length == 6 && Ascii.EqualsIgnoreCase(args[0], "client"u8)))
        {
            // CLIENT CACHING lasts for the next command, or the transaction it opens (Redis's resetClient).
            clientTracking.CachingGiven = false;
        }
        if (session.Outbound.PendingBytes > 0)
        {
            // A monitor sees its own commands right after their replies.
            session.Outbound.DrainTo(session.Reply);
        }
        var blocking = session.Server.Blocking;
        if (blocking.HasReadyKeys)
        {
            // Only now that the command (or a whole EXEC) is over do pushed keys go to blocked clients;
            // commands queued by MULTI have not run, so they have made nothing ready.
            blocking.ServeReadyKeys();
        }
    }
}
