using System.Globalization;

namespace CacheOperator.Node.Configuration;

/// <summary>The latency-tracking-info-percentiles value: percentiles between 0 and 100, printed as Redis prints them.</summary>
public static class LatencyPercentiles
{
    /// <summary>
    /// Checks a space-separated list as Redis's setConfigLatencyTrackingInfoPercentilesOutputOption does and returns
    /// its canonical text (each number as "%f" with trailing zeros trimmed), or Redis's error reason.
    /// </summary>
    public static (string? Text, string? Error) Normalize(string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var canonical = new List<string>(parts.Length);
        foreach (var part in parts)
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double percentile) || !double.IsFinite(percentile))
            {
                return (null, "Invalid latency-tracking-info-percentiles parameters");
            }
            if (percentile is > 100.0 or < 0.0)
            {
                return (null, "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
            }
            canonical.Add(Format(percentile));
        }
        return (string.Join(' ', canonical), null);
    }

    /// <summary>The percentiles of a canonical value.</summary>
    public static double[] Parse(string canonical) =>
        [.. canonical.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];

    /// <summary>C's "%f" with trailing zeros (and a trailing dot) removed, as Redis's trimDoubleString.</summary>
    public static string Format(double percentile)
    {
        string text = percentile.ToString("F6", CultureInfo.InvariantCulture);
        return text.TrimEnd('0').TrimEnd('.');
    }
}
