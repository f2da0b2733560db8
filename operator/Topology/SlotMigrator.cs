using System.Diagnostics;
using System.Globalization;
using System.Text;
using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>One slot to move with its keys, the members and node ids of both sides.</summary>
/// <param name="Slot">The hash slot.</param>
/// <param name="Source">Member name of the master that owns it (or holds its keys).</param>
/// <param name="SourceId">The source's node id.</param>
/// <param name="Target">Member name of the master that gets it.</param>
/// <param name="TargetId">The target's node id.</param>
/// <param name="Replace">MIGRATE with REPLACE: finishing a slot left open, where the source's copy of a key is the newer one.</param>
public sealed record SlotMove(int Slot, string Source, string SourceId, string Target, string TargetId, bool Replace = false);

/// <summary>How hard the migrator pushes in one round.</summary>
/// <param name="Budget">No new slot starts after this long (slots under way finish: none is left open).</param>
/// <param name="MaxSlots">At most this many slots per round (0: no limit).</param>
/// <param name="ParallelSlots">Slots moved at once (their commands share each member's pipelined connection).</param>
/// <param name="KeysPerScan">GETKEYSINSLOT count: keys fetched per step.</param>
/// <param name="KeysPerMigrate">Keys per MIGRATE; a step's MIGRATEs are pipelined together.</param>
/// <param name="MigrateTimeoutMs">MIGRATE's timeout argument (the source waits at most this long on the target per I/O).</param>
public sealed record MigrationOptions(TimeSpan Budget, int MaxSlots = 0, int ParallelSlots = 8, int KeysPerScan = 2000, int KeysPerMigrate = 250, int MigrateTimeoutMs = 10_000)
{
    /// <summary>5 s per round, 8 slots at once, 2000 keys per step in MIGRATEs of 250.</summary>
    public static MigrationOptions Default { get; } = new(TimeSpan.FromSeconds(5));
}

/// <summary>A slot whose migration failed.</summary>
/// <param name="Slot">The slot.</param>
/// <param name="Source">Member it was moving from.</param>
/// <param name="Target">Member it was moving to.</param>
/// <param name="Error">The node's error (e.g. "ERR Target instance replied with error: BUSYKEY ...") or the connection failure.</param>
/// <param name="RolledBack">No key had reached the target, so both sides were closed (SETSLOT STABLE); otherwise the slot stays open for a later resume.</param>
public sealed record SlotMigrationFailure(int Slot, string Source, string Target, string Error, bool RolledBack);

/// <summary>What one round of migration did.</summary>
/// <param name="SlotsMoved">Slots that changed hands.</param>
/// <param name="KeysMoved">Keys the targets acknowledged.</param>
/// <param name="Elapsed">How long the round took.</param>
/// <param name="Failure">The first failed slot, when one failed (the round stops starting slots then).</param>
/// <param name="Warnings">Non-fatal trouble, e.g. a master that refused SETSLOT NODE (it learns the owner by gossip).</param>
public sealed record MigrationResult(int SlotsMoved, long KeysMoved, TimeSpan Elapsed, SlotMigrationFailure? Failure, IReadOnlyList<string> Warnings)
{
    /// <summary>Nothing done.</summary>
    public static MigrationResult None { get; } = new(0, 0, TimeSpan.Zero, null, []);
}

/// <summary>
/// Moves slots with their keys between masters the way redis-cli --cluster reshard does, but faster: per slot
/// SETSLOT IMPORTING on the target, SETSLOT MIGRATING on the source, then GETKEYSINSLOT and MIGRATE ... KEYS in
/// pipelined steps (several MIGRATEs and the next GETKEYSINSLOT in one write), then SETSLOT NODE on the target, the
/// source and every other master. Several slots move at once over the same pipelined connections. A MIGRATE error
/// (BUSYKEY, target OOM, IOERR) stops the slot and the round: it is reported, never retried here.
/// </summary>
public sealed class SlotMigrator(NodeConnectionSettings? settings = null)
{
    private readonly NodeConnectionSettings _settings = settings ?? new NodeConnectionSettings(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(60));

    /// <summary>Moves <paramref name="moves"/> in order within <paramref name="options"/>' budget; <paramref name="masters"/> all get SETSLOT NODE.</summary>
    public async Task<MigrationResult> MigrateAsync(IReadOnlyList<SlotMove> moves, IReadOnlyList<string> masters, DesiredTopology desired, MigrationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(moves);
        ArgumentNullException.ThrowIfNull(masters);
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(options);
        if (moves.Count == 0)
        {
            return MigrationResult.None;
        }
        var watch = Stopwatch.StartNew();
        await using var round = new Round(this, desired, options, masters);
        var running = new List<Task<SlotOutcome>>();
        var outcomes = new List<SlotOutcome>();
        int started = 0;
        foreach (var move in moves)
        {
            if (watch.Elapsed >= options.Budget || (options.MaxSlots > 0 && started >= options.MaxSlots) || outcomes.Any(o => o.Failure is not null))
            {
                break;
            }
            // Two moves of one slot never run together (the planner gives each slot once; this keeps it so).
            if (running.Count >= Math.Max(1, options.ParallelSlots))
            {
                var done = await Task.WhenAny(running).ConfigureAwait(false);
                running.Remove(done);
                outcomes.Add(await done.ConfigureAwait(false));
                if (outcomes[^1].Failure is not null)
                {
                    break;
                }
            }
            running.Add(round.MoveAsync(move, cancellationToken));
            started++;
        }
        outcomes.AddRange(await Task.WhenAll(running).ConfigureAwait(false));
        return new MigrationResult(
            outcomes.Count(o => o.Moved),
            outcomes.Sum(o => o.Keys),
            watch.Elapsed,
            outcomes.Select(o => o.Failure).FirstOrDefault(f => f is not null),
            outcomes.SelectMany(o => o.Warnings).ToList());
    }

    private sealed record SlotOutcome(bool Moved, long Keys, SlotMigrationFailure? Failure, IReadOnlyList<string> Warnings);

    /// <summary>The connections of one round, one pipelined connection per member.</summary>
    private sealed class Round(SlotMigrator migrator, DesiredTopology desired, MigrationOptions options, IReadOnlyList<string> masters) : IAsyncDisposable
    {
        private readonly Dictionary<string, Task<RespConnection>> _connections = new(StringComparer.Ordinal);
        private readonly Lock _sync = new();

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections.Values)
            {
                try
                {
                    await (await connection.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // It never connected: nothing to close.
                }
            }
        }

        public async Task<SlotOutcome> MoveAsync(SlotMove move, CancellationToken ct)
        {
            var warnings = new List<string>();
            string slot = move.Slot.ToString(CultureInfo.InvariantCulture);
            long keys = 0;
            bool opened = false;
            try
            {
                var target = await ConnectionAsync(move.Target, ct).ConfigureAwait(false);
                var source = await ConnectionAsync(move.Source, ct).ConfigureAwait(false);
                Check(await target.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "IMPORTING", move.SourceId], ct).ConfigureAwait(false), "SETSLOT IMPORTING", move.Target);
                opened = true;
                Check(await source.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "MIGRATING", move.TargetId], ct).ConfigureAwait(false), "SETSLOT MIGRATING", move.Source);

                var member = desired.Members.First(m => m.Name == move.Target);
                var prefix = MigratePrefix(member, move.Replace);
                var scan = options.KeysPerScan.ToString(CultureInfo.InvariantCulture);
                var batch = new RespBatch();
                var pending = Check(await source.ExecuteAsync(["CLUSTER", "GETKEYSINSLOT", slot, scan], ct).ConfigureAwait(false), "GETKEYSINSLOT", move.Source);
                while (pending.Count > 0)
                {
                    batch.Clear();
                    int migrates = 0;
                    for (int start = 0; start < pending.Count; start += options.KeysPerMigrate)
                    {
                        int n = Math.Min(options.KeysPerMigrate, pending.Count - start);
                        var command = new ReadOnlyMemory<byte>[prefix.Length + n];
                        prefix.CopyTo(command, 0);
                        for (int i = 0; i < n; i++)
                        {
                            command[prefix.Length + i] = pending[start + i].Bytes;
                        }
                        batch.Add(command);
                        migrates++;
                    }
                    // The next step's keys come back in the same write: GETKEYSINSLOT runs after the MIGRATEs removed theirs.
                    batch.Add("CLUSTER", "GETKEYSINSLOT", slot, scan);
                    var replies = await source.ExecuteBatchAsync(batch, ct).ConfigureAwait(false);
                    for (int i = 0; i < migrates; i++)
                    {
                        Check(replies[i], "MIGRATE", move.Source);
                    }
                    keys += pending.Count;
                    pending = Check(replies[^1], "GETKEYSINSLOT", move.Source);
                }

                // Target first (it bumps its epoch and owns the slot), then the source (it stops redirecting with ASK),
                // then everyone else, as redis-cli does.
                Check(await target.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "NODE", move.TargetId], ct).ConfigureAwait(false), "SETSLOT NODE", move.Target);
                var closed = await source.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "NODE", move.TargetId], ct).ConfigureAwait(false);
                if (closed.IsError)
                {
                    // The target owns the slot and has every key: the move is done. A source that learned by gossip that its
                    // last slots are gone has turned itself into a replica (Redis's replica migration) and refuses SETSLOT.
                    warnings.Add($"SETSLOT {slot} NODE on {move.Source}: {closed.AsString()}");
                }
                var others = masters.Where(m => m != move.Source && m != move.Target).Select(async name =>
                {
                    try
                    {
                        var other = await ConnectionAsync(name, ct).ConfigureAwait(false);
                        var reply = await other.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "NODE", move.TargetId], ct).ConfigureAwait(false);
                        return reply.IsError ? $"SETSLOT {slot} NODE on {name}: {reply.AsString()}" : null;
                    }
                    catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
                    {
                        return $"SETSLOT {slot} NODE on {name}: {e.Message}";
                    }
                });
                warnings.AddRange((await Task.WhenAll(others).ConfigureAwait(false)).OfType<string>());
                return new SlotOutcome(true, keys, null, warnings);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
            {
                bool rolledBack = opened && await RollBackAsync(move, slot, ct).ConfigureAwait(false);
                return new SlotOutcome(false, keys, new SlotMigrationFailure(move.Slot, move.Source, move.Target, e.Message, rolledBack), warnings);
            }
        }

        /// <summary>Closes both sides when the target holds none of the slot's keys: as if the move never started.</summary>
        private async Task<bool> RollBackAsync(SlotMove move, string slot, CancellationToken ct)
        {
            try
            {
                var target = await ConnectionAsync(move.Target, ct).ConfigureAwait(false);
                var count = await target.ExecuteAsync(["CLUSTER", "COUNTKEYSINSLOT", slot], ct).ConfigureAwait(false);
                if (count.IsError || count.AsInt64() != 0)
                {
                    return false;
                }
                var source = await ConnectionAsync(move.Source, ct).ConfigureAwait(false);
                var closedTarget = await target.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "STABLE"], ct).ConfigureAwait(false);
                var closedSource = await source.ExecuteAsync(["CLUSTER", "SETSLOT", slot, "STABLE"], ct).ConfigureAwait(false);
                return !closedTarget.IsError && !closedSource.IsError;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
            {
                return false;
            }
        }

        private ReadOnlyMemory<byte>[] MigratePrefix(MemberEndpoint target, bool replace)
        {
            var words = new List<string>
            {
                "MIGRATE", target.Host ?? throw new InvalidOperationException($"member {target.Name} has no address"),
                target.Port.ToString(CultureInfo.InvariantCulture), "", "0", options.MigrateTimeoutMs.ToString(CultureInfo.InvariantCulture),
            };
            if (replace)
            {
                words.Add("REPLACE");
            }
            if (desired.Password is { } password)
            {
                words.Add("AUTH");
                words.Add(password);
            }
            words.Add("KEYS");
            return words.Select(w => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(w)).ToArray();
        }

        private Task<RespConnection> ConnectionAsync(string name, CancellationToken ct)
        {
            lock (_sync)
            {
                if (!_connections.TryGetValue(name, out var connection) || connection.IsFaulted || (connection.IsCompletedSuccessfully && connection.Result.Failure is not null))
                {
                    var member = desired.Members.FirstOrDefault(m => m.Name == name)
                        ?? throw new InvalidOperationException($"{name} is not a member");
                    connection = migrator._settings.ConnectAsync(member, desired.Password, ct);
                    _connections[name] = connection;
                }
                return connection;
            }
        }

        private static RespReply Check(RespReply reply, string what, string member) =>
            reply.IsError ? throw new InvalidOperationException($"{what} on {member}: {reply.AsString()}") : reply;
    }
}
