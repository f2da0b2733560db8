using CacheOperator.Node.Configuration;

namespace CacheOperator.Operator.Topology;

/// <summary>
/// Applies configuration a node takes live: CONFIG GET each directive on every member and CONFIG SET those that
/// differ (sizes compared in bytes, the rest as text), so an unchanged node gets no command.
/// </summary>
public sealed class LiveConfigApplier(NodeConnectionSettings? settings = null)
{
    private readonly NodeConnectionSettings _settings = settings ?? NodeConnectionSettings.Default;
    private readonly NodeConfig _catalog = new();

    /// <summary>Applies <paramref name="directives"/> to every member with an address, in parallel.</summary>
    public async Task<IReadOnlyList<TopologyActionResult>> ApplyAsync(DesiredTopology desired, IReadOnlyList<KeyValuePair<string, string>> directives, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(desired);
        ArgumentNullException.ThrowIfNull(directives);
        var results = await Task.WhenAll(desired.Members.Where(m => m.Host is not null).Select(m => ApplyAsync(m, desired.Password, directives, cancellationToken))).ConfigureAwait(false);
        return results.SelectMany(r => r).ToList();
    }

    private async Task<IReadOnlyList<TopologyActionResult>> ApplyAsync(MemberEndpoint member, string? password, IReadOnlyList<KeyValuePair<string, string>> directives, CancellationToken cancellationToken)
    {
        var results = new List<TopologyActionResult>();
        try
        {
            await using var connection = await _settings.ConnectAsync(member, password, cancellationToken).ConfigureAwait(false);
            foreach (var (name, value) in directives)
            {
                var current = await connection.ExecuteAsync(["CONFIG", "GET", name], cancellationToken).ConfigureAwait(false);
                if (current.IsError || current.Count < 2)
                {
                    continue; // A node that does not know the directive (another server) keeps its file's value.
                }
                if (Same(name, current[1].AsString() ?? "", value))
                {
                    continue;
                }
                var detail = $"CONFIG SET {name} {value}";
                var reply = await connection.ExecuteAsync(["CONFIG", "SET", name, value], cancellationToken).ConfigureAwait(false);
                results.Add(new TopologyActionResult("config_set", member.Name, detail, !reply.IsError, reply.IsError ? reply.AsString() : null));
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            results.Add(new TopologyActionResult("config_set", member.Name, "CONFIG GET/SET", false, e.Message));
        }
        return results;
    }

    /// <summary>Whether the node's value equals the desired one as the directive reads it.</summary>
    private bool Same(string name, string live, string desired)
    {
        if (_catalog.Find(name) is { Kind: DirectiveKind.Memory }
            && MemorySize.TryParse(live.Trim(), out var liveBytes) && MemorySize.TryParse(desired.Trim(), out var desiredBytes))
        {
            return liveBytes == desiredBytes;
        }
        return string.Equals(live.Trim(), desired.Trim(), StringComparison.OrdinalIgnoreCase);
    }
}
