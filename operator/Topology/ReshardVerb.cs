using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>
/// Hidden <c>cache-operator topology reshard</c>: moves N slots from the other masters (in proportion to what they own,
/// each its highest slots) to one master with <see cref="SlotMigrator"/>, for the benchmark against redis-cli --cluster reshard.
/// </summary>
public static class ReshardVerb
{
    /// <summary>The hidden <c>topology</c> command with its <c>reshard</c> verb.</summary>
    public static Command Build()
    {
        var to = new Option<string>("--to") { Description = "host:port of the master that receives the slots", Required = true };
        var slots = new Option<int>("--slots") { Description = "How many slots to move", Required = true };
        var password = new Option<string?>("--password") { Description = "AUTH password of the nodes" };
        var parallel = new Option<int>("--parallel") { Description = "Slots moved at once", DefaultValueFactory = _ => MigrationOptions.Default.ParallelSlots };
        var perScan = new Option<int>("--keys-per-scan") { Description = "GETKEYSINSLOT count", DefaultValueFactory = _ => MigrationOptions.Default.KeysPerScan };
        var perMigrate = new Option<int>("--keys-per-migrate") { Description = "Keys per MIGRATE", DefaultValueFactory = _ => MigrationOptions.Default.KeysPerMigrate };
        var reshard = new Command("reshard", "Move slots to one master with the operator's slot migrator") { to, slots, password, parallel, perScan, perMigrate };
        reshard.SetAction((parse, ct) => RunAsync(parse.GetValue(to)!, parse.GetValue(slots), parse.GetValue(password),
            new MigrationOptions(TimeSpan.MaxValue, 0, parse.GetValue(parallel), parse.GetValue(perScan), parse.GetValue(perMigrate)), ct));
        return new Command("topology", "Topology tools (benchmarks, diagnostics)") { Hidden = true, Subcommands = { reshard } };
    }

    private static async Task<int> RunAsync(string to, int count, string? password, MigrationOptions options, CancellationToken ct)
    {
        int colon = to.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(to[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            await Console.Error.WriteLineAsync($"--to must be host:port, not \"{to}\"");
            return 2;
        }
        var host = to[..colon];
        IReadOnlyList<ClusterNodeEntry> nodes;
        try
        {
            await using var connection = await NodeConnectionSettings.Default.ConnectAsync(new MemberEndpoint("target", 0, host, port), password, ct);
            nodes = ClusterNodeEntry.ParseAll((await connection.ExecuteAsync(["CLUSTER", "NODES"], ct)).ThrowIfError().AsString()!);
        }
        catch (Exception e) when (e is RespErrorReplyException or IOException or FormatException or System.Net.Sockets.SocketException)
        {
            await Console.Error.WriteLineAsync($"cannot read CLUSTER NODES from {to}: {e.Message}");
            return 1;
        }
        var target = nodes.Single(n => n.IsMyself);
        var sources = nodes.Where(n => n.IsMaster && n.Id != target.Id && n.SlotCount > 0).ToList();
        int total = sources.Sum(n => n.SlotCount);
        if (count < 1 || count > total)
        {
            await Console.Error.WriteLineAsync($"--slots must be between 1 and the {total} slots the other masters own");
            return 2;
        }
        var members = nodes.Where(n => n.IsMaster).Select(n => new MemberEndpoint(n.Id, 0, n.Id == target.Id ? host : n.Ip, n.Port)).ToList();
        var moves = new List<SlotMove>();
        int left = count;
        foreach (var (source, i) in sources.Select((s, i) => (s, i)))
        {
            int n = i == sources.Count - 1 ? left : Math.Min(left, (int)Math.Round((double)count * source.SlotCount / total));
            moves.AddRange(source.AllSlots().TakeLast(n).Select(slot => new SlotMove(slot, source.Id, source.Id, target.Id, target.Id)));
            left -= n;
        }
        // Interleave the sources, so that the slots moved at once come from different masters.
        moves = moves.Select((m, i) => (m, rank: moves.Take(i).Count(o => o.Source == m.Source))).OrderBy(p => p.rank).Select(p => p.m).ToList();
        var watch = Stopwatch.StartNew();
        var result = await new SlotMigrator().MigrateAsync(moves, members.Select(m => m.Name).ToList(), new DesiredTopology(1, 0, members, password), options, ct);
        var seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"moved {result.SlotsMoved} slots, {result.KeysMoved} keys in {seconds:F2} s ({result.KeysMoved / Math.Max(seconds, 1e-9):F0} keys/s)");
        foreach (var warning in result.Warnings.Take(5))
        {
            Console.WriteLine($"warning: {warning}");
        }
        if (result.Failure is { } failure)
        {
            await Console.Error.WriteLineAsync($"slot {failure.Slot} failed: {failure.Error}");
            return 1;
        }
        return 0;
    }
}
