using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.PubSub;

/// <summary>
/// The same clients on redis-server and on the node, driven step by step: each step sends one command on one client of
/// both servers, then a PING with a marker, and reads every frame (replies and pushes) up to the marker's answer, so
/// whatever a command caused on that connection, in order and byte for byte, is compared with redis-server's.
/// </summary>
public sealed class PubSubConversation : IDisposable
{
    private readonly List<(RespClient Redis, RespClient Node)> _clients = [];
    private int _marker;

    /// <summary>Opens <paramref name="count"/> client pairs; those listed in <paramref name="resp3"/> switch to RESP3 first.</summary>
    public PubSubConversation(RedisAndNode servers, int count, params int[] resp3)
    {
        for (int i = 0; i < count; i++)
        {
            var pair = (servers.Redis.Client(), servers.Node.Client());
            _clients.Add(pair);
            if (resp3.Contains(i))
            {
                pair.Item1.Call("HELLO", "3");
                pair.Item2.Call("HELLO", "3");
            }
        }
    }

    /// <summary>Runs <paramref name="command"/> on client <paramref name="client"/> of both servers; asserts the same frames, returns the node's.</summary>
    public IReadOnlyList<RespValue> Run(int client, params string[] command)
    {
        string marker = $"marker-{_marker++}";
        var (redis, node) = _clients[client];
        var expected = Normalize(command, Exchange(redis, command, marker));
        var actual = Normalize(command, Exchange(node, command, marker));
        string Show(IEnumerable<RespValue> frames) => string.Join(" | ", frames);
        Assert.True(expected.Count == actual.Count && expected.Zip(actual).All(p => Same(p.First, p.Second)),
            $"client {client}: {string.Join(' ', command)}\n  redis: {Show(expected)}\n  node:  {Show(actual)}");
        return actual;
    }

    /// <summary>Sends <paramref name="command"/> on client <paramref name="client"/> of both servers and compares the next <paramref name="frames"/> frames (no marker: inside MULTI a PING would be queued).</summary>
    public void RunExpecting(int client, int frames, params string[] command)
    {
        var (redis, node) = _clients[client];
        redis.Send(command);
        node.Send(command);
        for (int i = 0; i < frames; i++)
        {
            var expected = redis.Read();
            var actual = node.Read();
            Assert.True(Same(expected, actual), $"client {client}: {string.Join(' ', command)} frame {i}\n  redis: {expected}\n  node:  {actual}");
        }
    }

    /// <summary>Only reads what client <paramref name="client"/> was sent since its last step (a PING marker), on both servers.</summary>
    public IReadOnlyList<RespValue> Drain(int client) => Run(client, "PING");

    private static List<RespValue> Exchange(RespClient client, string[] command, string marker)
    {
        client.SendRaw([.. RespClient.Encode(command), .. RespClient.Encode("PING", marker)]);
        var frames = new List<RespValue>();
        while (true)
        {
            var frame = client.Read();
            frames.Add(frame);
            if (IsMarker(frame, marker))
            {
                return frames;
            }
        }
    }

    /// <summary>
    /// Orders what Redis leaves to its dictionaries' order: the pattern messages of one publication (patterns are
    /// matched in hash order) and the channels PUBSUB CHANNELS and SHARDCHANNELS list.
    /// </summary>
    private static List<RespValue> Normalize(string[] command, List<RespValue> frames)
    {
        if (command is ["PUBSUB", "CHANNELS" or "SHARDCHANNELS", ..] && frames[0].Kind == RespKind.Array)
        {
            frames[0] = frames[0] with { Items = [.. frames[0].Elements.OrderBy(e => e.Text, StringComparer.Ordinal)] };
        }
        static bool IsPatternMessage(RespValue f) => f.Kind is RespKind.Array or RespKind.Push && f.Elements.Count == 4 && f.Elements[0].Text == "pmessage";
        for (int start = 0; start < frames.Count; start++)
        {
            if (!IsPatternMessage(frames[start]))
            {
                continue;
            }
            int end = start + 1;
            while (end < frames.Count && IsPatternMessage(frames[end]) && Same(frames[end].Elements[2], frames[start].Elements[2]) && Same(frames[end].Elements[3], frames[start].Elements[3]))
            {
                end++;
            }
            var run = frames.GetRange(start, end - start).OrderBy(f => f.Elements[1].Text, StringComparer.Ordinal).ToList();
            frames.RemoveRange(start, end - start);
            frames.InsertRange(start, run);
            start = end - 1;
        }
        return frames;
    }

    /// <summary>PING's answer with a message: a bulk, or ["pong", message] in RESP2 subscriber mode.</summary>
    private static bool IsMarker(RespValue frame, string marker) =>
        (frame.Kind == RespKind.Bulk && frame.Text == marker)
        || (frame.Kind == RespKind.Array && frame.Elements.Count == 2 && frame.Elements[0].Text == "pong" && frame.Elements[1].Text == marker);

    /// <summary>Same type and bytes, recursively.</summary>
    public static bool Same(RespValue a, RespValue b)
    {
        if (a.Kind != b.Kind || a.Integer != b.Integer || !(a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? []))
        {
            return false;
        }
        var ai = a.Items ?? [];
        var bi = b.Items ?? [];
        return ai.Count == bi.Count && ai.Zip(bi).All(p => Same(p.First, p.Second));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (redis, node) in _clients)
        {
            redis.Dispose();
            node.Dispose();
        }
    }
}
