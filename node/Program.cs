using System.Reflection;
using System.Runtime.InteropServices;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Server;

namespace CacheOperator.Node;

/// <summary>Entry point: reads the configuration, serves until SHUTDOWN or SIGTERM, exits 0.</summary>
public static class Program
{
    /// <summary>Version reported by --version and INFO.</summary>
    public static string Version => typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Runs the node.</summary>
    public static async Task<int> Main(string[] args)
    {
        UseInlineSocketCompletions();
        if (args is ["--version" or "-v"])
        {
            Console.WriteLine($"cache-node {Version} (redis_version {ServerInfo.RedisVersion})");
            return 0;
        }
        if (args is ["--commands-markdown"])
        {
            Console.Write(Commands.CommandReference.Markdown(new Commands.CommandTable()));
            return 0;
        }
        if (args is ["--metrics-markdown"])
        {
            Console.Write(NodeMetrics.MarkdownTable());
            return 0;
        }
        if (args is ["--help" or "-h"])
        {
            Console.WriteLine("Usage: cache-node [/path/to/redis.conf] [--config FILE] [--directive value ...]");
            Console.WriteLine("Examples: cache-node --port 7000 --bind 127.0.0.1 --maxmemory 100mb");
            return 0;
        }
        var config = new NodeConfig();
        try
        {
            ConfigLoader.Load(config, args);
        }
        catch (ConfigException e)
        {
            // Redis's own text (its fatal config file error, or the file it cannot open), which tools look for.
            Console.Error.WriteLine(e.Message);
            return 1;
        }

        var log = new NodeLog { Format = config.LogFormat.Text == "json" ? LogFormat.Json : LogFormat.Text };
        log.MinimumLevel = Enum.Parse<LogLevel>(config.LogLevel.Text, ignoreCase: true);
        config.LogLevel.Changed += d => log.MinimumLevel = Enum.Parse<LogLevel>(d.Text, ignoreCase: true);
        var server = new NodeServer(config, log);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is IOException or ConfigException)
        {
            log.Warning(e.Message);
            return 1;
        }
        MetricsHost? metrics = null;
        int metricsPort = (int)config.MetricsPort.Number;
        if (metricsPort > 0)
        {
            try
            {
                metrics = await MetricsHost.StartAsync(server, metricsPort);
                log.Event(LogLevel.Notice, "metrics_listening", "Serving /metrics, /healthz and /readyz", ("metrics_port", metricsPort));
            }
            catch (IOException e)
            {
                // The cache still serves; the failing readiness probe makes the problem visible in Kubernetes.
                log.Event(LogLevel.Warning, "metrics_failed", "Could not serve metrics", ("metrics_port", metricsPort), ("error", e.Message));
            }
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx =>
        {
            ctx.Cancel = true;
            ShutdownOnSignal(server, "SIGTERM");
        });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx =>
        {
            ctx.Cancel = true;
            ShutdownOnSignal(server, "SIGINT");
        });
        await server.Stopped;
        if (metrics is not null)
        {
            await metrics.DisposeAsync();
        }
        return 0;
    }

    /// <summary>As Redis's prepareForShutdown on a signal: saves when save rules are set; a failed save keeps the server running.</summary>
    private static void ShutdownOnSignal(NodeServer server, string signal)
    {
        lock (server.Keyspace.Sync)
        {
            if (!server.Snapshots.SaveBeforeShutdown(save: null))
            {
                server.Log.Warning($"{signal} received but errors trying to shut down the server, check the logs for more information");
                return;
            }
            server.RequestShutdown($"received {signal}");
        }
    }

    /// <summary>
    /// The threading model, chosen with tests/bench/compare.sh: one event loop, as Redis. Socket
    /// continuations run on the runtime's epoll thread instead of hopping to the thread pool (the hop cost
    /// about a quarter of the CPU per unpipelined request), and there is one such thread: commands run
    /// under one lock anyway, and a second loop only added lock handoffs and context switches (CPU per
    /// request +14%, p99 3.7 ms instead of 1.0 ms on 2 cores). Command handlers never block, so nothing
    /// stalls the loop. The runtime reads these variables once, when the first socket is created; an
    /// explicit setting in the environment is kept.
    /// </summary>
    private static void UseInlineSocketCompletions()
    {
        SetDefault("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        SetDefault("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", "1");

        static void SetDefault(string name, string value)
        {
            if (Environment.GetEnvironmentVariable(name) is null)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}
