using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace CacheOperator.Node.Cluster.Bus;

/// <summary>
/// One TCP connection of the cluster bus (Redis's clusterLink): outbound to a known node, or inbound from a
/// node that may not be known yet. Frames to send queue here (never blocking the caller, who holds the
/// keyspace lock) and a writer task drains them; the owner reads frames with <see cref="BusFrameReader"/>.
/// </summary>
internal sealed class BusLink
{
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private long _queuedBytes;
    private int _closed;

    public BusLink(Socket socket, ClusterNode? node, bool inbound, long createdMs)
    {
        Socket = socket;
        Node = node;
        Inbound = inbound;
        CreatedMs = createdMs;
    }

    /// <summary>The socket.</summary>
    public Socket Socket { get; }

    /// <summary>The node at the other end (null for an inbound link until a known node speaks on it).</summary>
    public ClusterNode? Node { get; set; }

    /// <summary>Accepted from the peer (true) or opened by this node (false).</summary>
    public bool Inbound { get; }

    /// <summary>When the link was created (unix ms).</summary>
    public long CreatedMs { get; }

    /// <summary>True once the TCP connection is established (inbound links always).</summary>
    public bool Connected { get; set; }

    /// <summary>True once closed.</summary>
    public bool Closed => Volatile.Read(ref _closed) != 0;

    /// <summary>Bytes queued and not yet written (for cluster-link-sendbuf-limit).</summary>
    public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

    /// <summary>The peer's IP address as Redis prints it (IPv4-mapped addresses as IPv4), or "" when unknown.</summary>
    public string PeerIp
    {
        get
        {
            try
            {
                return Socket.RemoteEndPoint is IPEndPoint remote ? Normalize(remote.Address) : "";
            }
            catch (ObjectDisposedException)
            {
                return "";
            }
        }
    }

    /// <summary>This end's IP address (Redis's connSockName), or "" when unknown.</summary>
    public string LocalIp
    {
        get
        {
            try
            {
                return Socket.LocalEndPoint is IPEndPoint local ? Normalize(local.Address) : "";
            }
            catch (ObjectDisposedException)
            {
                return "";
            }
        }
    }

    /// <summary>An address in the form Redis's inet_ntop gives.</summary>
    public static string Normalize(IPAddress address) => (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    /// <summary>Queues a frame (dropped once the link is closed).</summary>
    public void Send(byte[] frame)
    {
        if (Closed)
        {
            return;
        }
        Interlocked.Add(ref _queuedBytes, frame.Length);
        _outgoing.Writer.TryWrite(frame);
    }

    /// <summary>Writes queued frames until the link closes; returns when it did (or a write failed).</summary>
    public async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var frame in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                int sent = 0;
                while (sent < frame.Length)
                {
                    sent += await Socket.SendAsync(frame.AsMemory(sent), SocketFlags.None).ConfigureAwait(false);
                }
                Interlocked.Add(ref _queuedBytes, -frame.Length);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
        }
    }

    /// <summary>Closes the socket; pending frames are dropped. Safe to call more than once.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        _outgoing.Writer.TryComplete();
        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        Socket.Dispose();
    }
}
