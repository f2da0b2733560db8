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

    /// <summary>Environment variable holding the password from the Secret (in the auth init container only).</summary>
    public const string PasswordVariable = "CACHE_PASSWORD";

    /// <summary>Where the auth init container writes the include file with the password (an in-memory emptyDir).</summary>
    public const string AuthDirectory = "/etc/cache-node-auth";

    /// <summary>The include file with requirepass and masterauth, written by <see cref="AuthInclude"/>.</summary>
    public const string AuthFile = AuthDirectory + "/auth.conf";

    /// <summary>Environment variable naming the operator's own image, which the auth init container runs (the chart sets it).</summary>
    public const string OperatorImageVariable = "OPERATOR_IMAGE";

    /// <summary>The image of the auth init container: the operator's own (it has the auth-include verb; cache images may have no shell).</summary>
    public static string OperatorImage { get; set; } = Environment.GetEnvironmentVariable(OperatorImageVariable) is { Length: > 0 } image
        ? image
        : "ghcr.io/cacheoperator/cache-operator:latest";

    /// <summary>
    /// Pod annotation with the hash of the config that needs a restart (<see cref="ConfigParts.RestartPart"/>), so such a
    /// change makes a new template revision the operator rolls; directives taken live change the ConfigMap only.
    /// </summary>
    public const string ConfigHashAnnotation = "cacheoperator.io/config-hash";

    /// <summary>The .NET chiseled images' non-root user (app, uid 1654).</summary>
    public const long NonRootUser = 1654;

    /// <summary>The label the StatefulSet controller gives each pod: the revision of the template it was made from.</summary>
    public const string RevisionLabel = "controller-revision-hash";

    /// <summary>Label with the shard number.</summary>
    public const string ShardLabel = "cacheoperator.io/shard";

    /// <summary>The ServiceMonitor CRD's name.</summary>
    public const string ServiceMonitorCrd = "servicemonitors.monitoring.coreos.com";

    /// <summary>Label naming the tool that manages an object.</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";

    /// <summary>Value of <see cref="ManagedByLabel"/> on every object the operator creates.</summary>
    public const string ManagedByValue = "cache-operator";

    /// <summary>Labels every object of the cluster carries.</summary>
    public static Dictionary<string, string> ClusterLabels(CacheCluster cluster, string component) => new()
    {
        ["app.kubernetes.io/name"] = "cache-node",
        ["app.kubernetes.io/instance"] = cluster.Metadata.Name,
        ["app.kubernetes.io/component"] = component,
        [ManagedByLabel] = ManagedByValue,
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
            [ConfigHashAnnotation] = ConfigParts.Hash(ConfigParts.RestartPart(plan.NodeConfig)),
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
        List<V1Container>? initContainers = null;
        if (spec.Auth?.SecretRef is { } secret)
        {
            // The password never appears in arguments (readable by anyone who can read the pod spec, and in the process's
            // command line): an init container gets it from the Secret through its environment and writes it into an
            // in-memory file that the node and redis-server both read with --include.
            args.AddRange(["--include", AuthFile]);
            mounts.Add(new V1VolumeMount { Name = "auth", MountPath = AuthDirectory, ReadOnlyProperty = true });
            volumes.Add(new V1Volume { Name = "auth", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory", SizeLimit = new ResourceQuantity("1Mi") } });
            initContainers =
            [
                new V1Container
                {
                    Name = "auth-config",
                    Image = OperatorImage,
                    ImagePullPolicy = "IfNotPresent",
                    Args = [AuthInclude.CommandName, "--output", AuthFile],
                    Env =
                    [
                        new V1EnvVar
                        {
                            Name = PasswordVariable,
                            ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret.Name, Key = secret.Key } },
                        },
                        new V1EnvVar { Name = "DOTNET_EnableDiagnostics", Value = "0" },
                    ],
                    Resources = new V1ResourceRequirements
                    {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("10m"), ["memory"] = new("32Mi") },
                        Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("128Mi") },
                    },
                    VolumeMounts = [new V1VolumeMount { Name = "auth", MountPath = AuthDirectory }],
                    SecurityContext = ContainerSecurityContext(),
                },
            ];
        }
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
            SecurityContext = ContainerSecurityContext(),
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
                // The operator deletes outdated pods itself, in its own order (replicas, then masters after a hand-over).
                UpdateStrategy = new V1StatefulSetUpdateStrategy { Type = "OnDelete" },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = podLabels, Annotations = podAnnotations },
                    Spec = new V1PodSpec
                    {
                        InitContainers = initContainers,
                        Containers = [container],
                        // The node never calls the Kubernetes API: no token in its file system to steal.
                        AutomountServiceAccountToken = false,
                        Volumes = volumes,
                        Affinity = affinity,
                        NodeSelector = overrides?.NodeSelector is { Count: > 0 } selector ? new Dictionary<string, string>(selector) : null,
                        Tolerations = overrides?.Tolerations is { Count: > 0 } tolerations ? tolerations : null,
                        TopologySpreadConstraints = overrides?.TopologySpreadConstraints is { Count: > 0 } spread ? spread : ClusterSpread(cluster),
                        PriorityClassName = overrides?.PriorityClassName,
                        SecurityContext = PodSecurityContext(overrides?.SecurityContext),
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
    /// The pod security context: the user's podTemplate.securityContext merged field by field over the safe defaults
    /// (non-root user 1654, RuntimeDefault seccomp), so setting fsGroup or sysctls does not silently drop runAsNonRoot or
    /// the seccomp profile. A field the user sets wins.
    /// </summary>
    public static V1PodSecurityContext PodSecurityContext(V1PodSecurityContext? user) => new()
    {
        RunAsNonRoot = user?.RunAsNonRoot ?? true,
        RunAsUser = user?.RunAsUser ?? NonRootUser,
        RunAsGroup = user?.RunAsGroup ?? NonRootUser,
        FsGroup = user?.FsGroup ?? NonRootUser,
        FsGroupChangePolicy = user?.FsGroupChangePolicy,
        SeccompProfile = user?.SeccompProfile ?? new V1SeccompProfile { Type = "RuntimeDefault" },
        SeLinuxOptions = user?.SeLinuxOptions,
        SupplementalGroups = user?.SupplementalGroups,
        SupplementalGroupsPolicy = user?.SupplementalGroupsPolicy,
        Sysctls = user?.Sysctls,
        WindowsOptions = user?.WindowsOptions,
        AppArmorProfile = user?.AppArmorProfile,
        SeLinuxChangePolicy = user?.SeLinuxChangePolicy,
    };

    /// <summary>Every container's: no privilege escalation, read-only root filesystem, non-root, no capabilities, RuntimeDefault seccomp.</summary>
    public static V1SecurityContext ContainerSecurityContext() => new()
    {
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        RunAsNonRoot = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

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
}
