using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Replication;

/// <summary>
/// Everything a server holds, read through its commands: per database, per key, the type, the value in a
/// canonical text form (members sorted where order is not part of the value) and the absolute expiry.
/// </summary>
public sealed record Dataset(SortedDictionary<string, (string Type, string Value, long ExpireAtMs)> Keys)
{
    /// <summary>Reads databases 0..<paramref name="databases"/>-1 with <paramref name="client"/>, leaving it in database 0.</summary>
    public static Dataset Read(RespClient client, int databases = 16)
    {
        var keys = new SortedDictionary<string, (string, string, long)>(StringComparer.Ordinal);
        for (int db = 0; db < databases; db++)
        {
            Assert.Equal("OK", client.Call("SELECT", db.ToString(CultureInfo.InvariantCulture)).Text);
            foreach (var key in client.Call("KEYS", "*").Texts)
            {
                string type = client.Call("TYPE", key!).Text!;
                string value = type switch
                {
                    "string" => client.Call("GET", key!).Text!,
                    "list" => string.Join(",", client.Call("LRANGE", key!, "0", "-1").Texts),
                    "set" => string.Join(",", client.Call("SMEMBERS", key!).Texts.Order(StringComparer.Ordinal)),
                    "hash" => string.Join(",", Pairs(client.Call("HGETALL", key!).Texts).Order(StringComparer.Ordinal)),
                    "zset" => string.Join(",", client.Call("ZRANGE", key!, "0", "-1", "WITHSCORES").Texts),
                    _ => "",
                };
                long expireAt = client.Call("PEXPIRETIME", key!).Integer;
                if (type == "none" || expireAt == -2)
                {
                    // Expired between KEYS and now: the other side compares it the same way, at its own time.
                    continue;
                }
                keys[$"{db}:{key}"] = (type, value, expireAt);
            }
        }
        client.Call("SELECT", "0");
        return new Dataset(keys);
    }

    /// <summary>Fails naming the first difference; expiry times may differ by <paramref name="toleranceMs"/>.</summary>
    public void AssertSameAs(Dataset expected, string what, long toleranceMs = 1)
    {
        foreach (var (key, (type, value, expireAt)) in expected.Keys)
        {
            Assert.True(Keys.TryGetValue(key, out var actual), $"{what}: key {key} ({type}) is missing");
            Assert.True(type == actual.Type, $"{what}: key {key} is a {actual.Type}, expected {type}");
            Assert.True(value == actual.Value, $"{what}: key {key} holds {actual.Value}, expected {value}");
            Assert.True(Math.Abs(expireAt - actual.ExpireAtMs) <= toleranceMs, $"{what}: key {key} expires at {actual.ExpireAtMs}, expected {expireAt}");
        }
        var extra = Keys.Keys.Except(expected.Keys.Keys).ToList();
        Assert.True(extra.Count == 0, $"{what}: unexpected keys {string.Join(", ", extra)}");
    }

    private static IEnumerable<string> Pairs(string?[] flat)
    {
        for (int i = 0; i + 1 < flat.Length; i += 2)
        {
            yield return flat[i] + "=" + flat[i + 1];
        }
    }
}
