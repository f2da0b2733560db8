using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace CacheOperator.Chart.Tests.Infrastructure;

/// <summary>Parses rendered manifests with KubernetesClient's model types.</summary>
public static class KubernetesModels
{
    /// <summary>The typed model of every built-in kind the chart renders.</summary>
    public static IReadOnlyDictionary<string, Type> TypedKinds { get; } = new Dictionary<string, Type>
    {
        ["v1/ServiceAccount"] = typeof(V1ServiceAccount),
        ["v1/Service"] = typeof(V1Service),
        ["v1/ConfigMap"] = typeof(V1ConfigMap),
        ["apps/v1/Deployment"] = typeof(V1Deployment),
        ["policy/v1/PodDisruptionBudget"] = typeof(V1PodDisruptionBudget),
        ["rbac.authorization.k8s.io/v1/ClusterRole"] = typeof(V1ClusterRole),
        ["rbac.authorization.k8s.io/v1/ClusterRoleBinding"] = typeof(V1ClusterRoleBinding),
        ["rbac.authorization.k8s.io/v1/Role"] = typeof(V1Role),
        ["rbac.authorization.k8s.io/v1/RoleBinding"] = typeof(V1RoleBinding),
        ["apiextensions.k8s.io/v1/CustomResourceDefinition"] = typeof(V1CustomResourceDefinition),
    };

    /// <summary>Kinds of the Prometheus Operator, which KubernetesClient has no models for: parsed as generic objects.</summary>
    public static IReadOnlySet<string> GenericKinds { get; } = new HashSet<string>
    {
        "monitoring.coreos.com/v1/ServiceMonitor",
        "monitoring.coreos.com/v1/PrometheusRule",
    };

    /// <summary>Parses a typed manifest strictly: an unknown or misspelt field fails.</summary>
    public static T Parse<T>(RenderedManifest manifest) => KubernetesYaml.Deserialize<T>(manifest.Yaml, strict: true);

    /// <summary>Parses any manifest the chart renders: typed when KubernetesClient has the kind, else generic.</summary>
    public static object ParseAny(RenderedManifest manifest)
    {
        var key = manifest.ApiVersion + "/" + manifest.Kind;
        if (TypedKinds.TryGetValue(key, out var type))
        {
            var parse = typeof(KubernetesModels).GetMethod(nameof(Parse))!.MakeGenericMethod(type);
            try
            {
                return parse.Invoke(null, [manifest]) ?? throw new FormatException($"{manifest} parsed as null");
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }
        if (GenericKinds.Contains(key))
        {
            var generic = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(manifest.Yaml);
            if (!generic.ContainsKey("spec"))
            {
                throw new FormatException($"{manifest} has no spec");
            }
            return generic;
        }
        throw new NotSupportedException($"The chart renders {key}, which no test knows how to parse");
    }
}
