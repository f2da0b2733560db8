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

    /// <summary>Not allowed while a replica loads its dataset in the background (Redis's no_async_loading; shown in COMMAND INFO).</summary>
    NoAsyncLoading = 1 << 16,

    /// <summary>A pub/sub command (Redis's CMD_PUBSUB, shown in COMMAND INFO).</summary>
    PubSub = 1 << 17,

    /// <summary>Not allowed inside MULTI (Redis's no_multi).</summary>
    NoMulti = 1 << 12,

    /// <summary>
    /// Runs at once even inside MULTI instead of being queued (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET);
    /// Redis hard-codes this list, so COMMAND INFO shows no flag for it.
    /// </summary>
    TransactionControl = 1 << 20,

    /// <summary>Allowed to a RESP2 client in subscriber mode ((P|S)(UN)SUBSCRIBE, PING, QUIT, RESET); hard-coded by Redis, never shown.</summary>
    SubscriberContext = 1 << 21,

    /// <summary>Key positions are not fixed (first/last/step do not describe them).</summary>
    MovableKeys = 1 << 13,

    /// <summary>May be called with no key (Redis's no_mandatory_keys: EVAL with numkeys 0); COMMAND GETKEYS answers an empty list.</summary>
    NoMandatoryKeys = 1 << 18,

    /// <summary>Allowed while a script or function is busy (Redis's allow_busy).</summary>
    AllowBusy = 1 << 14,

    /// <summary>The cluster slot check treats the command as if ASKING preceded it (Redis's CMD_ASKING: RESTORE-ASKING).</summary>
    Asking = 1 << 15,
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

    /// <summary>Properties; movablekeys is derived from the key specs, as Redis does.</summary>
    public CommandFlags Flags
    {
        get
        {
            if (!_sealed)
            {
                Seal();
            }
            return _effectiveFlags;
        }
        init => _effectiveFlags = _flags = value & ~CommandFlags.MovableKeys;
    }

    /// <summary>
    /// Shorthand for one key spec of keys at fixed positions (first, last: -1 for the last argument, step), with the
    /// flags of <see cref="KeySpecFlags"/>; (0, 0, 0) for none. Commands whose keys need more set <see cref="KeySpecs"/>.
    /// </summary>
    public (int First, int Last, int Step) Keys
    {
        init => _keys = value;
    }

    /// <summary>Flags of the <see cref="Keys"/> shorthand's spec, like "RW access update"; empty derives them from the command flags.</summary>
    public string KeySpecFlags { get; init; } = "";

    /// <summary>Where the keys are and how they are used, as Redis 7.0's key specs (COMMAND INFO, GETKEYS, memory accounting).</summary>
    public IReadOnlyList<KeySpec> KeySpecs
    {
        get => Layout.Specs;
        init => _keySpecs = value;
    }

    /// <summary>Finds keys where the specs cannot (Redis's getkeys_proc), or null; see <see cref="KeyExtractor"/>.</summary>
    public GetKeysProcedure? GetKeysProcedure { get; init; }

    /// <summary>Legacy first key position for COMMAND INFO (0: none), derived from the specs as Redis does.</summary>
    public int FirstKey => Layout.FirstKey;

    /// <summary>Legacy last key position (negative: from the end).</summary>
    public int LastKey => Layout.LastKey;

    /// <summary>Legacy distance between keys.</summary>
    public int KeyStep => Layout.KeyStep;

    /// <summary>At least one spec names real keys (not only not_key ones).</summary>
    internal bool HasKeySpecs => Layout.HasKeySpecs;

    /// <summary>The only spec when it is one plain range of keys (index begin, no limit), which the extractor reads directly; else null.</summary>
    internal KeySpec? SimpleKeyRange => Layout.SimpleRange;

    /// <summary>A spec's flags depend on the arguments, so the getkeys procedure gives them.</summary>
    internal bool HasVariableKeyFlags => Layout.HasVariableFlags;

    /// <summary>
    /// For a command whose write, deny-oom and stale flags depend on its arguments (FCALL: its function's flags, as
    /// Redis's getCommandFlags): the flags of this run, read by the replication and maxmemory checks.
    /// </summary>
    public Func<Session, ArgList, CommandFlags>? FlagsWith { get; init; }

    /// <summary>
    /// Shown to MONITOR before its handler runs instead of after (EVAL, FCALL: the script command comes before the
    /// commands it runs, even when it fails, as Redis's evalCommand and fcallCommandGeneric feed monitors themselves).
    /// </summary>
    public bool MonitoredFirst { get; init; }

    /// <summary>ACL categories, space separated, like "@read @string @fast".</summary>
    public string Acl { get; init; } = "";

    /// <summary>Command tips for clients, space separated, like "nondeterministic_output request_policy:all_shards".</summary>
    public string Tips { get; init; } = "";

    /// <summary>One sentence, as COMMAND DOCS gives it.</summary>
    public string Summary { get; init; } = "";

    /// <summary>Redis version that introduced it.</summary>
    public string Since { get; init; } = "1.0.0";

    /// <summary>Time complexity, as COMMAND DOCS gives it.</summary>
    public string Complexity { get; init; } = "";

    /// <summary>Arguments after the name in Redis's documentation syntax, e.g. "key [NX | XX]".</summary>
    public string Syntax { get; init; } = "";

    /// <summary>COMMAND DOCS doc_flags, space separated (Redis 7.0 uses "syscmd" for internal commands); empty for none.</summary>
    public string DocFlags { get; init; } = "";

    /// <summary>Redis's command group (string, generic, server, ...), set by the table from the family.</summary>
    public string Group { get; internal set; } = "";

    /// <summary>Subcommands of a container command such as CONFIG.</summary>
    public IReadOnlyList<CommandSpec> Subcommands { get; init; } = [];

    /// <summary>Calls, time and failures, for INFO commandstats.</summary>
    public CommandStats Stats { get; } = new();

    internal CommandTable.Lookup? SubcommandLookup { get; set; }

    private readonly CommandFlags _flags;

    // The declared flags plus movablekeys, derived once (by the table, or on first use): a field read on the dispatcher's path.
    private CommandFlags _effectiveFlags;
    private bool _sealed;
    private readonly (int First, int Last, int Step) _keys;
    private readonly IReadOnlyList<KeySpec>? _keySpecs;
    private KeyLayout? _layout;

    // Built on first use, after the object initializer has set every property (idempotent, so a race only builds it twice).
    private KeyLayout Layout => _layout ??= new KeyLayout(this);

    internal IReadOnlyList<KeySpec>? ExplicitKeySpecs => _keySpecs;

    internal (int First, int Last, int Step) ShorthandKeys => _keys;

    internal CommandFlags DeclaredFlags => _flags;

    /// <summary>Derives what the key specs imply (movablekeys) once every property is set; the table calls it, or the first read of <see cref="Flags"/>.</summary>
    internal void Seal()
    {
        _effectiveFlags = _flags | Layout.MovableFlag;
        _sealed = true;
    }

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

    /// <summary>Durations for LATENCY HISTOGRAM and INFO latencystats; made on the first call tracked, as Redis does.</summary>
    public Monitoring.LatencyHistogram? Latency;
}

/// <summary>A command's key specs and what Redis derives from them once: the legacy range and movablekeys.</summary>
internal sealed class KeyLayout
{
    public KeyLayout(CommandSpec command)
    {
        Specs = command.ExplicitKeySpecs ?? ShorthandSpecs(command);
        foreach (var spec in Specs)
        {
            HasKeySpecs |= (spec.Flags & KeyFlags.NotKey) == 0;
            HasVariableFlags |= (spec.Flags & KeyFlags.VariableFlags) != 0;
        }
        if (Specs is [{ BeginSearch: BeginSearchKind.Index, FindKeys: FindKeysKind.Range, Limit: 0 } only]
            && (only.Flags & (KeyFlags.NotKey | KeyFlags.Incomplete)) == 0)
        {
            SimpleRange = only;
        }
        bool movable = PopulateLegacyRange();
        MovableFlag = movable ? CommandFlags.MovableKeys : CommandFlags.None;
    }

    public IReadOnlyList<KeySpec> Specs { get; }

    public int FirstKey { get; private set; }

    public int LastKey { get; private set; }

    public int KeyStep { get; private set; }

    public CommandFlags MovableFlag { get; }

    public bool HasKeySpecs { get; }

    public bool HasVariableFlags { get; }

    public KeySpec? SimpleRange { get; }

    private static KeySpec[] ShorthandSpecs(CommandSpec command)
    {
        var (first, last, step) = command.ShorthandKeys;
        if (first <= 0)
        {
            return [];
        }
        string flags = command.KeySpecFlags.Length > 0 ? command.KeySpecFlags
            : (command.DeclaredFlags & CommandFlags.Write) != 0 ? "RW update" : "RO access";
        return [KeySpec.Range(flags, first, last < 0 ? last : last - first, step)];
    }

    /// <summary>Redis's populateCommandLegacyRangeSpec: first/last/step covering the plain consecutive range specs; true when keys move.</summary>
    private bool PopulateLegacyRange()
    {
        if (Specs.Count == 0)
        {
            return false;
        }
        if (Specs.Count == 1 && IsPlainRange(Specs[0]))
        {
            SetLegacy(Specs[0].Index, Specs[0].LastKey, Specs[0].KeyStep);
            return (Specs[0].Flags & KeyFlags.Incomplete) != 0;
        }
        bool movable = false;
        int first = int.MaxValue;
        uint last = 0;
        uint previousLast = 0;
        foreach (var spec in Specs)
        {
            if (!IsPlainRange(spec))
            {
                movable = true;
                continue;
            }
            if (spec.KeyStep != 1 || (previousLast != 0 && previousLast != (uint)(spec.Index - 1)))
            {
                movable = true;
                continue;
            }
            movable |= (spec.Flags & KeyFlags.Incomplete) != 0;
            first = Math.Min(first, spec.Index);
            int absoluteLast = spec.LastKey >= 0 ? spec.LastKey + spec.Index : spec.LastKey;
            // Unsigned, as Redis compares: a negative (from the end) last key wins over any position.
            last = Math.Max(last, (uint)absoluteLast);
            previousLast = last;
        }
        if (first == int.MaxValue)
        {
            return true;
        }
        int lastKey = (int)last;
        SetLegacy(first, lastKey < 0 ? lastKey : lastKey - first, 1);
        return movable;
    }

    private static bool IsPlainRange(KeySpec spec) => spec.BeginSearch == BeginSearchKind.Index && spec.FindKeys == FindKeysKind.Range;

    /// <summary>COMMAND INFO's first/last/step from a range relative to its first key.</summary>
    private void SetLegacy(int first, int relativeLast, int step)
    {
        FirstKey = first;
        LastKey = relativeLast >= 0 ? relativeLast + first : relativeLast;
        KeyStep = step;
    }
}
