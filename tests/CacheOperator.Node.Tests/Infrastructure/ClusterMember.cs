using System.Globalization;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>Which server a cluster member runs: real redis-server 7.0.15 (the reference) or our node.</summary>
public enum MemberKind
{
    /// <summary>Debian's redis-server.</summary>
    Redis,

    /// <summary>Our node (cache-node.dll as a process).</summary>
    Node,
}

/// <summary>
/// One cluster-enabled server as its own process, with a client port, a bus port chosen free (port+10000
/// could be out of range for ephemeral ports) and its own nodes.conf, so it can be killed and restarted
/// with the same identity.
/// </summary>
public sealed class ClusterMember : IDisposable
{
    private readonly string[] _extra;
    private RedisServerProcess? _redis;
    private NodeProcess? _node;

    private ClusterMember(MemberKind kind, string directory, int nodeTimeoutMs, string[] extra)
    {
        Kind = kind;
        Port = NodeProcess.FreePort();
        BusPort = NodeProcess.FreePort();
        ConfigFile = Path.Combine(directory, $"nodes-{Port}.conf");
        NodeTimeoutMs = nodeTimeoutMs;
        _extra = extra;
    }

    /// <summary>What it runs.</summary>
    public MemberKind Kind { get; }

    /// <summary>Its client port.</summary>
    public int Port { get; }

    /// <summary>Its cluster bus port (cluster-port).</summary>
    public int BusPort { get; }

    /// <summary>Its cluster-config-file.</summary>
    public string ConfigFile { get; }

    /// <summary>Its cluster-node-timeout in milliseconds.</summary>
    public int NodeTimeoutMs { get; }

    /// <summary>host:port as redis-cli --cluster takes it.</summary>
    public string Address => $"127.0.0.1:{Port}";

    /// <summary>True while its process runs.</summary>
    public bool Running => _redis is { HasExited: false } || _node is { Process.HasExited: false };

    /// <summary>Starts a member of <paramref name="kind"/> keeping its files in <paramref name="directory"/>.</summary>
    public static ClusterMember Start(MemberKind kind, string directory, int nodeTimeoutMs = 2000, params string[] extra)
    {
        for (int attempt = 1; ; attempt++)
        {
            var member = new ClusterMember(kind, directory, nodeTimeoutMs, extra);
            try
            {
                member.Launch();
                return member;
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException && attempt < 3)
            {
                // A port picked free was taken before the server bound it (a busy machine; the server exits): other ports.
                member.Kill();
            }
        }
    }

    /// <summary>Starts again after <see cref="Kill"/>, on the same ports with the same config file.</summary>
    public void Restart()
    {
        Kill();
        Launch();
    }

    /// <summary>Kills the process at once (SIGKILL), as a crashed pod.</summary>
    public void Kill()
    {
        _redis?.Dispose();
        _redis = null;
        _node?.Dispose();
        _node = null;
    }

    /// <summary>A new raw client on its client port.</summary>
    public RespClient Client() => new(Port, TimeSpan.FromSeconds(30));

    /// <summary>Its id (CLUSTER MYID).</summary>
    public string Id()
    {
        using var client = Client();
        return client.Call("CLUSTER", "MYID").Text!;
    }

    /// <summary>One field of CLUSTER INFO, e.g. cluster_state.</summary>
    public string Info(string field)
    {
        using var client = Client();
        var text = client.Call("CLUSTER", "INFO").Text!;
        var line = text.Split("\r\n").FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line?[(field.Length + 1)..] ?? throw new InvalidOperationException($"CLUSTER INFO has no {field}: {text}");
    }

    /// <summary>Runs one command on a new connection and returns its reply.</summary>
    public RespValue Call(params string[] args)
    {
        using var client = Client();
        return client.Call(args);
    }

    /// <summary>The raw CLUSTER NODES line about node <paramref name="id"/>, or null when it does not know it.</summary>
    public string? NodeLine(string id) =>
        Call("CLUSTER", "NODES").Text!.Split('\n').FirstOrDefault(l => l.StartsWith(id, StringComparison.Ordinal));

    /// <summary>Its CLUSTER NODES lines, parsed.</summary>
    public IReadOnlyList<ClusterNodeLine> Nodes()
    {
        using var client = Client();
        return ClusterNodeLine.Parse(client.Call("CLUSTER", "NODES").Text!);
    }

    /// <summary>What it printed so far (our node only; redis-server's output is discarded).</summary>
    public string Output => _node?.Output ?? "";

    /// <inheritdoc/>
    public void Dispose() => Kill();

    private void Launch()
    {
        var options = new List<string>
        {
            "--cluster-enabled", "yes",
            "--cluster-config-file", ConfigFile,
            "--cluster-port", BusPort.ToString(CultureInfo.InvariantCulture),
            "--cluster-node-timeout", NodeTimeoutMs.ToString(CultureInfo.InvariantCulture),
        };
        options.AddRange(_extra);
        if (Kind == MemberKind.Node)
        {
            _node = NodeProcess.Start(["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", .. options], port: Port);
            return;
        }
        // redis-server writes nodes.conf relative to its working directory unless given a path.
        _redis = RedisServerProcess.StartOn(Port, Path.GetDirectoryName(ConfigFile)!, [.. options]);
    }
}

/// <summary>One line of CLUSTER NODES: id, address, flags, master, epochs, link state, slot ranges.</summary>
public sealed record ClusterNodeLine(string Id, string Address, IReadOnlySet<string> Flags, string Master, long ConfigEpoch, string Link, IReadOnlyList<string> Slots)
{
    /// <summary>The client port of <see cref="Address"/> (ip:port@cport[,hostname]).</summary>
    public int Port => int.Parse(Address.Split('@')[0].Split(':')[^1], CultureInfo.InvariantCulture);

    /// <summary>How many slots the ranges cover (migrating/importing entries not counted).</summary>
    public int SlotCount => Slots.Where(s => !s.StartsWith('[')).Sum(s =>
    {
        var parts = s.Split('-');
        return parts.Length == 1 ? 1 : int.Parse(parts[1], CultureInfo.InvariantCulture) - int.Parse(parts[0], CultureInfo.InvariantCulture) + 1;
    });

    /// <summary>Parses CLUSTER NODES output.</summary>
    public static IReadOnlyList<ClusterNodeLine> Parse(string text) => text
        .Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(' '))
        .Select(f => new ClusterNodeLine(f[0], f[1], f[2].Split(',').ToHashSet(), f[3], long.Parse(f[6], CultureInfo.InvariantCulture), f[7], f[8..]))
        .ToList();
}

/// <summary>Waits and checks over a set of cluster members.</summary>
public static class ClusterWait
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds, failing after <paramref name="seconds"/> with <paramref name="what"/> and its last state.</summary>
    public static void Until(Func<bool> condition, string what, int seconds = 60, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            try
            {
                if (condition())
                {
                    return;
                }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
            {
                // A member still starting or just restarted: poll again.
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}. {describe?.Invoke()}");
            }
            Thread.Sleep(100);
        }
    }

    /// <summary>Until every member reports cluster_state:ok and knows all of them as connected, slot-agreeing nodes.</summary>
    public static void UntilConverged(IReadOnlyList<ClusterMember> members, int seconds = 60) => Until(
        () => members.All(m => m.Info("cluster_state") == "ok" && m.Nodes().Count == members.Count
            && m.Nodes().All(n => n.Link == "connected" && !n.Flags.Contains("fail?") && !n.Flags.Contains("fail") && !n.Flags.Contains("handshake"))),
        "every member reports cluster_state:ok and sees all members connected",
        seconds,
        () => string.Join("\n---\n", members.Select(m => $"{m.Kind} {m.Port}:\n" + Describe(m))));

    /// <summary>A member's CLUSTER NODES, or why it could not be read.</summary>
    public static string Describe(ClusterMember member)
    {
        try
        {
            using var client = member.Client();
            return client.Call("CLUSTER", "NODES").Text ?? "";
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            return e.Message;
        }
    }
}

/// <summary>The cluster members one test starts, in a temporary directory of their own; all killed and the directory removed on dispose.</summary>
public sealed class ClusterMembers : IDisposable
{
    private readonly List<ClusterMember> _started = [];

    /// <summary>Where their nodes.conf files live.</summary>
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("cluster-").FullName;

    /// <summary>Starts one member per kind in <paramref name="kinds"/> ("Redis,Node,...").</summary>
    public List<ClusterMember> Start(string kinds) => kinds.Split(',').Select(k => Add(Enum.Parse<MemberKind>(k))).ToList();

    /// <summary>Starts one more member of <paramref name="kind"/> with node timeout <paramref name="nodeTimeoutMs"/> and <paramref name="extra"/> directives.</summary>
    public ClusterMember Add(MemberKind kind, int nodeTimeoutMs = 2000, params string[] extra)
    {
        var member = ClusterMember.Start(kind, Directory, nodeTimeoutMs, extra);
        _started.Add(member);
        return member;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var member in _started)
        {
            member.Dispose();
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
