using System.Globalization;

namespace CacheOperator.Node.Configuration;

/// <summary>The classes <c>client-output-buffer-limit</c> sets limits for, in the order CONFIG GET prints them.</summary>
public enum ClientClass
{
    /// <summary>Ordinary clients (and MONITOR clients, as in Redis).</summary>
    Normal = 0,

    /// <summary>Replicas receiving the replication stream (printed as "slave").</summary>
    Replica = 1,

    /// <summary>Clients subscribed to channels or patterns.</summary>
    PubSub = 2,
}

/// <summary>One class's limit: close at <see cref="Hard"/> bytes, or after <see cref="SoftSeconds"/> at <see cref="Soft"/> or more (0: no limit).</summary>
public readonly record struct OutputBufferLimit(long Hard, long Soft, long SoftSeconds);

/// <summary>
/// <c>client-output-buffer-limit</c> as Redis parses it: groups of four words
/// (<c>class hard soft soft_seconds</c>); a value names only the classes it changes.
/// </summary>
public static class OutputBufferLimits
{
    /// <summary>Redis's defaults.</summary>
    public const string Default = "normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60";

    private static readonly string[] PrintedNames = ["normal", "slave", "pubsub"];

    /// <summary>Parses <paramref name="text"/> (which must be normalized, as the directive holds it) into one limit per class.</summary>
    public static OutputBufferLimit[] Parse(string text)
    {
        var limits = new OutputBufferLimit[3];
        Apply(text, limits);
        return limits;
    }

    /// <summary>
    /// Applies <paramref name="value"/> over <paramref name="current"/> (the directive's text): the full
    /// text CONFIG GET prints, or null with Redis's error reason in <paramref name="error"/>.
    /// </summary>
    public static string? Merge(string current, string value, out string? error)
    {
        var limits = new OutputBufferLimit[3];
        if (current.Length > 0)
        {
            Apply(current, limits);
        }
        error = Apply(value, limits);
        if (error is not null)
        {
            return null;
        }
        return string.Join(' ', limits.Select((l, i) => string.Create(CultureInfo.InvariantCulture, $"{PrintedNames[i]} {l.Hard} {l.Soft} {l.SoftSeconds}")));
    }

    /// <summary>
    /// CONFIG REWRITE's lines (Redis's rewriteConfigClientOutputBufferLimitOption): one per class, sizes in gb/mb/kb,
    /// each forced into the file when it differs from that class's default.
    /// </summary>
    public static IReadOnlyList<RewriteLine> RewriteLines(string text)
    {
        var limits = Parse(text);
        var defaults = Parse(Merge("", Default, out _)!);
        string[] rewrittenNames = ["normal", "replica", "pubsub"];
        return [.. limits.Select((l, i) => new RewriteLine(
            string.Create(CultureInfo.InvariantCulture, $"client-output-buffer-limit {rewrittenNames[i]} {MemorySize.Format(l.Hard)} {MemorySize.Format(l.Soft)} {l.SoftSeconds}"),
            l != defaults[i]))];
    }

    private static string? Apply(string value, OutputBufferLimit[] limits)
    {
        var words = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length % 4 != 0)
        {
            return "Wrong number of arguments in buffer limit configuration.";
        }
        // Every group is checked before any is applied, as Redis does.
        var parsed = new (ClientClass Class, OutputBufferLimit Limit)[words.Length / 4];
        for (int j = 0; j < words.Length; j += 4)
        {
            ClientClass? type = words[j].ToLowerInvariant() switch
            {
                "normal" => ClientClass.Normal,
                "slave" or "replica" => ClientClass.Replica,
                "pubsub" => ClientClass.PubSub,
                _ => null,
            };
            if (type is null)
            {
                return "Invalid client class specified in buffer limit configuration.";
            }
            if (!TryParseBytes(words[j + 1], out long hard) || !TryParseBytes(words[j + 2], out long soft)
                || !long.TryParse(words[j + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds) || seconds < 0)
            {
                return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            }
            parsed[j / 4] = (type.Value, new OutputBufferLimit(hard, soft, seconds));
        }
        foreach (var (type, limit) in parsed)
        {
            limits[(int)type] = limit;
        }
        return null;
    }

    private static bool TryParseBytes(string text, out long bytes) => MemorySize.TryParse(text, out bytes) && bytes >= 0;
}
