using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>A real redis-server 7.0.15 in cluster mode, with its own nodes.conf and an explicit bus port.</summary>
internal sealed class ClusterRedis : IDisposable
{
    private readonly string _directory;

    private ClusterRedis(RedisServerProcess server, int busPort, string directory)
    {
        Server = server;
        BusPort = busPort;
        _directory = directory;
    }

    /// <summary>The process.</summary>
    public RedisServerProcess Server { get; }

    /// <summary>Its client port.</summary>
    public int Port => Server.Port;

    /// <summary>Its cluster bus port.</summary>
    public int BusPort { get; }

    /// <summary>Starts redis-server with cluster-enabled, node timeout <paramref name="nodeTimeout"/> ms, extra directives after.</summary>
    public static ClusterRedis Start(int nodeTimeout = 2000, params string[] options)
    {
        string directory = Path.Combine(Path.GetTempPath(), "cluster-redis-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        for (int attempt = 1; ; attempt++)
        {
            // The bus port is picked before redis picks its client port: they can collide, then redis exits.
            int busPort = NodeProcess.FreePort();
            try
            {
                var server = RedisServerProcess.Start(
                [
                    "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(directory, "nodes.conf"),
                    "--cluster-port", busPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--cluster-node-timeout", nodeTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--dir", directory, .. options,
                ]);
                return new ClusterRedis(server, busPort, directory);
            }
            catch (System.Net.Sockets.SocketException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>A new client.</summary>
    public RespClient Client() => Server.Client();

    /// <summary>CLUSTER MYID.</summary>
    public string MyId()
    {
        using var client = Client();
        return client.Call("CLUSTER", "MYID").Text!;
    }

    /// <summary>CLUSTER NODES.</summary>
    public string Nodes()
    {
        using var client = Client();
        return client.Call("CLUSTER", "NODES").Text!;
    }

    /// <summary>The CLUSTER NODES line about <paramref name="id"/>, or null.</summary>
    public string? NodeLine(string id) => Nodes().Split('\n').FirstOrDefault(l => l.StartsWith(id, StringComparison.Ordinal));

    /// <summary>Runs a command and returns its reply.</summary>
    public RespValue Call(params string[] args)
    {
        using var client = Client();
        return client.Call(args);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Server.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
