using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>Runs one command: reads its arguments, works on the keyspace, writes the reply.</summary>
public delegate void CommandHandler(Session session, ArgList args);

/// <summary>Command properties, as COMMAND INFO reports them and the dispatcher enforces them.</summary>
[Flags]
public enum CommandFlags
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>May modify the keyspace (propagated to replicas later).</summary>
    Write = 1 << 0,

    /// <summary>Never modifies the keyspace.</summary>
    ReadOnly = 1 << 1,

    /// <summary>Refused when memory is over maxmemory.</summary>
    DenyOom = 1 << 2,

    /// <summary>An administrative command.</summary>
    Admin = 1 << 3,

    /// <summary>Not allowed in scripts.</summary>
    NoScript = 1 << 4,

    /// <summary>May block the client.</summary>
    Blocking = 1 << 5,

    /// <summary>Allowed while loading data.</summary>
    Loading = 1 << 6,

    /// <summary>Allowed on a stale replica.</summary>
    Stale = 1 << 7,

    /// <summary>O(1) or O(log N).</summary>
    Fast = 1 << 8,

    /// <summary>Allowed before AUTH.</summary>
    NoAuth = 1 << 9,

    /// <summary>Not shown by MONITOR.</summary>
    SkipMonitor = 1 << 10,

    /// <summary>Not counted in slowlog.</summary>
    SkipSlowlog = 1 << 11,

    /// <summary>Not allowed inside MULTI (Redis's no_multi).</summary>
    NoMulti = 1 << 12,

    /// <summary>
    /// Runs at once even inside MULTI instead of being queued (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET);
    /// Redis hard-codes this list, so COMMAND INFO shows no flag for it.
    /// </summary>
    TransactionControl = 1 << 20,

    /// <summary>Key positions are not fixed (first/last/step do not describe them).</summary>
    MovableKeys = 1 << 13,

    /// <summary>Allowed while a script or function is busy (Redis's allow_busy).</summary>
    AllowBusy = 1 << 14,
}

/// <summary>One command or subcommand: its rules, its documentation, and the method that runs it.</summary>
public sealed class CommandSpec
{
    /// <summary>A command with its handler; arity as Redis counts it (negative: at least that many).</summary>
    public CommandSpec(string name, int arity, CommandHandler? handler)
    {
        Name = name.ToLowerInvariant();
        Arity = arity;
        Handler = handler;
        Stats.MetricTag = new("cmd", Name);
    }

    /// <summary>Lower-case name; subcommands are named like "config|get".</summary>
    public string Name { get; }

    /// <summary>Argument count including the name; negative for a minimum.</summary>
    public int Arity { get; }

    /// <summary>What runs it; null for a container whose subcommands run.</summary>
    public CommandHandler? Handler { get; }

    /// <summary>Properties.</summary>
    public CommandFlags Flags { get; init; }

    /// <summary>Position of the first key (0: none).</summary>
    public int FirstKey { get; init; }

    /// <summary>Position of the last key (-1: the last argument).</summary>
    public int LastKey { get; init; }

    /// <summary>Distance between keys.</summary>
    public int KeyStep { get; init; }

    /// <summary>Shorthand for FirstKey, LastKey and KeyStep.</summary>
    public (int First, int Last, int Step) Keys
    {
        init => (FirstKey, LastKey, KeyStep) = value;
    }

    /// <summary>ACL categories, space separated, like "@read @string @fast".</summary>
    public string Acl { get; init; } = "";

    /// <summary>Command tips for clients, space separated, like "nondeterministic_output request_policy:all_shards".</summary>
    public string Tips { get; init; } = "";

    /// <summary>Flags of the key spec, space separated, like "RW access update"; empty derives them from the command flags.</summary>
    public string KeySpecFlags { get; init; } = "";

    /// <summary>One sentence, as COMMAND DOCS gives it.</summary>
    public string Summary { get; init; } = "";

    /// <summary>Redis version that introduced it.</summary>
    public string Since { get; init; } = "1.0.0";

    /// <summary>Time complexity, as COMMAND DOCS gives it.</summary>
    public string Complexity { get; init; } = "";

    /// <summary>Arguments after the name in Redis's documentation syntax, e.g. "key [NX | XX]".</summary>
    public string Syntax { get; init; } = "";

    /// <summary>Redis's command group (string, generic, server, ...), set by the table from the family.</summary>
    public string Group { get; internal set; } = "";

    /// <summary>Subcommands of a container command such as CONFIG.</summary>
    public IReadOnlyList<CommandSpec> Subcommands { get; init; } = [];

    /// <summary>Calls, time and failures, for INFO commandstats.</summary>
    public CommandStats Stats { get; } = new();

    internal CommandTable.Lookup? SubcommandLookup { get; set; }

    /// <summary>Name shown in errors and stats: "get", "config|get".</summary>
    public override string ToString() => Name;
}

/// <summary>Per-command counters for INFO commandstats.</summary>
public sealed class CommandStats
{
    /// <summary>Times it ran.</summary>
    public long Calls;

    /// <summary>Total run time in microseconds.</summary>
    public long Microseconds;

    /// <summary>Refused before running (arity, auth, OOM).</summary>
    public long RejectedCalls;

    /// <summary>Ran and answered with an error.</summary>
    public long FailedCalls;

    /// <summary>The metrics label naming the command (cmd="get"), built once so recording a duration allocates nothing.</summary>
    public KeyValuePair<string, object?> MetricTag;
}
