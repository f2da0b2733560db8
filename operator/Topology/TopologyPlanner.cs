using System.Globalization;

namespace CacheOperator.Operator.Topology;

/// <summary>One admin command the planner wants run on one member.</summary>
/// <param name="Kind">meet, add_slots, replicate, forget, failover.</param>
/// <param name="Target">Member name the command goes to.</param>
/// <param name="Command">The command and its arguments, e.g. CLUSTER ADDSLOTSRANGE 0 5460.</param>
public sealed record TopologyAction(string Kind, string Target, IReadOnlyList<string> Command)
{
    /// <summary>The command as text, for events.</summary>
    public string Detail => string.Join(' ', Command);
}

/// <summary>The planner's answer: commands for this round, and what keeps the cluster from Ready.</summary>
/// <param name="Actions">Commands to run in order (none: nothing safe to do now, or nothing to do).</param>
/// <param name="Problems">Sentences for conditions.</param>
/// <param name="Shards">The shards as the nodes show them.</param>
/// <param name="ClusterState">ok, fail, or unknown when no member answered.</param>
public sealed record TopologyPlan(IReadOnlyList<TopologyAction> Actions, IReadOnlyList<string> Problems, IReadOnlyList<ShardReport> Shards, string ClusterState)
{
    /// <summary>Nothing to do and nothing wrong.</summary>
    public bool Ready => Actions.Count == 0 && Problems.Count == 0 && Moves.Count == 0;

    /// <summary>Slots to move with their keys, in order, once the actions are done: open slots to finish first, else the balancing moves.</summary>
    public IReadOnlyList<SlotMove> Moves { get; init; } = [];

    /// <summary>Member names of every master serving slots (each gets SETSLOT NODE when a slot changes hands).</summary>
    public IReadOnlyList<string> Masters { get; init; } = [];

    /// <summary>Shards at or above the desired count whose nodes own no slot any more: safe to delete.</summary>
    public IReadOnlyList<int> DrainedShards { get; init; } = [];

    /// <summary>No leaving member is a master serving slots: they can be removed.</summary>
    public bool LeavingSafe { get; init; } = true;
}

/// <summary>Inputs of the planner that are not in one observation.</summary>
/// <param name="FailedFor">How long each failed node (by id) has been seen failed, by the caller's clock.</param>
/// <param name="FailoverGrace">How long a failed master's replicas get to take over by themselves before a forced failover.</param>
public sealed record PlannerOptions(IReadOnlyDictionary<string, TimeSpan> FailedFor, TimeSpan FailoverGrace)
{
    /// <summary>No failure history, 10 s grace.</summary>
    public static PlannerOptions Default { get; } = new(new Dictionary<string, TimeSpan>(), TimeSpan.FromSeconds(10));
}

/// <summary>
/// Decides one safe round of admin commands from an observation and the desired shape. Pure: same input, same plan.
/// Roles and slots come from the nodes, never from member names, except to pick the first master of a shard nobody serves.
/// Never assigns an owned slot, never re-points or forgets a node that may hold the only copy of a slot's data,
/// and after a MEET plans nothing else until every member knows every other (gossip converged).
/// </summary>
public static class TopologyPlanner
{
    /// <summary>Plans one round.</summary>
    public static TopologyPlan Plan(ObservedTopology observed, DesiredTopology desired, PlannerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(desired);
        options ??= PlannerOptions.Default;
        var problems = new List<string>();
        var actions = new List<TopologyAction>();

        if (desired.Shards < 1)
        {
            problems.Add($"the desired topology has {desired.Shards} shards; at least 1 is needed");
            return new TopologyPlan(actions, problems, [], "unknown") { LeavingSafe = desired.Leaving.Count == 0 };
        }
        foreach (var member in desired.Members.Where(m => m.Shard < 0))
        {
            problems.Add($"member {member.Name} is in shard {member.Shard}; shards are numbered from 0");
        }
        foreach (var name in desired.Members.GroupBy(m => m.Name).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add($"member name {name} is given more than once");
        }

        var views = desired.Members
            .Select(m => observed.Members.FirstOrDefault(v => v.Member.Name == m.Name) is { } v ? v with { Member = m } : MemberView.Unreachable(m, "not observed"))
            .ToList();
        foreach (var view in views.Where(v => !IsUp(v)))
        {
            problems.Add($"member {view.Member.Name} is unreachable" + (view.Error is null ? "" : $" ({view.Error})"));
        }
        var reachable = views.Where(IsUp).OrderBy(v => v.Member.Name, StringComparer.Ordinal).ToList();
        if (reachable.Count == 0)
        {
            problems.Add("no member is reachable");
            return new TopologyPlan(actions, problems, [], "unknown") { LeavingSafe = desired.Leaving.Count == 0 };
        }
        foreach (var group in reachable.GroupBy(v => v.MyId).Where(g => g.Count() > 1))
        {
            problems.Add($"members {string.Join(", ", group.Select(v => v.Member.Name))} report the same node id {group.Key}");
            return new TopologyPlan(actions, problems, [], ClusterStateOf(reachable)) { LeavingSafe = desired.Leaving.Count == 0 };
        }

        // Joining: one anchor meets every member it does not know at its current address; a member that knows
        // another at a stale address re-meets it there. Anything else waits for gossip.
        var anchor = reachable
            .OrderByDescending(v => reachable.Count(o => o != v && Knows(v, o)))
            .ThenByDescending(v => v.Myself?.SlotCount > 0)
            .ThenBy(v => v.Member.Name, StringComparer.Ordinal)
            .First();
        bool joined = true;
        foreach (var other in reachable.Where(o => o != anchor && !Knows(anchor, o)))
        {
            joined = false;
            if (!MeetInProgress(anchor, other))
            {
                actions.Add(Meet(anchor, other));
            }
        }
        foreach (var view in reachable.Where(v => v != anchor))
        {
            if (Knows(anchor, view) && !reachable.Any(o => o != view && Knows(view, o)))
            {
                // It knows nobody although the anchor knows it (it forgot or was reset): it meets the anchor.
                joined = false;
                actions.Add(Meet(view, anchor));
                continue;
            }
            foreach (var other in reachable.Where(o => o != view && o != anchor && !Knows(view, o)))
            {
                joined = false;
                if (view.Entry(other.MyId) is not null)
                {
                    actions.Add(Meet(view, other));
                }
            }
        }
        if (!joined)
        {
            problems.Add(actions.Count > 0
                ? $"members are joining the cluster ({actions.Count} MEET)"
                : "members are joining the cluster (waiting for gossip)");
            return new TopologyPlan(actions, problems, [], ClusterStateOf(reachable)) { LeavingSafe = desired.Leaving.Count == 0 };
        }

        var model = new ClusterModel(views, reachable);

        // Slot claims as any reachable member sees them; a claimed slot is owned and never assigned.
        var owned = new bool[SlotRange.SlotCount];
        foreach (var entry in reachable.SelectMany(v => v.Nodes).Where(e => e.IsMaster && !e.InHandshake))
        {
            foreach (var slot in entry.AllSlots())
            {
                owned[slot] = true;
            }
        }
        bool brandNew = !owned.Any(o => o);
        ReportConflicts(reachable, problems);
        ReportMigrations(model, problems);

        // Leaving members (replicas scaled down): a master among them hands its slots to its most up-to-date staying
        // replica with a coordinated CLUSTER FAILOVER before it is removed.
        bool leavingSafe = true;
        foreach (var view in reachable.Where(v => desired.Leaving.Contains(v.Member.Name) && v.Myself is { IsMaster: true, SlotCount: > 0 }))
        {
            leavingSafe = false;
            var heir = reachable
                .Where(r => !desired.Leaving.Contains(r.Member.Name) && r.Myself!.IsReplica && r.Myself.MasterId == view.MyId && r.Replication?.MasterLinkStatus == "up")
                .OrderByDescending(r => r.Replication!.ReplicaReplOffset)
                .ThenBy(r => r.Member.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (heir is null)
            {
                problems.Add($"member {view.Member.Name} is to be removed but is its shard's master, and no staying replica is in sync to take over");
                continue;
            }
            problems.Add($"member {view.Member.Name} is to be removed but is its shard's master; {heir.Member.Name} takes over first");
            actions.Add(new TopologyAction("failover", heir.Member.Name, ["CLUSTER", "FAILOVER"]));
        }
        if (desired.Leaving.Any(name => views.Any(v => v.Member.Name == name && !IsUp(v))))
        {
            leavingSafe = false; // It may be a master: wait until it answers (or is gone from the members).
        }
        if (actions.Count > 0)
        {
            return new TopologyPlan(actions, problems, [], ClusterStateOf(reachable)) { LeavingSafe = false };
        }

        // Ghosts: nodes some member knows that are no member.
        foreach (var id in model.KnownIds.Where(id => !model.IsMemberId(id)).Order(StringComparer.Ordinal))
        {
            var entry = model.Best(id)!;
            bool failed = model.IsFailed(id);
            if (model.MightBeUnreachableMember(entry) && !(failed && model.AllMembersUp))
            {
                continue;
            }
            if (model.SlotsOf(id).Count > 0)
            {
                if (failed && model.HasLiveReplica(id))
                {
                    continue; // A replica holds its data: it takes over (failover below, or by itself) before the node goes.
                }
                if (!failed || !model.AllMembersUp)
                {
                    problems.Add($"node {id} ({Address(entry)}) is not a member but serves slots {SlotRange.Describe(model.SlotsOf(id))}; it is kept while it may hold their only copy");
                    continue;
                }
                problems.Add($"slots {SlotRange.Describe(model.SlotsOf(id))} were served by departed node {id} ({Address(entry)}) with no replica; it is forgotten and the slots are reassigned empty");
            }
            foreach (var view in reachable.Where(v => v.Entry(id) is not null && v.Myself?.MasterId != id))
            {
                actions.Add(new TopologyAction("forget", view.Member.Name, ["CLUSTER", "FORGET", id]));
            }
        }

        // Failed masters: their replicas get a grace period to take over, then the most up-to-date one is forced.
        var slotMasters = model.KnownIds.Where(id => model.SlotsOf(id).Count > 0 && model.Best(id)!.IsMaster).ToList();
        int mastersDown = slotMasters.Count(id => model.IsFailed(id) || model.IsPossiblyFailed(id) || model.IsUnreachableMember(id));
        foreach (var id in slotMasters.Where(id => model.IsFailed(id) && !model.IsMemberId(id)).Order(StringComparer.Ordinal))
        {
            var replicas = model.ReplicasOf(id);
            string who = model.NameOf(id) ?? id;
            if (replicas.Count == 0)
            {
                if (model.IsMember(id))
                {
                    problems.Add($"master {who} failed and has no replica: slots {SlotRange.Describe(model.SlotsOf(id))} are down until it returns");
                }
                continue;
            }
            var failedFor = options.FailedFor.TryGetValue(id, out var time) ? time : TimeSpan.Zero;
            if (failedFor < options.FailoverGrace)
            {
                problems.Add($"master {who} failed; waiting for its replicas to take over");
                continue;
            }
            var best = replicas
                .OrderByDescending(r => r.Replication?.ReplicaReplOffset ?? 0)
                .ThenBy(r => r.Member.Name, StringComparer.Ordinal)
                .First();
            bool takeover = mastersDown * 2 >= slotMasters.Count;
            problems.Add($"master {who} failed and its replicas did not take over; forcing a failover to {best.Member.Name}");
            actions.Add(new TopologyAction("failover", best.Member.Name, ["CLUSTER", "FAILOVER", takeover ? "TAKEOVER" : "FORCE"]));
        }

        // Shards: the master is the member of the shard serving slots; a shard nobody serves gets the member that is a
        // master already (lowest name). Its unowned slots go to it; its other members replicate it.
        // Shards at or above the desired count are draining: they keep their master and replicas but get no new slots.
        var shards = new List<ShardReport>();
        var shardMasters = new Dictionary<int, MemberView>();
        int shardCount = Math.Max(desired.Shards, desired.Members.Select(m => m.Shard + 1).DefaultIfEmpty(0).Max());
        for (int shard = 0; shard < shardCount; shard++)
        {
            bool draining = shard >= desired.Shards;
            var range = draining ? new SlotRange(0, -1) : SlotRange.ForShard(shard, desired.Shards);
            var members = reachable.Where(v => v.Member.Shard == shard).ToList();
            var serving = members.Where(v => v.Myself is { IsMaster: true, SlotCount: > 0 }).OrderByDescending(v => v.Myself!.SlotCount).ThenBy(v => v.Member.Name, StringComparer.Ordinal).ToList();
            if (serving.Count > 1)
            {
                problems.Add($"shard {shard} has more than one master serving slots: {string.Join(", ", serving.Select(v => v.Member.Name))}");
            }
            var master = serving.FirstOrDefault();
            bool waitForMaster = false;
            if (master is null && draining)
            {
                // A drained master turns itself into a replica of the node that took its last slot (Redis 7's replica
                // migration on SETSLOT NODE): nothing to repair on a shard that is going away.
                waitForMaster = true;
            }
            else if (master is null)
            {
                var absent = views.Where(v => v.Member.Shard == shard && !IsUp(v))
                    .Select(v => model.IdAtAddress(v.Member))
                    .FirstOrDefault(id => id is not null && model.SlotsOf(id).Count > 0);
                if (absent is not null)
                {
                    waitForMaster = true;
                    problems.Add($"shard {shard} has no reachable master: its master {model.NameOf(absent)} is unreachable");
                }
                else
                {
                    master = members.Where(v => v.Myself is { IsMaster: true }).FirstOrDefault();
                    // Every member is a replica of another shard's healthy master (replica migration): the first one that
                    // is not the only copy of anything is reset to an empty master, to be met again and given the slots.
                    var resettable = master is null
                        ? members.FirstOrDefault(v => v.Myself!.MasterId is not { } of || model.SlotsOf(of).Count == 0
                            || (!model.IsFailed(of) && !model.IsPossiblyFailed(of) && !model.IsUnreachableMember(of)))
                        : null;
                    if (resettable is not null)
                    {
                        actions.Add(new TopologyAction("reset", resettable.Member.Name, ["CLUSTER", "RESET", "SOFT"]));
                        problems.Add($"shard {shard} has no master; {resettable.Member.Name} leaves its master to become one");
                        waitForMaster = true;
                    }
                }
            }

            var unowned = Enumerable.Range(range.Start, range.Count).Where(s => !owned[s]).ToList();
            if (unowned.Count > 0)
            {
                var ranges = SlotRange.Compact(unowned);
                if (master is not null && !waitForMaster)
                {
                    var command = new List<string> { "CLUSTER", "ADDSLOTSRANGE" };
                    foreach (var r in ranges)
                    {
                        command.Add(r.Start.ToString(CultureInfo.InvariantCulture));
                        command.Add(r.End.ToString(CultureInfo.InvariantCulture));
                    }
                    actions.Add(new TopologyAction("add_slots", master.Member.Name, command));
                    if (!brandNew)
                    {
                        problems.Add($"slots {SlotRange.Describe(ranges)} had no master; assigned to {master.Member.Name} (any data they had is lost)");
                    }
                }
                else
                {
                    problems.Add($"slots {SlotRange.Describe(ranges)} have no master");
                }
            }

            var replicaReports = new List<ReplicaReport>();
            if (master is not null)
            {
                foreach (var view in members.Where(v => v != master))
                {
                    var me = view.Myself!;
                    if (me.IsMaster)
                    {
                        if (me.SlotCount > 0)
                        {
                            continue; // Reported above: re-pointing it would drop the slots it serves.
                        }
                        actions.Add(Replicate(view, master));
                        continue;
                    }
                    if (me.MasterId == master.MyId)
                    {
                        continue;
                    }
                    if (me.MasterId is { } current && model.SlotsOf(current).Count > 0 && (model.IsFailed(current) || model.IsPossiblyFailed(current) || model.IsUnreachableMember(current)))
                    {
                        // Its master is down and serves slots: this replica may hold their only copy; it waits for failover.
                        problems.Add($"member {view.Member.Name} of shard {shard} replicates failed node {model.NameOf(current) ?? current}; it stays until the failover");
                        continue;
                    }
                    actions.Add(Replicate(view, master));
                }
                foreach (var replica in reachable.Where(v => v.Myself?.MasterId == master.MyId))
                {
                    bool up = replica.Replication?.MasterLinkStatus == "up";
                    long lag = up && master.Replication is { } m && replica.Replication is { } r ? Math.Max(0, m.MasterReplOffset - r.ReplicaReplOffset) : 0;
                    replicaReports.Add(new ReplicaReport(replica.Member.Name, up, lag));
                }
                int inSync = replicaReports.Count(r => r.LinkUp);
                if (!waitForMaster)
                {
                    shardMasters[shard] = master;
                }
                if (inSync < desired.ReplicasPerShard && !draining)
                {
                    problems.Add($"shard {shard} has {inSync} of {desired.ReplicasPerShard} replicas in sync");
                }
            }
            else if (!waitForMaster && !draining)
            {
                problems.Add($"shard {shard} has no reachable member that can be its master");
            }
            var masterSlots = master?.Myself?.Slots ?? [];
            shards.Add(new ShardReport(shard, master?.Member.Name, replicaReports, masterSlots.Select(r => r.ToString()).ToList()));
        }

        // Slots owned but not served by a healthy master.
        var unserved = new List<int>();
        var failedOwners = new HashSet<string>(StringComparer.Ordinal);
        for (int slot = 0; slot < SlotRange.SlotCount; slot++)
        {
            var owner = model.OwnerOf(slot);
            if (owner is not null && (model.IsFailed(owner) || model.IsUnreachableMember(owner)))
            {
                unserved.Add(slot);
                failedOwners.Add(owner);
            }
        }
        if (unserved.Count > 0)
        {
            problems.Add($"slots {SlotRange.Describe(SlotRange.Compact(unserved))} have no master (served by failed or unreachable {string.Join(", ", failedOwners.Order(StringComparer.Ordinal).Select(id => model.NameOf(id) ?? id))})");
        }

        foreach (var view in reachable.Where(v => v.ClusterState != "ok"))
        {
            problems.Add($"member {view.Member.Name} reports cluster_state {view.ClusterState ?? "unknown"}");
        }

        // Resharding, only between healthy masters of a settled cluster: open slots are finished or closed first.
        var moves = new List<SlotMove>();
        var masters = shardMasters.Values.Where(v => v.Myself!.SlotCount > 0 || v.Member.Shard < desired.Shards).Select(v => v.Member.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        bool settled = actions.Count == 0 && model.AllMembersUp && unserved.Count == 0;
        if (settled && model.Migrations.Any())
        {
            FixOpenSlots(model, reachable, actions, moves, problems);
        }
        else if (settled && reachable.All(v => v.ClusterState == "ok") && !problems.Any(p => p.Contains("claimed by more than one master", StringComparison.Ordinal) || p.Contains("more than one master serving", StringComparison.Ordinal)))
        {
            moves.AddRange(BalanceMoves(model, shardMasters, desired, problems));
        }
        var drained = new List<int>();
        var ownerIds = Enumerable.Range(0, SlotRange.SlotCount).Select(model.OwnerOf).OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (int shard = desired.Shards; shard < shardCount; shard++)
        {
            // Drained when every slot's owner is a reachable member of another shard (an owner nobody can place may be
            // one of this shard's nodes) and none of its nodes has a slot open.
            var shardIds = reachable.Where(v => v.Member.Shard == shard).Select(v => v.MyId!).ToHashSet(StringComparer.Ordinal);
            bool owns = ownerIds.Any(id => !model.IsMemberId(id) || shardIds.Contains(id))
                || model.Migrations.Any(m => shardIds.Contains(m.Migration.PeerId) || reachable.Any(v => v.Member.Name == m.Name && shardIds.Contains(v.MyId!)));
            if (owns)
            {
                problems.Add($"shard {shard} is being drained before it is removed");
            }
            else
            {
                drained.Add(shard);
            }
        }
        return new TopologyPlan(actions, problems, shards, ClusterStateOf(reachable)) { Moves = moves, Masters = masters, DrainedShards = drained, LeavingSafe = leavingSafe };
    }

    /// <summary>A member that answered with its id.</summary>
    private static bool IsUp(MemberView view) => view.Reachable && view.MyId is not null && view.Myself is not null;

    /// <summary><paramref name="view"/> knows <paramref name="other"/>'s id at <paramref name="other"/>'s current address.</summary>
    private static bool Knows(MemberView view, MemberView other) =>
        view.Entry(other.MyId) is { NoAddress: false } entry && AtAddress(entry, other.Member);

    /// <summary>A handshake with <paramref name="other"/>'s address is under way: meeting again would only start another.</summary>
    private static bool MeetInProgress(MemberView view, MemberView other) =>
        view.Nodes.Any(e => e.InHandshake && AtAddress(e, other.Member));

    private static bool AtAddress(ClusterNodeEntry entry, MemberEndpoint member) =>
        member.Host is not null && entry.Port == member.Port && (entry.Ip == member.Host || entry.Hostname == member.Host);

    private static TopologyAction Meet(MemberView from, MemberView to)
    {
        var command = new List<string> { "CLUSTER", "MEET", to.Member.Host!, to.Member.Port.ToString(CultureInfo.InvariantCulture) };
        if (to.Myself is { BusPort: > 0 } myself)
        {
            command.Add(myself.BusPort.ToString(CultureInfo.InvariantCulture));
        }
        return new TopologyAction("meet", from.Member.Name, command);
    }

    private static TopologyAction Replicate(MemberView replica, MemberView master) =>
        new("replicate", replica.Member.Name, ["CLUSTER", "REPLICATE", master.MyId!]);

    private static string Address(ClusterNodeEntry entry) => $"{entry.Ip}:{entry.Port.ToString(CultureInfo.InvariantCulture)}";

    private static string ClusterStateOf(IReadOnlyList<MemberView> reachable) =>
        reachable.Count == 0 ? "unknown" : reachable.All(v => v.ClusterState == "ok") ? "ok" : reachable.Any(v => v.ClusterState == "fail") ? "fail" : "unknown";

    private static void ReportConflicts(IReadOnlyList<MemberView> reachable, List<string> problems)
    {
        // Two members each claiming a slot for themselves: Redis settles it by config epoch; the operator only reports it.
        var claimant = new string?[SlotRange.SlotCount];
        var conflicts = new List<int>();
        foreach (var view in reachable)
        {
            foreach (var slot in view.Myself!.IsMaster ? view.Myself.AllSlots() : [])
            {
                if (claimant[slot] is not null)
                {
                    conflicts.Add(slot);
                }
                claimant[slot] = view.Member.Name;
            }
        }
        if (conflicts.Count > 0)
        {
            problems.Add($"slots {SlotRange.Describe(SlotRange.Compact(conflicts))} are claimed by more than one master");
        }
    }

    private static void ReportMigrations(ClusterModel model, List<string> problems)
    {
        foreach (var (name, migration) in model.Migrations)
        {
            problems.Add(migration.Importing
                ? $"slot {migration.Slot} is being imported by {name} from {model.NameOf(migration.PeerId) ?? migration.PeerId}"
                : $"slot {migration.Slot} is being migrated by {name} to {model.NameOf(migration.PeerId) ?? migration.PeerId}");
        }
    }

    /// <summary>
    /// Moves that spread the slots evenly over the masters of shards below the desired count and empty the others
    /// (<see cref="SlotBalancer"/>); one problem sentence says how many slots are left to move.
    /// </summary>
    private static List<SlotMove> BalanceMoves(ClusterModel model, Dictionary<int, MemberView> shardMasters, DesiredTopology desired, List<string> problems)
    {
        var byId = shardMasters.Values.ToDictionary(v => v.MyId!, StringComparer.Ordinal);
        var owned = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int slot = 0; slot < SlotRange.SlotCount; slot++)
        {
            if (model.OwnerOf(slot) is not { } owner)
            {
                continue;
            }
            if (!byId.TryGetValue(owner, out var view))
            {
                return []; // A slot served by a node that is no shard's master: not settled enough to reshard.
            }
            if (!owned.TryGetValue(view.Member.Name, out var list))
            {
                owned[view.Member.Name] = list = [];
            }
            list.Add(slot);
        }
        var keeping = shardMasters.Where(p => p.Key < desired.Shards).Select(p => p.Value.Member.Name).ToList();
        if (keeping.Count < desired.Shards)
        {
            return [];
        }
        var draining = shardMasters.Where(p => p.Key >= desired.Shards).Select(p => p.Value.Member.Name).ToList();
        var plan = SlotBalancer.Plan(owned.ToDictionary(p => p.Key, p => (IReadOnlyList<int>)p.Value, StringComparer.Ordinal), keeping, draining);
        var idOf = shardMasters.Values.ToDictionary(v => v.Member.Name, v => v.MyId!, StringComparer.Ordinal);
        if (plan.Count > 0)
        {
            problems.Add($"{plan.Count.ToString(CultureInfo.InvariantCulture)} slots to move to even out the shards");
        }
        return plan.Select(m => new SlotMove(m.Slot, m.Source, idOf[m.Source], m.Target, idOf[m.Target])).ToList();
    }

    /// <summary>
    /// Slots left MIGRATING or IMPORTING (an operator that died mid-move, a failed MIGRATE), settled as redis-cli --cluster
    /// fix does: both sides open, or keys already on the importing side, finish the move; one side open with no keys
    /// moved, close it (SETSLOT STABLE). Anything stranger is reported, not guessed at.
    /// </summary>
    private static void FixOpenSlots(ClusterModel model, IReadOnlyList<MemberView> reachable, List<TopologyAction> actions, List<SlotMove> moves, List<string> problems)
    {
        var byId = reachable.ToDictionary(v => v.MyId!, StringComparer.Ordinal);
        var finishing = new HashSet<int>();
        void Stabilize(MemberView view, int slot) =>
            actions.Add(new TopologyAction("stabilize_slot", view.Member.Name, ["CLUSTER", "SETSLOT", slot.ToString(CultureInfo.InvariantCulture), "STABLE"]));
        void Finish(MemberView owner, MemberView target, int slot, bool replace)
        {
            if (finishing.Add(slot))
            {
                moves.Add(new SlotMove(slot, owner.Member.Name, owner.MyId!, target.Member.Name, target.MyId!, replace));
            }
        }
        static long KeysIn(MemberView view, int slot) => view.KeysInOpenSlots.GetValueOrDefault(slot);
        static bool Opened(MemberView view, int slot, bool importing, string peer) =>
            view.Myself!.Migrations.Any(m => m.Slot == slot && m.Importing == importing && m.PeerId == peer);

        foreach (var (name, migration) in model.Migrations.OrderBy(m => m.Migration.Slot).ToList())
        {
            var view = reachable.First(v => v.Member.Name == name);
            int slot = migration.Slot;
            var owner = model.OwnerOf(slot) is { } ownerId ? byId.GetValueOrDefault(ownerId) : null;
            byId.TryGetValue(migration.PeerId, out var peer);
            if (owner is null)
            {
                problems.Add($"slot {slot} is open on {name} but its owner is no reachable member; it is left for a person to fix");
                continue;
            }
            if (!migration.Importing)
            {
                if (view == owner && peer is not null && peer != owner)
                {
                    if (Opened(peer, slot, importing: true, owner.MyId!))
                    {
                        Finish(owner, peer, slot, replace: false);
                    }
                    else if (KeysIn(peer, slot) > 0)
                    {
                        Finish(owner, peer, slot, replace: true);
                    }
                    else
                    {
                        Stabilize(view, slot);
                    }
                }
                else if (KeysIn(view, slot) == 0)
                {
                    Stabilize(view, slot);
                }
                else
                {
                    problems.Add($"slot {slot} is migrating on {name}, which does not own it but holds keys of it; it is left for a person to fix");
                }
                continue;
            }
            if (view == owner)
            {
                Stabilize(view, slot); // It owns the slot already: importing it is stale.
            }
            else if (migration.PeerId == owner.MyId && Opened(owner, slot, importing: false, view.MyId!))
            {
                Finish(owner, view, slot, replace: false);
            }
            else if (KeysIn(view, slot) > 0 && migration.PeerId == owner.MyId)
            {
                Finish(owner, view, slot, replace: true);
            }
            else if (KeysIn(view, slot) == 0)
            {
                Stabilize(view, slot);
            }
            else
            {
                problems.Add($"slot {slot} is imported by {name} from a node that does not own it, and {name} holds keys of it; it is left for a person to fix");
            }
        }
    }

    /// <summary>The reachable members' views merged: who each node is, what it serves, whether it failed.</summary>
    private sealed class ClusterModel
    {
        private readonly IReadOnlyList<MemberView> _views;
        private readonly IReadOnlyList<MemberView> _reachable;
        private readonly Dictionary<string, MemberView> _memberById;
        private readonly Dictionary<string, ClusterNodeEntry> _best = new(StringComparer.Ordinal);
        private readonly string?[] _owner = new string?[SlotRange.SlotCount];
        private readonly long[] _ownerEpoch = new long[SlotRange.SlotCount];

        public ClusterModel(IReadOnlyList<MemberView> views, IReadOnlyList<MemberView> reachable)
        {
            _views = views;
            _reachable = reachable;
            _memberById = reachable.ToDictionary(v => v.MyId!, StringComparer.Ordinal);
            // What a node says of itself wins; for the others, the line with the highest config epoch.
            foreach (var entry in reachable.SelectMany(v => v.Nodes).Where(e => !e.InHandshake))
            {
                if (_memberById.TryGetValue(entry.Id, out var self))
                {
                    _best[entry.Id] = self.Myself!;
                }
                else if (!_best.TryGetValue(entry.Id, out var known) || entry.ConfigEpoch > known.ConfigEpoch)
                {
                    _best[entry.Id] = entry;
                }
            }
            Array.Fill(_ownerEpoch, -1);
            foreach (var entry in _best.Values.Where(e => e.IsMaster))
            {
                foreach (var slot in entry.AllSlots())
                {
                    if (entry.ConfigEpoch > _ownerEpoch[slot])
                    {
                        _owner[slot] = entry.Id;
                        _ownerEpoch[slot] = entry.ConfigEpoch;
                    }
                }
            }
        }

        public IEnumerable<string> KnownIds => _best.Keys;

        public bool AllMembersUp => _reachable.Count == _views.Count;

        public IEnumerable<(string Name, SlotMigration Migration)> Migrations =>
            _reachable.SelectMany(v => v.Myself!.Migrations.Select(m => (v.Member.Name, m)));

        public ClusterNodeEntry? Best(string id) => _best.GetValueOrDefault(id);

        public bool IsMemberId(string id) => _memberById.ContainsKey(id);

        /// <summary>A reachable member, or the node at an unreachable member's address.</summary>
        public bool IsMember(string id) => IsMemberId(id) || IsUnreachableMember(id);

        public bool IsUnreachableMember(string id) =>
            !IsMemberId(id) && _best.TryGetValue(id, out var entry) && UnreachableAt(entry) is not null;

        /// <summary>The node could be an unreachable member: at its address, or some unreachable member has no address to tell.</summary>
        public bool MightBeUnreachableMember(ClusterNodeEntry entry) =>
            UnreachableAt(entry) is not null || _views.Any(v => !_reachable.Contains(v) && v.Member.Host is null);

        public string? NameOf(string id) =>
            _memberById.TryGetValue(id, out var view) ? view.Member.Name
            : _best.TryGetValue(id, out var entry) ? UnreachableAt(entry)?.Member.Name
            : null;

        public string? IdAtAddress(MemberEndpoint member) =>
            _best.Values.Where(e => !IsMemberId(e.Id) && AtAddress(e, member)).OrderByDescending(e => e.ConfigEpoch).Select(e => e.Id).FirstOrDefault();

        public bool IsFailed(string id) => _reachable.Any(v => v.Entry(id) is { IsFailed: true });

        public bool IsPossiblyFailed(string id) => _reachable.Any(v => v.Entry(id) is { IsPossiblyFailed: true });

        public IReadOnlyList<SlotRange> SlotsOf(string id) => _best.TryGetValue(id, out var entry) && entry.IsMaster ? entry.Slots : [];

        public string? OwnerOf(int slot) => _owner[slot];

        public bool HasLiveReplica(string id) => _best.Values.Any(e => e.MasterId == id && !IsFailed(e.Id) && !IsPossiblyFailed(e.Id));

        public IReadOnlyList<MemberView> ReplicasOf(string id) => _reachable.Where(v => v.Myself!.IsReplica && v.Myself.MasterId == id).ToList();

        private MemberView? UnreachableAt(ClusterNodeEntry entry) =>
            _views.FirstOrDefault(v => !_reachable.Contains(v) && AtAddress(entry, v.Member));
    }
}
