namespace CacheOperator.Node.Commands;

/// <summary>How a command uses a key, as Redis 7.0's key-spec flags (CMD_KEY_*), in the order COMMAND INFO lists them.</summary>
[Flags]
public enum KeyFlags
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>Read-only: reads the value, does not change it.</summary>
    RO = 1 << 0,

    /// <summary>Read-write: may change the value.</summary>
    RW = 1 << 1,

    /// <summary>Overwrite: replaces the value without reading it.</summary>
    OW = 1 << 2,

    /// <summary>Removes the key.</summary>
    RM = 1 << 3,

    /// <summary>Returns, copies or otherwise uses user data of the key.</summary>
    Access = 1 << 4,

    /// <summary>Updates data in the value (a new value, a changed TTL, ...).</summary>
    Update = 1 << 5,

    /// <summary>Adds data to the value without changing what is there.</summary>
    Insert = 1 << 6,

    /// <summary>Deletes data from the value.</summary>
    Delete = 1 << 7,

    /// <summary>The argument is not a key but hashes like one (a fake key, e.g. for cluster routing).</summary>
    NotKey = 1 << 8,

    /// <summary>The spec may miss keys; a getkeys procedure finds them.</summary>
    Incomplete = 1 << 9,

    /// <summary>The flags depend on other arguments; a getkeys procedure gives them.</summary>
    VariableFlags = 1 << 10,
}

/// <summary>Where the search for a key spec's keys begins (Redis's begin_search).</summary>
public enum BeginSearchKind : byte
{
    /// <summary>Cannot be said by a spec: the command's getkeys procedure finds the keys.</summary>
    Unknown,

    /// <summary>At a fixed argument position.</summary>
    Index,

    /// <summary>After a keyword, searched from a position (negative: from the end, backwards).</summary>
    Keyword,
}

/// <summary>How a key spec's keys are found from where the search began (Redis's find_keys).</summary>
public enum FindKeysKind : byte
{
    /// <summary>Cannot be said by a spec.</summary>
    Unknown,

    /// <summary>A range: up to lastkey (relative, or negative from the end), every keystep, optionally a fraction (limit) of the rest.</summary>
    Range,

    /// <summary>An argument gives the number of keys that follow.</summary>
    KeyNum,
}

/// <summary>
/// One Redis 7.0 key specification: where a group of a command's keys is, and how the command uses them.
/// Built with <see cref="Range"/>, <see cref="KeyNum"/>, <see cref="KeywordRange"/>, <see cref="KeywordKeyNum"/> or <see cref="Unknown"/>.
/// </summary>
public sealed record KeySpec
{
    /// <summary>How the command uses these keys.</summary>
    public KeyFlags Flags { get; init; }

    /// <summary>An explanation COMMAND INFO shows (Redis's "notes"), or null.</summary>
    public string? Notes { get; init; }

    /// <summary>Kind of begin-search step.</summary>
    public BeginSearchKind BeginSearch { get; init; }

    /// <summary>Index: the argument position where the keys begin.</summary>
    public int Index { get; init; }

    /// <summary>Keyword: the keyword after which the keys begin (compared ignoring case).</summary>
    public string Keyword { get; private init; } = "";

    /// <summary>Keyword: where the search for it starts (negative: counted from the end, searching backwards).</summary>
    public int StartFrom { get; init; }

    /// <summary>Kind of find-keys step.</summary>
    public FindKeysKind FindKeys { get; init; }

    /// <summary>Range: the last key relative to the first (negative: counted from the end of the arguments).</summary>
    public int LastKey { get; init; }

    /// <summary>Range and KeyNum: distance between keys.</summary>
    public int KeyStep { get; init; } = 1;

    /// <summary>Range with LastKey -1: only 1/limit of the remaining arguments (0: all).</summary>
    public int Limit { get; init; }

    /// <summary>KeyNum: position of the count, relative to where the search began.</summary>
    public int KeyNumIndex { get; init; }

    /// <summary>KeyNum: position of the first key, relative to where the search began.</summary>
    public int FirstKey { get; init; }

    internal byte[] KeywordBytes { get; private init; } = [];

    /// <summary>Keys from a fixed position: <paramref name="lastKey"/> relative to it (negative: from the end).</summary>
    public static KeySpec Range(string flags, int index, int lastKey = 0, int keyStep = 1, int limit = 0) => new()
    {
        Flags = ParseFlags(flags),
        BeginSearch = BeginSearchKind.Index,
        Index = index,
        FindKeys = FindKeysKind.Range,
        LastKey = lastKey,
        KeyStep = keyStep,
        Limit = limit,
    };

    /// <summary>Keys from a fixed position whose count is an argument (e.g. "numkeys key [key ...]").</summary>
    public static KeySpec KeyNum(string flags, int index, int keyNumIndex = 0, int firstKey = 1, int keyStep = 1) => new()
    {
        Flags = ParseFlags(flags),
        BeginSearch = BeginSearchKind.Index,
        Index = index,
        FindKeys = FindKeysKind.KeyNum,
        KeyNumIndex = keyNumIndex,
        FirstKey = firstKey,
        KeyStep = keyStep,
    };

    /// <summary>Keys after a keyword (e.g. "STREAMS key [key ...]").</summary>
    public static KeySpec KeywordRange(string flags, string keyword, int startFrom, int lastKey = 0, int keyStep = 1, int limit = 0) => new()
    {
        Flags = ParseFlags(flags),
        BeginSearch = BeginSearchKind.Keyword,
        Keyword = keyword,
        KeywordBytes = Encoding.ASCII.GetBytes(keyword),
        StartFrom = startFrom,
        FindKeys = FindKeysKind.Range,
        LastKey = lastKey,
        KeyStep = keyStep,
        Limit = limit,
    };

    /// <summary>Keys after a keyword, their count an argument.</summary>
    public static KeySpec KeywordKeyNum(string flags, string keyword, int startFrom, int keyNumIndex = 0, int firstKey = 1, int keyStep = 1) => new()
    {
        Flags = ParseFlags(flags),
        BeginSearch = BeginSearchKind.Keyword,
        Keyword = keyword,
        KeywordBytes = Encoding.ASCII.GetBytes(keyword),
        StartFrom = startFrom,
        FindKeys = FindKeysKind.KeyNum,
        KeyNumIndex = keyNumIndex,
        FirstKey = firstKey,
        KeyStep = keyStep,
    };

    /// <summary>Keys a spec cannot locate (SORT's BY/GET/STORE): the command's getkeys procedure finds them.</summary>
    public static KeySpec Unknown(string flags, string notes) => new()
    {
        Flags = ParseFlags(flags),
        Notes = notes,
        BeginSearch = BeginSearchKind.Unknown,
        FindKeys = FindKeysKind.Unknown,
    };

    /// <summary>Flag names in COMMAND INFO's order.</summary>
    internal static readonly (KeyFlags Flag, string Name)[] FlagNames =
    [
        (KeyFlags.RO, "RO"), (KeyFlags.RW, "RW"), (KeyFlags.OW, "OW"), (KeyFlags.RM, "RM"),
        (KeyFlags.Access, "access"), (KeyFlags.Update, "update"), (KeyFlags.Insert, "insert"), (KeyFlags.Delete, "delete"),
        (KeyFlags.NotKey, "not_key"), (KeyFlags.Incomplete, "incomplete"), (KeyFlags.VariableFlags, "variable_flags"),
    ];

    /// <summary>Parses flags written as COMMAND INFO shows them: "RW access update".</summary>
    public static KeyFlags ParseFlags(string flags)
    {
        var result = KeyFlags.None;
        foreach (var word in flags.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int i = Array.FindIndex(FlagNames, f => f.Name.Equals(word, StringComparison.OrdinalIgnoreCase));
            if (i < 0)
            {
                throw new ArgumentException($"Unknown key spec flag '{word}'", nameof(flags));
            }
            result |= FlagNames[i].Flag;
        }
        return result;
    }
}
