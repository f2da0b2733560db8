using System.Diagnostics;
using System.Text;
using CacheOperator.Operator.Local;

namespace CacheOperator.Operator.Tests.Local;

/// <summary>Helpers of the local-mode tests: free port ranges, polling with a deadline, a child process whose output is read.</summary>
internal static class LocalTestSupport
{
    private static int _next = 20000 + Random.Shared.Next(0, 40) * 100;

    /// <summary>A base port with <paramref name="count"/> free ports (and their bus ports, + 10000) above it.</summary>
    public static int FreeBasePort(int count)
    {
        while (true)
        {
            var candidate = Interlocked.Add(ref _next, 100) - 100;
            if (candidate + count + 10000 > 65000)
            {
                Interlocked.Exchange(ref _next, 20000);
                continue;
            }
            if (Enumerable.Range(candidate, count).All(p => LocalNodeRuntime.IsFree(p) && LocalNodeRuntime.IsFree(p + 10000)))
            {
                return candidate;
            }
        }
    }

    public static async Task<T> PollAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} did not happen within {timeout.TotalSeconds:F0} s");
            }
            await Task.Delay(200);
        }
    }

    public static Task PollAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        PollAsync<object>(async () => await probe() ? new object() : null, timeout, what);

    /// <summary><c>local apply</c> of <paramref name="spec"/> to the running <c>local up</c>.</summary>
    public static async Task ApplyAsync(LocalUpProcess up, string spec)
    {
        var file = Path.Combine(up.Directory, $"spec-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, spec);
        var (code, output) = await RunAsync(up.Directory, "local", "apply", "-f", file, "--dir", "state");
        Xunit.Assert.True(code == 0, output);
    }

    /// <summary>Polls until <c>redis-cli --cluster check</c> reports every slot covered with no error or warning.</summary>
    public static async Task AssertClusterCheckCleanAsync(int port, string what)
    {
        var check = await PollAsync(
            async () => await RedisCliCheckAsync(port) is { Code: 0 } c && !c.Output.Contains("[ERR]", StringComparison.Ordinal) && !c.Output.Contains("[WARNING]", StringComparison.Ordinal) ? c.Output : null,
            TimeSpan.FromMinutes(4), what);
        Xunit.Assert.Contains("[OK] All 16384 slots covered", check);
    }

    /// <summary><c>redis-cli --cluster check</c> of the cluster that has a node on <paramref name="port"/>.</summary>
    public static async Task<(int Code, string Output)> RedisCliCheckAsync(int port)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "--cluster", "check", $"127.0.0.1:{port}" })
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }

    /// <summary>The operator's dll as built beside the tests.</summary>
    /// <summary>The lines of every member's node log about state changes, failovers and configuration, to explain a failure.</summary>
    public static string NodeLogExcerpts(LocalUpProcess up) => string.Join("\n", LocalState.Read(up.StateDirectory)?.Members.SelectMany(m =>
    {
        var log = Path.Combine(up.StateDirectory, m.Name, "node.log");
        return !File.Exists(log) ? [] : File.ReadLines(log)
            .Where(l => l.Contains("state changed", StringComparison.OrdinalIgnoreCase) || l.Contains("failover", StringComparison.OrdinalIgnoreCase)
                || l.Contains("Configuration change", StringComparison.Ordinal) || l.Contains("FAIL", StringComparison.Ordinal)
                || l.Contains("closed", StringComparison.OrdinalIgnoreCase) || l.Contains("error", StringComparison.OrdinalIgnoreCase))
            .Select(l => $"{m.Name}: {l}");
    }) ?? []);

    public static string OperatorDll => Path.Combine(AppContext.BaseDirectory, "cache-operator.dll");

    public static string TempDirectory() => Directory.CreateTempSubdirectory("cache-local-").FullName;

    public static async Task<(int Code, string Output)> RunAsync(string directory, params string[] arguments)
    {
        using var process = Start(directory, arguments);
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }

    public static Process Start(string directory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(OperatorDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start)!;
    }
}

/// <summary>A running <c>local up</c>: its output lines as they come; disposing brings everything down.</summary>
internal sealed class LocalUpProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    private readonly bool _ownsDirectory;

    private LocalUpProcess(Process process, string directory, bool ownsDirectory)
    {
        _process = process;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Directory { get; }

    public string StateDirectory => Path.Combine(Directory, "state");

    public Process Process => _process;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <c>local up</c> for <paramref name="specYaml"/> in a new directory, or in <paramref name="directory"/> of an
    /// earlier one (it adopts the nodes running there; that earlier one keeps owning the directory).
    /// </summary>
    public static LocalUpProcess Start(string specYaml, int basePort, string? nodeCommand = null, string? directory = null)
    {
        var ownsDirectory = directory is null;
        directory ??= LocalTestSupport.TempDirectory();
        File.WriteAllText(Path.Combine(directory, "cluster.yaml"), specYaml);
        var arguments = new List<string> { "local", "up", "-f", "cluster.yaml", "--dir", "state", "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (nodeCommand is not null)
        {
            arguments.AddRange(["--node-command", nodeCommand]);
        }
        return new LocalUpProcess(LocalTestSupport.Start(directory, arguments), directory, ownsDirectory);
    }

    /// <summary>Waits for the printed Ready line.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        try
        {
            await LocalTestSupport.PollAsync(
                () => Task.FromResult(_process.HasExited
                    ? throw new InvalidOperationException($"local up exited with {_process.ExitCode}:\n{Output}")
                    : Output.Split('\n').Any(l => l.StartsWith("Ready:", StringComparison.Ordinal))),
                timeout,
                "local up printing Ready:");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + Output, e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await LocalTestSupport.RunAsync(Directory, "local", "down", "--dir", "state");
            if (!_process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        if (!_ownsDirectory)
        {
            return;
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A node still writing its log; the temp directory is left behind.
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.Append(line).Append('\n');
        }
    }
}
