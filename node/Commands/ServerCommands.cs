using System.Globalization;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The server family: INFO, CONFIG, COMMAND, TIME, DEBUG, SHUTDOWN.</summary>
internal static class ServerCommands
{
    private const CommandFlags AdminFlags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags Introspection = CommandFlags.Loading | CommandFlags.Stale;

    public static IEnumerable<CommandSpec> All =>
    [
        new("shutdown", -1, Shutdown)
        {
            Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Acl = "@admin @slow @dangerous",
            Summary = "Synchronously saves the database(s) to disk and shuts down the Redis server.", Complexity = "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
            Syntax = "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]",
        },
        new("info", -1, Info)
        {
            Flags = Introspection, Acl = "@slow @dangerous", Summary = "Returns information and statistics about the server.", Complexity = "O(1)",
            Tips = "nondeterministic_output request_policy:all_shards response_policy:special",
            Syntax = "[section [section ...]]",
        },
        new("monitor", 1, Monitor)
        {
            Flags = AdminFlags, Acl = "@admin @slow @dangerous", Summary = "Listens for all requests received by the server in real-time.",
        },
        new("time", 1, Time)
        {
            Flags = Introspection | CommandFlags.Fast, Acl = "@fast", Since = "2.6.0", Summary = "Returns the server time.", Complexity = "O(1)",
            Tips = "nondeterministic_output",
        },
        new("debug", -2, Debug)
        {
            Flags = AdminFlags, Acl = "@admin @slow @dangerous", Summary = "A container for debugging commands.", Complexity = "Depends on subcommand.",
            Syntax = "subcommand [argument [argument ...]]",
        },
        new("config", -2, null)
        {
            Acl = "@slow", Since = "2.0.0", Summary = "A container for server configuration commands.", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("config|get", -3, ConfigGet)
                {
                    Flags = AdminFlags, Acl = "@admin @slow @dangerous", Since = "2.0.0", Summary = "Returns the effective values of configuration parameters.",
                    Complexity = "O(N) when N is the number of configuration parameters provided", Syntax = "parameter [parameter ...]",
                },
                new("config|set", -4, ConfigSet)
                {
                    Flags = AdminFlags, Acl = "@admin @slow @dangerous", Since = "2.0.0", Summary = "Sets configuration parameters in-flight.",
                    Tips = "request_policy:all_nodes response_policy:all_succeeded",
                    Complexity = "O(N) when N is the number of configuration parameters provided", Syntax = "parameter value [parameter value ...]",
                },
                new("config|resetstat", 2, ConfigResetStat)
                {
                    Flags = AdminFlags, Acl = "@admin @slow @dangerous", Since = "2.0.0", Summary = "Resets the server's statistics.", Complexity = "O(1)",
                },
                new("config|rewrite", 2, ConfigRewrite)
                {
                    Flags = AdminFlags, Acl = "@admin @slow @dangerous", Since = "2.8.0",
                    Summary = "Rewrite the configuration file with the in memory configuration", Complexity = "O(1)",
                },
                new("config|help", 2, ConfigHelp)
                {
                    Flags = Introspection, Acl = "@slow", Since = "5.0.0", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)",
                },
            ],
        },
        new("command", -1, CommandAll)
        {
            Flags = Introspection, Acl = "@slow @connection", Since = "2.8.13", Summary = "Returns detailed information about all commands.", Tips = "nondeterministic_output_order",
            Complexity = "O(N) where N is the total number of Redis commands",
            Subcommands =
            [
                new("command|count", 2, CommandCount)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "2.8.13", Summary = "Returns a count of commands.", Complexity = "O(1)",
                },
                new("command|info", -2, CommandInfo)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "2.8.13", Summary = "Returns information about one, multiple or all commands.", Tips = "nondeterministic_output_order",
                    Complexity = "O(N) where N is the number of commands to look up", Syntax = "[command-name [command-name ...]]",
                },
                new("command|docs", -2, CommandDocsCommand)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "7.0.0", Summary = "Returns documentary information about one, multiple or all commands.", Tips = "nondeterministic_output_order",
                    Complexity = "O(N) where N is the number of commands to look up", Syntax = "[command-name [command-name ...]]",
                },
                new("command|list", -2, CommandList)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "7.0.0", Summary = "Returns a list of command names.", Tips = "nondeterministic_output_order",
                    Complexity = "O(N) where N is the total number of Redis commands", Syntax = "[FILTERBY <MODULE module-name | ACLCAT category | PATTERN pattern>]",
                },
                new("command|getkeys", -4, CommandGetKeys)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "2.8.13", Summary = "Extracts the key names from an arbitrary command.",
                    Complexity = "O(N) where N is the number of arguments to the command", Syntax = "command [arg [arg ...]]",
                },
                new("command|getkeysandflags", -4, CommandGetKeysAndFlags)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "7.0.0", Summary = "Extract keys and access flags given a full Redis command",
                    Complexity = "O(N) where N is the number of arguments to the command",
                },
                new("command|help", 2, CommandHelp)
                {
                    Flags = Introspection, Acl = "@slow @connection", Since = "5.0.0", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)",
                },
            ],
        },
    ];

    private static void Shutdown(Session s, ArgList a)
    {
        bool noSave = false, save = false, force = false, abort = false;
        for (int i = 1; i < a.Count; i++)
        {
            if (a.Is(i, "NOSAVE"u8))
            {
                noSave = true;
            }
            else if (a.Is(i, "SAVE"u8))
            {
                save = true;
            }
            else if (a.Is(i, "FORCE"u8))
            {
                force = true;
            }
            else if (a.Is(i, "ABORT"u8))
            {
                abort = true;
            }
            else if (!a.Is(i, "NOW"u8))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if ((abort && a.Count > 2) || (noSave && save))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (abort)
        {
            s.Reply.WriteError("ERR No shutdown in progress.");
            return;
        }
        // As Redis's prepareForShutdown: save when asked, or unless NOSAVE when save rules are set; FORCE goes on after a failed save.
        if (!s.Server.Snapshots.SaveBeforeShutdown(save ? true : noSave ? false : null) && !force)
        {
            s.Reply.WriteError("ERR Errors trying to SHUTDOWN. Check logs.");
            return;
        }
        // Redis answers nothing on success: the connection just closes.
        s.CloseAfterReply = true;
        s.Server.RequestShutdown($"SHUTDOWN from client id={s.Id}");
    }

    private static void Info(Session s, ArgList a)
    {
        var sections = new List<string>(a.Count - 1);
        for (int i = 1; i < a.Count; i++)
        {
            sections.Add(a.GetString(i));
        }
        s.Reply.WriteVerbatim(ServerInfo.Build(s.Server, sections));
    }

    /// <summary>MONITOR: from now on the client gets a line per command any client runs (see <see cref="MonitorFeed"/>).</summary>
    private static void Monitor(Session s, ArgList a)
    {
        if (s.DenyBlocking)
        {
            // A client that expects a reply per command (inside EXEC) cannot turn into a stream.
            s.Reply.WriteError("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        if (s.IsMonitor)
        {
            return;
        }
        s.Server.Monitors.Add(s);
        s.Reply.WriteOk();
    }

    private static void Time(Session s, ArgList a)
    {
        long micros = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        s.Reply.WriteArrayHeader(2);
        s.Reply.WriteBulkInteger(micros / 1_000_000);
        s.Reply.WriteBulkInteger(micros % 1_000_000);
    }

    private static void Debug(Session s, ArgList a)
    {
        string allowed = s.Server.Config.EnableDebugCommand.Text;
        bool local = s.RemoteAddress.StartsWith("127.", StringComparison.Ordinal) || s.RemoteAddress.StartsWith("::1:", StringComparison.Ordinal);
        if (!(allowed == "yes" || (allowed == "local" && local)))
        {
            s.Reply.WriteError("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.");
            return;
        }
        if (a.Count == 2 && a.Is(1, "HELP"u8))
        {
            HelpReply.Write(s, "DEBUG",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.");
            return;
        }
        if (a.Count == 3 && a.Is(1, "SET-ACTIVE-EXPIRE"u8))
        {
            // As Redis's atoi: anything but a non-zero number turns the cycle off.
            s.Keyspace.ActiveExpiryEnabled = NumberFormat.TryParseInt64(a[2], out long on) && on != 0;
            s.Reply.WriteOk();
            return;
        }
        if (a.Count == 3 && a.Is(1, "SLEEP"u8))
        {
            // Like Redis: strtod semantics (garbage reads as 0), and the whole server stops, since the keyspace lock is held.
            NumberFormat.TryParseDouble(a[2], out double seconds);
            if (seconds > 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue / 1000.0)));
            }
            s.Reply.WriteOk();
            return;
        }
        s.Reply.WriteError($"ERR Unknown subcommand or wrong number of arguments for '{a.GetString(1)}'. Try DEBUG HELP.");
    }

    /// <summary>
    /// As Redis 7.0: an alias is a name of its own, so a pattern matching a directive and its alias answers
    /// both; a plain name answers under the spelling the client used; each name answers once.
    /// </summary>
    private static void ConfigGet(Session s, ArgList a)
    {
        var found = new List<(string Registered, string Shown, Configuration.Directive Directive)>();
        for (int i = 2; i < a.Count; i++)
        {
            var pattern = a[i];
            if (pattern.IndexOfAny("*?["u8) < 0)
            {
                string name = a.GetString(i);
                if (s.Server.Config.TryFind(name, out var named, out string registered) && !found.Any(f => f.Registered == registered))
                {
                    found.Add((registered, name, named));
                }
                continue;
            }
            foreach (var (name, directive) in s.Server.Config.Names)
            {
                if (!found.Any(f => f.Registered == name) && Glob.IsMatch(pattern, Encoding.ASCII.GetBytes(name), ignoreCase: true))
                {
                    found.Add((name, name, directive));
                }
            }
        }
        s.Reply.WriteMapHeader(found.Count);
        foreach (var (_, shown, directive) in found)
        {
            s.Reply.WriteBulk(shown);
            s.Reply.WriteBulk(directive.Text);
        }
    }

    /// <summary>
    /// Sets every pair or none: names are checked first, then values, and only then applied. A directive and its
    /// alias are different names to Redis (no "duplicate parameter"; the later one wins).
    /// </summary>
    private static void ConfigSet(Session s, ArgList a)
    {
        if ((a.Count & 1) != 0)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var pairs = new List<(Configuration.Directive Directive, string Registered, string Value)>();
        for (int i = 2; i < a.Count; i += 2)
        {
            string name = a.GetString(i);
            if (!s.Server.Config.TryFind(name, out var directive, out string registered))
            {
                s.Reply.WriteError($"ERR Unknown option or number of arguments for CONFIG SET - '{name}'");
                return;
            }
            if (!directive.Mutable)
            {
                s.Reply.WriteError(ConfigSetFailed(name, "can't set immutable config"));
                return;
            }
            if (pairs.Any(p => p.Registered == registered))
            {
                s.Reply.WriteError(ConfigSetFailed(name, "duplicate parameter"));
                return;
            }
            pairs.Add((directive, registered, a.GetString(i + 1)));
        }
        foreach (var (directive, registered, value) in pairs)
        {
            if (directive.Validate(value) is { } error)
            {
                // Redis names the directive as registered here (an alias stays the alias), but as typed in the earlier checks.
                s.Reply.WriteError(ConfigSetFailed(registered, error));
                return;
            }
        }
        foreach (var (directive, _, value) in pairs)
        {
            directive.Set(value);
        }
        s.Reply.WriteOk();
    }

    private static string ConfigSetFailed(string name, string reason) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}";

    /// <summary>Zeroes command statistics, server counters and keyspace hits and misses, as Redis's resetServerStats.</summary>
    private static void ConfigResetStat(Session s, ArgList a)
    {
        foreach (var command in s.Server.Commands.All)
        {
            ResetStats(command.Stats);
            foreach (var sub in command.Subcommands)
            {
                ResetStats(sub.Stats);
            }
        }
        s.Server.Stats.Reset(s.Server.Clients.Sum(c => c.Reply.BytesWritten));
        s.Server.Replicator.ResetStats();
        s.Keyspace.Hits = 0;
        s.Keyspace.Misses = 0;
        s.Keyspace.ExpiredKeys = 0;
        s.Keyspace.EvictedKeys = 0;
        s.Server.Memory.ResetPeak();
        s.Reply.WriteOk();
    }

    private static void ResetStats(CommandStats stats)
    {
        stats.Calls = 0;
        stats.Microseconds = 0;
        stats.RejectedCalls = 0;
        stats.FailedCalls = 0;
        stats.Latency = null;
    }

    private static void ConfigRewrite(Session s, ArgList a)
    {
        var config = s.Server.Config;
        if (config.ConfigFile is not { } path)
        {
            s.Reply.WriteError("ERR The server is running without a config file");
            return;
        }
        // Redis writes the master the node follows now (REPLICAOF at run time), and none in cluster mode.
        var link = s.Server.Cluster is null ? s.Server.Replicator.Link : null;
        IReadOnlyList<RewriteLine> replicaOf = link is null ? [] : [new($"replicaof {link.Host} {link.Port}", true)];
        if (ConfigRewriter.RewriteFile(path, config, new Dictionary<Directive, IReadOnlyList<RewriteLine>> { [config.ReplicaOf] = replicaOf }) is { } error)
        {
            s.Server.Log.Event(LogLevel.Warning, "config_rewrite_failed", "CONFIG REWRITE failed", ("file", path), ("error", error));
            s.Reply.WriteError("ERR Rewriting config file: " + error);
            return;
        }
        s.Server.Log.Event(LogLevel.Notice, "config_rewritten", "CONFIG REWRITE executed with success", ("file", path));
        s.Reply.WriteOk();
    }

    private static void ConfigHelp(Session s, ArgList a) => HelpReply.Write(s, "CONFIG",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.");

    private static void CommandAll(Session s, ArgList a)
    {
        s.Reply.WriteArrayHeader(s.Server.Commands.Count);
        foreach (var spec in s.Server.Commands.All)
        {
            CommandDocs.WriteInfo(s.Reply, spec);
        }
    }

    private static void CommandCount(Session s, ArgList a) => s.Reply.WriteInteger(s.Server.Commands.Count);

    private static void CommandInfo(Session s, ArgList a)
    {
        if (a.Count == 2)
        {
            CommandAll(s, a);
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int i = 2; i < a.Count; i++)
        {
            if (s.Server.Commands.FindByFullName(a[i]) is { } spec)
            {
                CommandDocs.WriteInfo(s.Reply, spec);
            }
            else
            {
                s.Reply.WriteNullArray();
            }
        }
    }

    private static void CommandDocsCommand(Session s, ArgList a)
    {
        var specs = new List<CommandSpec>();
        if (a.Count == 2)
        {
            specs.AddRange(s.Server.Commands.All);
        }
        for (int i = 2; i < a.Count; i++)
        {
            if (s.Server.Commands.FindByFullName(a[i]) is { } spec)
            {
                specs.Add(spec);
            }
        }
        s.Reply.WriteMapHeader(specs.Count);
        foreach (var spec in specs)
        {
            s.Reply.WriteBulk(spec.Name);
            CommandDocs.WriteDocs(s.Reply, spec);
        }
    }

    private static void CommandList(Session s, ArgList a)
    {
        Func<CommandSpec, bool> filter = _ => true;
        if (a.Count == 5 && a.Is(2, "FILTERBY"u8))
        {
            string value = a.GetString(4);
            if (a.Is(3, "MODULE"u8))
            {
                filter = _ => false;
            }
            else if (a.Is(3, "ACLCAT"u8))
            {
                filter = spec => CommandDocs.AclCategories(spec).Contains("@" + value.ToLowerInvariant());
            }
            else if (a.Is(3, "PATTERN"u8))
            {
                var pattern = Encoding.UTF8.GetBytes(value);
                filter = spec => Glob.IsMatch(pattern, Encoding.ASCII.GetBytes(spec.Name), ignoreCase: true);
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        else if (a.Count != 2)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var names = new List<string>();
        foreach (var spec in s.Server.Commands.All)
        {
            names.AddRange(new[] { spec }.Concat(spec.Subcommands).Where(filter).Select(c => c.Name));
        }
        s.Reply.WriteArrayHeader(names.Count);
        foreach (var name in names)
        {
            s.Reply.WriteBulk(name);
        }
    }

    /// <summary>COMMAND GETKEYS: the keys of a full command line, as the key extractor finds them.</summary>
    private static void CommandGetKeys(Session s, ArgList a) => WriteKeysOf(s, a, withFlags: false);

    /// <summary>COMMAND GETKEYSANDFLAGS: each key with its key-spec flags.</summary>
    private static void CommandGetKeysAndFlags(Session s, ArgList a) => WriteKeysOf(s, a, withFlags: true);

    /// <summary>Redis's getKeysSubcommandImpl: the command (or subcommand) first, then whether it has keys, then its arity.</summary>
    private static void WriteKeysOf(Session s, ArgList a, bool withFlags)
    {
        var spec = s.Server.Commands.Find(a[2]);
        int count = a.Count - 2;
        if (spec is not null && spec.Subcommands.Count > 0 && count >= 2)
        {
            spec = CommandTable.FindSubcommand(spec, a[3]);
        }
        if (spec is null)
        {
            s.Reply.WriteError("ERR Invalid command specified");
            return;
        }
        if (!KeyExtractor.HasKeys(spec))
        {
            s.Reply.WriteError("ERR The command has no key arguments");
            return;
        }
        if (spec.Arity > 0 ? count != spec.Arity : count < -spec.Arity)
        {
            s.Reply.WriteError("ERR Invalid number of arguments specified for command");
            return;
        }
        var keys = new KeyBuffer();
        int found = KeyExtractor.GetKeys(spec, new CommandLine(a, 2), keys);
        if (found == 0 && (spec.Flags & CommandFlags.NoMandatoryKeys) != 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        if (found == 0)
        {
            s.Reply.WriteError("ERR Invalid arguments specified for command");
            return;
        }
        s.Reply.WriteArrayHeader(found);
        for (int i = 0; i < found; i++)
        {
            var key = a[keys[i].Position + 2];
            if (!withFlags)
            {
                s.Reply.WriteBulk(key);
                continue;
            }
            s.Reply.WriteArrayHeader(2);
            s.Reply.WriteBulk(key);
            CommandDocs.WriteKeyFlags(s.Reply, keys[i].Flags);
        }
    }

    private static void CommandHelp(Session s, ArgList a) => HelpReply.Write(s, "COMMAND",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.");
}
