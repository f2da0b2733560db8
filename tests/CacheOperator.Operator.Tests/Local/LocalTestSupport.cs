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

    /// <summary>The operator's dll as built beside the tests.</summary>
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

    private LocalUpProcess(Process process, string directory)
    {
        _process = process;
        Directory = directory;
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

    public static LocalUpProcess Start(string specYaml, int basePort, string? nodeCommand = null)
    {
        var directory = LocalTestSupport.TempDirectory();
        File.WriteAllText(Path.Combine(directory, "cluster.yaml"), specYaml);
        var arguments = new List<string> { "local", "up", "-f", "cluster.yaml", "--dir", "state", "--base-port", basePort.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (nodeCommand is not null)
        {
            arguments.AddRange(["--node-command", nodeCommand]);
        }
        return new LocalUpProcess(LocalTestSupport.Start(directory, arguments), directory);
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
