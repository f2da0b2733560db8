using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Api;

/// <summary>
/// Builds the CacheCluster CustomResourceDefinition from the C# types and their schema attributes, so the
/// committed YAML in crds/ can never drift from the code (a test regenerates and compares it).
/// </summary>
public static class CrdGenerator
{
    /// <summary>The CRD object.</summary>
    public static V1CustomResourceDefinition Build()
    {
        var root = new V1JSONSchemaProps
        {
            Type = "object",
            Description = typeof(CacheCluster).GetCustomAttribute<DocAttribute>()!.Text,
            Properties = new Dictionary<string, V1JSONSchemaProps>
            {
                ["apiVersion"] = new() { Type = "string", Description = "APIVersion defines the versioned schema of this representation of an object." },
                ["kind"] = new() { Type = "string", Description = "Kind is a string value representing the REST resource this object represents." },
                ["metadata"] = new() { Type = "object" },
                ["spec"] = ForClass(typeof(CacheClusterSpec)),
                ["status"] = ForClass(typeof(CacheClusterStatus)),
            },
        };
        // Every name made from the cluster's must be valid, so its own is bounded by the longest of them (CEL may read metadata.name).
        root.XKubernetesValidations =
        [
            new V1ValidationRule
            {
                Rule = $"self.metadata.name.size() <= {CacheClusterResource.MaxNameLength} && self.metadata.name.matches('{CacheClusterResource.NamePattern}')",
                Message = $"metadata.name must be a DNS-1035 label of at most {CacheClusterResource.MaxNameLength} characters (lower case letters, digits and '-', starting with a letter): " +
                    $"its StatefulSets <name>-shard-<i> must stay within {CacheClusterResource.MaxStatefulSetName} characters",
            },
        ];
        // An absent spec still gets its fields' defaults.
        root.Properties["spec"].DefaultProperty = new Dictionary<string, object>();

        var version = new V1CustomResourceDefinitionVersion
        {
            Name = CacheClusterResource.Version,
            Served = true,
            Storage = true,
            Schema = new V1CustomResourceValidation { OpenAPIV3Schema = root },
            Subresources = new V1CustomResourceSubresources
            {
                Status = new Dictionary<string, object>(),
                Scale = new V1CustomResourceSubresourceScale
                {
                    SpecReplicasPath = ".spec.shards",
                    StatusReplicasPath = ".status.currentShards",
                    LabelSelectorPath = ".status.selector",
                },
            },
            AdditionalPrinterColumns =
            [
                new V1CustomResourceColumnDefinition { Name = "Shards", Type = "integer", JsonPath = ".spec.shards", Description = "Desired shards" },
                new V1CustomResourceColumnDefinition { Name = "Replicas", Type = "integer", JsonPath = ".spec.replicasPerShard", Description = "Replicas per shard" },
                new V1CustomResourceColumnDefinition { Name = "Ready", Type = "integer", JsonPath = ".status.readyShards", Description = "Shards whose pods are all ready" },
                new V1CustomResourceColumnDefinition { Name = "Phase", Type = "string", JsonPath = ".status.phase", Description = "Creating, Ready, Scaling, Upgrading, Degraded or Failed" },
                new V1CustomResourceColumnDefinition { Name = "State", Type = "string", JsonPath = ".status.clusterState", Description = "cluster_state the cache nodes report (ok, fail)" },
                new V1CustomResourceColumnDefinition { Name = "Resharding", Type = "string", JsonPath = ".status.resharding.progress", Description = "Slots moved of the slots to move while resharding" },
                new V1CustomResourceColumnDefinition { Name = "Age", Type = "date", JsonPath = ".metadata.creationTimestamp" },
            ],
        };

        return new V1CustomResourceDefinition
        {
            ApiVersion = "apiextensions.k8s.io/v1",
            Kind = "CustomResourceDefinition",
            Metadata = new V1ObjectMeta
            {
                Name = CacheClusterResource.CrdName,
                Labels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "cache-operator", ["app.kubernetes.io/part-of"] = "cache-operator" },
            },
            Spec = new V1CustomResourceDefinitionSpec
            {
                Group = CacheClusterResource.Group,
                Scope = "Namespaced",
                Names = new V1CustomResourceDefinitionNames
                {
                    Kind = CacheClusterResource.Kind,
                    ListKind = CacheClusterResource.Kind + "List",
                    Plural = CacheClusterResource.Plural,
                    Singular = CacheClusterResource.Singular,
                    ShortNames = [CacheClusterResource.ShortName],
                    Categories = ["all"],
                },
                Versions = [version],
            },
        };
    }

    /// <summary>The CRD as YAML, with a header saying how it is made.</summary>
    public static string ToYaml() =>
        "# Generated by `cache-operator crds` from operator/Api; do not edit by hand.\n" + KubernetesYaml.Serialize(Build());

    /// <summary>Writes the CRD to <paramref name="directory"/> and returns the file's path.</summary>
    public static string WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, CacheClusterResource.CrdFileName);
        File.WriteAllText(path, ToYaml());
        return path;
    }

    private static V1JSONSchemaProps ForClass(Type type)
    {
        var schema = new V1JSONSchemaProps
        {
            Type = "object",
            Description = type.GetCustomAttribute<DocAttribute>()?.Text,
            Properties = new Dictionary<string, V1JSONSchemaProps>(),
        };
        var required = new List<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name
                ?? throw new InvalidOperationException($"{type.Name}.{property.Name} has no [JsonPropertyName]");
            schema.Properties[name] = ForProperty(property);
            if (property.GetCustomAttribute<RequiredFieldAttribute>() is not null)
            {
                required.Add(name);
            }
        }
        if (required.Count > 0)
        {
            schema.Required = required;
        }
        AddRules(schema, type.GetCustomAttributes<CelRuleAttribute>());
        return schema;
    }

    private static V1JSONSchemaProps ForProperty(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        V1JSONSchemaProps schema;
        if (property.GetCustomAttribute<EmbeddedKubernetesTypeAttribute>() is not null)
        {
            var embedded = new V1JSONSchemaProps { Type = "object", XKubernetesPreserveUnknownFields = true };
            schema = IsList(type) ? new V1JSONSchemaProps { Type = "array", Items = embedded } : embedded;
        }
        else
        {
            schema = ForType(type);
        }
        schema.Description = property.GetCustomAttribute<DocAttribute>()?.Text
            ?? throw new InvalidOperationException($"{property.DeclaringType!.Name}.{property.Name} has no [Doc]: kubectl explain needs one");
        if (property.GetCustomAttribute<SchemaDefaultAttribute>() is { } defaultValue)
        {
            schema.DefaultProperty = defaultValue.Value;
        }
        if (property.GetCustomAttribute<RangeAttribute>() is { } range)
        {
            schema.Minimum = range.Minimum;
            if (range.Maximum != long.MaxValue)
            {
                schema.Maximum = range.Maximum;
            }
        }
        if (property.GetCustomAttribute<OneOfAttribute>() is { } oneOf)
        {
            schema.EnumProperty = oneOf.Values.Cast<object>().ToList();
        }
        if (property.GetCustomAttribute<PatternAttribute>() is { } pattern)
        {
            schema.Pattern = pattern.Regex;
        }
        if (property.GetCustomAttribute<QuantityAttribute>() is not null)
        {
            (schema.AdditionalProperties as V1JSONSchemaProps ?? schema).Pattern = QuantityAttribute.Pattern;
        }
        AddRules(schema, property.GetCustomAttributes<CelRuleAttribute>());
        return schema;
    }

    private static V1JSONSchemaProps ForType(Type type)
    {
        if (type == typeof(string))
        {
            return new V1JSONSchemaProps { Type = "string" };
        }
        if (type == typeof(bool))
        {
            return new V1JSONSchemaProps { Type = "boolean" };
        }
        if (type == typeof(int))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int32" };
        }
        if (type == typeof(long))
        {
            return new V1JSONSchemaProps { Type = "integer", Format = "int64" };
        }
        if (type == typeof(DateTime))
        {
            return new V1JSONSchemaProps { Type = "string", Format = "date-time" };
        }
        if (type == typeof(Dictionary<string, string>))
        {
            return new V1JSONSchemaProps { Type = "object", AdditionalProperties = new V1JSONSchemaProps { Type = "string" } };
        }
        if (IsList(type))
        {
            return new V1JSONSchemaProps { Type = "array", Items = ForType(type.GetGenericArguments()[0]) };
        }
        if (type.IsClass)
        {
            return ForClass(type);
        }
        throw new InvalidOperationException($"no schema for {type}");
    }

    private static bool IsList(Type type) => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>);

    private static void AddRules(V1JSONSchemaProps schema, IEnumerable<CelRuleAttribute> rules)
    {
        // Rules of a property come after those of its class, never instead of them.
        var list = (schema.XKubernetesValidations ?? []).Concat(rules.Select(r => new V1ValidationRule { Rule = r.Rule, Message = r.Message })).ToList();
        if (list.Count > 0)
        {
            schema.XKubernetesValidations = list;
        }
    }
}
