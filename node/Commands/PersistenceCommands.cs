using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The snapshot family: SAVE, BGSAVE and LASTSAVE (see <see cref="Persistence.SnapshotService"/>; SHUTDOWN is in ServerCommands).</summary>
internal static class PersistenceCommands
{
    private const string InProgress = "ERR Background save already in progress";

    public static IEnumerable<CommandSpec> All =>
    [
        new("save", 1, Save)
        {
            Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading | CommandFlags.NoMulti, Acl = "@admin @slow @dangerous",
            Summary = "Synchronously save the dataset to disk", Complexity = "O(N) where N is the total number of keys in all databases",
        },
        new("bgsave", -1, BackgroundSave)
        {
            Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading, Acl = "@admin @slow @dangerous",
            Summary = "Asynchronously save the dataset to disk", Complexity = "O(1)", Syntax = "[SCHEDULE]",
        },
        new("lastsave", 1, LastSave)
        {
            Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Acl = "@admin @fast @dangerous", Tips = "nondeterministic_output",
            Summary = "Get the UNIX time stamp of the last successful save to disk", Complexity = "O(1)",
        },
    ];

    /// <summary>SAVE: the snapshot written now, the server holding everything else meanwhile; a bare ERR when it fails, as Redis.</summary>
    private static void Save(Session s, ArgList a)
    {
        var snapshots = s.Server.Snapshots;
        if (snapshots.Current is not null)
        {
            s.Reply.WriteError(InProgress);
            return;
        }
        if (snapshots.SaveNow())
        {
            s.Reply.WriteOk();
        }
        else
        {
            s.Reply.WriteError("ERR");
        }
    }

    /// <summary>BGSAVE [SCHEDULE]: a background save, or with SCHEDULE one queued behind the save under way.</summary>
    private static void BackgroundSave(Session s, ArgList a)
    {
        bool schedule = false;
        if (a.Count > 1)
        {
            if (a.Count > 2 || !a.Is(1, "SCHEDULE"u8))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
            schedule = true;
        }
        var snapshots = s.Server.Snapshots;
        if (snapshots.Current is not null)
        {
            if (schedule)
            {
                snapshots.Schedule();
                s.Reply.WriteSimple("Background saving scheduled");
                return;
            }
            s.Reply.WriteError(InProgress);
            return;
        }
        snapshots.StartBackgroundSave();
        s.Reply.WriteSimple("Background saving started");
    }

    private static void LastSave(Session s, ArgList a) => s.Reply.WriteInteger(s.Server.Snapshots.LastSaveUnix);
}
