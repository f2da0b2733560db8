namespace CacheOperator.Node.Configuration;

/// <summary>
/// Every directive the node understands, with its current value. The same catalog serves the config
/// file, the command line, CONFIG GET/SET, and the operator's validation of a CacheCluster's config.
/// </summary>
public sealed class NodeConfig
{
    // Every name, a directive's own and its aliases, with the name as registered (lower case).
    private readonly Dictionary<string, (Directive Directive, string Name)> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Directive> _all = [];

    /// <summary>
    /// Directives Redis 7.0 still reads in a config file but ignores (see deprecated_configs in its config.c);
    /// the node reads and ignores them too. CONFIG SET knows none of them, as in Redis.
    /// </summary>
    public static readonly IReadOnlyList<string> IgnoredInFiles = ["list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands"];

    // Redis's rewriteConfigSaveOption: one "save <seconds> <changes>" line per rule, or save "" for none, always written.
    private static IReadOnlyList<RewriteLine> RewriteSave(Directive save)
    {
        var words = save.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return [new("save \"\"", true)];
        }
        return [.. words.Chunk(2).Select(pair => new RewriteLine($"save {pair[0]} {pair[1]}", true))];
    }

    /// <summary>A catalog with every directive at its default.</summary>
    public NodeConfig()
    {
        Port = Add(new Directive("port", DirectiveKind.Integer, "6379", false, "TCP port to accept clients on (0 picks a free port).") { Min = 0, Max = 65535 });
        Bind = Add(new Directive("bind", DirectiveKind.Text, "* -::*", false, "Addresses to listen on; '*' is every IPv4 address, '::*' every IPv6 one, a leading '-' makes an address optional.") { MultipleArguments = true }
            .WithRewrite(d => d.Text == d.DefaultText ? [] : [new($"bind {(d.Text.Length == 0 ? "\"\"" : d.Text)}", true)]));
        ProtectedMode = Add(new Directive("protected-mode", DirectiveKind.Boolean, "no", true, "Refuse non-loopback clients while no password is set."));
        RequirePass = Add(new Directive("requirepass", DirectiveKind.Text, "", true, "Password clients must give with AUTH before other commands."));
        Databases = Add(new Directive("databases", DirectiveKind.Integer, "16", false, "Number of databases for SELECT.") { Min = 1, Max = 1024 * 1024 });
        ProtoMaxBulkLen = Add(new Directive("proto-max-bulk-len", DirectiveKind.Memory, "512mb", true, "Largest bulk string a request may carry.") { Min = 1024 * 1024, Max = int.MaxValue });
        MaxClients = Add(new Directive("maxclients", DirectiveKind.Integer, "10000", true, "Connections accepted at once; more are refused.") { Min = 1, Max = uint.MaxValue });
        Timeout = Add(new Directive("timeout", DirectiveKind.Integer, "0", true, "Close a client idle this many seconds (0: never).") { Min = 0, Max = int.MaxValue });
        TcpKeepAlive = Add(new Directive("tcp-keepalive", DirectiveKind.Integer, "300", true, "Seconds between TCP keepalive probes (0: off).") { Min = 0, Max = int.MaxValue });
        Hz = Add(new Directive("hz", DirectiveKind.Integer, "10", true, "Background task frequency (active expiry) per second.") { Min = 0, Max = int.MaxValue, ClampTo = (1, 500) });
        LogLevel = Add(new Directive("loglevel", DirectiveKind.Enum, "notice", true, "Least severe log level written.") { Choices = ["debug", "verbose", "notice", "warning"] });
        MaxMemory = Add(new Directive("maxmemory", DirectiveKind.Memory, "0", true, "Memory limit for data (0: none).") { Min = 0 });
        MaxMemoryPolicy = Add(new Directive("maxmemory-policy", DirectiveKind.Enum, "noeviction", true, "What to do when maxmemory is reached.")
        {
            Choices = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"],
        });
        // Snapshots (node/Persistence/SnapshotService), with Redis 7.0's defaults; appendonly takes only 'no' until an append-only file exists.
        Save = Add(new Directive("save", DirectiveKind.Text, "3600 1 300 100 60 10000", true,
            "Snapshot rules: pairs of seconds and changes; a background save starts when that many changes are that old (\"\": none).")
        { MultipleArguments = true }.WithRule(SaveRules.Validate).WithRewrite(RewriteSave));
        Dir = Add(new Directive("dir", DirectiveKind.Text, ".", false, "Working directory: where the snapshot (dbfilename) and a relative cluster-config-file live.")
            .WithMerge((_, value) => Directory.Exists(value) ? (Path.GetFullPath(value), null) : (null, "No such file or directory"))
            .WithRewrite(d => [new($"dir {ConfigLoader.Quote(d.Text)}", true)]));
        DbFilename = Add(new Directive("dbfilename", DirectiveKind.Text, "dump.rdb", false, "Snapshot file name, in dir.")
            .WithRule(v => v.Length == 0 || v.Contains('/') || v.Contains('\\') ? "dbfilename can't be a path, just a filename" : null));
        RdbCompression = Add(new Directive("rdbcompression", DirectiveKind.Boolean, "yes", true, "LZF-compress strings in snapshots."));
        RdbChecksum = Add(new Directive("rdbchecksum", DirectiveKind.Boolean, "yes", false, "Write a CRC64 at the end of snapshots and verify it when loading."));
        StopWritesOnBgsaveError = Add(new Directive("stop-writes-on-bgsave-error", DirectiveKind.Boolean, "yes", true,
            "Refuse writes (MISCONF) while the last background save failed and save rules are set."));
        KeyLoadDelay = Add(new Directive("key-load-delay", DirectiveKind.Integer, "0", true, "Microseconds to pause after each key loaded from a snapshot (Redis's test hook; 0: none).")
        { Min = 0, Max = int.MaxValue });
        AppendOnly = Add(new Directive("appendonly", DirectiveKind.Boolean, "no", true, "Append-only file; only 'no' until persistence exists.")
            .WithRule(v => v == "no" ? null : "the append-only file is not supported yet"));
        EnableDebugCommand = Add(new Directive("enable-debug-command", DirectiveKind.Enum, "no", false, "Allow DEBUG: yes, no, or local (loopback clients only).") { Choices = ["no", "yes", "local"] });
        MaxMemorySamples = Add(new Directive("maxmemory-samples", DirectiveKind.Integer, "5", true, "Keys sampled per database for each LRU/LFU/TTL eviction (more: closer to exact, slower).") { Min = 1, Max = int.MaxValue });
        TrackingTableMaxKeys = Add(new Directive("tracking-table-max-keys", DirectiveKind.Integer, "1000000", true, "Keys the client-side caching table tracks at most (0: no limit).") { Min = 0 });
        LfuLogFactor = Add(new Directive("lfu-log-factor", DirectiveKind.Integer, "10", true, "How many accesses it takes to raise a key's LFU counter (logarithmic).") { Min = 0, Max = int.MaxValue });
        LfuDecayTime = Add(new Directive("lfu-decay-time", DirectiveKind.Integer, "1", true, "Minutes after which an idle key's LFU counter drops by one (0: never).") { Min = 0, Max = int.MaxValue });
        MetricsPort = Add(new Directive("metrics-port", DirectiveKind.Integer, "9121", false, "Port of the HTTP endpoint with /metrics (Prometheus), /healthz and /readyz (0: off).") { Min = 0, Max = 65535 });
        LogFormat = Add(new Directive("log-format", DirectiveKind.Enum, "text", false, "Log lines as plain text or as one JSON object per line.") { Choices = ["text", "json"] });
        SlowlogLogSlowerThan = Add(new Directive("slowlog-log-slower-than", DirectiveKind.Integer, "10000", true, "Commands slower than this many microseconds enter the slow log (-1: off, 0: all).") { Min = -1 });
        SlowlogMaxLen = Add(new Directive("slowlog-max-len", DirectiveKind.Integer, "128", true, "Entries the slow log keeps.") { Min = 0 });
        LatencyMonitorThreshold = Add(new Directive("latency-monitor-threshold", DirectiveKind.Integer, "0", true, "Events slower than this many milliseconds are recorded for LATENCY (0: off).") { Min = 0 });
        LatencyTracking = Add(new Directive("latency-tracking", DirectiveKind.Boolean, "yes", true, "Keep a latency histogram per command for LATENCY HISTOGRAM and INFO latencystats."));
        LatencyTrackingInfoPercentiles = Add(new Directive("latency-tracking-info-percentiles", DirectiveKind.Text, "50 99 99.9", true,
            "Percentiles INFO latencystats prints for each command (\"\": none).")
        { MultipleArguments = true }.WithMerge((_, value) => LatencyPercentiles.Normalize(value))
            .WithRewrite(d => [new($"latency-tracking-info-percentiles {(d.Text.Length == 0 ? "\"\"" : d.Text)}", true)]));
        NetworkTransport = Add(new Directive("network-transport", DirectiveKind.Enum, "epoll", false,
            "How clients are served: epoll, the node's own event loop (Linux x64; elsewhere it falls back), or sockets, .NET's socket engine.")
        {
            Choices = ["epoll", "sockets"],
        });
        BusyReplyThreshold = Add(new Directive("busy-reply-threshold", DirectiveKind.Integer, "5000", true,
            "Milliseconds a script may run before other clients get -BUSY and SCRIPT KILL may stop it (0: never).")
        { Min = 0, Max = long.MaxValue, Aliases = ["lua-time-limit"] });
        LazyFreeLazyExpire = Add(new Directive("lazyfree-lazy-expire", DirectiveKind.Boolean, "no", true, "Expired keys are propagated as UNLINK instead of DEL."));
        LazyFreeLazyEviction = Add(new Directive("lazyfree-lazy-eviction", DirectiveKind.Boolean, "no", true, "Evicted keys are propagated as UNLINK instead of DEL."));
        LazyFreeLazyUserDel = Add(new Directive("lazyfree-lazy-user-del", DirectiveKind.Boolean, "no", true, "GETDEL propagates as UNLINK instead of DEL (DEL frees like UNLINK)."));
        ClientOutputBufferLimit = Add(new Directive("client-output-buffer-limit", DirectiveKind.Text, OutputBufferLimits.Default, true,
            "Per client class (normal, replica, pubsub): hard limit, soft limit and soft seconds of what may wait to be sent; a client over them is closed.")
        { MultipleArguments = true }
            .WithMerge((current, value) => (OutputBufferLimits.Merge(current, value, out var error), error))
            .WithRewrite(d => OutputBufferLimits.RewriteLines(d.Text)));
        NotifyKeyspaceEvents = Add(new Directive("notify-keyspace-events", DirectiveKind.Text, "", true,
            "Keyspace notifications to publish, as Redis's letters (K, E, g, $, l, s, h, z, x, e, t, m, d, n, A); empty: none.")
            .WithMerge((_, value) =>
            {
                if (PubSub.NotifyKeyspaceEvents.Parse(value) is not { } flags)
                {
                    return (null, PubSub.NotifyKeyspaceEvents.InvalidError);
                }
                // The flags, not the printed text: Redis prints "A" for "An" yet keeps n.
                NotifyKeyspaceEventFlags = flags;
                return (PubSub.NotifyKeyspaceEvents.Format(flags), null);
            })
            .WithRewrite(d => [new($"notify-keyspace-events {ConfigLoader.Quote(d.Text)}", d.Text.Length > 0)]));
        ReplicaReadOnly = Add(new Directive("replica-read-only", DirectiveKind.Boolean, "yes", true, "Replicas refuse writes from clients (reported to clients such as StackExchange.Redis).")
        { Aliases = ["slave-read-only"] });

        // Replication, with Redis 7.0's defaults, ranges and slave-* aliases.
        ReplicaOf = Add(new Directive("replicaof", DirectiveKind.Text, "", false, "\"host port\": start as a replica of that master (REPLICAOF at run time).")
        { MultipleArguments = true, Aliases = ["slaveof"] });
        MasterAuth = Add(new Directive("masterauth", DirectiveKind.Text, "", true, "Password a replica gives its master (AUTH)."));
        MasterUser = Add(new Directive("masteruser", DirectiveKind.Text, "", true, "User a replica authenticates as with its master (AUTH user password)."));
        ReplBacklogSize = Add(new Directive("repl-backlog-size", DirectiveKind.Memory, "1mb", true, "Bytes of the replication stream kept for replicas that reconnect (partial resync).") { Min = 1, Max = long.MaxValue });
        ReplBacklogTtl = Add(new Directive("repl-backlog-ttl", DirectiveKind.Integer, "3600", true, "Seconds without replicas after which a master frees its backlog (0: never).") { Min = 0, Max = int.MaxValue });
        ReplPingReplicaPeriod = Add(new Directive("repl-ping-replica-period", DirectiveKind.Integer, "10", true, "Seconds between the master's PINGs to its replicas.")
        { Min = 1, Max = int.MaxValue, Aliases = ["repl-ping-slave-period"] });
        ReplTimeout = Add(new Directive("repl-timeout", DirectiveKind.Integer, "60", true, "Seconds of silence after which a replication link is considered down.") { Min = 1, Max = int.MaxValue });
        ReplDisklessSync = Add(new Directive("repl-diskless-sync", DirectiveKind.Boolean, "yes", true,
            "Full syncs stream the snapshot to replica sockets (the node always does; accepted for Redis configurations)."));
        ReplDisklessSyncDelay = Add(new Directive("repl-diskless-sync-delay", DirectiveKind.Integer, "5", true,
            "Seconds a master waits after a replica asks for a full sync, so that replicas arriving meanwhile share one snapshot (0: start at once).")
        { Min = 0, Max = int.MaxValue });
        ReplDisklessSyncMaxReplicas = Add(new Directive("repl-diskless-sync-max-replicas", DirectiveKind.Integer, "0", true,
            "The snapshot starts before the delay is over once this many replicas wait for it (0: no such limit).")
        { Min = 0, Max = int.MaxValue });
        ReplDisklessLoad = Add(new Directive("repl-diskless-load", DirectiveKind.Enum, "disabled", true,
            "How a replica takes its master's snapshot: disabled (to a file in dir, which becomes dbfilename, then loaded), on-empty-db (in memory when it holds no keys), swapdb (in memory, the old data served until the new is loaded).")
        { Choices = ["disabled", "on-empty-db", "swapdb"] });
        ReplicaServeStaleData = Add(new Directive("replica-serve-stale-data", DirectiveKind.Boolean, "yes", true, "A replica whose link is down still serves reads (no: -MASTERDOWN).")
        { Aliases = ["slave-serve-stale-data"] });
        MinReplicasToWrite = Add(new Directive("min-replicas-to-write", DirectiveKind.Integer, "0", true, "Writes are refused (-NOREPLICAS) with fewer good replicas than this (0: off).")
        { Min = 0, Max = int.MaxValue, Aliases = ["min-slaves-to-write"] });
        MinReplicasMaxLag = Add(new Directive("min-replicas-max-lag", DirectiveKind.Integer, "10", true, "Seconds since its last ACK within which a replica counts as good.")
        { Min = 0, Max = int.MaxValue, Aliases = ["min-slaves-max-lag"] });
        ReplicaPriority = Add(new Directive("replica-priority", DirectiveKind.Integer, "100", true, "Promotion priority reported in INFO (lower first; 0: never).")
        { Min = 0, Max = int.MaxValue, Aliases = ["slave-priority"] });

        // Encodings of small collections, with Redis 7.0's ranges and its *-ziplist-* aliases. The server copies
        // them into the keyspace's EncodingLimits, which the hash, sorted set and set values read as they are written.
        HashMaxListpackEntries = Add(new Directive("hash-max-listpack-entries", DirectiveKind.Integer, "512", true, "Most fields a hash keeps in the compact listpack encoding.")
        { Min = 0, Max = long.MaxValue, Aliases = ["hash-max-ziplist-entries"] });
        HashMaxListpackValue = Add(new Directive("hash-max-listpack-value", DirectiveKind.Memory, "64", true, "Longest field or value (bytes) a listpack hash keeps.")
        { Min = 0, Max = long.MaxValue, Aliases = ["hash-max-ziplist-value"] });
        ZsetMaxListpackEntries = Add(new Directive("zset-max-listpack-entries", DirectiveKind.Integer, "128", true, "Most members a sorted set keeps in the compact listpack encoding.")
        { Min = 0, Max = long.MaxValue, Aliases = ["zset-max-ziplist-entries"] });
        ZsetMaxListpackValue = Add(new Directive("zset-max-listpack-value", DirectiveKind.Memory, "64", true, "Longest member (bytes) a listpack sorted set keeps.")
        { Min = 0, Max = long.MaxValue, Aliases = ["zset-max-ziplist-value"] });
        SetMaxIntsetEntries = Add(new Directive("set-max-intset-entries", DirectiveKind.Integer, "512", true, "Most members a set of integers keeps in the compact intset encoding.")
        { Min = 0, Max = long.MaxValue });
        StreamNodeMaxBytes = Add(new Directive("stream-node-max-bytes", DirectiveKind.Memory, "4096", true, "Most bytes of one stream node (a listpack of entries); 0 for no limit.")
        { Min = 0, Max = long.MaxValue });
        StreamNodeMaxEntries = Add(new Directive("stream-node-max-entries", DirectiveKind.Integer, "100", true, "Most entries of one stream node; 0 for no limit.")
        { Min = 0, Max = long.MaxValue });
        HllSparseMaxBytes = Add(new Directive("hll-sparse-max-bytes", DirectiveKind.Memory, "3000", true, "Longest (bytes, header included) a HyperLogLog keeps its sparse encoding before it turns dense.")
        { Min = 0, Max = long.MaxValue });

        // Accepted and validated as Redis 7.0 does, but not honoured: Redis 7.0 reports every list as "quicklist"
        // whatever they say, and the node's list blocks are sized for the garbage collector (up to 128 KiB, pooled),
        // not by Redis's per-node listpack size (8 KB or a count of elements), which does not map onto them.
        ListMaxListpackSize = Add(new Directive("list-max-listpack-size", DirectiveKind.Integer, "-2", true, "Redis's quicklist node size (accepted for compatibility; the node sizes list blocks itself).")
        { Min = int.MinValue, Max = int.MaxValue, Aliases = ["list-max-ziplist-size"] });
        ListCompressDepth = Add(new Directive("list-compress-depth", DirectiveKind.Integer, "0", true, "Redis's quicklist compression depth (accepted for compatibility; lists are not compressed).")
        { Min = 0, Max = int.MaxValue });

        // Redis Cluster (node/Cluster), with Redis 7.0's defaults, ranges and mutability (config.c).
        ClusterEnabled = Add(new Directive("cluster-enabled", DirectiveKind.Boolean, "no", false, "Run as a Redis Cluster node: hash slots, redirections, CLUSTER commands, nodes.conf."));
        ClusterConfigFile = Add(new Directive("cluster-config-file", DirectiveKind.Text, "nodes.conf", false, "The cluster state file (nodes.conf) this node owns, written on every change."));
        ClusterNodeTimeout = Add(new Directive("cluster-node-timeout", DirectiveKind.Integer, "15000", true, "Milliseconds a node may not answer before it is considered failing.") { Min = 0, Max = long.MaxValue });
        ClusterPort = Add(new Directive("cluster-port", DirectiveKind.Integer, "0", false, "Cluster bus port (0: the client port + 10000).") { Min = 0, Max = 65535 });
        ClusterAnnounceIp = Add(new Directive("cluster-announce-ip", DirectiveKind.Text, "", true, "IP address announced to the other nodes (empty: the one they see)."));
        ClusterAnnouncePort = Add(new Directive("cluster-announce-port", DirectiveKind.Integer, "0", true, "Client port announced to the other nodes (0: the listening port).") { Min = 0, Max = 65535 });
        ClusterAnnounceTlsPort = Add(new Directive("cluster-announce-tls-port", DirectiveKind.Integer, "0", true, "TLS client port announced (accepted for compatibility; the node has no TLS port).") { Min = 0, Max = 65535 });
        ClusterAnnounceBusPort = Add(new Directive("cluster-announce-bus-port", DirectiveKind.Integer, "0", true, "Bus port announced to the other nodes (0: the bus port).") { Min = 0, Max = 65535 });
        ClusterAnnounceHostname = Add(new Directive("cluster-announce-hostname", DirectiveKind.Text, "", true, "Hostname announced to the other nodes and clients (empty: none).")
            .WithRule(ValidateAnnouncedHostname));
        ClusterPreferredEndpointType = Add(new Directive("cluster-preferred-endpoint-type", DirectiveKind.Enum, "ip", true, "What redirections and CLUSTER SLOTS name a node by: ip, hostname or unknown-endpoint (\"?\").")
        {
            Choices = ["ip", "hostname", "unknown-endpoint"],
        });
        ClusterRequireFullCoverage = Add(new Directive("cluster-require-full-coverage", DirectiveKind.Boolean, "yes", true, "The cluster is down while any slot is unassigned or its master failed."));
        ClusterAllowReadsWhenDown = Add(new Directive("cluster-allow-reads-when-down", DirectiveKind.Boolean, "no", true, "Serve reads of the slots this node owns while the cluster is down."));
        ClusterAllowPubsubshardWhenDown = Add(new Directive("cluster-allow-pubsubshard-when-down", DirectiveKind.Boolean, "yes", true, "Serve sharded pub/sub while the cluster is down."));
        ClusterReplicaValidityFactor = Add(new Directive("cluster-replica-validity-factor", DirectiveKind.Integer, "10", true, "A replica disconnected longer than this many node timeouts does not fail over (0: always may).")
        { Min = 0, Max = int.MaxValue, Aliases = ["cluster-slave-validity-factor"] });
        ClusterAllowReplicaMigration = Add(new Directive("cluster-allow-replica-migration", DirectiveKind.Boolean, "yes", true, "Replicas may move to masters left without replicas."));
        ClusterMigrationBarrier = Add(new Directive("cluster-migration-barrier", DirectiveKind.Integer, "1", true, "Replicas a master keeps before one may migrate away.") { Min = 0, Max = int.MaxValue });
        ClusterReplicaNoFailover = Add(new Directive("cluster-replica-no-failover", DirectiveKind.Boolean, "no", true, "This replica never fails over its master on its own.")
        { Aliases = ["cluster-slave-no-failover"] });
        ClusterLinkSendbufLimit = Add(new Directive("cluster-link-sendbuf-limit", DirectiveKind.Memory, "0", true, "Bytes a bus link may have waiting to be sent before it is closed (0: no limit).") { Min = 0, Max = long.MaxValue });
        ClusterHostnameResolve = Add(new Directive("cluster-hostname-resolve", DirectiveKind.Text, "", true,
            "Not a Redis directive: 'name=ip,name=ip' consulted before DNS when a node unreachable at its IP is looked up by its announced hostname (a resolver tests control)."));
    }

    /// <summary>Redis's isValidAnnouncedHostname: under 256 characters of letters, digits, '-' and '.'.</summary>
    private static string? ValidateAnnouncedHostname(string value)
    {
        if (value.Length >= 256)
        {
            return "Hostnames must be less than 256 characters";
        }
        foreach (char c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.')
            {
                return "Hostnames may only contain alphanumeric characters, hyphens or dots";
            }
        }
        return null;
    }

    /// <summary>cluster-enabled</summary>
    public Directive ClusterEnabled { get; }

    /// <summary>cluster-config-file</summary>
    public Directive ClusterConfigFile { get; }

    /// <summary>cluster-node-timeout (milliseconds)</summary>
    public Directive ClusterNodeTimeout { get; }

    /// <summary>cluster-port</summary>
    public Directive ClusterPort { get; }

    /// <summary>cluster-announce-ip</summary>
    public Directive ClusterAnnounceIp { get; }

    /// <summary>cluster-announce-port</summary>
    public Directive ClusterAnnouncePort { get; }

    /// <summary>cluster-announce-tls-port</summary>
    public Directive ClusterAnnounceTlsPort { get; }

    /// <summary>cluster-announce-bus-port</summary>
    public Directive ClusterAnnounceBusPort { get; }

    /// <summary>cluster-announce-hostname</summary>
    public Directive ClusterAnnounceHostname { get; }

    /// <summary>cluster-preferred-endpoint-type</summary>
    public Directive ClusterPreferredEndpointType { get; }

    /// <summary>cluster-require-full-coverage</summary>
    public Directive ClusterRequireFullCoverage { get; }

    /// <summary>cluster-allow-reads-when-down</summary>
    public Directive ClusterAllowReadsWhenDown { get; }

    /// <summary>cluster-allow-pubsubshard-when-down</summary>
    public Directive ClusterAllowPubsubshardWhenDown { get; }

    /// <summary>cluster-replica-validity-factor (alias cluster-slave-validity-factor)</summary>
    public Directive ClusterReplicaValidityFactor { get; }

    /// <summary>cluster-allow-replica-migration</summary>
    public Directive ClusterAllowReplicaMigration { get; }

    /// <summary>cluster-migration-barrier</summary>
    public Directive ClusterMigrationBarrier { get; }

    /// <summary>cluster-replica-no-failover (alias cluster-slave-no-failover)</summary>
    public Directive ClusterReplicaNoFailover { get; }

    /// <summary>cluster-link-sendbuf-limit</summary>
    public Directive ClusterLinkSendbufLimit { get; }

    /// <summary>cluster-hostname-resolve: hostname-to-IP pairs tried before DNS (our extension, for tests).</summary>
    public Directive ClusterHostnameResolve { get; }

    /// <summary>hash-max-listpack-entries (alias hash-max-ziplist-entries)</summary>
    public Directive HashMaxListpackEntries { get; }

    /// <summary>hash-max-listpack-value (alias hash-max-ziplist-value)</summary>
    public Directive HashMaxListpackValue { get; }

    /// <summary>zset-max-listpack-entries (alias zset-max-ziplist-entries)</summary>
    public Directive ZsetMaxListpackEntries { get; }

    /// <summary>zset-max-listpack-value (alias zset-max-ziplist-value)</summary>
    public Directive ZsetMaxListpackValue { get; }

    /// <summary>set-max-intset-entries</summary>
    public Directive SetMaxIntsetEntries { get; }

    /// <summary>stream-node-max-bytes</summary>
    public Directive StreamNodeMaxBytes { get; }

    /// <summary>stream-node-max-entries</summary>
    public Directive StreamNodeMaxEntries { get; }

    /// <summary>hll-sparse-max-bytes</summary>
    public Directive HllSparseMaxBytes { get; }

    /// <summary>list-max-listpack-size (alias list-max-ziplist-size)</summary>
    public Directive ListMaxListpackSize { get; }

    /// <summary>list-compress-depth</summary>
    public Directive ListCompressDepth { get; }

    /// <summary>Absolute path of the configuration file read at start-up (INFO config_file), or null.</summary>
    public string? ConfigFile { get; set; }

    /// <summary>enable-debug-command</summary>
    public Directive EnableDebugCommand { get; }

    /// <summary>lazyfree-lazy-expire</summary>
    public Directive LazyFreeLazyExpire { get; }

    /// <summary>lazyfree-lazy-eviction</summary>
    public Directive LazyFreeLazyEviction { get; }

    /// <summary>lazyfree-lazy-user-del</summary>
    public Directive LazyFreeLazyUserDel { get; }
    /// <summary>client-output-buffer-limit</summary>
    public Directive ClientOutputBufferLimit { get; }

    /// <summary>notify-keyspace-events</summary>
    public Directive NotifyKeyspaceEvents { get; }

    /// <summary>The classes notify-keyspace-events was last given (its text may hide n behind A, as Redis prints it).</summary>
    public Storage.KeyspaceEventTypes NotifyKeyspaceEventFlags
    {
        get;
        private set
        {
            field = value;
            NotifyKeyspaceEventFlagsChanged?.Invoke(value);
        }
    }

    /// <summary>Raised when notify-keyspace-events is set, even to a value printed as before.</summary>
    public event Action<Storage.KeyspaceEventTypes>? NotifyKeyspaceEventFlagsChanged;

    /// <summary>replica-read-only (alias slave-read-only)</summary>
    public Directive ReplicaReadOnly { get; }

    /// <summary>replicaof (alias slaveof): "host port" to start as a replica.</summary>
    public Directive ReplicaOf { get; }

    /// <summary>masterauth</summary>
    public Directive MasterAuth { get; }

    /// <summary>masteruser</summary>
    public Directive MasterUser { get; }

    /// <summary>repl-backlog-size</summary>
    public Directive ReplBacklogSize { get; }

    /// <summary>repl-backlog-ttl</summary>
    public Directive ReplBacklogTtl { get; }

    /// <summary>repl-ping-replica-period (alias repl-ping-slave-period)</summary>
    public Directive ReplPingReplicaPeriod { get; }

    /// <summary>repl-timeout</summary>
    public Directive ReplTimeout { get; }

    /// <summary>repl-diskless-sync.</summary>
    public Directive ReplDisklessSync { get; }

    /// <summary>repl-diskless-sync-delay: seconds a full sync waits for more replicas.</summary>
    public Directive ReplDisklessSyncDelay { get; }

    /// <summary>repl-diskless-sync-max-replicas: waiting replicas that start the snapshot before the delay is over.</summary>
    public Directive ReplDisklessSyncMaxReplicas { get; }

    /// <summary>repl-diskless-load: disabled, on-empty-db or swapdb.</summary>
    public Directive ReplDisklessLoad { get; }

    /// <summary>replica-serve-stale-data (alias slave-serve-stale-data)</summary>
    public Directive ReplicaServeStaleData { get; }

    /// <summary>min-replicas-to-write (alias min-slaves-to-write)</summary>
    public Directive MinReplicasToWrite { get; }

    /// <summary>min-replicas-max-lag (alias min-slaves-max-lag)</summary>
    public Directive MinReplicasMaxLag { get; }

    /// <summary>replica-priority (alias slave-priority)</summary>
    public Directive ReplicaPriority { get; }

    /// <summary>maxmemory-samples</summary>
    public Directive MaxMemorySamples { get; }

    /// <summary>tracking-table-max-keys</summary>
    public Directive TrackingTableMaxKeys { get; }

    /// <summary>lfu-log-factor</summary>
    public Directive LfuLogFactor { get; }

    /// <summary>lfu-decay-time</summary>
    public Directive LfuDecayTime { get; }

    /// <summary>metrics-port</summary>
    public Directive MetricsPort { get; }

    /// <summary>log-format</summary>
    public Directive LogFormat { get; }

    /// <summary>slowlog-log-slower-than</summary>
    public Directive SlowlogLogSlowerThan { get; }

    /// <summary>slowlog-max-len</summary>
    public Directive SlowlogMaxLen { get; }

    /// <summary>latency-monitor-threshold</summary>
    public Directive LatencyMonitorThreshold { get; }

    /// <summary>latency-tracking</summary>
    public Directive LatencyTracking { get; }

    /// <summary>latency-tracking-info-percentiles</summary>
    public Directive LatencyTrackingInfoPercentiles { get; }

    /// <summary>busy-reply-threshold (alias lua-time-limit)</summary>
    public Directive BusyReplyThreshold { get; }

    /// <summary>network-transport</summary>
    public Directive NetworkTransport { get; }

    /// <summary>port</summary>
    public Directive Port { get; }

    /// <summary>bind</summary>
    public Directive Bind { get; }

    /// <summary>protected-mode</summary>
    public Directive ProtectedMode { get; }

    /// <summary>requirepass</summary>
    public Directive RequirePass { get; }

    /// <summary>databases</summary>
    public Directive Databases { get; }

    /// <summary>proto-max-bulk-len</summary>
    public Directive ProtoMaxBulkLen { get; }

    /// <summary>maxclients</summary>
    public Directive MaxClients { get; }

    /// <summary>timeout</summary>
    public Directive Timeout { get; }

    /// <summary>tcp-keepalive</summary>
    public Directive TcpKeepAlive { get; }

    /// <summary>hz</summary>
    public Directive Hz { get; }

    /// <summary>loglevel</summary>
    public Directive LogLevel { get; }

    /// <summary>maxmemory</summary>
    public Directive MaxMemory { get; }

    /// <summary>maxmemory-policy</summary>
    public Directive MaxMemoryPolicy { get; }

    /// <summary>save</summary>
    public Directive Save { get; }

    /// <summary>dir (absolute path)</summary>
    public Directive Dir { get; }

    /// <summary>dbfilename</summary>
    public Directive DbFilename { get; }

    /// <summary>rdbcompression</summary>
    public Directive RdbCompression { get; }

    /// <summary>rdbchecksum</summary>
    public Directive RdbChecksum { get; }

    /// <summary>stop-writes-on-bgsave-error</summary>
    public Directive StopWritesOnBgsaveError { get; }

    /// <summary>key-load-delay (microseconds)</summary>
    public Directive KeyLoadDelay { get; }

    /// <summary>appendonly</summary>
    public Directive AppendOnly { get; }

    /// <summary>Every directive, in registration order (each once, whatever its aliases).</summary>
    public IEnumerable<Directive> All => _all;

    /// <summary>Every name CONFIG GET can match: each directive's own name and its aliases, as registered.</summary>
    public IEnumerable<(string Name, Directive Directive)> Names => _byName.Values.Select(e => (e.Name, e.Directive));

    /// <summary>The directive called <paramref name="name"/> (its own name or an alias, any case), or null.</summary>
    public Directive? Find(string name) => _byName.TryGetValue(name, out var entry) ? entry.Directive : null;

    /// <summary>
    /// The directive called <paramref name="name"/>, and the name as registered: an alias stays the alias,
    /// which Redis uses in CONFIG SET's errors and to tell two settings of one directive apart.
    /// </summary>
    public bool TryFind(string name, out Directive directive, out string registeredName)
    {
        bool found = _byName.TryGetValue(name, out var entry);
        (directive, registeredName) = found ? entry : (null!, name);
        return found;
    }

    /// <summary>Registers a directive and its aliases; feature areas add theirs at start-up.</summary>
    public Directive Add(Directive directive)
    {
        directive.Initialize();
        _byName.Add(directive.Name, (directive, directive.Name));
        foreach (var alias in directive.Aliases)
        {
            _byName.Add(alias, (directive, alias));
        }
        _all.Add(directive);
        return directive;
    }
}
