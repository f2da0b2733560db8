using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The transactions family: MULTI queues commands (the dispatcher answers +QUEUED), EXEC runs them all
/// under the keyspace lock the connection already holds, WATCH makes EXEC fail when a key changed.
/// </summary>
internal static class TransactionCommands
{
    private const CommandFlags Control = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandSpec> All =>
    [
        new("multi", 1, Multi)
        {
            Flags = Control | CommandFlags.Fast | CommandFlags.AllowBusy | CommandFlags.TransactionControl, Acl = "@fast @transaction", Since = "1.2.0",
            Summary = "Mark the start of a transaction block", Complexity = "O(1)",
        },
        new("exec", 1, Exec)
        {
            Flags = Control | CommandFlags.SkipSlowlog | CommandFlags.TransactionControl, Acl = "@slow @transaction", Since = "1.2.0",
            Summary = "Execute all commands issued after MULTI", Complexity = "Depends on commands in the transaction",
        },
        new("discard", 1, Discard)
        {
            Flags = Control | CommandFlags.Fast | CommandFlags.AllowBusy | CommandFlags.TransactionControl, Acl = "@fast @transaction", Since = "2.0.0",
            Summary = "Discard all commands issued after MULTI", Complexity = "O(N), when N is the number of queued commands",
        },
        new("watch", -2, Watch)
        {
            Flags = Control | CommandFlags.Fast | CommandFlags.AllowBusy | CommandFlags.TransactionControl, Keys = (1, -1, 1), KeySpecFlags = "RO", Acl = "@fast @transaction", Since = "2.2.0",
            Summary = "Watch the given keys to determine execution of the MULTI/EXEC block", Complexity = "O(1) for every key.", Syntax = "key [key ...]",
        },
        new("unwatch", 1, Unwatch)
        {
            Flags = Control | CommandFlags.Fast, Acl = "@fast @transaction", Since = "2.2.0",
            Summary = "Forget about all watched keys", Complexity = "O(1)",
        },
    ];

    private static void Multi(Session s, ArgList a)
    {
        if (s.Multi is not null)
        {
            s.Reply.WriteError("ERR MULTI calls can not be nested");
            return;
        }
        s.Multi = new MultiState();
        s.Reply.WriteOk();
    }

    private static void Exec(Session s, ArgList a)
    {
        if (s.Multi is not { } multi)
        {
            s.Reply.WriteError("ERR EXEC without MULTI");
            return;
        }
        s.Multi = null;
        if (multi.Failed)
        {
            UnwatchAll(s);
            s.Reply.WriteError("EXECABORT Transaction discarded because of previous errors.");
            return;
        }
        bool watchedChanged = s.Watcher is { } watcher && (watcher.Dirty || watcher.AnyExpiredSinceWatch(s.Keyspace.NowMs));
        UnwatchAll(s);
        if (watchedChanged)
        {
            s.Reply.WriteNullArray();
            return;
        }
        s.Reply.WriteArrayHeader(multi.Commands.Count);
        // Nothing inside a transaction may wait: blocking commands answer as if they timed out.
        s.DenyBlocking = true;
        try
        {
            foreach (var command in multi.Commands)
            {
                CommandDispatcher.Execute(s, new ArgList(command));
            }
        }
        finally
        {
            s.DenyBlocking = false;
        }
        // Errors of queued commands are theirs, counted when they ran; EXEC itself succeeded.
        s.Reply.LastErrorPrefix = null;
    }

    private static void Discard(Session s, ArgList a)
    {
        if (s.Multi is null)
        {
            s.Reply.WriteError("ERR DISCARD without MULTI");
            return;
        }
        s.Multi = null;
        UnwatchAll(s);
        s.Reply.WriteOk();
    }

    private static void Watch(Session s, ArgList a)
    {
        if (s.Multi is not null)
        {
            s.Reply.WriteError("ERR WATCH inside MULTI is not allowed");
            return;
        }
        var watcher = s.Watcher ??= new KeyWatcher();
        for (int i = 1; i < a.Count; i++)
        {
            s.Keyspace.Watches.Watch(watcher, s.Db, a[i], s.Keyspace.NowMs);
        }
        s.Reply.WriteOk();
    }

    private static void Unwatch(Session s, ArgList a)
    {
        UnwatchAll(s);
        s.Reply.WriteOk();
    }

    /// <summary>Leaves any transaction being queued and forgets every watched key (RESET).</summary>
    internal static void DiscardState(Session s)
    {
        s.Multi = null;
        UnwatchAll(s);
    }

    private static void UnwatchAll(Session s)
    {
        if (s.Watcher is { } watcher)
        {
            s.Keyspace.Watches.UnwatchAll(watcher);
        }
    }
}
