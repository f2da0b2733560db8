namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>Prometheus metric types, which decide the series names a metric produces.</summary>
public enum MetricType
{
    /// <summary>A counter (its name ends in _total).</summary>
    Counter,

    /// <summary>A gauge.</summary>
    Gauge,

    /// <summary>A histogram: series NAME_bucket, NAME_sum and NAME_count.</summary>
    Histogram,
}

/// <summary>
/// The one place that says which series names exist for dashboards and alerts to query.
/// Today the list is OPERATOR-CONTRACT.md's; it is meant to be replaced by names read from real
/// scrapes of a node's :9121/metrics and the operator's :8080/metrics.
/// </summary>
public static class ExportedMetrics
{
    /// <summary>Metrics the cache node exports on :9121/metrics.</summary>
    public static IReadOnlyDictionary<string, MetricType> Node { get; } = new Dictionary<string, MetricType>
    {
        ["cache_commands_processed_total"] = MetricType.Counter,
        ["cache_command_duration_seconds"] = MetricType.Histogram,
        ["cache_connected_clients"] = MetricType.Gauge,
        ["cache_blocked_clients"] = MetricType.Gauge,
        ["cache_rejected_connections_total"] = MetricType.Counter,
        ["cache_keys"] = MetricType.Gauge,
        ["cache_expiring_keys"] = MetricType.Gauge,
        ["cache_memory_used_bytes"] = MetricType.Gauge,
        ["cache_memory_max_bytes"] = MetricType.Gauge,
        ["cache_evicted_keys_total"] = MetricType.Counter,
        ["cache_expired_keys_total"] = MetricType.Counter,
        ["cache_keyspace_hits_total"] = MetricType.Counter,
        ["cache_keyspace_misses_total"] = MetricType.Counter,
        ["cache_net_input_bytes_total"] = MetricType.Counter,
        ["cache_net_output_bytes_total"] = MetricType.Counter,
        ["cache_uptime_seconds"] = MetricType.Gauge,
    };

    /// <summary>Metrics the operator exports on :8080/metrics.</summary>
    public static IReadOnlyDictionary<string, MetricType> Operator { get; } = new Dictionary<string, MetricType>
    {
        ["cacheoperator_reconcile_total"] = MetricType.Counter,
        ["cacheoperator_reconcile_duration_seconds"] = MetricType.Histogram,
        ["cacheoperator_queue_depth"] = MetricType.Gauge,
        ["cacheoperator_clusters"] = MetricType.Gauge,
        ["cacheoperator_shards_ready"] = MetricType.Gauge,
        ["cacheoperator_shards_desired"] = MetricType.Gauge,
        ["cacheoperator_topology_actions_total"] = MetricType.Counter,
        ["cacheoperator_leader"] = MetricType.Gauge,
    };

    /// <summary>Series Prometheus adds to every scrape target itself.</summary>
    public static IReadOnlySet<string> Synthetic { get; } = new HashSet<string> { "up" };

    /// <summary>Every series name a query may use.</summary>
    public static IReadOnlySet<string> SeriesNames { get; } = Node.Concat(Operator)
        .SelectMany(m => SeriesOf(m.Key, m.Value))
        .Concat(Synthetic)
        .ToHashSet(StringComparer.Ordinal);

    /// <summary>The series names one metric produces.</summary>
    public static IEnumerable<string> SeriesOf(string name, MetricType type) => type == MetricType.Histogram
        ? [name + "_bucket", name + "_sum", name + "_count"]
        : [name];
}
