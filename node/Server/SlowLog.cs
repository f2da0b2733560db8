using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Server;

/// <summary>One slow command, as SLOWLOG GET reports it.</summary>
public sealed record SlowLogEntry(long Id, long UnixSeconds, long Microseconds, byte[][] Arguments, string ClientAddress, string ClientName);

/// <summary>
/// The slow log: commands that took at least slowlog-log-slower-than microseconds, newest first, at
/// most slowlog-max-len entries. Arguments are kept as Redis keeps them: at most 32, each at most 128 bytes.
/// </summary>
public sealed class SlowLog
{
    private const int MaxArguments = 32;
    private const int MaxArgumentBytes = 128;
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;

    /// <summary>Entries kept.</summary>
    public int Count
    {
        get
        {
            lock (_entries)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Records a command that took <paramref name="micros"/>; trims to <paramref name="maxLength"/>.</summary>
    public void Add(ArgList args, long micros, Session session, long maxLength)
    {
        int shown = Math.Min(args.Count, MaxArguments);
        var copy = new byte[shown][];
        for (int i = 0; i < shown; i++)
        {
            var arg = args[i];
            if (i == MaxArguments - 1 && args.Count > MaxArguments)
            {
                copy[i] = Encoding.ASCII.GetBytes($"... ({args.Count - MaxArguments + 1} more arguments)");
            }
            else if (arg.Length > MaxArgumentBytes)
            {
                copy[i] = [.. arg[..MaxArgumentBytes], .. Encoding.ASCII.GetBytes($"... ({arg.Length - MaxArgumentBytes} more bytes)")];
            }
            else
            {
                copy[i] = arg.ToArray();
            }
        }
        lock (_entries)
        {
            _entries.AddFirst(new SlowLogEntry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), micros, copy, session.RemoteAddress, session.Name ?? ""));
            Trim(maxLength);
        }
    }

    /// <summary>The newest <paramref name="count"/> entries (-1: all).</summary>
    public List<SlowLogEntry> Newest(long count)
    {
        lock (_entries)
        {
            return [.. count < 0 ? _entries : _entries.Take((int)Math.Min(count, int.MaxValue))];
        }
    }

    /// <summary>Drops every entry (SLOWLOG RESET).</summary>
    public void Reset()
    {
        lock (_entries)
        {
            _entries.Clear();
        }
    }

    /// <summary>Drops the oldest entries beyond <paramref name="maxLength"/> (also after CONFIG SET slowlog-max-len).</summary>
    public void Trim(long maxLength)
    {
        lock (_entries)
        {
            while (_entries.Count > maxLength)
            {
                _entries.RemoveLast();
            }
        }
    }
}

/// <summary>One LATENCY sample: when and how long, in milliseconds.</summary>
public readonly record struct LatencySample(long UnixSeconds, long Milliseconds);

/// <summary>
/// The latency monitor: per event ("command", "fast-command", ...) the last 160 samples at or above
/// latency-monitor-threshold (one per second, the highest), the latest, and the all-time maximum.
/// </summary>
public sealed class LatencyMonitor
{
    private const int HistoryLength = 160;
    private readonly Dictionary<string, EventHistory> _events = new(StringComparer.Ordinal);

    /// <summary>The samples and maximum of one event.</summary>
    public sealed class EventHistory
    {
        /// <summary>Samples, oldest first.</summary>
        public List<LatencySample> Samples { get; } = [];

        /// <summary>Highest latency ever recorded.</summary>
        public long Max { get; set; }
    }

    /// <summary>Records <paramref name="milliseconds"/> for <paramref name="name"/>.</summary>
    public void Add(string name, long milliseconds)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        lock (_events)
        {
            if (!_events.TryGetValue(name, out var history))
            {
                _events[name] = history = new EventHistory();
            }
            history.Max = Math.Max(history.Max, milliseconds);
            var samples = history.Samples;
            if (samples.Count > 0 && samples[^1].UnixSeconds == now)
            {
                samples[^1] = new LatencySample(now, Math.Max(samples[^1].Milliseconds, milliseconds));
                return;
            }
            samples.Add(new LatencySample(now, milliseconds));
            if (samples.Count > HistoryLength)
            {
                samples.RemoveAt(0);
            }
        }
    }

    /// <summary>A copy of every event's history, by name.</summary>
    public List<(string Name, LatencySample[] Samples, long Max)> Snapshot()
    {
        lock (_events)
        {
            return [.. _events.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => (e.Key, e.Value.Samples.ToArray(), e.Value.Max))];
        }
    }

    /// <summary>Forgets the named events, or all when none are named; returns how many were reset.</summary>
    public int Reset(IReadOnlyCollection<string> names)
    {
        lock (_events)
        {
            if (names.Count == 0)
            {
                int all = _events.Count;
                _events.Clear();
                return all;
            }
            return names.Count(n => _events.Remove(n));
        }
    }
}
