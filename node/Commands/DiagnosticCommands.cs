using System.Globalization;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The server family's diagnostics: MEMORY, SLOWLOG and LATENCY.</summary>
internal static class DiagnosticCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags AdminNoScript = Admin | CommandFlags.NoScript;
    private const CommandFlags HelpFlags = CommandFlags.Loading | CommandFlags.Stale;
    private const string Dangerous = "@admin @slow @dangerous";
    private const string AllShards = "nondeterministic_output request_policy:all_shards response_policy:special";
    private const string AllNodes = "nondeterministic_output request_policy:all_nodes response_policy:special";

    public static IEnumerable<CommandSpec> All =>
    [
        new("memory", -2, null)
        {
            Acl = "@slow", Since = "4.0.0", Summary = "A container for memory diagnostics commands.", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("memory|usage", -3, MemoryUsage)
                {
                    Flags = CommandFlags.ReadOnly, Keys = (2, 2, 1), KeySpecFlags = "RO", Acl = "@read @slow", Since = "4.0.0", Summary = "Estimates the memory usage of a key.",
                    Complexity = "O(N) where N is the number of samples.", Syntax = "key [SAMPLES count]",
                },
                new("memory|stats", 2, MemoryStats)
                {
                    Acl = "@slow", Since = "4.0.0", Tips = AllShards, Summary = "Returns details about memory usage.", Complexity = "O(1)",
                },
                new("memory|doctor", 2, MemoryDoctor)
                {
                    Acl = "@slow", Since = "4.0.0", Tips = AllShards, Summary = "Outputs a memory problems report.", Complexity = "O(1)",
                },
                new("memory|malloc-stats", 2, MemoryMallocStats)
                {
                    Acl = "@slow", Since = "4.0.0", Tips = AllShards, Summary = "Returns the allocator statistics.", Complexity = "Depends on how much memory is allocated, could be slow",
                },
                new("memory|purge", 2, MemoryPurge)
                {
                    Acl = "@slow", Since = "4.0.0", Tips = "request_policy:all_shards response_policy:all_succeeded", Summary = "Asks the allocator to release memory.",
                    Complexity = "Depends on how much memory is allocated, could be slow",
                },
                new("memory|help", 2, MemoryHelp)
                {
                    Flags = HelpFlags, Acl = "@slow", Since = "4.0.0", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)",
                },
            ],
        },
        new("slowlog", -2, null)
        {
            Acl = "@slow", Since = "2.2.12", Summary = "A container for slow log commands.", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("slowlog|get", -2, SlowlogGet)
                {
                    Flags = Admin, Acl = Dangerous, Since = "2.2.12", Tips = "request_policy:all_nodes nondeterministic_output",
                    Summary = "Returns the slow log's entries.", Complexity = "O(N) where N is the number of entries returned", Syntax = "[count]",
                },
                new("slowlog|len", 2, SlowlogLen)
                {
                    Flags = Admin, Acl = Dangerous, Since = "2.2.12", Tips = "request_policy:all_nodes response_policy:agg_sum nondeterministic_output",
                    Summary = "Returns the number of entries in the slow log.", Complexity = "O(1)",
                },
                new("slowlog|reset", 2, SlowlogReset)
                {
                    Flags = Admin, Acl = Dangerous, Since = "2.2.12", Tips = "request_policy:all_nodes response_policy:all_succeeded",
                    Summary = "Clears all entries from the slow log.", Complexity = "O(N) where N is the number of entries in the slowlog",
                },
                new("slowlog|help", 2, SlowlogHelp)
                {
                    Flags = HelpFlags, Acl = "@slow", Since = "6.2.0", Summary = "Show helpful text about the different subcommands", Complexity = "O(1)",
                },
            ],
        },
        new("latency", -2, null)
        {
            Acl = "@slow", Since = "2.8.13", Summary = "A container for latency diagnostics commands.", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("latency|latest", 2, LatencyLatest)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "2.8.13", Tips = AllNodes,
                    Summary = "Returns the latest latency samples for all events.", Complexity = "O(1)",
                },
                new("latency|history", 3, LatencyHistory)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "2.8.13", Tips = AllNodes,
                    Summary = "Returns timestamp-latency samples for an event.", Complexity = "O(1)", Syntax = "event",
                },
                new("latency|reset", -2, LatencyReset)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "2.8.13", Tips = "request_policy:all_nodes response_policy:all_succeeded",
                    Summary = "Resets the latency data for one or more events.", Complexity = "O(1)", Syntax = "[event [event ...]]",
                },
                new("latency|doctor", 2, LatencyDoctor)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "2.8.13", Tips = AllNodes,
                    Summary = "Returns a human-readable latency analysis report.", Complexity = "O(1)",
                },
                new("latency|graph", 3, LatencyGraph)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "2.8.13", Tips = AllNodes,
                    Summary = "Return a latency graph for the event.", Complexity = "O(1)", Syntax = "event",
                },
                new("latency|histogram", -2, LatencyHistogram)
                {
                    Flags = AdminNoScript, Acl = Dangerous, Since = "7.0.0", Tips = AllNodes,
                    Summary = "Return the cumulative distribution of latencies of a subset of commands or all.",
                    Complexity = "O(N) where N is the number of commands with latency information being retrieved.", Syntax = "[command [command ...]]",
                },
                new("latency|help", 2, LatencyHelp)
                {
                    Flags = HelpFlags, Acl = "@slow", Since = "2.8.13", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)",
                },
            ],
        },
    ];

    /// <summary>Bytes a key costs beyond its own charge: its entry slot and its bucket.</summary>
    private static long SlotBytes => KeyTable.EntryBytes + sizeof(int);

    private static void MemoryUsage(Session s, ArgList a)
    {
        for (int i = 3; i < a.Count; i++)
        {
            if (a.Is(i, "SAMPLES"u8) && i + 1 < a.Count)
            {
                // Collections know their size exactly, so the sample count changes nothing; it is still validated.
                if (!s.TryParseLong(a[++i], out long samples))
                {
                    return;
                }
                if (samples < 0)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        int index = s.Db.Find(a[2], touch: false);
        if (index < 0)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        s.Reply.WriteInteger(s.Db.Table[index].Charged + SlotBytes);
    }

    private static void MemoryStats(Session s, ArgList a)
    {
        var server = s.Server;
        var keyspace = server.Keyspace;
        long used = server.Memory.Used;
        long peak = server.Memory.Peak;
        long rss = ServerInfo.ResidentMemory();
        var databases = Enumerable.Range(0, keyspace.DatabaseCount).Where(i => keyspace[i].Count > 0).ToList();
        long overhead = 0;
        for (int i = 0; i < keyspace.DatabaseCount; i++)
        {
            overhead += keyspace[i].Table.StructureBytes;
        }
        long keys = keyspace.TotalKeys();
        long dataset = used - overhead;
        var r = s.Reply;
        r.WriteMapHeader(11 + databases.Count);
        r.WriteBulk("peak.allocated"u8);
        r.WriteInteger(peak);
        r.WriteBulk("total.allocated"u8);
        r.WriteInteger(used);
        r.WriteBulk("clients.normal"u8);
        r.WriteInteger(0);
        foreach (int d in databases)
        {
            var table = keyspace[d].Table;
            r.WriteBulk("db." + d.ToString(CultureInfo.InvariantCulture));
            r.WriteMapHeader(2);
            r.WriteBulk("overhead.hashtable.main"u8);
            r.WriteInteger(table.StructureBytes);
            r.WriteBulk("overhead.hashtable.expires"u8);
            r.WriteInteger(table.VolatileCount * (long)(sizeof(int) + sizeof(long)));
        }
        r.WriteBulk("overhead.total"u8);
        r.WriteInteger(overhead);
        r.WriteBulk("keys.count"u8);
        r.WriteInteger(keys);
        r.WriteBulk("keys.bytes-per-key"u8);
        r.WriteInteger(keys == 0 ? 0 : used / keys);
        r.WriteBulk("dataset.bytes"u8);
        r.WriteInteger(dataset);
        r.WriteBulk("dataset.percentage"u8);
        r.WriteDouble(used == 0 ? 0 : dataset * 100.0 / used);
        r.WriteBulk("peak.percentage"u8);
        r.WriteDouble(peak == 0 ? 0 : used * 100.0 / peak);
        r.WriteBulk("fragmentation"u8);
        r.WriteDouble(used == 0 ? 0 : (double)rss / used);
        r.WriteBulk("fragmentation.bytes"u8);
        r.WriteInteger(rss - used);
    }

    private static void MemoryDoctor(Session s, ArgList a) => s.Reply.WriteVerbatim(Doctor(s.Server));

    /// <summary>MEMORY DOCTOR's report: the few problems this node can actually detect, plainly.</summary>
    internal static string Doctor(NodeServer server)
    {
        long used = server.Memory.Used;
        long limit = server.Config.MaxMemory.Number;
        long rss = ServerInfo.ResidentMemory();
        if (used < 5 * 1024 * 1024)
        {
            return "This instance holds less than 5 MB of data: too little for the memory report to mean anything. Fill it with data and ask again.\n";
        }
        var issues = new List<string>();
        if (limit == 0)
        {
            issues.Add($"No maxmemory is set: the data ({ServerInfo.HumanBytes(used)}) can grow until the container or the machine runs out of memory. Set maxmemory and a maxmemory-policy.");
        }
        else if (used > limit * 9 / 10)
        {
            issues.Add(server.Config.MaxMemoryPolicy.Text == "noeviction"
                ? $"The data ({ServerInfo.HumanBytes(used)}) is within 10% of maxmemory ({ServerInfo.HumanBytes(limit)}) and the policy is noeviction: writes will soon be refused with OOM errors."
                : $"The data ({ServerInfo.HumanBytes(used)}) is at maxmemory ({ServerInfo.HumanBytes(limit)}); keys are being evicted ({server.Keyspace.EvictedKeys} so far) by {server.Config.MaxMemoryPolicy.Text}.");
        }
        if (rss > 0 && rss > used * 2 && rss - used > 100 * 1024 * 1024)
        {
            issues.Add($"The process holds {ServerInfo.HumanBytes(rss)} for {ServerInfo.HumanBytes(used)} of data: the garbage collector keeps freed memory for reuse. MEMORY PURGE forces a full compacting collection.");
        }
        return issues.Count == 0
            ? "No memory problems detected: the data fits its limit and the process does not hold much more than the data.\n"
            : "Memory report:\n\n" + string.Join("\n\n", issues.Select(i => " * " + i)) + "\n";
    }

    private static void MemoryMallocStats(Session s, ArgList a)
    {
        var gc = GC.GetGCMemoryInfo();
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"dotnet GC: heap_size={gc.HeapSizeBytes} committed={gc.TotalCommittedBytes} fragmented={gc.FragmentedBytes} ");
        text.Append(CultureInfo.InvariantCulture, $"promoted={gc.PromotedBytes} collections gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)} ");
        text.Append(CultureInfo.InvariantCulture, $"pause_time_percentage={gc.PauseTimePercentage:F2}\n");
        s.Reply.WriteVerbatim(text.ToString());
    }

    private static void MemoryPurge(Session s, ArgList a)
    {
        // Returns freed segments to the operating system; runs under the keyspace lock like any command.
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        s.Reply.WriteOk();
    }

    private static void MemoryHelp(Session s, ArgList a) => HelpReply.Write(s, "MEMORY",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).");

    private static void SlowlogGet(Session s, ArgList a)
    {
        long count = 10;
        if (a.Count == 3 && (!NumberFormat.TryParseInt64(a[2], out count) || count < -1))
        {
            s.Reply.WriteError("ERR count should be greater than or equal to -1");
            return;
        }
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.WrongArgs("slowlog|get"));
            return;
        }
        var entries = s.Server.Telemetry.SlowLog.Newest(count);
        var r = s.Reply;
        r.WriteArrayHeader(entries.Count);
        foreach (var e in entries)
        {
            r.WriteArrayHeader(6);
            r.WriteInteger(e.Id);
            r.WriteInteger(e.UnixSeconds);
            r.WriteInteger(e.Microseconds);
            r.WriteArrayHeader(e.Arguments.Length);
            foreach (var arg in e.Arguments)
            {
                r.WriteBulk(arg);
            }
            r.WriteBulk(e.ClientAddress);
            r.WriteBulk(e.ClientName);
        }
    }

    private static void SlowlogLen(Session s, ArgList a) => s.Reply.WriteInteger(s.Server.Telemetry.SlowLog.Count);

    private static void SlowlogReset(Session s, ArgList a)
    {
        s.Server.Telemetry.SlowLog.Reset();
        s.Reply.WriteOk();
    }

    private static void SlowlogHelp(Session s, ArgList a) => HelpReply.Write(s, "SLOWLOG",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.");

    private static void LatencyLatest(Session s, ArgList a)
    {
        var events = s.Server.Telemetry.Latency.Snapshot().Where(e => e.Samples.Length > 0).ToList();
        s.Reply.WriteArrayHeader(events.Count);
        foreach (var (name, samples, max) in events)
        {
            s.Reply.WriteArrayHeader(4);
            s.Reply.WriteBulk(name);
            s.Reply.WriteInteger(samples[^1].UnixSeconds);
            s.Reply.WriteInteger(samples[^1].Milliseconds);
            s.Reply.WriteInteger(max);
        }
    }

    private static void LatencyHistory(Session s, ArgList a)
    {
        string name = a.GetString(2);
        var samples = s.Server.Telemetry.Latency.Snapshot().FirstOrDefault(e => e.Name == name).Samples ?? [];
        s.Reply.WriteArrayHeader(samples.Length);
        foreach (var sample in samples)
        {
            s.Reply.WriteArrayHeader(2);
            s.Reply.WriteInteger(sample.UnixSeconds);
            s.Reply.WriteInteger(sample.Milliseconds);
        }
    }

    private static void LatencyReset(Session s, ArgList a)
    {
        var names = new List<string>();
        for (int i = 2; i < a.Count; i++)
        {
            names.Add(a.GetString(i));
        }
        s.Reply.WriteInteger(s.Server.Telemetry.Latency.Reset(names));
    }

    /// <summary>Redis's latencyCommandGenSparkeline: the event's samples, oldest first, as an 80-column, 4-row sparkline.</summary>
    private static void LatencyGraph(Session s, ArgList a)
    {
        string name = a.GetString(2);
        var history = s.Server.Telemetry.Latency.Snapshot().FirstOrDefault(e => e.Name == name);
        if (history.Name is null)
        {
            s.Reply.WriteError($"ERR No samples available for event '{name}'");
            return;
        }
        var samples = history.Samples;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var sequence = new Sparkline();
        foreach (var sample in samples)
        {
            long elapsed = now - sample.UnixSeconds;
            string label = elapsed switch
            {
                < 60 => $"{elapsed}s",
                < 3600 => $"{elapsed / 60}m",
                < 3600 * 24 => $"{elapsed / 3600}h",
                _ => $"{elapsed / (3600 * 24)}d",
            };
            sequence.Add(sample.Milliseconds, label);
        }
        long high = samples.Length == 0 ? 0 : samples.Max(x => x.Milliseconds);
        long low = samples.Length == 0 ? 0 : samples.Min(x => x.Milliseconds);
        var graph = new StringBuilder();
        graph.Append(CultureInfo.InvariantCulture, $"{name} - high {high} ms, low {low} ms (all time high {history.Max} ms)\n");
        graph.Append('-', Sparkline.LatencyGraphColumns).Append('\n');
        sequence.Render(graph, Sparkline.LatencyGraphColumns, 4, fill: true);
        s.Reply.WriteVerbatim(graph.ToString());
    }

    /// <summary>
    /// The cumulative latency distribution of the named commands (all tracked ones when none is named), as Redis's
    /// latencySpecificCommandsFillCDF: unknown names are skipped, a container brings its subcommands, a name given
    /// twice is answered twice.
    /// </summary>
    private static void LatencyHistogram(Session s, ArgList a)
    {
        var commands = new List<CommandSpec>();
        void AddWithSubcommands(CommandSpec spec)
        {
            commands.Add(spec);
            commands.AddRange(spec.Subcommands);
        }
        if (a.Count == 2)
        {
            foreach (var spec in s.Server.Commands.All)
            {
                AddWithSubcommands(spec);
            }
        }
        for (int i = 2; i < a.Count; i++)
        {
            if (s.Server.Commands.FindByFullName(a[i]) is { } spec)
            {
                AddWithSubcommands(spec);
            }
        }
        commands.RemoveAll(c => c.Stats.Latency is null);
        s.Reply.WriteMapHeader(commands.Count);
        foreach (var command in commands)
        {
            var histogram = command.Stats.Latency!;
            s.Reply.WriteBulk(command.Name);
            s.Reply.WriteMapHeader(2);
            s.Reply.WriteBulk("calls");
            s.Reply.WriteInteger(histogram.TotalCount);
            s.Reply.WriteBulk("histogram_usec");
            var buckets = histogram.CumulativeBuckets();
            s.Reply.WriteMapHeader(buckets.Count);
            foreach (var (micros, cumulative) in buckets)
            {
                s.Reply.WriteInteger(micros);
                s.Reply.WriteInteger(cumulative);
            }
        }
    }

    private static void LatencyDoctor(Session s, ArgList a)
    {
        if (s.Server.Config.LatencyMonitorThreshold.Number == 0)
        {
            s.Reply.WriteVerbatim("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n");
            return;
        }
        var events = s.Server.Telemetry.Latency.Snapshot();
        if (events.Count == 0)
        {
            s.Reply.WriteVerbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep a little.\n");
            return;
        }
        var text = new StringBuilder("Latency events observed:\n\n");
        int n = 1;
        foreach (var (name, samples, max) in events)
        {
            double average = samples.Length == 0 ? 0 : samples.Average(x => x.Milliseconds);
            text.Append(CultureInfo.InvariantCulture, $"{n++}. {name}: {samples.Length} latency spikes (average {average:F0}ms, worst {max}ms).\n");
        }
        text.Append("\nSLOWLOG GET shows which commands were slow; large values, big collections and O(N) commands are the usual cause.\n");
        s.Reply.WriteVerbatim(text.ToString());
    }

    private static void LatencyHelp(Session s, ArgList a) => HelpReply.Write(s, "LATENCY",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.");
}
