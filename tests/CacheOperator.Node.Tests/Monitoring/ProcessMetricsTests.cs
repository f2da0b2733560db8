using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Monitoring;

/// <summary>The node as a real process: --metrics-port serves /metrics and the probes, --log-format json logs JSON lines.</summary>
public sealed class ProcessMetricsTests
{
    [Fact]
    public async Task Process_serves_metrics_and_logs_json()
    {
        int metricsPort = NodeProcess.FreePort();
        using var node = NodeProcess.Start(["--port", "{port}", "--bind", "127.0.0.1", "--metrics-port", metricsPort.ToString(CultureInfo.InvariantCulture), "--log-format", "json"]);
        using (var client = new RespClient(node.Port))
        {
            Assert.Equal("OK", client.Call("SET", "k", "v").Text);
        }
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        string scrape = await PollAsync(() => http.GetStringAsync("/metrics"));
        Assert.Equal(1, MonitoredNode.Samples(scrape)["cache_commands_processed_total{cmd=\"set\"}"]);
        Assert.Contains("otel_scope_name=\"CacheOperator.Node\"", scrape, StringComparison.Ordinal);
        Assert.Equal("ready\n", await http.GetStringAsync("/readyz"));
        var lines = node.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString() == "startup");
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> action)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (HttpRequestException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }
}
