namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// A work queue as client-go has it: a key is queued at most once however often it is added; a key
/// added while a worker processes it is queued again when the worker is done (never processed twice at
/// once); failures back off exponentially per key until <see cref="Forget"/>.
/// </summary>
public sealed class WorkQueue<T> : IDisposable
    where T : notnull
{
    private readonly object _gate = new();
    private readonly LinkedList<T> _queue = new();
    private readonly HashSet<T> _dirty = [];
    private readonly HashSet<T> _processing = [];
    private readonly Dictionary<T, int> _failures = [];
    private readonly SemaphoreSlim _available = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TimeProvider _time;

    /// <summary>A queue whose backoff starts at <paramref name="baseDelay"/> and doubles up to <paramref name="maxDelay"/>.</summary>
    public WorkQueue(TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, TimeProvider? time = null)
    {
        BaseDelay = baseDelay ?? TimeSpan.FromMilliseconds(200);
        MaxDelay = maxDelay ?? TimeSpan.FromMinutes(5);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>First retry delay after a failure.</summary>
    public TimeSpan BaseDelay { get; }

    /// <summary>Longest retry delay.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>Keys waiting to be processed.</summary>
    public int Depth
    {
        get
        {
            lock (_gate)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Queues <paramref name="key"/> unless it is already waiting.</summary>
    public void Add(T key)
    {
        lock (_gate)
        {
            if (_shutdown.IsCancellationRequested || !_dirty.Add(key))
            {
                return;
            }
            if (_processing.Contains(key))
            {
                // Queued again by Done, so one key never runs on two workers.
                return;
            }
            _queue.AddLast(key);
        }
        _available.Release();
    }

    /// <summary>Queues <paramref name="key"/> after <paramref name="delay"/>.</summary>
    public void AddAfter(T key, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            Add(key);
            return;
        }
        _ = DelayThenAddAsync(key, delay);
    }

    /// <summary>Queues <paramref name="key"/> after its next backoff delay; returns the delay.</summary>
    public TimeSpan AddRateLimited(T key)
    {
        TimeSpan delay;
        lock (_gate)
        {
            var failures = _failures.GetValueOrDefault(key);
            _failures[key] = failures + 1;
            delay = Backoff(failures);
        }
        AddAfter(key, delay);
        return delay;
    }

    /// <summary>Resets <paramref name="key"/>'s backoff after a success.</summary>
    public void Forget(T key)
    {
        lock (_gate)
        {
            _failures.Remove(key);
        }
    }

    /// <summary>Failures counted for <paramref name="key"/> since the last <see cref="Forget"/>.</summary>
    public int Failures(T key)
    {
        lock (_gate)
        {
            return _failures.GetValueOrDefault(key);
        }
    }

    /// <summary>The next key to process; call <see cref="Done"/> after. Throws when cancelled or shut down.</summary>
    public async Task<T> TakeAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        while (true)
        {
            await _available.WaitAsync(linked.Token);
            lock (_gate)
            {
                if (_queue.First is { } first)
                {
                    _queue.RemoveFirst();
                    _dirty.Remove(first.Value);
                    _processing.Add(first.Value);
                    return first.Value;
                }
            }
        }
    }

    /// <summary>Marks <paramref name="key"/> processed; re-queues it if it was added meanwhile.</summary>
    public void Done(T key)
    {
        var requeue = false;
        lock (_gate)
        {
            _processing.Remove(key);
            if (_dirty.Contains(key))
            {
                _queue.AddLast(key);
                requeue = true;
            }
        }
        if (requeue)
        {
            _available.Release();
        }
    }

    /// <summary>Stops handing out keys; waiting takers throw <see cref="OperationCanceledException"/>.</summary>
    public void ShutDown() => _shutdown.Cancel();

    /// <inheritdoc />
    public void Dispose()
    {
        _shutdown.Cancel();
        _shutdown.Dispose();
        _available.Dispose();
    }

    private TimeSpan Backoff(int failures)
    {
        var ticks = BaseDelay.Ticks * Math.Pow(2, Math.Min(failures, 30));
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }

    private async Task DelayThenAddAsync(T key, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _time, _shutdown.Token);
            Add(key);
        }
        catch (OperationCanceledException)
        {
            // Shut down while waiting: the key is dropped with the queue.
        }
        catch (ObjectDisposedException)
        {
            // Disposed while waiting: same.
        }
    }
}
