using System.Globalization;

namespace CacheOperator.Operator.Topology;

/// <summary>An inclusive range of hash slots.</summary>
public readonly record struct SlotRange(int Start, int End)
{
    /// <summary>Slots in a Redis Cluster.</summary>
    public const int SlotCount = 16384;

    /// <summary>How many slots it covers.</summary>
    public int Count => End - Start + 1;

    /// <summary>"a-b", or "a" for a single slot.</summary>
    public override string ToString() => Start == End
        ? Start.ToString(CultureInfo.InvariantCulture)
        : $"{Start.ToString(CultureInfo.InvariantCulture)}-{End.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Contiguous ranges of the ascending slots in <paramref name="slots"/>.</summary>
    public static IReadOnlyList<SlotRange> Compact(IEnumerable<int> slots)
    {
        var ranges = new List<SlotRange>();
        int start = -1, end = -1;
        foreach (var slot in slots.Distinct().Order())
        {
            if (start >= 0 && slot == end + 1)
            {
                end = slot;
                continue;
            }
            if (start >= 0)
            {
                ranges.Add(new SlotRange(start, end));
            }
            start = end = slot;
        }
        if (start >= 0)
        {
            ranges.Add(new SlotRange(start, end));
        }
        return ranges;
    }

    /// <summary>Ranges as "a-b, c-d" for a sentence.</summary>
    public static string Describe(IEnumerable<SlotRange> ranges) => string.Join(", ", ranges.Select(r => r.ToString()));

    /// <summary>
    /// The range shard <paramref name="shard"/> of <paramref name="shards"/> gets, split as redis-cli --cluster create
    /// splits slots among masters: contiguous, even, rounding at each boundary, the last taking the rest.
    /// </summary>
    public static SlotRange ForShard(int shard, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shard, shards);
        double perShard = (double)SlotCount / shards;
        double cursor = 0;
        int first = 0;
        for (int i = 0; ; i++)
        {
            int last = (int)Math.Round(cursor + perShard - 1, MidpointRounding.AwayFromZero);
            if (last > SlotCount - 1 || i == shards - 1)
            {
                last = SlotCount - 1;
            }
            if (i == shard)
            {
                return new SlotRange(first, last);
            }
            first = last + 1;
            cursor += perShard;
        }
    }
}

/// <summary>A slot a node is moving: migrating to <paramref name="PeerId"/> ([s->-id]) or importing from it ([s-&lt;-id]).</summary>
public sealed record SlotMigration(int Slot, bool Importing, string PeerId);

/// <summary>One line of CLUSTER NODES: what one node believes about one node (itself when flagged myself).</summary>
/// <param name="Id">Node id (40 hex characters).</param>
/// <param name="Ip">IP of the address; empty while the node does not know it.</param>
/// <param name="Port">Client port.</param>
/// <param name="BusPort">Cluster bus port.</param>
/// <param name="Hostname">Announced hostname, if any.</param>
/// <param name="Flags">myself, master, slave, fail?, fail, handshake, noaddr, nofailover, noflags.</param>
/// <param name="MasterId">Id of its master when it is a replica; null otherwise.</param>
/// <param name="PingSent">ping-sent, unix milliseconds (0: none pending).</param>
/// <param name="PongReceived">pong-recv, unix milliseconds.</param>
/// <param name="ConfigEpoch">config-epoch.</param>
/// <param name="LinkState">connected or disconnected.</param>
/// <param name="Slots">Slot ranges it serves.</param>
/// <param name="Migrations">Slots it is migrating or importing.</param>
public sealed record ClusterNodeEntry(
    string Id,
    string Ip,
    int Port,
    int BusPort,
    string? Hostname,
    IReadOnlySet<string> Flags,
    string? MasterId,
    long PingSent,
    long PongReceived,
    long ConfigEpoch,
    string LinkState,
    IReadOnlyList<SlotRange> Slots,
    IReadOnlyList<SlotMigration> Migrations)
{
    /// <summary>The line is the answering node itself.</summary>
    public bool IsMyself => Flags.Contains("myself");

    /// <summary>Flagged master.</summary>
    public bool IsMaster => Flags.Contains("master");

    /// <summary>Flagged slave (replica).</summary>
    public bool IsReplica => Flags.Contains("slave");

    /// <summary>Flagged fail: the cluster agreed it is down.</summary>
    public bool IsFailed => Flags.Contains("fail");

    /// <summary>Flagged fail?: the answering node cannot reach it.</summary>
    public bool IsPossiblyFailed => Flags.Contains("fail?");

    /// <summary>Still in the MEET handshake (its id is a placeholder).</summary>
    public bool InHandshake => Flags.Contains("handshake");

    /// <summary>Its address is unknown.</summary>
    public bool NoAddress => Flags.Contains("noaddr");

    /// <summary>How many slots it serves.</summary>
    public int SlotCount => Slots.Sum(r => r.Count);

    /// <summary>Every slot it serves, ascending.</summary>
    public IEnumerable<int> AllSlots() => Slots.SelectMany(r => Enumerable.Range(r.Start, r.Count));

    /// <summary>Parses CLUSTER NODES output; a malformed line throws <see cref="FormatException"/> naming it.</summary>
    public static IReadOnlyList<ClusterNodeEntry> ParseAll(string text) => text
        .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(Parse)
        .ToList();

    /// <summary>Parses one CLUSTER NODES line.</summary>
    public static ClusterNodeEntry Parse(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 8)
        {
            throw new FormatException($"CLUSTER NODES line has {f.Length} fields, at least 8 expected: \"{line}\"");
        }
        // ip:port@cport[,hostname]; the ip may be empty (a node that has not learned its own address) or IPv6.
        var address = f[1];
        string? hostname = null;
        int comma = address.IndexOf(',', StringComparison.Ordinal);
        if (comma >= 0)
        {
            hostname = address[(comma + 1)..];
            hostname = hostname.Length == 0 ? null : hostname;
            address = address[..comma];
        }
        int at = address.IndexOf('@', StringComparison.Ordinal);
        int busPort = 0;
        if (at >= 0)
        {
            busPort = ParseInt(address[(at + 1)..], line);
            address = address[..at];
        }
        int colon = address.LastIndexOf(':');
        if (colon < 0)
        {
            throw new FormatException($"CLUSTER NODES address \"{f[1]}\" has no port: \"{line}\"");
        }
        var ip = address[..colon];
        int port = ParseInt(address[(colon + 1)..], line);
        var flags = f[2].Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var master = f[3] == "-" ? null : f[3];
        var slots = new List<SlotRange>();
        var migrations = new List<SlotMigration>();
        foreach (var token in f.AsSpan(8))
        {
            if (token.StartsWith('[') && token.EndsWith(']'))
            {
                var inner = token[1..^1];
                int arrow = inner.IndexOf("->-", StringComparison.Ordinal);
                bool importing = arrow < 0;
                if (importing)
                {
                    arrow = inner.IndexOf("-<-", StringComparison.Ordinal);
                }
                if (arrow < 0)
                {
                    throw new FormatException($"CLUSTER NODES slot marker \"{token}\" is neither ->- nor -<-: \"{line}\"");
                }
                migrations.Add(new SlotMigration(ParseSlot(inner[..arrow], line), importing, inner[(arrow + 3)..]));
                continue;
            }
            int dash = token.IndexOf('-', StringComparison.Ordinal);
            slots.Add(dash < 0
                ? new SlotRange(ParseSlot(token, line), ParseSlot(token, line))
                : new SlotRange(ParseSlot(token[..dash], line), ParseSlot(token[(dash + 1)..], line)));
        }
        return new ClusterNodeEntry(f[0], ip, port, busPort, hostname, flags, master, ParseLong(f[4], line), ParseLong(f[5], line),
            ParseLong(f[6], line), f[7], slots, migrations);
    }

    private static int ParseSlot(string text, string line)
    {
        int slot = ParseInt(text, line);
        return slot is >= 0 and < SlotRange.SlotCount ? slot : throw new FormatException($"CLUSTER NODES slot {slot} is out of range: \"{line}\"");
    }

    private static int ParseInt(string text, string line) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"CLUSTER NODES has \"{text}\" where a number belongs: \"{line}\"");

    private static long ParseLong(string text, string line) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"CLUSTER NODES has \"{text}\" where a number belongs: \"{line}\"");
}
