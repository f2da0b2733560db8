using System.Text;
using System.Text.RegularExpressions;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Tracking;

/// <summary>
/// Invalidations whose timing or choice of key is Redis's own (active expiry, eviction of random keys, the random keys
/// dropped over tracking-table-max-keys), and what INFO and CLIENT LIST show of tracking: each test runs the same on
/// redis-server 7.0.15 and on the node and asserts the same outcome on both.
/// </summary>
public sealed partial class ClientTrackingEventsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    /// <summary>Which server a test runs on.</summary>
    public static TheoryData<string> Servers => new() { "redis", "node" };

    private int Port(string server) => server == "redis" ? servers.Redis.Port : servers.Node.Port;

    [Theory]
    [MemberData(nameof(Servers))]
    public void An_expired_key_is_invalidated(string server)
    {
        using var script = new TrackingScript(Port(server), 3, 2);
        script.Step(0, "CLIENT", "TRACKING", "ON");
        script.Step(1, "SET", "short", "v", "PX", "50");
        script.Step(0, "GET", "short");
        using var other = new RespClient(Port(server));
        // Gone by the active cycle or by this lookup, the key is invalidated once either way.
        Wait.Until(() => other.Call("EXISTS", "short").Integer == 0, "the key expired");
        Assert.Equal("  0 <- >2\\r\\n$10\\r\\ninvalidate\\r\\n*1\\r\\n$5\\r\\nshort\\r\\n\n", script.Drain(0));
        Assert.Equal("", script.Drain(0));
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Evicted_keys_are_invalidated(string server)
    {
        using var script = new TrackingScript(Port(server), 3, 2);
        using var admin = new RespClient(Port(server));
        var keys = Enumerable.Range(0, 10).Select(i => $"evict:{i}").ToList();
        foreach (var key in keys)
        {
            admin.Call("SET", key, new string('x', 100));
        }
        script.Step(0, "CLIENT", "TRACKING", "ON");
        script.Step(0, ["MGET", .. keys]);
        try
        {
            admin.Call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
            // Far under what the data uses: every key goes, each with its invalidation.
            admin.Call("CONFIG", "SET", "maxmemory", "1");
            var invalidated = new HashSet<string>();
            Wait.Until(() =>
            {
                foreach (Match m in InvalidatedKey().Matches(script.Drain(0)))
                {
                    invalidated.Add(m.Groups[1].Value);
                }
                return invalidated.Count == keys.Count;
            }, "every evicted key was invalidated");
            Assert.Equal(keys.ToHashSet(), invalidated);
        }
        finally
        {
            admin.Call("CONFIG", "SET", "maxmemory", "0");
            admin.Call("CONFIG", "SET", "maxmemory-policy", "noeviction");
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Tracking_table_max_keys_drops_random_keys_with_invalidations(string server)
    {
        using var client = new RawConnection(Port(server));
        client.Call("FLUSHALL");
        client.Call("HELLO", "3");
        client.Call("CLIENT", "TRACKING", "ON");
        try
        {
            client.Call("CONFIG", "SET", "tracking-table-max-keys", "2");
            var frames = new List<byte[]>();
            foreach (var command in new[] { "GET k1", "GET k2", "GET k3", "GET k4", "GET k5", "PING" })
            {
                client.Send(command.Split(' '));
                frames.AddRange(client.ReadThrough(f => f[0] != (byte)'>'));
            }
            // Checked before each command: over 2 before GET k4, GET k5 and PING, one random key goes each time.
            var pushes = frames.Where(f => f[0] == (byte)'>').Select(f => Encoding.ASCII.GetString(f)).ToList();
            Assert.Equal(3, pushes.Count);
            var dropped = pushes.Select(p => InvalidatedKey().Match(p.Replace("\r\n", "\\r\\n", StringComparison.Ordinal)).Groups[1].Value).ToList();
            Assert.Equal(3, dropped.Distinct().Count());
            Assert.All(dropped, k => Assert.Contains(k, new[] { "k1", "k2", "k3", "k4", "k5" }));
            string info = Encoding.ASCII.GetString(client.Call("INFO", "stats"));
            Assert.Contains("tracking_total_keys:2\r\n", info, StringComparison.Ordinal);
            Assert.Contains("tracking_total_items:2\r\n", info, StringComparison.Ordinal);
            var config = Encoding.ASCII.GetString(client.Call("CONFIG", "GET", "tracking-table-max-keys"));
            Assert.Equal("%1\r\n$23\r\ntracking-table-max-keys\r\n$1\r\n2\r\n", config);
        }
        finally
        {
            client.Call("CONFIG", "SET", "tracking-table-max-keys", "1000000");
        }
    }

    [Theory]
    [MemberData(nameof(Servers))]
    public void Info_and_client_list_show_tracking(string server)
    {
        using var script = new TrackingScript(Port(server), 3, 3, 2);
        script.Step(0, "CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "a", "PREFIX", "b");
        script.Step(1, "CLIENT", "TRACKING", "ON", "REDIRECT", "{id2}", "OPTIN");
        script.Step(1, "CLIENT", "CACHING", "YES");
        script.Step(1, "MGET", "x", "y", "z");
        using var admin = new RespClient(Port(server));
        string info = admin.Call("INFO").ToString();
        Assert.Contains("tracking_clients:2\r\n", info, StringComparison.Ordinal);
        Assert.Contains("tracking_total_keys:3\r\n", info, StringComparison.Ordinal);
        Assert.Contains("tracking_total_items:3\r\n", info, StringComparison.Ordinal);
        Assert.Contains("tracking_total_prefixes:2\r\n", info, StringComparison.Ordinal);
        Assert.Equal(("tB", "0"), FlagsAndRedirect(admin, script.Id(0)));
        Assert.Equal(("t", script.Id(2).ToString(System.Globalization.CultureInfo.InvariantCulture)), FlagsAndRedirect(admin, script.Id(1)));
        Assert.Equal(("N", "-1"), FlagsAndRedirect(admin, script.Id(2)));
        script.Close(2);
        Wait.Until(() => !admin.Call("CLIENT", "LIST").ToString().Contains($"id={script.Id(2)} ", StringComparison.Ordinal), "the redirection client is gone");
        admin.Call("SET", "x", "1");
        Assert.Equal(("tR", script.Id(2).ToString(System.Globalization.CultureInfo.InvariantCulture)), FlagsAndRedirect(admin, script.Id(1)));
        script.Step(0, "CLIENT", "TRACKING", "OFF");
        script.Step(1, "CLIENT", "TRACKING", "OFF");
        info = admin.Call("INFO").ToString();
        Assert.Contains("tracking_clients:0\r\n", info, StringComparison.Ordinal);
        Assert.Contains("tracking_total_prefixes:0\r\n", info, StringComparison.Ordinal);
        Assert.Equal(("N", "-1"), FlagsAndRedirect(admin, script.Id(1)));
    }

    private static (string Flags, string Redirect) FlagsAndRedirect(RespClient admin, long id)
    {
        string list = admin.Call("CLIENT", "LIST", "ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToString();
        var m = Regex.Match(list, @" flags=(\S*) .* redir=(-?\d+) ");
        Assert.True(m.Success, list);
        return (m.Groups[1].Value, m.Groups[2].Value);
    }

    [GeneratedRegex(@"invalidate\\r\\n\*1\\r\\n\$\d+\\r\\n([^\\]+)\\r\\n")]
    private static partial Regex InvalidatedKey();
}
