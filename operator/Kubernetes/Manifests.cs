using System.Security.Cryptography;
using System.Text;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// The desired Kubernetes objects of a CacheCluster, computed by pure functions of the cluster and its
/// validated plan. Objects per cluster NAME: ConfigMap NAME-config, headless Service NAME-headless (pod
/// DNS NAME-shard-I-J.NAME-headless), client Service NAME, StatefulSet and PodDisruptionBudget NAME-shard-I
/// per shard, ServiceMonitor NAME when asked for.
/// </summary>
public static class Manifests
{
    /// <summary>Port of the node's metrics, health and readiness endpoints.</summary>
    public const int MetricsPort = 9121;

    /// <summary>Where the config file is mounted.</summary>
    public const string ConfigDirectory = "/etc/cache-node";

    /// <summary>Key of the config file in the ConfigMap.</summary>
    public const string ConfigKey = "node.conf";

    /// <summary>Where the data volume is mounted.</summary>
    public const string DataDirectory = SpecValidator.DataDirectory;

    /// <summary>Environment variable holding the pod's name (downward API), for the announced hostname.</summary>
    public const string PodNameVariable = "POD_NAME";

    /// <summary>Environment variable holding the password from the Secret.</summary>
    public const string PasswordVariable = "CACHE_PASSWORD";

    /// <summary>Pod annotation with the config's hash, so a config change rolls the pods.</summary>
    public const string ConfigHashAnnotation = "cacheoperator.io/config-hash";

    /// <summary>The .NET chiseled images' non-root user (app, uid 1654).</summary>
    public const long NonRootUser = 1654;

    /// <summary>Label with the shard number.</summary>
    public const string ShardLabel = "cacheoperator.io/shard";

    /// <summary>The ServiceMonitor CRD's name.</summary>
    public const string ServiceMonitorCrd = "servicemonitors.monitoring.coreos.com";

    /// <summary>Labels every object of the cluster carries.</summary>
    public static Dictionary<string, string> ClusterLabels(CacheCluster cluster, string component) => new()
    {
        ["app.kubernetes.io/name"] = "cache-node",
        ["app.kubernetes.io/instance"] = cluster.Metadata.Name,
        ["app.kubernetes.io/component"] = component,
        ["app.kubernetes.io/managed-by"] = "cache-operator",
        ["app.kubernetes.io/part-of"] = "cache-operator",
    };

    /// <summary>Labels of shard <paramref name="index"/>'s StatefulSet and pods.</summary>
    public static Dictionary<string, string> ShardLabels(CacheCluster cluster, int index)
    {
        var labels = ClusterLabels(cluster, "shard");
        labels[ShardLabel] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return labels;
    }

    /// <summary>The immutable selector of shard <paramref name="index"/>'s pods.</summary>
    public static Dictionary<string, string> ShardSelector(CacheCluster cluster, int index) => new()
    {
        ["app.kubernetes.io/name"] = "cache-node",
        ["app.kubernetes.io/instance"] = cluster.Metadata.Name,
        [ShardLabel] = index.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The owner reference making the object the cluster's (garbage-collected with it).</summary>
    public static V1OwnerReference OwnerReference(CacheCluster cluster) => new()
    {
        ApiVersion = CacheClusterResource.ApiVersion,
        Kind = CacheClusterResource.Kind,
        Name = cluster.Metadata.Name,
        Uid = cluster.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>Every object the cluster needs, shared objects first, then each shard's.</summary>
    public static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> All(CacheCluster cluster, ClusterPlan plan, bool serviceMonitorAvailable)
    {
        var objects = new List<IKubernetesObject<V1ObjectMeta>> { ConfigMap(cluster, plan), HeadlessService(cluster), ClientService(cluster) };
        for (var i = 0; i < plan.Shards; i++)
        {
            objects.Add(StatefulSet(cluster, plan, i));
            objects.Add(DisruptionBudget(cluster, i));
        }
        if (cluster.Spec.Metrics is { Enabled: true, ServiceMonitor: true } && serviceMonitorAvailable)
        {
            objects.Add(ServiceMonitorFor(cluster));
        }
        return objects;
    }

    /// <summary>NAME-config with the node's configuration file.</summary>
    public static V1ConfigMap ConfigMap(CacheCluster cluster, ClusterPlan plan) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = Meta(cluster, ConfigMapName(cluster), ClusterLabels(cluster, "config")),
        Data = new Dictionary<string, string> { [ConfigKey] = plan.NodeConfig },
    };

    /// <summary>Name of the ConfigMap.</summary>
    public static string ConfigMapName(CacheCluster cluster) => cluster.Metadata.Name + "-config";

    /// <summary>Name of the headless Service.</summary>
    public static string HeadlessServiceName(CacheCluster cluster) => cluster.Metadata.Name + "-headless";

    /// <summary>NAME-headless: DNS for every pod, ready or not (nodes must find peers before they are ready).</summary>
    public static V1Service HeadlessService(CacheCluster cluster) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Meta(cluster, HeadlessServiceName(cluster), ClusterLabels(cluster, "headless")),
        Spec = new V1ServiceSpec
        {
            ClusterIP = "None",
            PublishNotReadyAddresses = true,
            Selector = PodSelector(cluster),
            Ports = Ports(cluster),
        },
    };

    /// <summary>NAME: the address clients use.</summary>
    public static V1Service ClientService(CacheCluster cluster)
    {
        var service = new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Meta(cluster, cluster.Metadata.Name, ClusterLabels(cluster, "client")),
            Spec = new V1ServiceSpec
            {
                Type = cluster.Spec.Service?.Type ?? "ClusterIP",
                Selector = PodSelector(cluster),
                Ports = Ports(cluster),
            },
        };
        if (cluster.Spec.Service?.Annotations is { Count: > 0 } annotations)
        {
            service.Metadata.Annotations = new Dictionary<string, string>(annotations);
        }
        return service;
    }

    /// <summary>NAME-shard-I: the master and replicas of one shard.</summary>
    public static V1StatefulSet StatefulSet(CacheCluster cluster, ClusterPlan plan, int index)
    {
        var spec = cluster.Spec;
        var labels = ShardLabels(cluster, index);
        var podLabels = new Dictionary<string, string>(spec.PodTemplate?.Labels ?? []);
        foreach (var (key, value) in labels)
        {
            podLabels[key] = value;
        }
        var podAnnotations = new Dictionary<string, string>(spec.PodTemplate?.Annotations ?? [])
        {
            [ConfigHashAnnotation] = Hash(plan.NodeConfig),
        };
        if (MetricsEnabled(cluster))
        {
            podAnnotations["prometheus.io/scrape"] = "true";
            podAnnotations["prometheus.io/port"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            podAnnotations["prometheus.io/path"] = "/metrics";
        }

        // Each node announces its stable DNS name under the headless Service, so a restart with new pod IPs converges and
        // MOVED replies name hosts that survive it. The kubelet expands $(POD_NAME) in args.
        var args = new List<string>
        {
            $"{ConfigDirectory}/{ConfigKey}",
            "--cluster-announce-hostname", $"$({PodNameVariable}).{HeadlessServiceName(cluster)}.{cluster.Metadata.NamespaceProperty}.svc",
        };
        var env = new List<V1EnvVar>
        {
            new() { Name = PodNameVariable, ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } } },
        };
        if (spec.Auth?.SecretRef is { } secret)
        {
            env.Add(new V1EnvVar
            {
                Name = PasswordVariable,
                ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret.Name, Key = secret.Key } },
            });
            // The kubelet expands $(VAR) in args, so the password never lands in the ConfigMap. Replicas authenticate to
            // their master with the same password.
            args.AddRange(["--requirepass", $"$({PasswordVariable})", "--masterauth", $"$({PasswordVariable})"]);
        }

        // The root filesystem is read-only; the runtime still wants a writable /tmp.
        var mounts = new List<V1VolumeMount>
        {
            new() { Name = "config", MountPath = ConfigDirectory, ReadOnlyProperty = true },
            new() { Name = "tmp", MountPath = "/tmp" },
        };
        var volumes = new List<V1Volume>
        {
            new() { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = ConfigMapName(cluster) } },
            new() { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
        };
        List<V1PersistentVolumeClaim>? claims = null;
        if (spec.Persistence is { Enabled: true } persistence)
        {
            mounts.Add(new V1VolumeMount { Name = "data", MountPath = DataDirectory });
            claims =
            [
                new V1PersistentVolumeClaim
                {
                    ApiVersion = "v1",
                    Kind = "PersistentVolumeClaim",
                    Metadata = new V1ObjectMeta { Name = "data", Labels = ShardSelector(cluster, index) },
                    Spec = new V1PersistentVolumeClaimSpec
                    {
                        AccessModes = ["ReadWriteOnce"],
                        StorageClassName = persistence.StorageClassName,
                        Resources = new V1VolumeResourceRequirements
                        {
                            Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new(persistence.Size!) },
                        },
                    },
                },
            ];
        }

        var container = new V1Container
        {
            Name = "cache-node",
            Image = spec.Image,
            ImagePullPolicy = spec.ImagePullPolicy,
            Args = args,
            Env = env,
            Ports =
            [
                new V1ContainerPort { Name = "resp", ContainerPort = SpecValidator.RespPort, Protocol = "TCP" },
                new V1ContainerPort { Name = "bus", ContainerPort = SpecValidator.BusPort, Protocol = "TCP" },
                new V1ContainerPort { Name = "metrics", ContainerPort = MetricsPort, Protocol = "TCP" },
            ],
            ReadinessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = MetricsPort },
                PeriodSeconds = 5,
                TimeoutSeconds = 2,
                FailureThreshold = 3,
            },
            LivenessProbe = new V1Probe
            {
                HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = MetricsPort },
                InitialDelaySeconds = 10,
                PeriodSeconds = 10,
                TimeoutSeconds = 2,
                FailureThreshold = 6,
            },
            Resources = Resources(spec.Resources),
            VolumeMounts = mounts,
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false,
                ReadOnlyRootFilesystem = true,
                RunAsNonRoot = true,
                Capabilities = new V1Capabilities { Drop = ["ALL"] },
            },
        };

        var overrides = spec.PodTemplate;
        var affinity = overrides?.Affinity is { } given
            ? new V1Affinity { NodeAffinity = given.NodeAffinity, PodAffinity = given.PodAffinity, PodAntiAffinity = given.PodAntiAffinity ?? ShardAntiAffinity(cluster, index) }
            : new V1Affinity { PodAntiAffinity = ShardAntiAffinity(cluster, index) };

        return new V1StatefulSet
        {
            ApiVersion = "apps/v1",
            Kind = "StatefulSet",
            Metadata = Meta(cluster, CacheClusterReconciler.ShardName(cluster, index), labels),
            Spec = new V1StatefulSetSpec
            {
                Replicas = 1 + plan.ReplicasPerShard,
                ServiceName = HeadlessServiceName(cluster),
                PodManagementPolicy = "Parallel",
                Selector = new V1LabelSelector { MatchLabels = ShardSelector(cluster, index) },
                UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "RollingUpdate" },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = podLabels, Annotations = podAnnotations },
                    Spec = new V1PodSpec
                    {
                        Containers = [container],
                        Volumes = volumes,
                        Affinity = affinity,
                        NodeSelector = overrides?.NodeSelector is { Count: > 0 } selector ? new Dictionary<string, string>(selector) : null,
                        Tolerations = overrides?.Tolerations is { Count: > 0 } tolerations ? tolerations : null,
                        TopologySpreadConstraints = overrides?.TopologySpreadConstraints is { Count: > 0 } spread ? spread : ClusterSpread(cluster),
                        PriorityClassName = overrides?.PriorityClassName,
                        SecurityContext = overrides?.SecurityContext ?? new V1PodSecurityContext
                        {
                            RunAsNonRoot = true,
                            RunAsUser = NonRootUser,
                            RunAsGroup = NonRootUser,
                            FsGroup = NonRootUser,
                            SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
                        },
                        TerminationGracePeriodSeconds = 30,
                        EnableServiceLinks = false,
                    },
                },
                VolumeClaimTemplates = claims,
                PersistentVolumeClaimRetentionPolicy = claims is null ? null : new V1StatefulSetPersistentVolumeClaimRetentionPolicy
                {
                    WhenScaled = spec.Persistence?.PvcRetention?.WhenScaled ?? "Retain",
                    WhenDeleted = spec.Persistence?.PvcRetention?.WhenDeleted ?? "Retain",
                },
            },
        };
    }

    /// <summary>
    /// A shard's pods never share a Kubernetes node, so one node failure takes at most one copy of a shard's data (a replica
    /// is only worth its memory on another node). A pod that cannot be placed stays Pending and the status says so.
    /// </summary>
    public static V1PodAntiAffinity ShardAntiAffinity(CacheCluster cluster, int index) => new()
    {
        RequiredDuringSchedulingIgnoredDuringExecution =
        [
            new V1PodAffinityTerm
            {
                TopologyKey = "kubernetes.io/hostname",
                LabelSelector = new V1LabelSelector { MatchLabels = ShardSelector(cluster, index) },
            },
        ],
    };

    /// <summary>
    /// Spread all of the cluster's pods over nodes and zones (best effort), so masters, which can be any pod, spread too;
    /// zones apply where nodes carry topology.kubernetes.io/zone.
    /// </summary>
    public static List<V1TopologySpreadConstraint> ClusterSpread(CacheCluster cluster) =>
        new[] { "kubernetes.io/hostname", "topology.kubernetes.io/zone" }.Select(key => new V1TopologySpreadConstraint
        {
            MaxSkew = 1,
            TopologyKey = key,
            WhenUnsatisfiable = "ScheduleAnyway",
            LabelSelector = new V1LabelSelector { MatchLabels = PodSelector(cluster) },
        }).ToList();

    /// <summary>NAME-shard-I: at most one of the shard's pods voluntarily down at a time.</summary>
    public static V1PodDisruptionBudget DisruptionBudget(CacheCluster cluster, int index) => new()
    {
        ApiVersion = "policy/v1",
        Kind = "PodDisruptionBudget",
        Metadata = Meta(cluster, CacheClusterReconciler.ShardName(cluster, index), ShardLabels(cluster, index)),
        Spec = new V1PodDisruptionBudgetSpec
        {
            MaxUnavailable = 1,
            Selector = new V1LabelSelector { MatchLabels = ShardSelector(cluster, index) },
        },
    };

    /// <summary>NAME: scrape every node's metrics port through the client Service.</summary>
    public static ServiceMonitor ServiceMonitorFor(CacheCluster cluster) => new()
    {
        Metadata = Meta(cluster, cluster.Metadata.Name, ClusterLabels(cluster, "metrics")),
        Spec = new ServiceMonitorSpec
        {
            Selector = new V1LabelSelector
            {
                MatchLabels = new Dictionary<string, string>
                {
                    ["app.kubernetes.io/instance"] = cluster.Metadata.Name,
                    ["app.kubernetes.io/component"] = "client",
                },
            },
            PodTargetLabels = ["app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/managed-by", ShardLabel],
            Endpoints = [new ServiceMonitorEndpoint { Port = "metrics", Path = "/metrics", Interval = "30s" }],
        },
    };

    /// <summary>Memory-limit headroom below the limit, for the pod's resources.</summary>
    public static V1ResourceRequirements? Resources(ResourceRequirementsSpec? resources)
    {
        if (resources is null)
        {
            return null;
        }
        return new V1ResourceRequirements
        {
            Requests = resources.Requests?.ToDictionary(p => p.Key, p => new ResourceQuantity(p.Value)),
            Limits = resources.Limits?.ToDictionary(p => p.Key, p => new ResourceQuantity(p.Value)),
        };
    }

    private static bool MetricsEnabled(CacheCluster cluster) => cluster.Spec.Metrics?.Enabled ?? true;

    private static Dictionary<string, string> PodSelector(CacheCluster cluster) => new()
    {
        ["app.kubernetes.io/name"] = "cache-node",
        ["app.kubernetes.io/instance"] = cluster.Metadata.Name,
        ["app.kubernetes.io/component"] = "shard",
    };

    private static List<V1ServicePort> Ports(CacheCluster cluster)
    {
        var ports = new List<V1ServicePort> { new() { Name = "resp", Port = SpecValidator.RespPort, TargetPort = "resp", Protocol = "TCP" } };
        if (MetricsEnabled(cluster))
        {
            ports.Add(new V1ServicePort { Name = "metrics", Port = MetricsPort, TargetPort = "metrics", Protocol = "TCP" });
        }
        return ports;
    }

    private static V1ObjectMeta Meta(CacheCluster cluster, string name, Dictionary<string, string> labels) => new()
    {
        Name = name,
        NamespaceProperty = cluster.Metadata.NamespaceProperty,
        Labels = labels,
        OwnerReferences = [OwnerReference(cluster)],
    };

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
