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
        var run = new Command("run", "Run the controller") { kubeconfig, ns, metricsPort, leaderElect, workers, resync };
        run.SetAction((parse, cancellationToken) => RunAsync(
            parse.GetValue(kubeconfig), parse.GetValue(ns), parse.GetValue(metricsPort), parse.GetValue(leaderElect),
            parse.GetValue(workers), TimeSpan.FromSeconds(parse.GetValue(resync)), cancellationToken));
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

    private static async Task<int> RunAsync(string? kubeconfig, string? watchNamespace, int metricsPort, bool leaderElect, int workers, TimeSpan resync, CancellationToken cancellationToken)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        var logger = loggers.CreateLogger("cache-operator");
        using var metrics = new OperatorMetrics();
        var server = await MetricsServer.StartAsync(metricsPort, metrics, cancellationToken);
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
            var runner = new OperatorRunner(api, new Topology.TopologyManager(), new ControllerOptions(watchNamespace, Math.Max(1, workers), resync), metrics, loggers);
            if (!leaderElect)
            {
                metrics.SetLeader(true);
                await runner.RunControllerAsync(cancellationToken);
                return 0;
            }
            var leaseNamespace = Environment.GetEnvironmentVariable("POD_NAMESPACE") ?? watchNamespace ?? "default";
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
