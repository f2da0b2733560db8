using System.Globalization;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Cluster;

/// <summary>
/// nodes.conf in Redis 7.0's format: one CLUSTER NODES line per node (handshake nodes left out) and a
/// <c>vars currentEpoch N lastVoteEpoch N</c> line; read as Redis's clusterLoadConfig reads it, written atomically
/// (temporary file, fsync, rename), so a node restarted with it keeps its id, epochs and slots.
/// </summary>
public static class ClusterConfigFile
{
    /// <summary>Redis's text for a file it cannot parse (it exits with it).</summary>
    public const string CorruptedError = "Unrecoverable error: corrupted cluster config file.";

    /// <summary>One node's line as CLUSTER NODES prints it, without the newline (Redis's clusterGenNodeDescription).</summary>
    public static void Describe(ClusterState state, ClusterNode node, StringBuilder line)
    {
        line.Append(node.Id).Append(' ').Append(node.Ip).Append(':').Append(node.Port).Append('@').Append(node.CPort);
        if (node.Hostname.Length > 0)
        {
            line.Append(',').Append(node.Hostname);
        }
        line.Append(' ').Append(node.FlagsText).Append(' ').Append(node.Master?.Id ?? "-");
        // A replica shows its master's config epoch.
        ulong epoch = node.IsReplica && node.Master is { } master ? master.ConfigEpoch : node.ConfigEpoch;
        line.Append(' ').Append(node.PingSentMs.ToString(CultureInfo.InvariantCulture))
            .Append(' ').Append(node.PongReceivedMs.ToString(CultureInfo.InvariantCulture))
            .Append(' ').Append(epoch.ToString(CultureInfo.InvariantCulture))
            .Append(node.LinkConnected || node.IsMyself ? " connected" : " disconnected");
        foreach (var (start, end) in node.Slots.Ranges())
        {
            line.Append(' ').Append(start);
            if (end != start)
            {
                line.Append('-').Append(end);
            }
        }
        if (node.IsMyself && state.HasOpenSlots)
        {
            for (int slot = 0; slot < HashSlot.Count; slot++)
            {
                if (state.MigratingTo(slot) is { } target)
                {
                    line.Append(" [").Append(slot).Append("->-").Append(target.Id).Append(']');
                }
                else if (state.ImportingFrom(slot) is { } source)
                {
                    line.Append(" [").Append(slot).Append("-<-").Append(source.Id).Append(']');
                }
            }
        }
    }

    /// <summary>Every node's line, each ending in a newline, leaving out nodes with any of <paramref name="filter"/>'s flags (clusterGenNodesDescription).</summary>
    public static string DescribeAll(ClusterState state, ClusterNodeFlags filter)
    {
        var text = new StringBuilder();
        foreach (var node in state.Nodes)
        {
            if ((node.Flags & filter) != 0)
            {
                continue;
            }
            Describe(state, node, text);
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The file's contents for the state.</summary>
    public static string Render(ClusterState state) =>
        DescribeAll(state, ClusterNodeFlags.Handshake)
        + $"vars currentEpoch {state.CurrentEpoch.ToString(CultureInfo.InvariantCulture)} lastVoteEpoch {state.LastVoteEpoch.ToString(CultureInfo.InvariantCulture)}\n";

    /// <summary>
    /// Writes the file. With <paramref name="fsync"/> (epoch and vote changes) atomically and durably: a temporary file
    /// beside it reaches the disk, then is renamed over it. Without, in place as Redis 7.0's clusterSaveConfig does:
    /// padded with newlines to the old length, then truncated, so the file always parses. A rename over an existing
    /// file costs ext4 a forced flush (about a millisecond), paid on every SETSLOT during a reshard otherwise.
    /// </summary>
    public static void Save(ClusterState state, string path, bool fsync = true)
    {
        var bytes = Encoding.UTF8.GetBytes(Render(state));
        string full = Path.GetFullPath(path);
        if (!fsync && File.Exists(full))
        {
            using var file = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
            long oldLength = file.Length;
            file.Write(bytes);
            for (long padding = oldLength - bytes.Length; padding > 0; padding -= NewLines.Length)
            {
                file.Write(NewLines, 0, (int)Math.Min(padding, NewLines.Length));
            }
            if (oldLength > bytes.Length)
            {
                file.SetLength(bytes.Length);
            }
            return;
        }
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $"temp-{Environment.ProcessId}-{Path.GetFileName(full)}");
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: fsync);
        }
        File.Move(temp, full, overwrite: true);
    }

    private static readonly byte[] NewLines = Enumerable.Repeat((byte)'\n', 4096).ToArray();

    /// <summary>
    /// Loads the file into <paramref name="state"/> (Redis's clusterLoadConfig): false when it does not exist or is
    /// empty (the node then keeps its fresh id and writes the file); a file it cannot parse throws
    /// <see cref="ConfigException"/> with Redis's text.
    /// </summary>
    public static bool Load(ClusterState state, string path)
    {
        if (!File.Exists(path))
        {
            return false;
        }
        string text = File.ReadAllText(path);
        if (text.Length == 0)
        {
            return false;
        }
        Parse(state, text);
        return true;
    }

    /// <summary>Replaces the state's view with the one <paramref name="text"/> describes.</summary>
    public static void Parse(ClusterState state, string text)
    {
        var nodes = new Dictionary<string, ClusterNode>(StringComparer.Ordinal);
        var migrating = new List<(int Slot, ClusterNode Node)>();
        var importing = new List<(int Slot, ClusterNode Node)>();
        var owners = new ClusterNode?[HashSlot.Count];
        ClusterNode? myself = null;
        ulong currentEpoch = 0, lastVoteEpoch = 0;
        long now = state.NowMs;

        ClusterNode Lookup(string id)
        {
            if (!nodes.TryGetValue(id, out var node))
            {
                node = state.CreateNode(id, ClusterNodeFlags.None);
                nodes.Add(id, node);
            }
            return node;
        }

        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            var argv = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (argv.Length == 0)
            {
                continue;
            }
            if (argv[0].Equals("vars", StringComparison.OrdinalIgnoreCase))
            {
                if (argv.Length % 2 == 0)
                {
                    throw new ConfigException(CorruptedError);
                }
                for (int j = 1; j < argv.Length; j += 2)
                {
                    if (argv[j].Equals("currentEpoch", StringComparison.OrdinalIgnoreCase))
                    {
                        currentEpoch = ParseEpoch(argv[j + 1]);
                    }
                    else if (argv[j].Equals("lastVoteEpoch", StringComparison.OrdinalIgnoreCase))
                    {
                        lastVoteEpoch = ParseEpoch(argv[j + 1]);
                    }
                    else
                    {
                        state.LogWarning?.Invoke($"Skipping unknown cluster config variable '{argv[j]}'");
                    }
                }
                continue;
            }
            if (argv.Length < 8)
            {
                throw new ConfigException(CorruptedError);
            }
            var n = Lookup(argv[0]);

            // ip:port[@cport][,hostname]
            string address = argv[1];
            int comma = address.IndexOf(',');
            n.Hostname = comma >= 0 ? address[(comma + 1)..] : "";
            if (comma >= 0)
            {
                address = address[..comma];
            }
            int colon = address.LastIndexOf(':');
            if (colon < 0)
            {
                throw new ConfigException(CorruptedError);
            }
            n.Ip = address[..colon];
            string ports = address[(colon + 1)..];
            int at = ports.IndexOf('@');
            n.Port = Atoi(at >= 0 ? ports[..at] : ports);
            n.CPort = at >= 0 ? Atoi(ports[(at + 1)..]) : n.Port + 10000;

            foreach (string flag in argv[2].Split(','))
            {
                switch (flag.ToLowerInvariant())
                {
                    case "myself":
                        if (myself is not null)
                        {
                            throw new ConfigException(CorruptedError);
                        }
                        myself = n;
                        n.Flags |= ClusterNodeFlags.Myself;
                        break;
                    case "master": n.Flags |= ClusterNodeFlags.Master; break;
                    case "slave": n.Flags |= ClusterNodeFlags.Slave; break;
                    case "fail?": n.Flags |= ClusterNodeFlags.PFail; break;
                    case "fail":
                        n.Flags |= ClusterNodeFlags.Fail;
                        n.FailTimeMs = now;
                        break;
                    case "handshake": n.Flags |= ClusterNodeFlags.Handshake; break;
                    case "noaddr": n.Flags |= ClusterNodeFlags.NoAddr; break;
                    case "nofailover": n.Flags |= ClusterNodeFlags.NoFailover; break;
                    case "noflags": break;
                    default: throw new ConfigException("Unknown flag in redis cluster config file");
                }
            }
            if (argv[3][0] != '-')
            {
                var master = Lookup(argv[3]);
                n.Master = master;
                if (!master.Replicas.Contains(n))
                {
                    master.Replicas.Add(n);
                    master.Flags |= ClusterNodeFlags.MigrateTo;
                }
            }
            // As Redis: a non-zero ping/pong time means "recently", now.
            n.PingSentMs = Atoi(argv[4]) != 0 ? now : 0;
            n.PongReceivedMs = Atoi(argv[5]) != 0 ? now : 0;
            n.ConfigEpoch = ParseEpoch(argv[6]);

            for (int j = 8; j < argv.Length; j++)
            {
                string word = argv[j];
                int start, stop;
                if (word[0] == '[')
                {
                    // [slot->-id] or [slot-<-id]
                    int dash = word.IndexOf('-');
                    if (dash < 0 || word.Length < dash + 3 + ClusterNode.IdLength)
                    {
                        throw new ConfigException(CorruptedError);
                    }
                    int slot = Atoi(word[1..dash]);
                    char direction = word[dash + 1];
                    if (slot is < 0 or >= HashSlot.Count)
                    {
                        throw new ConfigException(CorruptedError);
                    }
                    var other = Lookup(word.Substring(dash + 3, ClusterNode.IdLength));
                    (direction == '>' ? migrating : importing).Add((slot, other));
                    continue;
                }
                int range = word.IndexOf('-');
                if (range >= 0)
                {
                    start = Atoi(word[..range]);
                    stop = Atoi(word[(range + 1)..]);
                }
                else
                {
                    start = stop = Atoi(word);
                }
                if (start is < 0 or >= HashSlot.Count || stop is < 0 or >= HashSlot.Count)
                {
                    throw new ConfigException(CorruptedError);
                }
                for (int slot = start; slot <= stop; slot++)
                {
                    // A slot claimed twice stays with the first claimant, as clusterAddSlot refuses the second.
                    if (owners[slot] is null)
                    {
                        owners[slot] = n;
                        n.Slots.Set(slot);
                    }
                }
            }
        }
        if (myself is null)
        {
            throw new ConfigException(CorruptedError);
        }
        foreach (var node in nodes.Values)
        {
            if (node.Master is { } master)
            {
                node.ShardId = master.ShardId;
            }
        }
        state.ReplaceAll(myself, nodes.Values, currentEpoch, lastVoteEpoch);
        foreach (var (slot, node) in migrating)
        {
            state.SetMigrating(slot, node);
        }
        foreach (var (slot, node) in importing)
        {
            state.SetImporting(slot, node);
        }
        ulong max = state.MaxEpoch();
        if (max > state.CurrentEpoch)
        {
            state.CurrentEpoch = max;
        }
    }

    private static ulong ParseEpoch(string text)
    {
        // strtoull: leading digits, anything else ends the number.
        ulong value = 0;
        foreach (char c in text)
        {
            if (c is < '0' or > '9')
            {
                break;
            }
            value = unchecked((value * 10) + (ulong)(c - '0'));
        }
        return value;
    }

    /// <summary>atoi: an optional sign and leading digits; 0 when none.</summary>
    private static int Atoi(string text)
    {
        int i = 0;
        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
        {
            negative = text[i] == '-';
            i++;
        }
        long value = 0;
        for (; i < text.Length && text[i] is >= '0' and <= '9' && value < int.MaxValue; i++)
        {
            value = (value * 10) + (text[i] - '0');
        }
        return (int)(negative ? -Math.Min(value, int.MaxValue) : Math.Min(value, int.MaxValue));
    }
}
