using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Cluster;

/// <summary>
/// The slot check of cluster mode (Redis 7.0's getNodeByQuery and clusterRedirectClient): before a command with keys
/// runs or is queued in MULTI, and for EXEC over the whole queue, decides whether this node serves it, or answers
/// CROSSSLOT, TRYAGAIN, CLUSTERDOWN, ASK or MOVED. Runs under the keyspace lock; finding the keys allocates nothing.
/// </summary>
public static class ClusterRouting
{
    private enum Outcome
    {
        Serve,
        CrossSlot,
        Unstable,
        Ask,
        Moved,
        DownState,
        DownUnbound,
        DownReadOnlyState,
    }

    /// <summary>
    /// True when this node may run <paramref name="args"/> (of <paramref name="spec"/>) for the session; otherwise the
    /// redirection or error is written (and counted) and false returned. <paramref name="isExec"/>: the command is EXEC,
    /// checked over the queued commands.
    /// </summary>
    public static bool Check(ClusterState state, Session session, CommandSpec spec, ArgList args, bool isExec, out string? error)
    {
        error = null;
        ClusterNode? node;
        int slot;
        Outcome outcome;
        if (isExec)
        {
            if (session.Multi is not { } multi)
            {
                return true;
            }
            outcome = Route(state, session, spec, multi, default, out node, out slot);
        }
        else
        {
            outcome = Route(state, session, spec, null, args, out node, out slot);
        }
        if (outcome == Outcome.Serve)
        {
            return true;
        }
        error = outcome switch
        {
            Outcome.CrossSlot => "CROSSSLOT Keys in request don't hash to the same slot",
            Outcome.Unstable => "TRYAGAIN Multiple keys request during rehashing of slot",
            Outcome.DownState => "CLUSTERDOWN The cluster is down",
            Outcome.DownReadOnlyState => "CLUSTERDOWN The cluster is down and only accepts read commands",
            Outcome.DownUnbound => "CLUSTERDOWN Hash slot not served",
            _ => $"{(outcome == Outcome.Ask ? "ASK" : "MOVED")} {slot} {ClusterEndpoint(state, node!)}:{node!.Port}",
        };
        if (outcome == Outcome.Ask)
        {
            state.AskRedirections++;
        }
        else if (outcome == Outcome.Moved)
        {
            state.MovedRedirections++;
        }
        return false;
    }

    private static string ClusterEndpoint(ClusterState state, ClusterNode node) => state.Config.ClusterPreferredEndpointType.Text switch
    {
        "ip" => node.Ip,
        "hostname" => node.Hostname.Length > 0 ? node.Hostname : "?",
        _ => "",
    };

    private static Outcome Route(ClusterState state, Session session, CommandSpec spec, MultiState? multi, ArgList single, out ClusterNode? node, out int slot)
    {
        node = null;
        slot = 0;
        var keys = state.RoutingKeys;
        var db = session.Keyspace[0];
        byte[]? firstKeyCopy = null;
        ReadOnlySpan<byte> firstKey = default;
        bool haveFirst = false, multipleKeys = false, migrating = false, importing = false;
        int missing = 0, existing = 0;
        int commands = multi?.Commands.Count ?? 1;
        for (int c = 0; c < commands; c++)
        {
            CommandSpec? command = spec;
            ArgList line = single;
            if (multi is not null)
            {
                line = new ArgList(multi.Commands[c]);
                command = session.Server.Commands.Find(line[0]);
                if (command is null)
                {
                    continue;
                }
                if (command.Subcommands.Count > 0 && line.Count >= 2)
                {
                    command = CommandTable.FindSubcommand(command, line[1]);
                    if (command is null)
                    {
                        continue;
                    }
                }
            }
            int found = KeyExtractor.GetRoutingKeys(command, line, keys);
            for (int k = 0; k < found; k++)
            {
                var key = line[keys[k].Position];
                int keySlot = HashSlot.Of(key);
                if (!haveFirst)
                {
                    haveFirst = true;
                    // Keys of queued commands live in their own arrays; a single command's in the request buffer, alive throughout.
                    if (multi is not null)
                    {
                        firstKeyCopy = multi.Commands[c][keys[k].Position];
                    }
                    else
                    {
                        firstKey = key;
                    }
                    slot = keySlot;
                    node = state.OwnerOf(slot);
                    if (node is null)
                    {
                        return Outcome.DownUnbound;
                    }
                    if (node == state.Myself && state.MigratingTo(slot) is not null)
                    {
                        migrating = true;
                    }
                    else if (state.ImportingFrom(slot) is not null)
                    {
                        importing = true;
                    }
                }
                else if (!key.SequenceEqual(firstKeyCopy is null ? firstKey : firstKeyCopy))
                {
                    if (slot != keySlot)
                    {
                        return Outcome.CrossSlot;
                    }
                    multipleKeys = true;
                }
                if (migrating || importing)
                {
                    if (Exists(db, key))
                    {
                        existing++;
                    }
                    else
                    {
                        missing++;
                    }
                }
            }
        }
        if (node is null)
        {
            return Outcome.Serve;
        }
        bool isWrite = multi is not null ? multi.HasWrites : (spec.Flags & CommandFlags.Write) != 0;
        bool shardPubSub = (spec.Flags & CommandFlags.PubSub) != 0;
        if (!state.IsOk && shardPubSub)
        {
            if (!state.Config.ClusterAllowPubsubshardWhenDown.IsOn)
            {
                return Outcome.DownState;
            }
        }
        else if (!state.IsOk)
        {
            if (!state.Config.ClusterAllowReadsWhenDown.IsOn)
            {
                return Outcome.DownState;
            }
            if ((spec.Flags & CommandFlags.Write) != 0)
            {
                return Outcome.DownReadOnlyState;
            }
        }
        if ((migrating || importing) && spec.Name == "migrate")
        {
            return Outcome.Serve;
        }
        if (migrating && missing > 0)
        {
            // Some keys here and some gone: the client must retry once the slot has moved.
            if (existing > 0)
            {
                return Outcome.Unstable;
            }
            node = state.MigratingTo(slot);
            return Outcome.Ask;
        }
        if (importing && (session.Asking || (spec.Flags & CommandFlags.Asking) != 0))
        {
            return multipleKeys && missing > 0 ? Outcome.Unstable : Outcome.Serve;
        }
        // A replica serves its master's shard channels without READONLY, as Redis 7.0.
        if ((session.ReadOnlyReplica || shardPubSub) && !isWrite && state.Myself.IsReplica && state.Myself.Master == node)
        {
            return Outcome.Serve;
        }
        return node == state.Myself ? Outcome.Serve : Outcome.Moved;
    }

    /// <summary>True when the key is there and not logically expired (looked up without touching, counting or expiring it).</summary>
    private static bool Exists(Database db, ReadOnlySpan<byte> key)
    {
        int index = db.Table.Find(key);
        return index >= 0 && !db.IsExpired(index);
    }
}
