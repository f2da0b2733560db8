using System.Globalization;
using System.Text.Json;

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

/// <summary>How log lines are written (--log-format).</summary>
public enum LogFormat
{
    /// <summary>time level message key=value...</summary>
    Text,

    /// <summary>One JSON object per line: ts, level, event, msg and the event's fields.</summary>
    Json,
}

/// <summary>One line per event on stdout, as text or JSON.</summary>
public sealed class NodeLog
{
    private readonly object _sync = new();

    /// <summary>Least severe level written.</summary>
    public LogLevel MinimumLevel { get; set; } = LogLevel.Notice;

    /// <summary>Text or JSON lines.</summary>
    public LogFormat Format { get; set; } = LogFormat.Text;

    /// <summary>Where lines go (stdout unless a test captures them).</summary>
    public TextWriter Output { get; set; } = Console.Out;

    /// <summary>Writes one event.</summary>
    public void Write(LogLevel level, string message) => Event(level, "log", message);

    /// <summary>Writes one named event with structured fields (JSON keys, or key=value after the text message).</summary>
    public void Event(LogLevel level, string name, string message, params (string Key, object? Value)[] fields)
    {
        if (level < MinimumLevel)
        {
            return;
        }
        string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        string levelName = level.ToString().ToLowerInvariant();
        string line;
        if (Format == LogFormat.Json)
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("ts", time);
                json.WriteString("level", levelName);
                json.WriteString("event", name);
                json.WriteString("msg", message);
                foreach (var (key, value) in fields)
                {
                    switch (value)
                    {
                        case null:
                            json.WriteNull(key);
                            break;
                        case long l:
                            json.WriteNumber(key, l);
                            break;
                        case int i:
                            json.WriteNumber(key, i);
                            break;
                        case double d:
                            json.WriteNumber(key, d);
                            break;
                        case bool b:
                            json.WriteBoolean(key, b);
                            break;
                        default:
                            json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                            break;
                    }
                }
                json.WriteEndObject();
            }
            line = Encoding.UTF8.GetString(buffer.ToArray());
        }
        else
        {
            var text = new StringBuilder().Append(time).Append(' ').Append(levelName).Append(' ').Append(message);
            foreach (var (key, value) in fields)
            {
                // logfmt: a value with spaces or quotes is quoted so each field stays one token.
                string shown = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                if (shown.Length == 0 || shown.AsSpan().IndexOfAny(" \"=") >= 0)
                {
                    shown = Quote(shown);
                }
                text.Append(' ').Append(key).Append('=').Append(shown);
            }
            line = text.ToString();
        }
        lock (_sync)
        {
            Output.WriteLine(line);
            Output.Flush();
        }
    }

    /// <summary>
    /// <paramref name="value"/> as a JSON string (what JsonSerializer.Serialize writes) without the
    /// reflection-based serializer, which native AOT cannot compile and the JIT pays for in loaded code.
    /// </summary>
    private static string Quote(string value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStringValue(value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A notice.</summary>
    public void Notice(string message) => Write(LogLevel.Notice, message);

    /// <summary>A warning.</summary>
    public void Warning(string message) => Write(LogLevel.Warning, message);

    /// <summary>A verbose detail.</summary>
    public void Verbose(string message) => Write(LogLevel.Verbose, message);
}
