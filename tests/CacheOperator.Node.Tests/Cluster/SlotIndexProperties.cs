using System.Text;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// The per-slot key index of a cluster-mode <see cref="KeyTable"/> agrees with a model (a dictionary of keys by slot)
/// under random adds and removes: every slot's count and its walk list exactly its keys. Keys share hash tags so
/// that slots hold many keys, and entry indices are reused after removals.
/// </summary>
public class SlotIndexProperties
{
    [Property(MaxTest = 100, EndSize = 3000)]
    public bool Adds_and_removes_agree_with_a_model(ushort[] operations) => Run(operations);

    [Fact]
    public void A_long_random_run_agrees_with_a_model()
    {
        var random = new Random(11);
        var operations = new ushort[200_000];
        for (int i = 0; i < operations.Length; i++)
        {
            operations[i] = (ushort)random.Next(65536);
        }
        Assert.True(Run(operations));
    }

    [Fact]
    public void A_standalone_table_keeps_no_slot_index()
    {
        var table = new KeyTable();
        table.Add("foo"u8.ToArray(), "v"u8.ToArray());
        Assert.False(table.IsSlotIndexed);
        Assert.Equal(0, table.CountInSlot(HashSlot.Of("foo"u8)));
        Assert.Equal(-1, table.FirstInSlot(HashSlot.Of("foo"u8)));
    }

    private static bool Run(ushort[] operations)
    {
        var table = new KeyTable(slotIndexed: true);
        var model = new Dictionary<string, int>();
        foreach (ushort op in operations)
        {
            // Low bit: add or remove; the rest picks a key, a third of them under one of a few hash tags.
            int pick = op >> 1;
            string key = (pick % 3) switch
            {
                0 => $"{{tag{pick % 7}}}:{pick}",
                _ => $"key:{pick % 5000}",
            };
            var bytes = Encoding.UTF8.GetBytes(key);
            int index = table.Find(bytes);
            if ((op & 1) == 0)
            {
                if (index < 0)
                {
                    table.Add(bytes, "v"u8.ToArray());
                    model[key] = HashSlot.Of(bytes);
                }
            }
            else if (index >= 0)
            {
                table.RemoveAt(index);
                model.Remove(key);
            }
        }
        foreach (var group in model.GroupBy(e => e.Value))
        {
            if (table.CountInSlot(group.Key) != group.Count())
            {
                return false;
            }
            var walked = new List<string>();
            for (int i = table.FirstInSlot(group.Key); i >= 0; i = table.NextInSlot(i))
            {
                walked.Add(Encoding.UTF8.GetString(table[i].Key!));
            }
            if (!walked.Order().SequenceEqual(group.Select(e => e.Key).Order()))
            {
                return false;
            }
        }
        int total = 0;
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            total += table.CountInSlot(slot);
        }
        return total == model.Count && table.Count == model.Count;
    }
}
