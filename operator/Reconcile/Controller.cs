using CacheOperator.Operator.Monitoring;
using Microsoft.Extensions.Logging;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Runs reconciles from the work queue on a few workers: success forgets the key's backoff, requeue
/// comes back after the asked delay, an error comes back after exponential backoff. Event sources (the
/// watches) and the periodic resync add keys; this class only drains them.
/// </summary>
public sealed class Controller(CacheClusterReconciler reconciler, WorkQueue<ClusterKey> queue, OperatorMetrics metrics, ILogger logger)
{
    /// <summary>The queue event sources feed.</summary>
    public WorkQueue<ClusterKey> Queue => queue;

    /// <summary>Runs <paramref name="workers"/> workers until cancelled; returns when they have stopped.</summary>
    public Task RunAsync(int workers, CancellationToken cancellationToken)
    {
        metrics.ObserveQueueDepth(() => queue.Depth);
        return Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(() => WorkAsync(cancellationToken), CancellationToken.None)));
    }

    /// <summary>Processes one key (exposed for tests): reconcile and schedule what comes next.</summary>
    public async Task ProcessAsync(ClusterKey key, CancellationToken cancellationToken)
    {
        try
        {
            var result = await reconciler.ReconcileAsync(key, cancellationToken);
            queue.Forget(key);
            if (result.Outcome == ReconcileOutcome.Requeue)
            {
                queue.AddAfter(key, result.RequeueAfter);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var delay = queue.AddRateLimited(key);
            logger.LogWarning(e, "Reconcile of {Cluster} failed; retrying in {Delay}", key, delay);
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            ClusterKey key;
            try
            {
                key = await queue.TakeAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            try
            {
                await ProcessAsync(key, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down mid-reconcile: the next leader picks the key up from its own list.
            }
            finally
            {
                queue.Done(key);
            }
        }
    }
}
