using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;

namespace CacheOperator.Operator.Local;

/// <summary>Where and how local mode runs nodes.</summary>
/// <param name="Directory">State directory: state.json and a data directory per node.</param>
/// <param name="BasePort">First RESP port handed out; each node's bus port is its port + 10000.</param>
/// <param name="NodeCommand">Executable run with the node's config file (e.g. redis-server); null: dotnet cache-node.dll.</param>
public sealed record LocalOptions(string Directory, int BasePort = LocalOptions.DefaultBasePort, string? NodeCommand = null)
{
    /// <summary>Default first port.</summary>
    public const int DefaultBasePort = 7000;

    /// <summary>Default state directory.</summary>
    public const string DefaultDirectory = ".cache-local";

    /// <summary>Environment variable with the password local nodes require when spec.auth is set.</summary>
    public const string PasswordVariable = "CACHE_LOCAL_PASSWORD";

    /// <summary>The password for a spec with auth, or an error when spec.auth is set without <see cref="PasswordVariable"/>.</summary>
    public static string? Password(CacheClusterSpec spec, out string? error)
    {
        error = null;
        if (spec.Auth?.SecretRef is null)
        {
            return null;
        }
        var password = Environment.GetEnvironmentVariable(PasswordVariable);
        if (string.IsNullOrEmpty(password))
        {
            error = $"spec.auth names a Secret, which local mode cannot read; set {PasswordVariable} to the password the nodes should require, or remove spec.auth";
            return null;
        }
        return password;
    }
}

/// <summary>
/// A cluster's nodes as processes on this machine: one per pod, named &lt;cluster&gt;-shard-&lt;i&gt;-&lt;ordinal&gt;, on
/// loopback ports from <see cref="LocalOptions.BasePort"/> (remembered in state.json, so a restart reuses them), each with
/// a data directory &lt;dir&gt;/&lt;name&gt;/ holding its config file, nodes.conf and log. <see cref="ApplyAsync"/> starts
/// what is missing or dead, which is how a killed node comes back.
/// </summary>
public sealed class LocalNodeRuntime : INodeRuntime
{
    /// <summary>How long each stop step (SHUTDOWN, SIGTERM) waits for the process to exit.</summary>
    public static readonly TimeSpan StopWait = TimeSpan.FromSeconds(10);

    /// <summary>The node's config file name inside its data directory.</summary>
    public const string ConfigFileName = "node.conf";

    // Directives local mode sets itself, replacing the Kubernetes values of the plan's config.
    private static readonly HashSet<string> LocalDirectives = new(StringComparer.OrdinalIgnoreCase)
    {
        "port", "bind", "dir", "cluster-config-file", "cluster-port", "cluster-announce-hostname", "cluster-preferred-endpoint-type",
        "metrics-port", "requirepass", "masterauth", "cluster-announce-ip",
    };

    /// <summary>How long a dead master waits for a replica to take over before it is restarted anyway.</summary>
    public static readonly TimeSpan FailoverWait = TimeSpan.FromSeconds(45);

    private readonly Dictionary<string, DateTimeOffset> _deadSince = [];
    private readonly LocalOptions _options;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly LocalState _state;
    private readonly string _directory;

    /// <summary>A runtime over <paramref name="options"/>'s directory, continuing from its state.json when there is one.</summary>
    public LocalNodeRuntime(LocalOptions options)
    {
        _options = options;
        _directory = Path.GetFullPath(options.Directory);
        Directory.CreateDirectory(_directory);
        _state = LocalState.Read(_directory) ?? new LocalState();
        _state.BasePort = options.BasePort;
        SaveState();
    }

    /// <summary>The state directory (absolute).</summary>
    public string StateDirectory => _directory;

    /// <summary>Updates the fields <c>local up</c> owns in state.json and writes it.</summary>
    public void UpdateState(Action<LocalState> update)
    {
        _gate.Wait();
        try
        {
            update(_state);
            SaveState();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The members that should run, copied.</summary>
    public IReadOnlyList<LocalMember> Members
    {
        get
        {
            _gate.Wait();
            try
            {
                return _state.Members.Select(Clone).ToList();
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <inheritdoc />
    public async Task<ObservedCluster> ObserveAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        var members = OwnMembers(cluster);
        var password = LocalOptions.Password(cluster.Spec, out _);
        var ready = await Task.WhenAll(members.Select(async m =>
            NodeProcesses.IsAlive(m.Pid, Markers(m)) && await NodeProcesses.AnswersPingAsync(m.Port, password, cancellationToken)));
        var readiness = members.Select((m, i) => (Member: m, Ready: ready[i])).ToList();
        var shards = readiness
            .GroupBy(x => x.Member.Shard)
            .OrderBy(g => g.Key)
            .Select(g =>
            {
                var list = g.OrderBy(x => x.Member.Ordinal).ToList();
                return new ObservedShard(
                    g.Key,
                    CacheClusterReconciler.ShardName(cluster, g.Key),
                    list.Count,
                    list.Count(x => x.Ready),
                    list.Select(x => new ObservedMember(x.Member.Name, "127.0.0.1", x.Member.Port, x.Ready, IsOutdated(x.Member))).ToList());
            })
            .ToList();
        return new ObservedCluster(shards);
    }

    /// <inheritdoc />
    public async Task<ApplySummary> ApplyAsync(CacheCluster cluster, ClusterPlan plan, CancellationToken cancellationToken)
    {
        var password = LocalOptions.Password(cluster.Spec, out var passwordError);
        if (passwordError is not null)
        {
            throw new InvalidOperationException(passwordError);
        }
        var created = new List<int>();
        var changed = new List<string>();
        var notes = new List<string>();
        var toStop = new List<LocalMember>();
        var toStart = new List<LocalMember>();
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var prefix = cluster.Metadata.Name + "-shard-";
            for (var shard = 0; shard < plan.Shards; shard++)
            {
                if (!_state.Members.Any(m => m.Shard == shard && m.Name.StartsWith(prefix, StringComparison.Ordinal)))
                {
                    created.Add(shard);
                }
                for (var ordinal = 0; ordinal <= plan.ReplicasPerShard; ordinal++)
                {
                    var name = $"{CacheClusterReconciler.ShardName(cluster, shard)}-{ordinal}";
                    var member = _state.Members.FirstOrDefault(m => m.Name == name);
                    if (member is null)
                    {
                        member = new LocalMember { Name = name, Shard = shard, Ordinal = ordinal, Port = PortFor(name) };
                        _state.Members.Add(member);
                    }
                    var config = NodeConfigFor(plan, member, password);
                    var configPath = ConfigPath(member);
                    Directory.CreateDirectory(NodeDirectory(member));
                    var previous = File.Exists(configPath) ? await File.ReadAllTextAsync(configPath, cancellationToken) : null;
                    var alive = NodeProcesses.IsAlive(member.Pid, Markers(member));
                    if (previous != config)
                    {
                        // A running node takes the live part by CONFIG SET and the rest when the rolling upgrade restarts it.
                        await File.WriteAllTextAsync(configPath, config, cancellationToken);
                    }
                    if (!alive)
                    {
                        toStart.Add(member);
                    }
                    else
                    {
                        _deadSince.Remove(member.Name);
                    }
                }
            }
            // As a StatefulSet scaled down: the highest ordinals go.
            toStop.AddRange(_state.Members.Where(m => m.Name.StartsWith(prefix, StringComparison.Ordinal) && m.Shard < plan.Shards && m.Ordinal > plan.ReplicasPerShard));
            foreach (var member in toStart)
            {
                var restart = member.Pid > 0;
                if (restart && await WaitForFailoverAsync(member, password, cancellationToken) is { } waiting)
                {
                    notes.Add(waiting);
                    continue;
                }
                member.Pid = StartNode(member);
                member.StartedWith = Fingerprint(member);
                _deadSince.Remove(member.Name);
                if (!restart)
                {
                    // A restart is not a change of what should run (as a pod restart leaves the StatefulSet alone).
                    changed.Add($"Process/{member.Name}");
                }
            }
            SaveState();
        }
        finally
        {
            _gate.Release();
        }
        foreach (var member in toStop)
        {
            await StopMemberAsync(member, password, removeData: true, cancellationToken);
            changed.Add($"Process/{member.Name}");
        }
        return new ApplySummary(created, changed, notes);
    }

    /// <inheritdoc />
    public async Task DeleteShardAsync(CacheCluster cluster, int index, CancellationToken cancellationToken)
    {
        var password = LocalOptions.Password(cluster.Spec, out _);
        foreach (var member in OwnMembers(cluster).Where(m => m.Shard == index))
        {
            // A shard made again later starts with a fresh identity, not as a ghost of this one.
            await StopMemberAsync(member, password, removeData: true, cancellationToken);
        }
    }

    /// <summary>True: node processes run outside any garbage collector and must be stopped before the cluster goes.</summary>
    public bool NeedsFinalizer => true;

    /// <inheritdoc />
    public async Task RestartMemberAsync(CacheCluster cluster, string member, CancellationToken cancellationToken)
    {
        var password = LocalOptions.Password(cluster.Spec, out _);
        var current = OwnMembers(cluster).FirstOrDefault(m => m.Name == member)
            ?? throw new InvalidOperationException($"{member} is not a node of cluster {cluster.Metadata.Name}");
        await NodeProcesses.StopAsync(current.Pid, current.Port, password, Markers(current), StopWait, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Same port, data directory and nodes.conf: the node rejoins as itself, with the config file as it is now.
            var stored = _state.Members.First(m => m.Name == member);
            stored.Pid = StartNode(stored);
            stored.StartedWith = Fingerprint(stored);
            _deadSince.Remove(member);
            SaveState();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// What a start of <paramref name="member"/> runs now: the node binary (path, size and time of the file) and the
    /// restart-requiring directives of its config file.
    /// </summary>
    public string Fingerprint(LocalMember member)
    {
        var config = File.Exists(ConfigPath(member)) ? File.ReadAllText(ConfigPath(member)) : "";
        return ConfigParts.Hash(BinaryIdentity() + "\n" + ConfigParts.RestartPart(config));
    }

    private bool IsOutdated(LocalMember member) => member.StartedWith is { } started && started != Fingerprint(member);

    private string BinaryIdentity()
    {
        var path = _options.NodeCommand is { } command ? Resolve(command) : NodeDll();
        var file = new FileInfo(path);
        return file.Exists ? $"{path} {file.Length} {file.LastWriteTimeUtc.Ticks}" : path;
    }

    /// <summary>The file a command names: itself when it has a directory, else the first match on PATH.</summary>
    private static string Resolve(string command)
    {
        if (command.Contains('/', StringComparison.Ordinal))
        {
            return Path.GetFullPath(command);
        }
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, command);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return command;
    }

    /// <inheritdoc />
    public Task CleanUpAsync(CacheCluster cluster, CancellationToken cancellationToken) =>
        StopAllAsync(LocalOptions.Password(cluster.Spec, out _), cancellationToken);

    /// <summary>
    /// Stops every node cleanly, keeping their data directories and state (ports, nodes.conf), so the next
    /// <c>local up</c> brings the same cluster back.
    /// </summary>
    public async Task StopAllAsync(string? password, CancellationToken cancellationToken)
    {
        var members = Members;
        await Task.WhenAll(members.Select(async m =>
        {
            await NodeProcesses.StopAsync(m.Pid, m.Port, password, Markers(m), StopWait, cancellationToken);
            UpdateState(s =>
            {
                if (s.Members.FirstOrDefault(x => x.Name == m.Name) is { } stored)
                {
                    stored.Pid = 0;
                }
            });
        }));
    }

    /// <inheritdoc />
    public Task<string?> GetPasswordAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        var password = LocalOptions.Password(cluster.Spec, out var error);
        return error is null ? Task.FromResult(password) : throw new InvalidOperationException(error);
    }

    /// <summary>
    /// The node's config file: the plan's (the file the Kubernetes ConfigMap holds: maxmemory, policy, spec.config, cluster
    /// settings) with what differs on one machine replaced: port, loopback bind, data directory, bus port, announced
    /// hostname.
    /// </summary>
    public string NodeConfigFor(ClusterPlan plan, LocalMember member, string? password)
    {
        var text = new StringBuilder();
        foreach (var line in plan.NodeConfig.Split('\n'))
        {
            var name = line.TrimStart().Split(' ', 2)[0];
            if (!LocalDirectives.Contains(name))
            {
                text.Append(line).Append('\n');
            }
        }
        var local = new StringBuilder(text.ToString().TrimEnd('\n')).Append('\n');
        local.Append("# Local mode (cache-operator local up): this machine's ports and directories.\n");
        local.Append("port ").Append(member.Port.ToString(CultureInfo.InvariantCulture)).Append('\n');
        local.Append("bind 127.0.0.1\n");
        local.Append("dir ").Append(Quote(NodeDirectory(member))).Append('\n');
        local.Append("cluster-config-file nodes.conf\n");
        local.Append("cluster-port ").Append((member.Port + 10000).ToString(CultureInfo.InvariantCulture)).Append('\n');
        local.Append("cluster-announce-hostname localhost\n");
        local.Append("cluster-preferred-endpoint-type ip\n");
        if (_options.NodeCommand is null)
        {
            // One machine has one port 9121: the node's metrics endpoint is off locally.
            local.Append("metrics-port 0\n");
        }
        if (password is not null)
        {
            local.Append("requirepass ").Append(Quote(password)).Append('\n');
            local.Append("masterauth ").Append(Quote(password)).Append('\n');
        }
        return local.ToString();
    }

    /// <summary>The node's data directory.</summary>
    public string NodeDirectory(LocalMember member) => Path.Combine(_directory, member.Name);

    private string ConfigPath(LocalMember member) => Path.Combine(NodeDirectory(member), ConfigFileName);

    /// <summary>What identifies the node's process in /proc/PID/cmdline: its config path, or redis-server's rewritten title.</summary>
    public string[] Markers(LocalMember member) => [ConfigPath(member), $"127.0.0.1:{member.Port}"];

    /// <summary>
    /// Why a dead node should not be restarted yet, or null. A node without persistence comes back empty; restarted while
    /// its replicas still follow it, it would stay master and they would copy its empty dataset. So it waits until a
    /// sibling has taken over (the cluster's failover, about twice cluster-node-timeout), then rejoins as a replica; a
    /// shard whose siblings cannot take over (none alive, or none promoted by <see cref="FailoverWait"/>) restarts anyway.
    /// </summary>
    private async Task<string?> WaitForFailoverAsync(LocalMember member, string? password, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        if (!_deadSince.TryGetValue(member.Name, out var since))
        {
            _deadSince[member.Name] = since = now;
        }
        if (now - since > FailoverWait)
        {
            return null;
        }
        var siblings = _state.Members.Where(m => m.Shard == member.Shard && m.Name != member.Name && NodeProcesses.IsAlive(m.Pid, Markers(m))).ToList();
        var following = false;
        foreach (var sibling in siblings)
        {
            var role = await NodeProcesses.RoleAsync(sibling.Port, password, cancellationToken);
            if (role is { Master: true })
            {
                return null;
            }
            following |= role is { Master: false } && role.MasterPort == member.Port;
        }
        return following
            ? $"{member.Name} died; it restarts once a replica has taken over its slots (waited {(now - since).TotalSeconds:F0} s of at most {FailoverWait.TotalSeconds:F0} s)"
            : null;
    }

    private int StartNode(LocalMember member)
    {
        var (command, arguments) = _options.NodeCommand is { } custom
            ? (custom, new List<string> { ConfigPath(member) })
            : ("dotnet", new List<string> { NodeDll(), ConfigPath(member) });
        return NodeProcesses.Start(command, arguments, Path.Combine(NodeDirectory(member), "node.log"), NodeDirectory(member));
    }

    /// <summary>cache-node.dll beside the operator (the operator project references the node project).</summary>
    public static string NodeDll()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "cache-node.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"cache-node.dll is not in {AppContext.BaseDirectory}; build the operator project, or pass --node-command redis-server", path);
    }

    private async Task StopMemberAsync(LocalMember member, string? password, bool removeData, CancellationToken cancellationToken)
    {
        await NodeProcesses.StopAsync(member.Pid, member.Port, password, Markers(member), StopWait, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _state.Members.RemoveAll(m => m.Name == member.Name);
            SaveState();
        }
        finally
        {
            _gate.Release();
        }
        if (removeData && Directory.Exists(NodeDirectory(member)))
        {
            Directory.Delete(NodeDirectory(member), recursive: true);
        }
    }

    private List<LocalMember> OwnMembers(CacheCluster cluster)
    {
        var prefix = cluster.Metadata.Name + "-shard-";
        _gate.Wait();
        try
        {
            return _state.Members.Where(m => m.Name.StartsWith(prefix, StringComparison.Ordinal)).Select(Clone).ToList();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The node's remembered port, else the next port whose RESP and bus ports are both free.</summary>
    private int PortFor(string name)
    {
        if (_state.Ports.TryGetValue(name, out var port))
        {
            return port;
        }
        var used = _state.Ports.Values.ToHashSet();
        var candidate = Math.Max(_options.BasePort, used.Count == 0 ? _options.BasePort : used.Max() + 1);
        while (used.Contains(candidate) || !IsFree(candidate) || !IsFree(candidate + 10000))
        {
            candidate++;
            if (candidate + 10000 > 65535)
            {
                throw new InvalidOperationException($"no free port pair (port and port + 10000) at or above --base-port {_options.BasePort}");
            }
        }
        _state.Ports[name] = candidate;
        return candidate;
    }

    /// <summary>Nothing listens on loopback <paramref name="port"/> (a bind succeeds).</summary>
    internal static bool IsFree(int port)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void SaveState() => _state.Write(_directory);

    private static LocalMember Clone(LocalMember m) => new() { Name = m.Name, Shard = m.Shard, Ordinal = m.Ordinal, Port = m.Port, Pid = m.Pid, StartedWith = m.StartedWith };

    private static string Quote(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'' or '\\')
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
