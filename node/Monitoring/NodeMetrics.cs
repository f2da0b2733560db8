using System.Diagnostics.Metrics;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Monitoring;

/// <summary>The Prometheus type of an exported metric.</summary>
public enum MetricKind
{
    /// <summary>Only goes up (name ends in _total).</summary>
    Counter,

    /// <summary>Goes up and down.</summary>
    Gauge,

    /// <summary>Buckets, sum and count.</summary>
    Histogram,
}

/// <summary>One exported metric: the name Prometheus sees, its type, labels and meaning.</summary>
public sealed record MetricDefinition(string Name, MetricKind Kind, string Labels, string Help);

/// <summary>
/// The node's OpenTelemetry instruments. Observable ones read the counters the server keeps anyway
/// (INFO's), so the command path pays nothing for them; only the duration histogram is recorded per
/// command (<see cref="CommandTelemetry"/>). The OpenTelemetry Prometheus exporter appends the unit
/// (s: _seconds, By: _bytes) and _total for counters to the instrument names.
/// </summary>
public sealed class NodeMetrics : IDisposable
{
    /// <summary>Instrument name of the command duration histogram (exported as cache_command_duration_seconds).</summary>
    public const string CommandDurationInstrument = "cache_command_duration";

    /// <summary>Histogram bucket bounds in seconds: 10µs to 1s, where cache commands live.</summary>
    public static readonly double[] DurationBuckets = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

    /// <summary>Every metric the node exports, in the order the README lists them.</summary>
    public static IReadOnlyList<MetricDefinition> Definitions { get; } =
    [
        new("cache_commands_processed_total", MetricKind.Counter, "cmd", "Commands run, by command (subcommands as \"config|get\")."),
        new("cache_command_duration_seconds", MetricKind.Histogram, "cmd", "Time spent running a command, by command."),
        new("cache_connected_clients", MetricKind.Gauge, "", "Client connections open."),
        new("cache_blocked_clients", MetricKind.Gauge, "", "Clients waiting in a blocking command."),
        new("cache_rejected_connections_total", MetricKind.Counter, "", "Connections refused (maxclients, protected mode)."),
        new("cache_keys", MetricKind.Gauge, "db", "Keys in a database (databases with keys only)."),
        new("cache_expiring_keys", MetricKind.Gauge, "db", "Keys with a time to live in a database."),
        new("cache_memory_used_bytes", MetricKind.Gauge, "", "Bytes the data holds (INFO used_memory): keys, values, tables, expiry index."),
        new("cache_memory_max_bytes", MetricKind.Gauge, "", "The maxmemory limit in bytes (0: none)."),
        new("cache_evicted_keys_total", MetricKind.Counter, "", "Keys evicted to stay under maxmemory."),
        new("cache_expired_keys_total", MetricKind.Counter, "", "Keys deleted because their time to live ran out."),
        new("cache_keyspace_hits_total", MetricKind.Counter, "", "Key lookups by read commands that found the key."),
        new("cache_keyspace_misses_total", MetricKind.Counter, "", "Key lookups by read commands that did not find the key."),
        new("cache_net_input_bytes_total", MetricKind.Counter, "", "Bytes read from clients."),
        new("cache_net_output_bytes_total", MetricKind.Counter, "", "Bytes written to clients."),
        new("cache_uptime_seconds", MetricKind.Gauge, "", "Seconds since the node started."),
    ];

    /// <summary>
    /// The metrics a node exports in cluster mode only (cluster-enabled yes), from the counters CLUSTER INFO reports:
    /// the cluster's state as this node sees it, its bus traffic, and what it redirected and migrated.
    /// </summary>
    public static IReadOnlyList<MetricDefinition> ClusterDefinitions { get; } =
    [
        new("cache_cluster_state", MetricKind.Gauge, "", "1 while the cluster is ok (CLUSTER INFO cluster_state:ok), 0 while it is in fail."),
        new("cache_cluster_slots_assigned", MetricKind.Gauge, "", "Slots with an owner in this node's view (cluster_slots_assigned)."),
        new("cache_cluster_slots", MetricKind.Gauge, "state", "Assigned slots by their owner's state: ok, pfail, fail (cluster_slots_ok/pfail/fail)."),
        new("cache_cluster_known_nodes", MetricKind.Gauge, "", "Nodes this node knows, itself and nodes in handshake included (cluster_known_nodes)."),
        new("cache_cluster_size", MetricKind.Gauge, "", "Masters serving at least one slot (cluster_size)."),
        new("cache_cluster_current_epoch", MetricKind.Gauge, "", "The cluster's current epoch (cluster_current_epoch)."),
        new("cache_cluster_my_epoch", MetricKind.Gauge, "", "The config epoch of this node's shard (cluster_my_epoch)."),
        new("cache_cluster_bus_messages_sent_total", MetricKind.Counter, "type", "Cluster bus messages sent, by type as CLUSTER INFO names them (ping, pong, meet, fail, auth-req, ...)."),
        new("cache_cluster_bus_messages_received_total", MetricKind.Counter, "type", "Cluster bus messages received, by type as CLUSTER INFO names them."),
        new("cache_cluster_bus_frames_rejected_total", MetricKind.Counter, "reason", "Bus frames refused (their links closed), by reason: bad_signature, too_short, bad_total_length, bad_version, length_mismatch, extension_padding, extension_overrun, truncated."),
        new("cache_cluster_redirections_total", MetricKind.Counter, "type", "Redirections sent to clients, by type: moved, ask."),
        new("cache_cluster_migrated_keys_total", MetricKind.Counter, "direction", "Keys moved by slot migration: sent (MIGRATE, acknowledged by the target) and received (RESTORE-ASKING)."),
    ];

    private static readonly KeyValuePair<string, object?>[][] s_messageTypeTags =
        [.. BusMessageTypes.Names.Select(name => new[] { new KeyValuePair<string, object?>("type", name) })];

    private static readonly KeyValuePair<string, object?> s_moved = new("type", "moved"), s_ask = new("type", "ask");
    private static readonly KeyValuePair<string, object?> s_sent = new("direction", "sent"), s_received = new("direction", "received");
    private static readonly KeyValuePair<string, object?> s_ok = new("state", "ok"), s_pfail = new("state", "pfail"), s_fail = new("state", "fail");

    private static readonly (BusRejection Reason, KeyValuePair<string, object?>[] Tags)[] s_rejectionTags =
        [.. Enum.GetValues<BusRejection>().Where(r => r != BusRejection.None).Select(r => (r, new[] { new KeyValuePair<string, object?>("reason", SnakeCase(r.ToString())) }))];

    /// <summary>The meter name a node uses unless told otherwise (exported as the otel_scope_name label).</summary>
    public const string DefaultMeterName = "CacheOperator.Node";

    /// <summary>
    /// Creates the meter and its instruments for <paramref name="server"/>. Nodes sharing a process
    /// (tests) pass distinct <paramref name="meterName"/>s so that each exporter sees only its own node.
    /// </summary>
    public NodeMetrics(NodeServer server, string meterName = DefaultMeterName)
    {
        MeterName = meterName;
        Meter = new Meter(MeterName);
        var keyspace = server.Keyspace;
        var stats = server.Stats;
        Meter.CreateObservableCounter("cache_commands_processed", () => CommandCounts(server), description: Help("cache_commands_processed_total"));
        Meter.CreateObservableGauge("cache_connected_clients", () => (long)server.ClientCount, description: Help("cache_connected_clients"));
        Meter.CreateObservableGauge("cache_blocked_clients", () => (long)server.Clients.Count(c => c.IsBlocked), description: Help("cache_blocked_clients"));
        Meter.CreateObservableCounter("cache_rejected_connections", () => Interlocked.Read(ref stats.RejectedConnections), description: Help("cache_rejected_connections_total"));
        Meter.CreateObservableGauge("cache_keys", () => PerDatabase(server, volatileOnly: false), description: Help("cache_keys"));
        Meter.CreateObservableGauge("cache_expiring_keys", () => PerDatabase(server, volatileOnly: true), description: Help("cache_expiring_keys"));
        Meter.CreateObservableGauge("cache_memory_used", () => keyspace.UsedMemory(), "By", Help("cache_memory_used_bytes"));
        Meter.CreateObservableGauge("cache_memory_max", () => server.Config.MaxMemory.Number, "By", Help("cache_memory_max_bytes"));
        Meter.CreateObservableCounter("cache_evicted_keys", () => keyspace.EvictedKeys, description: Help("cache_evicted_keys_total"));
        Meter.CreateObservableCounter("cache_expired_keys", () => keyspace.ExpiredKeys, description: Help("cache_expired_keys_total"));
        Meter.CreateObservableCounter("cache_keyspace_hits", () => keyspace.Hits, description: Help("cache_keyspace_hits_total"));
        Meter.CreateObservableCounter("cache_keyspace_misses", () => keyspace.Misses, description: Help("cache_keyspace_misses_total"));
        Meter.CreateObservableCounter("cache_net_input", () => Interlocked.Read(ref stats.NetInputBytes), "By", Help("cache_net_input_bytes_total"));
        Meter.CreateObservableCounter("cache_net_output", () => server.NetOutputBytes, "By", Help("cache_net_output_bytes_total"));
        Meter.CreateObservableGauge("cache_uptime", () => (DateTimeOffset.UtcNow - server.StartedAt).TotalSeconds, "s", Help("cache_uptime_seconds"));
        if (server.Cluster is { } cluster)
        {
            AddClusterInstruments(server, cluster);
        }
    }

    /// <summary>The meter's name, which the exporter subscribes to.</summary>
    public string MeterName { get; }

    /// <summary>The meter holding every instrument.</summary>
    public Meter Meter { get; }

    /// <summary>The README's metrics table, generated from <see cref="Definitions"/> and <see cref="ClusterDefinitions"/>.</summary>
    public static string MarkdownTable()
    {
        var text = new StringBuilder();
        text.Append("| Metric | Type | Labels | Meaning |\n|---|---|---|---|\n");
        foreach (var m in Definitions.Concat(ClusterDefinitions))
        {
            string help = (ClusterDefinitions.Contains(m) ? "Cluster mode only. " : "") + m.Help;
            text.Append("| `").Append(m.Name).Append("` | ").Append(m.Kind.ToString().ToLowerInvariant()).Append(" | ")
                .Append(m.Labels.Length == 0 ? "" : "`" + m.Labels + "`").Append(" | ").Append(help.Replace("|", "\\|", StringComparison.Ordinal)).Append(" |\n");
        }
        return text.ToString();
    }

    /// <inheritdoc/>
    public void Dispose() => Meter.Dispose();

    private static string Help(string name) => Definitions.Concat(ClusterDefinitions).First(d => d.Name == name).Help;

    /// <summary>
    /// The cluster instruments, read from the counters CLUSTER INFO reports (nothing is counted twice). They are read
    /// without the keyspace lock, as the other instruments are: each value is one word, so a scrape never waits behind
    /// a long command (MIGRATE holds the lock while it talks to its target).
    /// </summary>
    private void AddClusterInstruments(NodeServer server, ClusterState cluster)
    {
        Meter.CreateObservableGauge("cache_cluster_state", () => cluster.IsOk ? 1L : 0L, description: Help("cache_cluster_state"));
        Meter.CreateObservableGauge("cache_cluster_slots_assigned", () => (long)cluster.CountSlots().Assigned, description: Help("cache_cluster_slots_assigned"));
        Meter.CreateObservableGauge("cache_cluster_slots", () => SlotsByState(cluster), description: Help("cache_cluster_slots"));
        Meter.CreateObservableGauge("cache_cluster_known_nodes", () => (long)cluster.Nodes.Count, description: Help("cache_cluster_known_nodes"));
        Meter.CreateObservableGauge("cache_cluster_size", () => (long)cluster.Size, description: Help("cache_cluster_size"));
        Meter.CreateObservableGauge("cache_cluster_current_epoch", () => (long)cluster.CurrentEpoch, description: Help("cache_cluster_current_epoch"));
        Meter.CreateObservableGauge("cache_cluster_my_epoch", () => (long)cluster.MyEpoch, description: Help("cache_cluster_my_epoch"));
        Meter.CreateObservableCounter("cache_cluster_bus_messages_sent", () => ByMessageType(cluster.MessagesSent), description: Help("cache_cluster_bus_messages_sent_total"));
        Meter.CreateObservableCounter("cache_cluster_bus_messages_received", () => ByMessageType(cluster.MessagesReceived), description: Help("cache_cluster_bus_messages_received_total"));
        // The bus starts with the server (after this constructor); until then nothing was rejected.
        Meter.CreateObservableCounter("cache_cluster_bus_frames_rejected", () => s_rejectionTags.Select(r => new Measurement<long>(server.Bus?.Rejected(r.Reason) ?? 0, r.Tags)),
            description: Help("cache_cluster_bus_frames_rejected_total"));
        Meter.CreateObservableCounter("cache_cluster_redirections", () => (Measurement<long>[])
            [new(cluster.MovedRedirections, s_moved), new(cluster.AskRedirections, s_ask)], description: Help("cache_cluster_redirections_total"));
        Meter.CreateObservableCounter("cache_cluster_migrated_keys", () => (Measurement<long>[])
            [new(cluster.MigratedKeysSent, s_sent), new(cluster.MigratedKeysReceived, s_received)], description: Help("cache_cluster_migrated_keys_total"));
    }

    private static Measurement<long>[] SlotsByState(ClusterState cluster)
    {
        var slots = cluster.CountSlots();
        return [new(slots.Ok, s_ok), new(slots.PFail, s_pfail), new(slots.Fail, s_fail)];
    }

    /// <summary>Every type, zeros included, so that a rate starts at the first message of a type.</summary>
    private static IEnumerable<Measurement<long>> ByMessageType(long[] counts)
    {
        for (int type = 0; type < counts.Length; type++)
        {
            yield return new Measurement<long>(Volatile.Read(ref counts[type]), s_messageTypeTags[type]);
        }
    }

    /// <summary>BadTotalLength as bad_total_length: the label values Prometheus conventions expect.</summary>
    private static string SnakeCase(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        foreach (char c in name)
        {
            if (char.IsUpper(c) && text.Length > 0)
            {
                text.Append('_');
            }
            text.Append(char.ToLowerInvariant(c));
        }
        return text.ToString();
    }

    private static IEnumerable<Measurement<long>> CommandCounts(NodeServer server)
    {
        foreach (var command in server.Commands.All)
        {
            if (command.Stats.Calls > 0)
            {
                yield return new Measurement<long>(command.Stats.Calls, command.Stats.MetricTag);
            }
            foreach (var sub in command.Subcommands)
            {
                if (sub.Stats.Calls > 0)
                {
                    yield return new Measurement<long>(sub.Stats.Calls, sub.Stats.MetricTag);
                }
            }
        }
    }

    private static IEnumerable<Measurement<long>> PerDatabase(NodeServer server, bool volatileOnly)
    {
        var keyspace = server.Keyspace;
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            var table = keyspace[i].Table;
            if (table.Count > 0)
            {
                yield return new Measurement<long>(volatileOnly ? table.VolatileCount : table.Count,
                    new KeyValuePair<string, object?>("db", "db" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
    }
}
