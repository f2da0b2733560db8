using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The cluster family: in standalone mode every CLUSTER command answers that cluster support is disabled, as Redis does.</summary>
internal static class ClusterCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("cluster", -2, Cluster)
        {
            Acl = "@slow", Since = "3.0.0", Summary = "A container for Redis Cluster commands.", Complexity = "Depends on subcommand.",
            Syntax = "subcommand [argument [argument ...]]",
        },
    ];

    private static void Cluster(Session s, ArgList a) => s.Reply.WriteError("ERR This instance has cluster support disabled");
}
