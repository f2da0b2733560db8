namespace CacheOperator.Node.Replication;

/// <summary>
/// The ids naming this node's replication history, as Redis keeps them (server.replid, replid2,
/// second_replid_offset): each node starts a history of its own; a promoted replica will keep its old
/// master's id as <see cref="Id2"/>, valid up to <see cref="SecondOffset"/>, so that master's replicas can continue.
/// </summary>
public sealed class ReplicationIds
{
    /// <summary>The current history: 40 random hex characters.</summary>
    public string Id { get; } = NewId();

    /// <summary>The previous history, or forty zeros.</summary>
    public string Id2 { get; } = new('0', 40);

    /// <summary>The offset up to which <see cref="Id2"/> is valid, or -1.</summary>
    public long SecondOffset { get; } = -1;

    // Not security sensitive; RandomNumberGenerator would load OpenSSL (~5 MiB of RSS) at start.
    private static string NewId() => Random.Shared.GetHexString(40, lowercase: true);
}
