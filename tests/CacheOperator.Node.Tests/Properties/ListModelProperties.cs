using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>Random sequences of list commands against the node, checked step by step against a plain List model.</summary>
public class ListModelProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private const string Key = "prop:list";

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Each step: an operation code, two small signed numbers and an element picked from few values (so duplicates abound).</summary>
    [Property(MaxTest = 300)]
    public bool Random_list_operations_agree_with_a_model((byte Op, sbyte A, sbyte B, byte Element)[] steps)
    {
        using var client = servers.Node.Client();
        client.Call("DEL", Key);
        var model = new List<string>();
        foreach (var (op, a, b, e) in steps)
        {
            string element = "e" + (e % 4);
            if (!Step(client, model, op % 12, a, b, element, out string failure))
            {
                throw new Xunit.Sdk.XunitException($"op {op % 12} a={a} b={b} {element}: {failure}; model [{string.Join(",", model)}]");
            }
        }
        var all = client.Call("LRANGE", Key, "0", "-1").Texts;
        return all.SequenceEqual(model) && client.Call("LLEN", Key).Integer == model.Count
            && client.Call("EXISTS", Key).Integer == (model.Count > 0 ? 1 : 0);
    }

    private static bool Step(RespClient client, List<string> model, int op, int a, int b, string element, out string failure)
    {
        failure = "";
        int n = model.Count;
        switch (op)
        {
            case 0:
                model.Insert(0, element);
                return Expect(client.Call("LPUSH", Key, element).Integer, model.Count, out failure);
            case 1:
                model.Add(element);
                return Expect(client.Call("RPUSH", Key, element).Integer, model.Count, out failure);
            case 2:
                {
                    var reply = client.Call("LPOP", Key);
                    string? expected = n > 0 ? model[0] : null;
                    if (n > 0)
                    {
                        model.RemoveAt(0);
                    }
                    return Expect(reply.Text, expected, out failure);
                }
            case 3:
                {
                    int count = Math.Abs(a) % 4;
                    var reply = client.Call("RPOP", Key, Num(count));
                    if (n == 0)
                    {
                        return Expect(reply.Kind, RespKind.Null, out failure);
                    }
                    int take = Math.Min(count, n);
                    var expected = Enumerable.Range(0, take).Select(i => model[n - 1 - i]).ToArray();
                    model.RemoveRange(n - take, take);
                    return Expect(string.Join(",", reply.Texts), string.Join(",", expected), out failure);
                }
            case 4:
                {
                    var reply = client.Call("LINDEX", Key, Num(a));
                    int i = a < 0 ? a + n : a;
                    return Expect(reply.Text, i >= 0 && i < n ? model[i] : null, out failure);
                }
            case 5:
                {
                    var reply = client.Call("LSET", Key, Num(a), element);
                    int i = a < 0 ? a + n : a;
                    if (n == 0)
                    {
                        return Expect(reply.Text, "ERR no such key", out failure);
                    }
                    if (i < 0 || i >= n)
                    {
                        return Expect(reply.Text, "ERR index out of range", out failure);
                    }
                    model[i] = element;
                    return Expect(reply.Text, "OK", out failure);
                }
            case 6:
                {
                    var reply = client.Call("LRANGE", Key, Num(a), Num(b));
                    return Expect(string.Join(",", reply.Texts), string.Join(",", ModelRange(model, a, b)), out failure);
                }
            case 7:
                {
                    var kept = ModelRange(model, a, b);
                    model.Clear();
                    model.AddRange(kept);
                    return Expect(client.Call("LTRIM", Key, Num(a), Num(b)).Text, "OK", out failure);
                }
            case 8:
                {
                    string pivot = "e" + (Math.Abs(b) % 4);
                    bool after = a % 2 == 0;
                    var reply = client.Call("LINSERT", Key, after ? "AFTER" : "BEFORE", pivot, element);
                    int at = model.IndexOf(pivot);
                    long expected = n == 0 ? 0 : at < 0 ? -1 : n + 1;
                    if (at >= 0)
                    {
                        model.Insert(after ? at + 1 : at, element);
                    }
                    return Expect(reply.Integer, expected, out failure);
                }
            case 9:
                {
                    int count = a % 3;
                    var reply = client.Call("LREM", Key, Num(count), element);
                    int removed = 0;
                    if (count >= 0)
                    {
                        for (int i = 0; i < model.Count && (count == 0 || removed < count);)
                        {
                            if (model[i] == element)
                            {
                                model.RemoveAt(i);
                                removed++;
                            }
                            else
                            {
                                i++;
                            }
                        }
                    }
                    else
                    {
                        for (int i = model.Count - 1; i >= 0 && removed < -count; i--)
                        {
                            if (model[i] == element)
                            {
                                model.RemoveAt(i);
                                removed++;
                            }
                        }
                    }
                    return Expect(reply.Integer, removed, out failure);
                }
            case 10:
                {
                    // LMOVE within the list rotates it.
                    var reply = client.Call("LMOVE", Key, Key, a % 2 == 0 ? "LEFT" : "RIGHT", b % 2 == 0 ? "LEFT" : "RIGHT");
                    if (n == 0)
                    {
                        return Expect(reply.Kind, RespKind.Null, out failure);
                    }
                    string moved = a % 2 == 0 ? model[0] : model[n - 1];
                    model.RemoveAt(a % 2 == 0 ? 0 : n - 1);
                    model.Insert(b % 2 == 0 ? 0 : model.Count, moved);
                    return Expect(reply.Text, moved, out failure);
                }
            default:
                {
                    int rank = a == 0 ? 1 : a % 3 == 0 ? 1 : a % 3;
                    var reply = client.Call("LPOS", Key, element, "RANK", Num(rank), "COUNT", "0");
                    var matches = Enumerable.Range(0, n).Where(i => model[i] == element).ToList();
                    if (rank < 0)
                    {
                        matches.Reverse();
                    }
                    var expected = matches.Skip(Math.Abs(rank) - 1).Select(i => Num(i));
                    return Expect(string.Join(",", reply.Texts), string.Join(",", expected), out failure);
                }
        }
    }

    private static List<string> ModelRange(List<string> model, long start, long stop)
    {
        int n = model.Count;
        if (start < 0)
        {
            start += n;
        }
        if (stop < 0)
        {
            stop += n;
        }
        start = Math.Max(start, 0);
        stop = Math.Min(stop, n - 1);
        return start > stop ? [] : model.GetRange((int)start, (int)(stop - start + 1));
    }

    private static bool Expect<T>(T actual, T expected, out string failure)
    {
        bool same = EqualityComparer<T>.Default.Equals(actual, expected);
        failure = same ? "" : $"got {actual}, expected {expected}";
        return same;
    }
}
