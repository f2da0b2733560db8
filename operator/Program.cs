using System.CommandLine;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Monitoring;
using Microsoft.Extensions.Logging;

namespace CacheOperator.Operator;

/// <summary>Entry point: <c>cache-operator run</c> runs the controller, <c>cache-operator crds</c> writes the CRD, <c>cache-operator local</c> runs a cluster on this machine.</summary>
public static class Program
{
    /// <summary>Parses the command line and runs the verb.</summary>
    public static Task<int> Main(string[] args) => BuildCommand().Parse(args).InvokeAsync(new InvocationConfiguration
    {
        // After Ctrl-C or SIGTERM, System.CommandLine ends the process after this long: local mode needs time to stop its nodes.
        ProcessTerminationTimeout = args is ["local", ..] ? Local.LocalVerbs.TerminationTimeout : TimeSpan.FromSeconds(2),
    });

    /// <summary>The command tree (exposed for tests).</summary>
    public static RootCommand BuildCommand()
    {
        var root = new RootCommand("cache-operator: runs CacheClusters (cacheoperator.io/v1alpha1) on Kubernetes");

        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "kubeconfig file (default: in-cluster config, then ~/.kube/config)" };
        var ns = new Option<string?>("--namespace") { Description = "Namespace to watch (default: all namespaces)" };
        var metricsPort = new Option<int>("--metrics-port") { Description = "Port of /metrics, /healthz and /readyz", DefaultValueFactory = _ => 8080 };
        var leaderElect = new Option<bool>("--leader-elect") { Description = "Reconcile only while holding the Lease cache-operator-leader, so several replicas can run" };
        var workers = new Option<int>("--workers") { Description = "Concurrent reconciles", DefaultValueFactory = _ => 2 };
        var resync = new Option<int>("--resync-seconds") { Description = "Reconcile every cluster at least this often", DefaultValueFactory = _ => 300 };
        var watchNamespaces = new Option<string?>("--watch-namespaces") { Description = "Comma-separated namespaces to watch, each with its own informers (a namespace-scoped install); default: --namespace, else all" };
        watchNamespaces.Validators.Add(result =>
        {
            if (ParseNamespaces(result.GetValueOrDefault<string?>()) is { } bad)
            {
                result.AddError(bad);
            }
        });
        var logLevel = new Option<LogLevel>("--log-level") { Description = "Least severe log level written: Trace, Debug, Information, Warning, Error, Critical", DefaultValueFactory = _ => LogLevel.Information };
        var run = new Command("run", "Run the controller") { kubeconfig, ns, watchNamespaces, metricsPort, leaderElect, workers, resync, logLevel };
        run.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(kubeconfig), new ControllerOptions(parse.GetValue(ns), Math.Max(1, parse.GetValue(workers)), TimeSpan.FromSeconds(parse.GetValue(resync)))
            {
                WatchNamespaces = SplitNamespaces(parse.GetValue(watchNamespaces)),
            },
            parse.GetValue(metricsPort), parse.GetValue(leaderElect), parse.GetValue(logLevel), cancellationToken));
        root.Subcommands.Add(run);

        var output = new Option<string>("--output", "-o") { Description = "Directory to write " + CacheClusterResource.CrdFileName + " into", DefaultValueFactory = _ => "crds" };
        var crds = new Command("crds", "Write the CacheCluster CustomResourceDefinition generated from the C# types") { output };
        crds.SetAction(parse =>
        {
            Console.WriteLine(CrdGenerator.WriteTo(parse.GetValue(output)!));
            return 0;
        });
        root.Subcommands.Add(crds);
        root.Subcommands.Add(Local.LocalVerbs.Build());

        var includeOutput = new Option<string>("--output", "-o") { Description = "The config file to write", Required = true };
        var authInclude = new Command(AuthInclude.CommandName, $"Write requirepass/masterauth from ${Manifests.PasswordVariable} into a config file the node includes (the cache pods' init container)") { includeOutput };
        authInclude.SetAction(parse => AuthInclude.Write(parse.GetValue(includeOutput)!, Environment.GetEnvironmentVariable(Manifests.PasswordVariable), Console.Error));
        root.Subcommands.Add(authInclude);

        root.Subcommands.Add(Topology.ReshardVerb.Build());
        return root;
    }

    /// <summary>The namespaces of --watch-namespaces ("a,b"), trimmed, without empties or duplicates.</summary>
    public static IReadOnlyList<string> SplitNamespaces(string? text) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The loggers of <c>run</c>: one line per entry, at least <paramref name="level"/>.</summary>
    public static ILoggerFactory CreateLoggers(LogLevel level) =>
        LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(level));

    private static string? ParseNamespaces(string? text) =>
        SplitNamespaces(text).FirstOrDefault(n => n.Length > 63 || !System.Text.RegularExpressions.Regex.IsMatch(n, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")) is { } bad
            ? $"--watch-namespaces: \"{bad}\" is not a namespace name (a DNS-1123 label: lower-case letters, digits and '-', at most 63)"
            : null;

    private static async Task<int> RunAsync(string? kubeconfig, ControllerOptions options, int metricsPort, bool leaderElect, LogLevel logLevel, CancellationToken cancellationToken)
    {
        using var loggers = CreateLoggers(logLevel);
        var logger = loggers.CreateLogger("cache-operator");
        using var metrics = new OperatorMetrics();
        OperatorRunner? runner = null;
        var server = await MetricsServer.StartAsync(metricsPort, metrics, cancellationToken, () => OperatorRunner.Readiness(metrics.IsLeader, runner?.InformersSynced ?? false));
        try
        {
            KubernetesClientApi api;
            try
            {
                api = KubernetesClientApi.Connect(kubeconfig);
            }
            catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or FileNotFoundException)
            {
                logger.LogError("No usable Kubernetes configuration: {Message}", e.Message);
                return 2;
            }
            runner = new OperatorRunner(api, new Topology.TopologyManager(), options, metrics, loggers);
            if (!leaderElect)
            {
                metrics.SetLeader(true);
                await runner.RunControllerAsync(cancellationToken);
                return 0;
            }
            var leaseNamespace = Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? options.Namespace ?? "default";
            var identity = Environment.GetEnvironmentVariable("POD_NAME") ?? $"{Environment.MachineName}-{Guid.NewGuid():N}"[..24];
            var stopped = await OperatorRunner.RunAsLeaderAsync(api, leaseNamespace, "cache-operator-leader", identity, metrics, logger, runner.RunControllerAsync, cancellationToken);
            if (!stopped)
            {
                logger.LogError("Lost leadership; exiting so a fresh process campaigns again");
                return 1;
            }
            return 0;
        }
        finally
        {
            await server.StopAsync(CancellationToken.None);
            await server.DisposeAsync();
        }
    }
}
