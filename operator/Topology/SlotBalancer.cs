namespace CacheOperator.Operator.Topology;

/// <summary>One slot to hand from one master to another.</summary>
/// <param name="Slot">The hash slot.</param>
/// <param name="Source">Member name of the master that owns it.</param>
/// <param name="Target">Member name of the master that gets it.</param>
public sealed record SlotAssignmentMove(int Slot, string Source, string Target);

/// <summary>
/// Pure slot-spread planning: which slots move so that the keeping masters end up even (each within one slot of the
/// mean) and the draining ones empty, moving as few slots as possible. Only a draining master or a master above its
/// share gives slots; the masters with the most slots keep the remainder's extra slot, so nobody at or below the
/// mean ever gives one.
/// </summary>
public static class SlotBalancer
{
    /// <summary>
    /// The moves that even out <paramref name="owned"/> (slots by master name) over <paramref name="keeping"/> and empty
    /// <paramref name="draining"/>. A keeping master absent from <paramref name="owned"/> has no slots yet.
    /// Each source gives its highest slots (ranges stay contiguous at their start); receivers fill in name order.
    /// </summary>
    public static IReadOnlyList<SlotAssignmentMove> Plan(IReadOnlyDictionary<string, IReadOnlyList<int>> owned, IReadOnlyCollection<string> keeping, IReadOnlyCollection<string> draining)
    {
        ArgumentNullException.ThrowIfNull(owned);
        ArgumentNullException.ThrowIfNull(keeping);
        ArgumentNullException.ThrowIfNull(draining);
        if (keeping.Count == 0)
        {
            return [];
        }
        var count = keeping.Concat(draining).Distinct(StringComparer.Ordinal)
            .ToDictionary(name => name, name => owned.TryGetValue(name, out var slots) ? slots.Count : 0, StringComparer.Ordinal);
        int total = count.Values.Sum();
        int floor = total / keeping.Count, extra = total % keeping.Count;
        // The largest keep the extra slot: that minimises how many slots leave them.
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        var ordered = keeping.Distinct(StringComparer.Ordinal).OrderByDescending(n => count[n]).ThenBy(n => n, StringComparer.Ordinal).ToList();
        for (int i = 0; i < ordered.Count; i++)
        {
            quota[ordered[i]] = floor + (i < extra ? 1 : 0);
        }
        foreach (var name in draining.Where(n => !quota.ContainsKey(n)))
        {
            quota[name] = 0;
        }

        var giving = new List<(string Name, int Slot)>();
        foreach (var name in quota.Keys.Order(StringComparer.Ordinal))
        {
            int surplus = count[name] - quota[name];
            if (surplus > 0)
            {
                giving.AddRange(owned[name].Order().TakeLast(surplus).Select(slot => (name, slot)));
            }
        }
        var moves = new List<SlotAssignmentMove>(giving.Count);
        int next = 0;
        foreach (var receiver in ordered)
        {
            for (int need = quota[receiver] - count[receiver]; need > 0 && next < giving.Count; need--, next++)
            {
                moves.Add(new SlotAssignmentMove(giving[next].Slot, giving[next].Name, receiver));
            }
        }
        return moves;
    }
}
