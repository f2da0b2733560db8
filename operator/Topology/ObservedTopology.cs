namespace CacheOperator.Operator.Topology;

/// <summary>INFO replication of one node.</summary>
/// <param name="Role">master or slave.</param>
/// <param name="MasterLinkStatus">up or down for a replica; null for a master.</param>
/// <param name="MasterReplOffset">master_repl_offset: how much of the stream it has (as master: produced).</param>
/// <param name="ReplicaReplOffset">slave_repl_offset for a replica (0 for a master).</param>
public sealed record ReplicationInfo(string Role, string? MasterLinkStatus, long MasterReplOffset, long ReplicaReplOffset)
{
    /// <summary>Parses the text of INFO replication.</summary>
    public static ReplicationInfo Parse(string text)
    {
        var fields = InfoFields(text);
        return new ReplicationInfo(
            fields.GetValueOrDefault("role", "master"),
            fields.GetValueOrDefault("master_link_status"),
            long.TryParse(fields.GetValueOrDefault("master_repl_offset"), out var master) ? master : 0,
            long.TryParse(fields.GetValueOrDefault("slave_repl_offset"), out var replica) ? replica : 0);
    }

    /// <summary>name:value lines of an INFO or CLUSTER INFO reply.</summary>
    public static Dictionary<string, string> InfoFields(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !line.StartsWith('#'))
            {
                fields[line[..colon]] = line[(colon + 1)..];
            }
        }
        return fields;
    }
}

/// <summary>What one member said, or why it said nothing.</summary>
/// <param name="Member">The member asked.</param>
/// <param name="Reachable">It answered every question.</param>
/// <param name="Error">Why not, when unreachable.</param>
/// <param name="MyId">CLUSTER MYID.</param>
/// <param name="Nodes">CLUSTER NODES, parsed.</param>
/// <param name="ClusterState">cluster_state of CLUSTER INFO.</param>
/// <param name="Replication">INFO replication.</param>
public sealed record MemberView(
    MemberEndpoint Member,
    bool Reachable,
    string? Error,
    string? MyId,
    IReadOnlyList<ClusterNodeEntry> Nodes,
    string? ClusterState,
    ReplicationInfo? Replication)
{
    /// <summary>CLUSTER COUNTKEYSINSLOT of each slot it has open (migrating or importing).</summary>
    public IReadOnlyDictionary<int, long> KeysInOpenSlots { get; init; } = new Dictionary<int, long>();

    /// <summary>A member that did not answer.</summary>
    public static MemberView Unreachable(MemberEndpoint member, string error) => new(member, false, error, null, [], null, null);

    /// <summary>Its own CLUSTER NODES line.</summary>
    public ClusterNodeEntry? Myself => Nodes.FirstOrDefault(n => n.IsMyself) ?? Nodes.FirstOrDefault(n => n.Id == MyId);

    /// <summary>Its line about node <paramref name="id"/>, if it knows it.</summary>
    public ClusterNodeEntry? Entry(string? id) => id is null ? null : Nodes.FirstOrDefault(n => n.Id == id && !n.InHandshake);
}

/// <summary>One observation round: every member's view of the cluster.</summary>
public sealed record ObservedTopology(IReadOnlyList<MemberView> Members);
