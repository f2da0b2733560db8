namespace CacheOperator.Node.Server;

/// <summary>Severity of a log line, as redis.conf's loglevel orders them.</summary>
public enum LogLevel
{
    /// <summary>Everything.</summary>
    Debug,

    /// <summary>Rarely useful detail.</summary>
    Verbose,

    /// <summary>What production wants to see.</summary>
    Notice,

    /// <summary>Only problems.</summary>
    Warning,
}

/// <summary>One line per event on stdout: time, level, message.</summary>
public sealed class NodeLog
{
    private readonly object _sync = new();

    /// <summary>Least severe level written.</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Notice;

    /// <summary>Writes one event.</summary>
    public void Write(LogLevel level, string message)
    {
        if (level < MinimumLevel)
        {
            return;
        }
        string line = $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {level.ToString().ToLowerInvariant()} {message}";
        lock (_sync)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }

    /// <summary>A notice.</summary>
    public void Notice(string message) => Write(LogLevel.Notice, message);

    /// <summary>A warning.</summary>
    public void Warning(string message) => Write(LogLevel.Warning, message);

    /// <summary>A verbose detail.</summary>
    public void Verbose(string message) => Write(LogLevel.Verbose, message);
}
