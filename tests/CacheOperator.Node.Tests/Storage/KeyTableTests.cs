using System.Text;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Storage;

/// <summary>
/// The key table against a dictionary model through many segments' worth of keys: lookups, stable
/// entry indices, expiry bookkeeping and the charged-bytes sum stay exact under adds, overwrites and removals.
/// </summary>
public class KeyTableTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_operations_match_a_dictionary_model(int seed)
    {
        var random = new Random(seed);
        var table = new KeyTable();
        var model = new Dictionary<string, (int Index, byte[] Value, long ExpireAt)>();
        for (int step = 0; step < 60_000; step++)
        {
            // Keys drawn from 20,000 names: the table passes several 4096-entry segments and reuses freed slots.
            string name = "key:" + random.Next(20_000);
            byte[] key = Encoding.ASCII.GetBytes(name);
            int index = table.Find(key);
            Assert.Equal(model.TryGetValue(name, out var known) ? known.Index : -1, index);
            switch (random.Next(4))
            {
                case 0 or 1 when index < 0:
                    var value = new byte[random.Next(0, 100)];
                    index = table.Add(key, value);
                    model[name] = (index, value, 0);
                    break;
                case 0 or 1:
                    var replaced = new byte[random.Next(0, 100)];
                    table[index].Value = replaced;
                    table.Recharge(index);
                    model[name] = (index, replaced, known.ExpireAt);
                    break;
                case 2 when index >= 0:
                    long expireAt = random.Next(3) == 0 ? 0 : random.NextInt64(1, long.MaxValue);
                    table.SetExpire(index, expireAt);
                    model[name] = (index, known.Value, expireAt);
                    break;
                case 3 when index >= 0:
                    table.RemoveAt(index);
                    model.Remove(name);
                    break;
            }
        }

        Assert.Equal(model.Count, table.Count);
        Assert.Equal(model.Values.Count(v => v.ExpireAt != 0), table.VolatileCount);
        long charged = 0;
        foreach (var (name, (index, value, expireAt)) in model)
        {
            Assert.True(table.IsLive(index));
            Assert.Equal(name, Encoding.ASCII.GetString(table[index].Key!));
            Assert.Same(value, table[index].Value);
            Assert.Equal(expireAt, table.ExpireAt(index));
            Assert.Equal(expireAt != 0, table[index].HasExpiry);
            Assert.Equal(KeyTable.ChargeOf(table[index].Key!, value), table[index].Charged);
            charged += table[index].Charged;
        }
        Assert.Equal(charged, table.ChargedBytes);
        int live = Enumerable.Range(0, table.IndexLimit).Count(table.IsLive);
        Assert.Equal(model.Count, live);
    }
}
