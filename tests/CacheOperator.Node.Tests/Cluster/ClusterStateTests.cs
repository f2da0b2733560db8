using CacheOperator.Node.Cluster;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>The state model's rules the bus runtime relies on (Redis 7.0's cluster.c), on the model alone with a fixed clock.</summary>
public class ClusterStateTests
{
    private long _now = 1_000_000;

    private ClusterState NewState() => new(new NodeConfig(), () => _now);

    private static byte[] Bitmap(params int[] slots)
    {
        var bits = new byte[SlotBitmap.Bytes];
        foreach (int slot in slots)
        {
            bits[slot >> 3] |= (byte)(1 << (slot & 7));
        }
        return bits;
    }

    [Fact]
    public void A_claim_with_a_newer_config_epoch_takes_slots_and_an_emptied_master_becomes_its_replica()
    {
        var state = NewState();
        var deleted = new List<int>();
        state.CountKeysInSlot = slot => slot == 1 ? 3 : 0;
        state.DeleteKeysInSlot = slot =>
        {
            deleted.Add(slot);
            return 3;
        };
        state.AddSlot(state.Myself, 1);
        state.AddSlot(state.Myself, 2);
        state.Myself.ConfigEpoch = 1;
        var other = state.CreateNode(ClusterNode.NewId(), ClusterNodeFlags.Master);
        state.AddNode(other);

        // An older epoch takes nothing.
        state.UpdateSlotsFromClaim(other, 0, Bitmap(1));
        Assert.Equal(state.Myself, state.OwnerOf(1));

        // A newer one takes slot 1; this node keeps slot 2, so it stays a master and empties the slot it lost.
        state.UpdateSlotsFromClaim(other, 2, Bitmap(1, 5));
        Assert.Equal(other, state.OwnerOf(1));
        Assert.Equal(other, state.OwnerOf(5));
        Assert.Equal([1], deleted);
        Assert.True(state.Myself.IsMaster);

        // Losing its last slot makes it a replica of the claimant.
        ClusterNode? followed = null;
        state.ReplicaOfChanged = master => followed = master;
        state.UpdateSlotsFromClaim(other, 3, Bitmap(2));
        Assert.True(state.Myself.IsReplica);
        Assert.Equal(other, state.Myself.Master);
        Assert.Equal(other, followed);
        Assert.Contains(state.Myself, other.Replicas);
        Assert.Equal(other.ShardId, state.Myself.ShardId);
    }

    [Fact]
    public void Importing_slots_are_not_taken_by_claims()
    {
        var state = NewState();
        var other = state.CreateNode(ClusterNode.NewId(), ClusterNodeFlags.Master);
        state.AddNode(other);
        state.SetImporting(7, other);
        state.UpdateSlotsFromClaim(other, 5, Bitmap(7));
        Assert.Null(state.OwnerOf(7));
    }

    [Fact]
    public void Handshakes_renames_forgetting_and_the_blacklist()
    {
        var state = NewState();
        var node = state.StartHandshake("127.0.0.1", 7000, 17000, out bool invalid);
        Assert.False(invalid);
        Assert.NotNull(node);
        Assert.True(node!.InHandshake);
        Assert.Null(state.StartHandshake("127.0.0.1", 7000, 17000, out invalid));
        Assert.False(invalid);
        Assert.Null(state.StartHandshake("127.0.0.1", 0, 17000, out invalid));
        Assert.True(invalid);
        string realId = ClusterNode.NewId();
        state.RenameNode(node, realId);
        state.ClearFlags(node, ClusterNodeFlags.Handshake | ClusterNodeFlags.Meet);
        state.SetFlags(node, ClusterNodeFlags.Master);
        Assert.Same(node, state.Find(realId));
        state.AddSlot(node, 9);
        state.SetMigrating(3, node);
        state.Forget(node);
        Assert.Null(state.Find(realId));
        Assert.Null(state.OwnerOf(9));
        Assert.Null(state.MigratingTo(3));
        Assert.True(state.IsBlacklisted(realId));
        _now += (ClusterState.BlacklistTtlSeconds + 2) * 1000L;
        Assert.False(state.IsBlacklisted(realId));
    }

    [Fact]
    public void The_state_is_ok_after_the_writable_delay_with_every_slot_served_by_a_majority()
    {
        var state = NewState();
        state.UpdateState();
        Assert.False(state.IsOk);
        for (int slot = 0; slot < HashSlot.Count; slot++)
        {
            state.AddSlot(state.Myself, slot);
        }
        state.UpdateState();
        Assert.False(state.IsOk);
        _now += 2500;
        state.UpdateState();
        Assert.True(state.IsOk);
        Assert.Equal(1, state.Size);

        // A second master with slots, failing: no majority of reachable masters.
        var other = state.CreateNode(ClusterNode.NewId(), ClusterNodeFlags.Master | ClusterNodeFlags.Fail);
        state.AddNode(other);
        state.DeleteSlot(0);
        state.AddSlot(other, 0);
        state.UpdateState();
        Assert.False(state.IsOk);
        Assert.Equal(2, state.Size);
    }

    [Fact]
    public void Epoch_bumps_and_collisions_follow_redis()
    {
        var state = NewState();
        Assert.True(state.BumpEpochWithoutConsensus());
        Assert.Equal(1UL, state.Myself.ConfigEpoch);
        Assert.False(state.BumpEpochWithoutConsensus());
        // Same epoch as a node with a larger id: this node (the smaller id) takes a new epoch.
        var other = state.CreateNode(new string('f', 40), ClusterNodeFlags.Master);
        other.ConfigEpoch = 1;
        state.AddNode(other);
        state.HandleConfigEpochCollision(other);
        Assert.Equal(2UL, state.Myself.ConfigEpoch);
        Assert.Equal(2UL, state.CurrentEpoch);
    }

    [Fact]
    public async Task Losing_a_slot_with_keys_deletes_them_in_the_keyspace()
    {
        string dir = Directory.CreateTempSubdirectory("cluster-state-").FullName;
        try
        {
            await using var node = TestNode.Start("--cluster-enabled", "yes", "--cluster-config-file", Path.Combine(dir, "nodes.conf"));
            using var client = node.Client();
            client.Call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
            Wait.Until(() => client.Call("CLUSTER", "INFO").Text!.StartsWith("cluster_state:ok", StringComparison.Ordinal), "cluster_state:ok");
            Assert.Equal("OK", client.Call("SET", "foo", "1").Text);
            client.Call("SET", "{foo}x", "2");
            client.Call("SET", "bar", "3");
            var state = node.Server.Cluster!;
            lock (node.Server.Keyspace.Sync)
            {
                var other = state.CreateNode(ClusterNode.NewId(), ClusterNodeFlags.Master);
                state.AddNode(other);
                state.UpdateSlotsFromClaim(other, 5, Bitmap(12182));
                state.DoPending();
            }
            Assert.Equal(0L, client.Call("CLUSTER", "COUNTKEYSINSLOT", "12182").Integer);
            Assert.Equal(1L, client.Call("DBSIZE").Integer);
            Assert.StartsWith("MOVED 12182", client.Call("GET", "foo").Text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
