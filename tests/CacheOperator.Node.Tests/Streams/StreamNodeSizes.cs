using System.Globalization;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>The stream node size directives as <see cref="Infrastructure.PairedDifferential"/> configuration pairs (Redis's defaults unless given).</summary>
internal static class StreamNodeSizes
{
    /// <summary>stream-node-max-entries and stream-node-max-bytes, set on both servers so earlier tests leave nothing behind.</summary>
    public static string[] Config(int maxEntries = 100, int maxBytes = 4096) =>
        ["stream-node-max-entries", maxEntries.ToString(CultureInfo.InvariantCulture), "stream-node-max-bytes", maxBytes.ToString(CultureInfo.InvariantCulture)];
}
