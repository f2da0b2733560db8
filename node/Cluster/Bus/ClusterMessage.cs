namespace CacheOperator.Node.Cluster.Bus;

/// <summary>Redis 7.0's cluster bus message types (CLUSTERMSG_TYPE_* in cluster.h); the numbers are on the wire.</summary>
internal enum ClusterMessageType : ushort
{
    /// <summary>Heartbeat with gossip.</summary>
    Ping = 0,

    /// <summary>Reply to PING or MEET, same layout.</summary>
    Pong = 1,

    /// <summary>A PING that makes the receiver add the sender.</summary>
    Meet = 2,

    /// <summary>Mark a node as failing.</summary>
    Fail = 3,

    /// <summary>Pub/Sub propagation.</summary>
    Publish = 4,

    /// <summary>A replica asks masters for their vote.</summary>
    FailoverAuthRequest = 5,

    /// <summary>A master's vote.</summary>
    FailoverAuthAck = 6,

    /// <summary>Another node's slot configuration.</summary>
    Update = 7,

    /// <summary>Pause clients for a manual failover.</summary>
    MfStart = 8,

    /// <summary>Module cluster API message.</summary>
    Module = 9,

    /// <summary>Sharded Pub/Sub propagation.</summary>
    PublishShard = 10,
}

/// <summary>One gossip entry of a PING/PONG/MEET (clusterMsgDataGossip, 104 bytes on the wire).</summary>
internal sealed record GossipEntry
{
    /// <summary>The node's 40-character name.</summary>
    public required string Name { get; init; }

    /// <summary>Seconds (Unix time) the sender last pinged it, truncated to 32 bits as Redis does.</summary>
    public uint PingSent { get; init; }

    /// <summary>Seconds (Unix time) the sender last got its pong.</summary>
    public uint PongReceived { get; init; }

    /// <summary>Its IP address ("" when unknown).</summary>
    public string Ip { get; init; } = "";

    /// <summary>Its client port.</summary>
    public ushort Port { get; init; }

    /// <summary>Its cluster bus port.</summary>
    public ushort CPort { get; init; }

    /// <summary>The sender's flags for it (CLUSTER_NODE_*).</summary>
    public ushort Flags { get; init; }

    /// <summary>Its plaintext port when the client port is TLS.</summary>
    public ushort PPort { get; init; }
}

/// <summary>One ping extension (clusterMsgPingExt): a type and a payload padded to 8 bytes on the wire.</summary>
/// <param name="Type">CLUSTERMSG_EXT_TYPE_* (0: hostname).</param>
/// <param name="Payload">The bytes after the 8-byte extension header, padding included.</param>
internal sealed record PingExtension(ushort Type, byte[] Payload)
{
    /// <summary>CLUSTERMSG_EXT_TYPE_HOSTNAME.</summary>
    public const ushort HostnameType = 0;

    /// <summary>The hostname extension for <paramref name="hostname"/>: NUL-terminated and zero-padded to a multiple of 8.</summary>
    public static PingExtension Hostname(string hostname)
    {
        int length = Encoding.ASCII.GetByteCount(hostname);
        var payload = new byte[(length + 1 + 7) / 8 * 8];
        Encoding.ASCII.GetBytes(hostname, payload);
        return new PingExtension(HostnameType, payload);
    }

    /// <summary>The hostname this extension carries (up to the first NUL), or null when it is another type.</summary>
    public string? HostnameText
    {
        get
        {
            if (Type != HostnameType)
            {
                return null;
            }
            int end = Array.IndexOf(Payload, (byte)0);
            return Encoding.Latin1.GetString(Payload, 0, end < 0 ? Payload.Length : end);
        }
    }
}

/// <summary>
/// A decoded cluster bus message (Redis 7.0's clusterMsg): the fixed 2256-byte header every message
/// carries, and the body of its type. Names and addresses are kept as Latin-1 text so any byte survives.
/// </summary>
internal sealed class ClusterMessage
{
    /// <summary>sizeof(clusterMsg) - sizeof(union clusterMsgData): the header alone (CLUSTERMSG_MIN_LEN).</summary>
    public const int HeaderLength = 2256;

    /// <summary>CLUSTER_NAMELEN.</summary>
    public const int NameLength = 40;

    /// <summary>NET_IP_STR_LEN.</summary>
    public const int IpLength = 46;

    /// <summary>CLUSTER_SLOTS / 8.</summary>
    public const int SlotBitmapLength = 16384 / 8;

    /// <summary>sizeof(clusterMsgDataGossip).</summary>
    public const int GossipEntryLength = 104;

    /// <summary>sizeof(clusterMsgDataUpdate).</summary>
    public const int UpdateBodyLength = 8 + NameLength + SlotBitmapLength;

    /// <summary>CLUSTER_PROTO_VER.</summary>
    public const ushort ProtocolVersion = 1;

    /// <summary>CLUSTERMSG_FLAG0_PAUSED: master paused for a manual failover.</summary>
    public const byte Flag0Paused = 1 << 0;

    /// <summary>CLUSTERMSG_FLAG0_FORCEACK: vote even though the master is up.</summary>
    public const byte Flag0ForceAck = 1 << 1;

    /// <summary>CLUSTERMSG_FLAG0_EXT_DATA: ping extensions follow the gossip section.</summary>
    public const byte Flag0ExtData = 1 << 2;

    /// <summary>Protocol version (1).</summary>
    public ushort Version { get; set; } = ProtocolVersion;

    /// <summary>The sender's client port.</summary>
    public ushort Port { get; set; }

    /// <summary>The message type as on the wire (may be a type this node does not know).</summary>
    public ushort RawType { get; set; }

    /// <summary>The message type.</summary>
    public ClusterMessageType Type
    {
        get => (ClusterMessageType)RawType;
        set => RawType = (ushort)value;
    }

    /// <summary>The sender's currentEpoch.</summary>
    public ulong CurrentEpoch { get; set; }

    /// <summary>The sender's configEpoch, or its master's when it is a replica.</summary>
    public ulong ConfigEpoch { get; set; }

    /// <summary>Replication offset.</summary>
    public ulong Offset { get; set; }

    /// <summary>The sender's name (40 characters).</summary>
    public string Sender { get; set; } = new('\0', NameLength);

    /// <summary>The slots the sender (or its master) serves, bit j of byte j/8 (low bit first) for slot j.</summary>
    public byte[] Slots { get; set; } = new byte[SlotBitmapLength];

    /// <summary>The sender's master name, or null when the field is all zero (the sender is a master).</summary>
    public string? SlaveOf { get; set; }

    /// <summary>The sender's announced IP ("" when the receiver should use the socket's peer address).</summary>
    public string MyIp { get; set; } = "";

    /// <summary>The 30 reserved bytes after the extension count (zero as Redis sends them).</summary>
    public byte[] Reserved { get; set; } = new byte[30];

    /// <summary>The sender's plaintext port.</summary>
    public ushort PPort { get; set; }

    /// <summary>The sender's cluster bus port.</summary>
    public ushort CPort { get; set; }

    /// <summary>The sender's own flags (CLUSTER_NODE_*).</summary>
    public ushort Flags { get; set; }

    /// <summary>Cluster state from the sender's view (0 ok, 1 fail).</summary>
    public byte State { get; set; }

    /// <summary>Message flags byte 0 (CLUSTERMSG_FLAG0_*).</summary>
    public byte MFlags0 { get; set; }

    /// <summary>Message flags byte 1.</summary>
    public byte MFlags1 { get; set; }

    /// <summary>Message flags byte 2.</summary>
    public byte MFlags2 { get; set; }

    /// <summary>PING/PONG/MEET: the gossip entries.</summary>
    public List<GossipEntry> Gossip { get; set; } = [];

    /// <summary>PING/PONG/MEET: the ping extensions (sent only with CLUSTERMSG_FLAG0_EXT_DATA).</summary>
    public List<PingExtension> Extensions { get; set; } = [];

    /// <summary>
    /// The header's extension count as received; meaningful only with CLUSTERMSG_FLAG0_EXT_DATA (the
    /// encoder writes the count of <see cref="Extensions"/> when there are any, this value otherwise).
    /// </summary>
    public ushort ExtensionCountField { get; set; }

    /// <summary>FAIL: the failing node's name.</summary>
    public string FailingNode { get; set; } = "";

    /// <summary>PUBLISH/PUBLISHSHARD: the channel.</summary>
    public byte[] Channel { get; set; } = [];

    /// <summary>PUBLISH/PUBLISHSHARD: the message.</summary>
    public byte[] Payload { get; set; } = [];

    /// <summary>UPDATE: the slot owner's configEpoch.</summary>
    public ulong UpdateConfigEpoch { get; set; }

    /// <summary>UPDATE: the slot owner's name.</summary>
    public string UpdateNode { get; set; } = "";

    /// <summary>UPDATE: the slot owner's slot bitmap.</summary>
    public byte[] UpdateSlots { get; set; } = new byte[SlotBitmapLength];

    /// <summary>MODULE: the sender module's id (Redis copies it without byte swapping).</summary>
    public ulong ModuleId { get; set; }

    /// <summary>MODULE: the message type (0-255).</summary>
    public byte ModuleType { get; set; }

    /// <summary>Bytes after the header for types this node does not know, kept as received.</summary>
    public byte[] UnknownBody { get; set; } = [];

    /// <summary>Whether the sender claims <paramref name="slot"/> in <see cref="Slots"/>.</summary>
    public bool ClaimsSlot(int slot) => (Slots[slot >> 3] & (1 << (slot & 7))) != 0;

    /// <summary>The hostname the sender announces in its ping extension, or null when it sends none.</summary>
    public string? Hostname
    {
        get
        {
            foreach (var extension in Extensions)
            {
                if (extension.HostnameText is { } name)
                {
                    return name;
                }
            }
            return null;
        }
    }
}
