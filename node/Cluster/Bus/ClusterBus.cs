using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Cluster.Bus;

/// <summary>
/// The cluster bus runtime (Redis 7.0's clusterCron, clusterProcessPacket and their helpers in cluster.c):
/// a listener on the bus port, one outbound link per known node plus the inbound links others open, the
/// MEET handshake, PING/PONG with gossip, PFAIL/FAIL detection with failure reports, FAIL broadcast, slot
/// ownership from claims and UPDATE messages, epoch propagation and collisions, and failover votes. Every
/// change to the <see cref="ClusterState"/> happens under the keyspace lock, the lock commands run under;
/// sockets are read and written outside it.
/// </summary>
internal sealed partial class ClusterBus : IAsyncDisposable
{
    private const int CronPeriodMs = 100;

    private readonly ClusterState _state;
    private readonly Lock _sync;
    private readonly NodeLog _log;
    private readonly Func<long> _replicationOffset;
    private readonly Func<long> _masterDataAgeMs;
    private readonly ClientPause? _pause;
    private readonly Dictionary<ClusterNode, BusLink> _outbound = [];
    private readonly Dictionary<ClusterNode, BusLink> _inbound = [];
    private readonly HashSet<BusLink> _links = [];
    private readonly List<Socket> _listeners = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly Dictionary<ClusterNode, int> _connectFailures = [];
    private readonly Dictionary<string, IPAddress> _resolved = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _resolving = new(StringComparer.OrdinalIgnoreCase);
    private readonly long[] _rejected = new long[Enum.GetValues<BusRejection>().Length];
    private long _iteration;
    private int _pfailNodes;

    /// <summary>
    /// A bus for <paramref name="state"/>, guarded by <paramref name="sync"/> (the keyspace lock). Replication tells it the
    /// node's offset and, on a replica, how long ago the master link last carried data (Redis's data_age; a replica that
    /// never synced is infinitely old); <paramref name="pause"/> pauses writes on a master during a manual failover.
    /// </summary>
    public ClusterBus(ClusterState state, Lock sync, NodeLog log, Func<long>? replicationOffset = null, ClientPause? pause = null, Func<long>? masterDataAgeMs = null)
    {
        _state = state;
        _sync = sync;
        _log = log;
        _replicationOffset = replicationOffset ?? (() => 0);
        _masterDataAgeMs = masterDataAgeMs ?? (() => long.MaxValue / 4);
        _pause = pause;
        state.BroadcastPong = BroadcastPong;
        state.DescribeLinks = DescribeLinks;
    }

    /// <summary>The port the bus listens on.</summary>
    public int Port { get; private set; }

    /// <summary>Frames refused since start, by reason (each also closed its link).</summary>
    public long Rejected(BusRejection reason) => Interlocked.Read(ref _rejected[(int)reason]);

    /// <summary>Frames refused since start, all reasons.</summary>
    public long RejectedTotal => _rejected.Sum();

    private long NodeTimeout => _state.Config.ClusterNodeTimeout.Number;

    /// <summary>
    /// Listens on <paramref name="port"/> at each of <paramref name="addresses"/> and starts the cron. With
    /// <paramref name="fallBack"/> (no cluster-port set: the port is client port + 10000), a port out of range or
    /// taken makes the bus listen on a free port instead, logged, where Redis would refuse to start.
    /// </summary>
    public void Start(IEnumerable<IPAddress> addresses, int port, bool fallBack = false)
    {
        if (fallBack && port > 65535)
        {
            _log.Warning($"Cluster bus port {port} (port + 10000) is out of range: listening on a free port instead (set cluster-port)");
            port = 0;
        }
        foreach (var address in addresses)
        {
            try
            {
                _listeners.Add(ListeningSocket.Open(address, port));
            }
            catch (SocketException e) when (fallBack && port != 0 && _listeners.Count == 0)
            {
                _log.Warning($"Cluster bus port {port} (port + 10000) is not free ({e.Message}): listening on a free port instead (set cluster-port)");
                _listeners.Add(ListeningSocket.Open(address, 0));
            }
            catch (SocketException e)
            {
                throw new IOException($"Could not listen on the cluster bus port {address}:{port}: {e.Message}", e);
            }
            port = ((IPEndPoint)_listeners[^1].LocalEndPoint!).Port;
        }
        Port = port;
        lock (_sync)
        {
            // The port really used is the one announced, unless cluster-announce-bus-port says otherwise.
            if (_state.Config.ClusterAnnounceBusPort.Number == 0 && _state.Myself.CPort != port)
            {
                _state.Myself.CPort = port;
                _state.Schedule(ClusterTodo.SaveConfig);
                _state.DoPending();
            }
        }
        foreach (var listener in _listeners)
        {
            _loops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }
        _loops.Add(Task.Run(CronLoopAsync));
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }
        _stop.Cancel();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        lock (_sync)
        {
            foreach (var link in _links.ToList())
            {
                FreeLink(link);
            }
        }
        try
        {
            await Task.WhenAll(_loops).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    // ---- Links -------------------------------------------------------------------------------------------

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            socket.NoDelay = true;
            BusLink link;
            lock (_sync)
            {
                link = new BusLink(socket, null, inbound: true, _state.NowMs) { Connected = true };
                _links.Add(link);
            }
            _ = Task.Run(link.WriteLoopAsync);
            _ = Task.Run(() => ReadLoopAsync(link));
        }
    }

    /// <summary>
    /// Opens the outbound link to <paramref name="node"/> (Redis's clusterNodeCronHandleReconnect). Under the lock.
    /// Unlike Redis 7.0, a node with an announced hostname that could not be reached at its IP is tried at the
    /// address its hostname resolves to every other attempt: after a full restart on new addresses (pods),
    /// nodes.conf's IPs are stale but the hostnames still lead to the nodes.
    /// </summary>
    private void CreateOutboundLink(ClusterNode node)
    {
        bool byHostname = node.Hostname.Length > 0 && _connectFailures.GetValueOrDefault(node) % 2 == 1;
        IPAddress? address = null;
        if (!byHostname && !IPAddress.TryParse(node.Ip, out address))
        {
            byHostname = node.Hostname.Length > 0;
        }
        if (byHostname)
        {
            address = Resolve(node.Hostname);
            if (address is null)
            {
                // Resolving (DNS, off the lock); the next cron tick tries again.
                _connectFailures[node] = _connectFailures.GetValueOrDefault(node) + 1;
                return;
            }
        }
        if (address is null)
        {
            return;
        }
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var link = new BusLink(socket, node, inbound: false, _state.NowMs);
        _outbound[node] = link;
        _links.Add(link);
        node.LinkCreatedMs = link.CreatedMs;
        int port = node.CPort;
        _ = Task.Run(async () =>
        {
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), _stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                lock (_sync)
                {
                    // As Redis's asynchronous connect failure: no ping time is invented. The cron pass that opened
                    // the link already pinged through it (queued) when the node's pong was old, which starts the
                    // failure detection clock.
                    _connectFailures[node] = _connectFailures.GetValueOrDefault(node) + 1;
                    FreeLink(link);
                }
                return;
            }
            lock (_sync)
            {
                if (link.Closed)
                {
                    return;
                }
                link.Connected = true;
                node.LinkConnected = true;
                _connectFailures.Remove(node);
                string reached = BusLink.Normalize(address);
                if (reached != node.Ip)
                {
                    _log.Warning($"Node {node.Id} reached by its hostname {node.Hostname} at {reached} (was {node.Ip})");
                    node.Ip = reached;
                    _state.Schedule(ClusterTodo.SaveConfig);
                }
                // Redis's clusterLinkConnectHandler: a PING (or MEET) at once, keeping an older ping's time.
                long oldPingSent = node.PingSentMs;
                SendPing(link, (node.Flags & ClusterNodeFlags.Meet) != 0 ? ClusterMessageType.Meet : ClusterMessageType.Ping);
                if (oldPingSent != 0)
                {
                    node.PingSentMs = oldPingSent;
                }
                node.Flags &= ~ClusterNodeFlags.Meet;
            }
            _ = Task.Run(link.WriteLoopAsync);
            await ReadLoopAsync(link).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// The address of a hostname: from cluster-hostname-resolve, else from DNS, looked up off the lock and
    /// cached for the next attempt (null until then). Under the lock.
    /// </summary>
    private IPAddress? Resolve(string hostname)
    {
        foreach (var pair in _state.Config.ClusterHostnameResolve.Text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].Equals(hostname, StringComparison.OrdinalIgnoreCase) && IPAddress.TryParse(pair[(eq + 1)..], out var mapped))
            {
                return mapped;
            }
        }
        if (_resolved.Remove(hostname, out var cached))
        {
            return cached;
        }
        if (_resolving.Add(hostname))
        {
            _ = Task.Run(async () =>
            {
                IPAddress? found = null;
                try
                {
                    var addresses = await Dns.GetHostAddressesAsync(hostname, _stop.Token).ConfigureAwait(false);
                    found = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
                }
                catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException)
                {
                }
                lock (_sync)
                {
                    _resolving.Remove(hostname);
                    if (found is not null)
                    {
                        _resolved[hostname] = found;
                    }
                }
            });
        }
        return null;
    }

    /// <summary>Closes a link and detaches it from its node (Redis's freeClusterLink). Under the lock.</summary>
    private void FreeLink(BusLink link)
    {
        link.Close();
        _links.Remove(link);
        if (link.Node is { } node)
        {
            if (!link.Inbound && _outbound.TryGetValue(node, out var current) && current == link)
            {
                _outbound.Remove(node);
                node.LinkConnected = false;
                node.LinkCreatedMs = 0;
            }
            else if (link.Inbound && _inbound.TryGetValue(node, out current) && current == link)
            {
                _inbound.Remove(node);
                node.InboundLinkConnected = false;
            }
        }
    }

    /// <summary>Closes both links of a node. Under the lock.</summary>
    private void FreeNodeLinks(ClusterNode node)
    {
        if (_outbound.TryGetValue(node, out var link))
        {
            FreeLink(link);
        }
        if (_inbound.TryGetValue(node, out link))
        {
            FreeLink(link);
        }
    }

    /// <summary>Removes a node and its links (Redis's clusterDelNode). Under the lock.</summary>
    private void DeleteNode(ClusterNode node)
    {
        FreeNodeLinks(node);
        _connectFailures.Remove(node);
        _state.DeleteNode(node);
    }

    /// <summary>Attaches an inbound link to the node that spoke on it (Redis's setClusterNodeToInboundClusterLink).</summary>
    private void SetInboundLink(ClusterNode node, BusLink link)
    {
        if (_inbound.TryGetValue(node, out var old) && old != link)
        {
            // The peer reconnected (or opened a second link): only the newest one is kept.
            FreeLink(old);
        }
        link.Node = node;
        _inbound[node] = link;
        node.InboundLinkConnected = true;
    }

    private async Task ReadLoopAsync(BusLink link)
    {
        var reader = new BusFrameReader(PipeReader.Create(new NetworkStream(link.Socket, ownsSocket: false)));
        try
        {
            while (!link.Closed)
            {
                var (status, frame) = await reader.ReadAsync(_stop.Token).ConfigureAwait(false);
                if (status == BusFrameStatus.Rejected)
                {
                    Reject(link, reader.Rejection);
                    return;
                }
                if (status == BusFrameStatus.End)
                {
                    break;
                }
                var rejection = ClusterMessageCodec.Decode(frame, out var message);
                if (rejection != BusRejection.None)
                {
                    Reject(link, rejection);
                    return;
                }
                lock (_sync)
                {
                    if (link.Closed)
                    {
                        return;
                    }
                    bool keep;
                    try
                    {
                        keep = ProcessMessage(link, message!);
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        // A message the rules above did not foresee: drop the link, keep the node up.
                        _log.Warning($"Cluster bus: could not apply a {message!.Type} message from {message.Sender}: {e.Message}; closing the link");
                        FreeLink(link);
                        keep = false;
                    }
                    finally
                    {
                        _state.DoPending();
                    }
                    if (!keep)
                    {
                        return;
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
        lock (_sync)
        {
            FreeLink(link);
        }
    }

    /// <summary>A frame this node cannot parse: counted, logged, and its link closed; the view is untouched.</summary>
    private void Reject(BusLink link, BusRejection reason)
    {
        Interlocked.Increment(ref _rejected[(int)reason]);
        string peer = link.PeerIp;
        lock (_sync)
        {
            _log.Warning($"Cluster bus: bad frame from {(peer.Length > 0 ? peer : "?")} ({reason}), closing the link{(link.Node is { } n ? " of node " + n.Id : "")}");
            FreeLink(link);
        }
    }

    // ---- Sending -----------------------------------------------------------------------------------------

    private void Send(BusLink link, ClusterMessage message)
    {
        link.Send(ClusterMessageCodec.Encode(message));
        if (message.RawType < BusMessageTypes.Count)
        {
            _state.MessagesSent[message.RawType]++;
        }
    }

    /// <summary>A header about this node (Redis's clusterBuildMessageHdr).</summary>
    private ClusterMessage Header(ClusterMessageType type)
    {
        var myself = _state.Myself;
        var master = myself.IsReplica && myself.Master is not null ? myself.Master : myself;
        var message = new ClusterMessage
        {
            Type = type,
            Sender = myself.Id,
            MyIp = _state.Config.ClusterAnnounceIp.Text,
            Port = (ushort)myself.Port,
            PPort = (ushort)myself.PPort,
            CPort = (ushort)myself.CPort,
            Slots = master.Slots.Raw.ToArray(),
            SlaveOf = myself.Master?.Id,
            Flags = (ushort)myself.Flags,
            State = _state.IsOk ? (byte)0 : (byte)1,
            CurrentEpoch = _state.CurrentEpoch,
            ConfigEpoch = master.ConfigEpoch,
            Offset = (ulong)_replicationOffset(),
        };
        if (myself.IsMaster && _manualEndMs != 0)
        {
            // A manual failover is on: our replica waits for this flag and the offset beside it.
            message.MFlags0 |= ClusterMessage.Flag0Paused;
        }
        return message;
    }

    /// <summary>Sends a PING, PONG or MEET with gossip and the hostname extension (Redis's clusterSendPing).</summary>
    private void SendPing(BusLink link, ClusterMessageType type)
    {
        var nodes = _state.Nodes.ToList();
        int freshNodes = nodes.Count - 2;
        // At least 3 entries, a tenth of the nodes otherwise (see Redis's clusterSendPing for why).
        int wanted = Math.Min(Math.Max(3, nodes.Count / 10), freshNodes);
        int pfailWanted = _pfailNodes;
        if (!link.Inbound && type == ClusterMessageType.Ping)
        {
            link.Node!.PingSentMs = _state.NowMs;
        }
        var message = Header(type);
        int iterations = wanted * 3;
        while (freshNodes > 0 && message.Gossip.Count < wanted && iterations-- > 0)
        {
            var node = nodes[Random.Shared.Next(nodes.Count)];
            if (node.IsMyself || node.IsTimedOut)
            {
                continue;
            }
            if ((node.Flags & (ClusterNodeFlags.Handshake | ClusterNodeFlags.NoAddr)) != 0 || (!_outbound.ContainsKey(node) && node.Slots.Count == 0))
            {
                freshNodes--;
                continue;
            }
            if (message.Gossip.Exists(g => g.Name == node.Id))
            {
                continue;
            }
            message.Gossip.Add(Gossip(node));
            freshNodes--;
        }
        foreach (var node in nodes)
        {
            if (pfailWanted <= 0)
            {
                break;
            }
            if ((node.Flags & (ClusterNodeFlags.Handshake | ClusterNodeFlags.NoAddr)) != 0 || !node.IsTimedOut)
            {
                continue;
            }
            message.Gossip.Add(Gossip(node));
            pfailWanted--;
        }
        if (_state.Myself.Hostname.Length > 0)
        {
            message.Extensions.Add(PingExtension.Hostname(_state.Myself.Hostname));
        }
        Send(link, message);
    }

    private static GossipEntry Gossip(ClusterNode node) => new()
    {
        Name = node.Id,
        PingSent = (uint)(node.PingSentMs / 1000),
        PongReceived = (uint)(node.PongReceivedMs / 1000),
        Ip = node.Ip,
        Port = (ushort)node.Port,
        CPort = (ushort)node.CPort,
        Flags = (ushort)node.Flags,
        PPort = (ushort)node.PPort,
    };

    /// <summary>Sends to every node with a link, not in handshake (Redis's clusterBroadcastMessage).</summary>
    private void Broadcast(ClusterMessage message)
    {
        foreach (var (node, link) in _outbound)
        {
            if ((node.Flags & (ClusterNodeFlags.Myself | ClusterNodeFlags.Handshake)) == 0)
            {
                Send(link, message);
            }
        }
    }

    /// <summary>Delivers a PUBLISH (false) or PUBLISHSHARD (true) message that came over the bus to this node's subscribers; under the lock.</summary>
    public Action<byte[], byte[], bool>? PublishReceived { get; set; }

    /// <summary>
    /// Redis 7.0's clusterPropagatePublish: a PUBLISH goes to every node, an SPUBLISH to the other nodes of this node's
    /// shard (its master and replicas). Under the lock.
    /// </summary>
    public void PropagatePublish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload, bool sharded)
    {
        var message = Header(sharded ? ClusterMessageType.PublishShard : ClusterMessageType.Publish);
        message.Channel = channel.ToArray();
        message.Payload = payload.ToArray();
        if (!sharded)
        {
            Broadcast(message);
            return;
        }
        var myself = _state.Myself;
        var master = myself.IsReplica && myself.Master is not null ? myself.Master : myself;
        foreach (var node in (IEnumerable<ClusterNode>)[master, .. master.Replicas])
        {
            if (!node.IsMyself && _outbound.TryGetValue(node, out var link))
            {
                Send(link, message);
            }
        }
    }

    /// <summary>Pongs every linked node (Redis's clusterBroadcastPong), so a change of this node's claims spreads at once.</summary>
    public void BroadcastPong()
    {
        foreach (var (node, link) in _outbound.ToList())
        {
            if (!node.IsMyself && !node.InHandshake)
            {
                SendPing(link, ClusterMessageType.Pong);
            }
        }
    }

    /// <summary>The links for CLUSTER LINKS, per node its outbound ("to") then its inbound ("from") link. Under the lock.</summary>
    private IReadOnlyList<ClusterLinkInfo> DescribeLinks()
    {
        var links = new List<ClusterLinkInfo>();
        foreach (var node in _state.Nodes)
        {
            foreach (var link in new[] { _outbound.GetValueOrDefault(node), _inbound.GetValueOrDefault(node) })
            {
                if (link is null)
                {
                    continue;
                }
                long queued = link.QueuedBytes;
                links.Add(new ClusterLinkInfo(link.Inbound, node.Id, link.CreatedMs, queued > 0 ? "rw" : "r", queued, queued));
            }
        }
        return links;
    }

    private void SendFail(ClusterNode failing)
    {
        var message = Header(ClusterMessageType.Fail);
        message.FailingNode = failing.Id;
        Broadcast(message);
    }

    private void SendUpdate(BusLink? link, ClusterNode about)
    {
        if (link is null)
        {
            return;
        }
        var message = Header(ClusterMessageType.Update);
        message.UpdateNode = about.Id;
        message.UpdateConfigEpoch = about.ConfigEpoch;
        message.UpdateSlots = about.Slots.Raw.ToArray();
        Send(link, message);
    }

    // ---- Cron --------------------------------------------------------------------------------------------

    private async Task CronLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(CronPeriodMs));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                lock (_sync)
                {
                    try
                    {
                        Cron();
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        _log.Warning($"Cluster bus cron failed: {e}");
                    }
                    finally
                    {
                        _state.DoPending();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Redis's clusterCron, run ten times a second under the lock.</summary>
    internal void Cron()
    {
        _iteration++;
        long now = _state.NowMs;
        long timeout = NodeTimeout;
        long handshakeTimeout = Math.Max(timeout, 1000);
        long sendBufferLimit = _state.Config.ClusterLinkSendbufLimit.Number;
        bool updateState = false;

        // Links of nodes that left the view (CLUSTER FORGET, RESET, a deleted handshake node) go with them.
        foreach (var link in _links.ToList())
        {
            if (link.Node is { } linked && _state.Find(linked.Id) != linked)
            {
                FreeLink(link);
            }
            else if (sendBufferLimit > 0 && link.QueuedBytes > sendBufferLimit)
            {
                _log.Warning($"Freeing cluster link({(link.Inbound ? "from" : "to")} node {link.Node?.Id}, used memory: {link.QueuedBytes}) due to exceeding send buffer memory limit.");
                FreeLink(link);
                _state.LinksBufferLimitExceeded++;
            }
        }

        foreach (var gone in _connectFailures.Keys.Where(n => _state.Find(n.Id) != n).ToList())
        {
            _connectFailures.Remove(gone);
        }

        int pfail = 0;
        foreach (var node in _state.Nodes.ToList())
        {
            if ((node.Flags & (ClusterNodeFlags.Myself | ClusterNodeFlags.NoAddr)) != 0)
            {
                continue;
            }
            if (node.IsTimedOut)
            {
                pfail++;
            }
            if (node.InHandshake && now - node.CreatedMs > handshakeTimeout)
            {
                DeleteNode(node);
                continue;
            }
            if (!_outbound.ContainsKey(node))
            {
                CreateOutboundLink(node);
            }
        }
        _pfailNodes = pfail;

        // Once a second, ping the node with the oldest pong among five picked at random.
        if (_iteration % 10 == 0)
        {
            var nodes = _state.Nodes.ToList();
            ClusterNode? oldest = null;
            for (int i = 0; i < 5; i++)
            {
                var node = nodes[Random.Shared.Next(nodes.Count)];
                if (!_outbound.ContainsKey(node) || node.PingSentMs != 0 || (node.Flags & (ClusterNodeFlags.Myself | ClusterNodeFlags.Handshake)) != 0)
                {
                    continue;
                }
                if (oldest is null || node.PongReceivedMs < oldest.PongReceivedMs)
                {
                    oldest = node;
                }
            }
            if (oldest is not null)
            {
                SendPing(_outbound[oldest], ClusterMessageType.Ping);
            }
        }

        foreach (var node in _state.Nodes.ToList())
        {
            now = _state.NowMs;
            if ((node.Flags & (ClusterNodeFlags.Myself | ClusterNodeFlags.NoAddr | ClusterNodeFlags.Handshake)) != 0)
            {
                continue;
            }
            long pingDelay = now - node.PingSentMs;
            long dataDelay = now - node.DataReceivedMs;
            _outbound.TryGetValue(node, out var link);
            // A link that carries nothing for half the timeout while a ping waits is reconnected: the
            // node may be alive behind a broken connection.
            if (link is not null && now - link.CreatedMs > timeout && node.PingSentMs != 0 && pingDelay > timeout / 2 && dataDelay > timeout / 2)
            {
                FreeLink(link);
                link = null;
            }
            if (link is not null && node.PingSentMs == 0 && now - node.PongReceivedMs > timeout / 2)
            {
                SendPing(link, ClusterMessageType.Ping);
                continue;
            }
            if (node.PingSentMs == 0)
            {
                continue;
            }
            long nodeDelay = Math.Min(pingDelay, dataDelay);
            if (nodeDelay > timeout && (node.Flags & (ClusterNodeFlags.PFail | ClusterNodeFlags.Fail)) == 0)
            {
                _log.Verbose($"*** NODE {node.Id} possibly failing");
                _state.SetFlags(node, ClusterNodeFlags.PFail);
                updateState = true;
            }
        }
        if (updateState || !_state.IsOk)
        {
            _state.UpdateState();
        }
        ReplicaCron();
    }

    // ---- Processing ----------------------------------------------------------------------------------------

    /// <summary>
    /// Applies one valid message (Redis's clusterProcessPacket). Under the lock. Returns false when the link
    /// was closed by what the message said (a handshake with a node already known, a PONG from the wrong id).
    /// </summary>
    internal bool ProcessMessage(BusLink link, ClusterMessage hdr)
    {
        long now = _state.NowMs;
        var type = hdr.Type;
        if (hdr.RawType < BusMessageTypes.Count)
        {
            _state.MessagesReceived[hdr.RawType]++;
        }
        var flags = (ClusterNodeFlags)hdr.Flags;
        ulong senderCurrentEpoch = 0, senderConfigEpoch = 0;
        var sender = SenderOf(link, hdr);
        if (sender is not null)
        {
            sender.DataReceivedMs = now;
        }
        if (sender is not null && !sender.InHandshake)
        {
            senderCurrentEpoch = hdr.CurrentEpoch;
            senderConfigEpoch = hdr.ConfigEpoch;
            _state.ObserveEpoch(senderCurrentEpoch);
            if (senderConfigEpoch > sender.ConfigEpoch)
            {
                _state.SetConfigEpoch(sender, senderConfigEpoch);
            }
            sender.ReplOffset = (long)hdr.Offset;
            sender.ReplOffsetTimeMs = now;
            ObserveMasterDuringManualFailover(sender, hdr);
        }

        bool pingKind = type is ClusterMessageType.Ping or ClusterMessageType.Pong or ClusterMessageType.Meet;
        if (type is ClusterMessageType.Ping or ClusterMessageType.Meet)
        {
            // A MEET comes from a node that reached us at our official address: it tells us our IP.
            if ((type == ClusterMessageType.Meet || _state.Myself.Ip.Length == 0) && _state.Config.ClusterAnnounceIp.Text.Length == 0)
            {
                string ip = link.LocalIp;
                if (ip.Length > 0 && ip != _state.Myself.Ip)
                {
                    _state.Myself.Ip = ip;
                    _log.Warning($"IP address for this node updated to {ip}");
                    _state.Schedule(ClusterTodo.SaveConfig);
                }
            }
            if (sender is null && type == ClusterMessageType.Meet)
            {
                var node = _state.CreateNode(null, ClusterNodeFlags.Handshake);
                node.Ip = hdr.MyIp.Length > 0 ? hdr.MyIp : link.PeerIp;
                node.Port = hdr.Port;
                node.PPort = hdr.PPort;
                node.CPort = hdr.CPort;
                _state.AddNode(node);
                _state.Schedule(ClusterTodo.SaveConfig);
            }
            SendPing(link, ClusterMessageType.Pong);
        }

        if (pingKind)
        {
            if (!link.Inbound)
            {
                var linked = link.Node!;
                if (linked.InHandshake)
                {
                    if (sender is null && hdr.Sender == _state.Myself.Id)
                    {
                        // We met ourselves (our own address): forget the handshake node.
                        DeleteNode(linked);
                        return false;
                    }
                    if (sender is not null)
                    {
                        // We met a node we know already (by another address): keep the known one.
                        _log.Verbose($"Handshake: we already know node {sender.Id}, updating the address if needed.");
                        if (UpdateAddressIfNeeded(sender, link, hdr))
                        {
                            _state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState);
                        }
                        DeleteNode(linked);
                        return false;
                    }
                    _state.RenameNode(linked, hdr.Sender);
                    _log.Verbose($"Handshake with node {linked.Id} completed.");
                    linked.Flags &= ~ClusterNodeFlags.Handshake;
                    linked.Flags |= flags & (ClusterNodeFlags.Master | ClusterNodeFlags.Slave);
                    _state.Schedule(ClusterTodo.SaveConfig);
                }
                else if (linked.Id != hdr.Sender)
                {
                    _log.Verbose($"PONG contains mismatching sender ID. About node {linked.Id} added {now - linked.CreatedMs} ms ago, having flags {(int)linked.Flags}");
                    linked.Flags |= ClusterNodeFlags.NoAddr;
                    linked.Ip = "";
                    linked.Port = 0;
                    linked.PPort = 0;
                    linked.CPort = 0;
                    FreeLink(link);
                    _state.Schedule(ClusterTodo.SaveConfig);
                    return false;
                }
            }

            if (sender is not null)
            {
                sender.Flags = (sender.Flags & ~ClusterNodeFlags.NoFailover) | (flags & ClusterNodeFlags.NoFailover);
            }

            if (sender is not null && type == ClusterMessageType.Ping && !sender.InHandshake && UpdateAddressIfNeeded(sender, link, hdr))
            {
                _state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.UpdateState);
            }

            if (!link.Inbound && type == ClusterMessageType.Pong)
            {
                var linked = link.Node!;
                linked.PongReceivedMs = now;
                linked.PingSentMs = 0;
                if (linked.IsTimedOut)
                {
                    _state.ClearFlags(linked, ClusterNodeFlags.PFail);
                }
                else if (linked.IsFailed)
                {
                    ClearFailureIfNeeded(linked);
                }
            }

            if (sender is not null)
            {
                if (hdr.SlaveOf is null)
                {
                    _state.SetNodeAsMaster(sender);
                }
                else
                {
                    var master = _state.Find(hdr.SlaveOf);
                    if (sender.IsMaster)
                    {
                        // A master turned replica: it serves no slots any more.
                        _state.DeleteNodeSlots(sender);
                        _state.SetMaster(sender, null);
                    }
                    if (master is not null && sender.Master != master)
                    {
                        _state.SetMaster(sender, master);
                    }
                }
            }

            var senderMaster = sender is null ? null : sender.IsMaster ? sender : sender.Master;
            bool dirtySlots = senderMaster is not null && !senderMaster.Slots.Raw.SequenceEqual(hdr.Slots);
            if (sender is not null && sender.IsMaster && dirtySlots)
            {
                ApplySlotClaim(sender, senderConfigEpoch, hdr.Slots);
            }
            if (sender is not null && dirtySlots)
            {
                // The sender claims slots a newer configuration gave to another node: tell it.
                for (int slot = 0; slot < HashSlot.Count; slot++)
                {
                    if (!hdr.ClaimsSlot(slot))
                    {
                        continue;
                    }
                    var owner = _state.OwnerOf(slot);
                    if (owner is null || owner == sender)
                    {
                        continue;
                    }
                    if (owner.ConfigEpoch > senderConfigEpoch)
                    {
                        _log.Verbose($"Node {sender.Id} has old slots configuration, sending an UPDATE message about {owner.Id}");
                        SendUpdate(_outbound.GetValueOrDefault(sender), owner);
                        break;
                    }
                }
            }

            if (sender is not null && _state.Myself.IsMaster && sender.IsMaster && senderConfigEpoch == _state.Myself.ConfigEpoch)
            {
                _state.HandleConfigEpochCollision(sender);
            }

            if (sender is not null)
            {
                ProcessGossip(hdr, sender);
                UpdateHostname(sender, hdr.Hostname);
            }
            return true;
        }

        switch (type)
        {
            case ClusterMessageType.Fail:
                if (sender is null)
                {
                    _log.Notice($"Ignoring FAIL message from unknown node {hdr.Sender} about {hdr.FailingNode}");
                    break;
                }
                var failing = _state.Find(hdr.FailingNode);
                if (failing is not null && (failing.Flags & (ClusterNodeFlags.Fail | ClusterNodeFlags.Myself)) == 0)
                {
                    _log.Notice($"FAIL message received from {hdr.Sender} about {hdr.FailingNode}");
                    failing.FailTimeMs = now;
                    _state.ClearFlags(failing, ClusterNodeFlags.PFail);
                    _state.SetFlags(failing, ClusterNodeFlags.Fail);
                }
                break;
            case ClusterMessageType.FailoverAuthRequest:
                if (sender is not null)
                {
                    SendFailoverAuthIfNeeded(sender, hdr);
                }
                break;
            case ClusterMessageType.Update:
                if (sender is null)
                {
                    break;
                }
                var about = _state.Find(hdr.UpdateNode);
                if (about is null || about.ConfigEpoch >= hdr.UpdateConfigEpoch)
                {
                    break;
                }
                if (about.IsReplica)
                {
                    _state.SetNodeAsMaster(about);
                }
                _state.SetConfigEpoch(about, hdr.UpdateConfigEpoch);
                ApplySlotClaim(about, hdr.UpdateConfigEpoch, hdr.UpdateSlots);
                break;
            case ClusterMessageType.FailoverAuthAck:
                ProcessFailoverAuthAck(sender, hdr);
                break;
            case ClusterMessageType.MfStart:
                ProcessManualFailoverStart(link, sender);
                break;
            case ClusterMessageType.Publish or ClusterMessageType.PublishShard:
                // As Redis: only from a known node; delivered to this node's subscribers, never passed on.
                if (sender is not null)
                {
                    PublishReceived?.Invoke(hdr.Channel, hdr.Payload, type == ClusterMessageType.PublishShard);
                }
                break;
            case ClusterMessageType.Module:
                // No modules here: counted, nothing to apply.
                break;
            default:
                _log.Warning($"Received unknown packet type: {hdr.RawType}");
                break;
        }
        return true;
    }

    /// <summary>Redis's getNodeFromLinkAndMsg: the link's node once known, else the node the header names.</summary>
    private ClusterNode? SenderOf(BusLink link, ClusterMessage hdr)
    {
        if (link.Node is { InHandshake: false } known)
        {
            return known;
        }
        var sender = _state.Find(hdr.Sender);
        if (sender is not null && link.Node is null && !sender.IsMyself)
        {
            SetInboundLink(sender, link);
        }
        return sender is { IsMyself: true } ? null : sender;
    }

    /// <summary>
    /// Redis's nodeUpdateAddressIfNeeded: a node that pings us from another address than we know moved;
    /// take the new one and reconnect, and follow it there when it is our master. Never on the node's own outbound link.
    /// </summary>
    private bool UpdateAddressIfNeeded(ClusterNode node, BusLink link, ClusterMessage hdr)
    {
        if (_outbound.TryGetValue(node, out var own) && own == link)
        {
            return false;
        }
        string ip = hdr.MyIp.Length > 0 ? hdr.MyIp : link.PeerIp;
        if (node.Port == hdr.Port && node.CPort == hdr.CPort && node.PPort == hdr.PPort && node.Ip == ip)
        {
            return false;
        }
        node.Ip = ip;
        node.Port = hdr.Port;
        node.PPort = hdr.PPort;
        node.CPort = hdr.CPort;
        if (_outbound.TryGetValue(node, out own))
        {
            FreeLink(own);
        }
        node.Flags &= ~ClusterNodeFlags.NoAddr;
        _log.Warning($"Address updated for node {node.Id}, now {node.Ip}:{node.Port}");
        if (_state.Myself.IsReplica && _state.Myself.Master == node)
        {
            // Our master moved: replicate from its new address (Redis's replicationSetMaster here).
            _state.ReplicaOfChanged?.Invoke(node);
        }
        return true;
    }

    /// <summary>Redis's clusterProcessGossipSection.</summary>
    private void ProcessGossip(ClusterMessage hdr, ClusterNode sender)
    {
        long now = _state.NowMs;
        foreach (var g in hdr.Gossip)
        {
            var flags = (ClusterNodeFlags)g.Flags;
            var node = _state.Find(g.Name);
            if (node is not null)
            {
                if (sender.IsMaster && !node.IsMyself)
                {
                    if ((flags & (ClusterNodeFlags.Fail | ClusterNodeFlags.PFail)) != 0)
                    {
                        if (node.AddFailureReport(sender, now))
                        {
                            _log.Verbose($"Node {sender.Id} reported node {node.Id} as not reachable.");
                        }
                        MarkFailingIfNeeded(node);
                    }
                    else if (node.RemoveFailureReport(sender))
                    {
                        _log.Verbose($"Node {sender.Id} reported node {node.Id} is back online.");
                    }
                }
                // Nobody doubts it and no ping of ours waits: take a fresher pong time from the sender.
                if ((flags & (ClusterNodeFlags.Fail | ClusterNodeFlags.PFail)) == 0 && node.PingSentMs == 0 && node.CountFailureReports(NodeTimeout, now) == 0)
                {
                    long pongTime = (long)g.PongReceived * 1000;
                    if (pongTime <= now + 500 && pongTime > node.PongReceivedMs)
                    {
                        node.PongReceivedMs = pongTime;
                    }
                }
                // We cannot reach it but the sender can, at another address: take that one.
                if ((node.Flags & (ClusterNodeFlags.Fail | ClusterNodeFlags.PFail)) != 0
                    && (flags & (ClusterNodeFlags.NoAddr | ClusterNodeFlags.Fail | ClusterNodeFlags.PFail)) == 0
                    && (!node.Ip.Equals(g.Ip, StringComparison.OrdinalIgnoreCase) || node.Port != g.Port || node.CPort != g.CPort))
                {
                    if (_outbound.TryGetValue(node, out var link))
                    {
                        FreeLink(link);
                    }
                    node.Ip = g.Ip;
                    node.Port = g.Port;
                    node.PPort = g.PPort;
                    node.CPort = g.CPort;
                    node.Flags &= ~ClusterNodeFlags.NoAddr;
                }
            }
            else if ((flags & ClusterNodeFlags.NoAddr) == 0 && !_state.IsBlacklisted(g.Name) && ClusterNode.IsValidId(g.Name))
            {
                // A node the sender knows and we do not: add it under its real id (no handshake: the
                // address may belong to another cluster by now).
                // Another node's flags for it; never "myself" or a handshake of ours.
                var added = _state.CreateNode(g.Name, flags & ~(ClusterNodeFlags.Myself | ClusterNodeFlags.Handshake | ClusterNodeFlags.Meet));
                added.Ip = g.Ip;
                added.Port = g.Port;
                added.PPort = g.PPort;
                added.CPort = g.CPort;
                _state.AddNode(added);
            }
        }
    }

    /// <summary>Redis's markNodeAsFailingIfNeeded: PFAIL plus reports from a majority of masters make FAIL, broadcast to all.</summary>
    private void MarkFailingIfNeeded(ClusterNode node)
    {
        int neededQuorum = (_state.Size / 2) + 1;
        if (!node.IsTimedOut || node.IsFailed)
        {
            return;
        }
        int failures = node.CountFailureReports(NodeTimeout, _state.NowMs);
        if (_state.Myself.IsMaster)
        {
            failures++;
        }
        if (failures < neededQuorum)
        {
            return;
        }
        _log.Notice($"Marking node {node.Id} as failing (quorum reached).");
        node.Flags &= ~ClusterNodeFlags.PFail;
        node.FailTimeMs = _state.NowMs;
        _state.SetFlags(node, ClusterNodeFlags.Fail);
        SendFail(node);
    }

    /// <summary>Redis's clearNodeFailureIfNeeded: a reachable replica or slot-less master at once, a master with slots after 2 node timeouts.</summary>
    private void ClearFailureIfNeeded(ClusterNode node)
    {
        long now = _state.NowMs;
        if (node.IsReplica || node.Slots.Count == 0)
        {
            _log.Notice($"Clear FAIL state for node {node.Id}: {(node.IsReplica ? "replica" : "master without slots")} is reachable again.");
            _state.ClearFlags(node, ClusterNodeFlags.Fail);
        }
        if (node.IsMaster && node.Slots.Count > 0 && now - node.FailTimeMs > NodeTimeout * 2)
        {
            _log.Notice($"Clear FAIL state for node {node.Id}: is reachable again and nobody is serving its slots after some time.");
            _state.ClearFlags(node, ClusterNodeFlags.Fail);
        }
    }

    /// <summary>Redis's updateAnnouncedHostname: the hostname extension, or none (no hostname announced).</summary>
    private void UpdateHostname(ClusterNode node, string? hostname)
    {
        hostname ??= "";
        if (hostname != node.Hostname)
        {
            node.Hostname = hostname;
            _state.Schedule(ClusterTodo.SaveConfig);
        }
    }

    /// <summary>
    /// Redis's clusterSendFailoverAuthIfNeeded: a master with slots votes once per epoch, for a replica whose
    /// master failed (or a manual failover), at most once per master every two node timeouts, and only when
    /// no slot it claims is served here with a newer config epoch.
    /// </summary>
    private void SendFailoverAuthIfNeeded(ClusterNode node, ClusterMessage request)
    {
        var myself = _state.Myself;
        var master = node.Master;
        bool forceAck = (request.MFlags0 & ClusterMessage.Flag0ForceAck) != 0;
        long now = _state.NowMs;
        if (myself.IsReplica || myself.Slots.Count == 0)
        {
            return;
        }
        if (request.CurrentEpoch < _state.CurrentEpoch)
        {
            _log.Warning($"Failover auth denied to {node.Id}: reqEpoch ({request.CurrentEpoch}) < curEpoch({_state.CurrentEpoch})");
            return;
        }
        if (_state.LastVoteEpoch == _state.CurrentEpoch)
        {
            _log.Warning($"Failover auth denied to {node.Id}: already voted for epoch {_state.CurrentEpoch}");
            return;
        }
        if (node.IsMaster || master is null || (!master.IsFailed && !forceAck))
        {
            string why = node.IsMaster ? "it is a master node" : master is null ? "I don't know its master" : "its master is up";
            _log.Warning($"Failover auth denied to {node.Id}: {why}");
            return;
        }
        if (now - master.VotedTimeMs < NodeTimeout * 2)
        {
            _log.Warning($"Failover auth denied to {node.Id}: can't vote about this master before {(NodeTimeout * 2) - (now - master.VotedTimeMs)} milliseconds");
            return;
        }
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            if (!request.ClaimsSlot(slot))
            {
                continue;
            }
            var owner = _state.OwnerOf(slot);
            if (owner is null || owner.ConfigEpoch <= request.ConfigEpoch)
            {
                continue;
            }
            _log.Warning($"Failover auth denied to {node.Id}: slot {slot} epoch ({owner.ConfigEpoch}) > reqEpoch ({request.ConfigEpoch})");
            return;
        }
        _state.LastVoteEpoch = _state.CurrentEpoch;
        master.VotedTimeMs = now;
        _state.Schedule(ClusterTodo.SaveConfig | ClusterTodo.FsyncConfig);
        if (_outbound.TryGetValue(node, out var link))
        {
            Send(link, Header(ClusterMessageType.FailoverAuthAck));
        }
        _log.Warning($"Failover auth granted to {node.Id} for epoch {_state.CurrentEpoch}");
    }
}
