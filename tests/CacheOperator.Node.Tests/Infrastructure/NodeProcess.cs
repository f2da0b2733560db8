using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>The node as a real OS process (cache-node.dll next to the tests), for start-up, signal and redis-cli tests.</summary>
public sealed class NodeProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private NodeProcess(Process process, int port, string? ownDirectory)
    {
        Process = process;
        Port = port;
        _ownDirectory = ownDirectory;
    }

    /// <summary>The working directory (dir) made for this process when the arguments named none; deleted on dispose.</summary>
    private readonly string? _ownDirectory;

    /// <summary>The process.</summary>
    public Process Process { get; }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Everything it printed so far (stdout and stderr).</summary>
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

    /// <summary>A free loopback TCP port.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the node with <paramref name="args"/>; unless told otherwise, waits until it accepts connections.</summary>
    public static NodeProcess Start(IEnumerable<string> args, bool waitUntilReady = true, int? port = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        int chosen = port ?? FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "cache-node.dll"));
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg.Replace("{port}", chosen.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }
        string? ownDirectory = null;
        if (!info.ArgumentList.Contains("--dir"))
        {
            // Snapshots (dump.rdb) go to a directory of the process's own, so that nodes never load each other's data.
            ownDirectory = Directory.CreateTempSubdirectory("node-process-").FullName;
            // Last, so that the line numbers of Redis's fatal configuration errors stay those of the given options.
            info.ArgumentList.Add("--dir");
            info.ArgumentList.Add(ownDirectory);
        }
        if (!info.ArgumentList.Contains("--metrics-port"))
        {
            // Parallel processes would all claim the default metrics port 9121.
            info.ArgumentList.Add("--metrics-port");
            info.ArgumentList.Add("0");
        }
        if (!info.ArgumentList.Contains("--repl-diskless-sync-delay"))
        {
            // Replicas sync at once rather than after Redis's default wait of 5 seconds for more replicas.
            info.ArgumentList.Add("--repl-diskless-sync-delay");
            info.ArgumentList.Add("0");
        }
        var process = Process.Start(info)!;
        var node = new NodeProcess(process, chosen, ownDirectory);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitUntilReady)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!node.Output.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                if (process.HasExited || DateTime.UtcNow > deadline)
                {
                    var output = node.Output;
                    node.Dispose(); // A node too slow to start must not outlive the test that gave up on it.
                    throw new InvalidOperationException($"Node did not start: {output}");
                }
                Thread.Sleep(50);
            }
        }
        return node;
    }

    /// <summary>Waits for exit and returns the exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout))
        {
            throw new TimeoutException($"Node did not exit: {Output}");
        }
        Process.WaitForExit();
        return Process.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            Process.WaitForExit();
        }
        Process.Dispose();
        if (_ownDirectory is not null)
        {
            Directory.Delete(_ownDirectory, recursive: true);
        }
    }
}
