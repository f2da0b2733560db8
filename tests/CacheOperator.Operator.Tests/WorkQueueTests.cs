using CacheOperator.Operator.Reconcile;

namespace CacheOperator.Operator.Tests;

public class WorkQueueTests
{
    [Fact]
    public async Task Duplicate_adds_collapse_into_one_item()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");
        queue.Add("a");
        Assert.Equal(2, queue.Depth);
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None));
        Assert.Equal("b", await queue.TakeAsync(CancellationToken.None));
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task A_key_added_while_processing_comes_back_once_after_done()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("a");
        var key = await queue.TakeAsync(CancellationToken.None);
        queue.Add("a");
        queue.Add("a");
        Assert.Equal(0, queue.Depth);
        queue.Done(key);
        Assert.Equal(1, queue.Depth);
        Assert.Equal("a", await queue.TakeAsync(CancellationToken.None));
    }

    [Fact]
    public void Backoff_doubles_per_failure_up_to_the_cap_and_resets_on_forget()
    {
        using var queue = new WorkQueue<string>(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(50));
        Assert.Equal(TimeSpan.FromMilliseconds(10), queue.AddRateLimited("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), queue.AddRateLimited("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(40), queue.AddRateLimited("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(50), queue.AddRateLimited("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), queue.AddRateLimited("b"));
        queue.Forget("a");
        Assert.Equal(0, queue.Failures("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), queue.AddRateLimited("a"));
    }

    [Fact]
    public async Task A_rate_limited_key_arrives_after_its_delay()
    {
        using var queue = new WorkQueue<string>(TimeSpan.FromMilliseconds(100));
        queue.AddRateLimited("x");
        Assert.Equal(0, queue.Depth);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal("x", await queue.TakeAsync(timeout.Token));
    }

    [Fact]
    public async Task Shutdown_releases_waiting_takers()
    {
        using var queue = new WorkQueue<string>();
        var taking = queue.TakeAsync(CancellationToken.None);
        queue.ShutDown();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => taking);
    }
}
