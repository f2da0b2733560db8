using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// Random sequences of hash and set commands run against the node and against a plain
/// Dictionary/HashSet model; every reply must be what the model predicts. Field and member names come
/// from small pools so operations collide, bulk operations push collections across the compact limits,
/// long values force the hashtable encoding, and integer members exercise the intset.
/// </summary>
public sealed class HashSetModelProperties : IDisposable
{
    private static readonly Lazy<TestNode> SharedNode = new(() => TestNode.Start());
    private readonly RespClient _client = SharedNode.Value.Client();

    [Property(MaxTest = 60)]
    public bool Hash_and_set_commands_agree_with_a_model(int[] operations)
    {
        var hashes = new Dictionary<string, Dictionary<string, string>>();
        var sets = new Dictionary<string, HashSet<string>>();
        string[] hashKeys = ["h0", "h1", "h2"];
        string[] setKeys = ["s0", "s1", "s2"];
        _client.Call(["DEL", .. hashKeys, .. setKeys]);
        foreach (int raw in operations)
        {
            uint op = (uint)raw;
            string hk = hashKeys[op % 3];
            string sk = setKeys[op / 3 % 3];
            string sk2 = setKeys[op / 9 % 3];
            string field = Member(op >> 8);
            string value = (op >> 20) % 11 == 0 ? new string('v', 70) : $"{(op >> 14) % 50}";
            switch ((op >> 4) % 16)
            {
                case 0:
                    {
                        var h = hashes.GetValueOrDefault(hk) ?? (hashes[hk] = []);
                        long added = h.TryAdd(field, value) ? 1 : 0;
                        h[field] = value;
                        Expect(added, "HSET", hk, field, value);
                        break;
                    }
                case 1:
                    {
                        long removed = hashes.TryGetValue(hk, out var h) && h.Remove(field) ? 1 : 0;
                        if (h is { Count: 0 })
                        {
                            hashes.Remove(hk);
                        }
                        Expect(removed, "HDEL", hk, field);
                        break;
                    }
                case 2:
                    {
                        var reply = _client.Call("HGET", hk, field);
                        string? expected = hashes.TryGetValue(hk, out var h) && h.TryGetValue(field, out var v) ? v : null;
                        Check(reply.Text == expected, "HGET", reply);
                        break;
                    }
                case 3:
                    {
                        var reply = _client.Call("HINCRBY", hk, field, "3");
                        var h = hashes.GetValueOrDefault(hk);
                        string current = h?.GetValueOrDefault(field) ?? "0";
                        if (long.TryParse(current, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) && n.ToString(CultureInfo.InvariantCulture) == current)
                        {
                            Check(reply.Integer == n + 3, "HINCRBY", reply);
                            h ??= hashes[hk] = [];
                            h[field] = (n + 3).ToString(CultureInfo.InvariantCulture);
                        }
                        else
                        {
                            Check(reply.Text == "ERR hash value is not an integer", "HINCRBY", reply);
                        }
                        break;
                    }
                case 4:
                    {
                        var reply = _client.Call("HGETALL", hk);
                        var got = reply.Texts;
                        var pairs = Enumerable.Range(0, got.Length / 2).ToDictionary(i => got[2 * i]!, i => got[(2 * i) + 1]!);
                        var expected = hashes.GetValueOrDefault(hk) ?? [];
                        Check(pairs.Count == expected.Count && expected.All(p => pairs.GetValueOrDefault(p.Key) == p.Value), "HGETALL", reply);
                        break;
                    }
                case 5:
                    {
                        // Bulk HSET: 40 fields at once, so hashes cross the 128-entry listpack limit.
                        var args = new List<string> { "HSET", hk };
                        var h = hashes.GetValueOrDefault(hk) ?? (hashes[hk] = []);
                        long added = 0;
                        for (uint i = 0; i < 40; i++)
                        {
                            string f = $"bulk{(op + (i * 7)) % 300}";
                            if (args.Contains(f))
                            {
                                continue;
                            }
                            args.AddRange([f, "b"]);
                            added += h.TryAdd(f, "b") ? 1 : 0;
                            h[f] = "b";
                        }
                        Expect(added, [.. args]);
                        break;
                    }
                case 6:
                    Expect(hashes.GetValueOrDefault(hk)?.Count ?? 0, "HLEN", hk);
                    break;
                case 7:
                    Expect(hashes.TryGetValue(hk, out var hx) && hx.ContainsKey(field) ? 1 : 0, "HEXISTS", hk, field);
                    break;
                case 8:
                    {
                        var s = sets.GetValueOrDefault(sk) ?? (sets[sk] = []);
                        Expect(s.Add(field) ? 1 : 0, "SADD", sk, field);
                        break;
                    }
                case 9:
                    {
                        long removed = sets.TryGetValue(sk, out var s) && s.Remove(field) ? 1 : 0;
                        if (s is { Count: 0 })
                        {
                            sets.Remove(sk);
                        }
                        Expect(removed, "SREM", sk, field);
                        break;
                    }
                case 10:
                    Expect(sets.TryGetValue(sk, out var sx) && sx.Contains(field) ? 1 : 0, "SISMEMBER", sk, field);
                    break;
                case 11:
                    {
                        var reply = _client.Call("SMEMBERS", sk);
                        var expected = sets.GetValueOrDefault(sk) ?? [];
                        Check(reply.Texts.ToHashSet().SetEquals(expected) && reply.Texts.Length == expected.Count, "SMEMBERS", reply);
                        break;
                    }
                case 12:
                    {
                        // Bulk SADD of integers then strings: intset, then hashtable.
                        var args = new List<string> { "SADD", sk };
                        var s = sets.GetValueOrDefault(sk) ?? (sets[sk] = []);
                        long added = 0;
                        for (uint i = 0; i < 60; i++)
                        {
                            string m = ((op + (i * 13)) % 700).ToString(CultureInfo.InvariantCulture);
                            args.Add(m);
                            added += s.Add(m) ? 1 : 0;
                        }
                        Expect(added, [.. args]);
                        break;
                    }
                case 13:
                    {
                        var a = sets.GetValueOrDefault(sk) ?? [];
                        var b = sets.GetValueOrDefault(sk2) ?? [];
                        string[] names = ["SINTER", "SUNION", "SDIFF"];
                        var expected = ((op >> 12) % 3) switch
                        {
                            0 => a.Intersect(b),
                            1 => a.Union(b),
                            _ => a.Except(b),
                        };
                        var reply = _client.Call(names[(op >> 12) % 3], sk, sk2);
                        Check(reply.Texts.ToHashSet().SetEquals(expected) && reply.Texts.Length == expected.Count(), names[(op >> 12) % 3], reply);
                        break;
                    }
                case 14:
                    {
                        var a = sets.GetValueOrDefault(sk);
                        long moved = 0;
                        if (a is not null && a.Contains(field))
                        {
                            moved = 1;
                            if (sk != sk2)
                            {
                                a.Remove(field);
                                if (a.Count == 0)
                                {
                                    sets.Remove(sk);
                                }
                                (sets.GetValueOrDefault(sk2) ?? (sets[sk2] = [])).Add(field);
                            }
                        }
                        Expect(moved, "SMOVE", sk, sk2, field);
                        break;
                    }
                default:
                    {
                        var reply = _client.Call("SPOP", sk);
                        if (sets.TryGetValue(sk, out var s))
                        {
                            Check(reply.Text is not null && s.Remove(reply.Text), "SPOP", reply);
                            if (s.Count == 0)
                            {
                                sets.Remove(sk);
                            }
                        }
                        else
                        {
                            Check(reply.Kind == RespKind.Null, "SPOP", reply);
                        }
                        break;
                    }
            }
            // Empty collections are deleted, so each key exists exactly when the model has it.
            Expect((hashes.ContainsKey(hk) ? 1 : 0) + (sets.ContainsKey(sk) ? 1 : 0), "EXISTS", hk, sk);
        }
        return true;
    }

    private static string Member(uint bits) => (bits % 4) switch
    {
        0 => ((bits >> 2) % 40).ToString(CultureInfo.InvariantCulture),
        1 => $"f{(bits >> 2) % 40}",
        2 => $"f\r\n{(bits >> 2) % 5}\0",
        _ => $"{((bits >> 2) % 40) - 20}",
    };

    private void Expect(long expected, params string[] command)
    {
        var reply = _client.Call(command);
        Check(reply.Kind == RespKind.Integer && reply.Integer == expected, $"{string.Join(' ', command)} expected :{expected}", reply);
    }

    private static void Check(bool ok, string what, RespValue reply)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"{what}: node replied {reply}");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _client.Dispose();
}
