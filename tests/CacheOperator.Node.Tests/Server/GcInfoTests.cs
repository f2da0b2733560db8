using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>INFO gc: the benchmark's GC pause figure, a section that only appears when asked for by name.</summary>
public sealed class GcInfoTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public Task InitializeAsync()
    {
        _node = TestNode.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public void Info_gc_reports_the_longest_pause_after_a_collection()
    {
        using var client = _node.Client();
        GC.Collect();
        // The background cycle samples the pauses hz (10) times a second; poll rather than sleep exactly.
        double pause = 0;
        for (int attempt = 0; attempt < 100 && pause == 0; attempt++)
        {
            string text = client.Call("INFO", "gc").Text!;
            Assert.StartsWith("# GC\r\ngc_max_pause_ms:", text);
            pause = double.Parse(text.Split("\r\n")[1].Split(':')[1], CultureInfo.InvariantCulture);
            Thread.Sleep(50);
        }
        Assert.True(pause > 0, "no GC pause was recorded after GC.Collect");
    }

    [Theory]
    [InlineData("everything")]
    [InlineData("all")]
    [InlineData("default")]
    public void Info_gc_is_not_part_of_the_redis_section_groups(string group)
    {
        using var client = _node.Client();
        Assert.DoesNotContain("gc_max_pause_ms", client.Call("INFO", group).Text);
    }
}
