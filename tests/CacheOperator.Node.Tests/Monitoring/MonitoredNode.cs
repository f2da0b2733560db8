using System.Globalization;
using System.Net.Http;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Monitoring;
using CacheOperator.Node.Server;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Monitoring;

/// <summary>An in-process node with its metrics endpoint on a free loopback port and a meter of its own.</summary>
public sealed class MonitoredNode : IAsyncDisposable
{
    private MonitoredNode(NodeServer server, MetricsHost host)
    {
        Server = server;
        Host = host;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Port}") };
    }

    /// <summary>The node.</summary>
    public NodeServer Server { get; }

    /// <summary>The metrics endpoint.</summary>
    public MetricsHost Host { get; }

    /// <summary>A client of the metrics endpoint.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts a node and its metrics endpoint.</summary>
    public static async Task<MonitoredNode> StartAsync(params string[] options)
    {
        var config = new NodeConfig();
        ConfigLoader.Load(config, ["--port", "0", "--bind", "127.0.0.1", "--save", "", .. options]);
        var server = new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning }, "CacheOperator.Node.Test." + Guid.NewGuid().ToString("N"));
        server.Start();
        var host = await MetricsHost.StartAsync(server, NodeProcess.FreePort(), loopbackOnly: true);
        return new MonitoredNode(server, host);
    }

    /// <summary>A RESP client.</summary>
    public RespClient Client() => new(Server.Port);

    /// <summary>The /metrics text.</summary>
    public Task<string> ScrapeAsync() => Http.GetStringAsync("/metrics");

    /// <summary>Samples of a scrape by series (name plus labels without otel_scope_name), e.g. cache_keys{db="db0"}.</summary>
    public static Dictionary<string, double> Samples(string scrape)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in scrape.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            int space = line.LastIndexOf(' ');
            string series = line[..space];
            int brace = series.IndexOf('{', StringComparison.Ordinal);
            if (brace >= 0)
            {
                var labels = series[(brace + 1)..^1].Split(',').Where(l => !l.StartsWith("otel_scope_name=", StringComparison.Ordinal)).ToList();
                series = series[..brace] + (labels.Count == 0 ? "" : "{" + string.Join(',', labels) + "}");
            }
            samples[series] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }
        return samples;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
        await Host.DisposeAsync();
    }
}
