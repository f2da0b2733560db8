using System.Diagnostics;
using System.Globalization;
using CacheOperator.Client;
using CacheOperator.Operator.Local;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace CacheOperator.Operator.Tests.Local;

/// <summary>
/// <c>local up</c> changing a running cluster's shape under a writer that logs every acknowledged write: afterwards every
/// acknowledged write is readable with its last value, the cluster check is clean, and the writer saw no error
/// (redirections are followed by the client). Slow: one cluster per test.
/// </summary>
public class ScalingEndToEndTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    private const int WriterKeys = 20_000;

    // Filler keys make each migration long enough to be caught in the middle.
    private const int FillerKeys = 200_000;

    private static string Spec(int shards, int replicas, string? config = null) =>
        $"apiVersion: cacheoperator.io/v1alpha1\nkind: CacheCluster\nmetadata:\n  name: cache\nspec:\n  shards: {shards}\n  replicasPerShard: {replicas}\n"
        + (config is null ? "" : $"  config:\n{config}");

    [Fact]
    public async Task Shards_3_to_5_to_3_and_replicas_1_to_2_to_1_with_an_operator_kill_mid_migration_lose_no_acknowledged_write()
    {
        var basePort = LocalTestSupport.FreeBasePort(40);
        await using var up = LocalUpProcess.Start(Spec(3, 1), basePort);
        await up.WaitReadyAsync(Deadline);
        await FillAsync(Ports(up));
        await using var writer = await AcknowledgedWriter.StartAsync(Ports(up), WriterKeys);
        await writer.WaitForWritesAsync(2000, Deadline);

        await ApplyAndConvergeAsync(up, up, 5, 1, "scale out 3 -> 5 shards");
        await ApplyAndConvergeAsync(up, up, 5, 2, "replicas 1 -> 2");

        // Scale in to 3 shards; kill -9 the operator while slots are leaving shards 3 and 4, then start it again.
        var watch = Stopwatch.StartNew();
        await LocalTestSupport.ApplyAsync(up, Spec(3, 2));
        var before = await SlotsOfShardsAsync(up, first: 3);
        await LocalTestSupport.PollAsync(async () => await SlotsOfShardsAsync(up, first: 3) is var left && left > 0 && left < before, Deadline, "slots leaving shards 3 and 4");
        up.Process.Kill();
        Assert.True(up.Process.WaitForExit(TimeSpan.FromMinutes(1)));
        var killedAt = await SlotsOfShardsAsync(up, first: 3);
        log.WriteLine($"operator killed with {killedAt} of {before} slots left on shards 3-4 ({Migrating(await ClusterNodesAsync(up))} slots open)");
        await using var resumed = LocalUpProcess.Start(Spec(3, 2), basePort, directory: up.Directory);
        await WaitConvergedAsync(resumed, 3, 2, "scale in 5 -> 3 shards after the operator's restart");
        log.WriteLine($"scale in 5 -> 3 with the operator killed: {watch.Elapsed.TotalSeconds:F1} s, {writer.Writes} writes so far");

        await ApplyAndConvergeAsync(resumed, up, 3, 1, "replicas 2 -> 1");
        await AssertNothingLostAsync(up, writer);
    }

    [Fact]
    public async Task Redis_server_nodes_scale_out_3_to_4_under_writes_and_lose_no_acknowledged_write()
    {
        await using var up = LocalUpProcess.Start(Spec(3, 1), LocalTestSupport.FreeBasePort(20), "redis-server");
        await up.WaitReadyAsync(Deadline);
        await FillAsync(Ports(up));
        await using var writer = await AcknowledgedWriter.StartAsync(Ports(up), WriterKeys);
        await writer.WaitForWritesAsync(2000, Deadline);

        await ApplyAndConvergeAsync(up, up, 4, 1, "scale out 3 -> 4 shards of redis-server");
        await AssertNothingLostAsync(up, writer);
    }

    /// <summary>The cluster still takes writes; the writer saw no error; every acknowledged write and filler key reads back; the check is clean.</summary>
    private static async Task AssertNothingLostAsync(LocalUpProcess up, AcknowledgedWriter writer)
    {
        await writer.WaitForWritesAsync(2000, Deadline);
        await writer.StopAsync();
        writer.AssertNoErrors($"local up:\n{up.Output}\n{LocalTestSupport.NodeLogExcerpts(up)}");
        Assert.Empty(await writer.FindLostWritesAsync(Ports(up)));
        await AssertFillerKeysAsync(Ports(up));
        await LocalTestSupport.AssertClusterCheckCleanAsync(Ports(up)[0], "redis-cli --cluster check clean");
    }

    private async Task ApplyAndConvergeAsync(LocalUpProcess running, LocalUpProcess owner, int shards, int replicas, string what)
    {
        var watch = Stopwatch.StartNew();
        await LocalTestSupport.ApplyAsync(owner, Spec(shards, replicas));
        await WaitConvergedAsync(running, shards, replicas, what);
        log.WriteLine($"{what}: {watch.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>
    /// Until the nodes show <paramref name="shards"/> masters with an even share of the slots (within one), each with
    /// <paramref name="replicas"/> connected replicas, no slot open, only the members local up runs, and local up says Ready.
    /// </summary>
    private static async Task WaitConvergedAsync(LocalUpProcess up, int shards, int replicas, string what)
    {
        try
        {
            await LocalTestSupport.PollAsync(async () => await ConvergedAsync(up, shards, replicas), Deadline, what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\n{await ClusterNodesAsync(up)}\n{up.Output}", e);
        }
    }

    private static async Task<bool> ConvergedAsync(LocalUpProcess up, int shards, int replicas)
    {
        if (LocalState.Read(up.StateDirectory) is not { Phase: "Ready" } state || state.Members.Count != shards * (1 + replicas))
        {
            return false;
        }
        var nodes = Parse(await ClusterNodesAsync(up));
        if (nodes.Count != shards * (1 + replicas) || nodes.Any(n => n.Flags.Contains("fail", StringComparison.Ordinal) || n.Open))
        {
            return false;
        }
        var masters = nodes.Where(n => n.Slots > 0).ToList();
        return masters.Count == shards
            && masters.Sum(m => m.Slots) == 16384
            && masters.Max(m => m.Slots) - masters.Min(m => m.Slots) <= 1
            && masters.All(m => nodes.Count(n => n.MasterId == m.Id && n.Connected) == replicas);
    }

    private static List<int> Ports(LocalUpProcess up) => LocalState.Read(up.StateDirectory)!.Members.Select(m => m.Port).ToList();

    /// <summary>Slots the masters of shards <paramref name="first"/> and above own.</summary>
    private static async Task<int> SlotsOfShardsAsync(LocalUpProcess up, int first)
    {
        var ports = LocalState.Read(up.StateDirectory)!.Members.Where(m => m.Shard >= first).Select(m => m.Port).ToHashSet();
        return Parse(await ClusterNodesAsync(up)).Where(n => ports.Contains(n.Port)).Sum(n => n.Slots);
    }

    private static int Migrating(string nodes) => nodes.Split('[').Length - 1;

    /// <summary>CLUSTER NODES from the first member that answers ("" when none does).</summary>
    private static async Task<string> ClusterNodesAsync(LocalUpProcess up)
    {
        foreach (var port in Ports(up))
        {
            try
            {
                await using var connection = await RespConnection.ConnectAsync(new RespConnectionOptions { Port = port, ConnectTimeout = TimeSpan.FromSeconds(2), CommandTimeout = TimeSpan.FromSeconds(5) });
                if ((await connection.ExecuteAsync("CLUSTER", "NODES")).AsString() is { } text)
                {
                    return text;
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or TimeoutException)
            {
                // Try the next member.
            }
        }
        return "";
    }

    private sealed record NodeLine(string Id, int Port, string Flags, string MasterId, bool Connected, int Slots, bool Open);

    private static List<NodeLine> Parse(string nodes)
    {
        var lines = new List<NodeLine>();
        foreach (var fields in nodes.Split('\n').Select(l => l.Trim().Split(' ')).Where(f => f.Length >= 8))
        {
            var slots = 0;
            var open = false;
            foreach (var range in fields[8..].Where(r => r.Length > 0))
            {
                if (range[0] == '[')
                {
                    open = true;
                    continue;
                }
                var bounds = range.Split('-');
                slots += bounds.Length == 1 ? 1 : int.Parse(bounds[1], CultureInfo.InvariantCulture) - int.Parse(bounds[0], CultureInfo.InvariantCulture) + 1;
            }
            var port = int.Parse(fields[1].Split('@')[0].Split(':')[^1], CultureInfo.InvariantCulture);
            lines.Add(new NodeLine(fields[0], port, fields[2], fields[3], fields[7] == "connected", slots, open));
        }
        return lines;
    }

    private static string Filler(int i) => $"filler:{i.ToString(CultureInfo.InvariantCulture)}:".PadRight(64, 'x');

    private static async Task FillAsync(IEnumerable<int> ports)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(AcknowledgedWriter.Options(ports));
        var db = redis.GetDatabase();
        for (var start = 0; start < FillerKeys; start += 5000)
        {
            await Task.WhenAll(Enumerable.Range(start, 5000).Select(i => db.StringSetAsync("fill:" + i.ToString(CultureInfo.InvariantCulture), Filler(i))));
        }
    }

    private static async Task AssertFillerKeysAsync(IEnumerable<int> ports)
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(AcknowledgedWriter.Options(ports));
        var db = redis.GetDatabase();
        var wrong = new List<string>();
        for (var start = 0; start < FillerKeys && wrong.Count < 10; start += 5000)
        {
            var values = await Task.WhenAll(Enumerable.Range(start, 5000).Select(i => db.StringGetAsync("fill:" + i.ToString(CultureInfo.InvariantCulture))));
            wrong.AddRange(values.Select((v, j) => (v, i: start + j)).Where(p => p.v != Filler(p.i)).Select(p => $"fill:{p.i} is {p.v}"));
        }
        Assert.Empty(wrong);
    }
}
