using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// Model-based: random sequences of XADD (explicit, "ms-*", too small and 0-0 IDs; NOMKSTREAM; MAXLEN/MINID with = and ~,
/// LIMIT), XDEL, XTRIM (MAXLEN/MINID, = and ~, LIMIT, and the invalid combinations) and XSETID (ENTRIESADDED,
/// MAXDELETEDID) run on redis-server 7.0.15 as the model and on the node, with random node sizes: every reply, and at
/// the end XRANGE, XREVRANGE, XINFO STREAM [FULL] and the DUMP bytes, must be identical.
/// </summary>
public class StreamModelProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string N(ulong i) => i.ToString(CultureInfo.InvariantCulture);

    private static string N(long i) => i.ToString(CultureInfo.InvariantCulture);

    [Property(MaxTest = 60)]
    public bool Every_reply_and_the_final_stream_equal_redis_s(byte[] ops, int seed, byte layout)
    {
        var random = new Random(seed);
        var (entries, bytes) = (layout % 5) switch
        {
            0 => (100, 4096),
            1 => (3, 4096),
            2 => (0, 120),
            3 => (7, 0),
            _ => (1 + (layout % 13), 64 + layout),
        };
        using var both = new PairedDifferential(servers, 2 + (layout & 1), StreamNodeSizes.Config(entries, bytes));
        ulong lastMs = 0;
        var added = new List<string>();
        int steps = Math.Min(ops.Length, 300) + random.Next(0, 200);
        for (int step = 0; step < steps; step++)
        {
            byte op = step < ops.Length ? ops[step] : (byte)random.Next(256);
            string[] command = (op % 10) switch
            {
                <= 4 => Xadd(random, ref lastMs, added),
                5 or 6 => ["XDEL", "s", .. Enumerable.Range(0, random.Next(1, 4)).Select(_ => PickId(random, added, lastMs))],
                7 or 8 => ["XTRIM", "s", .. Trim(random, added, lastMs)],
                _ => Xsetid(random, added, lastMs),
            };
            both.Same(command);
            if (random.Next(10) == 0)
            {
                both.Same("XINFO", "STREAM", "s");
            }
        }
        both.Same("XRANGE", "s", "-", "+");
        both.Same("XREVRANGE", "s", "+", "-", "COUNT", "7");
        both.Same("XINFO", "STREAM", "s");
        both.Same("XINFO", "STREAM", "s", "FULL", "COUNT", "0");
        // Without LZF (whose output in redis-server depends on earlier compressions: liblzf's hash table is not cleared),
        // the payload is the listpacks and counters byte for byte.
        both.Same("CONFIG", "SET", "rdbcompression", "no");
        both.Same("DUMP", "s");
        both.Same("CONFIG", "SET", "rdbcompression", "yes");
        both.Same("XLEN", "s");
        return true;
    }

    private static string[] Xadd(Random random, ref ulong lastMs, List<string> added)
    {
        var command = new List<string> { "XADD", "s" };
        if (random.Next(10) == 0)
        {
            command.Add("NOMKSTREAM");
        }
        if (random.Next(4) == 0)
        {
            command.AddRange(Trim(random, added, lastMs));
        }
        string id;
        switch (random.Next(12))
        {
            case 0:
                id = N(lastMs) + "-*";
                break;
            case 1:
                id = N((ulong)random.Next(0, 3)) + "-" + N((ulong)random.Next(0, 3));
                break;
            case 2:
                id = PickId(random, added, lastMs);
                break;
            default:
                lastMs += (ulong)random.Next(0, 3);
                id = N(lastMs) + "-" + N((ulong)random.Next(0, 50));
                break;
        }
        command.Add(id);
        // Mostly the same fields (the master entry's compression), sometimes others, integers and long values.
        int pairs = random.Next(8) == 0 ? random.Next(1, 5) : 2;
        for (int i = 0; i < pairs; i++)
        {
            command.Add(random.Next(6) == 0 ? "field" + N((long)random.Next(4)) : i == 0 ? "temp" : "unit");
            command.Add(random.Next(5) switch
            {
                0 => N((long)random.Next(-5000, 5000)),
                1 => new string('v', random.Next(0, 90)),
                2 => N(random.NextInt64()),
                _ => "c" + N((long)random.Next(100)),
            });
        }
        if (random.Next(30) == 0)
        {
            command.RemoveAt(command.Count - 1);
        }
        added.Add(id);
        return [.. command];
    }

    private static string[] Trim(Random random, List<string> added, ulong lastMs)
    {
        var args = new List<string>();
        bool minid = random.Next(2) == 0;
        args.Add(minid ? "MINID" : "MAXLEN");
        int op = random.Next(3);
        bool approx = op == 2;
        if (op > 0)
        {
            args.Add(approx ? "~" : "=");
        }
        args.Add(minid ? (random.Next(3) == 0 ? N(lastMs + (ulong)random.Next(-3, 2)) : PickId(random, added, lastMs)) : N((long)random.Next(-1, 40)));
        if (random.Next(3) == 0)
        {
            args.Add("LIMIT");
            args.Add(N((long)random.Next(-1, 30)));
        }
        return [.. args];
    }

    private static string[] Xsetid(Random random, List<string> added, ulong lastMs)
    {
        var command = new List<string> { "XSETID", "s", random.Next(3) == 0 ? PickId(random, added, lastMs) : N(lastMs + (ulong)random.Next(0, 3)) + "-" + N((long)random.Next(0, 60)) };
        if (random.Next(3) == 0)
        {
            command.AddRange(["ENTRIESADDED", N((long)random.Next(-1, 400))]);
        }
        if (random.Next(3) == 0)
        {
            command.AddRange(["MAXDELETEDID", PickId(random, added, lastMs)]);
        }
        return [.. command];
    }

    private static string PickId(Random random, List<string> added, ulong lastMs) =>
        added.Count > 0 && random.Next(4) != 0 ? added[random.Next(added.Count)] : N((ulong)random.Next(0, (int)Math.Min(lastMs + 3, int.MaxValue))) + "-" + N((ulong)random.Next(0, 50));
}
