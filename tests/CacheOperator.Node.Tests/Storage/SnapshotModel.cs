using System.Text;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Storage;

/// <summary>
/// A dataset as plain text, for comparing a snapshot's output with the keyspace at the snapshot point: (database, key)
/// to the value in a canonical form (members sorted where order is not part of the value) and the expiry (-1 for none).
/// </summary>
internal static class SnapshotModel
{
    /// <summary>Every entry of <paramref name="keyspace"/> (expired keys not yet removed included); the caller holds the lock.</summary>
    public static Dictionary<(int Db, string Key), (string Value, long ExpireAt)> Capture(Keyspace keyspace)
    {
        var model = new Dictionary<(int, string), (string, long)>();
        for (int d = 0; d < keyspace.DatabaseCount; d++)
        {
            var table = keyspace[d].Table;
            for (int i = 0; i < table.IndexLimit; i++)
            {
                if (table.IsLive(i))
                {
                    long expireAt = table.ExpireAt(i);
                    model.Add((d, KeyText(table[i].Key!)), (Canonical(table[i].Value!), expireAt == 0 ? -1 : expireAt));
                }
            }
        }
        return model;
    }

    public static string KeyText(byte[] key) => Encoding.Latin1.GetString(key);

    /// <summary>The value as text: equal for equal contents whatever the encoding or the internal order of a hash or set.</summary>
    public static string Canonical(object value)
    {
        switch (value)
        {
            case byte[] bytes:
                return "string:" + Convert.ToHexString(bytes);
            case HashValue hash:
                var pairs = new List<string>();
                for (int i = 0; i < hash.Count; i++)
                {
                    pairs.Add(Convert.ToHexString(hash.FieldAt(i)) + "=" + Convert.ToHexString(hash.ValueAt(i)));
                }
                pairs.Sort(StringComparer.Ordinal);
                return "hash:" + string.Join(",", pairs);
            case ListValue list:
                var items = new List<string>();
                for (int i = 0; i < list.Length; i++)
                {
                    items.Add(Convert.ToHexString(list[i]));
                }
                return "list:" + string.Join(",", items);
            case SetValue set:
                var members = set.Members.Select(m => Convert.ToHexString(m)).ToList();
                members.Sort(StringComparer.Ordinal);
                return "set:" + string.Join(",", members);
            case SortedSetValue zset:
                var ranked = new List<string>();
                for (long rank = 0; rank < zset.Count; rank++)
                {
                    var (member, score) = zset.GetAt(rank);
                    ranked.Add(Convert.ToHexString(member) + "@" + score.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                }
                return "zset:" + string.Join(",", ranked);
            default:
                throw new InvalidOperationException($"unexpected value {value.GetType().Name}");
        }
    }
}

/// <summary>A snapshot sink that records each entry in the model's form and checks the calls' contract.</summary>
internal sealed class RecordingSink(Keyspace keyspace) : ISnapshotSink
{
    public Dictionary<(int Db, string Key), (string Value, long ExpireAt)> Entries { get; } = [];

    /// <summary>Entries written twice (must stay empty).</summary>
    public List<(int Db, string Key)> Duplicates { get; } = [];

    public int ChunksEnded { get; private set; }

    /// <summary>Called outside the lock before each flush returns (the socket test holds the walker back with it).</summary>
    public Func<int, ValueTask>? OnFlush { get; set; }

    public void Write(int db, byte[] key, object value, long expireAtMs, uint access)
    {
        Assert.True(keyspace.Sync.IsHeldByCurrentThread, "a sink is written under the keyspace lock");
        var name = (db, SnapshotModel.KeyText(key));
        if (!Entries.TryAdd(name, (SnapshotModel.Canonical(value), expireAtMs)))
        {
            Duplicates.Add(name);
        }
    }

    public void EndChunk()
    {
        Assert.True(keyspace.Sync.IsHeldByCurrentThread, "a chunk ends under the keyspace lock");
        ChunksEnded++;
    }

    public ValueTask FlushAsync(CancellationToken cancellation)
    {
        Assert.False(keyspace.Sync.IsHeldByCurrentThread, "a sink flushes outside the keyspace lock");
        return OnFlush?.Invoke(ChunksEnded) ?? ValueTask.CompletedTask;
    }

    /// <summary>Asserts the recorded entries are exactly <paramref name="model"/>, naming the first differences.</summary>
    public void AssertEquals(Dictionary<(int Db, string Key), (string Value, long ExpireAt)> model)
    {
        Assert.Empty(Duplicates);
        var missing = model.Keys.Where(k => !Entries.ContainsKey(k)).Take(5).ToList();
        var extra = Entries.Keys.Where(k => !model.ContainsKey(k)).Take(5).ToList();
        var different = model.Where(p => Entries.TryGetValue(p.Key, out var got) && got != p.Value).Take(3)
            .Select(p => $"{p.Key}: expected {Short(p.Value)} got {Short(Entries[p.Key])}").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"missing {string.Join(" ", missing)}; extra {string.Join(" ", extra)}; different {string.Join("; ", different)}");
        Assert.Equal(model.Count, Entries.Count);
    }

    private static string Short((string Value, long ExpireAt) entry) =>
        $"{(entry.Value.Length > 80 ? entry.Value[..80] + "…" : entry.Value)} ttl {entry.ExpireAt}";
}
