using System.Globalization;
using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>
/// Tells when clients have left a node that no longer serves their slots: its MOVED count (INFO errorstats) has not
/// changed for <see cref="Period"/>. A client learns a slot's new owner from MOVED, one slot at a time, and a write it
/// still sends to a node as that node stops fails with the connection; so a node is stopped only once it is quiet.
/// </summary>
public sealed class RedirectionQuiet
{
    /// <summary>How long a node must answer no MOVED to count as left by its clients.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private long? _moved;
    private DateTimeOffset _since;

    /// <summary>Records the node's MOVED count read at <paramref name="now"/>; true once it has not changed for <see cref="Period"/>.</summary>
    public bool Observe(long moved, DateTimeOffset now)
    {
        if (_moved != moved)
        {
            _moved = moved;
            _since = now;
            return false;
        }
        return now - _since >= Period;
    }

    /// <summary>The node's count of MOVED replies so far.</summary>
    public static async Task<long> ReadMovedAsync(RespConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var reply = await connection.ExecuteAsync(["INFO", "errorstats"], cancellationToken).ConfigureAwait(false);
        return reply.IsError ? 0 : MovedCount(reply.AsString() ?? "");
    }

    /// <summary>errorstat_MOVED:count=N of INFO errorstats (0 when absent).</summary>
    internal static long MovedCount(string info)
    {
        var fields = ReplicationInfo.InfoFields(info);
        return fields.TryGetValue("errorstat_MOVED", out var value) && value.StartsWith("count=", StringComparison.Ordinal)
            && long.TryParse(value.AsSpan(6).ToString().Split(',')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count
            : 0;
    }
}
