using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using CacheOperator.Client;
using CacheOperator.Operator.Topology;

namespace CacheOperator.Operator.Tests.Topology;

/// <summary>Which server a cluster process runs.</summary>
public enum ServerKind
{
    /// <summary>Our node, cache-node.dll.</summary>
    Node,

    /// <summary>redis-server 7.0.15.</summary>
    Redis,
}

/// <summary>One cluster-enabled server process on loopback with a directory of its own (nodes.conf); killed on dispose.</summary>
public sealed class ClusterProcess : IDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    private ClusterProcess(string name, int shard, ServerKind kind, string directory, string? password)
    {
        Password = password;
        Name = name;
        Shard = shard;
        Kind = kind;
        Directory = directory;
    }

    /// <summary>Member name.</summary>
    public string Name { get; }

    /// <summary>requirepass and masterauth, when set.</summary>
    public string? Password { get; }

    /// <summary>Its shard.</summary>
    public int Shard { get; }

    /// <summary>What it runs.</summary>
    public ServerKind Kind { get; }

    /// <summary>Its working directory (nodes.conf).</summary>
    public string Directory { get; }

    /// <summary>Its client port.</summary>
    public int Port { get; private set; }

    /// <summary>The member endpoint the topology manager is given.</summary>
    public MemberEndpoint Endpoint => new(Name, Shard, "127.0.0.1", Port);

    /// <summary>What it printed (our node; redis-server's log goes there too).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a server of <paramref name="kind"/> in a new directory under <paramref name="root"/>.</summary>
    public static ClusterProcess Start(string name, int shard, ServerKind kind, string root, string? password = null)
    {
        var process = new ClusterProcess(name, shard, kind, System.IO.Directory.CreateDirectory(Path.Combine(root, name)).FullName, password);
        process.Launch();
        return process;
    }

    /// <summary>Kills it at once (SIGKILL), as a crashed pod.</summary>
    public void Kill()
    {
        if (_process is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit();
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            process.Dispose();
            _process = null;
        }
    }

    /// <summary>Starts again empty (no nodes.conf: a new node id) on a new port, as a pod rescheduled without its volume.</summary>
    public void RestartEmptyOnNewPort()
    {
        Kill();
        foreach (var file in System.IO.Directory.GetFiles(Directory))
        {
            File.Delete(file);
        }
        Launch();
    }

    /// <summary>Starts again on a new port with its nodes.conf (the same node id), as a pod rescheduled with its volume and a new IP.</summary>
    public void RestartOnNewPort()
    {
        Kill();
        Launch();
    }

    /// <summary>Runs one command on a new connection.</summary>
    public async Task<RespReply> CallAsync(params string[] command)
    {
        await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions
        {
            Port = Port,
            Password = Password,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            CommandTimeout = TimeSpan.FromSeconds(30),
        });
        return await connection.ExecuteAsync(command);
    }

    /// <summary>Its node id.</summary>
    public async Task<string> IdAsync() => (await CallAsync("CLUSTER", "MYID")).AsString()!;

    /// <inheritdoc/>
    public void Dispose() => Kill();

    private void Launch()
    {
        for (int attempt = 1; ; attempt++)
        {
            Port = FreePort();
            int busPort = FreePort();
            try
            {
                StartOn(Port, busPort);
                return;
            }
            catch (InvalidOperationException) when (attempt < 4)
            {
                // A port picked free was taken before the server bound it (a busy machine): other ports.
                Kill();
            }
        }
    }

    private void StartOn(int port, int busPort)
    {
        var info = new ProcessStartInfo(Kind == ServerKind.Node ? "dotnet" : "redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        if (Kind == ServerKind.Node)
        {
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cache-node.dll"));
        }
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(Directory, "nodes.conf"),
            "--cluster-port", busPort.ToString(CultureInfo.InvariantCulture), "--cluster-node-timeout", "2000",
            "--save", "", "--appendonly", "no", "--dir", Directory,
        ];
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (Password is not null)
        {
            // As in a pod: the auth init container's include file, never the password on the command line.
            var include = Path.Combine(Directory, "auth.conf");
            if (CacheOperator.Operator.Kubernetes.AuthInclude.Write(include, Password, TextWriter.Null) != 0)
            {
                throw new InvalidOperationException($"{Name}: could not write {include}");
            }
            info.ArgumentList.Add("--include");
            info.ArgumentList.Add(include);
        }
        if (Kind == ServerKind.Node)
        {
            // Parallel processes would all claim the default metrics port.
            info.ArgumentList.Add("--metrics-port");
            info.ArgumentList.Add("0");
        }
        lock (_output)
        {
            _output.Clear();
        }
        _process = Process.Start(info) ?? throw new InvalidOperationException($"{Name} did not start");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited at start: {Output}");
            }
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                if (CallAsync("PING").GetAwaiter().GetResult().AsString() == "PONG")
                {
                    return;
                }
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                // Not listening yet.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{Name} did not answer within 60 s: {Output}");
            }
            Thread.Sleep(100);
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The processes one test starts, in a temporary directory; all killed and the directory removed on dispose.</summary>
public sealed class ClusterProcesses : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("topology-").FullName;

    /// <summary>requirepass and masterauth of the processes started from now on (null: none).</summary>
    public string? Password { get; init; }

    /// <summary>Every process started, in order.</summary>
    public List<ClusterProcess> All { get; } = [];

    /// <summary>Starts <paramref name="perShard"/> members for each of <paramref name="shards"/> shards, named cache-shard-s-i.</summary>
    public void Start(ServerKind kind, int shards, int perShard)
    {
        for (int shard = 0; shard < shards; shard++)
        {
            for (int i = 0; i < perShard; i++)
            {
                Add(kind, shard);
            }
        }
    }

    /// <summary>Starts one more member of <paramref name="shard"/>.</summary>
    public ClusterProcess Add(ServerKind kind, int shard)
    {
        int index = All.Count(p => p.Shard == shard);
        var process = ClusterProcess.Start($"cache-shard-{shard}-{index}", shard, kind, _root, Password);
        All.Add(process);
        return process;
    }

    /// <summary>The process named <paramref name="name"/>.</summary>
    public ClusterProcess this[string name] => All.Single(p => p.Name == name);

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var process in All)
        {
            process.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A process still closing a file: the temp directory is left behind.
        }
    }
}
