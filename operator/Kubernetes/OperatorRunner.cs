using CacheOperator.Operator.Api;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;
using CacheOperator.Operator.Topology;
using k8s;
using k8s.LeaderElection;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>Settings of the controller.</summary>
/// <param name="Namespace">Namespace to watch (null: all, unless <see cref="WatchNamespaces"/> names some).</param>
/// <param name="Workers">Concurrent reconciles (never two of the same cluster).</param>
/// <param name="Resync">How often every cluster is reconciled even without changes.</param>
public sealed record ControllerOptions(string? Namespace, int Workers, TimeSpan Resync)
{
    /// <summary>Namespaces to watch, each with informers of its own (a namespace-scoped install's RBAC allows no more); empty: <see cref="Namespace"/>.</summary>
    public IReadOnlyList<string> WatchNamespaces { get; init; } = [];

    /// <summary>The scopes informers run in: each watched namespace, or <see cref="Namespace"/> (null: all).</summary>
    public IReadOnlyList<string?> Scopes => WatchNamespaces.Count > 0 ? [.. WatchNamespaces] : [Namespace];
}

/// <summary>
/// Wires the controller on Kubernetes: informers on CacheClusters and the kinds they own feed the work
/// queue (owned objects by their controller owner reference), a timer re-queues every cluster each resync
/// period, workers reconcile. Optionally only while holding the leader Lease.
/// </summary>
public sealed class OperatorRunner(IKubeApi api, ITopologyManager topology, ControllerOptions options, OperatorMetrics metrics, ILoggerFactory loggers)
{
    /// <summary>Label selector of the objects the operator creates (<see cref="Manifests.ClusterLabels"/>), which its informers watch.</summary>
    public const string OwnedSelector = Manifests.ManagedByLabel + "=" + Manifests.ManagedByValue;

    private readonly ILogger _logger = loggers.CreateLogger("cache-operator");
    private volatile Func<bool>? _informersSynced;

    /// <summary>Runs the controller until cancelled; shuts the queue down and waits for workers.</summary>
    public async Task RunControllerAsync(CancellationToken cancellationToken)
    {
        using var queue = new WorkQueue<ClusterKey>();
        var reconciler = new CacheClusterReconciler(new KubernetesClusterStore(api), new KubernetesNodeRuntime(api), topology, metrics);
        var controller = new Controller(reconciler, queue, metrics, _logger);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var known = new System.Collections.Concurrent.ConcurrentDictionary<ClusterKey, byte>();

        void OnCluster(WatchEventType type, CacheCluster cluster)
        {
            var key = new ClusterKey(cluster.Metadata.NamespaceProperty, cluster.Metadata.Name);
            if (type == WatchEventType.Deleted)
            {
                known.TryRemove(key, out _);
            }
            else
            {
                known[key] = 0;
            }
            queue.Add(key);
        }

        void OnOwned<T>(WatchEventType type, T obj)
            where T : IKubernetesObject<V1ObjectMeta>
        {
            var owner = obj.Metadata.OwnerReferences?.FirstOrDefault(r => r.Controller == true && r.Kind == CacheClusterResource.Kind && r.ApiVersion == CacheClusterResource.ApiVersion);
            if (owner is not null)
            {
                queue.Add(new ClusterKey(obj.Metadata.NamespaceProperty, owner.Name));
            }
        }

        // Every CacheCluster is ours; of the owned kinds only the objects Manifests labels as ours, so the operator neither
        // caches nor wakes on every ConfigMap and Service in the cluster.
        var informers = new List<(Func<bool> Synced, Task Running)>();
        foreach (var scope in options.Scopes)
        {
            var clusters = new Informer<CacheCluster>(api, scope, OnCluster, _logger);
            var sets = new Informer<V1StatefulSet>(api, scope, OnOwned, _logger) { LabelSelector = OwnedSelector };
            var services = new Informer<V1Service>(api, scope, OnOwned, _logger) { LabelSelector = OwnedSelector };
            var maps = new Informer<V1ConfigMap>(api, scope, OnOwned, _logger) { LabelSelector = OwnedSelector };
            var budgets = new Informer<V1PodDisruptionBudget>(api, scope, OnOwned, _logger) { LabelSelector = OwnedSelector };
            informers.Add((() => clusters.Synced, clusters.RunAsync(stop.Token)));
            informers.Add((() => sets.Synced, sets.RunAsync(stop.Token)));
            informers.Add((() => services.Synced, services.RunAsync(stop.Token)));
            informers.Add((() => maps.Synced, maps.RunAsync(stop.Token)));
            informers.Add((() => budgets.Synced, budgets.RunAsync(stop.Token)));
        }
        _informersSynced = () => informers.All(i => i.Synced());
        var tasks = informers.Select(i => i.Running).Append(ResyncAsync(queue, known, options.Resync, stop.Token)).ToList();
        var workers = controller.RunAsync(options.Workers, stop.Token);
        _logger.LogInformation("Controller running: namespaces {Namespaces}, {Workers} workers, resync every {Resync}", string.Join(",", options.Scopes.Select(s => s ?? "(all)")), options.Workers, options.Resync);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Graceful shutdown: stop sources and workers, let in-flight reconciles end.
        }
        await stop.CancelAsync();
        queue.ShutDown();
        await workers;
        await Task.WhenAll(tasks);
        _informersSynced = null;
        _logger.LogInformation("Controller stopped");
    }

    /// <summary>Whether the controller runs and every informer has delivered its first list (false before and after).</summary>
    public bool InformersSynced => _informersSynced?.Invoke() ?? false;

    /// <summary>
    /// /readyz of an operator replica. A standby (leader election on, not leading) is ready: it is healthy and ready to
    /// take over, and an unready standby would block the Deployment's rolling update (maxUnavailable 0) and count as
    /// disrupted in the operator's PodDisruptionBudget. The leader is ready once its informers have synced, so a
    /// leader that cannot list (RBAC, API down) shows as unready; the body says which.
    /// </summary>
    public static (bool Ready, string Detail) Readiness(bool leading, bool informersSynced) => (leading, informersSynced) switch
    {
        (false, _) => (true, "standby: waiting for leadership"),
        (true, true) => (true, "leader: informers synced"),
        (true, false) => (false, "leader: informers not synced yet"),
    };

    /// <summary>
    /// Runs <paramref name="work"/> only while this replica holds the Lease <paramref name="leaseName"/>; returns
    /// true when stopped by cancellation, false when leadership was lost (the process should exit and restart).
    /// </summary>
    public static async Task<bool> RunAsLeaderAsync(IKubeApi api, string leaseNamespace, string leaseName, string identity, OperatorMetrics metrics, ILogger logger,
        Func<CancellationToken, Task> work, CancellationToken cancellationToken, TimeSpan? leaseDuration = null)
    {
        var duration = leaseDuration ?? TimeSpan.FromSeconds(15);
        var leaseLock = new LeaseLock(api, leaseNamespace, leaseName, identity);
        var config = new LeaderElectionConfig(leaseLock)
        {
            LeaseDuration = duration,
            RenewDeadline = duration * 2 / 3,
            RetryPeriod = duration / 5,
        };
        using var elector = new LeaderElector(config);
        using var workStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? running = null;
        elector.OnError += e =>
        {
            if (e is not k8s.Autorest.HttpOperationException { Response.StatusCode: System.Net.HttpStatusCode.NotFound })
            {
                logger.LogWarning("Leader election (retried): {Error}", e.Message);
            }
        };
        elector.OnStartedLeading += () =>
        {
            logger.LogInformation("{Identity} became leader", identity);
            metrics.SetLeader(true);
            running = Task.Run(() => work(workStop.Token), CancellationToken.None);
        };
        elector.OnStoppedLeading += () =>
        {
            metrics.SetLeader(false);
            workStop.Cancel();
        };
        try
        {
            await elector.RunUntilLeadershipLostAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        metrics.SetLeader(false);
        await workStop.CancelAsync();
        if (running is not null)
        {
            await running;
            if (cancellationToken.IsCancellationRequested)
            {
                // The work has stopped: hand the lease over now rather than make a standby wait out the lease duration.
                using var release = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    if (await leaseLock.ReleaseAsync(release.Token))
                    {
                        logger.LogInformation("{Identity} released the leader lease", identity);
                    }
                }
                catch (Exception e)
                {
                    logger.LogWarning("Could not release the leader lease (a standby takes over when it expires): {Error}", e.Message);
                }
            }
        }
        return cancellationToken.IsCancellationRequested;
    }

    private static async Task ResyncAsync(WorkQueue<ClusterKey> queue, System.Collections.Concurrent.ConcurrentDictionary<ClusterKey, byte> known, TimeSpan period, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                foreach (var key in known.Keys)
                {
                    queue.Add(key);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }
}
