using System.CommandLine;

namespace CacheOperator.Operator.Local;

/// <summary>The <c>local</c> verb and its subcommands (up, status, apply, down); the work is in <see cref="LocalUp"/> and <see cref="LocalCommands"/>.</summary>
public static class LocalVerbs
{
    /// <summary>How long <c>local up</c> may take to stop its nodes after Ctrl-C or SIGTERM (each node: SHUTDOWN, SIGTERM, SIGKILL).</summary>
    public static readonly TimeSpan TerminationTimeout = TimeSpan.FromSeconds(90);

    /// <summary>The <c>local</c> command tree.</summary>
    public static Command Build()
    {
        var local = new Command("local", "Run a CacheCluster on this machine: the same reconciler and topology code, with node processes on loopback ports instead of pods");

        Option<string> Dir() => new("--dir") { Description = "State directory: state.json, the applied spec and a data directory per node", DefaultValueFactory = _ => LocalOptions.DefaultDirectory };
        Option<string> File(string what) => new("--file", "-f") { Description = what, Required = true };

        var upFile = File("CacheCluster YAML file (e.g. examples/cachecluster.yaml)");
        var upDir = Dir();
        var basePort = new Option<int>("--base-port") { Description = "First RESP port; node i gets the next free port, its cluster bus port is port + 10000", DefaultValueFactory = _ => LocalOptions.DefaultBasePort };
        var nodeCommand = new Option<string?>("--node-command") { Description = "Executable to run each node with its config file instead of `dotnet cache-node.dll` (e.g. redis-server)" };
        var up = new Command("up", $"Start the cluster and keep it running and healed until Ctrl-C or `local down`. spec.auth needs {LocalOptions.PasswordVariable} set to the password (Secrets cannot be read locally)")
        {
            upFile, upDir, basePort, nodeCommand,
        };
        up.SetAction(async (parse, cancellationToken) =>
        {
            var port = parse.GetValue(basePort);
            if (port is < 1024 or > 55535)
            {
                await Console.Error.WriteLineAsync($"--base-port {port}: use 1024-55535 (each node also listens on its port + 10000)");
                return 2;
            }
            var options = new LocalOptions(parse.GetValue(upDir)!, port, parse.GetValue(nodeCommand));
            var interactive = !Console.IsOutputRedirected && Spectre.Console.AnsiConsole.Profile.Capabilities.Interactive;
            return await new LocalUp(options, parse.GetValue(upFile)!, Console.Out, Console.Error, interactive).RunAsync(cancellationToken);
        });
        local.Subcommands.Add(up);

        var statusDir = Dir();
        var status = new Command("status", "Print shards, masters, replicas, slots, keys, memory and ops/s as the nodes report them") { statusDir };
        status.SetAction((parse, cancellationToken) => LocalCommands.StatusAsync(parse.GetValue(statusDir)!, Console.Out, Console.Error, cancellationToken));
        local.Subcommands.Add(status);

        var applyFile = File("CacheCluster YAML file with the new spec");
        var applyDir = Dir();
        var apply = new Command("apply", "Change the spec of the running cluster (the running `local up` applies it)") { applyFile, applyDir };
        apply.SetAction(parse => LocalCommands.ApplyAsync(parse.GetValue(applyFile)!, parse.GetValue(applyDir)!, Console.Out, Console.Error));
        local.Subcommands.Add(apply);

        var downDir = Dir();
        var down = new Command("down", "Stop the cluster: signal `local up`, or stop the nodes in the state when it is gone") { downDir };
        down.SetAction((parse, cancellationToken) => LocalCommands.DownAsync(parse.GetValue(downDir)!, Console.Out, Console.Error, cancellationToken));
        local.Subcommands.Add(down);
        return local;
    }
}
