using System.Net;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Cluster;

/// <summary>Work a change leaves for the end of the current turn (Redis's CLUSTER_TODO_* flags), done by <see cref="ClusterState.DoPending"/>.</summary>
[Flags]
public enum ClusterTodo
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Recompute ok/fail and the size.</summary>
    UpdateState = 2,

    /// <summary>Write nodes.conf.</summary>
    SaveConfig = 4,

    /// <summary>Write nodes.conf and fsync it (the file is always fsynced; kept for the bus runtime's parity with Redis).</summary>
    FsyncConfig = 8,
}

/// <summary>
/// This node's view of the cluster (Redis 7.0's clusterState): the nodes by id, the epochs, which node owns
/// each slot, the slots migrating and importing, and whether the cluster is ok. Every member is read and changed
/// under the keyspace lock (<see cref="Storage.Keyspace.Sync"/>), the lock commands run under: CLUSTER commands
/// and the redirection check hold it already; the bus runtime takes it around each message it applies and then
/// calls <see cref="DoPending"/>. Nothing here does network I/O.
/// </summary>
public sealed class ClusterState
{
    /// <summary>Redis's CLUSTER_WRITABLE_DELAY: a master that starts in fail stays so this long.</summary>
    private const long WritableDelayMs = 2000;
    private const long MinRejoinDelayMs = 500;
    private const long MaxRejoinDelayMs = 5000;

    /// <summary>How long a forgotten node may not be re-added (Redis's CLUSTER_BLACKLIST_TTL, seconds).</summary>
    public const int BlacklistTtlSeconds = 60;

    private readonly Dictionary<string, ClusterNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _blacklist = new(StringComparer.Ordinal);
    private readonly ClusterNode?[] _owners = new ClusterNode?[HashSlot.Count];
    private readonly ClusterNode?[] _migratingTo = new ClusterNode?[HashSlot.Count];
    private readonly ClusterNode?[] _importingFrom = new ClusterNode?[HashSlot.Count];
    private int _openSlots; // Entries set in _migratingTo and _importingFrom, so a description skips the walk when none is.
    private readonly Func<long> _clock;
    private long _firstUpdateMs;
    private long _amongMinorityMs;

    /// <summary>
    /// A state whose only node is a new master with a random id (Redis's clusterInit without a config file);
    /// <see cref="ClusterConfigFile.Load"/> replaces it with the file's. <paramref name="clock"/> gives unix ms (tests may fix it).
    /// </summary>
    public ClusterState(NodeConfig config, Func<long>? clock = null)
    {
        Config = config;
        _clock = clock ?? (() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Myself = new ClusterNode(ClusterNode.NewId(), ClusterNodeFlags.Myself | ClusterNodeFlags.Master, NowMs);
        _nodes.Add(Myself.Id, Myself);
    }

    /// <summary>The configuration (node timeout, coverage, announced address).</summary>
    public NodeConfig Config { get; }

    /// <summary>Unix milliseconds now, from the state's clock.</summary>
    public long NowMs => _clock();

    /// <summary>This node.</summary>
    public ClusterNode Myself { get; private set; }

    /// <summary>The cluster's current epoch as this node knows it.</summary>
    public ulong CurrentEpoch { get; set; }

    /// <summary>The epoch of the last failover vote this node granted.</summary>
    public ulong LastVoteEpoch { get; set; }

    /// <summary>True when the cluster is ok (cluster_state:ok), false in fail.</summary>
    public bool IsOk { get; private set; }

    /// <summary>Masters serving at least one slot (1 until first computed, as Redis's clusterInit sets it).</summary>
    public int Size { get; private set; } = 1;

    /// <summary>Work left for <see cref="DoPending"/>.</summary>
    public ClusterTodo Pending { get; private set; }

    /// <summary>Where nodes.conf is written (null: not saved, as in tests of the model alone).</summary>
    public string? ConfigPath { get; set; }

    /// <summary>Called after this node became a replica of a master or a master again (null): replication hooks here.</summary>
    public Action<ClusterNode?>? ReplicaOfChanged { get; set; }

    /// <summary>Deletes every key of a slot and returns how many it deleted (the host wires it to the keyspace, propagating DELs).</summary>
    public Func<int, int>? DeleteKeysInSlot { get; set; }

    /// <summary>Number of keys in a slot (the host wires it to the keyspace's slot index).</summary>
    public Func<int, int>? CountKeysInSlot { get; set; }

    /// <summary>Asks the bus runtime to send a PONG to every node now (after a slot was taken over by hand); null without a bus.</summary>
    public Action? BroadcastPong { get; set; }

    /// <summary>The bus links for CLUSTER LINKS, as the bus runtime sees them; null without a bus (no links).</summary>
    public Func<IReadOnlyList<ClusterLinkInfo>>? DescribeLinks { get; set; }

    /// <summary>Where warnings go (the host wires it to the node log).</summary>
    public Action<string>? LogWarning { get; set; }

    /// <summary>The slot check's reusable key list (used under the keyspace lock), so checking allocates nothing.</summary>
    internal Commands.KeyBuffer RoutingKeys { get; } = new();

    /// <summary>MOVED redirections sent.</summary>
    public long MovedRedirections { get; set; }

    /// <summary>ASK redirections sent.</summary>
    public long AskRedirections { get; set; }

    /// <summary>Bus messages sent by type (CLUSTER INFO's cluster_stats_messages_*_sent); the bus runtime counts them.</summary>
    public long[] MessagesSent { get; } = new long[BusMessageTypes.Count];

    /// <summary>Bus messages received by type; the bus runtime counts them.</summary>
    public long[] MessagesReceived { get; } = new long[BusMessageTypes.Count];

    /// <summary>Links closed for exceeding cluster-link-sendbuf-limit (total_cluster_links_buffer_limit_exceeded); the bus runtime counts them.</summary>
    public long LinksBufferLimitExceeded { get; set; }

    /// <summary>Keys MIGRATE moved or copied to a target that acknowledged them; MIGRATE counts them.</summary>
    public long MigratedKeysSent { get; set; }

    /// <summary>Keys stored here by RESTORE-ASKING, the RESTORE a migrating node sends; RESTORE-ASKING counts them.</summary>
    public long MigratedKeysReceived { get; set; }

    /// <summary>The config epoch of myself's shard (CLUSTER INFO cluster_my_epoch): a replica reports its master's.</summary>
    public ulong MyEpoch => Myself.IsReplica && Myself.Master is { } master ? master.ConfigEpoch : Myself.ConfigEpoch;

    /// <summary>
    /// The assigned slots by their owner's state, as CLUSTER INFO's cluster_slots_* count them. Safe to call without
    /// the keyspace lock (the metrics scrape does): it reads single words only, at worst a moment apart.
    /// </summary>
    public SlotCounts CountSlots()
    {
        int assigned = 0, ok = 0, pfail = 0, fail = 0;
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_owners[slot] is not { } owner)
            {
                continue;
            }
            assigned++;
            if (owner.IsFailed)
            {
                fail++;
            }
            else if (owner.IsTimedOut)
            {
                pfail++;
            }
            else
            {
                ok++;
            }
        }
        return new SlotCounts(assigned, ok, pfail, fail);
    }

    /// <summary>Every known node, myself and handshake nodes included.</summary>
    public IReadOnlyCollection<ClusterNode> Nodes => _nodes.Values;

    /// <summary>The node with id <paramref name="id"/>, or null (Redis's clusterLookupNode).</summary>
    public ClusterNode? Find(string id) => _nodes.GetValueOrDefault(id);

    /// <summary>The node with id <paramref name="id"/> given as bytes (a command argument), or null.</summary>
    public ClusterNode? Find(ReadOnlySpan<byte> id) => id.Length == ClusterNode.IdLength ? Find(Encoding.ASCII.GetString(id)) : null;

    /// <summary>The master serving <paramref name="slot"/>, or null when unassigned.</summary>
    public ClusterNode? OwnerOf(int slot) => _owners[slot];

    /// <summary>The node <paramref name="slot"/> is migrating to (this node is its owner), or null.</summary>
    public ClusterNode? MigratingTo(int slot) => _migratingTo[slot];

    /// <summary>The node <paramref name="slot"/> is being imported from, or null.</summary>
    public ClusterNode? ImportingFrom(int slot) => _importingFrom[slot];

    /// <summary>Some slot is migrating or importing.</summary>
    public bool HasOpenSlots => _openSlots > 0;

    /// <summary>The master whose slots this node serves: itself, or its master when a replica (may be null).</summary>
    public ClusterNode? MyMaster => Myself.IsMaster ? Myself : Myself.Master;

    /// <summary>Asks <see cref="DoPending"/> for work at the end of this turn (Redis's clusterDoBeforeSleep).</summary>
    public void Schedule(ClusterTodo todo) => Pending |= todo;

    /// <summary>Does the scheduled work: updates the state and saves nodes.conf (Redis's clusterBeforeSleep). Call under the keyspace lock.</summary>
    public void DoPending()
    {
        var todo = Pending;
        Pending = ClusterTodo.None;
        if ((todo & ClusterTodo.UpdateState) != 0)
        {
            UpdateState();
        }
        if ((todo & (ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig)) != 0)
        {
            // As Redis's clusterBeforeSleep: only epoch and vote changes are fsynced; the rest is written (atomically) without.
            SaveConfig(fsync: (todo & ClusterTodo.FsyncConfig) != 0);
        }
    }

    /// <summary>Writes nodes.conf now when a path is set, fsynced if <paramref name="fsync"/>; false (after logging) when it could not.</summary>
    public bool SaveConfig(bool fsync = true)
    {
        if (ConfigPath is null)
        {
            return true;
        }
        try
        {
            ClusterConfigFile.Save(this, ConfigPath, fsync);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogWarning?.Invoke($"Could not save the cluster configuration to {ConfigPath}: {e.Message}");
            return false;
        }
    }

    // ---- Nodes ------------------------------------------------------------------------------------------

    /// <summary>Creates a node (Redis's createClusterNode) without adding it; null id: a random one (handshake).</summary>
    public ClusterNode CreateNode(string? id, ClusterNodeFlags flags) => new(id ?? ClusterNode.NewId(), flags, NowMs);

    /// <summary>Adds a node created with <see cref="CreateNode"/> (Redis's clusterAddNode); false when its id is taken.</summary>
    public bool AddNode(ClusterNode node)
    {
        if (!_nodes.TryAdd(node.Id, node))
        {
            return false;
        }
        Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
        return true;
    }

    /// <summary>
    /// Starts a handshake with a node at an address (Redis's clusterStartHandshake): adds a node with a random id and
    /// the HANDSHAKE and MEET flags, which the bus runtime then contacts. Returns null and <paramref name="invalid"/>
    /// true for a bad address or port, null and false when a handshake with that address is already under way.
    /// </summary>
    public ClusterNode? StartHandshake(string ip, int port, int cport, out bool invalid)
    {
        invalid = false;
        if (!IPAddress.TryParse(ip, out var address) || port <= 0 || port > 65535 || cport <= 0 || cport > 65535)
        {
            invalid = true;
            return null;
        }
        // The address in the canonical form Redis's inet_ntop gives, so equal addresses compare equal.
        string norm = (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
        if (HandshakeInProgress(norm, port, cport))
        {
            return null;
        }
        var node = CreateNode(null, ClusterNodeFlags.Handshake | ClusterNodeFlags.Meet);
        node.Ip = norm;
        node.Port = port;
        node.CPort = cport;
        AddNode(node);
        return node;
    }

    /// <summary>True when a node in handshake has this address (Redis's clusterHandshakeInProgress).</summary>
    public bool HandshakeInProgress(string ip, int port, int cport)
    {
        foreach (var node in _nodes.Values)
        {
            if (node.InHandshake && node.Ip.Equals(ip, StringComparison.OrdinalIgnoreCase) && node.Port == port && node.CPort == cport)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Gives a node (a handshake node whose real id the first PONG told) its id (Redis's clusterRenameNode).</summary>
    public void RenameNode(ClusterNode node, string newId)
    {
        if (!_nodes.Remove(node.Id))
        {
            throw new InvalidOperationException($"Node {node.Id} is not known");
        }
        node.Id = newId;
        _nodes.Add(newId, node);
        Schedule(ClusterTodo.SaveConfig);
    }

    /// <summary>
    /// Removes a node (Redis's clusterDelNode): the slots it was importing or migrating with become stable, its
    /// failure reports about others go, it leaves its master's replica list and its replicas lose their master.
    /// Its own slots stay assigned (callers that want them free call <see cref="DeleteNodeSlots"/> first).
    /// </summary>
    public void DeleteNode(ClusterNode node)
    {
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (_importingFrom[slot] == node)
            {
                SetImporting(slot, null);
            }
            if (_migratingTo[slot] == node)
            {
                SetMigrating(slot, null);
            }
            if (_owners[slot] == node)
            {
                _owners[slot] = null;
            }
        }
        foreach (var other in _nodes.Values)
        {
            if (other != node)
            {
                other.RemoveFailureReport(node);
            }
        }
        node.Master?.Replicas.Remove(node);
        foreach (var replica in node.Replicas)
        {
            replica.Master = null;
        }
        node.Replicas.Clear();
        _nodes.Remove(node.Id);
        Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
    }

    /// <summary>
    /// CLUSTER FORGET's state change: puts the id on the blacklist for <see cref="BlacklistTtlSeconds"/> seconds and
    /// deletes the node (Redis's clusterBlacklistAddNode + clusterDelNode). The caller checked it is not myself nor my master.
    /// </summary>
    public void Forget(ClusterNode node)
    {
        BlacklistAdd(node.Id);
        DeleteNode(node);
    }

    /// <summary>Puts a node id on the blacklist (gossip about it is ignored until it expires).</summary>
    public void BlacklistAdd(string id)
    {
        BlacklistCleanup();
        _blacklist[id] = (NowMs / 1000) + BlacklistTtlSeconds;
    }

    /// <summary>True when <paramref name="id"/> was forgotten less than <see cref="BlacklistTtlSeconds"/> seconds ago.</summary>
    public bool IsBlacklisted(string id)
    {
        BlacklistCleanup();
        return _blacklist.ContainsKey(id);
    }

    /// <summary>The blacklisted ids with their seconds to live (for the bus's forgotten-node extension).</summary>
    public IEnumerable<(string Id, long TtlSeconds)> Blacklist()
    {
        BlacklistCleanup();
        long now = NowMs / 1000;
        return _blacklist.Select(e => (e.Key, e.Value - now)).ToList();
    }

    private void BlacklistCleanup()
    {
        long now = NowMs / 1000;
        foreach (var (id, expires) in _blacklist.ToList())
        {
            if (expires < now)
            {
                _blacklist.Remove(id);
            }
        }
    }

    /// <summary>Sets flags on a node (PFAIL, FAIL, NOADDR, ...) and schedules a state update and save.</summary>
    public void SetFlags(ClusterNode node, ClusterNodeFlags flags)
    {
        if ((node.Flags & flags) != flags)
        {
            node.Flags |= flags;
            Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
        }
    }

    /// <summary>Clears flags on a node and schedules a state update and save.</summary>
    public void ClearFlags(ClusterNode node, ClusterNodeFlags flags)
    {
        if ((node.Flags & flags) != 0)
        {
            node.Flags &= ~flags;
            Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
        }
    }

    /// <summary>Turns a node into a master (Redis's clusterSetNodeAsMaster): it leaves its master's replica list.</summary>
    public void SetNodeAsMaster(ClusterNode node)
    {
        if (node.IsMaster)
        {
            return;
        }
        if (node.Master is { } master)
        {
            master.Replicas.Remove(node);
            if (node != Myself)
            {
                node.Flags |= ClusterNodeFlags.MigrateTo;
            }
        }
        node.Flags = (node.Flags & ~ClusterNodeFlags.Slave) | ClusterNodeFlags.Master;
        node.Master = null;
        node.ShardId = ClusterNode.NewId();
        Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState);
    }

    /// <summary>
    /// Records <paramref name="replica"/> as a replica of <paramref name="master"/> (null: master unknown), as the bus does
    /// on a node's claim: flags, master pointer and the master's replica list. Not for myself: see <see cref="SetMyMaster"/>.
    /// </summary>
    public void SetMaster(ClusterNode replica, ClusterNode? master)
    {
        if (replica.Master == master && replica.IsReplica)
        {
            return;
        }
        replica.Master?.Replicas.Remove(replica);
        replica.Flags = (replica.Flags & ~(ClusterNodeFlags.Master | ClusterNodeFlags.MigrateTo)) | ClusterNodeFlags.Slave;
        replica.Master = master;
        if (master is not null)
        {
            if (!master.Replicas.Contains(replica))
            {
                master.Replicas.Add(replica);
                // A master that has had replicas is one replicas may migrate to once it has none (Redis's clusterNodeAddSlave).
                master.Flags |= ClusterNodeFlags.MigrateTo;
            }
            replica.ShardId = master.ShardId;
        }
        Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState);
    }

    /// <summary>
    /// Makes this node a replica of <paramref name="master"/> (Redis's clusterSetMaster): a master gives up its slots and
    /// migrations first. Replication itself is started by whoever handles <see cref="ReplicaOfChanged"/>.
    /// </summary>
    public void SetMyMaster(ClusterNode master)
    {
        if (Myself.IsMaster)
        {
            Myself.Flags &= ~(ClusterNodeFlags.Master | ClusterNodeFlags.MigrateTo);
            DeleteNodeSlots(Myself);
            ClearMigrations();
        }
        SetMaster(Myself, master);
        ReplicaOfChanged?.Invoke(master);
    }

    /// <summary>Stops every slot's migration and import (Redis's clusterCloseAllSlots).</summary>
    public void ClearMigrations()
    {
        Array.Clear(_migratingTo);
        Array.Clear(_importingFrom);
        _openSlots = 0;
        Schedule(ClusterTodo.SaveConfig);
    }

    // ---- Slots ------------------------------------------------------------------------------------------

    /// <summary>Assigns an unassigned slot to a node (Redis's clusterAddSlot); false when it is assigned already.</summary>
    public bool AddSlot(ClusterNode node, int slot)
    {
        if (_owners[slot] is not null)
        {
            return false;
        }
        // A master's first slot makes it a replica-migration target when any master has replicas (Redis's
        // clusterNodeSetSlotBit): a new master should get a replica even though it never had one.
        if (node.Slots.Set(slot) && node.Slots.Count == 1 && _nodes.Values.Any(n => n.IsMaster && n.Replicas.Count > 0))
        {
            node.Flags |= ClusterNodeFlags.MigrateTo;
        }
        _owners[slot] = node;
        Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
        return true;
    }

    /// <summary>Unassigns a slot (Redis's clusterDelSlot); false when it was unassigned.</summary>
    public bool DeleteSlot(int slot)
    {
        var owner = _owners[slot];
        if (owner is null)
        {
            return false;
        }
        owner.Slots.Clear(slot);
        _owners[slot] = null;
        Schedule(ClusterTodo.UpdateState | ClusterTodo.SaveConfig);
        return true;
    }

    /// <summary>Unassigns every slot of a node (Redis's clusterDelNodeSlots); returns how many.</summary>
    public int DeleteNodeSlots(ClusterNode node)
    {
        int deleted = 0;
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (node.Slots.Contains(slot))
            {
                DeleteSlot(slot);
                deleted++;
            }
        }
        return deleted;
    }

    /// <summary>Marks a slot as migrating to <paramref name="target"/> (null: not migrating).</summary>
    public void SetMigrating(int slot, ClusterNode? target)
    {
        _openSlots += (target is null ? 0 : 1) - (_migratingTo[slot] is null ? 0 : 1);
        _migratingTo[slot] = target;
        Schedule(ClusterTodo.SaveConfig);
    }

    /// <summary>Marks a slot as importing from <paramref name="source"/> (null: not importing).</summary>
    public void SetImporting(int slot, ClusterNode? source)
    {
        _openSlots += (source is null ? 0 : 1) - (_importingFrom[slot] is null ? 0 : 1);
        _importingFrom[slot] = source;
        Schedule(ClusterTodo.SaveConfig);
    }

    /// <summary>
    /// Applies a master's claim of slots at a config epoch (Redis's clusterUpdateSlotsConfigWith): every claimed slot that
    /// is unassigned or owned by a node of an older config epoch (and not being imported here) moves to the sender. When
    /// this node (or its master) lost its last slot to the sender it becomes the sender's replica; slots it lost with
    /// keys in them are emptied.
    /// </summary>
    public void UpdateSlotsFromClaim(ClusterNode sender, ulong senderConfigEpoch, ReadOnlySpan<byte> claimedSlots)
    {
        if (sender == Myself)
        {
            return;
        }
        var currentMaster = MyMaster;
        ClusterNode? newMaster = null;
        List<int>? dirty = null;
        int senderSlots = 0, migratedOurSlots = 0;
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if ((claimedSlots[slot >> 3] & (1 << (slot & 7))) == 0)
            {
                continue;
            }
            senderSlots++;
            var owner = _owners[slot];
            if (owner == sender || _importingFrom[slot] is not null)
            {
                continue;
            }
            if (owner is null || owner.ConfigEpoch < senderConfigEpoch)
            {
                if (owner == Myself && (CountKeysInSlot?.Invoke(slot) ?? 0) > 0)
                {
                    (dirty ??= []).Add(slot);
                }
                if (owner is not null && owner == currentMaster)
                {
                    newMaster = sender;
                    migratedOurSlots++;
                }
                DeleteSlot(slot);
                AddSlot(sender, slot);
                Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
            }
        }
        if (newMaster is not null && currentMaster!.Slots.Count == 0 && (Config.ClusterAllowReplicaMigration.IsOn || senderSlots == migratedOurSlots))
        {
            LogWarning?.Invoke($"Configuration change detected. Reconfiguring myself as a replica of {sender.Id}");
            SetMyMaster(sender);
            Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
        }
        else if (Myself.Master?.Master is { } grandMaster)
        {
            // No replicas of replicas: follow the master's master.
            SetMyMaster(grandMaster);
            Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
        }
        else if (dirty is not null)
        {
            foreach (int slot in dirty)
            {
                DeleteKeysInSlot?.Invoke(slot);
            }
        }
    }

    // ---- Epochs ------------------------------------------------------------------------------------------

    /// <summary>The largest config epoch of all nodes, or the current epoch if larger (Redis's clusterGetMaxEpoch).</summary>
    public ulong MaxEpoch()
    {
        ulong max = CurrentEpoch;
        foreach (var node in _nodes.Values)
        {
            max = Math.Max(max, node.ConfigEpoch);
        }
        return max;
    }

    /// <summary>
    /// Gives myself a config epoch larger than every other unless it is already the only largest (Redis's
    /// clusterBumpConfigEpochWithoutConsensus); true when it bumped.
    /// </summary>
    public bool BumpEpochWithoutConsensus()
    {
        ulong max = MaxEpoch();
        if (Myself.ConfigEpoch == 0 || Myself.ConfigEpoch != max)
        {
            CurrentEpoch++;
            Myself.ConfigEpoch = CurrentEpoch;
            Schedule(ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig);
            return true;
        }
        return false;
    }

    /// <summary>Raises the current epoch to at least <paramref name="epoch"/> (a message from a node that saw a newer one).</summary>
    public void ObserveEpoch(ulong epoch)
    {
        if (epoch > CurrentEpoch)
        {
            CurrentEpoch = epoch;
            Schedule(ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig);
        }
    }

    /// <summary>Records a node's config epoch as its messages claim it.</summary>
    public void SetConfigEpoch(ClusterNode node, ulong epoch)
    {
        if (node.ConfigEpoch != epoch)
        {
            node.ConfigEpoch = epoch;
            Schedule(ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig);
        }
    }

    /// <summary>
    /// Two masters with the same config epoch: the one with the smaller id takes a new one (Redis's
    /// clusterHandleConfigEpochCollision); called by the bus with the sender of a message.
    /// </summary>
    public void HandleConfigEpochCollision(ClusterNode sender)
    {
        if (sender.ConfigEpoch != Myself.ConfigEpoch || !sender.IsMaster || !Myself.IsMaster)
        {
            return;
        }
        if (string.CompareOrdinal(sender.Id, Myself.Id) <= 0)
        {
            return;
        }
        CurrentEpoch++;
        Myself.ConfigEpoch = CurrentEpoch;
        SaveConfig();
    }

    // ---- State -------------------------------------------------------------------------------------------

    /// <summary>
    /// Recomputes ok/fail and the size (Redis 7.0's clusterUpdateState): fail when a slot is unassigned or its owner
    /// failed (with cluster-require-full-coverage) or when fewer than a majority of the masters with slots are reachable;
    /// a master starting in fail stays so two seconds, and one that was in the minority waits the rejoin delay.
    /// </summary>
    public void UpdateState()
    {
        Pending &= ~ClusterTodo.UpdateState;
        long now = NowMs;
        if (_firstUpdateMs == 0)
        {
            _firstUpdateMs = now;
        }
        if (Myself.IsMaster && !IsOk && now - _firstUpdateMs < WritableDelayMs)
        {
            return;
        }
        bool ok = true;
        if (Config.ClusterRequireFullCoverage.IsOn)
        {
            for (int slot = 0; slot < HashSlot.Count; slot++)
            {
                var owner = _owners[slot];
                if (owner is null || owner.IsFailed)
                {
                    ok = false;
                    break;
                }
            }
        }
        int size = 0, reachable = 0;
        foreach (var node in _nodes.Values)
        {
            if (node.IsMaster && node.Slots.Count > 0)
            {
                size++;
                if ((node.Flags & (ClusterNodeFlags.Fail | ClusterNodeFlags.PFail)) == 0)
                {
                    reachable++;
                }
            }
        }
        Size = size;
        if (reachable < (size / 2) + 1)
        {
            ok = false;
            _amongMinorityMs = now;
        }
        if (ok != IsOk)
        {
            long rejoinDelay = Math.Clamp(Config.ClusterNodeTimeout.Number, MinRejoinDelayMs, MaxRejoinDelayMs);
            if (ok && Myself.IsMaster && now - _amongMinorityMs < rejoinDelay)
            {
                return;
            }
            LogWarning?.Invoke($"Cluster state changed: {(ok ? "ok" : "fail")}");
            IsOk = ok;
        }
    }

    /// <summary>
    /// CLUSTER RESET (Redis's clusterReset): a master-to-be with no slots, no migrations and no other nodes; a hard
    /// reset also zeroes the epochs and takes a new id. A replica is turned into a master first (the caller refuses
    /// a master with keys).
    /// </summary>
    public void Reset(bool hard)
    {
        if (Myself.IsReplica)
        {
            SetNodeAsMaster(Myself);
            ReplicaOfChanged?.Invoke(null);
        }
        ClearMigrations();
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            DeleteSlot(slot);
        }
        foreach (var node in _nodes.Values.ToList())
        {
            if (node != Myself)
            {
                DeleteNode(node);
            }
        }
        if (hard)
        {
            CurrentEpoch = 0;
            LastVoteEpoch = 0;
            Myself.ConfigEpoch = 0;
            string oldId = Myself.Id;
            RenameNode(Myself, ClusterNode.NewId());
            LogWarning?.Invoke($"Node hard reset, now I'm {Myself.Id} (was {oldId})");
        }
        Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState | ClusterTodo.FsyncConfig);
    }

    /// <summary>Replaces the whole view with what a nodes.conf described (used by <see cref="ClusterConfigFile.Load"/>).</summary>
    internal void ReplaceAll(ClusterNode myself, IEnumerable<ClusterNode> nodes, ulong currentEpoch, ulong lastVoteEpoch)
    {
        _nodes.Clear();
        Array.Clear(_owners);
        Array.Clear(_migratingTo);
        Array.Clear(_importingFrom);
        _openSlots = 0;
        foreach (var node in nodes)
        {
            _nodes[node.Id] = node;
            for (int slot = 0; slot < HashSlot.Count; slot++)
            {
                if (node.Slots.Contains(slot))
                {
                    _owners[slot] = node;
                }
            }
        }
        Myself = myself;
        CurrentEpoch = currentEpoch;
        LastVoteEpoch = lastVoteEpoch;
    }

    /// <summary>
    /// Sets myself's announced address from the configuration (Redis's clusterUpdateMyselfAnnouncedPorts, ...Hostname,
    /// ...Ip): the client port, the bus port (cluster-port, else port + 10000), the hostname and, when announced, the IP.
    /// </summary>
    public void RefreshMyselfAddress(int listeningPort)
    {
        int port = Config.ClusterAnnouncePort.Number != 0 ? (int)Config.ClusterAnnouncePort.Number : listeningPort;
        int busPort = Config.ClusterAnnounceBusPort.Number != 0 ? (int)Config.ClusterAnnounceBusPort.Number : BusPort(listeningPort);
        string hostname = Config.ClusterAnnounceHostname.Text;
        string ip = Config.ClusterAnnounceIp.Text;
        if (port != Myself.Port || busPort != Myself.CPort || hostname != Myself.Hostname || (ip.Length > 0 && ip != Myself.Ip))
        {
            Myself.Port = port;
            Myself.CPort = busPort;
            Myself.Hostname = hostname;
            if (ip.Length > 0)
            {
                Myself.Ip = ip;
            }
            Schedule(ClusterTodo.SaveConfig);
        }
    }

    /// <summary>The port the bus listens on: cluster-port, or the client port + 10000.</summary>
    public int BusPort(int listeningPort) => Config.ClusterPort.Number != 0 ? (int)Config.ClusterPort.Number : listeningPort + 10000;
}

/// <summary>One bus link as CLUSTER LINKS shows it (Redis's addReplyClusterLinkDescription).</summary>
/// <param name="Inbound">Accepted from the node ("from") rather than opened to it ("to").</param>
/// <param name="NodeId">The node at the other end.</param>
/// <param name="CreatedMs">When the link was created (unix ms).</param>
/// <param name="Events">"r", "w", "rw" or "": the events the link waits for.</param>
/// <param name="SendBufferAllocated">Bytes allocated for the send buffer.</param>
/// <param name="SendBufferUsed">Bytes waiting in the send buffer.</param>
public sealed record ClusterLinkInfo(bool Inbound, string NodeId, long CreatedMs, string Events, long SendBufferAllocated, long SendBufferUsed);

/// <summary>Assigned slots by their owner's state (CLUSTER INFO's cluster_slots_assigned/ok/pfail/fail).</summary>
public readonly record struct SlotCounts(int Assigned, int Ok, int PFail, int Fail);

/// <summary>Cluster bus message types (CLUSTERMSG_TYPE_*), and their names in CLUSTER INFO.</summary>
public static class BusMessageTypes
{
    /// <summary>Number of types (CLUSTERMSG_TYPE_COUNT).</summary>
    public const int Count = 11;

    /// <summary>The names CLUSTER INFO uses (cluster_stats_messages_&lt;name&gt;_sent), by type.</summary>
    public static readonly string[] Names = ["ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard"];
}
