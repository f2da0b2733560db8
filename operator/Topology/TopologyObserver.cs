using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>How the operator talks to the nodes: timeouts short enough that one dead node does not stall a round.</summary>
/// <param name="ConnectTimeout">Connecting and AUTH.</param>
/// <param name="CommandTimeout">Each command.</param>
public sealed record NodeConnectionSettings(TimeSpan ConnectTimeout, TimeSpan CommandTimeout)
{
    /// <summary>2 s to connect, 5 s per command.</summary>
    public static NodeConnectionSettings Default { get; } = new(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5));

    /// <summary>Connects to <paramref name="member"/> (AUTH when a password is set).</summary>
    public async Task<RespConnection> ConnectAsync(MemberEndpoint member, string? password, CancellationToken cancellationToken)
    {
        if (member.Host is null)
        {
            throw new RespConnectionException($"member {member.Name} has no address yet");
        }
        return await RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Host = member.Host,
            Port = member.Port,
            Password = password,
            ConnectTimeout = ConnectTimeout,
            CommandTimeout = CommandTimeout,
            ClientName = "cache-operator",
        }, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Asks every member, in parallel, who it is and what it knows of the cluster; a member that does not answer is reported, not thrown.</summary>
public sealed class TopologyObserver(NodeConnectionSettings? settings = null)
{
    private readonly NodeConnectionSettings _settings = settings ?? NodeConnectionSettings.Default;

    /// <summary>One observation of every member of <paramref name="desired"/>.</summary>
    public async Task<ObservedTopology> ObserveAsync(DesiredTopology desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var views = await Task.WhenAll(desired.Members.Select(m => ObserveAsync(m, desired.Password, cancellationToken))).ConfigureAwait(false);
        return new ObservedTopology(views);
    }

    /// <summary>One member's view.</summary>
    public async Task<MemberView> ObserveAsync(MemberEndpoint member, string? password, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _settings.ConnectAsync(member, password, cancellationToken).ConfigureAwait(false);
            var myId = Text(await connection.ExecuteAsync(["CLUSTER", "MYID"], cancellationToken).ConfigureAwait(false), "CLUSTER MYID");
            var nodes = Text(await connection.ExecuteAsync(["CLUSTER", "NODES"], cancellationToken).ConfigureAwait(false), "CLUSTER NODES");
            var info = Text(await connection.ExecuteAsync(["CLUSTER", "INFO"], cancellationToken).ConfigureAwait(false), "CLUSTER INFO");
            var replication = Text(await connection.ExecuteAsync(["INFO", "replication"], cancellationToken).ConfigureAwait(false), "INFO replication");
            var entries = ClusterNodeEntry.ParseAll(nodes);
            var open = new Dictionary<int, long>();
            foreach (var slot in (entries.FirstOrDefault(e => e.IsMyself)?.Migrations ?? []).Select(m => m.Slot).Distinct())
            {
                var count = await connection.ExecuteAsync(["CLUSTER", "COUNTKEYSINSLOT", slot.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken).ConfigureAwait(false);
                open[slot] = count.IsError ? throw new InvalidOperationException($"CLUSTER COUNTKEYSINSLOT failed: {count.AsString()}") : count.AsInt64();
            }
            return new MemberView(member, true, null, myId.Trim(), entries,
                ReplicationInfo.InfoFields(info).GetValueOrDefault("cluster_state"), ReplicationInfo.Parse(replication))
            { KeysInOpenSlots = open };
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return MemberView.Unreachable(member, e.Message);
        }
    }

    private static string Text(RespReply reply, string command) =>
        reply.IsError
            ? throw new InvalidOperationException($"{command} failed: {reply.AsString()}")
            : reply.AsString() ?? throw new InvalidOperationException($"{command} returned nothing");
}
