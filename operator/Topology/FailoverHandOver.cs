using System.Diagnostics;
using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>
/// The coordinated hand-over before a master restarts: CLUSTER FAILOVER (no FORCE) on an in-sync replica makes the
/// master pause its clients, wait for the replica to reach its offset, and step down, so no acknowledged write is lost
/// and clients see MOVED to the new master. Measures the write pause from the command to the replica reporting master.
/// </summary>
public sealed class FailoverHandOver(NodeConnectionSettings? settings = null, TimeSpan? timeout = null)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(2);
    private readonly NodeConnectionSettings _settings = settings ?? NodeConnectionSettings.Default;
    private readonly TopologyObserver _observer = new(settings);

    /// <summary>The longest wait for clients to leave the old master.</summary>
    public static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(15);

    /// <summary>How long the replica gets to become master, and the old master to follow it (default 30 s).</summary>
    public TimeSpan Timeout { get; } = timeout ?? TimeSpan.FromSeconds(30);

    /// <summary>Hands <paramref name="replicaName"/>'s shard over to it; a failure is a result, not an exception.</summary>
    public async Task<HandOverResult> HandOverAsync(DesiredTopology desired, string replicaName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        var replica = desired.Members.FirstOrDefault(m => m.Name == replicaName);
        if (replica is null)
        {
            return new HandOverResult(false, null, replicaName, TimeSpan.Zero, $"{replicaName} is not a member");
        }
        var views = await Task.WhenAll(desired.Members.Where(m => m.Shard == replica.Shard)
            .Select(m => _observer.ObserveAsync(m, desired.Password, cancellationToken))).ConfigureAwait(false);
        var replicaView = views.Single(v => v.Member.Name == replicaName);
        if (!replicaView.Reachable || replicaView.Myself is not { IsReplica: true, MasterId: { } masterId })
        {
            return new HandOverResult(false, null, replicaName, TimeSpan.Zero,
                replicaView.Reachable ? $"{replicaName} is not a replica" : $"{replicaName} does not answer: {replicaView.Error}");
        }
        var masterView = views.FirstOrDefault(v => v.Reachable && v.MyId == masterId);
        if (masterView is null)
        {
            return new HandOverResult(false, null, replicaName, TimeSpan.Zero, $"the master of {replicaName} ({masterId}) is not a reachable member of shard {replica.Shard}");
        }
        var oldMaster = masterView.Member.Name;
        try
        {
            await using var replicaConnection = await _settings.ConnectAsync(replica, desired.Password, cancellationToken).ConfigureAwait(false);
            await using var masterConnection = await _settings.ConnectAsync(masterView.Member, desired.Password, cancellationToken).ConfigureAwait(false);
            var watch = Stopwatch.StartNew();
            var reply = await replicaConnection.ExecuteAsync(["CLUSTER", "FAILOVER"], cancellationToken).ConfigureAwait(false);
            if (reply.IsError)
            {
                return new HandOverResult(false, oldMaster, replicaName, TimeSpan.Zero, $"CLUSTER FAILOVER: {reply.AsString()}");
            }
            // The master pauses its clients once the replica asks it to (right after this command): from here writes wait.
            while (await RoleAsync(replicaConnection, cancellationToken).ConfigureAwait(false) != "master")
            {
                if (watch.Elapsed > Timeout)
                {
                    return new HandOverResult(false, oldMaster, replicaName, watch.Elapsed,
                        $"{replicaName} did not become master within {Timeout.TotalSeconds:F0} s (the master resumes writes when its pause ends)");
                }
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
            var unavailable = watch.Elapsed;
            while (await RoleAsync(masterConnection, cancellationToken).ConfigureAwait(false) != "slave")
            {
                if (watch.Elapsed > Timeout)
                {
                    return new HandOverResult(false, oldMaster, replicaName, unavailable, $"{oldMaster} did not become a replica of {replicaName} within {Timeout.TotalSeconds:F0} s");
                }
                await Task.Delay(Poll * 10, cancellationToken).ConfigureAwait(false);
            }
            await DrainAsync(masterConnection, cancellationToken).ConfigureAwait(false);
            return new HandOverResult(true, oldMaster, replicaName, unavailable, null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return new HandOverResult(false, oldMaster, replicaName, TimeSpan.Zero, e.Message);
        }
    }

    /// <summary>Waits until clients have left the old master (<see cref="RedirectionQuiet"/>), at most <see cref="DrainLimit"/>.</summary>
    private static async Task DrainAsync(RespConnection oldMaster, CancellationToken cancellationToken)
    {
        var quiet = new RedirectionQuiet();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < DrainLimit)
        {
            var moved = await RedirectionQuiet.ReadMovedAsync(oldMaster, cancellationToken).ConfigureAwait(false);
            if (quiet.Observe(moved, TimeProvider.System.GetUtcNow()))
            {
                return;
            }
            await Task.Delay(Poll * 50, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<string?> RoleAsync(RespConnection connection, CancellationToken cancellationToken)
    {
        var reply = await connection.ExecuteAsync(["ROLE"], cancellationToken).ConfigureAwait(false);
        return reply.IsError || reply.Count < 1 ? null : reply[0].AsString();
    }
}
