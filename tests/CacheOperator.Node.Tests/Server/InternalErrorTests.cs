using CacheOperator.Node.Commands;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>A command that fails with a bug answers an error and drops only its own client; the server keeps serving.</summary>
public class InternalErrorTests
{
    [Fact]
    public async Task A_throwing_command_costs_only_its_own_connection()
    {
        await using var node = TestNode.Start();
        var failing = new CommandSpec("boom", 1, (_, _) => throw new InvalidOperationException("a bug"));
        node.Server.Commands = new CommandTable([("test", [failing]), ("string", StringCommands.All), ("connection", ConnectionCommands.All)]);

        using var victim = node.Client();
        using var bystander = node.Client();
        Assert.Equal("OK", bystander.Call("SET", "k", "v").Text);
        victim.SendRaw(RespClient.Encode("BOOM"));
        var reply = victim.Read();
        Assert.Equal(RespKind.Error, reply.Kind);
        Assert.Equal("ERR internal error while running 'boom'", reply.Text);
        Assert.True(victim.IsClosedByServer());

        Assert.Equal("v", bystander.Call("GET", "k").Text);
        using var newcomer = node.Client();
        Assert.Equal("PONG", newcomer.Call("PING").Text);
    }
}
