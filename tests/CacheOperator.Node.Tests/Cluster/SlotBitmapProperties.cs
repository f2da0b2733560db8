using CacheOperator.Node.Cluster;
using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary><see cref="SlotBitmap.Ranges"/> (which skips words at a time) agrees with a slot-by-slot walk of the bitmap.</summary>
public class SlotBitmapProperties
{
    [Property(MaxTest = 300)]
    public bool Ranges_agree_with_a_slot_by_slot_walk(ushort[] slots, ushort[] runs)
    {
        var bitmap = new SlotBitmap();
        foreach (ushort slot in slots)
        {
            bitmap.Set(slot % HashSlot.Count);
        }
        // Long runs, so word boundaries and full words are met as well as single bits.
        foreach (ushort run in runs)
        {
            int start = run % HashSlot.Count;
            for (int slot = start; slot < Math.Min(HashSlot.Count, start + run % 300); slot++)
            {
                bitmap.Set(slot);
            }
        }
        return bitmap.Ranges().SequenceEqual(Walk(bitmap));
    }

    [Fact]
    public void Edges_agree_with_a_slot_by_slot_walk()
    {
        foreach (int[] slots in new[] { Array.Empty<int>(), [0], [16383], [63, 64], [0, 16383], Enumerable.Range(0, HashSlot.Count).ToArray(), Enumerable.Range(64, 64).ToArray() })
        {
            var bitmap = new SlotBitmap();
            foreach (int slot in slots)
            {
                bitmap.Set(slot);
            }
            Assert.Equal(Walk(bitmap), bitmap.Ranges());
        }
    }

    private static List<(int Start, int End)> Walk(SlotBitmap bitmap)
    {
        var ranges = new List<(int Start, int End)>();
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (!bitmap.Contains(slot))
            {
                continue;
            }
            if (ranges.Count > 0 && ranges[^1].End == slot - 1)
            {
                ranges[^1] = (ranges[^1].Start, slot);
            }
            else
            {
                ranges.Add((slot, slot));
            }
        }
        return ranges;
    }
}
