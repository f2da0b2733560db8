using System.Text;
namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>One connection to redis-server and one to the node, each command sent to both and the replies compared byte for byte.</summary>
internal sealed class PairedDifferential : IDisposable
{
    private readonly RespClient _redis;
    private readonly RespClient _node;

    /// <summary>Connects to both servers, flushes them, sets the <paramref name="config"/> name/value pairs on both and switches both to <paramref name="protocol"/>.</summary>
    public PairedDifferential(RedisAndNode servers, int protocol = 2, params string[] config)
    {
        _redis = servers.Redis.Client();
        _node = servers.Node.Client();
        foreach (var client in new[] { _redis, _node })
        {
            client.Call("FLUSHALL");
            for (int i = 0; i + 1 < config.Length; i += 2)
            {
                client.Call("CONFIG", "SET", config[i], config[i + 1]);
            }
            if (protocol == 3)
            {
                client.Call("HELLO", "3");
            }
        }
    }

    /// <summary>Runs a command on both servers, asserts identical replies and returns the node's.</summary>
    public RespValue Same(params string[] command) => Same(command.Select(Encoding.UTF8.GetBytes).ToArray());

    /// <summary>Runs a binary command on both servers, asserts identical replies and returns the node's.</summary>
    public RespValue Same(params byte[][] command)
    {
        var expected = _redis.Call(command);
        var actual = _node.Call(command);
        Assert.True(Equal(expected, actual), $"{Describe(command)}\n  redis: {Cut(expected)}\n  node:  {Cut(actual)}");
        return actual;
    }

    /// <summary>
    /// Runs a command on both servers, asserts identical replies and that both counted the same number of changes
    /// (INFO persistence's rdb_changes_since_last_save, Redis's dirty counter).
    /// </summary>
    public void SameChanges(params string[] command)
    {
        long redisBefore = Changes(_redis);
        long nodeBefore = Changes(_node);
        Same(command);
        Assert.True(Changes(_redis) - redisBefore == Changes(_node) - nodeBefore, $"changes counted for {string.Join(' ', command)}");
    }

    private static long Changes(RespClient client)
    {
        const string field = "rdb_changes_since_last_save:";
        string line = client.Call("INFO", "persistence").Text!.Split("\r\n").Single(l => l.StartsWith(field, StringComparison.Ordinal));
        return long.Parse(line.AsSpan(field.Length), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The reply of redis-server alone.</summary>
    public RespValue Redis(params string[] command) => _redis.Call(command);

    /// <summary>The reply of the node alone.</summary>
    public RespValue Node(params string[] command) => _node.Call(command);

    /// <summary>The reply of redis-server alone, binary arguments.</summary>
    public RespValue Redis(params byte[][] command) => _redis.Call(command);

    /// <summary>The reply of the node alone, binary arguments.</summary>
    public RespValue Node(params byte[][] command) => _node.Call(command);

    /// <summary>Structural equality: kind, bytes, integer and items.</summary>
    public static bool Equal(RespValue a, RespValue b) =>
        a.Kind == b.Kind && a.Integer == b.Integer && (a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? [])
        && (a.Items ?? []).Count == (b.Items ?? []).Count && (a.Items ?? []).Zip(b.Items ?? []).All(p => Equal(p.First, p.Second));

    private static string Describe(byte[][] command) =>
        string.Join(' ', command.Take(4).Select(a => Encoding.UTF8.GetString(a.AsSpan(0, Math.Min(a.Length, 40))))) + (command.Length > 4 ? $" ... ({command.Length} args)" : "");

    private static string Cut(RespValue value)
    {
        // Binary replies (DUMP) are shown in hex, where a differing byte can be found.
        string text = value.Bytes is { } bytes && bytes.Any(b => b is < 32 or > 126) ? "hex:" + Convert.ToHexString(bytes) : value.ToString();
        return text.Length > 400 ? text[..400] + "..." : text;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _redis.Dispose();
        _node.Dispose();
    }
}
