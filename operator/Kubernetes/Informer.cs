using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// List, then watch from the list's resourceVersion, handing every object to a callback, as client-go's reflector does.
/// The watch asks for bookmarks and moves its resourceVersion on with them, so a resumed watch starts from a recent
/// version rather than one the server may have compacted away. A watch that ends is resumed from the last version
/// seen; 410 Gone (the version was compacted away) lists again, and objects the informer knew that the new list lacks
/// are delivered as deletions (they were deleted while it was not watching). 429 waits as long as the server's
/// Retry-After says; other failures (network errors, timeouts, 5xx) retry after a capped, jittered, growing delay.
/// </summary>
public sealed class Informer<T>(IKubeApi api, string? @namespace, Action<WatchEventType, T> onEvent, ILogger logger)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    /// <summary>First retry delay after a failure.</summary>
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest retry delay after repeated failures.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly Dictionary<(string? Namespace, string Name), T> _known = [];
    private int _lists;
    private int _synced;
    private string? _resourceVersion;

    /// <summary>Equality label selector both list and watch use (null: every object of the kind).</summary>
    public string? LabelSelector { get; init; }

    /// <summary>How the informer waits before a retry (tests record the delays instead of sleeping).</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;

    /// <summary>How many times the informer has listed (1 + restarts).</summary>
    public int Lists => Volatile.Read(ref _lists);

    /// <summary>Whether the first list has been delivered (the informer has seen every existing object once).</summary>
    public bool Synced => Volatile.Read(ref _synced) == 1;

    /// <summary>The resourceVersion a resumed watch would start from (null before the first list).</summary>
    public string? ResourceVersion => Volatile.Read(ref _resourceVersion);

    /// <summary>The delay before retry number <paramref name="failures"/> (1-based): doubling from <see cref="InitialBackoff"/>, capped at <see cref="MaxBackoff"/>, and jittered into its upper half so replicas that failed together do not retry together.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var step = InitialBackoff.Ticks * Math.Pow(2, Math.Min(Math.Max(failures, 1) - 1, 16));
        var capped = Math.Min(step, MaxBackoff.Ticks);
        return TimeSpan.FromTicks((long)(capped / 2 + Random.Shared.NextDouble() * capped / 2));
    }

    /// <summary>Runs until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        string? version = null;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                if (version is null)
                {
                    var list = await api.ListAsync<T>(@namespace, LabelSelector, cancellationToken);
                    Interlocked.Increment(ref _lists);
                    Replace(list.Items);
                    version = list.ResourceVersion;
                    Volatile.Write(ref _resourceVersion, version);
                    Volatile.Write(ref _synced, 1);
                    failures = 0;
                }
                var events = 0;
                await foreach (var (type, obj) in api.WatchAsync<T>(@namespace, LabelSelector, version, cancellationToken))
                {
                    events++;
                    failures = 0;
                    version = obj.Metadata?.ResourceVersion ?? version;
                    Volatile.Write(ref _resourceVersion, version);
                    if (type is WatchEventType.Bookmark)
                    {
                        continue;
                    }
                    Deliver(type, obj);
                }
                if (events > 0)
                {
                    // The server ended the watch (its timeout): resume from the last version at once.
                    continue;
                }
                // A watch that ends with nothing in it must not become a tight loop.
                wait = Backoff(++failures);
            }
            catch (ApiException e) when (e.IsGone)
            {
                logger.LogInformation("Watch of {Kind} expired ({Message}); listing again", typeof(T).Name, e.Message);
                version = null;
                continue;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ApiException e) when (e.IsTooManyRequests)
            {
                failures++;
                wait = e.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero ? retryAfter : Backoff(failures);
                logger.LogWarning("List/watch of {Kind} throttled (429); retrying in {Delay}", typeof(T).Name, wait);
            }
            catch (Exception e)
            {
                // Network errors, timeouts, 5xx: retry the same step (a watch resumes from the last version seen).
                wait = Backoff(++failures);
                logger.LogWarning(e, "List/watch of {Kind} failed; retrying in {Delay}", typeof(T).Name, wait);
            }
            try
            {
                await Delay(wait, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Deliver(WatchEventType type, T obj)
    {
        var key = (obj.Metadata.NamespaceProperty, obj.Metadata.Name);
        if (type is WatchEventType.Deleted)
        {
            _known.Remove(key);
        }
        else
        {
            _known[key] = obj;
        }
        onEvent(type, obj);
    }

    /// <summary>A fresh list replaces what the informer knew: new objects are added, known ones modified, missing ones deleted.</summary>
    private void Replace(IReadOnlyList<T> items)
    {
        var listed = items.Select(o => ((string?)o.Metadata.NamespaceProperty, o.Metadata.Name)).ToHashSet();
        foreach (var (key, gone) in _known.Where(p => !listed.Contains(p.Key)).ToList())
        {
            logger.LogInformation("{Kind} {Namespace}/{Name} was deleted while the watch was down", typeof(T).Name, key.Namespace, key.Name);
            Deliver(WatchEventType.Deleted, gone);
        }
        foreach (var item in items)
        {
            Deliver(_known.ContainsKey((item.Metadata.NamespaceProperty, item.Metadata.Name)) ? WatchEventType.Modified : WatchEventType.Added, item);
        }
    }
}
