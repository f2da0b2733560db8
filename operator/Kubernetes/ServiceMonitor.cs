using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>The Prometheus operator's ServiceMonitor (monitoring.coreos.com/v1), the fields the operator sets.</summary>
public sealed class ServiceMonitor : IKubernetesObject<V1ObjectMeta>
{
    /// <summary>monitoring.coreos.com/v1.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "monitoring.coreos.com/v1";

    /// <summary>ServiceMonitor.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "ServiceMonitor";

    /// <summary>Metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>Spec.</summary>
    [JsonPropertyName("spec")]
    public ServiceMonitorSpec Spec { get; set; } = new();
}

/// <summary>Which Services to scrape and how.</summary>
public sealed class ServiceMonitorSpec
{
    /// <summary>Services to scrape.</summary>
    [JsonPropertyName("selector")]
    public V1LabelSelector Selector { get; set; } = new();

    /// <summary>Pod labels copied onto the scraped series.</summary>
    [JsonPropertyName("podTargetLabels")]
    public List<string>? PodTargetLabels { get; set; }

    /// <summary>Ports to scrape.</summary>
    [JsonPropertyName("endpoints")]
    public List<ServiceMonitorEndpoint> Endpoints { get; set; } = [];
}

/// <summary>One scraped port.</summary>
public sealed class ServiceMonitorEndpoint
{
    /// <summary>Service port name.</summary>
    [JsonPropertyName("port")]
    public string Port { get; set; } = "";

    /// <summary>HTTP path.</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "/metrics";

    /// <summary>Scrape interval.</summary>
    [JsonPropertyName("interval")]
    public string? Interval { get; set; }
}
