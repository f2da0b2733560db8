using System.Buffers;
using System.Buffers.Binary;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Scripting;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>Redis 7.0 functions: FCALL, FCALL_RO and FUNCTION (functions.c), on the engine that runs EVAL.</summary>
internal static partial class ScriptingCommands
{
    private const string ShardsAllSucceeded = "request_policy:all_shards response_policy:all_succeeded";

    private static IEnumerable<CommandSpec> FunctionSpecs =>
    [
        FcallSpec("fcall", "Invoke a function", readOnly: false),
        FcallSpec("fcall_ro", "Invoke a read-only function", readOnly: true),
        new("function", -2, null)
        {
            Acl = "@slow", Since = "7.0.0", Complexity = "Depends on subcommand.", Summary = "A container for function commands",
            Subcommands =
            [
                new("function|load", -3, FunctionLoad)
                {
                    Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.NoScript, Acl = "@write @slow @scripting", Since = "7.0.0",
                    Tips = ShardsAllSucceeded, Syntax = "[REPLACE] function-code",
                    Summary = "Create a function with the given arguments (name, code, description)", Complexity = "O(1) (considering compilation time is redundant)",
                },
                new("function|delete", 3, FunctionDelete)
                {
                    Flags = CommandFlags.Write | CommandFlags.NoScript, Acl = "@write @slow @scripting", Since = "7.0.0", Tips = ShardsAllSucceeded,
                    Syntax = "library-name", Summary = "Delete a function by name", Complexity = "O(1)",
                },
                new("function|flush", -2, FunctionFlush)
                {
                    Flags = CommandFlags.Write | CommandFlags.NoScript, Acl = "@write @slow @scripting", Since = "7.0.0", Tips = ShardsAllSucceeded,
                    Syntax = "[ASYNC | SYNC]", Summary = "Deleting all functions", Complexity = "O(N) where N is the number of functions deleted",
                },
                new("function|list", -2, FunctionList)
                {
                    Flags = CommandFlags.NoScript, Acl = "@slow @scripting", Since = "7.0.0", Tips = "nondeterministic_output_order",
                    Syntax = "[LIBRARYNAME library-name-pattern] [WITHCODE]", Summary = "List information about all the functions",
                    Complexity = "O(N) where N is the number of functions",
                },
                new("function|dump", 2, FunctionDump)
                {
                    Flags = CommandFlags.NoScript, Acl = "@slow @scripting", Since = "7.0.0",
                    Summary = "Dump all functions into a serialized binary payload", Complexity = "O(N) where N is the number of functions",
                },
                new("function|restore", -3, FunctionRestore)
                {
                    Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.NoScript, Acl = "@write @slow @scripting", Since = "7.0.0",
                    Tips = ShardsAllSucceeded, Syntax = "serialized-value [FLUSH | APPEND | REPLACE]",
                    Summary = "Restore all the functions on the given payload", Complexity = "O(N) where N is the number of functions on the payload",
                },
                new("function|stats", 2, FunctionStats)
                {
                    Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Acl = "@slow @scripting", Since = "7.0.0",
                    Tips = "nondeterministic_output request_policy:all_shards response_policy:special",
                    Summary = "Return information about the function currently running (name, description, duration)", Complexity = "O(1)",
                },
                new("function|kill", 2, FunctionKill)
                {
                    Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Acl = "@slow @scripting", Since = "7.0.0",
                    Tips = "request_policy:all_shards response_policy:one_succeeded",
                    Summary = "Kill the function currently in execution.", Complexity = "O(1)",
                },
                new("function|help", 2, FunctionHelp)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow @scripting", Since = "7.0.0", Complexity = "O(1)",
                    Summary = "Show helpful text about the different subcommands",
                },
            ],
        },
    ];

    private static CommandSpec FcallSpec(string name, string summary, bool readOnly) =>
        new(name, -3, (s, a) => Fcall(s, a, readOnly))
        {
            Flags = Eval | (readOnly ? CommandFlags.ReadOnly : 0),
            KeySpecs = [KeySpec.KeyNum(readOnly ? "RO access" : "RW access update", 2) with
            {
                Notes = $"We cannot tell how the keys will be used so we assume the worst, {(readOnly ? "RO and ACCESS" : "RW and UPDATE")}",
            }],
            GetKeysProcedure = KeyExtractor.NumKeys(0, 2, 3),
            MonitoredFirst = true,
            FlagsWith = (s, a) => FcallFlags(s, a, Eval | (readOnly ? CommandFlags.ReadOnly : 0)),
            Acl = "@slow @scripting",
            Since = "7.0.0",
            Summary = summary,
            Complexity = "Depends on the function that is executed.",
            Syntax = "function numkeys [key [key ...]] [arg [arg ...]]",
        };

    /// <summary>
    /// Redis's fcallGetCommandFlags and scriptFlagsToCmdFlags: a function's flags decide whether FCALL writes, is refused
    /// over maxmemory and runs on a stale replica (without its function, FCALL's own flags).
    /// </summary>
    private static CommandFlags FcallFlags(Session s, ArgList a, CommandFlags flags) =>
        a.Count >= 2 && s.Server.Functions.Find(a[1]) is { } function ? WithScriptFlags(flags, function.Flags) : flags;

    /// <summary>Redis's scriptFlagsToCmdFlags: the command's write, deny-oom and stale flags replaced by the script's.</summary>
    private static CommandFlags WithScriptFlags(CommandFlags flags, ScriptFlag script)
    {
        flags &= ~(CommandFlags.Stale | CommandFlags.DenyOom | CommandFlags.Write);
        if ((script & (ScriptFlag.AllowOom | ScriptFlag.NoWrites)) == 0)
        {
            flags |= CommandFlags.DenyOom;
        }
        if ((script & ScriptFlag.NoWrites) == 0)
        {
            flags |= CommandFlags.Write;
        }
        if ((script & ScriptFlag.AllowStale) != 0)
        {
            flags |= CommandFlags.Stale;
        }
        return flags;
    }

    /// <summary>Redis's fcallCommandGeneric: the function, numkeys, the checks of its flags, then the run as EVAL's.</summary>
    private static void Fcall(Session s, ArgList a, bool readOnly)
    {
        var function = s.Server.Functions.Find(a[1]);
        if (function is null)
        {
            s.Reply.WriteError("ERR Function not found");
            return;
        }
        if (!TryReadNumKeys(s, a, "ERR Bad number of keys provided", out int numkeys))
        {
            return;
        }
        if (!FlagsAllow(s, new ScriptFlags(true, function.Flags), readOnly))
        {
            return;
        }
        int slot = numkeys > 0 && s.Server.Cluster is not null ? HashSlot.Of(a[3]) : -1;
        s.Server.Scripts.RunFunction(s, function.RegistryKey, function.Name, function.Flags, a, 3, numkeys, readOnly, slot);
        // As EVAL: the function's commands were propagated as its effects; FCALL itself is not, nor counted dirty.
        s.Server.Propagator.Prevent();
        s.Keyspace.DeclaredChanges = 0;
    }

    /// <summary>A change of the libraries: replicated as the command itself and counted dirty once (Redis's server.dirty++).</summary>
    private static void LibrariesChanged(Session s)
    {
        s.Server.Propagator.Force();
        s.Keyspace.DeclaredChanges = 1;
    }

    private static void FunctionLoad(Session s, ArgList a)
    {
        bool replace = false;
        int position = 2;
        while (position < a.Count - 1)
        {
            if (!a.Is(position, "REPLACE"u8))
            {
                s.Reply.WriteError($"ERR Unknown option given: {a.GetString(position)}");
                return;
            }
            replace = true;
            position++;
        }
        // A master's stream loads without the time limit (Redis's mustObeyClient).
        long timeout = s.IsMaster ? 0 : FunctionLibraries.LoadTimeoutMs;
        if (s.Server.Functions.Load(a[position].ToArray(), replace, timeout, out string? error) is not { } name)
        {
            s.Reply.WriteError(error!);
            return;
        }
        LibrariesChanged(s);
        s.Reply.WriteBulk(name);
    }

    private static void FunctionDelete(Session s, ArgList a)
    {
        if (!s.Server.Functions.Delete(a[2]))
        {
            s.Reply.WriteError("ERR Library not found");
            return;
        }
        LibrariesChanged(s);
        s.Reply.WriteOk();
    }

    private static void FunctionFlush(Session s, ArgList a)
    {
        if (a.Count > 3)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        if (a.Count == 3 && !a.Is(2, "SYNC"u8) && !a.Is(2, "ASYNC"u8))
        {
            s.Reply.WriteError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        s.Server.Functions.Flush();
        LibrariesChanged(s);
        s.Reply.WriteOk();
    }

    /// <summary>FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], each option once, as Redis's functionListCommand.</summary>
    private static void FunctionList(Session s, ArgList a)
    {
        bool withCode = false;
        byte[]? pattern = null;
        for (int i = 2; i < a.Count; i++)
        {
            if (!withCode && a.Is(i, "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }
            if (pattern is null && a.Is(i, "LIBRARYNAME"u8))
            {
                if (i >= a.Count - 1)
                {
                    s.Reply.WriteError("ERR library name argument was not given");
                    return;
                }
                pattern = a[++i].ToArray();
                continue;
            }
            s.Reply.WriteError($"ERR Unknown argument {a.GetString(i)}");
            return;
        }
        var libraries = s.Server.Functions.Libraries
            .Where(l => pattern is null || Glob.IsMatch(pattern, Encoding.UTF8.GetBytes(l.Name), ignoreCase: true))
            .ToList();
        var reply = s.Reply;
        reply.WriteArrayHeader(libraries.Count);
        foreach (var library in libraries)
        {
            reply.WriteMapHeader(withCode ? 4 : 3);
            reply.WriteBulk("library_name"u8);
            reply.WriteBulk(library.Name);
            reply.WriteBulk("engine"u8);
            reply.WriteBulk("LUA"u8);
            reply.WriteBulk("functions"u8);
            reply.WriteArrayHeader(library.Functions.Count);
            foreach (var function in library.Functions)
            {
                reply.WriteMapHeader(3);
                reply.WriteBulk("name"u8);
                reply.WriteBulk(function.Name);
                reply.WriteBulk("description"u8);
                if (function.Description is { } description)
                {
                    reply.WriteBulk(description);
                }
                else
                {
                    reply.WriteNullBulk();
                }
                reply.WriteBulk("flags"u8);
                WriteFlags(reply, function.Flags);
            }
            if (withCode)
            {
                reply.WriteBulk("library_code"u8);
                reply.WriteBulk(library.Code);
            }
        }
    }

    /// <summary>The flags as a set of status strings, in Redis's scripts_flags_def order.</summary>
    private static void WriteFlags(ReplyWriter reply, ScriptFlag flags)
    {
        (ScriptFlag Flag, string Name)[] names =
        [
            (ScriptFlag.NoWrites, "no-writes"), (ScriptFlag.AllowOom, "allow-oom"), (ScriptFlag.AllowStale, "allow-stale"),
            (ScriptFlag.NoCluster, "no-cluster"), (ScriptFlag.AllowCrossSlotKeys, "allow-cross-slot-keys"),
        ];
        reply.WriteSetHeader(names.Count(n => (flags & n.Flag) != 0));
        foreach (var (flag, name) in names)
        {
            if ((flags & flag) != 0)
            {
                reply.WriteSimple(name);
            }
        }
    }

    /// <summary>FUNCTION DUMP: each library's code after RDB_OPCODE_FUNCTION2, then RDB version and CRC64, as DUMP's payloads.</summary>
    private static void FunctionDump(Session s, ArgList a) => s.Reply.WriteBulk(DumpLibraries(s.Server.Functions));

    /// <summary>The FUNCTION DUMP payload of the libraries loaded.</summary>
    internal static byte[] DumpLibraries(FunctionLibraries functions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var library in functions.Libraries)
        {
            buffer.GetSpan(1)[0] = RdbOpcode.Function2;
            buffer.Advance(1);
            RdbObjectWriter.WriteString(buffer, library.Code);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.GetSpan(2), DumpPayload.RdbVersion);
        buffer.Advance(2);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.GetSpan(8), Crc64.Compute(buffer.WrittenSpan));
        buffer.Advance(8);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE], as Redis's functionRestoreCommand.</summary>
    private static void FunctionRestore(Session s, ArgList a)
    {
        if (a.Count > 4)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        var policy = RestorePolicy.Append;
        if (a.Count == 4)
        {
            if (a.Is(3, "APPEND"u8))
            {
                policy = RestorePolicy.Append;
            }
            else if (a.Is(3, "REPLACE"u8))
            {
                policy = RestorePolicy.Replace;
            }
            else if (a.Is(3, "FLUSH"u8))
            {
                policy = RestorePolicy.Flush;
            }
            else
            {
                s.Reply.WriteError("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                return;
            }
        }
        var payload = a[2];
        if (!DumpPayload.Verify(payload))
        {
            s.Reply.WriteError("ERR DUMP payload version or checksum are wrong");
            return;
        }
        var codes = new List<byte[]>();
        int end = payload.Length - DumpPayload.TrailerLength;
        var reader = new RdbObjectReader(payload[..end], new EncodingLimits());
        while (reader.Position < end)
        {
            reader.TryTake(1, out var type);
            string? error = type[0] switch
            {
                RdbOpcode.FunctionPreRelease => "ERR Pre-GA function format not supported",
                RdbOpcode.Function2 => null,
                _ => "ERR given type is not a function",
            };
            if (error is null && reader.TryReadString() is { } code)
            {
                codes.Add(code);
                continue;
            }
            s.Reply.WriteError(error ?? "ERR Failed loading library payload");
            return;
        }
        if (!s.Server.Functions.Restore(codes, policy, out string? restoreError))
        {
            s.Reply.WriteError(restoreError!);
            return;
        }
        LibrariesChanged(s);
        s.Reply.WriteOk();
    }

    /// <summary>FUNCTION STATS: the function running (served while busy, as Redis's allow-busy) and the engine's counts.</summary>
    private static void FunctionStats(Session s, ArgList a) => WriteFunctionStats(s);

    /// <summary>The FUNCTION STATS reply; -BUSY while an EVAL script is busy.</summary>
    internal static void WriteFunctionStats(Session s)
    {
        var scripts = s.Server.Scripts;
        var reply = s.Reply;
        if (scripts.IsRunning && scripts.RunningFunction is null)
        {
            reply.WriteError(scripts.BusyError);
            return;
        }
        reply.WriteMapHeader(2);
        reply.WriteBulk("running_script"u8);
        if (scripts.RunningFunction is { } name)
        {
            reply.WriteMapHeader(3);
            reply.WriteBulk("name"u8);
            reply.WriteBulk(name);
            reply.WriteBulk("command"u8);
            var command = scripts.RunningCommand;
            reply.WriteArrayHeader(command.Count);
            for (int i = 0; i < command.Count; i++)
            {
                reply.WriteBulk(command[i]);
            }
            reply.WriteBulk("duration_ms"u8);
            reply.WriteInteger(scripts.RunningMilliseconds);
        }
        else
        {
            reply.WriteNullBulk();
        }
        reply.WriteBulk("engines"u8);
        reply.WriteMapHeader(1);
        reply.WriteBulk("LUA"u8);
        reply.WriteMapHeader(2);
        reply.WriteBulk("libraries_count"u8);
        reply.WriteInteger(s.Server.Functions.LibraryCount);
        reply.WriteBulk("functions_count"u8);
        reply.WriteInteger(s.Server.Functions.FunctionCount);
    }

    /// <summary>Here the lock is held, so no function runs: a busy function's FUNCTION KILL is answered by the connection path.</summary>
    private static void FunctionKill(Session s, ArgList a) => s.Reply.WriteError("NOTBUSY No scripts in execution right now.");

    private static void SubcommandSyntaxError(Session s, ArgList a)
    {
        string sub = a.GetString(1);
        s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{(sub.Length > 128 ? sub[..128] : sub)}'. Try FUNCTION HELP.");
    }

    private static void FunctionHelp(Session s, ArgList a) => HelpReply.Write(s, "FUNCTION",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).");
}
