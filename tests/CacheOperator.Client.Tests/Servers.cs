using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Client.Tests;

/// <summary>A real redis-server 7.0.15 (DEBUG enabled, for DEBUG PROTOCOL) and our node, shared by a test class.</summary>
public sealed class Servers : IAsyncLifetime
{
    /// <summary>The reference server.</summary>
    public RedisServerProcess Redis { get; private set; } = null!;

    /// <summary>Our node, in process.</summary>
    public TestNode Node { get; private set; } = null!;

    /// <summary>The port of "redis" or "node".</summary>
    public int Port(string server) => server == "redis" ? Redis.Port : Node.Port;

    /// <summary>A connection to "redis" or "node" with <paramref name="protocol"/>.</summary>
    public Task<RespConnection> Connect(string server, int protocol = 2) =>
        RespConnection.ConnectAsync(new RespConnectionOptions { Port = Port(server), Protocol = protocol, ConnectTimeout = TimeSpan.FromSeconds(30) });

    /// <inheritdoc/>
    public Task InitializeAsync()
    {
        Redis = RedisServerProcess.Start("--enable-debug-command", "yes");
        Node = TestNode.Start();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        Redis.Dispose();
        await Node.DisposeAsync();
    }
}
