using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>Server-wide counters for INFO stats and errorstats. Updated under the keyspace lock or with Interlocked.</summary>
public sealed class ServerStats
{
    /// <summary>Commands run.</summary>
    public long CommandsProcessed;

    /// <summary>Connections accepted.</summary>
    public long ConnectionsReceived;

    /// <summary>Connections refused (maxclients).</summary>
    public long RejectedConnections;

    /// <summary>Bytes read from clients.</summary>
    public long NetInputBytes;

    /// <summary>Bytes written to clients by connections that have closed (open ones are added on read).</summary>
    public long NetOutputBytesClosed;

    /// <summary>Error replies by prefix (ERR, WRONGTYPE, ...), for INFO errorstats.</summary>
    public Dictionary<string, long> ErrorsByPrefix { get; } = new(StringComparer.Ordinal);

    /// <summary>All error replies.</summary>
    public long TotalErrorReplies;

    private readonly (long Ms, long Commands)[] _samples = new (long, long)[16];
    private int _sampleCount;
    private int _nextSample;

    /// <summary>Commands per second over the last samples (INFO instantaneous_ops_per_sec).</summary>
    public long InstantaneousOpsPerSec
    {
        get
        {
            lock (_samples)
            {
                if (_sampleCount < 2)
                {
                    return 0;
                }
                var newest = _samples[(_nextSample + _samples.Length - 1) % _samples.Length];
                var oldest = _samples[_sampleCount < _samples.Length ? 0 : _nextSample];
                long elapsed = newest.Ms - oldest.Ms;
                return elapsed <= 0 ? 0 : (newest.Commands - oldest.Commands) * 1000 / elapsed;
            }
        }
    }

    /// <summary>Records the command count now; the background cycle calls it about ten times a second, as Redis's cron does.</summary>
    public void Sample(long nowMs)
    {
        lock (_samples)
        {
            if (_sampleCount > 0 && nowMs - _samples[(_nextSample + _samples.Length - 1) % _samples.Length].Ms < 100)
            {
                return;
            }
            _samples[_nextSample] = (nowMs, Interlocked.Read(ref CommandsProcessed));
            _nextSample = (_nextSample + 1) % _samples.Length;
            _sampleCount = Math.Min(_sampleCount + 1, _samples.Length);
        }
    }

    /// <summary>
    /// Zeroes the counters (CONFIG RESETSTAT). <paramref name="openConnectionOutput"/> is what open
    /// connections have written so far, subtracted so that net output restarts from zero.
    /// </summary>
    public void Reset(long openConnectionOutput)
    {
        CommandsProcessed = 0;
        Interlocked.Exchange(ref ConnectionsReceived, 0);
        Interlocked.Exchange(ref RejectedConnections, 0);
        Interlocked.Exchange(ref NetInputBytes, 0);
        Interlocked.Exchange(ref NetOutputBytesClosed, -openConnectionOutput);
        lock (ErrorsByPrefix)
        {
            ErrorsByPrefix.Clear();
        }
        TotalErrorReplies = 0;
        lock (_samples)
        {
            _sampleCount = 0;
            _nextSample = 0;
        }
    }

    /// <summary>Counts the error reply the writer just wrote.</summary>
    public void CountError(ReplyWriter reply)
    {
        if (reply.LastErrorPrefix is not { } prefix)
        {
            return;
        }
        lock (ErrorsByPrefix)
        {
            ErrorsByPrefix[prefix] = ErrorsByPrefix.GetValueOrDefault(prefix) + 1;
        }
        TotalErrorReplies++;
    }
}
