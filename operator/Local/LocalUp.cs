using System.Collections.Concurrent;
using System.Globalization;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Monitoring;
using CacheOperator.Operator.Reconcile;
using CacheOperator.Operator.Topology;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CacheOperator.Operator.Local;

/// <summary>
/// <c>local up</c>: the operator's reconciler, controller and topology manager over an in-memory store and node
/// processes; shows the cluster forming, prints its endpoints once Ready, then keeps it healed and applies specs that
/// <c>local apply</c> writes, until Ctrl-C or SIGTERM stops the nodes.
/// </summary>
public sealed class LocalUp(LocalOptions options, string specFile, TextWriter output, TextWriter errors, bool interactive)
{
    /// <summary>The spec file <c>local apply</c> writes into the state directory and <c>local up</c> watches.</summary>
    public const string AppliedSpecFile = "spec.yaml";

    /// <summary>The line printed once the cluster is Ready starts with this.</summary>
    public const string ReadyPrefix = "Ready:";

    private static readonly TimeSpan SpecPoll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DisplayPoll = TimeSpan.FromMilliseconds(500);

    private readonly ConcurrentQueue<string> _lines = new();

    /// <summary>Runs until <paramref name="cancellationToken"/> fires; returns the exit code.</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var cluster = LocalSpec.Load(specFile, out var error);
        if (cluster is null)
        {
            await errors.WriteLineAsync(error);
            return 2;
        }
        var directory = Path.GetFullPath(options.Directory);
        var previous = LocalState.Read(directory);
        if (previous is { OperatorPid: > 0 } && previous.OperatorPid != Environment.ProcessId && NodeProcesses.IsAlive(previous.OperatorPid, "local"))
        {
            await errors.WriteLineAsync($"local up (pid {previous.OperatorPid}) already runs a cluster in {directory}; stop it with `local down --dir {options.Directory}` or use another --dir");
            return 2;
        }
        if (previous is { Cluster: { } other, Members.Count: > 0 } && other != cluster.Metadata.Name)
        {
            await errors.WriteLineAsync($"{directory} holds the nodes of cluster {other}, not {cluster.Metadata.Name}; use another --dir");
            return 2;
        }
        if (options.NodeCommand is null)
        {
            try
            {
                LocalNodeRuntime.NodeDll();
            }
            catch (FileNotFoundException e)
            {
                await errors.WriteLineAsync(e.Message);
                return 2;
            }
        }

        var key = LocalClusterStore.KeyOf(cluster);
        var runtime = new LocalNodeRuntime(options);
        var appliedSpec = Path.Combine(directory, AppliedSpecFile);
        var specText = await File.ReadAllTextAsync(specFile, cancellationToken);
        await WriteAtomicallyAsync(appliedSpec, specText);
        runtime.UpdateState(s =>
        {
            s.OperatorPid = Environment.ProcessId;
            s.SpecFile = Path.GetFullPath(specFile);
            s.Cluster = key.Name;
            s.Namespace = key.Namespace;
            s.Phase = null;
        });

        var store = new LocalClusterStore(eventSink: (_, e) => _lines.Enqueue($"{e.Time.ToLocalTime():HH:mm:ss} {e.Type,-7} {e.Reason}: {e.Message}"));
        store.Create(cluster);
        using var metrics = new OperatorMetrics();
        var reconciler = new CacheClusterReconciler(store, runtime, new TopologyManager(), metrics);
        using var queue = new WorkQueue<ClusterKey>(maxDelay: TimeSpan.FromSeconds(10));
        var controller = new Controller(reconciler, queue, metrics, new LineLogger(_lines));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = DateTimeOffset.UtcNow;
        var controllerTask = controller.RunAsync(1, stop.Token);
        queue.Add(key);
        var watcher = WatchSpecAsync(appliedSpec, specText, store, queue, key, stop.Token);

        try
        {
            await ShowUntilReadyAsync(store, runtime, key, stop.Token);
            if (!stop.IsCancellationRequested)
            {
                var current = await store.GetClusterAsync(key, CancellationToken.None);
                await PrintEndpointsAsync(current!, runtime, DateTimeOffset.UtcNow - started);
                await FollowAsync(store, runtime, key, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Ctrl-C or SIGTERM: stop below.
        }

        await output.WriteLineAsync("Stopping: the nodes shut down cleanly (state and ports are kept in " + directory + ")");
        await stop.CancelAsync();
        queue.ShutDown();
        await IgnoreCancellationAsync(controllerTask);
        await IgnoreCancellationAsync(watcher);
        await runtime.StopAllAsync(LocalOptions.Password(cluster.Spec, out _), CancellationToken.None);
        runtime.UpdateState(s =>
        {
            s.OperatorPid = 0;
            s.Phase = "Stopped";
        });
        await DrainLinesAsync();
        await output.WriteLineAsync("Stopped.");
        return 0;
    }

    /// <summary>The live display (or plain progress lines) until the cluster is first Ready.</summary>
    private async Task ShowUntilReadyAsync(LocalClusterStore store, LocalNodeRuntime runtime, ClusterKey key, CancellationToken cancellationToken)
    {
        if (!interactive)
        {
            string? last = null;
            while (!cancellationToken.IsCancellationRequested)
            {
                await DrainLinesAsync();
                var cluster = await store.GetClusterAsync(key, cancellationToken);
                var (line, ready) = Summary(cluster, runtime);
                if (line != last)
                {
                    await output.WriteLineAsync($"{DateTime.Now:HH:mm:ss} {line}");
                    last = line;
                }
                SavePhase(runtime, cluster);
                if (ready)
                {
                    return;
                }
                await Task.Delay(DisplayPoll, cancellationToken);
            }
            return;
        }
        var recent = new List<string>();
        await AnsiConsole.Live(new Text("Starting...")).AutoClear(false).StartAsync(async context =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                while (_lines.TryDequeue(out var line))
                {
                    recent.Add(line);
                }
                if (recent.Count > 8)
                {
                    recent.RemoveRange(0, recent.Count - 8);
                }
                var cluster = await store.GetClusterAsync(key, cancellationToken);
                var (_, ready) = Summary(cluster, runtime);
                context.UpdateTarget(Render(cluster, runtime, recent));
                context.Refresh();
                SavePhase(runtime, cluster);
                if (ready)
                {
                    return;
                }
                try
                {
                    await Task.Delay(DisplayPoll, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>After Ready: events and phase changes as lines.</summary>
    private async Task FollowAsync(LocalClusterStore store, LocalNodeRuntime runtime, ClusterKey key, CancellationToken cancellationToken)
    {
        string? lastPhase = ClusterPhase.Ready;
        while (!cancellationToken.IsCancellationRequested)
        {
            await DrainLinesAsync();
            var cluster = await store.GetClusterAsync(key, cancellationToken);
            SavePhase(runtime, cluster);
            var phase = cluster?.Status?.Phase;
            if (phase != lastPhase)
            {
                var (line, _) = Summary(cluster, runtime);
                await output.WriteLineAsync($"{DateTime.Now:HH:mm:ss} {line}");
                lastPhase = phase;
            }
            await Task.Delay(DisplayPoll, cancellationToken);
        }
    }

    private async Task WatchSpecAsync(string path, string applied, LocalClusterStore store, WorkQueue<ClusterKey> queue, ClusterKey key, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(SpecPoll, cancellationToken);
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path, cancellationToken);
            }
            catch (IOException)
            {
                continue;
            }
            if (text == applied)
            {
                continue;
            }
            applied = text;
            var cluster = LocalSpec.Parse(text, path, out var error);
            if (cluster is null)
            {
                _lines.Enqueue($"{DateTime.Now:HH:mm:ss} Warning SpecRejected: {error}");
                continue;
            }
            if (cluster.Metadata.Name != key.Name)
            {
                _lines.Enqueue($"{DateTime.Now:HH:mm:ss} Warning SpecRejected: {path} names cluster {cluster.Metadata.Name}; this local up runs {key.Name}");
                continue;
            }
            var stored = store.ReplaceSpec(key, cluster.Spec);
            _lines.Enqueue($"{DateTime.Now:HH:mm:ss} Normal  SpecApplied: generation {stored.Metadata.Generation}: {cluster.Spec.Shards} shards x {cluster.Spec.ReplicasPerShard} replicas");
            queue.Add(key);
        }
    }

    /// <summary>One line for the cluster's progress, and whether it is Ready for its current generation.</summary>
    private static (string Line, bool Ready) Summary(CacheCluster? cluster, LocalNodeRuntime runtime)
    {
        if (cluster is null)
        {
            return ("the cluster is gone", false);
        }
        var members = runtime.Members;
        var status = cluster.Status;
        var phase = status?.Phase ?? "Pending";
        var ready = Conditions.Find(status, Conditions.Ready);
        var readyNow = phase == ClusterPhase.Ready && status?.ObservedGeneration == cluster.Metadata.Generation;
        var nodes = $"{members.Count(m => m.Pid > 0)}/{cluster.Spec.Shards * (1 + cluster.Spec.ReplicasPerShard)} nodes started";
        var why = ready is null ? "" : $", {ready.Reason}: {ready.Message}";
        return ($"{phase}: {nodes}, {status?.ReadyShards ?? 0}/{cluster.Spec.Shards} shards ready, cluster_state {status?.ClusterState ?? "unknown"}{why}", readyNow);
    }

    private static IRenderable Render(CacheCluster? cluster, LocalNodeRuntime runtime, List<string> recent)
    {
        var (line, _) = Summary(cluster, runtime);
        var table = new Table().Border(TableBorder.Rounded).AddColumns("shard", "master", "replicas", "slots", "nodes");
        var members = runtime.Members;
        for (var i = 0; i < (cluster?.Spec.Shards ?? 0); i++)
        {
            var shard = cluster!.Status?.Shards?.ElementAtOrDefault(i);
            var own = members.Where(m => m.Shard == i).OrderBy(m => m.Ordinal).ToList();
            table.AddRow(
                i.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(shard?.Master ?? "-"),
                Markup.Escape(string.Join(", ", shard?.Replicas ?? [])),
                Markup.Escape(string.Join(" ", shard?.Slots ?? [])),
                Markup.Escape(string.Join(" ", own.Select(m => $":{m.Port}{(m.Pid > 0 ? "" : " (stopped)")}"))));
        }
        var conditions = string.Join("\n", (cluster?.Status?.Conditions ?? []).Select(c => $"{c.Type}={c.Status} {c.Reason}: {c.Message}"));
        return new Rows(
            new Markup($"[bold]{Markup.Escape(cluster?.Metadata.Name ?? "")}[/] {Markup.Escape(line)}"),
            table,
            new Text(conditions),
            new Text(string.Join("\n", recent)));
    }

    private async Task PrintEndpointsAsync(CacheCluster cluster, LocalNodeRuntime runtime, TimeSpan took)
    {
        await DrainLinesAsync();
        var members = runtime.Members.ToDictionary(m => m.Name);
        var nodes = members.Count;
        await output.WriteLineAsync($"{ReadyPrefix} cluster {cluster.Metadata.Name}: {cluster.Spec.Shards} shards x {cluster.Spec.ReplicasPerShard} replicas, {nodes} nodes, cluster_state ok, after {took.TotalSeconds:F1} s");
        foreach (var shard in cluster.Status?.Shards ?? [])
        {
            var master = shard.Master is { } name && members.TryGetValue(name, out var m) ? $"127.0.0.1:{m.Port} ({name})" : "-";
            var replicas = string.Join(", ", (shard.Replicas ?? []).Select(r => members.TryGetValue(r, out var rm) ? $"127.0.0.1:{rm.Port}" : r));
            await output.WriteLineAsync($"  {shard.Name}: master {master}, replicas [{replicas}], slots {string.Join(" ", shard.Slots ?? [])}");
        }
        var first = members.Values.OrderBy(m => m.Port).First();
        await output.WriteLineAsync($"Connect: redis-cli -c -p {first.Port}");
        await output.WriteLineAsync("Keeps the cluster running and healed; Ctrl-C stops it (or `local down`).");
    }

    private static void SavePhase(LocalNodeRuntime runtime, CacheCluster? cluster)
    {
        var phase = cluster?.Status?.Phase;
        runtime.UpdateState(s =>
        {
            if (s.Phase != phase)
            {
                s.Phase = phase;
            }
        });
    }

    private async Task DrainLinesAsync()
    {
        while (_lines.TryDequeue(out var line))
        {
            await output.WriteLineAsync(line);
        }
    }

    private static async Task WriteAtomicallyAsync(string path, string text)
    {
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static async Task IgnoreCancellationAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // Expected on shutdown.
        }
    }

    /// <summary>Controller warnings (a failed reconcile) as display lines.</summary>
    private sealed class LineLogger(ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lines.Enqueue($"{DateTime.Now:HH:mm:ss} {logLevel,-7} {formatter(state, exception)}{(exception is null ? "" : ": " + exception.Message)}");
            }
        }
    }
}
