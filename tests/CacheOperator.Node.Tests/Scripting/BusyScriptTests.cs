using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// A script that runs past busy-reply-threshold: other clients get -BUSY, SCRIPT KILL stops a script that has not
/// written (-UNKILLABLE after a write), and the node serves again.
/// </summary>
public class BusyScriptTests
{
    private const string Busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

    [Fact]
    public async Task Endless_script_is_busy_for_others_until_script_kill()
    {
        await using var node = TestNode.Start("--busy-reply-threshold", "100");
        using var runner = new RespClient(node.Port, TimeSpan.FromSeconds(60));
        using var other = new RespClient(node.Port, TimeSpan.FromSeconds(60));
        Assert.Equal("NOTBUSY No scripts in execution right now.", other.Call("SCRIPT", "KILL").Text);
        runner.Send("EVAL", "local i = 0 while true do i = i + 1 end", "0");
        Wait.Until(() => other.Call("PING") is { IsError: true, Text: Busy }, "another client gets BUSY");
        Assert.Equal(Busy, other.Call("GET", "k").Text);
        Assert.Equal("OK", other.Call("SCRIPT", "KILL").Text);
        var killed = runner.Read();
        Assert.True(killed.IsError);
        Assert.StartsWith("ERR Script killed by user with SCRIPT KILL... script: ", killed.Text);
        Assert.EndsWith(", on @user_script:1.", killed.Text);
        Assert.Equal("PONG", other.Call("PING").Text);
        Assert.Equal("PONG", runner.Call("PING").Text);
        Assert.Equal("NOTBUSY No scripts in execution right now.", other.Call("SCRIPT", "KILL").Text);
    }

    [Fact]
    public async Task A_script_that_wrote_is_unkillable_and_a_pcall_cannot_swallow_a_kill()
    {
        await using var node = TestNode.Start("--lua-time-limit", "100");
        using var runner = new RespClient(node.Port, TimeSpan.FromSeconds(60));
        using var other = new RespClient(node.Port, TimeSpan.FromSeconds(60));
        // Writes, then counts long enough to be busy: SCRIPT KILL must refuse, the script ends by itself.
        runner.Send("EVAL", "redis.call('set', 'w', '1') local i = 0 while i < 3e8 do i = i + 1 end return i", "0");
        Wait.Until(() => other.Call("PING") is { IsError: true, Text: Busy }, "another client gets BUSY");
        Assert.StartsWith("UNKILLABLE Sorry the script already executed write commands against the dataset.", other.Call("SCRIPT", "KILL").Text);
        Assert.Equal(300000000, runner.Read().Integer);
        Assert.Equal("1", other.Call("GET", "w").Text);

        runner.Send("EVAL", "while true do pcall(function() while true do end end) end", "0");
        Wait.Until(() => other.Call("PING") is { IsError: true, Text: Busy }, "another client gets BUSY");
        Assert.Equal("OK", other.Call("SCRIPT", "KILL").Text);
        Assert.StartsWith("ERR Script killed by user with SCRIPT KILL...", runner.Read().Text);
        Assert.Equal("PONG", other.Call("PING").Text);
    }
}
