using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>Without cluster-enabled, the cluster family answers as a standalone redis-server 7.0.15 does.</summary>
public class StandaloneClusterCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Cluster_commands_say_cluster_support_is_disabled(int protocol) =>
        servers.AssertSameReplies(protocol,
            ["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["CLUSTER", "KEYSLOT", "foo"], ["CLUSTER", "HELP"], ["CLUSTER", "MYID"], ["CLUSTER", "SLOTS"],
            ["CLUSTER", "ADDSLOTS", "1"], ["CLUSTER", "ADDSLOTSRANGE", "1", "2", "3"], ["CLUSTER", "MEET", "a", "b", "c", "d"], ["CLUSTER", "NOSUCH"],
            ["ASKING"], ["READONLY"], ["READWRITE"], ["SELECT", "1"], ["SET", "foo", "1"], ["MOVE", "foo", "1"], ["COPY", "foo", "bar", "DB", "1"],
            ["SWAPDB", "0", "1"], ["SELECT", "0"], ["INFO", "cluster"]);
}
