using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// One connection to redis-server and one to the node, each consumer-group command sent to both and the replies compared
/// byte for byte, except clock readings (idle times, delivery and seen times), which are compared as non-negative
/// integers and then set to zero, since the two servers run the commands at different moments.
/// </summary>
internal sealed class GroupConversation : IDisposable
{
    private static readonly HashSet<string> TimeKeys = ["idle", "seen-time"];

    /// <summary>Connects to both servers, flushes them and switches both to <paramref name="protocol"/>.</summary>
    public GroupConversation(RedisAndNode servers, int protocol)
    {
        Redis = servers.Redis.Client();
        Node = servers.Node.Client();
        foreach (var client in new[] { Redis, Node })
        {
            client.Call("FLUSHALL");
            if (protocol == 3)
            {
                client.Call("HELLO", "3");
            }
        }
    }

    /// <summary>The connection to redis-server.</summary>
    public RespClient Redis { get; }

    /// <summary>The connection to the node.</summary>
    public RespClient Node { get; }

    /// <summary>Runs a command on both servers and asserts identical replies (clock readings aside); returns the node's.</summary>
    public RespValue Same(params string[] command)
    {
        var expected = Redis.Call(command);
        var actual = Node.Call(command);
        Assert.True(Equal(WithoutTimes(expected), WithoutTimes(actual)), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        return actual;
    }

    /// <summary>Runs each command on both servers, asserting identical replies.</summary>
    public void Script(params string[][] commands)
    {
        foreach (var command in commands)
        {
            Same(command);
        }
    }

    /// <summary>Structural equality: kind, bytes, integer and items.</summary>
    public static bool Equal(RespValue a, RespValue b) =>
        a.Kind == b.Kind && a.Integer == b.Integer && (a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? [])
        && (a.Items ?? []).Count == (b.Items ?? []).Count && (a.Items ?? []).Zip(b.Items ?? []).All(p => Equal(p.First, p.Second));

    /// <summary>
    /// The reply with clock readings zeroed: values after "idle" / "seen-time", the third item of pending-entry
    /// tuples [id, consumer, ms, count] and the second of [id, ms, count].
    /// </summary>
    public static RespValue WithoutTimes(RespValue value)
    {
        if (value.Items is not { } items)
        {
            return value;
        }
        var copy = items.Select(WithoutTimes).ToList();
        for (int i = 0; i + 1 < copy.Count; i++)
        {
            if (copy[i].Kind is RespKind.Bulk or RespKind.Simple && TimeKeys.Contains(copy[i].Text ?? "") && copy[i + 1].Kind == RespKind.Integer)
            {
                copy[i + 1] = Zeroed(copy[i + 1]);
            }
        }
        if (copy.Count == 4 && IsId(copy[0]) && copy[1].Kind == RespKind.Bulk && copy[2].Kind == RespKind.Integer && copy[3].Kind == RespKind.Integer)
        {
            copy[2] = Zeroed(copy[2]);
        }
        else if (copy.Count == 3 && IsId(copy[0]) && copy[1].Kind == RespKind.Integer && copy[2].Kind == RespKind.Integer)
        {
            copy[1] = Zeroed(copy[1]);
        }
        return value with { Items = copy };
    }

    private static bool IsId(RespValue value) => value.Kind == RespKind.Bulk && value.Text is { } text && text.Contains('-', StringComparison.Ordinal)
        && text.Split('-') is [var ms, var seq] && ulong.TryParse(ms, out _) && ulong.TryParse(seq, out _);

    private static RespValue Zeroed(RespValue time)
    {
        Assert.True(time.Integer >= 0, $"a clock reading is negative: {time.Integer}");
        return time with { Integer = 0 };
    }

    /// <summary>Text of a command for messages.</summary>
    public static string Describe(string[] command) => string.Join(' ', command.Select(a => a.Length > 40 ? a[..40] : a));

    /// <summary>Bytes of a string.</summary>
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <inheritdoc/>
    public void Dispose()
    {
        Redis.Dispose();
        Node.Dispose();
    }
}
