using System.Globalization;
using CacheOperator.Client;
using Spectre.Console;

namespace CacheOperator.Operator.Local;

/// <summary><c>local status</c>, <c>local apply</c> and <c>local down</c>: they act on the state directory of a <c>local up</c>.</summary>
public static class LocalCommands
{
    /// <summary>How long <c>local down</c> waits for <c>local up</c> to stop its nodes.</summary>
    public static readonly TimeSpan DownWait = TimeSpan.FromSeconds(120);

    /// <summary>Prints shards, masters, replicas, slots, keys, memory and ops/s as the nodes report them.</summary>
    public static async Task<int> StatusAsync(string directory, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var state = ReadState(directory, errors);
        if (state is null)
        {
            return 2;
        }
        var password = Environment.GetEnvironmentVariable(LocalOptions.PasswordVariable);
        var nodes = await Task.WhenAll(state.Members.OrderBy(m => m.Shard).ThenBy(m => m.Ordinal).Select(m => ReadNodeAsync(m, password, cancellationToken)));
        var byId = nodes.Where(n => n.Id is not null).ToDictionary(n => n.Id!, n => n.Member.Name);
        var up = state.OperatorPid > 0 && NodeProcesses.IsAlive(state.OperatorPid, "local");
        await output.WriteLineAsync($"cluster {state.Cluster ?? "?"} in {Path.GetFullPath(directory)}: local up {(up ? $"running (pid {state.OperatorPid}), phase {state.Phase ?? "?"}" : "not running")}");
        var clusterState = nodes.Select(n => n.ClusterState).FirstOrDefault(s => s is not null) ?? "unknown";
        await output.WriteLineAsync($"cluster_state {clusterState}, {nodes.Count(n => n.Up)}/{nodes.Length} nodes answering, {nodes.Where(n => n.Role == "master").Sum(n => n.Keys)} keys");
        var table = new Table().Border(TableBorder.Simple).AddColumns("shard", "node", "port", "role", "slots", "keys", "memory", "ops/s");
        foreach (var node in nodes)
        {
            var role = !node.Up ? "down" : node.Role == "master" ? "master" : $"replica of {(node.MasterId is { } id && byId.TryGetValue(id, out var name) ? name : node.MasterId ?? "?")}";
            table.AddRow(
                node.Member.Shard.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(node.Member.Name),
                node.Member.Port.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(role),
                Markup.Escape(node.Slots),
                node.Up ? node.Keys.ToString(CultureInfo.InvariantCulture) : "-",
                Markup.Escape(node.Memory ?? "-"),
                node.Up ? node.OpsPerSecond.ToString(CultureInfo.InvariantCulture) : "-");
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = Math.Max(console.Profile.Width, 140);
        console.Write(table);
        return 0;
    }

    /// <summary>Writes a new spec for the running <c>local up</c>, which applies it.</summary>
    public static async Task<int> ApplyAsync(string file, string directory, TextWriter output, TextWriter errors)
    {
        var cluster = LocalSpec.Load(file, out var error);
        if (cluster is null)
        {
            await errors.WriteLineAsync(error);
            return 2;
        }
        var state = ReadState(directory, errors);
        if (state is null)
        {
            return 2;
        }
        if (state.OperatorPid <= 0 || !NodeProcesses.IsAlive(state.OperatorPid, "local"))
        {
            await errors.WriteLineAsync($"no local up runs in {Path.GetFullPath(directory)}; start one with `local up -f {file} --dir {directory}`");
            return 2;
        }
        if (state.Cluster is { } name && name != cluster.Metadata.Name)
        {
            await errors.WriteLineAsync($"{file} names cluster {cluster.Metadata.Name}, but {Path.GetFullPath(directory)} runs cluster {name}");
            return 2;
        }
        var path = Path.Combine(Path.GetFullPath(directory), LocalUp.AppliedSpecFile);
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        await File.WriteAllTextAsync(temporary, await File.ReadAllTextAsync(file));
        File.Move(temporary, path, overwrite: true);
        await output.WriteLineAsync($"Applied: local up (pid {state.OperatorPid}) now reconciles cluster {cluster.Metadata.Name} to {cluster.Spec.Shards} shards x {cluster.Spec.ReplicasPerShard} replicas; follow it with `local status --dir {directory}`");
        return 0;
    }

    /// <summary>Stops the cluster: signals <c>local up</c> to stop its nodes, or stops the nodes itself when it is gone.</summary>
    public static async Task<int> DownAsync(string directory, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var state = ReadState(directory, errors);
        if (state is null)
        {
            return 2;
        }
        var full = Path.GetFullPath(directory);
        if (state.OperatorPid > 0 && NodeProcesses.IsAlive(state.OperatorPid, "local"))
        {
            await output.WriteLineAsync($"Stopping local up (pid {state.OperatorPid})...");
            NodeProcesses.Terminate(state.OperatorPid);
            if (!await NodeProcesses.ExitedAsync(state.OperatorPid, ["local"], DownWait, cancellationToken))
            {
                await errors.WriteLineAsync($"local up (pid {state.OperatorPid}) did not stop within {DownWait.TotalSeconds:F0} s; stopping the nodes directly");
            }
            state = LocalState.Read(full) ?? state;
        }
        var runtime = new LocalNodeRuntime(new LocalOptions(full, state.BasePort > 0 ? state.BasePort : LocalOptions.DefaultBasePort));
        var password = Environment.GetEnvironmentVariable(LocalOptions.PasswordVariable);
        var running = runtime.Members.Where(m => NodeProcesses.IsAlive(m.Pid, runtime.Markers(m))).ToList();
        await runtime.StopAllAsync(string.IsNullOrEmpty(password) ? null : password, cancellationToken);
        runtime.UpdateState(s =>
        {
            s.OperatorPid = 0;
            s.Phase = "Stopped";
        });
        await output.WriteLineAsync(running.Count == 0
            ? $"Down: no node of {state.Cluster ?? "the cluster"} runs ({full} keeps its state; remove it to start afresh)"
            : $"Down: stopped {running.Count} node(s) of {state.Cluster ?? "the cluster"} ({full} keeps its state; remove it to start afresh)");
        return 0;
    }

    private static LocalState? ReadState(string directory, TextWriter errors)
    {
        try
        {
            var state = LocalState.Read(Path.GetFullPath(directory));
            if (state is null)
            {
                errors.WriteLine($"no local cluster in {Path.GetFullPath(directory)} (no {LocalState.FileName}); start one with `local up -f FILE --dir {directory}`");
            }
            return state;
        }
        catch (InvalidOperationException e)
        {
            errors.WriteLine(e.Message);
            return null;
        }
    }

    private sealed record NodeView(LocalMember Member, bool Up, string? Id, string? Role, string? MasterId, string Slots, long Keys, string? Memory, long OpsPerSecond, string? ClusterState);

    private static async Task<NodeView> ReadNodeAsync(LocalMember member, string? password, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions
            {
                Host = "127.0.0.1",
                Port = member.Port,
                Password = string.IsNullOrEmpty(password) ? null : password,
                ConnectTimeout = TimeSpan.FromSeconds(3),
                CommandTimeout = TimeSpan.FromSeconds(5),
            }, timeout.Token);
            var info = Fields((await connection.ExecuteAsync(["INFO", "all"], timeout.Token)).ThrowIfError().AsString() ?? "");
            var nodes = (await connection.ExecuteAsync(["CLUSTER", "NODES"], timeout.Token)).ThrowIfError().AsString() ?? "";
            var clusterInfo = Fields((await connection.ExecuteAsync(["CLUSTER", "INFO"], timeout.Token)).ThrowIfError().AsString() ?? "");
            var myself = nodes.Split('\n').Select(l => l.Split(' ')).FirstOrDefault(f => f.Length >= 8 && f[2].Split(',').Contains("myself"));
            var keys = info.Where(p => p.Key.StartsWith("db", StringComparison.Ordinal) && p.Value.StartsWith("keys=", StringComparison.Ordinal))
                .Sum(p => long.Parse(p.Value.Split(',')[0]["keys=".Length..], CultureInfo.InvariantCulture));
            var isMaster = myself?[2].Split(',').Contains("master") ?? info.GetValueOrDefault("role") == "master";
            return new NodeView(
                member,
                Up: true,
                Id: myself?[0],
                Role: isMaster ? "master" : "replica",
                MasterId: myself is { } f && f[3] != "-" ? f[3] : null,
                Slots: myself is { Length: > 8 } s ? string.Join(" ", s[8..].Where(x => x.Length > 0)) : "",
                Keys: keys,
                Memory: info.GetValueOrDefault("used_memory_human"),
                OpsPerSecond: long.TryParse(info.GetValueOrDefault("instantaneous_ops_per_sec"), CultureInfo.InvariantCulture, out var ops) ? ops : 0,
                ClusterState: clusterInfo.GetValueOrDefault("cluster_state"));
        }
        catch (Exception e) when (e is IOException or RespErrorReplyException or OperationCanceledException or System.Net.Sockets.SocketException or TimeoutException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new NodeView(member, false, null, null, null, "", 0, null, 0, null);
        }
    }

    private static Dictionary<string, string> Fields(string text) => text.Split('\n')
        .Select(l => l.TrimEnd('\r'))
        .Where(l => l.Length > 0 && l[0] != '#' && l.Contains(':'))
        .Select(l => l.Split(':', 2))
        .GroupBy(p => p[0])
        .ToDictionary(g => g.Key, g => g.First()[1]);
}
