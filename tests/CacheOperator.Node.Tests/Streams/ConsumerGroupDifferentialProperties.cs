using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Random sequences of XADD, XDEL, XTRIM, XREADGROUP, XACK, XCLAIM, XAUTOCLAIM, XGROUP and the introspection commands
/// over two streams, a few groups and consumers, run on redis-server 7.0.15 and on the node: every reply must be identical
/// (clock readings aside: idle thresholds are 0 or far beyond any run, so which entries qualify never depends on timing).
/// </summary>
public sealed class ConsumerGroupDifferentialProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static readonly string[] Keys = ["s1", "s2"];
    private static readonly string[] Groups = ["g1", "g2", "g3"];
    private static readonly string[] Consumers = ["c1", "c2", "c3", "c4"];

    /// <summary>FsCheck's seed drives a <see cref="Random"/> that builds a sequence of 60 commands.</summary>
    [Property(MaxTest = 60)]
    public bool Random_group_traffic_gets_redis_s_replies(int seed)
    {
        var random = new Random(seed);
        using var d = new GroupConversation(servers, random.Next(2) == 0 ? 2 : 3);
        foreach (var key in Keys)
        {
            d.Same("XGROUP", "CREATE", key, "g1", "0", "MKSTREAM");
            d.Same("XGROUP", "CREATE", key, "g2", "0");
        }
        int top = 1;
        int answered = 0;
        for (int step = 0; step < 60; step++)
        {
            answered += d.Same(Next(random, ref top)).IsError ? 0 : 1;
        }
        // At least half the commands do something: a generator of errors only would agree with redis vacuously.
        Assert.True(answered >= 30, $"only {answered} of 60 commands answered without an error");
        foreach (var key in Keys)
        {
            d.Same("XINFO", "STREAM", key, "FULL");
        }
        return true;
    }

    private static string[] Next(Random r, ref int top)
    {
        int highest = top;
        string Id(Random r) => $"{r.Next(1, highest + 2)}-{r.Next(0, 3)}";
        string key = Pick(r, Keys);
        string group = Pick(r, Groups);
        string consumer = Pick(r, Consumers);
        switch (r.Next(16))
        {
            case 0:
            case 1:
            case 2:
                // Mostly increasing IDs, so that streams grow; sometimes an old one (an error on both).
                if (r.Next(5) != 0)
                {
                    top += r.Next(0, 2);
                }
                return ["XADD", key, $"{top}-{r.Next(0, 3)}", "f", N(r.Next(100)), .. r.Next(3) == 0 ? new[] { "g", "x" } : []];
            case 3:
                return ["XDEL", key, Id(r), Id(r)];
            case 4:
                return r.Next(2) == 0 ? ["XTRIM", key, "MAXLEN", N(r.Next(8))] : ["XTRIM", key, "MINID", Id(r)];
            case 5:
            case 6:
            case 7:
                {
                    var command = new List<string> { "XREADGROUP", "GROUP", group, consumer };
                    if (r.Next(2) == 0)
                    {
                        command.AddRange(["COUNT", N(r.Next(4))]);
                    }
                    if (r.Next(4) == 0)
                    {
                        command.Add("NOACK");
                    }
                    bool both = r.Next(4) == 0;
                    command.Add("STREAMS");
                    command.AddRange(both ? Keys : [key]);
                    string id = r.Next(4) == 0 ? Id(r) : ">";
                    command.AddRange(both ? [id, ">"] : [id]);
                    return [.. command];
                }
            case 8:
                return ["XACK", key, group, Id(r), Id(r), Id(r)];
            case 9:
                {
                    var command = new List<string> { "XCLAIM", key, group, consumer, r.Next(4) == 0 ? "100000000" : "0", Id(r), Id(r) };
                    if (r.Next(3) == 0)
                    {
                        command.Add("JUSTID");
                    }
                    if (r.Next(4) == 0)
                    {
                        command.Add("FORCE");
                    }
                    if (r.Next(4) == 0)
                    {
                        command.AddRange(["RETRYCOUNT", N(r.Next(5))]);
                    }
                    if (r.Next(5) == 0)
                    {
                        command.AddRange(["LASTID", Id(r)]);
                    }
                    return [.. command];
                }
            case 10:
                return ["XAUTOCLAIM", key, group, consumer, r.Next(5) == 0 ? "100000000" : "0", r.Next(2) == 0 ? "0" : Id(r), "COUNT", N(r.Next(1, 5)), .. r.Next(2) == 0 ? new[] { "JUSTID" } : []];
            case 11:
                return r.Next(2) == 0 ? ["XPENDING", key, group] : ["XPENDING", key, group, "-", "+", N(r.Next(10)), .. r.Next(2) == 0 ? new[] { consumer } : []];
            case 12:
                return r.Next(2) == 0 ? ["XINFO", "GROUPS", key] : ["XINFO", "CONSUMERS", key, group];
            case 13:
                return r.Next(3) switch
                {
                    0 => ["XGROUP", "CREATE", key, group, r.Next(2) == 0 ? "$" : Id(r)],
                    1 => ["XGROUP", "SETID", key, group, r.Next(2) == 0 ? "$" : Id(r)],
                    _ => ["XGROUP", "CREATECONSUMER", key, group, consumer],
                };
            case 14:
                return r.Next(4) == 0 ? ["XGROUP", "DESTROY", key, group] : ["XGROUP", "DELCONSUMER", key, group, consumer];
            default:
                return ["XRANGE", key, "-", "+"];
        }
    }

    // IDs name entries up to just past the newest, so that deletes, claims and acks hit existing entries often.
    private static string Pick(Random r, string[] choices) => choices[r.Next(choices.Length)];

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}
