namespace CacheOperator.Node.Cluster;

/// <summary>A node's flags, with Redis 7.0's bit values (CLUSTER_NODE_*), as the bus carries them.</summary>
[Flags]
public enum ClusterNodeFlags
{
    /// <summary>No flag (CLUSTER NODES prints "noflags").</summary>
    None = 0,

    /// <summary>A master.</summary>
    Master = 1,

    /// <summary>A replica.</summary>
    Slave = 2,

    /// <summary>Not answering for longer than the node timeout, in this node's view.</summary>
    PFail = 4,

    /// <summary>Failed: a majority of masters agree.</summary>
    Fail = 8,

    /// <summary>This node.</summary>
    Myself = 16,

    /// <summary>Met, first PONG not received yet; its id is a placeholder.</summary>
    Handshake = 32,

    /// <summary>Address unknown.</summary>
    NoAddr = 64,

    /// <summary>A MEET is to be sent to it.</summary>
    Meet = 128,

    /// <summary>A master eligible for replica migration.</summary>
    MigrateTo = 256,

    /// <summary>A replica that will not try to fail over.</summary>
    NoFailover = 512,
}

/// <summary>One node of the cluster as this node sees it (Redis's clusterNode). Read and changed only under the keyspace lock.</summary>
public sealed class ClusterNode
{
    /// <summary>Length of node ids (hex of a SHA-1).</summary>
    public const int IdLength = 40;

    internal ClusterNode(string id, ClusterNodeFlags flags, long createdMs)
    {
        Id = id;
        Flags = flags;
        CreatedMs = createdMs;
        ShardId = NewId();
    }

    /// <summary>The 40-hex-digit node id (a random placeholder while in handshake).</summary>
    public string Id { get; internal set; }

    /// <summary>The shard id (Redis 7.2's CLUSTER MYSHARDID): random for a master, its master's for a replica. Not in 7.0's nodes.conf, so not persisted.</summary>
    public string ShardId { get; internal set; }

    /// <summary>When this node object was created (unix ms): handshakes time out from it.</summary>
    public long CreatedMs { get; internal set; }

    /// <summary>The flags.</summary>
    public ClusterNodeFlags Flags { get; internal set; }

    /// <summary>The last config epoch seen for it.</summary>
    public ulong ConfigEpoch { get; internal set; }

    /// <summary>The slots it serves (masters only).</summary>
    public SlotBitmap Slots { get; } = new();

    /// <summary>Its master when a replica (null when unknown or a master).</summary>
    public ClusterNode? Master { get; internal set; }

    /// <summary>Its replicas when a master.</summary>
    public List<ClusterNode> Replicas { get; } = [];

    /// <summary>When the last ping was sent to it (unix ms; 0: none pending).</summary>
    public long PingSentMs { get; set; }

    /// <summary>When its last pong was received (unix ms).</summary>
    public long PongReceivedMs { get; set; }

    /// <summary>When anything was last received from it (unix ms).</summary>
    public long DataReceivedMs { get; set; }

    /// <summary>When it was flagged FAIL (unix ms).</summary>
    public long FailTimeMs { get; set; }

    /// <summary>When this node last voted for a replica of it (unix ms).</summary>
    public long VotedTimeMs { get; set; }

    /// <summary>When its replication offset was last received (unix ms).</summary>
    public long ReplOffsetTimeMs { get; set; }

    /// <summary>When it became a master without working replicas (unix ms; 0: not orphaned).</summary>
    public long OrphanedTimeMs { get; set; }

    /// <summary>Its last known replication offset.</summary>
    public long ReplOffset { get; set; }

    /// <summary>Its last known IP address ("" when unknown).</summary>
    public string Ip { get; set; } = "";

    /// <summary>Its announced hostname ("" when none).</summary>
    public string Hostname { get; set; } = "";

    /// <summary>Its client port.</summary>
    public int Port { get; set; }

    /// <summary>Its plaintext client port when <see cref="Port"/> is TLS (0: none).</summary>
    public int PPort { get; set; }

    /// <summary>Its cluster bus port.</summary>
    public int CPort { get; set; }

    /// <summary>True while this node has an outbound bus link to it (set by the bus runtime); CLUSTER NODES says connected/disconnected from it.</summary>
    public bool LinkConnected { get; set; }

    /// <summary>When the outbound link was created (unix ms; 0: none), for CLUSTER LINKS.</summary>
    public long LinkCreatedMs { get; set; }

    /// <summary>True while it has an inbound bus link to this node (set by the bus runtime).</summary>
    public bool InboundLinkConnected { get; set; }

    /// <summary>Nodes that reported it failing, with when they last did (unix ms).</summary>
    public Dictionary<ClusterNode, long> FailReports { get; } = [];

    /// <summary>A master.</summary>
    public bool IsMaster => (Flags & ClusterNodeFlags.Master) != 0;

    /// <summary>A replica.</summary>
    public bool IsReplica => (Flags & ClusterNodeFlags.Slave) != 0;

    /// <summary>This node.</summary>
    public bool IsMyself => (Flags & ClusterNodeFlags.Myself) != 0;

    /// <summary>In handshake.</summary>
    public bool InHandshake => (Flags & ClusterNodeFlags.Handshake) != 0;

    /// <summary>Flagged FAIL.</summary>
    public bool IsFailed => (Flags & ClusterNodeFlags.Fail) != 0;

    /// <summary>Flagged PFAIL.</summary>
    public bool IsTimedOut => (Flags & ClusterNodeFlags.PFail) != 0;

    /// <summary>Address known.</summary>
    public bool HasAddress => (Flags & ClusterNodeFlags.NoAddr) == 0;

    /// <summary>The flags as CLUSTER NODES prints them (Redis's representClusterNodeFlags): "myself,master", "slave,fail?", "noflags".</summary>
    public string FlagsText
    {
        get
        {
            var text = new StringBuilder();
            foreach (var (flag, name) in FlagNames)
            {
                if ((Flags & flag) != 0)
                {
                    text.Append(name).Append(',');
                }
            }
            return text.Length == 0 ? "noflags" : text.ToString(0, text.Length - 1);
        }
    }

    /// <summary>Flag names in Redis's print order.</summary>
    internal static readonly (ClusterNodeFlags Flag, string Name)[] FlagNames =
    [
        (ClusterNodeFlags.Myself, "myself"), (ClusterNodeFlags.Master, "master"), (ClusterNodeFlags.Slave, "slave"),
        (ClusterNodeFlags.PFail, "fail?"), (ClusterNodeFlags.Fail, "fail"), (ClusterNodeFlags.Handshake, "handshake"),
        (ClusterNodeFlags.NoAddr, "noaddr"), (ClusterNodeFlags.NoFailover, "nofailover"),
    ];

    /// <summary>A fresh random 40-hex-digit id (Redis's getRandomHexChars).</summary>
    public static string NewId() => Random.Shared.GetHexString(IdLength, lowercase: true);

    /// <summary>True when <paramref name="id"/> is 40 hex digits (lower or upper case), as Redis's verifyClusterNodeId checks length only.</summary>
    public static bool IsValidId(ReadOnlySpan<char> id) => id.Length == IdLength;

    /// <summary>Adds a failure report from <paramref name="sender"/>; true when it is new (Redis's clusterNodeAddFailureReport).</summary>
    public bool AddFailureReport(ClusterNode sender, long nowMs)
    {
        bool added = !FailReports.ContainsKey(sender);
        FailReports[sender] = nowMs;
        return added;
    }

    /// <summary>Drops reports older than twice the node timeout and returns how many remain (clusterNodeFailureReportsCount).</summary>
    public int CountFailureReports(long nodeTimeoutMs, long nowMs)
    {
        long maxAge = nodeTimeoutMs * 2;
        List<ClusterNode>? stale = null;
        foreach (var (reporter, at) in FailReports)
        {
            if (nowMs - at > maxAge)
            {
                (stale ??= []).Add(reporter);
            }
        }
        if (stale is not null)
        {
            foreach (var reporter in stale)
            {
                FailReports.Remove(reporter);
            }
        }
        return FailReports.Count;
    }

    /// <summary>Removes the failure report of <paramref name="sender"/>; true when there was one.</summary>
    public bool RemoveFailureReport(ClusterNode sender) => FailReports.Remove(sender);

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {Ip}:{Port}@{CPort} {FlagsText}";
}
