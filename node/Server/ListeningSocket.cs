using System.Net;
using System.Net.Sockets;

namespace CacheOperator.Node.Server;

/// <summary>Opens a TCP listening socket as redis-server opens its listeners (client port and cluster bus alike).</summary>
public static class ListeningSocket
{
    /// <summary>Binds <paramref name="address"/>:<paramref name="port"/> (0: any free port) and listens; throws <see cref="SocketException"/>, leaving nothing open.</summary>
    public static Socket Open(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // IPv4 has its own listener; keep the IPv6 one from claiming v4-mapped addresses.
                socket.DualMode = false;
            }
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(511);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
