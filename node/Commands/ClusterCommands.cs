using System.Globalization;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The cluster family (Redis 7.0's clusterCommand, ASKING, READONLY, READWRITE) over the node's <see cref="ClusterState"/>.
/// In standalone mode every one of them answers that cluster support is disabled, as Redis does.
/// </summary>
internal static class ClusterCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.Stale;
    private const string Dangerous = "@admin @slow @dangerous";
    private const string Nondeterministic = "nondeterministic_output";

    public static IEnumerable<CommandSpec> All =>
    [
        new("cluster", -2, null)
        {
            Acl = "@slow", Since = "3.0.0", Summary = "A container for cluster commands", Complexity = "Depends on subcommand.",
            Subcommands =
            [
                new("cluster|addslots", -3, AddSlots)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Assign new hash slots to receiving node",
                    Complexity = "O(N) where N is the total number of hash slot arguments", Syntax = "slot [slot ...]",
                },
                new("cluster|addslotsrange", -4, AddSlotsRange)
                {
                    Flags = Admin, Acl = Dangerous, Since = "7.0.0", Summary = "Assign new hash slots to receiving node",
                    Complexity = "O(N) where N is the total number of the slots between the start slot and end slot arguments.", Syntax = "start-slot end-slot [start-slot end-slot ...]",
                },
                new("cluster|bumpepoch", 2, BumpEpoch)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Tips = Nondeterministic, Summary = "Advance the cluster config epoch", Complexity = "O(1)",
                },
                new("cluster|count-failure-reports", 3, CountFailureReports)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Tips = Nondeterministic, Summary = "Return the number of failure reports active for a given node",
                    Complexity = "O(N) where N is the number of failure reports", Syntax = "node-id",
                },
                new("cluster|countkeysinslot", 3, CountKeysInSlot)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Summary = "Return the number of local keys in the specified hash slot", Complexity = "O(1)", Syntax = "slot",
                },
                new("cluster|delslots", -3, DelSlots)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Set hash slots as unbound in receiving node",
                    Complexity = "O(N) where N is the total number of hash slot arguments", Syntax = "slot [slot ...]",
                },
                new("cluster|delslotsrange", -4, DelSlotsRange)
                {
                    Flags = Admin, Acl = Dangerous, Since = "7.0.0", Summary = "Set hash slots as unbound in receiving node",
                    Complexity = "O(N) where N is the total number of the slots between the start slot and end slot arguments.", Syntax = "start-slot end-slot [start-slot end-slot ...]",
                },
                new("cluster|failover", -2, Failover)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Forces a replica to perform a manual failover of its master.", Complexity = "O(1)", Syntax = "[FORCE | TAKEOVER]",
                },
                new("cluster|flushslots", 2, FlushSlots)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Delete a node's own slots information", Complexity = "O(1)",
                },
                new("cluster|forget", 3, Forget)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Remove a node from the nodes table", Complexity = "O(1)", Syntax = "node-id",
                },
                new("cluster|getkeysinslot", 4, GetKeysInSlot)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Tips = Nondeterministic, Summary = "Return local key names in the specified hash slot",
                    Complexity = "O(log(N)) where N is the number of requested keys", Syntax = "slot count",
                },
                new("cluster|help", 2, Help)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@slow", Since = "5.0.0", Summary = "Show helpful text about the different subcommands", Complexity = "O(1)",
                },
                new("cluster|info", 2, Info)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Tips = Nondeterministic, Summary = "Provides info about Redis Cluster node state", Complexity = "O(1)",
                },
                new("cluster|keyslot", 3, KeySlot)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Summary = "Returns the hash slot of the specified key",
                    Complexity = "O(N) where N is the number of bytes in the key", Syntax = "key",
                },
                new("cluster|links", 2, Links)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "7.0.0", Tips = Nondeterministic, Summary = "Returns a list of all TCP links to and from peer nodes in cluster",
                    Complexity = "O(N) where N is the total number of Cluster nodes",
                },
                new("cluster|meet", -4, Meet)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Force a node cluster to handshake with another node", Complexity = "O(1)", Syntax = "ip port [cluster_bus_port]",
                },
                new("cluster|myid", 2, MyId)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Summary = "Return the node id", Complexity = "O(1)",
                },
                // Redis 7.2's; 7.0.15 does not have it (its HELP does not list it, so neither does the node's).
                new("cluster|myshardid", 2, MyShardId)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "7.2.0", Tips = Nondeterministic, Summary = "Return the node shard id", Complexity = "O(1)",
                },
                new("cluster|nodes", 2, Nodes)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Tips = Nondeterministic, Summary = "Get Cluster config for the node",
                    Complexity = "O(N) where N is the total number of Cluster nodes",
                },
                new("cluster|replicas", 3, Replicas)
                {
                    Flags = Admin, Acl = Dangerous, Since = "5.0.0", Tips = Nondeterministic, Summary = "List replica nodes of the specified master node", Complexity = "O(1)", Syntax = "node-id",
                },
                new("cluster|replicate", 3, Replicate)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Reconfigure a node as a replica of the specified master node", Complexity = "O(1)", Syntax = "node-id",
                },
                new("cluster|reset", -2, Reset)
                {
                    Flags = Admin | CommandFlags.NoScript, Acl = Dangerous, Since = "3.0.0", Summary = "Reset a Redis Cluster node",
                    Complexity = "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.", Syntax = "[HARD | SOFT]",
                },
                new("cluster|saveconfig", 2, SaveConfig)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Forces the node to save cluster state on disk", Complexity = "O(1)",
                },
                new("cluster|set-config-epoch", 3, SetConfigEpoch)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Set the configuration epoch in a new node", Complexity = "O(1)", Syntax = "config-epoch",
                },
                new("cluster|setslot", -4, SetSlot)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Summary = "Bind a hash slot to a specific node", Complexity = "O(1)",
                    Syntax = "slot IMPORTING node-id | MIGRATING node-id | NODE node-id | STABLE",
                },
                new("cluster|shards", 2, Shards)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "7.0.0", Tips = Nondeterministic, Summary = "Get array of cluster slots to node mappings",
                    Complexity = "O(N) where N is the total number of cluster nodes",
                },
                new("cluster|slaves", 3, Replicas)
                {
                    Flags = Admin, Acl = Dangerous, Since = "3.0.0", Tips = Nondeterministic, Summary = "List replica nodes of the specified master node", Complexity = "O(1)", Syntax = "node-id",
                },
                new("cluster|slots", 2, Slots)
                {
                    Flags = CommandFlags.Stale, Acl = "@slow", Since = "3.0.0", Tips = Nondeterministic, Summary = "Get array of Cluster slot to node mappings",
                    Complexity = "O(N) where N is the total number of Cluster nodes",
                },
            ],
        },
        new("asking", 1, Asking)
        {
            Flags = CommandFlags.Fast, Acl = "@fast @connection", Since = "3.0.0", Summary = "Sent by cluster clients after an -ASK redirect", Complexity = "O(1)",
        },
        new("readonly", 1, ReadOnly)
        {
            Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Acl = "@fast @connection", Since = "3.0.0",
            Summary = "Enables read queries for a connection to a cluster replica node", Complexity = "O(1)",
        },
        new("readwrite", 1, ReadWrite)
        {
            Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Acl = "@fast @connection", Since = "3.0.0",
            Summary = "Disables read queries for a connection to a cluster replica node", Complexity = "O(1)",
        },
    ];

    private const string Disabled = "ERR This instance has cluster support disabled";

    /// <summary>The cluster state, or null after answering that cluster support is disabled.</summary>
    private static ClusterState? StateOf(Session s)
    {
        var state = s.Server.Cluster;
        if (state is null)
        {
            s.Reply.WriteError(Disabled);
        }
        return state;
    }

    /// <summary>The node named by argument <paramref name="at"/>, or null after answering Redis's unknown-node error.</summary>
    private static ClusterNode? NamedNode(Session s, ClusterState state, ArgList a, int at)
    {
        var node = state.Find(a[at]);
        if (node is null)
        {
            s.Reply.WriteError($"ERR Unknown node {a.GetString(at)}");
        }
        return node;
    }

    /// <summary>Redis's addReplySubcommandSyntaxError.</summary>
    private static void SubcommandSyntaxError(Session s, ArgList a)
    {
        string sub = a.GetString(1);
        s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{(sub.Length > 128 ? sub[..128] : sub)}'. Try CLUSTER HELP.");
    }

    /// <summary>Redis's getSlotOrReply: a slot number, or -1 after the error.</summary>
    private static int SlotOrReply(Session s, ReadOnlySpan<byte> text)
    {
        if (!NumberFormat.TryParseInt64(text, out long slot) || slot < 0 || slot >= HashSlot.Count)
        {
            s.Reply.WriteError("ERR Invalid or out of range slot");
            return -1;
        }
        return (int)slot;
    }

    /// <summary>
    /// Ends a command that changed the state: the state update and nodes.conf write it scheduled run once the client's
    /// batch of commands is done (CommandRunner, as Redis's clusterBeforeSleep), or at the next cron tick for other callers.
    /// </summary>
    private static void Done(ClusterState state) => state.Schedule(ClusterTodo.SaveConfig);

    private static void Help(Session s, ArgList a)
    {
        if (StateOf(s) is null)
        {
            return;
        }
        HelpReply.Write(s, "CLUSTER",
            "ADDSLOTS <slot> [<slot> ...]",
            "    Assign slots to current node.",
            "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
            "    Assign slots which are between <start-slot> and <end-slot> to current node.",
            "BUMPEPOCH",
            "    Advance the cluster config epoch.",
            "COUNT-FAILURE-REPORTS <node-id>",
            "    Return number of failure reports for <node-id>.",
            "COUNTKEYSINSLOT <slot>",
            "    Return the number of keys in <slot>.",
            "DELSLOTS <slot> [<slot> ...]",
            "    Delete slots information from current node.",
            "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
            "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
            "FAILOVER [FORCE|TAKEOVER]",
            "    Promote current replica node to being a master.",
            "FORGET <node-id>",
            "    Remove a node from the cluster.",
            "GETKEYSINSLOT <slot> <count>",
            "    Return key names stored by current node in a slot.",
            "FLUSHSLOTS",
            "    Delete current node own slots information.",
            "INFO",
            "    Return information about the cluster.",
            "KEYSLOT <key>",
            "    Return the hash slot for <key>.",
            "MEET <ip> <port> [<bus-port>]",
            "    Connect nodes into a working cluster.",
            "MYID",
            "    Return the node id.",
            "NODES",
            "    Return cluster configuration seen by node. Output format:",
            "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
            "REPLICATE <node-id>",
            "    Configure current node as replica to <node-id>.",
            "RESET [HARD|SOFT]",
            "    Reset current node (default: soft).",
            "SET-CONFIG-EPOCH <epoch>",
            "    Set config epoch of current node.",
            "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
            "    Set slot state.",
            "REPLICAS <node-id>",
            "    Return <node-id> replicas.",
            "SAVECONFIG",
            "    Force saving cluster configuration on disk.",
            "SLOTS",
            "    Return information about slots range mappings. Each range is made of:",
            "    start, end, master and replicas IP addresses, ports and ids",
            "SHARDS",
            "    Return information about slot range mappings and the nodes associated with them.",
            "LINKS",
            "    Return information about all network links between this node and its peers.",
            "    Output format is an array where each array element is a map containing attributes of a link");
    }

    private static void Meet(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (a.Count > 5)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        if (!NumberFormat.TryParseInt64(a[3], out long port))
        {
            s.Reply.WriteError($"ERR Invalid TCP base port specified: {a.GetString(3)}");
            return;
        }
        long busPort = port + 10000;
        if (a.Count == 5 && !NumberFormat.TryParseInt64(a[4], out busPort))
        {
            s.Reply.WriteError($"ERR Invalid TCP bus port specified: {a.GetString(4)}");
            return;
        }
        string ip = a.GetString(2);
        bool invalid = !IsIpAddress(ip) || port is <= 0 or > 65535 || busPort is <= 0 or > 65535;
        if (!invalid)
        {
            state.StartHandshake(ip, (int)port, (int)busPort, out invalid);
        }
        if (invalid)
        {
            s.Reply.WriteError($"ERR Invalid node address specified: {ip}:{a.GetString(3)}");
            return;
        }
        Done(state);
        s.Reply.WriteOk();
    }

    /// <summary>An address inet_pton accepts: four dotted decimals without leading zeros, or an IPv6 address.</summary>
    private static bool IsIpAddress(string ip)
    {
        if (ip.Contains(':'))
        {
            return System.Net.IPAddress.TryParse(ip, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !ip.Contains('%');
        }
        var parts = ip.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is > 0 and <= 3 && p.All(char.IsAsciiDigit) && (p.Length == 1 || p[0] != '0') && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    private static void Nodes(Session s, ArgList a)
    {
        if (StateOf(s) is { } state)
        {
            s.Reply.WriteVerbatim(ClusterConfigFile.DescribeAll(state, ClusterNodeFlags.None));
        }
    }

    private static void MyId(Session s, ArgList a)
    {
        if (StateOf(s) is { } state)
        {
            s.Reply.WriteBulk(state.Myself.Id);
        }
    }

    private static void MyShardId(Session s, ArgList a)
    {
        if (StateOf(s) is { } state)
        {
            s.Reply.WriteBulk(state.Myself.ShardId);
        }
    }

    /// <summary>Where clients reach a node, per cluster-preferred-endpoint-type (Redis's getPreferredEndpoint).</summary>
    internal static string PreferredEndpoint(ClusterState state, ClusterNode node) => state.Config.ClusterPreferredEndpointType.Text switch
    {
        "ip" => node.Ip,
        "hostname" => node.Hostname.Length > 0 ? node.Hostname : "?",
        _ => "",
    };

    /// <summary>One node in CLUSTER SLOTS (Redis's addNodeToNodeReply): endpoint, port, id, and the other known endpoints.</summary>
    private static void WriteSlotsNode(Session s, ClusterState state, ClusterNode node)
    {
        string type = state.Config.ClusterPreferredEndpointType.Text;
        s.Reply.WriteArrayHeader(4);
        switch (type)
        {
            case "ip": s.Reply.WriteBulk(node.Ip); break;
            case "hostname": s.Reply.WriteBulk(node.Hostname.Length > 0 ? node.Hostname : "?"); break;
            default: s.Reply.WriteNullBulk(); break;
        }
        s.Reply.WriteInteger(node.Port);
        s.Reply.WriteBulk(node.Id);
        bool ip = type != "ip";
        bool hostname = type != "hostname" && node.Hostname.Length > 0;
        s.Reply.WriteMapHeader((ip ? 1 : 0) + (hostname ? 1 : 0));
        if (ip)
        {
            s.Reply.WriteBulk("ip"u8);
            s.Reply.WriteBulk(node.Ip);
        }
        if (hostname)
        {
            s.Reply.WriteBulk("hostname"u8);
            s.Reply.WriteBulk(node.Hostname);
        }
    }

    /// <summary>Redis's isReplicaAvailable: not failed and with a replication offset.</summary>
    private static bool IsReplicaAvailable(ClusterNode node) => !node.IsFailed && node.ReplOffset != 0;

    private static void Slots(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        var ranges = new List<(int Start, int End, ClusterNode Node)>();
        for (int slot = 0; slot < HashSlot.Count;)
        {
            var owner = state.OwnerOf(slot);
            int end = slot;
            while (end + 1 < HashSlot.Count && state.OwnerOf(end + 1) == owner)
            {
                end++;
            }
            if (owner is not null)
            {
                ranges.Add((slot, end, owner));
            }
            slot = end + 1;
        }
        s.Reply.WriteArrayHeader(ranges.Count);
        foreach (var (start, end, node) in ranges)
        {
            var replicas = node.Replicas.Where(IsReplicaAvailable).ToList();
            s.Reply.WriteArrayHeader(3 + replicas.Count);
            s.Reply.WriteInteger(start);
            s.Reply.WriteInteger(end);
            WriteSlotsNode(s, state, node);
            foreach (var replica in replicas)
            {
                WriteSlotsNode(s, state, replica);
            }
        }
    }

    private static void Shards(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        var masters = state.Nodes.Where(n => !n.IsReplica).ToList();
        s.Reply.WriteArrayHeader(masters.Count);
        foreach (var master in masters)
        {
            s.Reply.WriteMapHeader(2);
            s.Reply.WriteBulk("slots"u8);
            var ranges = master.Slots.Ranges().ToList();
            s.Reply.WriteArrayHeader(ranges.Count * 2);
            foreach (var (start, end) in ranges)
            {
                s.Reply.WriteInteger(start);
                s.Reply.WriteInteger(end);
            }
            s.Reply.WriteBulk("nodes"u8);
            s.Reply.WriteArrayHeader(1 + master.Replicas.Count);
            WriteShardNode(s, state, master);
            foreach (var replica in master.Replicas)
            {
                WriteShardNode(s, state, replica);
            }
        }
    }

    /// <summary>One node in CLUSTER SHARDS (Redis's addNodeDetailsToShardReply).</summary>
    private static void WriteShardNode(Session s, ClusterState state, ClusterNode node)
    {
        bool hasHostname = node.Hostname.Length > 0;
        s.Reply.WriteMapHeader(7 + (hasHostname ? 1 : 0) - (node.Port == 0 ? 1 : 0));
        s.Reply.WriteBulk("id"u8);
        s.Reply.WriteBulk(node.Id);
        if (node.Port != 0)
        {
            s.Reply.WriteBulk("port"u8);
            s.Reply.WriteInteger(node.Port);
        }
        s.Reply.WriteBulk("ip"u8);
        s.Reply.WriteBulk(node.Ip);
        s.Reply.WriteBulk("endpoint"u8);
        s.Reply.WriteBulk(PreferredEndpoint(state, node));
        if (hasHostname)
        {
            s.Reply.WriteBulk("hostname"u8);
            s.Reply.WriteBulk(node.Hostname);
        }
        long offset = node.IsMyself ? 0 : node.ReplOffset;
        s.Reply.WriteBulk("role"u8);
        s.Reply.WriteBulk(node.IsReplica ? "replica"u8 : "master"u8);
        s.Reply.WriteBulk("replication-offset"u8);
        s.Reply.WriteInteger(offset);
        s.Reply.WriteBulk("health"u8);
        s.Reply.WriteBulk(node.IsFailed ? "fail"u8 : node.IsReplica && offset == 0 ? "loading"u8 : "online"u8);
    }

    private static void FlushSlots(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (s.Keyspace[0].Count != 0)
        {
            s.Reply.WriteError("ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
            return;
        }
        state.DeleteNodeSlots(state.Myself);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void AddSlots(Session s, ArgList a) => ChangeSlots(s, a, delete: false, ranges: false);

    private static void DelSlots(Session s, ArgList a) => ChangeSlots(s, a, delete: true, ranges: false);

    private static void AddSlotsRange(Session s, ArgList a) => ChangeSlots(s, a, delete: false, ranges: true);

    private static void DelSlotsRange(Session s, ArgList a) => ChangeSlots(s, a, delete: true, ranges: true);

    /// <summary>ADDSLOTS, DELSLOTS and their RANGE forms: every argument checked before any slot changes (Redis's checkSlotAssignmentsOrReply).</summary>
    private static void ChangeSlots(Session s, ArgList a, bool delete, bool ranges)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        var chosen = new byte[HashSlot.Count];
        if (ranges)
        {
            if (a.Count % 2 == 1)
            {
                s.Reply.WriteError(Errors.WrongArgs(delete ? "cluster|delslotsrange" : "cluster|addslotsrange"));
                return;
            }
            for (int j = 2; j < a.Count; j += 2)
            {
                int start = SlotOrReply(s, a[j]);
                if (start < 0)
                {
                    return;
                }
                int end = SlotOrReply(s, a[j + 1]);
                if (end < 0)
                {
                    return;
                }
                if (start > end)
                {
                    s.Reply.WriteError($"ERR start slot number {start} is greater than end slot number {end}");
                    return;
                }
                if (!CheckAssignments(s, state, chosen, delete, start, end))
                {
                    return;
                }
            }
        }
        else
        {
            for (int j = 2; j < a.Count; j++)
            {
                if (SlotOrReply(s, a[j]) < 0)
                {
                    return;
                }
            }
            for (int j = 2; j < a.Count; j++)
            {
                int slot = SlotOrReply(s, a[j]);
                if (!CheckAssignments(s, state, chosen, delete, slot, slot))
                {
                    return;
                }
            }
        }
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (chosen[slot] != 0)
            {
                // Now the owner, this node imports it no more.
                if (state.ImportingFrom(slot) is not null)
                {
                    state.SetImporting(slot, null);
                }
                if (delete)
                {
                    state.DeleteSlot(slot);
                }
                else
                {
                    state.AddSlot(state.Myself, slot);
                }
            }
        }
        Done(state);
        s.Reply.WriteOk();
    }

    private static bool CheckAssignments(Session s, ClusterState state, byte[] chosen, bool delete, int start, int end)
    {
        for (int slot = start; slot <= end; slot++)
        {
            if (delete && state.OwnerOf(slot) is null)
            {
                s.Reply.WriteError($"ERR Slot {slot} is already unassigned");
                return false;
            }
            if (!delete && state.OwnerOf(slot) is not null)
            {
                s.Reply.WriteError($"ERR Slot {slot} is already busy");
                return false;
            }
            if (chosen[slot]++ == 1)
            {
                s.Reply.WriteError($"ERR Slot {slot} specified multiple times");
                return false;
            }
        }
        return true;
    }

    private static void SetSlot(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (state.Myself.IsReplica)
        {
            s.Reply.WriteError("ERR Please use SETSLOT only with masters.");
            return;
        }
        int slot = SlotOrReply(s, a[2]);
        if (slot < 0)
        {
            return;
        }
        string action = a.GetString(3).ToLowerInvariant();
        if (action == "migrating" && a.Count == 5)
        {
            if (state.OwnerOf(slot) != state.Myself)
            {
                s.Reply.WriteError($"ERR I'm not the owner of hash slot {slot}");
                return;
            }
            if (state.Find(a[4]) is not { } target)
            {
                s.Reply.WriteError($"ERR I don't know about node {a.GetString(4)}");
                return;
            }
            if (target.IsReplica)
            {
                s.Reply.WriteError("ERR Target node is not a master");
                return;
            }
            state.SetMigrating(slot, target);
        }
        else if (action == "importing" && a.Count == 5)
        {
            if (state.OwnerOf(slot) == state.Myself)
            {
                s.Reply.WriteError($"ERR I'm already the owner of hash slot {slot}");
                return;
            }
            if (state.Find(a[4]) is not { } source)
            {
                s.Reply.WriteError($"ERR I don't know about node {a.GetString(4)}");
                return;
            }
            if (source.IsReplica)
            {
                s.Reply.WriteError("ERR Target node is not a master");
                return;
            }
            state.SetImporting(slot, source);
        }
        else if (action == "stable" && a.Count == 4)
        {
            state.SetImporting(slot, null);
            state.SetMigrating(slot, null);
        }
        else if (action == "node" && a.Count == 5)
        {
            if (NamedNode(s, state, a, 4) is not { } node)
            {
                return;
            }
            if (node.IsReplica)
            {
                s.Reply.WriteError("ERR Target node is not a master");
                return;
            }
            int keys = s.Keyspace[0].Table.CountInSlot(slot);
            if (state.OwnerOf(slot) == state.Myself && node != state.Myself && keys != 0)
            {
                s.Reply.WriteError($"ERR Can't assign hashslot {slot} to a different node while I still hold keys for this hash slot.");
                return;
            }
            // A migrating slot without keys left is simply handed over.
            if (keys == 0 && state.MigratingTo(slot) is not null)
            {
                state.SetMigrating(slot, null);
            }
            bool wasMine = state.OwnerOf(slot) == state.Myself;
            state.DeleteSlot(slot);
            state.AddSlot(node, slot);
            if (wasMine && node != state.Myself && state.Myself.Slots.Count == 0 && state.Config.ClusterAllowReplicaMigration.IsOn)
            {
                state.LogWarning?.Invoke($"Configuration change detected. Reconfiguring myself as a replica of {node.Id}");
                state.SetMyMaster(node);
                state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
            }
            if (node == state.Myself && state.ImportingFrom(slot) is not null)
            {
                // The slot was migrated by hand: a new config epoch lets the cluster learn the new owner.
                if (state.BumpEpochWithoutConsensus())
                {
                    state.LogWarning?.Invoke($"configEpoch updated after importing slot {slot}");
                }
                state.SetImporting(slot, null);
                state.BroadcastPong?.Invoke();
            }
        }
        else
        {
            s.Reply.WriteError("ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
            return;
        }
        state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void BumpEpoch(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        bool bumped = state.BumpEpochWithoutConsensus();
        Done(state);
        s.Reply.WriteSimple($"{(bumped ? "BUMPED" : "STILL")} {state.Myself.ConfigEpoch.ToString(CultureInfo.InvariantCulture)}");
    }

    private static void Info(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        var slots = state.CountSlots();
        var info = new StringBuilder();
        info.Append(CultureInfo.InvariantCulture, $"cluster_state:{(state.IsOk ? "ok" : "fail")}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_slots_assigned:{slots.Assigned}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_slots_ok:{slots.Ok}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_slots_pfail:{slots.PFail}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_slots_fail:{slots.Fail}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_known_nodes:{state.Nodes.Count}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_size:{state.Size}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_current_epoch:{state.CurrentEpoch}\r\n")
            .Append(CultureInfo.InvariantCulture, $"cluster_my_epoch:{state.MyEpoch}\r\n");
        AppendMessageStats(info, state.MessagesSent, "sent");
        AppendMessageStats(info, state.MessagesReceived, "received");
        info.Append(CultureInfo.InvariantCulture, $"total_cluster_links_buffer_limit_exceeded:{state.LinksBufferLimitExceeded}\r\n");
        s.Reply.WriteVerbatim(info.ToString());
    }

    private static void AppendMessageStats(StringBuilder info, long[] counts, string direction)
    {
        long total = 0;
        for (int type = 0; type < counts.Length; type++)
        {
            if (counts[type] == 0)
            {
                continue;
            }
            total += counts[type];
            info.Append(CultureInfo.InvariantCulture, $"cluster_stats_messages_{BusMessageTypes.Names[type]}_{direction}:{counts[type]}\r\n");
        }
        info.Append(CultureInfo.InvariantCulture, $"cluster_stats_messages_{direction}:{total}\r\n");
    }

    private static void SaveConfig(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        try
        {
            if (state.ConfigPath is not null)
            {
                ClusterConfigFile.Save(state, state.ConfigPath);
            }
            s.Reply.WriteOk();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            s.Reply.WriteError($"ERR error saving the cluster node config: {e.Message}");
        }
    }

    private static void KeySlot(Session s, ArgList a)
    {
        if (StateOf(s) is not null)
        {
            s.Reply.WriteInteger(HashSlot.Of(a[2]));
        }
    }

    private static void CountKeysInSlot(Session s, ArgList a)
    {
        if (StateOf(s) is null || !s.TryParseLong(a[2], out long slot))
        {
            return;
        }
        if (slot < 0 || slot >= HashSlot.Count)
        {
            s.Reply.WriteError("ERR Invalid slot");
            return;
        }
        s.Reply.WriteInteger(s.Keyspace[0].Table.CountInSlot((int)slot));
    }

    private static void GetKeysInSlot(Session s, ArgList a)
    {
        if (StateOf(s) is null || !s.TryParseLong(a[2], out long slot) || !s.TryParseLong(a[3], out long max))
        {
            return;
        }
        if (slot < 0 || slot >= HashSlot.Count || max < 0)
        {
            s.Reply.WriteError("ERR Invalid slot or number of keys");
            return;
        }
        var table = s.Keyspace[0].Table;
        int count = (int)Math.Min(max, table.CountInSlot((int)slot));
        s.Reply.WriteArrayHeader(count);
        int index = table.FirstInSlot((int)slot);
        for (int i = 0; i < count; i++)
        {
            s.Reply.WriteBulk(table[index].Key);
            index = table.NextInSlot(index);
        }
    }

    private static void Forget(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (NamedNode(s, state, a, 2) is not { } node)
        {
            return;
        }
        if (node == state.Myself)
        {
            s.Reply.WriteError("ERR I tried hard but I can't forget myself...");
            return;
        }
        if (state.Myself.IsReplica && state.Myself.Master == node)
        {
            s.Reply.WriteError("ERR Can't forget my master!");
            return;
        }
        state.Forget(node);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void Replicate(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (NamedNode(s, state, a, 2) is not { } node)
        {
            return;
        }
        if (node == state.Myself)
        {
            s.Reply.WriteError("ERR Can't replicate myself");
            return;
        }
        if (node.IsReplica)
        {
            s.Reply.WriteError("ERR I can only replicate a master, not a replica.");
            return;
        }
        if (state.Myself.IsMaster && (state.Myself.Slots.Count != 0 || s.Keyspace[0].Count != 0))
        {
            s.Reply.WriteError("ERR To set a master the node must be empty and without assigned slots.");
            return;
        }
        state.SetMyMaster(node);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void Replicas(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (NamedNode(s, state, a, 2) is not { } node)
        {
            return;
        }
        if (node.IsReplica)
        {
            s.Reply.WriteError("ERR The specified node is not a master");
            return;
        }
        s.Reply.WriteArrayHeader(node.Replicas.Count);
        var line = new StringBuilder();
        foreach (var replica in node.Replicas)
        {
            line.Clear();
            ClusterConfigFile.Describe(state, replica, line);
            s.Reply.WriteBulk(line.ToString());
        }
    }

    private static void CountFailureReports(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (NamedNode(s, state, a, 2) is not { } node)
        {
            return;
        }
        s.Reply.WriteInteger(node.CountFailureReports(state.Config.ClusterNodeTimeout.Number, state.NowMs));
    }

    private static void Failover(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (a.Count > 3)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        var mode = ManualFailoverMode.Default;
        if (a.Count == 3)
        {
            if (a.Is(2, "FORCE"u8))
            {
                mode = ManualFailoverMode.Force;
            }
            else if (a.Is(2, "TAKEOVER"u8))
            {
                mode = ManualFailoverMode.Takeover;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (state.Myself.IsMaster)
        {
            s.Reply.WriteError("ERR You should send CLUSTER FAILOVER to a replica");
            return;
        }
        if (state.Myself.Master is not { } master)
        {
            s.Reply.WriteError("ERR I'm a replica but my master is unknown to me");
            return;
        }
        if (mode == ManualFailoverMode.Default && (master.IsFailed || !master.LinkConnected))
        {
            s.Reply.WriteError("ERR Master is down or failed, please use CLUSTER FAILOVER FORCE");
            return;
        }
        s.Server.Bus?.StartManualFailover(mode);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void SetConfigEpoch(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state || !s.TryParseLong(a[2], out long epoch))
        {
            return;
        }
        if (epoch < 0)
        {
            s.Reply.WriteError($"ERR Invalid config epoch specified: {epoch}");
        }
        else if (state.Nodes.Count > 1)
        {
            s.Reply.WriteError("ERR The user can assign a config epoch only when the node does not know any other node.");
        }
        else if (state.Myself.ConfigEpoch != 0)
        {
            s.Reply.WriteError("ERR Node config epoch is already non-zero");
        }
        else
        {
            state.Myself.ConfigEpoch = (ulong)epoch;
            state.LogWarning?.Invoke($"configEpoch set to {epoch} via CLUSTER SET-CONFIG-EPOCH");
            if (state.CurrentEpoch < (ulong)epoch)
            {
                state.CurrentEpoch = (ulong)epoch;
            }
            state.Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
            Done(state);
            s.Reply.WriteOk();
        }
    }

    private static void Reset(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        if (a.Count > 3)
        {
            SubcommandSyntaxError(s, a);
            return;
        }
        bool hard = false;
        if (a.Count == 3)
        {
            string option = a.GetString(2).ToLowerInvariant();
            if (option is not ("hard" or "soft"))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
            hard = option == "hard";
        }
        if (state.Myself.IsMaster && s.Db.Count != 0)
        {
            s.Reply.WriteError("ERR CLUSTER RESET can't be called with master nodes containing keys");
            return;
        }
        if (state.Myself.IsReplica)
        {
            // A replica's data goes with its role (Redis's emptyData).
            for (int db = 0; db < s.Keyspace.DatabaseCount; db++)
            {
                s.Keyspace[db].Clear();
            }
        }
        state.Reset(hard);
        Done(state);
        s.Reply.WriteOk();
    }

    private static void Links(Session s, ArgList a)
    {
        if (StateOf(s) is not { } state)
        {
            return;
        }
        var links = state.DescribeLinks?.Invoke() ?? [];
        s.Reply.WriteArrayHeader(links.Count);
        foreach (var link in links)
        {
            s.Reply.WriteMapHeader(6);
            s.Reply.WriteBulk("direction"u8);
            s.Reply.WriteBulk(link.Inbound ? "from"u8 : "to"u8);
            s.Reply.WriteBulk("node"u8);
            s.Reply.WriteBulk(link.NodeId);
            s.Reply.WriteBulk("create-time"u8);
            s.Reply.WriteInteger(link.CreatedMs);
            s.Reply.WriteBulk("events"u8);
            s.Reply.WriteBulk(link.Events);
            s.Reply.WriteBulk("send-buffer-allocated"u8);
            s.Reply.WriteInteger(link.SendBufferAllocated);
            s.Reply.WriteBulk("send-buffer-used"u8);
            s.Reply.WriteInteger(link.SendBufferUsed);
        }
    }

    private static void Asking(Session s, ArgList a)
    {
        if (StateOf(s) is null)
        {
            return;
        }
        s.Asking = true;
        s.Reply.WriteOk();
    }

    private static void ReadOnly(Session s, ArgList a)
    {
        if (StateOf(s) is null)
        {
            return;
        }
        s.ReadOnlyReplica = true;
        s.Reply.WriteOk();
    }

    private static void ReadWrite(Session s, ArgList a)
    {
        if (StateOf(s) is null)
        {
            return;
        }
        s.ReadOnlyReplica = false;
        s.Reply.WriteOk();
    }
}
