using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace CacheOperator.Node.Server;

/// <summary>Facts about this server that INFO, HELLO and --version report, and the INFO text itself.</summary>
public static class ServerInfo
{
    /// <summary>The Redis version whose behaviour the node follows; clients pick features by it.</summary>
    public const string RedisVersion = "7.0.15";

    /// <summary>Sections INFO prints with no argument or "default", in Redis's order.</summary>
    private static readonly string[] DefaultSections =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"];

    /// <summary>Every section, in Redis's order ("all" and "everything").</summary>
    private static readonly string[] AllSections =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace"];

    /// <summary>
    /// The INFO text for the requested section names (any case; empty means "default"), in Redis's
    /// <c># Section</c> / <c>field:value</c> CRLF format, sections separated by an empty line.
    /// Unknown sections are left out, as Redis does. Call under the keyspace lock.
    /// </summary>
    public static string Build(NodeServer server, IReadOnlyList<string> requested)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        if (requested.Count == 0)
        {
            wanted.UnionWith(DefaultSections);
        }
        foreach (var name in requested.Select(r => r.ToLowerInvariant()))
        {
            switch (name)
            {
                case "default":
                    wanted.UnionWith(DefaultSections);
                    break;
                case "all":
                case "everything":
                    wanted.UnionWith(AllSections);
                    break;
                default:
                    wanted.Add(name);
                    break;
            }
        }
        var text = new StringBuilder();
        foreach (var section in AllSections)
        {
            if (!wanted.Contains(section))
            {
                continue;
            }
            if (text.Length > 0)
            {
                text.Append("\r\n");
            }
            var fields = new InfoSection(text);
            switch (section)
            {
                case "server":
                    fields.Header("Server");
                    AppendServer(server, fields);
                    break;
                case "clients":
                    fields.Header("Clients");
                    AppendClients(server, fields);
                    break;
                case "memory":
                    fields.Header("Memory");
                    AppendMemory(server, fields);
                    break;
                case "persistence":
                    fields.Header("Persistence");
                    AppendPersistence(server, fields);
                    break;
                case "stats":
                    fields.Header("Stats");
                    AppendStats(server, fields);
                    break;
                case "replication":
                    fields.Header("Replication");
                    AppendReplication(server, fields);
                    break;
                case "cpu":
                    fields.Header("CPU");
                    AppendCpu(fields);
                    break;
                case "modules":
                    fields.Header("Modules");
                    break;
                case "commandstats":
                    fields.Header("Commandstats");
                    AppendCommandStats(server, fields);
                    break;
                case "errorstats":
                    fields.Header("Errorstats");
                    AppendErrorStats(server, fields);
                    break;
                case "latencystats":
                    fields.Header("Latencystats");
                    AppendLatencyStats(server, fields);
                    break;
                case "cluster":
                    fields.Header("Cluster");
                    fields.Add("cluster_enabled", server.Cluster is null ? 0 : 1);
                    break;
                case "keyspace":
                    fields.Header("Keyspace");
                    AppendKeyspace(server, fields);
                    break;
            }
        }
        AppendGcIfAsked(wanted, text);
        return text.ToString();
    }

    /// <summary>
    /// Not a Redis section, so printed only when asked for by name (<c>INFO gc</c>), never by all or
    /// everything: the longest GC pause, for the benchmark's pause check.
    /// </summary>
    private static void AppendGcIfAsked(HashSet<string> wanted, StringBuilder text)
    {
        if (!wanted.Contains("gc"))
        {
            return;
        }
        if (text.Length > 0)
        {
            text.Append("\r\n");
        }
        var fields = new InfoSection(text);
        fields.Header("GC");
        fields.Add("gc_max_pause_ms", GcPauseMonitor.MaxPauseMs.ToString("F2", CultureInfo.InvariantCulture));
    }

    /// <summary>Bytes in Redis's human form: 1.32M, 512B, 0B.</summary>
    public static string HumanBytes(long bytes)
    {
        string[] units = ["K", "M", "G", "T", "P"];
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        }
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString("F2", CultureInfo.InvariantCulture) + units[unit];
    }

    /// <summary>Resident set size from /proc/self/statm (0 where that file does not exist).</summary>
    public static long ResidentMemory()
    {
        try
        {
            var fields = File.ReadAllText("/proc/self/statm").Split(' ');
            return long.Parse(fields[1], CultureInfo.InvariantCulture) * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return 0;
        }
    }

    private static void AppendServer(NodeServer server, InfoSection f)
    {
        long uptime = (long)(DateTimeOffset.UtcNow - server.StartedAt).TotalSeconds;
        f.Add("redis_version", RedisVersion);
        f.Add("redis_git_sha1", "00000000");
        f.Add("redis_git_dirty", 0);
        f.Add("redis_build_id", "0");
        f.Add("redis_mode", server.Cluster is null ? "standalone" : "cluster");
        f.Add("os", $"{(OperatingSystem.IsLinux() ? "Linux" : RuntimeInformation.OSDescription.Split(' ')[0])} {OsRelease()} {Architecture()}");
        f.Add("arch_bits", IntPtr.Size * 8);
        f.Add("monotonic_clock", "POSIX clock_gettime");
        f.Add("multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : "kqueue");
        f.Add("process_id", Environment.ProcessId);
        f.Add("process_supervised", "no");
        f.Add("run_id", server.RunId);
        f.Add("tcp_port", server.Port);
        f.Add("server_time_usec", (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10);
        f.Add("uptime_in_seconds", uptime);
        f.Add("uptime_in_days", uptime / 86400);
        f.Add("hz", server.Config.Hz.Number);
        f.Add("configured_hz", server.Config.Hz.Number);
        f.Add("lru_clock", server.Keyspace.AccessClock & ((1 << 24) - 1));
        f.Add("executable", Environment.ProcessPath ?? "");
        f.Add("config_file", server.Config.ConfigFile ?? "");
        f.Add("io_threads_active", 0);
    }

    private static void AppendClients(NodeServer server, InfoSection f)
    {
        f.Add("connected_clients", server.ClientCount);
        // As Redis's getClusterConnectionsCount: two bus links per other known node.
        f.Add("cluster_connections", server.Cluster is { } cluster ? (cluster.Nodes.Count - 1) * 2 : 0);
        f.Add("maxclients", server.Config.MaxClients.Number);
        f.Add("client_recent_max_input_buffer", 0);
        f.Add("client_recent_max_output_buffer", 0);
        f.Add("blocked_clients", server.Clients.Count(c => c.IsBlocked));
        f.Add("tracking_clients", server.Tracking.ClientCount);
        f.Add("clients_in_timeout_table", 0);
    }

    private static void AppendMemory(NodeServer server, InfoSection f)
    {
        var memory = server.Memory;
        long used = memory.Used;
        long rss = ResidentMemory();
        long peak = memory.Peak;
        long maxMemory = server.Config.MaxMemory.Number;
        var gc = GC.GetGCMemoryInfo();
        long system = gc.TotalAvailableMemoryBytes;
        long overhead = 0;
        for (int i = 0; i < server.Keyspace.DatabaseCount; i++)
        {
            overhead += server.Keyspace[i].Table.StructureBytes;
        }
        long dataset = used - overhead;
        f.Add("used_memory", used);
        f.Add("used_memory_human", HumanBytes(used));
        f.Add("used_memory_rss", rss);
        f.Add("used_memory_rss_human", HumanBytes(rss));
        f.Add("used_memory_peak", peak);
        f.Add("used_memory_peak_human", HumanBytes(peak));
        f.Add("used_memory_peak_perc", Percent(used, peak));
        f.Add("used_memory_overhead", overhead);
        f.Add("used_memory_dataset", dataset);
        f.Add("used_memory_dataset_perc", Percent(dataset, used));
        f.Add("total_system_memory", system);
        f.Add("total_system_memory_human", HumanBytes(system));
        // Redis 7.0's scripting fields: the Lua interpreters' heaps (EVAL's, functions'), the bodies of the cached scripts, the libraries.
        var scripts = server.Scripts;
        long lua = scripts.MemoryBytes;
        long functionsVm = scripts.FunctionsMemoryBytes;
        f.Add("used_memory_lua", lua);
        f.Add("used_memory_vm_eval", lua);
        f.Add("used_memory_lua_human", HumanBytes(lua));
        f.Add("used_memory_scripts_eval", scripts.BodyBytes);
        f.Add("number_of_cached_scripts", scripts.Count);
        f.Add("number_of_functions", server.Functions.FunctionCount);
        f.Add("number_of_libraries", server.Functions.LibraryCount);
        f.Add("used_memory_vm_functions", functionsVm);
        f.Add("used_memory_vm_total", lua + functionsVm);
        f.Add("used_memory_vm_total_human", HumanBytes(lua + functionsVm));
        f.Add("used_memory_functions", 184);
        f.Add("used_memory_scripts", scripts.BodyBytes + 184);
        f.Add("used_memory_scripts_human", HumanBytes(scripts.BodyBytes + 184));
        f.Add("maxmemory", maxMemory);
        f.Add("maxmemory_human", HumanBytes(maxMemory));
        f.Add("maxmemory_policy", server.Config.MaxMemoryPolicy.Text);
        f.Add("mem_fragmentation_ratio", (used == 0 ? 0 : (double)rss / used).ToString("F2", CultureInfo.InvariantCulture));
        f.Add("mem_fragmentation_bytes", rss - used);
        f.Add("mem_not_counted_for_evict", 0);
        f.Add("mem_allocator", "dotnet-gc");
    }

    private static string Percent(long part, long whole) =>
        (whole == 0 ? 0 : part * 100.0 / whole).ToString("F2", CultureInfo.InvariantCulture) + "%";

    private static void AppendPersistence(NodeServer server, InfoSection f)
    {
        // Redis 7.0's fields in its order. The node forks no child, so the copy-on-write fields are 0; there is no AOF yet.
        var snapshots = server.Snapshots;
        var current = snapshots.Current;
        f.Add("loading", snapshots.IsLoading ? 1 : 0);
        f.Add("async_loading", 0);
        f.Add("current_cow_peak", 0);
        f.Add("current_cow_size", 0);
        f.Add("current_cow_size_age", 0);
        f.Add("current_fork_perc", "0.00");
        f.Add("current_save_keys_processed", 0);
        f.Add("current_save_keys_total", 0);
        f.Add("rdb_changes_since_last_save", server.Keyspace.Dirty);
        f.Add("rdb_bgsave_in_progress", current is null ? 0 : 1);
        f.Add("rdb_last_save_time", snapshots.LastSaveUnix);
        f.Add("rdb_last_bgsave_status", snapshots.LastBackgroundSaveOk ? "ok" : "err");
        f.Add("rdb_last_bgsave_time_sec", snapshots.LastBackgroundSaveSeconds);
        f.Add("rdb_current_bgsave_time_sec", current is null ? -1 : (long)System.Diagnostics.Stopwatch.GetElapsedTime(current.StartedTimestamp).TotalSeconds);
        f.Add("rdb_saves", snapshots.Saves);
        f.Add("rdb_last_cow_size", 0);
        f.Add("rdb_last_load_keys_expired", snapshots.LastLoadKeysExpired);
        f.Add("rdb_last_load_keys_loaded", snapshots.LastLoadKeysLoaded);
        f.Add("aof_enabled", 0);
        f.Add("aof_rewrite_in_progress", 0);
        f.Add("aof_rewrite_scheduled", 0);
        f.Add("aof_last_rewrite_time_sec", -1);
        f.Add("aof_current_rewrite_time_sec", -1);
        f.Add("aof_last_bgrewrite_status", "ok");
        f.Add("aof_rewrites", 0);
        f.Add("aof_rewrites_consecutive_failures", 0);
        f.Add("aof_last_write_status", "ok");
        f.Add("aof_last_cow_size", 0);
        f.Add("module_fork_in_progress", 0);
        f.Add("module_fork_last_cow_size", 0);
        if (snapshots.IsLoading)
        {
            long total = snapshots.LoadingTotalBytes, loaded = snapshots.LoadingLoadedBytes;
            long elapsed = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - snapshots.LoadingStartUnix;
            f.Add("loading_start_time", snapshots.LoadingStartUnix);
            f.Add("loading_total_bytes", total);
            f.Add("loading_rdb_used_mem", 0);
            f.Add("loading_loaded_bytes", loaded);
            f.Add("loading_loaded_perc", (total == 0 ? 0 : loaded * 100.0 / total).ToString("F2", CultureInfo.InvariantCulture));
            f.Add("loading_eta_seconds", loaded == 0 ? 1 : (long)((total - loaded) / (loaded / (double)Math.Max(1, elapsed))));
        }
    }

    private static void AppendStats(NodeServer server, InfoSection f)
    {
        var stats = server.Stats;
        f.Add("total_connections_received", Interlocked.Read(ref stats.ConnectionsReceived));
        f.Add("total_commands_processed", stats.CommandsProcessed);
        f.Add("instantaneous_ops_per_sec", stats.InstantaneousOpsPerSec);
        f.Add("total_net_input_bytes", Interlocked.Read(ref stats.NetInputBytes));
        f.Add("total_net_output_bytes", server.NetOutputBytes);
        f.Add("rejected_connections", Interlocked.Read(ref stats.RejectedConnections));
        f.Add("sync_full", server.Replicator.SyncFull);
        f.Add("sync_partial_ok", server.Replicator.SyncPartialOk);
        f.Add("sync_partial_err", server.Replicator.SyncPartialErr);
        f.Add("expired_keys", server.Keyspace.ExpiredKeys);
        f.Add("evicted_keys", server.Keyspace.EvictedKeys);
        f.Add("evicted_clients", 0);
        f.Add("keyspace_hits", server.Keyspace.Hits);
        f.Add("keyspace_misses", server.Keyspace.Misses);
        f.Add("pubsub_channels", server.PubSub.ChannelCount);
        f.Add("pubsub_patterns", server.PubSub.PatternCount);
        f.Add("pubsubshard_channels", server.PubSub.ShardChannelCount);
        f.Add("total_forks", 0);
        f.Add("tracking_total_keys", server.Tracking.KeyCount);
        f.Add("tracking_total_items", server.Tracking.ItemCount);
        f.Add("tracking_total_prefixes", server.Tracking.PrefixCount);
        f.Add("unexpected_error_replies", 0);
        f.Add("total_error_replies", stats.TotalErrorReplies);
    }

    private static void AppendReplication(NodeServer server, InfoSection f)
    {
        var replicator = server.Replicator;
        long offset = server.Propagator.Stream.MasterOffset;
        long now = Environment.TickCount64;
        if (replicator.Link is { } link)
        {
            f.Add("role", "slave");
            f.Add("master_host", link.Host);
            f.Add("master_port", link.Port);
            f.Add("master_link_status", link.IsUp ? "up" : "down");
            f.Add("master_last_io_seconds_ago", link.IsUp && link.LastIoMs > 0 ? (now - link.LastIoMs) / 1000 : -1);
            bool syncing = link.State == Replication.MasterLinkState.Sync;
            f.Add("master_sync_in_progress", syncing ? 1 : 0);
            f.Add("slave_read_repl_offset", link.IsUp ? link.ReadOffset : offset);
            f.Add("slave_repl_offset", offset);
            if (syncing)
            {
                long total = link.SyncTotalBytes;
                long read = link.SyncReadBytes;
                f.Add("master_sync_total_bytes", total);
                f.Add("master_sync_read_bytes", read);
                f.Add("master_sync_left_bytes", total - read);
                f.Add("master_sync_perc", (total <= 0 ? 0 : read * 100.0 / total).ToString("F2", CultureInfo.InvariantCulture));
                f.Add("master_sync_last_io_seconds_ago", (now - link.LastIoMs) / 1000);
            }
            if (!link.IsUp)
            {
                f.Add("master_link_down_since_seconds", link.DownSinceMs > 0 ? (now - link.DownSinceMs) / 1000 : -1);
            }
            f.Add("slave_priority", server.Config.ReplicaPriority.Number);
            f.Add("slave_read_only", server.Config.ReplicaReadOnly.IsOn ? 1 : 0);
            f.Add("replica_announced", 1);
        }
        else
        {
            f.Add("role", "master");
        }
        var replicas = replicator.Replicas;
        f.Add("connected_slaves", replicas.Count);
        if (server.Config.MinReplicasToWrite.Number > 0 && server.Config.MinReplicasMaxLag.Number > 0)
        {
            f.Add("min_slaves_good_slaves", replicator.GoodReplicas);
        }
        for (int i = 0; i < replicas.Count; i++)
        {
            var r = replicas[i];
            string state = r.State switch
            {
                Replication.ReplicaState.WaitBgsave => "wait_bgsave",
                Replication.ReplicaState.SendBulk => "send_bulk",
                Replication.ReplicaState.Online => "online",
                _ => "handshake",
            };
            f.Add("slave" + i.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"ip={r.Ip},port={r.ListeningPort},state={state},offset={r.AckOffset},lag={r.LagSeconds}"));
        }
        f.Add("master_failover_state", server.Replicator.Failover.StateName);
        f.Add("master_replid", server.Replication.Id);
        f.Add("master_replid2", server.Replication.Id2);
        f.Add("master_repl_offset", offset);
        f.Add("second_repl_offset", server.Replication.SecondOffset);
        var backlog = replicator.Backlog;
        f.Add("repl_backlog_active", backlog is null ? 0 : 1);
        f.Add("repl_backlog_size", backlog?.Size ?? server.Config.ReplBacklogSize.Number);
        f.Add("repl_backlog_first_byte_offset", backlog?.FirstByteOffset ?? 0);
        f.Add("repl_backlog_histlen", backlog?.HistoryLength ?? 0);
    }

    private static void AppendCpu(InfoSection f)
    {
        using var process = Process.GetCurrentProcess();
        f.Add("used_cpu_sys", Seconds(process.PrivilegedProcessorTime));
        f.Add("used_cpu_user", Seconds(process.UserProcessorTime));
        f.Add("used_cpu_sys_children", "0.000000");
        f.Add("used_cpu_user_children", "0.000000");
    }

    private static void AppendCommandStats(NodeServer server, InfoSection f)
    {
        foreach (var command in server.Commands.All)
        {
            AppendCommandStat(command, f);
            foreach (var sub in command.Subcommands)
            {
                AppendCommandStat(sub, f);
            }
        }
    }

    private static void AppendCommandStat(Commands.CommandSpec command, InfoSection f)
    {
        var s = command.Stats;
        if (s.Calls == 0 && s.FailedCalls == 0 && s.RejectedCalls == 0)
        {
            return;
        }
        double perCall = s.Calls == 0 ? 0 : (double)s.Microseconds / s.Calls;
        f.Add("cmdstat_" + command.Name,
            string.Create(CultureInfo.InvariantCulture, $"calls={s.Calls},usec={s.Microseconds},usec_per_call={perCall:F2},rejected_calls={s.RejectedCalls},failed_calls={s.FailedCalls}"));
    }

    private static void AppendLatencyStats(NodeServer server, InfoSection f)
    {
        var percentiles = Configuration.LatencyPercentiles.Parse(server.Config.LatencyTrackingInfoPercentiles.Text);
        foreach (var command in server.Commands.All)
        {
            AppendLatencyStat(command, percentiles, f);
            foreach (var sub in command.Subcommands)
            {
                AppendLatencyStat(sub, percentiles, f);
            }
        }
    }

    // Redis's fillPercentileDistributionLatencies: "p<percentile as %f trimmed>=<microseconds with 3 decimals>", comma-separated.
    private static void AppendLatencyStat(Commands.CommandSpec command, double[] percentiles, InfoSection f)
    {
        if (command.Stats.Latency is not { } histogram)
        {
            return;
        }
        var value = new StringBuilder();
        foreach (double p in percentiles)
        {
            if (value.Length > 0)
            {
                value.Append(',');
            }
            value.Append('p').Append(Configuration.LatencyPercentiles.Format(p)).Append('=')
                .Append((histogram.ValueAtPercentile(p) / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
        }
        f.Add("latency_percentiles_usec_" + command.Name, value.ToString());
    }

    private static void AppendErrorStats(NodeServer server, InfoSection f)
    {
        KeyValuePair<string, long>[] errors;
        lock (server.Stats.ErrorsByPrefix)
        {
            errors = [.. server.Stats.ErrorsByPrefix.OrderBy(e => e.Key, StringComparer.Ordinal)];
        }
        foreach (var (prefix, count) in errors)
        {
            f.Add("errorstat_" + prefix, "count=" + count.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static void AppendKeyspace(NodeServer server, InfoSection f)
    {
        var keyspace = server.Keyspace;
        var random = new Random();
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            var table = keyspace[i].Table;
            if (table.Count == 0)
            {
                continue;
            }
            f.Add("db" + i.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"keys={table.Count},expires={table.VolatileCount},avg_ttl={AverageTtl(table, keyspace.NowMs, random)}"));
        }
    }

    /// <summary>Average remaining time to live in ms, estimated from a sample of keys with an expiry as Redis estimates it.</summary>
    private static long AverageTtl(Storage.KeyTable table, long nowMs, Random random)
    {
        if (table.VolatileCount == 0)
        {
            return 0;
        }
        const int Samples = 20;
        long total = 0;
        int counted = 0;
        for (int n = 0; n < Samples; n++)
        {
            int index = table.RandomVolatileIndex(random);
            if (index < 0)
            {
                break;
            }
            long ttl = table.ExpireAt(index) - nowMs;
            if (ttl > 0)
            {
                total += ttl;
                counted++;
            }
        }
        return counted == 0 ? 0 : total / counted;
    }

    private static string Seconds(TimeSpan time) =>
        string.Create(CultureInfo.InvariantCulture, $"{(long)time.TotalSeconds}.{time.Ticks % TimeSpan.TicksPerSecond / 10:D6}");

    private static string OsRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Environment.OSVersion.Version.ToString();
        }
    }

    private static string Architecture() => RuntimeInformation.OSArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "x86_64",
        System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Appends one section's lines.</summary>
    private readonly struct InfoSection(StringBuilder text)
    {
        public void Header(string title) => text.Append("# ").Append(title).Append("\r\n");

        public void Add(string name, string value) => text.Append(name).Append(':').Append(value).Append("\r\n");

        public void Add(string name, long value) => Add(name, value.ToString(CultureInfo.InvariantCulture));
    }
}
