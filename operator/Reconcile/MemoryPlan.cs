using k8s.Models;

namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// Derives the node's maxmemory from spec.maxMemory and the container's memory limit. The node's data is
/// not all the process uses (connections, buffers, the runtime), so maxmemory stays a headroom below the
/// limit: 10% of the limit, at least 16 MiB. Without a limit, maxMemory is used as given.
/// </summary>
public static class MemoryPlan
{
    /// <summary>Smallest headroom kept below the memory limit.</summary>
    public const long MinimumHeadroomBytes = 16L * 1024 * 1024;

    /// <summary>Headroom below a memory limit of <paramref name="limitBytes"/>.</summary>
    public static long HeadroomFor(long limitBytes) => Math.Max(limitBytes / 10, MinimumHeadroomBytes);

    /// <summary>Parses a Kubernetes quantity into whole bytes; null with an error when it is not one.</summary>
    public static long? ParseBytes(string text, string field, out string? error)
    {
        error = null;
        decimal value;
        try
        {
            value = new ResourceQuantity(text.Trim()).ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NullReferenceException)
        {
            error = $"{field} \"{text}\" is not a Kubernetes quantity (e.g. 512Mi, 2Gi)";
            return null;
        }
        if (value < 0 || value > long.MaxValue)
        {
            error = $"{field} \"{text}\" is out of range";
            return null;
        }
        return (long)Math.Ceiling(value);
    }

    /// <summary>
    /// The node's maxmemory in bytes (0: no limit), or an error message for a quantity that cannot be used.
    /// </summary>
    public static long? NodeMaxMemory(string? maxMemory, string? memoryLimit, out string? error)
    {
        error = null;
        long? limit = null;
        if (!string.IsNullOrWhiteSpace(memoryLimit))
        {
            limit = ParseBytes(memoryLimit, "spec.resources.limits.memory", out error);
            if (limit is null)
            {
                return null;
            }
        }
        long? wanted = null;
        if (!string.IsNullOrWhiteSpace(maxMemory))
        {
            wanted = ParseBytes(maxMemory, "spec.maxMemory", out error);
            if (wanted is null)
            {
                return null;
            }
            if (wanted == 0)
            {
                error = "spec.maxMemory must be above 0 (leave it unset for no limit)";
                return null;
            }
        }
        if (limit is null)
        {
            return wanted ?? 0;
        }
        var usable = limit.Value - HeadroomFor(limit.Value);
        if (usable <= 0)
        {
            error = $"spec.resources.limits.memory {memoryLimit} leaves no room for data after {HeadroomFor(limit.Value) / (1024 * 1024)}Mi of headroom";
            return null;
        }
        if (wanted > limit)
        {
            error = $"spec.maxMemory {maxMemory} is above spec.resources.limits.memory {memoryLimit}";
            return null;
        }
        return Math.Min(wanted ?? usable, usable);
    }
}
