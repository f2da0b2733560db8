using System.Diagnostics;

namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>A real redis-server (Debian's, 7.0) on a free loopback port, the reference our replies are compared with.</summary>
public sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>Its port.</summary>
    public int Port { get; }

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts redis-server without persistence; extra directives as "--name", "value".</summary>
    public static RedisServerProcess Start(params string[] options)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return StartOn(NodeProcess.FreePort(), null, options);
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or InvalidOperationException && attempt < 3)
            {
                // A port picked free (or, in cluster mode, its port + 10000) was taken before redis-server bound it: other ports.
            }
        }
    }

    /// <summary>Starts redis-server on <paramref name="port"/>, in <paramref name="workingDirectory"/> when given, and waits until it answers.</summary>
    public static RedisServerProcess StartOn(int port, string? workingDirectory, params string[] options) =>
        StartOn(port, workingDirectory, null, options);

    /// <summary>Starts redis-server on <paramref name="port"/> reading <paramref name="configFile"/> first (CONFIG REWRITE's file), then the options.</summary>
    public static RedisServerProcess StartWithConfigFile(int port, string configFile, params string[] options) =>
        StartOn(port, Path.GetDirectoryName(configFile), configFile, options);

    private static RedisServerProcess StartOn(int port, string? workingDirectory, string? configFile, string[] options)
    {
        var info = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        if (configFile is not null)
        {
            info.ArgumentList.Add(configFile);
        }
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }.Concat(options))
        {
            info.ArgumentList.Add(arg);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            WaitUntilAnswering(process, port);
        }
        catch
        {
            // A server too slow to answer (or on a port taken meanwhile) must not outlive the caller that gives up on it.
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit();
            }
            process.Dispose();
            throw;
        }
        return new RedisServerProcess(process, port);
    }

    private static void WaitUntilAnswering(Process process, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new RespClient(port);
                // With requirepass the server is ready when it refuses PING for want of AUTH.
                var reply = probe.Call("PING").Text;
                if (reply == "PONG" || reply?.StartsWith("NOAUTH", StringComparison.Ordinal) == true)
                {
                    break;
                }
                if (DateTime.UtcNow > deadline || process.HasExited)
                {
                    throw new InvalidOperationException($"redis-server on port {port} is not ready: {reply}");
                }
                Thread.Sleep(50);
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>A new raw client.</summary>
    public RespClient Client() => new(Port);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
        _process.Dispose();
    }
}

/// <summary>
/// One real redis-server and one node, shared by a test class, for differential tests: the same
/// commands go to both and every reply must be identical, type and bytes.
/// </summary>
public sealed class RedisAndNode : IAsyncLifetime
{
    /// <summary>The reference server.</summary>
    public RedisServerProcess Redis { get; private set; } = null!;

    /// <summary>Our node.</summary>
    public TestNode Node { get; private set; } = null!;

    /// <inheritdoc/>
    public Task InitializeAsync()
    {
        Redis = RedisServerProcess.Start();
        Node = TestNode.Start();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async Task DisposeAsync()
    {
        Redis.Dispose();
        await Node.DisposeAsync();
    }

    /// <summary>
    /// Runs each command on both servers (fresh connections, both flushed first, RESP2 or RESP3) and
    /// asserts identical replies; returns the replies for further checks.
    /// </summary>
    public IReadOnlyList<RespValue> AssertSameReplies(int protocol, params string[][] commands) => AssertSameReplies(protocol, null, commands);

    /// <summary>
    /// As <see cref="AssertSameReplies(int, string[][])"/>, with each reply first passed through
    /// <paramref name="normalize"/> (for example to sort members whose order is not part of the contract).
    /// </summary>
    public IReadOnlyList<RespValue> AssertSameReplies(int protocol, Func<string[], RespValue, RespValue>? normalize, params string[][] commands)
    {
        using var redis = Redis.Client();
        using var node = Node.Client();
        foreach (var client in new[] { redis, node })
        {
            client.Call("FLUSHALL");
            if (protocol == 3)
            {
                client.Call("HELLO", "3");
            }
        }
        var replies = new List<RespValue>();
        foreach (var command in commands)
        {
            var expected = redis.Call(command);
            var actual = node.Call(command);
            if (normalize is not null)
            {
                expected = normalize(command, expected);
                actual = normalize(command, actual);
            }
            Assert.True(Same(expected, actual) || SameTimeLeft(command, expected, actual), $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
            replies.Add(actual);
        }
        return replies;
    }

    /// <summary>
    /// TTL and PTTL read a clock that moves between the two servers' replies: on a loaded machine a
    /// remaining time may differ by one rounding step, which is not a difference in behaviour.
    /// </summary>
    private static bool SameTimeLeft(string[] command, RespValue a, RespValue b)
    {
        if (a.Kind != RespKind.Integer || b.Kind != RespKind.Integer || a.Integer <= 0 || b.Integer <= 0)
        {
            return false;
        }
        long step = command[0].ToUpperInvariant() switch { "TTL" => 1, "PTTL" => 1000, _ => 0 };
        return Math.Abs(a.Integer - b.Integer) <= step;
    }

    /// <summary>RESP2 differential run.</summary>
    public IReadOnlyList<RespValue> AssertSameReplies(params string[][] commands) => AssertSameReplies(2, commands);

    private static bool Same(RespValue a, RespValue b)
    {
        if (a.Kind != b.Kind || a.Integer != b.Integer)
        {
            return false;
        }
        if (!(a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? []))
        {
            return false;
        }
        var ai = a.Items ?? [];
        var bi = b.Items ?? [];
        return ai.Count == bi.Count && ai.Zip(bi).All(p => Same(p.First, p.Second));
    }
}
