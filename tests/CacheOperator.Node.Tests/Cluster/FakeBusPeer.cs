using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Node.Cluster.Bus;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>
/// A minimal cluster bus peer built on our codec alone: listens on a loopback bus port, records every
/// frame it receives (raw and decoded), and answers PING/MEET with a PONG about itself, which is all
/// a redis-server needs to finish a handshake with it.
/// </summary>
internal sealed class FakeBusPeer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];

    public FakeBusPeer()
    {
        Name = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..8];
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BusPort = (ushort)((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptLoop();
    }

    /// <summary>The peer's 40-character node name.</summary>
    public string Name { get; }

    /// <summary>Its bus port.</summary>
    public ushort BusPort { get; }

    /// <summary>The client port it announces (nothing listens there).</summary>
    public ushort ClientPort { get; init; } = 1;

    /// <summary>Slots it claims in its headers.</summary>
    public byte[] Slots { get; } = new byte[ClusterMessage.SlotBitmapLength];

    /// <summary>Its configEpoch.</summary>
    public ulong ConfigEpoch { get; set; }

    /// <summary>Its flags in headers (CLUSTER_NODE_*; 1: master).</summary>
    public ushort Flags { get; init; } = 1;

    /// <summary>Its master's name when it plays a replica.</summary>
    public string? SlaveOf { get; init; }

    /// <summary>Every frame received, in order, with its decoded form.</summary>
    public ConcurrentQueue<(byte[] Raw, ClusterMessage Message)> Received { get; } = new();

    /// <summary>Frames the codec refused (none expected from redis-server).</summary>
    public ConcurrentQueue<(byte[] Raw, BusRejection Reason)> Refused { get; } = new();

    /// <summary>A header about this peer, of <paramref name="type"/>.</summary>
    public ClusterMessage Header(ClusterMessageType type) => new()
    {
        Type = type,
        Port = ClientPort,
        CPort = BusPort,
        Sender = Name,
        Flags = Flags,
        SlaveOf = SlaveOf,
        ConfigEpoch = ConfigEpoch,
        Slots = (byte[])Slots.Clone(),
    };

    /// <summary>Connects to a bus port and sends <paramref name="first"/>; the link's replies are recorded too.</summary>
    public Socket Connect(int busPort, ClusterMessage first)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, busPort);
        lock (_sockets)
        {
            _sockets.Add(socket);
        }
        socket.Send(ClusterMessageCodec.Encode(first));
        _ = ReadLoop(socket);
        return socket;
    }

    /// <summary>Frames of <paramref name="type"/> received so far.</summary>
    public List<(byte[] Raw, ClusterMessage Message)> OfType(ClusterMessageType type) => Received.Where(f => f.Message.Type == type).ToList();

    private async Task AcceptLoop()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                socket.NoDelay = true;
                lock (_sockets)
                {
                    _sockets.Add(socket);
                }
                _ = ReadLoop(socket);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ReadLoop(Socket socket)
    {
        var reader = new BusFrameReader(PipeReader.Create(new NetworkStream(socket, ownsSocket: false)));
        try
        {
            while (true)
            {
                var (status, frame) = await reader.ReadAsync(_stop.Token);
                if (status != BusFrameStatus.Frame)
                {
                    return;
                }
                var rejection = ClusterMessageCodec.Decode(frame, out var message);
                if (rejection != BusRejection.None)
                {
                    Refused.Enqueue((frame!, rejection));
                    continue;
                }
                Received.Enqueue((frame!, message!));
                if (message!.Type is ClusterMessageType.Ping or ClusterMessageType.Meet)
                {
                    socket.Send(ClusterMessageCodec.Encode(Header(ClusterMessageType.Pong)));
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }
}
