using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Scripting;

/// <summary>
/// A function running past busy-reply-threshold, on redis-server 7.0.15 and on the node: the -BUSY that names FUNCTION
/// KILL, SCRIPT KILL refused, FUNCTION STATS naming the function and its command, FUNCTION KILL stopping it; and while
/// an EVAL script is busy, FUNCTION KILL and FUNCTION STATS refused with the SCRIPT KILL text.
/// </summary>
public class FunctionBusyTests
{
    private const string Library = "#!lua name=spin\nredis.register_function('spin', function(keys, args) local i = 0 while true do i = i + 1 end end)";

    [Fact]
    public async Task Busy_function_answers_as_redis_and_function_kill_stops_it()
    {
        using var redis = RedisServerProcess.Start("--busy-reply-threshold", "100");
        await using var node = TestNode.Start("--busy-reply-threshold", "100");
        var transcripts = new List<string>();
        foreach (int port in new[] { redis.Port, node.Port })
        {
            using var runner = new RespClient(port, TimeSpan.FromSeconds(60));
            using var other = new RespClient(port, TimeSpan.FromSeconds(60));
            Assert.Equal("OK", other.Call("FUNCTION", "FLUSH").Text);
            Assert.Equal("spin", other.Call("FUNCTION", "LOAD", Library).Text);
            var transcript = new List<string> { other.Call("FUNCTION", "KILL").ToString() };
            runner.Send("FCALL", "spin", "1", "key", "arg");
            Wait.Until(() => other.Call("PING").IsError, "another client gets BUSY");
            transcript.Add(other.Call("GET", "k").ToString());
            transcript.Add(other.Call("SCRIPT", "KILL").ToString());
            var stats = other.Call("FUNCTION", "STATS");
            var running = stats.Elements[1];
            // name, command; the duration moves.
            transcript.Add($"{stats.Elements[0]} {running.Elements[0]} {running.Elements[1]} {running.Elements[2]} {running.Elements[3]} {running.Elements[4]} {stats.Elements[2]} {stats.Elements[3]}");
            Assert.True(running.Elements[5].Integer >= 100, running.ToString());
            transcript.Add(other.Call("FUNCTION", "KILL").ToString());
            transcript.Add(runner.Read().ToString());
            transcript.Add(other.Call("PING").ToString());
            transcript.Add(other.Call("FUNCTION", "KILL").ToString());

            // An EVAL script busy: the function commands answer with the SCRIPT KILL text.
            runner.Send("EVAL", "local i = 0 while true do i = i + 1 end", "0");
            Wait.Until(() => other.Call("PING").IsError, "another client gets BUSY");
            transcript.Add(other.Call("PING").ToString());
            transcript.Add(other.Call("FUNCTION", "KILL").ToString());
            transcript.Add(other.Call("FUNCTION", "STATS").ToString());
            transcript.Add(other.Call("SCRIPT", "KILL").ToString());
            Assert.StartsWith("ERR Script killed by user with SCRIPT KILL...", runner.Read().Text);
            transcripts.Add(string.Join("\n", transcript));
        }
        Assert.Equal(transcripts[0], transcripts[1]);
        Assert.Contains("You can only call FUNCTION KILL", transcripts[1], StringComparison.Ordinal);
    }
}
