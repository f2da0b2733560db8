using System.Diagnostics.CodeAnalysis;

namespace CacheOperator.Node.Commands;

/// <summary>
/// Every command the node serves, looked up by name bytes without allocating (case-insensitive),
/// as Redis's command dictionary. Each family file contributes its commands here.
/// </summary>
public sealed class CommandTable
{
    private readonly Dictionary<byte[], CommandSpec> _byName;
    private readonly Lookup _lookup;

    /// <summary>The command families and the Redis group each belongs to.</summary>
    private static IEnumerable<(string Group, IEnumerable<CommandSpec> Commands)> Families =>
    [
        ("string", StringCommands.All),
        ("string", LcsCommands.All),
        ("bitmap", BitmapCommands.All),
        ("generic", KeyCommands.All),
        ("connection", ConnectionCommands.All),
        ("server", ServerCommands.All),
        ("server", DatabaseCommands.All),
        ("sorted-set", SortedSetCommands.All),
        ("cluster", ClusterCommands.All),
        ("hash", HashCommands.All),
        ("set", SetCommands.All),
        ("list", ListCommands.All),
        ("transactions", TransactionCommands.All),
        ("server", DiagnosticCommands.All),
        ("generic", SortCommands.All),
        ("generic", DumpCommands.All),
        ("generic", MigrateCommands.All),
        ("server", MigrateCommands.ServerGroup),
        ("server", ReplicationCommands.All),
        ("server", PersistenceCommands.All),
        ("pubsub", PubSubCommands.All),
        ("scripting", ScriptingCommands.All),
        ("hyperloglog", HyperLogLogCommands.All),
        ("server", LolwutCommands.All),
        ("geo", GeoCommands.All),
        ("stream", StreamCommands.All),
    ];

    /// <summary>Builds the table from every family.</summary>
    public CommandTable() : this(Families)
    {
    }

    internal CommandTable(IEnumerable<(string Group, IEnumerable<CommandSpec> Commands)> families)
    {
        _byName = new Dictionary<byte[], CommandSpec>(AsciiIgnoreCaseComparer.Instance);
        foreach (var (group, commands) in families)
        {
            foreach (var spec in commands)
            {
                spec.Group = group;
                spec.Seal();
                foreach (var sub in spec.Subcommands)
                {
                    sub.Group = group;
                    sub.Seal();
                }
                if (spec.Subcommands.Count > 0)
                {
                    var subs = new Dictionary<byte[], CommandSpec>(AsciiIgnoreCaseComparer.Instance);
                    foreach (var sub in spec.Subcommands)
                    {
                        subs.Add(Encoding.ASCII.GetBytes(sub.Name[(sub.Name.IndexOf('|') + 1)..]), sub);
                    }
                    spec.SubcommandLookup = subs.GetAlternateLookup<ReadOnlySpan<byte>>();
                }
                _byName.Add(Encoding.ASCII.GetBytes(spec.Name), spec);
            }
        }
        _lookup = _byName.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>Span-keyed view of a name dictionary.</summary>
    internal readonly struct Lookup(Dictionary<byte[], CommandSpec>.AlternateLookup<ReadOnlySpan<byte>> inner)
    {
        public bool TryGet(ReadOnlySpan<byte> name, [MaybeNullWhen(false)] out CommandSpec spec) => inner.TryGetValue(name, out spec);

        public static implicit operator Lookup(Dictionary<byte[], CommandSpec>.AlternateLookup<ReadOnlySpan<byte>> inner) => new(inner);
    }

    /// <summary>Every top-level command.</summary>
    public IEnumerable<CommandSpec> All => _byName.Values;

    /// <summary>Number of top-level commands (COMMAND COUNT).</summary>
    public int Count => _byName.Count;

    /// <summary>The command called <paramref name="name"/> (any case), or null.</summary>
    public CommandSpec? Find(ReadOnlySpan<byte> name) => _lookup.TryGet(name, out var spec) ? spec : null;

    /// <summary>A command or subcommand by its full name, as COMMAND INFO/DOCS and LATENCY HISTOGRAM take it: "get" or "config|get".</summary>
    public CommandSpec? FindByFullName(ReadOnlySpan<byte> name)
    {
        int bar = name.IndexOf((byte)'|');
        if (bar < 0)
        {
            return Find(name);
        }
        var container = Find(name[..bar]);
        return container is null ? null : FindSubcommand(container, name[(bar + 1)..]);
    }

    /// <summary>The subcommand of <paramref name="container"/> called <paramref name="name"/>, or null.</summary>
    public static CommandSpec? FindSubcommand(CommandSpec container, ReadOnlySpan<byte> name) =>
        container.SubcommandLookup is { } lookup && lookup.TryGet(name, out var spec) ? spec : null;
}

/// <summary>Compares ASCII byte strings ignoring case; usable with span lookups.</summary>
public sealed class AsciiIgnoreCaseComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    /// <summary>The one instance.</summary>
    public static readonly AsciiIgnoreCaseComparer Instance = new();

    /// <inheritdoc/>
    public bool Equals(byte[]? x, byte[]? y) => x is not null && y is not null && Ascii.EqualsIgnoreCase(x, y);

    /// <inheritdoc/>
    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);

    /// <inheritdoc/>
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => Ascii.EqualsIgnoreCase(alternate, other);

    /// <inheritdoc/>
    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        uint h = 2166136261;
        foreach (byte b in alternate)
        {
            h = (h ^ (uint)(b | 0x20)) * 16777619;
        }
        return (int)h;
    }

    /// <inheritdoc/>
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
