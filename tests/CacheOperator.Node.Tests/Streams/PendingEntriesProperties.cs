using CacheOperator.Node.Storage.Streams;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// The block list behind a group's PEL against a sorted set: random adds (in order, as deliveries, and anywhere, as
/// claims with FORCE), removals (from the front, as acks, and anywhere), lookups, first-at-or-after and ranges, over
/// enough entries that blocks split and empty out.
/// </summary>
public sealed class PendingEntriesProperties
{
    [Property(MaxTest = 40)]
    public bool Behaves_as_a_sorted_set(int seed)
    {
        var random = new Random(seed);
        var list = new PendingEntries();
        var model = new SortedDictionary<StreamId, StreamPendingEntry>();
        var owner = new StreamConsumer("c"u8.ToArray(), 0);
        ulong next = 1;
        for (int step = 0; step < 3000; step++)
        {
            StreamId id = new((ulong)random.Next(0, (int)next + 5), (ulong)random.Next(0, 3));
            switch (random.Next(8))
            {
                case 0:
                case 1:
                case 2:
                    {
                        var appended = new StreamPendingEntry(new StreamId(next++, 0), owner, 0, 1);
                        Assert.True(list.Add(appended));
                        model.Add(appended.Id, appended);
                        break;
                    }
                case 3:
                    {
                        // Anywhere before the next appended ID.
                        StreamId inside = new((ulong)random.Next(0, (int)next), (ulong)random.Next(0, 3));
                        var entry = new StreamPendingEntry(inside, owner, 0, 1);
                        Assert.Equal(model.TryAdd(inside, entry), list.Add(entry));
                        break;
                    }
                case 4:
                    if (model.Count > 0)
                    {
                        var first = model.First().Value;
                        Assert.True(list.Remove(first));
                        model.Remove(first.Id);
                    }
                    break;
                case 5:
                    Assert.Equal(model.Remove(id), list.Remove(new StreamPendingEntry(id, owner, 0, 0)));
                    break;
                case 6:
                    Assert.Same(model.GetValueOrDefault(id), list.Find(id));
                    Assert.Same(model.Values.FirstOrDefault(e => e.Id >= id), list.FirstAtOrAfter(id));
                    break;
                default:
                    {
                        StreamId end = new(id.Ms + (ulong)random.Next(0, 400), (ulong)random.Next(0, 3));
                        Assert.Equal(model.Values.Where(e => e.Id >= id && e.Id <= end).Select(e => e.Id), list.Between(id, end).Select(e => e.Id));
                        break;
                    }
            }
            Assert.Equal(model.Count, list.Count);
        }
        Assert.Equal(model.Keys, list.Select(e => e.Id));
        Assert.Same(model.Values.FirstOrDefault(), list.Min);
        Assert.Same(model.Values.LastOrDefault(), list.Max);
        return true;
    }
}
