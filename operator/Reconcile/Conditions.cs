using CacheOperator.Operator.Api;

namespace CacheOperator.Operator.Reconcile;

/// <summary>Condition types and the Kubernetes rule for lastTransitionTime.</summary>
public static class Conditions
{
    /// <summary>Every shard is ready.</summary>
    public const string Ready = "Ready";

    /// <summary>The operator is moving the cluster toward the spec.</summary>
    public const string Progressing = "Progressing";

    /// <summary>The cluster runs, but not as the spec asks.</summary>
    public const string Degraded = "Degraded";

    /// <summary>
    /// Sets a condition; lastTransitionTime changes only when the status does, as Kubernetes conventions ask.
    /// </summary>
    public static void Set(List<ClusterCondition> conditions, string type, bool status, string reason, string message, long? generation, DateTime now)
    {
        var text = status ? "True" : "False";
        var existing = conditions.FirstOrDefault(c => c.Type == type);
        if (existing is null)
        {
            conditions.Add(new ClusterCondition { Type = type, Status = text, Reason = reason, Message = message, ObservedGeneration = generation, LastTransitionTime = now });
            return;
        }
        if (existing.Status != text)
        {
            existing.LastTransitionTime = now;
        }
        existing.Status = text;
        existing.Reason = reason;
        existing.Message = message;
        existing.ObservedGeneration = generation;
    }

    /// <summary>The condition of <paramref name="type"/>, or null.</summary>
    public static ClusterCondition? Find(CacheClusterStatus? status, string type) => status?.Conditions?.FirstOrDefault(c => c.Type == type);
}

/// <summary>Hash slot arithmetic: 16384 slots, divided evenly among the first shards of a new cluster.</summary>
public static class Slots
{
    /// <summary>Number of hash slots.</summary>
    public const int Count = 16384;

    /// <summary>The range shard <paramref name="index"/> of <paramref name="shards"/> gets, as "first-last".</summary>
    public static string EvenRange(int index, int shards)
    {
        var first = (int)((long)index * Count / shards);
        var last = (int)((long)(index + 1) * Count / shards) - 1;
        return $"{first}-{last}";
    }
}
