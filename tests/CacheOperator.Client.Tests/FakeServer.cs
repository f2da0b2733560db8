using System.Net;
using System.Net.Sockets;

namespace CacheOperator.Client.Tests;

/// <summary>A one-connection TCP server on a free loopback port whose replies the test writes by hand.</summary>
public sealed class FakeServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly RespFrameReader _requests = new();
    private Socket? _client;

    /// <summary>Starts listening.</summary>
    public FakeServer() => _listener.Start();

    /// <summary>The port to connect to.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Accepts the client's connection.</summary>
    public async Task AcceptAsync()
    {
        _client = await _listener.AcceptSocketAsync();
        _client.NoDelay = true;
    }

    /// <summary>Reads the next command the client sent, as its arguments.</summary>
    public async Task<string[]> ReadCommandAsync()
    {
        var stream = new NetworkStream(_client!, ownsSocket: false);
        return (await _requests.ReadAsync(stream)).Strings();
    }

    /// <summary>Writes <paramref name="bytes"/> in one send.</summary>
    public async Task WriteAsync(byte[] bytes) => await _client!.SendAsync(bytes);

    /// <summary>Writes <paramref name="bytes"/> one byte per send, yielding between sends.</summary>
    public async Task WriteByteByByteAsync(byte[] bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            await _client!.SendAsync(bytes.AsMemory(i, 1));
            await Task.Yield();
        }
    }

    /// <summary>Closes the client's connection.</summary>
    public void CloseClient() => _client?.Dispose();

    /// <inheritdoc/>
    public void Dispose()
    {
        _client?.Dispose();
        _listener.Stop();
    }
}
