using System.Net;
using CacheOperator.Node.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace CacheOperator.Node.Monitoring;

/// <summary>
/// The HTTP endpoint on the metrics port: /metrics (OpenTelemetry's Prometheus exporter), /healthz
/// (the process answers) and /readyz (the node accepts clients), for Prometheus and Kubernetes probes.
/// </summary>
/// <remarks>
/// Kestrel runs without the generic host, dependency injection container, configuration, logging or
/// routing, and the requests go through one middleware pipeline that branches on the path: every
/// assembly left out is memory the idle node does not map (README, "Metrics").
/// </remarks>
public sealed class MetricsHost : IAsyncDisposable
{
    private readonly KestrelServer _kestrel;
    private readonly MeterProvider _meters;

    private MetricsHost(KestrelServer kestrel, MeterProvider meters, int port)
    {
        _kestrel = kestrel;
        _meters = meters;
        Port = port;
    }

    /// <summary>The port listened on.</summary>
    public int Port { get; }

    /// <summary>Starts serving <paramref name="server"/>'s metrics on <paramref name="port"/> (all addresses, or loopback only when asked).</summary>
    public static async Task<MetricsHost> StartAsync(NodeServer server, int port, bool loopbackOnly = false)
    {
        // Built now, not at the first scrape: the duration histogram records only while a provider listens.
        // Prometheus's text format has no min and max, so the histogram does not keep them (less work per command).
        var meters = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("cache-node", serviceVersion: Program.Version))
            .AddMeter(server.Metrics.MeterName)
            .AddView(NodeMetrics.CommandDurationInstrument, new ExplicitBucketHistogramConfiguration { Boundaries = NodeMetrics.DurationBuckets, RecordMinMax = false })
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0)
            .Build();
        var services = new NoServices();
        var options = new KestrelServerOptions { ApplicationServices = services };
        if (loopbackOnly)
        {
            options.Listen(IPAddress.Loopback, port);
        }
        else
        {
            options.ListenAnyIP(port);
        }
        var kestrel = new KestrelServer(Options.Create(options), new SocketTransportFactory(Options.Create(new SocketTransportOptions()), NullLoggerFactory.Instance), NullLoggerFactory.Instance);
        try
        {
            await kestrel.StartAsync(new Application(Pipeline(services, meters, server)), CancellationToken.None);
        }
        catch
        {
            kestrel.Dispose();
            meters.Dispose();
            throw;
        }
        return new MetricsHost(kestrel, meters, port);
    }

    /// <summary>/metrics through the exporter's middleware; /healthz and /readyz answered here; anything else 404.</summary>
    private static RequestDelegate Pipeline(IServiceProvider services, MeterProvider meters, NodeServer server)
    {
        var app = new ApplicationBuilder(services);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meters, predicate: null, path: "/metrics", configureBranchedPipeline: null, optionsName: null);
        app.Run(context =>
        {
            var response = context.Response;
            var path = context.Request.Path;
            if (Is(path, "/healthz"))
            {
                return Text(response, 200, "ok\n");
            }
            if (Is(path, "/readyz"))
            {
                return server.IsAcceptingClients ? Text(response, 200, "ready\n") : Text(response, 503, "not accepting clients\n");
            }
            response.StatusCode = 404;
            return Task.CompletedTask;
        });
        return app.Build();
    }

    /// <summary>The path matches as routing would match it: ignoring case and a trailing slash.</summary>
    private static bool Is(PathString path, string expected) =>
        (path.Value ?? "").AsSpan().TrimEnd('/').Equals(expected, StringComparison.OrdinalIgnoreCase);

    private static Task Text(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = text.Length; // ASCII
        return response.WriteAsync(text);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _kestrel.StopAsync(CancellationToken.None);
        _kestrel.Dispose();
        _meters.Dispose();
    }

    /// <summary>Kestrel's application: a request context over Kestrel's features, run through the pipeline.</summary>
    private sealed class Application(RequestDelegate pipeline) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => pipeline(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }

    /// <summary>The pipeline's services: there are none (the exporter's middleware gets its meter provider directly).</summary>
    private sealed class NoServices : IServiceProvider
    {
        public object? GetService(Type serviceType) => null;
    }
}
