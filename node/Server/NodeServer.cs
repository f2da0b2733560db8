using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Cluster.Bus;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server.Tracking;
using CacheOperator.Node.Server.Transport;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Server;

/// <summary>The cache node: listeners, connected clients, the keyspace, and the background cycle.</summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly List<Socket> _listeners = [];

    /// <summary>The network loop on Linux x64, or null for .NET's socket engine (network-transport sockets, other platforms).</summary>
    private readonly EpollLoop? _epoll;
    private readonly ConcurrentDictionary<long, ClientConnection> _clients = new();
    private readonly ConcurrentDictionary<Task, bool> _connectionTasks = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _loops = [];
    private long _nextClientId;

    /// <summary>
    /// A server with the given configuration; call <see cref="Start"/> to listen. <paramref name="meterName"/>
    /// names its OpenTelemetry meter (distinct names keep nodes sharing a process apart).
    /// </summary>
    public NodeServer(NodeConfig config, NodeLog? log = null, string meterName = NodeMetrics.DefaultMeterName)
    {
        Config = config;
        Log = log ?? new NodeLog();
        Keyspace = new Keyspace((int)config.Databases.Number, slotIndexed: config.ClusterEnabled.IsOn);
        if (config.ClusterEnabled.IsOn)
        {
            Cluster = ClusterHost.Create(this);
        }
        Propagator = new Propagator(Keyspace);
        Blocking = new BlockingKeys(Keyspace, Propagator);
        Scripts = new Scripting.ScriptEngine(this);
        Functions = new Scripting.FunctionLibraries(Scripts);
        Tracking = new TrackingTable(this);
        Keyspace.Observer = new KeyspaceEvents(Blocking, Propagator, config, PubSub, Tracking);
        Keyspace.NotifyKeyspaceEvents = config.NotifyKeyspaceEventFlags;
        config.NotifyKeyspaceEventFlagsChanged += flags => Keyspace.NotifyKeyspaceEvents = flags;
        Commands = new CommandTable();
        // Not security sensitive; RandomNumberGenerator would load OpenSSL (~5 MiB of RSS) at start.
        RunId = Random.Shared.GetHexString(40, lowercase: true);
        Replication = new ReplicationIds();
        Replicator = new Replicator(this);
        Snapshots = new SnapshotService(Keyspace, config, Log, Propagator.Stream, Replication);
        // Full syncs: the master's snapshot goes to the replica's socket; a replica loads its master's with expired keys
        // kept (nowMs 0), since the master's DELs remove them.
        Replicator.StartSnapshot = destination => Snapshots.StartBackgroundSave(destination) is { } save ? (save.Offset, save.Completion) : null;
        // Function libraries go into snapshots and come back from them in place of the node's (a replica's full sync too, as Redis's emptyData).
        Snapshots.FunctionLibraries = () => Functions.Libraries.Select(l => l.Code).ToList();
        Snapshots.LoadFunctionLibraries = codes => Functions.Restore(codes, Scripting.RestorePolicy.Flush, out string? error) ? null : error;
        Replicator.LoadSnapshot = input =>
        {
            var loaded = RdbReader.ReadTables(input, Keyspace, nowMs: 0);
            return () =>
            {
                if (Snapshots.LoadFunctionLibraries(loaded.File.FunctionLibraries) is { } error)
                {
                    Log.Event(LogLevel.Warning, "sync_functions_failed", "The master's function libraries could not be loaded", ("error", error));
                }
                loaded.SwapInto(Keyspace);
            };
        };
        _epoll = EpollLoop.IsSupported && config.NetworkTransport.Text == "epoll" ? EpollLoop.Shared : null;
        StartedAt = DateTimeOffset.UtcNow;
        Memory = new MemoryManager(Keyspace, config, Log);
        Metrics = new NodeMetrics(this, meterName);
        Telemetry = new CommandTelemetry(config, Metrics.Meter);
        foreach (var directive in config.All)
        {
            directive.Changed += d => Log.Event(LogLevel.Notice, "config_change", "Configuration changed", ("directive", d.Name), ("value", d.Name == "requirepass" ? "(hidden)" : d.Text));
        }
        foreach (var directive in (Directive[])[config.HashMaxListpackEntries, config.HashMaxListpackValue, config.ZsetMaxListpackEntries, config.ZsetMaxListpackValue, config.SetMaxIntsetEntries, config.StreamNodeMaxBytes, config.StreamNodeMaxEntries])
        {
            directive.Changed += _ => ApplyEncodingLimits();
        }
        ApplyEncodingLimits();
        Pause = new ClientPause(Keyspace);
        OutputLimits = OutputBufferLimits.Parse(config.ClientOutputBufferLimit.Text);
        config.ClientOutputBufferLimit.Changed += d => OutputLimits = OutputBufferLimits.Parse(d.Text);
        config.MaxMemory.Changed += _ =>
        {
            lock (Keyspace.Sync)
            {
                Keyspace.UpdateClock();
                Memory.EnforceLimit();
            }
        };
    }

    /// <summary>Copies the encoding directives into the keyspace's limits (storage knows no configuration); CONFIG SET runs under the keyspace lock.</summary>
    private void ApplyEncodingLimits()
    {
        var limits = Keyspace.EncodingLimits;
        limits.HashMaxListpackEntries = Config.HashMaxListpackEntries.Number;
        limits.HashMaxListpackValue = Config.HashMaxListpackValue.Number;
        limits.ZsetMaxListpackEntries = Config.ZsetMaxListpackEntries.Number;
        limits.ZsetMaxListpackValue = Config.ZsetMaxListpackValue.Number;
        limits.SetMaxIntsetEntries = Config.SetMaxIntsetEntries.Number;
        limits.StreamNodeMaxBytes = Config.StreamNodeMaxBytes.Number;
        limits.StreamNodeMaxEntries = Config.StreamNodeMaxEntries.Number;
    }

    /// <summary>This node's view of the cluster (cluster-enabled yes), or null in standalone mode. Guarded by the keyspace lock.</summary>
    public ClusterState? Cluster { get; }

    /// <summary>The cluster bus (cluster-enabled yes), or null in standalone mode.</summary>
    internal ClusterBus? Bus { get; private set; }

    /// <summary>Lua scripting: the interpreter, the scripts loaded, the script running now.</summary>
    public Scripting.ScriptEngine Scripts { get; }

    /// <summary>The function libraries (FUNCTION LOAD, FCALL), run by <see cref="Scripts"/>.</summary>
    public Scripting.FunctionLibraries Functions { get; }

    /// <summary>
    /// Called by a script running past busy-reply-threshold: when it runs on the network thread, one turn of that loop
    /// serves the other clients (they answer -BUSY, SCRIPT KILL gets through), as Redis's processEventsWhileBlocked.
    /// </summary>
    internal void ServeWhileBusy()
    {
        if (_epoll is { OnLoopThread: true } loop)
        {
            loop.RunNestedTurn();
        }
    }

    /// <summary>The write path: every change, as commands for the change stream (replicas, AOF).</summary>
    public Propagator Propagator { get; }

    /// <summary>RDB snapshots: SAVE, BGSAVE, the save rules, loading at start-up.</summary>
    public SnapshotService Snapshots { get; }

    /// <summary>Clients blocked on keys (BLPOP and friends) and the keys ready to serve them.</summary>
    public BlockingKeys Blocking { get; }

    /// <summary>Client-side caching: tracked keys, BCAST prefixes and invalidations (CLIENT TRACKING).</summary>
    public TrackingTable Tracking { get; }

    /// <summary>CLIENT PAUSE / UNPAUSE.</summary>
    public ClientPause Pause { get; }

    /// <summary>MIGRATE's cached connections to its targets.</summary>
    public MigrateConnections MigrateConnections { get; } = new();

    /// <summary>Pub/sub: channels, patterns and shard channels with their subscribers.</summary>
    public PubSub.PubSubRegistry PubSub { get; } = new();

    /// <summary>The MONITOR clients.</summary>
    public MonitorFeed Monitors { get; } = new();

    /// <summary>client-output-buffer-limit, one limit per <see cref="ClientClass"/>.</summary>
    public OutputBufferLimit[] OutputLimits { get; private set; }

    /// <summary>A connected client by id, or null.</summary>
    public Session? FindClient(long id) => _clients.TryGetValue(id, out var client) ? client.Session : null;

    /// <summary>maxmemory accounting and eviction.</summary>
    public MemoryManager Memory { get; }

    /// <summary>The OpenTelemetry instruments the metrics endpoint exports.</summary>
    public NodeMetrics Metrics { get; }

    /// <summary>Per-command histogram, slow log and latency monitor.</summary>
    public CommandTelemetry Telemetry { get; }

    /// <summary>True while the listeners accept clients (/readyz).</summary>
    public bool IsAcceptingClients => _listeners.Count > 0 && !_stopping.IsCancellationRequested;

    /// <summary>Bytes written to clients, closed connections included (INFO total_net_output_bytes).</summary>
    public long NetOutputBytes => Interlocked.Read(ref Stats.NetOutputBytesClosed) + _clients.Values.Sum(c => c.Session.Reply.BytesWritten);

    /// <summary>Configuration, changed at run time by CONFIG SET.</summary>
    public NodeConfig Config { get; }

    /// <summary>Where events are logged.</summary>
    public NodeLog Log { get; }

    /// <summary>All databases.</summary>
    public Keyspace Keyspace { get; }

    /// <summary>The commands served.</summary>
    public CommandTable Commands { get; internal set; }

    /// <summary>Counters for INFO.</summary>
    public ServerStats Stats { get; } = new();

    /// <summary>Random id of this process run (INFO run_id).</summary>
    public string RunId { get; }

    /// <summary>This node's replication history ids (INFO replication's master_replid and master_replid2).</summary>
    public ReplicationIds Replication { get; }

    /// <summary>Replication in both roles: the backlog and replicas served, the link to a master.</summary>
    public Replicator Replicator { get; }

    /// <summary>The network engine clients are served by: "epoll" (Linux x64) or "sockets".</summary>
    public string TransportName => _epoll is null ? "sockets" : "epoll";

    /// <summary>
    /// A client without a socket whose commands run exactly as a connection's; it needs no listener, so a
    /// node that was never started serves it too.
    /// </summary>
    public LocalClient ConnectLocal() => new(this, Interlocked.Increment(ref _nextClientId));

    /// <summary>When the server started.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The TCP port actually listened on.</summary>
    public int Port { get; private set; }

    /// <summary>Completes when the server has stopped (SHUTDOWN or a signal).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Connected clients.</summary>
    public IEnumerable<Session> Clients => _clients.Values.Select(c => c.Session).OrderBy(s => s.Id);

    /// <summary>Number of connected clients.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>Binds the listeners and starts accepting clients and the background cycle.</summary>
    public void Start()
    {
        int port = (int)Config.Port.Number;
        foreach (var word in Config.Bind.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            bool optional = word.StartsWith('-');
            string host = optional ? word[1..] : word;
            IPAddress address = host switch
            {
                "*" => IPAddress.Any,
                "::*" => IPAddress.IPv6Any,
                _ => IPAddress.TryParse(host, out var parsed) ? parsed : throw new ConfigException($"bind: '{host}' is not an IP address"),
            };
            try
            {
                var socket = ListeningSocket.Open(address, port);
                port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                _listeners.Add(socket);
            }
            catch (SocketException e) when (optional)
            {
                Log.Verbose($"Optional bind {host} skipped: {e.Message}");
            }
            catch (SocketException e)
            {
                throw new IOException($"Could not listen on {host}:{port}: {e.Message}", e);
            }
        }
        if (_listeners.Count == 0)
        {
            throw new IOException("No address to listen on (check bind).");
        }
        Port = port;
        if (Cluster is not null)
        {
            ClusterHost.Start(this, Cluster);
            Bus = new ClusterBus(Cluster, Keyspace.Sync, Log, () => Propagator.Stream.MasterOffset, Pause, () => Replicator.MasterDataAgeMs)
            {
                PublishReceived = (channel, message, sharded) => _ = sharded ? PubSub.PublishShard(channel, message) : PubSub.Publish(channel, message),
            };
            Bus.Start(_listeners.Select(l => ((IPEndPoint)l.LocalEndPoint!).Address), Cluster.BusPort(Port), fallBack: Config.ClusterPort.Number == 0);
        }
        foreach (var listener in _listeners)
        {
            _loops.Add(Task.Run(() => AcceptLoopAsync(listener)));
        }
        GcPauseMonitor.Start();
        // As Redis: clients can connect (and are answered -LOADING) while the snapshot loads; the cycle, and with it
        // the save rules, starts after it.
        try
        {
            var loaded = Snapshots.LoadAtStartup();
            if (loaded is not null && Config.ReplicaOf.Text.Length > 0)
            {
                lock (Keyspace.Sync)
                {
                    Replicator.ResumeHistory(loaded.File.Aux);
                }
            }
        }
        catch (IOException)
        {
            RequestShutdown("the snapshot could not be loaded");
            throw;
        }
        _loops.Add(Task.Run(CronLoopAsync));
        if (Config.ReplicaOf.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var masterHost, var masterPort])
        {
            lock (Keyspace.Sync)
            {
                Replicator.Follow(masterHost, int.TryParse(masterPort, CultureInfo.InvariantCulture, out int p) ? p : throw new ConfigException($"replicaof: '{masterPort}' is not a port"));
            }
        }
        Log.Event(LogLevel.Notice, "startup", "Ready to accept connections",
            ("port", Port), ("pid", Environment.ProcessId), ("maxmemory", Config.MaxMemory.Number), ("maxmemory_policy", Config.MaxMemoryPolicy.Text));
    }

    /// <summary>Stops accepting, lets connections finish the replies in flight, then completes <see cref="Stopped"/>.</summary>
    public void RequestShutdown(string reason)
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        Log.Event(LogLevel.Notice, "shutdown", "Shutting down", ("reason", reason));
        _stopping.Cancel();
        _ = Task.Run(async () =>
        {
            foreach (var listener in _listeners)
            {
                listener.Dispose();
            }
            MigrateConnections.CloseAll();
            Replicator.Stop();
            if (Bus is not null)
            {
                await Bus.DisposeAsync();
            }
            foreach (var client in _clients.Values)
            {
                client.StopGracefully();
            }
            var pending = Task.WhenAll(_connectionTasks.Keys);
            await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));
            foreach (var client in _clients.Values)
            {
                client.Abort();
            }
            Log.Notice("Server stopped, bye");
            _stopped.TrySetResult();
        });
    }

    /// <summary>Closes a client by id (CLIENT KILL); true when it was connected.</summary>
    public bool KillClient(long id)
    {
        if (_clients.TryGetValue(id, out var client))
        {
            client.Abort();
            return true;
        }
        return false;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        RequestShutdown("disposed");
        await Stopped;
    }

    private async Task AcceptLoopAsync(Socket listener)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }
                continue;
            }
            Interlocked.Increment(ref Stats.ConnectionsReceived);
            if (!Admit(socket))
            {
                continue;
            }
            long id = Interlocked.Increment(ref _nextClientId);
            var connection = new ClientConnection(this, socket, id, _epoll?.Add(socket));
            _clients[id] = connection;
            var task = Task.Run(connection.RunAsync);
            _connectionTasks[task] = true;
            _ = task.ContinueWith(t =>
            {
                _clients.TryRemove(id, out _);
                _connectionTasks.TryRemove(t, out _);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Applies socket options and the maxclients and protected-mode rules.</summary>
    private bool Admit(Socket socket)
    {
        socket.NoDelay = true;
        long keepAlive = Config.TcpKeepAlive.Number;
        if (keepAlive > 0)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)keepAlive);
        }
        string? refusal = null;
        if (_clients.Count >= Config.MaxClients.Number)
        {
            refusal = "-ERR max number of clients reached\r\n";
        }
        else if (Config.ProtectedMode.IsOn && Config.RequirePass.Text.Length == 0
            && socket.RemoteEndPoint is IPEndPoint remote && !IPAddress.IsLoopback(remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address))
        {
            refusal = "-DENIED Running in protected mode because protected mode is enabled and no password is set for the default user. "
                + "In this mode connections are only accepted from the loopback interface. Set a password with requirepass, or disable "
                + "protected mode with CONFIG SET protected-mode no from a loopback client.\r\n";
        }
        if (refusal is null)
        {
            return true;
        }
        Interlocked.Increment(ref Stats.RejectedConnections);
        Log.Event(LogLevel.Notice, "client_rejected", "Refused client",
            ("addr", socket.RemoteEndPoint?.ToString()), ("reason", refusal[1..].TrimEnd()));
        try
        {
            socket.Send(Encoding.ASCII.GetBytes(refusal));
        }
        catch (SocketException)
        {
            // The client is gone already.
        }
        socket.Dispose();
        return false;
    }

    /// <summary>The background cycle (Redis's serverCron): active expiry and idle-client timeout, hz times a second.</summary>
    private async Task CronLoopAsync()
    {
        var random = new Random();
        while (!_stopping.IsCancellationRequested)
        {
            int periodMs = (int)Math.Max(1, 1000 / Config.Hz.Number);
            try
            {
                await Task.Delay(periodMs, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Stats.Sample(Environment.TickCount64);
            Memory.UpdatePeak();
            Memory.CollectGarbageIfWasteful();
            GcPauseMonitor.Sample();
            // A quarter of each period at most, as Redis's slow expire cycle.
            ActiveExpiry.RunCycle(Keyspace, random, TimeSpan.FromMilliseconds(Math.Max(1, periodMs / 4)));
            MigrateConnections.CloseIdle(Environment.TickCount64);
            Replicator.Cron();
            Snapshots.Cron();
            if (Cluster is not null)
            {
                ClusterHost.Cron(this, Cluster);
            }
            long timeoutSeconds = Config.Timeout.Number;
            if (timeoutSeconds > 0)
            {
                long now = Environment.TickCount64;
                foreach (var client in _clients.Values)
                {
                    // As Redis: blocked clients and monitors (replicas) never time out.
                    if (!client.Session.IsBlocked && !client.Session.IsMonitor && !client.Session.IsReplica && now - client.Session.LastInteractionMs > timeoutSeconds * 1000)
                    {
                        Log.Verbose($"Closing idle client id={client.Session.Id}");
                        client.Abort();
                    }
                }
            }
        }
    }
}
