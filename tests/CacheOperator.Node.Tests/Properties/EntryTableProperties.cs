using System.Text;
using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// Random adds, finds and removes on <see cref="EntryTable{TValue}"/> agree with a Dictionary: the same
/// members and values, slots that stay put while their member lives, a dense list that names every live
/// slot once, and a slot scan that sees every member. Member pools of different sizes make long probe
/// chains, backward shifts on removal, index growth and slot reuse.
/// </summary>
public class EntryTableProperties
{
    [Property(MaxTest = 100, EndSize = 3000)]
    public bool Operations_agree_with_a_dictionary(ushort[] operations, bool wide) => Run(operations, wide);

    /// <summary>A long fixed run: the table grows past several index doublings and many chunks, and shrinks again.</summary>
    [Xunit.Fact]
    public void A_long_random_run_agrees_with_a_dictionary()
    {
        var random = new Random(7);
        var operations = new ushort[300_000];
        for (int i = 0; i < operations.Length; i++)
        {
            // Adds dominate the first half and removes the second, so the table fills up and drains.
            int kind = i < operations.Length / 2 ? random.Next(5) switch { < 3 => 0, 3 => 2, _ => 3 } : random.Next(5) switch { < 3 => 2, 3 => 0, _ => 3 };
            operations[i] = (ushort)((random.Next(16384) << 2) | kind);
        }
        Xunit.Assert.True(Run(operations, wide: true));
    }

    private static bool Run(ushort[] operations, bool wide)
    {
        var table = new EntryTable<int>(4);
        var model = new Dictionary<string, (int Slot, int Value)>();
        int step = 0;
        foreach (ushort op in operations)
        {
            step++;
            string key = $"k{(op >> 2) % (wide ? 16384 : 40)}";
            var bytes = Encoding.ASCII.GetBytes(key);
            switch (op & 3)
            {
                case 0:
                case 1:
                    {
                        int slot = table.FindOrAdd(bytes, out bool added);
                        if (added == model.ContainsKey(key) || (!added && model[key].Slot != slot))
                        {
                            return false;
                        }
                        table.ValueAt(slot) = step;
                        model[key] = (slot, step);
                        break;
                    }
                case 2:
                    {
                        int slot = table.Find(bytes);
                        if (slot != (model.TryGetValue(key, out var entry) ? entry.Slot : -1))
                        {
                            return false;
                        }
                        if (slot >= 0)
                        {
                            table.RemoveAt(slot);
                            model.Remove(key);
                        }
                        break;
                    }
                default:
                    {
                        int slot = table.Find(bytes);
                        if (slot >= 0 ? !model.TryGetValue(key, out var entry) || entry.Slot != slot || table.ValueAt(slot) != entry.Value : model.ContainsKey(key))
                        {
                            return false;
                        }
                        break;
                    }
            }
        }
        if (table.Count != model.Count)
        {
            return false;
        }
        var dense = new HashSet<int>();
        for (int i = 0; i < table.Count; i++)
        {
            dense.Add(table.SlotAtPosition(i));
        }
        var scanned = new HashSet<int>();
        for (int slot = 0; slot < table.SlotLimit; slot++)
        {
            if (table.IsLive(slot))
            {
                scanned.Add(slot);
            }
        }
        foreach (var (key, (slot, value)) in model)
        {
            if (table.Find(Encoding.ASCII.GetBytes(key)) != slot || table.ValueAt(slot) != value
                || Encoding.ASCII.GetString(table.KeyAt(slot)) != key || !dense.Contains(slot) || !scanned.Contains(slot))
            {
                return false;
            }
        }
        return dense.Count == model.Count && scanned.Count == model.Count;
    }
}
