namespace CacheOperator.Node.Replication;

/// <summary>
/// The ids naming this node's replication history, as Redis keeps them (server.replid, replid2,
/// second_replid_offset): each node starts a history of its own; a promoted replica keeps its old
/// master's id as <see cref="Id2"/>, valid up to <see cref="SecondOffset"/>, so that master's replicas can continue
/// (PSYNC2). Changed under the keyspace lock.
/// </summary>
public sealed class ReplicationIds
{
    /// <summary>The id Redis prints while there is no second history.</summary>
    public static readonly string NoId = new('0', 40);

    /// <summary>The current history: 40 random hex characters.</summary>
    public string Id { get; private set; } = NewId();

    /// <summary>The previous history, or forty zeros.</summary>
    public string Id2 { get; private set; } = NoId;

    /// <summary>The offset up to which <see cref="Id2"/> is valid, or -1.</summary>
    public long SecondOffset { get; private set; } = -1;

    /// <summary>Starts a new history (Redis's changeReplicationId).</summary>
    public void ChangeId() => Id = NewId();

    /// <summary>Adopts the master's history after a full sync (the replica's data is now the master's).</summary>
    public void Adopt(string id) => Id = id;

    /// <summary>Forgets the previous history (Redis's clearReplicationId2).</summary>
    public void ClearId2()
    {
        Id2 = NoId;
        SecondOffset = -1;
    }

    /// <summary>
    /// The current history becomes the previous one, valid up to <paramref name="offset"/> (the bytes served so far),
    /// and <paramref name="newId"/> (a new random one when null) the current one: Redis's shiftReplicationId, on
    /// promotion and on a <c>+CONTINUE &lt;newid&gt;</c>.
    /// </summary>
    public void Shift(long offset, string? newId = null)
    {
        Id2 = Id;
        SecondOffset = offset + 1;
        Id = newId ?? NewId();
    }

    /// <summary>True when a replica asking for <paramref name="id"/> at <paramref name="offset"/> shares this history there.</summary>
    public bool Knows(string id, long offset) => id == Id || (id == Id2 && offset <= SecondOffset);

    // Not security sensitive; RandomNumberGenerator would load OpenSSL (~5 MiB of RSS) at start.
    private static string NewId() => Random.Shared.GetHexString(40, lowercase: true);
}
