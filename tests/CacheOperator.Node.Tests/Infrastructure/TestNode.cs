using CacheOperator.Node.Configuration;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>A node server running in the test process on a free loopback port, with real sockets.</summary>
public sealed class TestNode : IAsyncDisposable
{
    private readonly string _directory;

    private TestNode(NodeServer server, string directory)
    {
        Server = server;
        _directory = directory;
    }

    /// <summary>The running server.</summary>
    public NodeServer Server { get; }

    /// <summary>Its TCP port.</summary>
    public int Port => Server.Port;

    /// <summary>
    /// Starts a node; <paramref name="options"/> are command-line style: "--requirepass", "secret". Unless the options say
    /// otherwise, it keeps no snapshots (save ""), starts a replica's full sync at once (repl-diskless-sync-delay 0) and
    /// its dir is a directory of its own, deleted on dispose.
    /// </summary>
    public static TestNode Start(params string[] options)
    {
        var config = new NodeConfig();
        // CACHE_NODE_TRANSPORT=sockets runs the whole suite on .NET's socket engine instead of the epoll loop.
        string transport = Environment.GetEnvironmentVariable("CACHE_NODE_TRANSPORT") ?? "epoll";
        string directory = Directory.CreateTempSubdirectory("test-node-").FullName;
        ConfigLoader.Load(config, ["--port", "0", "--bind", "127.0.0.1", "--network-transport", transport, "--save", "", "--dir", directory, "--repl-diskless-sync-delay", "0", .. options]);
        var log = new NodeLog { MinimumLevel = LogLevel.Warning };
        var server = new NodeServer(config, log);
        server.Start();
        return new TestNode(server, directory);
    }

    /// <summary>A new raw RESP client.</summary>
    public RespClient Client() => new(Port);

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}
