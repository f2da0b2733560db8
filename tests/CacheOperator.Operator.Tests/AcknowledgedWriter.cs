using System.Collections.Concurrent;
using System.Globalization;
using CacheOperator.Operator.Tests.Local;
using StackExchange.Redis;

namespace CacheOperator.Operator.Tests;

/// <summary>
/// A cluster client that writes without pause and logs every write the cluster acknowledged and every error it saw.
/// Each key belongs to one worker that writes it in sequence, so a key's last acknowledged value is well defined;
/// a write that failed may or may not have landed, so a key may also hold a value written after its last ack.
/// Redirections (MOVED, ASK) are followed by the client and are not errors; nor is a redirection the client could not
/// follow yet because it had no connection to the new owner (counted in <see cref="UnfollowedRedirections"/>, retried).
/// </summary>
internal sealed class AcknowledgedWriter : IAsyncDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly long[] _acked;
    private readonly long[] _attempted;
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly ConcurrentQueue<string> _connectionEvents = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private long _writes;
    private long _unfollowedRedirections;

    private AcknowledgedWriter(ConnectionMultiplexer redis, int keys)
    {
        _redis = redis;
        // What the client saw of its connections, to explain an error.
        redis.ConnectionFailed += (_, e) => _connectionEvents.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} failed {e.EndPoint} {e.ConnectionType} {e.FailureType}: {e.Exception?.Message}");
        redis.ConnectionRestored += (_, e) => _connectionEvents.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} restored {e.EndPoint} {e.ConnectionType}");
        redis.InternalError += (_, e) => _connectionEvents.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} internal error {e.EndPoint} {e.Origin}: {e.Exception.Message}");
        _acked = new long[keys];
        _attempted = new long[keys];
    }

    /// <summary>Acknowledged writes so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>
    /// Writes answered MOVED or ASK that the client failed instead of resending because it was not connected to the new
    /// owner yet: StackExchange.Redis words this "Endpoint ... serving hashslot ... is not reachable at this point of time"
    /// and raises it only from its MOVED/ASK handler. The server refused the write, so it did not land; the writer retries.
    /// </summary>
    public long UnfollowedRedirections => Interlocked.Read(ref _unfollowedRedirections);

    /// <summary>Every error a write got, with the key and when.</summary>
    public IReadOnlyCollection<string> Errors => _errors.ToArray();

    /// <summary>Options for a cluster client on loopback <paramref name="ports"/>, patient enough for a loaded machine.</summary>
    public static ConfigurationOptions Options(IEnumerable<int> ports)
    {
        var options = new ConfigurationOptions { AbortOnConnectFail = false, ConnectTimeout = 10000, SyncTimeout = 30000, AsyncTimeout = 30000 };
        foreach (var port in ports)
        {
            options.EndPoints.Add("127.0.0.1", port);
        }
        return options;
    }

    /// <summary>Connects to the cluster at <paramref name="ports"/> and starts <paramref name="workers"/> writers over <paramref name="keys"/> keys.</summary>
    public static async Task<AcknowledgedWriter> StartAsync(IEnumerable<int> ports, int keys, int workers = 8)
    {
        var redis = await ConnectionMultiplexer.ConnectAsync(Options(ports));
        var writer = new AcknowledgedWriter(redis, keys);
        for (var w = 0; w < workers; w++)
        {
            var worker = w;
            writer._workers.Add(Task.Run(() => writer.RunAsync(worker, workers)));
        }
        return writer;
    }

    /// <summary>The key of index <paramref name="i"/>.</summary>
    public static string Key(int i) => "acked:" + i.ToString(CultureInfo.InvariantCulture);

    private async Task RunAsync(int worker, int workers)
    {
        var db = _redis.GetDatabase();
        var sequence = 0L;
        while (!_stop.IsCancellationRequested)
        {
            for (var i = worker; i < _acked.Length && !_stop.IsCancellationRequested; i += workers)
            {
                sequence++;
                Volatile.Write(ref _attempted[i], sequence);
                try
                {
                    await db.StringSetAsync(Key(i), sequence.ToString(CultureInfo.InvariantCulture));
                    Volatile.Write(ref _acked[i], sequence);
                    Interlocked.Increment(ref _writes);
                }
                catch (RedisConnectionException e) when (e.Message.Contains(" serving hashslot ", StringComparison.Ordinal) && e.Message.Contains(" is not reachable at this point of time", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _unfollowedRedirections);
                    await Task.Delay(50);
                }
                catch (Exception e) when (e is RedisException or TimeoutException)
                {
                    _errors.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {Key(i)}: {e.GetType().Name}: {e.Message}{(e.InnerException is { } inner ? $" (inner {inner.GetType().Name}: {inner.Message})" : "")}");
                    await Task.Delay(50);
                }
            }
        }
    }

    /// <summary>Fails with every error the writer saw and the client's connection events when there was any error.</summary>
    public void AssertNoErrors(string context = "")
    {
        var errors = Errors;
        Assert.True(errors.Count == 0, $"the writer saw {errors.Count} failed writes:\n{string.Join("\n", errors.Take(10))}\nconnection events:\n{string.Join("\n", _connectionEvents.Take(50))}\n{context}");
    }

    /// <summary>Waits until <paramref name="more"/> further writes were acknowledged (the cluster serves writes).</summary>
    public async Task WaitForWritesAsync(long more, TimeSpan timeout)
    {
        var target = Writes + more;
        await LocalTestSupport.PollAsync(() => Task.FromResult(Writes >= target), timeout, $"{more} more acknowledged writes (errors: {string.Join(" | ", Errors.Take(5))})");
    }

    /// <summary>Stops the workers after their writes in flight.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    /// <summary>
    /// Reads every key written (through a fresh connection to <paramref name="ports"/>) and returns the keys whose value
    /// is not its last acknowledged one (nor one written after it whose outcome the writer could not know).
    /// </summary>
    public async Task<IReadOnlyList<string>> FindLostWritesAsync(IEnumerable<int> ports)
    {
        using var reader = await ConnectionMultiplexer.ConnectAsync(Options(ports));
        var db = reader.GetDatabase();
        var lost = new List<string>();
        for (var start = 0; start < _acked.Length; start += 1000)
        {
            var count = Math.Min(1000, _acked.Length - start);
            var values = await Task.WhenAll(Enumerable.Range(start, count).Select(i => db.StringGetAsync(Key(i))));
            for (var j = 0; j < count; j++)
            {
                var i = start + j;
                var acked = _acked[i];
                if (acked == 0)
                {
                    continue;
                }
                var value = values[j].HasValue && long.TryParse(values[j].ToString(), CultureInfo.InvariantCulture, out var v) ? v : 0;
                if (value < acked || value > _attempted[i])
                {
                    lost.Add($"{Key(i)} is {(values[j].HasValue ? values[j].ToString() : "(nil)")}, last acknowledged {acked}, last attempted {_attempted[i]}");
                }
            }
        }
        return lost;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync();
        }
        await _redis.DisposeAsync();
        _stop.Dispose();
    }
}
