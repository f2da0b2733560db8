using CacheOperator.Node.Protocol;
using CacheOperator.Node.Scripting;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The scripting family: EVAL, EVALSHA and their read-only forms, and SCRIPT, on the node's Lua 5.1 engine; FCALL and FUNCTION in ScriptingCommands.Functions.cs.</summary>
internal static partial class ScriptingCommands
{
    private const CommandFlags Eval = CommandFlags.NoScript | CommandFlags.Stale | CommandFlags.SkipMonitor | CommandFlags.MovableKeys | CommandFlags.NoMandatoryKeys;

    public static IEnumerable<CommandSpec> All =>
    [
        EvalSpec("eval", "script", "Execute a Lua script server side", readOnly: false, bySha: false),
        EvalSpec("evalsha", "sha1", "Execute a Lua script server side", readOnly: false, bySha: true),
        EvalSpec("eval_ro", "script", "Execute a read-only Lua script server side", readOnly: true, bySha: false),
        EvalSpec("evalsha_ro", "sha1", "Execute a read-only Lua script server side", readOnly: true, bySha: true),
        new("script", -2, null)
        {
            Acl = "@slow", Since = "2.6.0", Complexity = "Depends on subcommand.", Summary = "A container for Lua scripts management commands",
            Subcommands =
            [
                new("script|load", 3, ScriptLoad)
                {
                    Flags = CommandFlags.NoScript | CommandFlags.Stale, Acl = "@slow @scripting", Since = "2.6.0", Syntax = "script",
                    Tips = "request_policy:all_nodes response_policy:all_succeeded",
                    Summary = "Load the specified Lua script into the script cache.", Complexity = "O(N) with N being the length in bytes of the script body.",
                },
                new("script|kill", 2, ScriptKill)
                {
                    Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Acl = "@slow @scripting", Since = "2.6.0",
                    Tips = "request_policy:all_shards response_policy:one_succeeded",
                    Summary = "Kill the script currently in execution.", Complexity = "O(1)",
                },
                new("script|flush", -2, ScriptFlush)
                {
                    Flags = CommandFlags.NoScript, Acl = "@slow @scripting", Since = "2.6.0", Syntax = "[ASYNC | SYNC]",
                    Tips = "request_policy:all_nodes response_policy:all_succeeded",
                    Summary = "Remove all the scripts from the script cache.", Complexity = "O(N) with N being the number of scripts in cache",
                },
                new("script|exists", -3, ScriptExists)
                {
                    Flags = CommandFlags.NoScript, Acl = "@slow @scripting", Since = "2.6.0", Syntax = "sha1 [sha1 ...]",
                    Tips = "request_policy:all_shards response_policy:agg_logical_and",
                    Summary = "Check existence of scripts in the script cache.", Complexity = "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
                },
                new("script|help", 2, ScriptHelp)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @scripting", Since = "5.0.0", Complexity = "O(1)",
                    Summary = "Show helpful text about the different subcommands",
                },
            ],
        },
        .. FunctionSpecs,
    ];

    private static CommandSpec EvalSpec(string name, string first, string summary, bool readOnly, bool bySha) =>
        new(name, -3, (s, a) => Run(s, a, readOnly, bySha))
        {
            Flags = Eval | (readOnly ? CommandFlags.ReadOnly : 0),
            KeySpecs = [KeySpec.KeyNum(readOnly ? "RO access" : "RW access update", 2) with
            {
                Notes = bySha ? null : $"We cannot tell how the keys will be used so we assume the worst, {(readOnly ? "RO and ACCESS" : "RW and UPDATE")}",
            }],
            GetKeysProcedure = KeyExtractor.NumKeys(0, 2, 3),
            MonitoredFirst = true,
            FlagsWith = (s, a) => EvalFlags(s, a, Eval | (readOnly ? CommandFlags.ReadOnly : 0), bySha),
            Acl = "@slow @scripting",
            Since = readOnly ? "7.0.0" : "2.6.0",
            Summary = summary,
            Complexity = "Depends on the script that is executed.",
            Syntax = $"{first} numkeys [key [key ...]] [arg [arg ...]]",
        };

    /// <summary>
    /// Redis's evalGetCommandFlags: a script with a shebang (the cached script's for EVALSHA) has its flags decide
    /// whether it writes, is refused over maxmemory and runs on a stale replica; a script without one keeps EVAL's.
    /// </summary>
    private static CommandFlags EvalFlags(Session s, ArgList a, CommandFlags flags, bool bySha)
    {
        if (a.Count < 2)
        {
            return flags;
        }
        ScriptFlags script;
        if (bySha)
        {
            if (!s.Server.Scripts.TryGetFlags(a[1], out script))
            {
                return flags;
            }
        }
        else if (!ScriptFlags.TryParse(a[1], out script, out _, out _))
        {
            return flags;
        }
        return script.Declared ? WithScriptFlags(flags, script.Value) : flags;
    }

    /// <summary>
    /// The numkeys argument of EVAL and FCALL (a[2]) checked as Redis checks it; <paramref name="notANumber"/> differs
    /// between them (EVAL: not an integer, FCALL: "Bad number of keys provided"). Replies the error and returns false.
    /// </summary>
    private static bool TryReadNumKeys(Session s, ArgList a, string notANumber, out int numkeys)
    {
        numkeys = 0;
        if (!NumberFormat.TryParseInt64(a[2], out long parsed))
        {
            s.Reply.WriteError(notANumber);
            return false;
        }
        if (parsed > a.Count - 3)
        {
            s.Reply.WriteError("ERR Number of keys can't be greater than number of args");
            return false;
        }
        if (parsed < 0)
        {
            s.Reply.WriteError("ERR Number of keys can't be negative");
            return false;
        }
        numkeys = (int)parsed;
        return true;
    }

    /// <summary>Redis's evalGenericCommand: numkeys, the script (compiled if new), the checks of its flags, then the run.</summary>
    private static void Run(Session s, ArgList a, bool readOnly, bool bySha)
    {
        if (!TryReadNumKeys(s, a, Errors.NotInteger, out int numkeys))
        {
            return;
        }
        var engine = s.Server.Scripts;
        string? sha;
        if (bySha)
        {
            sha = a[1].Length == 40 ? Encoding.ASCII.GetString(a[1]).ToLowerInvariant() : null;
            if (sha is null || !engine.Exists(a[1]))
            {
                s.Reply.WriteError("NOSCRIPT No matching script. Please use EVAL.");
                return;
            }
        }
        else
        {
            sha = engine.Load(a[1], s.Reply);
            if (sha is null)
            {
                return;
            }
        }
        if (!FlagsAllow(s, engine.FlagsOf(sha), readOnly))
        {
            return;
        }
        int slot = numkeys > 0 && s.Server.Cluster is not null ? HashSlot.Of(a[3]) : -1;
        engine.Run(s, sha, a, 3, numkeys, readOnly, slot);
        // The script's commands were propagated one by one (in MULTI/EXEC when several); EVAL itself is not, nor counted dirty.
        s.Server.Propagator.Prevent();
        s.Keyspace.DeclaredChanges = 0;
    }

    /// <summary>Redis 7.0's scriptPrepareForRun checks of the shebang flags against the server's state.</summary>
    internal static bool FlagsAllow(Session s, ScriptFlags flags, bool readOnly)
    {
        var server = s.Server;
        bool stale = server.Replicator.Link is { IsUp: false } && !server.Config.ReplicaServeStaleData.IsOn && !s.IsMaster;
        if (!flags.Declared)
        {
            if (stale)
            {
                s.Reply.WriteError("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
                return false;
            }
            return true;
        }
        var value = flags.Value;
        if ((value & ScriptFlag.NoCluster) != 0 && server.Cluster is not null)
        {
            s.Reply.WriteError("ERR Can not run script on cluster, 'no-cluster' flag is set.");
            return false;
        }
        if ((value & (ScriptFlag.AllowOom | ScriptFlag.NoWrites)) == 0 && server.Config.MaxMemory.Number > 0 && !s.IsMaster && !server.Memory.Admit(DenyOomProbe))
        {
            s.Reply.WriteError("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'");
            return false;
        }
        if (stale && (value & ScriptFlag.AllowStale) == 0)
        {
            s.Reply.WriteError("MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.");
            return false;
        }
        if ((value & ScriptFlag.NoWrites) == 0)
        {
            if (server.Replicator.Link is not null && server.Config.ReplicaReadOnly.IsOn && !s.IsMaster)
            {
                s.Reply.WriteError("READONLY Can not run script with write flag on readonly replica");
                return false;
            }
            if (readOnly)
            {
                s.Reply.WriteError("ERR Can not execute a script with write flag using *_ro command.");
                return false;
            }
            if (server.Replicator.TooFewReplicas)
            {
                s.Reply.WriteError("NOREPLICAS Not enough good replicas to write.");
                return false;
            }
        }
        return true;
    }

    /// <summary>A deny-oom command, to ask the memory manager whether the node is over maxmemory.</summary>
    private static readonly CommandSpec DenyOomProbe = new("set", -3, null) { Flags = CommandFlags.Write | CommandFlags.DenyOom };

    private static void ScriptLoad(Session s, ArgList a)
    {
        if (s.Server.Scripts.Load(a[2], s.Reply) is { } sha)
        {
            s.Reply.WriteBulk(sha);
        }
    }

    private static void ScriptExists(Session s, ArgList a)
    {
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int i = 2; i < a.Count; i++)
        {
            s.Reply.WriteInteger(s.Server.Scripts.Exists(a[i]) ? 1 : 0);
        }
    }

    private static void ScriptFlush(Session s, ArgList a)
    {
        if (a.Count > 3 || (a.Count == 3 && !a.Is(2, "SYNC"u8) && !a.Is(2, "ASYNC"u8)))
        {
            s.Reply.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        s.Server.Scripts.Flush();
        s.Reply.WriteOk();
    }

    /// <summary>Here the lock is held, so no script runs: a busy script's SCRIPT KILL is answered by the connection path.</summary>
    private static void ScriptKill(Session s, ArgList a) => s.Reply.WriteError("NOTBUSY No scripts in execution right now.");

    private static void ScriptHelp(Session s, ArgList a) => HelpReply.Write(s, "SCRIPT",
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.");
}
