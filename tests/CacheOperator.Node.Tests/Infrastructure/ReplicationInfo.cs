namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>Reading INFO fields and waiting for a replica to catch up, for the replication tests (node or redis-server alike).</summary>
public static class ReplicationInfo
{
    /// <summary>The value of one INFO field (any section), or null when the server prints none.</summary>
    public static string? Info(RespClient client, string field)
    {
        foreach (var line in client.Call("INFO", "everything").Text!.Split("\r\n"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                return line[(field.Length + 1)..];
            }
        }
        return null;
    }

    /// <summary>Waits until the replica's link is up and its offset equals the master's.</summary>
    public static void WaitInSync(RespClient master, RespClient replica, string what) =>
        Wait.Until(() => Info(replica, "master_link_status") == "up" && Info(replica, "master_repl_offset") == Info(master, "master_repl_offset"), what);
}
