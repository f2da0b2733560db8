using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Engine;

/// <summary>Every piece of per-node state lives on the node: several nodes in one process share nothing a client can see.</summary>
public class NodesInOneProcessTests
{
    private static Dictionary<string, string> Info(RespClient client, string section) =>
        client.Call("INFO", section).Text!.Split("\r\n").Where(l => l.Contains(':')).ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 1)..]);

    [Fact]
    public async Task Three_nodes_in_one_process_keep_their_own_data_configuration_identity_and_transport()
    {
        await using var a = TestNode.Start("--databases", "4", "--network-transport", "epoll");
        await using var b = TestNode.Start("--requirepass", "secret", "--network-transport", "sockets");
        await using var c = TestNode.Start("--maxmemory", "10mb", "--maxmemory-policy", "allkeys-lru");
        using var ca = a.Client();
        using var cb = b.Client();
        using var cc = c.Client();
        Assert.Equal("OK", cb.Call("AUTH", "secret").Text);
        Assert.StartsWith("NOAUTH", b.Client().Call("GET", "k").Text);
        Assert.Equal("PONG", a.Client().Call("PING").Text);

        Assert.Equal("OK", ca.Call("SET", "k", "a").Text);
        Assert.Equal("OK", cb.Call("SET", "k", "b").Text);
        Assert.Equal(RespKind.Null, cc.Call("GET", "k").Kind);
        Assert.Equal("a", ca.Call("GET", "k").Text);
        Assert.Equal("b", cb.Call("GET", "k").Text);

        Assert.Equal("ERR DB index is out of range", ca.Call("SELECT", "5").Text);
        Assert.Equal("OK", cc.Call("SELECT", "5").Text);
        Assert.Equal("OK", ca.Call("CONFIG", "SET", "maxmemory-policy", "volatile-ttl").Text);
        Assert.Equal("allkeys-lru", cc.Call("CONFIG", "GET", "maxmemory-policy").Texts[1]);
        Assert.Equal(new string?[] { "network-transport", "epoll" }, ca.Call("CONFIG", "GET", "network-transport").Texts);
        Assert.Equal(new string?[] { "network-transport", "sockets" }, cb.Call("CONFIG", "GET", "network-transport").Texts);
        Assert.Equal("epoll", a.Server.TransportName);
        Assert.Equal("sockets", b.Server.TransportName);

        var ids = new[] { ca, cb, cc }.Select(x => (Info(x, "server")["run_id"], Info(x, "replication")["master_replid"])).ToList();
        Assert.Equal(3, ids.Select(i => i.Item1).Distinct().Count());
        Assert.Equal(3, ids.Select(i => i.Item2).Distinct().Count());
        Assert.Equal(a.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), Info(ca, "server")["tcp_port"]);

        // One node going away leaves the others serving.
        await b.DisposeAsync();
        Assert.Equal("a", ca.Call("GET", "k").Text);
        Assert.Equal("PONG", cc.Call("PING").Text);
        Assert.Equal("1", Info(ca, "keyspace")["db0"].Split(',')[0].Split('=')[1]);
    }
}
