using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Api;

/// <summary>A cluster of cache nodes: shards, each a master with replicas, run by the operator.</summary>
[KubernetesEntity(Group = CacheClusterResource.Group, ApiVersion = CacheClusterResource.Version, Kind = CacheClusterResource.Kind, PluralName = CacheClusterResource.Plural)]
[Doc("A CacheCluster is a sharded, Redis-compatible cache: spec.shards masters, each with spec.replicasPerShard replicas, run as one StatefulSet per shard.")]
public sealed class CacheCluster : IKubernetesObject<V1ObjectMeta>, ISpec<CacheClusterSpec>, IStatus<CacheClusterStatus?>
{
    /// <summary>cacheoperator.io/v1alpha1.</summary>
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = CacheClusterResource.ApiVersion;

    /// <summary>CacheCluster.</summary>
    [JsonPropertyName("kind")]
    public string Kind { get; set; } = CacheClusterResource.Kind;

    /// <summary>Standard object metadata.</summary>
    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>What the user asked for.</summary>
    [JsonPropertyName("spec")]
    public CacheClusterSpec Spec { get; set; } = new();

    /// <summary>What the operator observed; written only through the status subresource.</summary>
    [JsonPropertyName("status")]
    public CacheClusterStatus? Status { get; set; }
}

/// <summary>The desired cluster.</summary>
[CelRule("!has(self.maxMemory) || !has(self.resources) || !has(self.resources.limits) || !('memory' in self.resources.limits) || quantity(self.maxMemory).compareTo(quantity(self.resources.limits['memory'])) <= 0",
    "spec.maxMemory must not be above spec.resources.limits.memory")]
[CelRule("!has(self.persistence) || !self.persistence.enabled || has(self.persistence.size)", "spec.persistence.size is required when persistence is enabled")]
[CelRule("has(self.persistence) == has(oldSelf.persistence)",
    "spec.persistence cannot be added or removed: it makes the StatefulSets' volumeClaimTemplates, which Kubernetes does not allow to change; create a new cluster")]
[Doc("The desired state of a CacheCluster.")]
public sealed class CacheClusterSpec
{
    /// <summary>Number of shards (masters); the scale subresource maps to it.</summary>
    [JsonPropertyName("shards")]
    [Doc("Number of shards. Each shard is a StatefulSet <name>-shard-<i> with one master and replicasPerShard replicas; the 16384 hash slots are divided among the shards. Reducing it is refused while the removed shards still own slots.")]
    [SchemaDefault(1)]
    [Range(1, CacheClusterResource.MaxShards)]
    public int Shards { get; set; } = 1;

    /// <summary>Replicas per shard.</summary>
    [JsonPropertyName("replicasPerShard")]
    [Doc("Number of replicas of each shard's master; each shard runs 1 + replicasPerShard pods, spread across nodes by pod anti-affinity.")]
    [SchemaDefault(0)]
    [Range(0, 10)]
    public int ReplicasPerShard { get; set; }

    /// <summary>Container image of the cache node.</summary>
    [JsonPropertyName("image")]
    [Doc("Container image of the cache node (the cache-node binary).")]
    [SchemaDefault("ghcr.io/cacheoperator/cache-node:latest")]
    public string Image { get; set; } = "ghcr.io/cacheoperator/cache-node:latest";

    /// <summary>Image pull policy.</summary>
    [JsonPropertyName("imagePullPolicy")]
    [Doc("When the kubelet pulls the image: Always, IfNotPresent or Never.")]
    [SchemaDefault("IfNotPresent")]
    [OneOf("Always", "IfNotPresent", "Never")]
    public string ImagePullPolicy { get; set; } = "IfNotPresent";

    /// <summary>Container resources.</summary>
    [JsonPropertyName("resources")]
    [Doc("Compute resources of each cache node container. limits.memory bounds maxMemory.")]
    public ResourceRequirementsSpec? Resources { get; set; }

    /// <summary>Memory for data.</summary>
    [JsonPropertyName("maxMemory")]
    [Doc("Memory for data per node, a Kubernetes quantity (e.g. 1Gi). The node's maxmemory is this, capped so that headroom (10% of the memory limit, at least 16Mi) stays free below the container's memory limit. Must not be above resources.limits.memory. Unset: the limit minus headroom, or no limit.")]
    [Quantity]
    public string? MaxMemory { get; set; }

    /// <summary>maxmemory-policy.</summary>
    [JsonPropertyName("evictionPolicy")]
    [Doc("What a node does when maxmemory is reached (the node's maxmemory-policy).")]
    [SchemaDefault("noeviction")]
    [OneOf("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl")]
    public string EvictionPolicy { get; set; } = "noeviction";

    /// <summary>Extra node directives.</summary>
    [JsonPropertyName("config")]
    [Doc("Extra node configuration directives (name: value), validated against the node's directive catalog. Directives the operator sets itself (port, bind, maxmemory, maxmemory-policy, requirepass) are refused.")]
    public Dictionary<string, string>? Config { get; set; }

    /// <summary>Authentication.</summary>
    [JsonPropertyName("auth")]
    [Doc("Client authentication.")]
    public AuthSpec? Auth { get; set; }

    /// <summary>Persistence.</summary>
    [JsonPropertyName("persistence")]
    [Doc("A PersistentVolumeClaim per pod for the node's data directory. Immutable: it makes the StatefulSets' volumeClaimTemplates, which Kubernetes does not allow to change.")]
    [CelRule("self == oldSelf", "spec.persistence is immutable: it makes the StatefulSets' volumeClaimTemplates, which Kubernetes does not allow to change; create a new cluster")]
    public PersistenceSpec? Persistence { get; set; }

    /// <summary>Metrics.</summary>
    [JsonPropertyName("metrics")]
    [Doc("Prometheus metrics of the nodes (port 9121).")]
    public MetricsSpec? Metrics { get; set; }

    /// <summary>Pod template overrides.</summary>
    [JsonPropertyName("podTemplate")]
    [Doc("Additions to the pods the operator creates.")]
    public PodTemplateSpec? PodTemplate { get; set; }

    /// <summary>Client Service.</summary>
    [JsonPropertyName("service")]
    [Doc("The client Service <name>.")]
    public ServiceSpec? Service { get; set; }
}

/// <summary>Requests and limits as quantities.</summary>
[Doc("Compute resources: requests and limits of cpu and memory, as Kubernetes quantities.")]
public sealed class ResourceRequirementsSpec
{
    /// <summary>Requests.</summary>
    [JsonPropertyName("requests")]
    [Doc("Minimum resources the scheduler reserves, e.g. {cpu: 100m, memory: 256Mi}.")]
    [Quantity]
    public Dictionary<string, string>? Requests { get; set; }

    /// <summary>Limits.</summary>
    [JsonPropertyName("limits")]
    [Doc("Maximum resources, e.g. {memory: 1Gi}; the node is killed above limits.memory, so maxMemory stays below it.")]
    [Quantity]
    public Dictionary<string, string>? Limits { get; set; }
}

/// <summary>Password from a Secret.</summary>
[Doc("Client authentication.")]
public sealed class AuthSpec
{
    /// <summary>The Secret with the password.</summary>
    [JsonPropertyName("secretRef")]
    [Doc("The Secret (in the CacheCluster's namespace) and key holding the password clients give with AUTH.")]
    public SecretKeyRef? SecretRef { get; set; }
}

/// <summary>A key of a Secret.</summary>
[Doc("A key in a Secret of the same namespace.")]
public sealed class SecretKeyRef
{
    /// <summary>Secret name.</summary>
    [JsonPropertyName("name")]
    [Doc("Name of the Secret.")]
    [RequiredField]
    public string Name { get; set; } = "";

    /// <summary>Key in the Secret.</summary>
    [JsonPropertyName("key")]
    [Doc("Key in the Secret whose value is the password.")]
    [SchemaDefault("password")]
    public string Key { get; set; } = "password";
}

/// <summary>Persistent volumes.</summary>
[Doc("Persistent storage for each pod.")]
public sealed class PersistenceSpec
{
    /// <summary>On or off.</summary>
    [JsonPropertyName("enabled")]
    [Doc("Give each pod a PersistentVolumeClaim (volumeClaimTemplates of the StatefulSet).")]
    [SchemaDefault(false)]
    public bool Enabled { get; set; }

    /// <summary>Storage class.</summary>
    [JsonPropertyName("storageClassName")]
    [Doc("StorageClass of the claims; unset uses the cluster's default.")]
    public string? StorageClassName { get; set; }

    /// <summary>Claim size.</summary>
    [JsonPropertyName("size")]
    [Doc("Size of each claim, a Kubernetes quantity such as 1Gi.")]
    [Quantity]
    public string? Size { get; set; }

    /// <summary>What happens to the claims when pods or shards go away.</summary>
    [JsonPropertyName("pvcRetention")]
    [Doc("What happens to the claims when replicas are scaled down or a shard (StatefulSet) is deleted, on scale-in or with the cluster; passed to the StatefulSets' persistentVolumeClaimRetentionPolicy. Default: Retain both.")]
    public PvcRetentionSpec? PvcRetention { get; set; }
}

/// <summary>StatefulSet persistentVolumeClaimRetentionPolicy, as the cluster's setting.</summary>
[Doc("Retain or Delete, as a StatefulSet's persistentVolumeClaimRetentionPolicy.")]
public sealed class PvcRetentionSpec
{
    /// <summary>Claims of pods removed by scaling replicasPerShard down.</summary>
    [JsonPropertyName("whenScaled")]
    [Doc("Claims of pods removed when replicasPerShard goes down: Retain (kept, reused if it goes up again) or Delete.")]
    [OneOf("Retain", "Delete")]
    [SchemaDefault("Retain")]
    public string WhenScaled { get; set; } = "Retain";

    /// <summary>Claims of a deleted shard.</summary>
    [JsonPropertyName("whenDeleted")]
    [Doc("Claims of a shard whose StatefulSet is deleted (scale-in of shards, or the cluster deleted): Retain or Delete.")]
    [OneOf("Retain", "Delete")]
    [SchemaDefault("Retain")]
    public string WhenDeleted { get; set; } = "Retain";
}

/// <summary>Metrics settings.</summary>
[Doc("Metrics settings.")]
public sealed class MetricsSpec
{
    /// <summary>Expose metrics.</summary>
    [JsonPropertyName("enabled")]
    [Doc("Expose the node's metrics port 9121 on the Services and annotate pods for scraping.")]
    [SchemaDefault(true)]
    public bool Enabled { get; set; } = true;

    /// <summary>Create a ServiceMonitor.</summary>
    [JsonPropertyName("serviceMonitor")]
    [Doc("Create a ServiceMonitor <name> for the Prometheus operator (only when the monitoring.coreos.com CRD exists).")]
    [SchemaDefault(false)]
    public bool ServiceMonitor { get; set; }
}

/// <summary>Pod template additions.</summary>
[Doc("Additions to the pods of every shard.")]
public sealed class PodTemplateSpec
{
    /// <summary>Extra pod labels.</summary>
    [JsonPropertyName("labels")]
    [Doc("Extra labels on the pods (the operator's app.kubernetes.io/* labels win).")]
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Extra pod annotations.</summary>
    [JsonPropertyName("annotations")]
    [Doc("Extra annotations on the pods.")]
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>Node selector.</summary>
    [JsonPropertyName("nodeSelector")]
    [Doc("Node labels the pods must run on.")]
    public Dictionary<string, string>? NodeSelector { get; set; }

    /// <summary>Tolerations.</summary>
    [JsonPropertyName("tolerations")]
    [Doc("Pod tolerations (core/v1 Toleration).")]
    [EmbeddedKubernetesType]
    public List<V1Toleration>? Tolerations { get; set; }

    /// <summary>Affinity.</summary>
    [JsonPropertyName("affinity")]
    [Doc("Pod affinity (core/v1 Affinity); the operator adds its anti-affinity between a shard's pods unless podAntiAffinity is given.")]
    [EmbeddedKubernetesType]
    public V1Affinity? Affinity { get; set; }

    /// <summary>Topology spread.</summary>
    [JsonPropertyName("topologySpreadConstraints")]
    [Doc("Pod topology spread constraints (core/v1 TopologySpreadConstraint).")]
    [EmbeddedKubernetesType]
    public List<V1TopologySpreadConstraint>? TopologySpreadConstraints { get; set; }

    /// <summary>Priority class.</summary>
    [JsonPropertyName("priorityClassName")]
    [Doc("PriorityClass of the pods.")]
    public string? PriorityClassName { get; set; }

    /// <summary>Pod security context.</summary>
    [JsonPropertyName("securityContext")]
    [Doc("Pod security context (core/v1 PodSecurityContext); default: non-root user 1654 (the image's app user), RuntimeDefault seccomp.")]
    [EmbeddedKubernetesType]
    public V1PodSecurityContext? SecurityContext { get; set; }
}

/// <summary>Client Service settings.</summary>
[Doc("The client Service.")]
public sealed class ServiceSpec
{
    /// <summary>Service type.</summary>
    [JsonPropertyName("type")]
    [Doc("Service type of the client Service.")]
    [SchemaDefault("ClusterIP")]
    [OneOf("ClusterIP", "NodePort", "LoadBalancer")]
    public string Type { get; set; } = "ClusterIP";

    /// <summary>Service annotations.</summary>
    [JsonPropertyName("annotations")]
    [Doc("Annotations on the client Service (e.g. for a cloud load balancer).")]
    public Dictionary<string, string>? Annotations { get; set; }
}
