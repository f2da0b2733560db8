using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The server family: INFO, CONFIG, CLIENT, COMMAND, DBSIZE, FLUSHALL, TIME, DEBUG, SHUTDOWN.</summary>
internal static class ServerCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("shutdown", -1, Shutdown)
        {
            Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@admin @slow @dangerous",
            Summary = "Synchronously saves the database(s) to disk and shuts down the Redis server.", Complexity = "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            Syntax = "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
        },
    ];

    private static void Shutdown(Session s, ArgList a)
    {
        // Nothing is persisted yet, so SAVE/NOSAVE/NOW/FORCE change nothing; ABORT has nothing to abort.
        for (int i = 1; i < a.Count; i++)
        {
            if (a.Is(i, "ABORT"u8))
            {
                s.Reply.WriteError("ERR No shutdown in progress.");
                return;
            }
            if (!(a.Is(i, "NOSAVE"u8) || a.Is(i, "SAVE"u8) || a.Is(i, "NOW"u8) || a.Is(i, "FORCE"u8)))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        // Redis answers nothing on success: the connection just closes.
        s.CloseAfterReply = true;
        s.Server.RequestShutdown($"SHUTDOWN from client id={s.Id}");
    }
}
