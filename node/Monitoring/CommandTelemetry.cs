using System.Diagnostics;
using System.Diagnostics.Metrics;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Monitoring;

/// <summary>
/// What the dispatcher reports after every command: its duration into the metrics histogram (a
/// no-op while no exporter listens), the command's own latency histogram (latency-tracking), the slow log,
/// and the latency monitor. Nothing here allocates
/// for a command below the slow-log and latency thresholds.
/// </summary>
public sealed class CommandTelemetry
{
    private readonly NodeConfig _config;
    private readonly Histogram<double> _duration;
    private readonly double _secondsPerTick = 1.0 / Stopwatch.Frequency;

    /// <summary>Telemetry writing its histogram to <paramref name="meter"/>.</summary>
    public CommandTelemetry(NodeConfig config, Meter meter)
    {
        _config = config;
        _duration = meter.CreateHistogram<double>(NodeMetrics.CommandDurationInstrument, "s", "Time spent running a command, by command.");
        config.SlowlogMaxLen.Changed += d => SlowLog.Trim(d.Number);
    }

    /// <summary>SLOWLOG's entries.</summary>
    public SlowLog SlowLog { get; } = new();

    /// <summary>LATENCY's events.</summary>
    public LatencyMonitor Latency { get; } = new();

    /// <summary>Records one finished command that ran for <paramref name="elapsedTicks"/> Stopwatch ticks.</summary>
    public void Observe(Session session, CommandSpec spec, ArgList args, long elapsedTicks)
    {
        double seconds = elapsedTicks * _secondsPerTick;
        if (_duration.Enabled)
        {
            _duration.Record(seconds, spec.Stats.MetricTag);
        }
        long micros = (long)(seconds * 1_000_000);
        if (_config.LatencyTracking.IsOn)
        {
            // Redis records whole microseconds in nanoseconds (call(): duration*1000).
            (spec.Stats.Latency ??= new LatencyHistogram()).Record(micros * 1000);
        }
        long slower = _config.SlowlogLogSlowerThan.Number;
        if (slower >= 0 && (spec.Flags & CommandFlags.SkipSlowlog) == 0)
        {
            if (micros >= slower)
            {
                SlowLog.Add(args, micros, session, _config.SlowlogMaxLen.Number);
            }
        }
        long threshold = _config.LatencyMonitorThreshold.Number;
        if (threshold > 0)
        {
            long millis = (long)(seconds * 1000);
            if (millis >= threshold)
            {
                Latency.Add((spec.Flags & CommandFlags.Fast) != 0 ? "fast-command" : "command", millis);
            }
        }
    }
}
