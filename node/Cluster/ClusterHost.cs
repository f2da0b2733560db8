using CacheOperator.Node.Configuration;
using CacheOperator.Node.Server;

namespace CacheOperator.Node.Cluster;

/// <summary>Ties a node's <see cref="ClusterState"/> to the server: the keyspace's slot index, nodes.conf at start-up, the periodic state update.</summary>
internal static class ClusterHost
{
    /// <summary>The state of a server in cluster mode, wired to its keyspace and log.</summary>
    public static ClusterState Create(NodeServer server)
    {
        var db = server.Keyspace[0];
        var state = new ClusterState(server.Config)
        {
            LogWarning = message => server.Log.Warning(message),
            CountKeysInSlot = slot => db.Table.CountInSlot(slot),
            // As Redis's delKeysInSlot: each key goes to the change stream as DEL.
            DeleteKeysInSlot = slot => db.DeleteSlot(slot, key => server.Propagator.Deletion(db, key, lazy: false)),
        };
        return state;
    }

    /// <summary>
    /// Loads nodes.conf, or keeps the fresh id and writes it (Redis's clusterInit), and sets myself's address from
    /// the listening port. Throws <see cref="ConfigException"/> for a file it cannot read or write.
    /// </summary>
    public static void Start(NodeServer server, ClusterState state)
    {
        string path = Path.GetFullPath(server.Config.ClusterConfigFile.Text, server.Config.Dir.Text);
        lock (server.Keyspace.Sync)
        {
            bool loaded;
            try
            {
                loaded = ClusterConfigFile.Load(state, path);
            }
            catch (IOException e)
            {
                throw new ConfigException($"Loading the cluster node config from {path}: {e.Message}");
            }
            if (loaded)
            {
                server.Log.Notice($"Node configuration loaded, I'm {state.Myself.Id}");
            }
            else
            {
                server.Log.Notice($"No cluster configuration found, I'm {state.Myself.Id}");
            }
            state.ConfigPath = path;
            state.RefreshMyselfAddress(server.Port);
            if (!state.SaveConfig())
            {
                throw new ConfigException("Fatal: can't update cluster config file.");
            }
            state.UpdateState();
        }
        foreach (var directive in (Directive[])[server.Config.ClusterAnnouncePort, server.Config.ClusterAnnounceBusPort, server.Config.ClusterAnnounceHostname, server.Config.ClusterAnnounceIp])
        {
            // CONFIG SET runs under the keyspace lock.
            directive.Changed += _ =>
            {
                state.RefreshMyselfAddress(server.Port);
                state.DoPending();
            };
        }
    }

    /// <summary>The periodic part of Redis's clusterCron that needs no bus: the state is recomputed and pending work done.</summary>
    public static void Cron(NodeServer server, ClusterState state)
    {
        lock (server.Keyspace.Sync)
        {
            state.Schedule(ClusterTodo.UpdateState);
            state.DoPending();
        }
    }
}
