using System.Diagnostics.Tracing;

namespace CacheOperator.Node.Server;

/// <summary>
/// The longest garbage-collection pause seen since start, for <c>INFO gc</c> (a section Redis does not have, printed only when asked for by name)
/// (the benchmark's "no GC pause over 10 ms" check). By default the background cycle samples the
/// last GC of every kind; with <c>CACHE_NODE_GC_EVENTS=1</c> a runtime event listener measures every
/// pause exactly (suspend begin to restart end), at the cost of an in-process event session.
/// </summary>
internal static class GcPauseMonitor
{
    private static readonly GCKind[] Kinds = [GCKind.Ephemeral, GCKind.FullBlocking, GCKind.Background];
    private static long s_maxPauseTicks;
    private static PauseListener? s_listener;

    /// <summary>Longest pause in milliseconds.</summary>
    public static double MaxPauseMs => TimeSpan.FromTicks(Interlocked.Read(ref s_maxPauseTicks)).TotalMilliseconds;

    /// <summary>Starts the exact listener when the environment asks for it.</summary>
    public static void Start()
    {
        string? mode = Environment.GetEnvironmentVariable("CACHE_NODE_GC_EVENTS");
        if (mode is "1" or "2" && s_listener is null)
        {
            s_listener = new PauseListener(logEachPause: mode == "2");
        }
    }

    /// <summary>Folds the pauses of the last GC of each kind into the maximum (called by the background cycle).</summary>
    public static void Sample()
    {
        foreach (var kind in Kinds)
        {
            var info = GC.GetGCMemoryInfo(kind);
            foreach (var pause in info.PauseDurations)
            {
                Record(pause.Ticks);
            }
        }
    }

    private static void Record(long ticks)
    {
        long current;
        while (ticks > (current = Interlocked.Read(ref s_maxPauseTicks)) &&
            Interlocked.CompareExchange(ref s_maxPauseTicks, ticks, current) != current)
        {
        }
    }

    /// <summary>Times each suspension from GCSuspendEEBegin to GCRestartEEEnd.</summary>
    private sealed class PauseListener(bool logEachPause) : EventListener
    {
        private const EventKeywords GcKeyword = (EventKeywords)0x1;
        private DateTime _suspendedAt;
        private string _lastGc = "";

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Informational, GcKeyword);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName is null)
            {
                return;
            }
            if (logEachPause && e.EventName.StartsWith("GCStart", StringComparison.Ordinal) && e.Payload is { Count: > 3 } start)
            {
                _lastGc = $"gen{start[1]} reason={start[2]} type={start[3]}";
            }
            else if (e.EventName.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
            {
                _suspendedAt = e.TimeStamp;
            }
            else if (e.EventName.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _suspendedAt != default)
            {
                var pause = e.TimeStamp - _suspendedAt;
                Record(pause.Ticks);
                _suspendedAt = default;
                if (logEachPause)
                {
                    Console.Error.WriteLine($"gc pause {pause.TotalMilliseconds:F2} ms ({_lastGc})");
                }
            }
        }
    }
}
