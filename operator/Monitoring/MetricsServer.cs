using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace CacheOperator.Operator.Monitoring;

/// <summary>
/// The operator's HTTP endpoint: /metrics (OpenTelemetry's Prometheus exporter over
/// <see cref="OperatorMetrics"/>), /healthz and /readyz.
/// </summary>
public static class MetricsServer
{
    /// <summary>
    /// Starts serving on <paramref name="port"/> (0: a free port; see the returned app's Urls). /readyz answers 200 or
    /// 503 with <paramref name="readiness"/>'s detail (always ready without one).
    /// </summary>
    public static async Task<WebApplication> StartAsync(int port, OperatorMetrics metrics, CancellationToken cancellationToken, Func<(bool Ready, string Detail)>? readiness = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://0.0.0.0:{port}");
        builder.Services.AddSingleton(metrics);
        builder.Services.AddOpenTelemetry().WithMetrics(m => m
            .AddMeter(metrics.Name)
            .AddPrometheusExporter(o => o.DisableTotalNameSuffixForCounters = false));
        var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/healthz", () => Results.Text("ok"));
        app.MapGet("/readyz", () =>
        {
            var (ready, detail) = readiness?.Invoke() ?? (true, "ok");
            return Results.Text(detail, statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
        await app.StartAsync(cancellationToken);
        return app;
    }
}
