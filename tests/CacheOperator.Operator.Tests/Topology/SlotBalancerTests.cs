using CacheOperator.Operator.Topology;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>The slot balancer over generated spreads, and the planner's resharding and open-slot repairs on hand-written views.</summary>
public sealed class SlotBalancerTests
{
    /// <summary>A generated spread: keeping masters with slot counts, draining masters with slot counts.</summary>
    public sealed record Spread(int[] Keeping, int[] Draining)
    {
        public override string ToString() => $"keeping [{string.Join(", ", Keeping)}], draining [{string.Join(", ", Draining)}]";

        /// <summary>Contiguous blocks of the 16384 slots (some unowned) in the given proportions.</summary>
        public Dictionary<string, IReadOnlyList<int>> Owned()
        {
            var counts = Keeping.Select((c, i) => ($"k{i}", c)).Concat(Draining.Select((c, i) => ($"d{i}", c))).ToList();
            int total = counts.Sum(c => c.c);
            var owned = new Dictionary<string, IReadOnlyList<int>>();
            int next = 0;
            foreach (var (name, count) in counts)
            {
                int n = total == 0 ? 0 : (int)((long)count * SlotRange.SlotCount / Math.Max(total, SlotRange.SlotCount));
                owned[name] = Enumerable.Range(next, n).ToList();
                next += n;
            }
            return owned;
        }
    }

    /// <summary>Spreads for FsCheck: 1-6 keeping masters, 0-3 draining, counts from empty to lopsided.</summary>
    public static class Spreads
    {
        public static Arbitrary<Spread> Spread() =>
            Gen.Zip(Gen.Choose(1, 6).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9000), n)), Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9000), n)))
                .Select(t => new Spread(t.Item1, t.Item2))
                .ToArbitrary();
    }

    [Property(MaxTest = 300, Arbitrary = [typeof(Spreads)])]
    public void Evens_the_keeping_masters_empties_the_draining_and_moves_the_fewest_slots(Spread spread)
    {
        var owned = spread.Owned();
        var keeping = owned.Keys.Where(k => k.StartsWith('k')).ToList();
        var draining = owned.Keys.Where(k => k.StartsWith('d')).ToList();
        var moves = SlotBalancer.Plan(owned, keeping, draining);

        var after = owned.ToDictionary(p => p.Key, p => p.Value.ToHashSet());
        foreach (var move in moves)
        {
            Assert.True(after[move.Source].Remove(move.Slot), $"{move} moves a slot its source does not own ({spread})");
            Assert.True(after[move.Target].Add(move.Slot), $"{move} moves a slot to its owner ({spread})");
            Assert.Contains(move.Target, keeping);
        }
        Assert.Equal(moves.Count, moves.Select(m => m.Slot).Distinct().Count());

        int total = owned.Values.Sum(s => s.Count);
        double mean = (double)total / keeping.Count;
        Assert.All(draining, d => Assert.Empty(after[d]));
        Assert.True(keeping.Max(k => after[k].Count) - keeping.Min(k => after[k].Count) <= 1, $"uneven result ({spread})");

        // Minimal: every draining slot, plus what the keeping masters hold above their share (the largest keep the extra slot).
        int floor = total / keeping.Count, extra = total % keeping.Count;
        var quota = keeping.OrderByDescending(k => owned[k].Count).ThenBy(k => k, StringComparer.Ordinal).Select((k, i) => (k, q: floor + (i < extra ? 1 : 0))).ToList();
        int minimal = draining.Sum(d => owned[d].Count) + quota.Sum(p => Math.Max(0, owned[p.k].Count - p.q));
        Assert.Equal(minimal, moves.Count);

        // Nobody at or below the mean gives a slot.
        Assert.DoesNotContain(moves, m => keeping.Contains(m.Source) && owned[m.Source].Count <= mean);
    }

    [Fact]
    public void Scaling_3_to_4_moves_a_quarter_of_the_slots_only_from_the_three()
    {
        var owned = Enumerable.Range(0, 3).ToDictionary(i => $"m{i}", i => (IReadOnlyList<int>)Enumerable.Range(SlotRange.ForShard(i, 3).Start, SlotRange.ForShard(i, 3).Count).ToList());
        var moves = SlotBalancer.Plan(owned, ["m0", "m1", "m2", "m3"], []);
        Assert.Equal(4096, moves.Count);
        Assert.All(moves, m => Assert.Equal("m3", m.Target));
        // Each gives its highest slots: the rest of its range stays contiguous.
        Assert.Equal(5461 - 4096, moves.Count(m => m.Source == "m0"));
        Assert.Equal(Enumerable.Range(4096, 5461 - 4096), moves.Where(m => m.Source == "m0").Select(m => m.Slot).Order());
    }

    [Fact]
    public void An_even_cluster_moves_nothing()
    {
        var owned = Enumerable.Range(0, 3).ToDictionary(i => $"m{i}", i => (IReadOnlyList<int>)Enumerable.Range(SlotRange.ForShard(i, 3).Start, SlotRange.ForShard(i, 3).Count).ToList());
        Assert.Empty(SlotBalancer.Plan(owned, ["m0", "m1", "m2"], []));
    }
}
