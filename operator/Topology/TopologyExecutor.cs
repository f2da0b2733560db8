using System.Net;
using CacheOperator.Client;

namespace CacheOperator.Operator.Topology;

/// <summary>Runs planned admin commands on their members in order, one result per command; a failure is a result, not an exception.</summary>
public sealed class TopologyExecutor(NodeConnectionSettings? settings = null)
{
    private readonly NodeConnectionSettings _settings = settings ?? NodeConnectionSettings.Default;

    /// <summary>Runs <paramref name="actions"/> against the members of <paramref name="desired"/>.</summary>
    public async Task<IReadOnlyList<TopologyActionResult>> ExecuteAsync(IReadOnlyList<TopologyAction> actions, DesiredTopology desired, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(desired);
        var results = new List<TopologyActionResult>();
        var connections = new Dictionary<string, RespConnection>(StringComparer.Ordinal);
        try
        {
            foreach (var action in actions)
            {
                results.Add(await RunAsync(action, desired, connections, cancellationToken).ConfigureAwait(false));
            }
        }
        finally
        {
            foreach (var connection in connections.Values)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
        return results;
    }

    private async Task<TopologyActionResult> RunAsync(TopologyAction action, DesiredTopology desired, Dictionary<string, RespConnection> connections, CancellationToken cancellationToken)
    {
        try
        {
            var member = desired.Members.FirstOrDefault(m => m.Name == action.Target)
                ?? throw new InvalidOperationException($"{action.Target} is not a member");
            if (!connections.TryGetValue(member.Name, out var connection) || connection.Failure is not null)
            {
                connection = await _settings.ConnectAsync(member, desired.Password, cancellationToken).ConfigureAwait(false);
                connections[member.Name] = connection;
            }
            var command = await ResolveAsync(action.Command, cancellationToken).ConfigureAwait(false);
            var reply = await connection.ExecuteAsync(command.ToArray(), cancellationToken).ConfigureAwait(false);
            return reply.IsError
                ? new TopologyActionResult(action.Kind, action.Target, action.Detail, false, reply.AsString())
                : new TopologyActionResult(action.Kind, action.Target, action.Detail, true, null);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            return new TopologyActionResult(action.Kind, action.Target, action.Detail, false, e.Message);
        }
    }

    /// <summary>CLUSTER MEET takes an IP: a host name is resolved first.</summary>
    private static async Task<IReadOnlyList<string>> ResolveAsync(IReadOnlyList<string> command, CancellationToken cancellationToken)
    {
        if (command.Count < 3 || !string.Equals(command[1], "MEET", StringComparison.OrdinalIgnoreCase) || IPAddress.TryParse(command[2], out _))
        {
            return command;
        }
        var addresses = await Dns.GetHostAddressesAsync(command[2], cancellationToken).ConfigureAwait(false);
        var address = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses.First();
        return [command[0], command[1], address.ToString(), .. command.Skip(3)];
    }
}
