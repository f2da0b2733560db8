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
            AllowRebindAfterClose(socket);
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

    /// <summary>
    /// SO_REUSEADDR alone, as redis-server sets it: a restarted node binds its port while old connections linger in
    /// TIME_WAIT, but a second process on the same port fails with "Address already in use". .NET's ReuseAddress option
    /// also sets SO_REUSEPORT on Linux, which lets two processes listen on one port and split its clients between them.
    /// </summary>
    private static void AllowRebindAfterClose(Socket socket)
    {
        if (OperatingSystem.IsLinux())
        {
            const int SolSocket = 1, SoReuseAddr = 2;
            socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
        }
    }
}
