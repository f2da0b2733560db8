using System.Diagnostics;
using System.Runtime.InteropServices;
using CacheOperator.Client;

namespace CacheOperator.Operator.Local;

/// <summary>
/// Starting, probing and stopping node processes by pid. Nodes run in their own session (setsid), so a Ctrl-C in the
/// terminal reaches only <c>local up</c>, which stops them in order, and they outlive a crashed <c>local up</c>
/// (<c>local down</c> or the next <c>local up</c> finds them by pid).
/// </summary>
public static partial class NodeProcesses
{
    private const int SigTerm = 15;

    /// <summary>
    /// Starts <paramref name="command"/> <paramref name="arguments"/> in a new session with stdin from /dev/null and
    /// stdout and stderr appended to <paramref name="logFile"/>; returns its pid.
    /// </summary>
    public static int Start(string command, IReadOnlyList<string> arguments, string logFile, string workingDirectory)
    {
        // sh and setsid exec in place, so the pid we get is the node's.
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec setsid \"$0\" \"$@\" </dev/null >>\"$CACHE_NODE_LOG\" 2>&1");
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["CACHE_NODE_LOG"] = logFile;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        return process.Id;
    }

    /// <summary>
    /// Whether <paramref name="pid"/> is a live process whose command line mentions <paramref name="marker"/> (so a
    /// recycled pid is not taken for the node). redis-server rewrites its title to "redis-server 127.0.0.1:PORT".
    /// </summary>
    public static bool IsAlive(int pid, params string[] markers)
    {
        if (pid <= 0)
        {
            return false;
        }
        if (!OperatingSystem.IsLinux())
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.LastIndexOf(')') is var close and > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            if (state is 'Z' or 'X')
            {
                return false;
            }
            var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
            return markers.Length == 0 || markers.Any(m => commandLine.Contains(m, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Whether a node answers PING on 127.0.0.1:<paramref name="port"/> within a couple of seconds.</summary>
    public static async Task<bool> AnswersPingAsync(int port, string? password, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await RespConnection.ConnectAsync(Options(port, password), timeout.Token);
            var reply = await connection.ExecuteAsync(["PING"], timeout.Token);
            return !reply.IsError;
        }
        catch (Exception e) when (e is RespErrorReplyException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary>A node's replication role (ROLE): master, or replica of the master on <see cref="NodeRole.MasterPort"/>.</summary>
    /// <param name="Master">The node is a master.</param>
    /// <param name="MasterPort">A replica's master port (0 for a master).</param>
    public sealed record NodeRole(bool Master, int MasterPort);

    /// <summary>The node's role, or null when it does not answer.</summary>
    public static async Task<NodeRole?> RoleAsync(int port, string? password, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await RespConnection.ConnectAsync(Options(port, password), timeout.Token);
            var reply = await connection.ExecuteAsync(["ROLE"], timeout.Token);
            if (reply.IsError || reply.Count < 1)
            {
                return null;
            }
            var role = reply[0].AsString();
            return role == "master"
                ? new NodeRole(true, 0)
                : new NodeRole(false, reply.Count > 2 ? (int)reply[2].AsInt64() : 0);
        }
        catch (Exception e) when (e is RespErrorReplyException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException or FormatException or InvalidOperationException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return null;
        }
    }

    /// <summary>
    /// Stops a node cleanly: SHUTDOWN over RESP, then SIGTERM, then SIGKILL, each after its own wait; returns how it
    /// went ("shutdown", "sigterm", "killed" or "not running").
    /// </summary>
    public static async Task<string> StopAsync(int pid, int port, string? password, string[] markers, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (!IsAlive(pid, markers))
        {
            return "not running";
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            await using var connection = await RespConnection.ConnectAsync(Options(port, password), timeout.Token);
            await connection.ExecuteAsync(["SHUTDOWN"], timeout.Token);
        }
        catch (Exception e) when (e is RespErrorReplyException or IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException)
        {
            // The connection closing is SHUTDOWN succeeding; anything else falls through to the signals.
            cancellationToken.ThrowIfCancellationRequested();
        }
        if (await ExitedAsync(pid, markers, wait, cancellationToken))
        {
            return "shutdown";
        }
        _ = Kill(pid, SigTerm);
        if (await ExitedAsync(pid, markers, wait, cancellationToken))
        {
            return "sigterm";
        }
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone meanwhile.
        }
        await ExitedAsync(pid, markers, wait, cancellationToken);
        return "killed";
    }

    /// <summary>Sends SIGTERM to <paramref name="pid"/>; false when there is no such process.</summary>
    public static bool Terminate(int pid) => pid > 0 && Kill(pid, SigTerm) == 0;

    /// <summary>Polls until the process is gone or <paramref name="wait"/> passes.</summary>
    public static async Task<bool> ExitedAsync(int pid, string[] markers, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (IsAlive(pid, markers))
        {
            if (deadline.Elapsed > wait)
            {
                return false;
            }
            await Task.Delay(100, cancellationToken);
        }
        return true;
    }

    private static RespConnectionOptions Options(int port, string? password) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        Password = password,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        CommandTimeout = TimeSpan.FromSeconds(3),
    };

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
