using System.Net;
using CacheOperator.Node.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CacheOperator.Node.Monitoring;

/// <summary>
/// The HTTP endpoint on the metrics port: /metrics (OpenTelemetry's Prometheus exporter), /healthz
/// (the process answers) and /readyz (the node accepts clients), for Prometheus and Kubernetes probes.
/// </summary>
public sealed class MetricsHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MetricsHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary>Starts serving <paramref name="server"/>'s metrics on <paramref name="port"/> (all addresses, or loopback only when asked).</summary>
    public static async Task<MetricsHost> StartAsync(NodeServer server, int port, bool loopbackOnly = false)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        // The node handles SIGTERM and SIGINT itself (graceful shutdown); the host must not react to them.
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.WebHost.UseKestrel(kestrel =>
        {
            if (loopbackOnly)
            {
                kestrel.Listen(IPAddress.Loopback, port);
            }
            else
            {
                kestrel.ListenAnyIP(port);
            }
        });
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("cache-node", serviceVersion: Program.Version)).WithMetrics(metrics => metrics
            .AddMeter(server.Metrics.MeterName)
            .AddView(NodeMetrics.CommandDurationInstrument, new ExplicitBucketHistogramConfiguration { Boundaries = NodeMetrics.DurationBuckets })
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", () => server.IsAcceptingClients ? Results.Text("ready\n") : Results.Text("not accepting clients\n", statusCode: 503));
        await app.StartAsync();
        return new MetricsHost(app, port);
    }

    /// <summary>A host lifetime that ignores process signals: the node stops the host when it stops.</summary>
    private sealed class NoSignalLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
