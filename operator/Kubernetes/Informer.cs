using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// List, then watch from the list's resourceVersion, handing every object to a callback. A watch that ends
/// is resumed from the last version seen; 410 Gone (the version was compacted away) starts over with a
/// fresh list; other errors retry the list after a growing delay.
/// </summary>
public sealed class Informer<T>(IKubeApi api, string? @namespace, Action<WatchEventType, T> onEvent, ILogger logger)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    private int _lists;

    /// <summary>How many times the informer has listed (1 + restarts).</summary>
    public int Lists => Volatile.Read(ref _lists);

    /// <summary>Runs until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var list = await api.ListAsync<T>(@namespace, null, cancellationToken);
                Interlocked.Increment(ref _lists);
                foreach (var item in list.Items)
                {
                    onEvent(WatchEventType.Added, item);
                }
                var version = list.ResourceVersion;
                delay = TimeSpan.FromMilliseconds(500);
                while (!cancellationToken.IsCancellationRequested)
                {
                    await foreach (var (type, obj) in api.WatchAsync<T>(@namespace, version, cancellationToken))
                    {
                        version = obj.Metadata.ResourceVersion ?? version;
                        if (type != WatchEventType.Bookmark)
                        {
                            onEvent(type, obj);
                        }
                    }
                }
            }
            catch (ApiException e) when (e.IsGone)
            {
                logger.LogInformation("Watch of {Kind} expired ({Message}); listing again", typeof(T).Name, e.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "List/watch of {Kind} failed; retrying in {Delay}", typeof(T).Name, delay);
                try
                {
                    await Task.Delay(delay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }
}
