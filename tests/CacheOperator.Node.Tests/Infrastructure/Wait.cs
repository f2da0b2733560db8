namespace CacheOperator.Node.Tests.Infrastructure;

/// <summary>Polling for conditions that become true later (another client's wake-up, a timer), with a generous deadline.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails after 15 s naming <paramref name="what"/>.</summary>
    public static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting until {what}");
            Thread.Sleep(10);
        }
    }
}
