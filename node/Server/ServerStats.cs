using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>Server-wide counters for INFO stats and errorstats. Updated under the keyspace lock or with Interlocked.</summary>
public sealed class ServerStats
{
    /// <summary>Commands run.</summary>
    public long CommandsProcessed;

    /// <summary>Connections accepted.</summary>
    public long ConnectionsReceived;

    /// <summary>Connections refused (maxclients).</summary>
    public long RejectedConnections;

    /// <summary>Bytes read from clients.</summary>
    public long NetInputBytes;

    /// <summary>Bytes written to clients by connections that have closed (open ones are added on read).</summary>
    public long NetOutputBytesClosed;

    /// <summary>Error replies by prefix (ERR, WRONGTYPE, ...), for INFO errorstats.</summary>
    public Dictionary<string, long> ErrorsByPrefix { get; } = new(StringComparer.Ordinal);

    /// <summary>All error replies.</summary>
    public long TotalErrorReplies;

    /// <summary>Counts the error reply the writer just wrote.</summary>
    public void CountError(ReplyWriter reply)
    {
        if (reply.LastErrorPrefix is not { } prefix)
        {
            return;
        }
        lock (ErrorsByPrefix)
        {
            ErrorsByPrefix[prefix] = ErrorsByPrefix.GetValueOrDefault(prefix) + 1;
        }
        TotalErrorReplies++;
    }
}
