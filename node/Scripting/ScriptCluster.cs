using CacheOperator.Node.Cluster;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Scripting;

/// <summary>
/// Redis 7's scriptVerifyClusterState for a command run by redis.call in cluster mode: its keys must be served here,
/// and, for a script with a shebang that does not allow cross-slot keys, in the slot of the keys declared or used before.
/// </summary>
internal static class ScriptCluster
{
    [ThreadStatic]
    private static KeyBuffer? t_keys;

    /// <summary>Null when the command may run; else the error text (without code, as luaPushError takes it).</summary>
    public static string? Check(ClusterState cluster, Session client, CommandSpec spec, ArgList args, ref int slot, ScriptFlags flags)
    {
        if (!ClusterRouting.Check(cluster, client, spec, args, false, out string? error))
        {
            if (error!.StartsWith("CLUSTERDOWN The cluster is down and only accepts read commands", StringComparison.Ordinal))
            {
                return "Script attempted to execute a write command while the cluster is down and readonly";
            }
            if (error.StartsWith("CLUSTERDOWN", StringComparison.Ordinal))
            {
                return "Script attempted to execute a command while the cluster is down";
            }
            return "Script attempted to access a non local key in a cluster node";
        }
        // Scripts without a shebang may use keys of any slot served here, as Redis 7's compatibility mode.
        if (!flags.Declared || (flags.Value & ScriptFlag.AllowCrossSlotKeys) != 0)
        {
            return null;
        }
        var keys = t_keys ??= new KeyBuffer();
        int count = KeyExtractor.GetKeys(spec, args, keys, positionsOnly: true);
        if (count == 0)
        {
            return null;
        }
        int commandSlot = HashSlot.Of(args[keys[0].Position]);
        if (slot == -1)
        {
            slot = commandSlot;
        }
        else if (slot != commandSlot)
        {
            return "Script attempted to access keys that do not hash to the same slot";
        }
        return null;
    }
}
