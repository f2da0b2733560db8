using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

public class ManifestsTests
{
    [Fact]
    public void Every_object_carries_the_contract_labels_and_an_owner_reference()
    {
        var cluster = TestClusters.New();
        cluster.Spec.Metrics = new MetricsSpec { Enabled = true, ServiceMonitor = true };
        var objects = Manifests.All(cluster, TestClusters.Plan(cluster), serviceMonitorAvailable: true);

        Assert.Equal(
            ["ConfigMap/demo-config", "Service/demo-headless", "Service/demo", "StatefulSet/demo-shard-0", "PodDisruptionBudget/demo-shard-0",
             "StatefulSet/demo-shard-1", "PodDisruptionBudget/demo-shard-1", "StatefulSet/demo-shard-2", "PodDisruptionBudget/demo-shard-2", "ServiceMonitor/demo"],
            objects.Select(o => $"{o.Kind}/{o.Metadata.Name}"));
        foreach (var obj in objects)
        {
            Assert.Equal("cache", obj.Metadata.NamespaceProperty);
            Assert.Equal("cache-node", obj.Metadata.Labels["app.kubernetes.io/name"]);
            Assert.Equal("demo", obj.Metadata.Labels["app.kubernetes.io/instance"]);
            Assert.Equal("cache-operator", obj.Metadata.Labels["app.kubernetes.io/managed-by"]);
            var owner = Assert.Single(obj.Metadata.OwnerReferences);
            Assert.Equal(("cacheoperator.io/v1alpha1", "CacheCluster", "demo", "uid-demo", true, true), (owner.ApiVersion, owner.Kind, owner.Name, owner.Uid, owner.Controller, owner.BlockOwnerDeletion));
        }
        var shard = Assert.IsType<V1StatefulSet>(objects[5]);
        Assert.Equal("shard", shard.Metadata.Labels["app.kubernetes.io/component"]);
        Assert.Equal("1", shard.Metadata.Labels["cacheoperator.io/shard"]);
        Assert.Equal("1", shard.Spec.Template.Metadata.Labels["cacheoperator.io/shard"]);
    }

    [Fact]
    public void Shard_statefulset_has_replicas_probes_antiaffinity_config_and_password()
    {
        var cluster = TestClusters.New(replicas: 2);
        cluster.Spec.Auth = new AuthSpec { SecretRef = new SecretKeyRef { Name = "cache-auth", Key = "pw" } };
        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 1);

        Assert.Equal("demo-shard-1", set.Metadata.Name);
        Assert.Equal(3, set.Spec.Replicas);
        Assert.Equal("demo-headless", set.Spec.ServiceName);
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "cache-node", ["app.kubernetes.io/instance"] = "demo", ["cacheoperator.io/shard"] = "1" }, set.Spec.Selector.MatchLabels);
        var container = Assert.Single(set.Spec.Template.Spec.Containers);
        Assert.Equal(("/readyz", "9121"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(("/healthz", "9121"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(
            ["/etc/cache-node/node.conf", "--cluster-announce-hostname", "$(POD_NAME).demo-headless.cache.svc", "--include", "/etc/cache-node-auth/auth.conf"],
            container.Args);
        Assert.DoesNotContain(container.Env, e => e.ValueFrom?.SecretKeyRef is not null);
        Assert.Equal("metadata.name", Assert.Single(container.Env, e => e.Name == "POD_NAME").ValueFrom.FieldRef.FieldPath);
        Assert.Contains(container.Ports, p => p is { Name: "bus", ContainerPort: 16379 });
        Assert.Contains(set.Spec.Template.Spec.Volumes, v => v.ConfigMap?.Name == "demo-config");
        Assert.Equal("1Gi", container.Resources.Limits["memory"].ToString());

        // A shard's pods never share a node; all of the cluster's pods spread over nodes and zones where they can.
        var term = Assert.Single(set.Spec.Template.Spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution);
        Assert.Equal("kubernetes.io/hostname", term.TopologyKey);
        Assert.Equal(set.Spec.Selector.MatchLabels, term.LabelSelector.MatchLabels);
        Assert.Equal(
            [("kubernetes.io/hostname", "ScheduleAnyway"), ("topology.kubernetes.io/zone", "ScheduleAnyway")],
            set.Spec.Template.Spec.TopologySpreadConstraints.Select(c => (c.TopologyKey, c.WhenUnsatisfiable)));
        Assert.All(set.Spec.Template.Spec.TopologySpreadConstraints, c => Assert.Equal("demo", c.LabelSelector.MatchLabels["app.kubernetes.io/instance"]));
        Assert.Null(set.Spec.VolumeClaimTemplates);
        Assert.True(set.Spec.Template.Spec.SecurityContext.RunAsNonRoot);
    }

    [Fact]
    public void Persistence_adds_a_claim_template_and_data_mount()
    {
        var cluster = TestClusters.New();
        cluster.Spec.Persistence = new PersistenceSpec { Enabled = true, Size = "5Gi", StorageClassName = "fast" };
        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0);

        var claim = Assert.Single(set.Spec.VolumeClaimTemplates);
        Assert.Equal("data", claim.Metadata.Name);
        Assert.Equal("fast", claim.Spec.StorageClassName);
        Assert.Equal("5Gi", claim.Spec.Resources.Requests["storage"].ToString());
        Assert.Equal(["ReadWriteOnce"], claim.Spec.AccessModes);
        Assert.Contains(set.Spec.Template.Spec.Containers[0].VolumeMounts, m => m is { Name: "data", MountPath: "/data" });
    }

    [Fact]
    public void Pod_template_overrides_are_applied_without_losing_operator_labels()
    {
        var cluster = TestClusters.New();
        cluster.Spec.PodTemplate = new PodTemplateSpec
        {
            Labels = new() { ["team"] = "cache", ["app.kubernetes.io/instance"] = "hijack" },
            NodeSelector = new() { ["disk"] = "ssd" },
            Tolerations = [new V1Toleration { Key = "dedicated", OperatorProperty = "Exists" }],
            PriorityClassName = "high",
        };
        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0);
        var template = set.Spec.Template;
        Assert.Equal("cache", template.Metadata.Labels["team"]);
        Assert.Equal("demo", template.Metadata.Labels["app.kubernetes.io/instance"]);
        Assert.Equal("ssd", template.Spec.NodeSelector["disk"]);
        Assert.Equal("dedicated", Assert.Single(template.Spec.Tolerations).Key);
        Assert.Equal("high", template.Spec.PriorityClassName);
    }

    [Fact]
    public void Pdb_allows_one_unavailable_pod_per_shard()
    {
        var pdb = Manifests.DisruptionBudget(TestClusters.New(), 2);
        Assert.Equal("1", pdb.Spec.MaxUnavailable.Value);
        Assert.Equal("2", pdb.Spec.Selector.MatchLabels["cacheoperator.io/shard"]);
    }

    [Fact]
    public void ServiceMonitor_only_when_asked_and_its_crd_exists()
    {
        var cluster = TestClusters.New();
        var plan = TestClusters.Plan(cluster);
        Assert.DoesNotContain(Manifests.All(cluster, plan, true), o => o is ServiceMonitor);
        cluster.Spec.Metrics = new MetricsSpec { Enabled = true, ServiceMonitor = true };
        Assert.DoesNotContain(Manifests.All(cluster, plan, false), o => o is ServiceMonitor);
        Assert.Contains(Manifests.All(cluster, plan, true), o => o is ServiceMonitor);
    }

    [Fact]
    public void Config_map_holds_maxmemory_with_headroom_and_user_directives()
    {
        var cluster = TestClusters.New();
        cluster.Spec.MaxMemory = "1Gi";
        cluster.Spec.EvictionPolicy = "allkeys-lru";
        cluster.Spec.Config = new() { ["hz"] = "20", ["save"] = "" };
        var config = Manifests.ConfigMap(cluster, TestClusters.Plan(cluster)).Data["node.conf"];
        var expected = 1024L * 1024 * 1024 - 1024L * 1024 * 1024 / 10;
        Assert.Contains($"maxmemory {expected}\n", config);
        Assert.Contains("maxmemory-policy allkeys-lru\n", config);
        Assert.Contains("hz 20\n", config);
        Assert.Contains("save \"\"\n", config);
        Assert.Contains("port 6379\n", config);
    }

    [Fact]
    public void Every_manifest_round_trips_through_kubernetes_yaml()
    {
        var cluster = TestClusters.New();
        cluster.Spec.Persistence = new PersistenceSpec { Enabled = true, Size = "1Gi" };
        cluster.Spec.Auth = new AuthSpec { SecretRef = new SecretKeyRef { Name = "s" } };
        cluster.Spec.Metrics = new MetricsSpec { Enabled = true, ServiceMonitor = true };
        foreach (var obj in Manifests.All(cluster, TestClusters.Plan(cluster), true))
        {
            var yaml = KubernetesYaml.Serialize(obj);
            var back = obj switch
            {
                V1ConfigMap => (object)KubernetesYaml.Deserialize<V1ConfigMap>(yaml),
                V1Service => KubernetesYaml.Deserialize<V1Service>(yaml),
                V1StatefulSet => KubernetesYaml.Deserialize<V1StatefulSet>(yaml),
                V1PodDisruptionBudget => KubernetesYaml.Deserialize<V1PodDisruptionBudget>(yaml),
                ServiceMonitor => KubernetesYaml.Deserialize<ServiceMonitor>(yaml),
                _ => throw new InvalidOperationException(obj.GetType().Name),
            };
            Assert.Equal(yaml, KubernetesYaml.Serialize(back));
            Assert.Equal(KubernetesJson.Serialize(obj), KubernetesJson.Serialize(back));
            // And the loader kubectl-style tooling uses knows the built-in kinds.
            if (obj is not ServiceMonitor)
            {
                Assert.Single(KubernetesYaml.LoadAllFromString(yaml));
            }
        }
    }

    [Fact]
    public void The_password_reaches_the_node_through_an_init_containers_file_never_the_arguments()
    {
        var cluster = TestClusters.New();
        cluster.Spec.Auth = new AuthSpec { SecretRef = new SecretKeyRef { Name = "cache-auth", Key = "pw" } };
        var pod = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0).Spec.Template.Spec;

        var everyArgument = pod.Containers.Concat(pod.InitContainers).SelectMany(c => (c.Command ?? []).Concat(c.Args ?? [])).ToList();
        Assert.DoesNotContain(everyArgument, a => a.Contains("requirepass", StringComparison.OrdinalIgnoreCase) || a.Contains("masterauth", StringComparison.OrdinalIgnoreCase) || a.Contains("$(CACHE_PASSWORD)", StringComparison.Ordinal));
        var init = Assert.Single(pod.InitContainers);
        Assert.Equal(Manifests.OperatorImage, init.Image);
        Assert.Equal(["auth-include", "--output", "/etc/cache-node-auth/auth.conf"], init.Args);
        var password = Assert.Single(init.Env, e => e.Name == "CACHE_PASSWORD");
        Assert.Equal(("cache-auth", "pw"), (password.ValueFrom.SecretKeyRef.Name, password.ValueFrom.SecretKeyRef.Key));
        var volume = Assert.Single(pod.Volumes, v => v.Name == "auth");
        Assert.Equal("Memory", volume.EmptyDir.Medium);
        Assert.True(Assert.Single(pod.Containers[0].VolumeMounts, m => m.Name == "auth").ReadOnlyProperty);
        Assert.Equal(Manifests.ContainerSecurityContext().Capabilities.Drop, init.SecurityContext.Capabilities.Drop);
        Assert.True(init.SecurityContext.ReadOnlyRootFilesystem);
    }

    [Fact]
    public async Task The_auth_include_verb_writes_a_file_both_servers_read_and_refuses_an_empty_password()
    {
        var directory = Directory.CreateTempSubdirectory("auth-include-");
        try
        {
            const string Password = "p w\"\\x\u00e9\n";
            var file = Path.Combine(directory.FullName, "auth.conf");
            Assert.Equal(0, AuthInclude.Write(file, Password, TextWriter.Null));
            // Written again, as a restarted pod's init container does over the same emptyDir.
            Assert.Equal(0, AuthInclude.Write(file, Password, TextWriter.Null));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(file));
            }
            var config = new CacheOperator.Node.Configuration.NodeConfig();
            CacheOperator.Node.Configuration.ConfigLoader.Load(config, ["--port", "7000", "--include", file]);
            Assert.Equal((Password, Password), (config.RequirePass.Text, config.MasterAuth.Text));

            Assert.NotEqual(0xEF, File.ReadAllBytes(file)[0]);

            // Both servers take the file with --include (no password on their command line) and require that password.
            foreach (var kind in new[] { Topology.ServerKind.Node, Topology.ServerKind.Redis })
            {
                using var server = Topology.ClusterProcess.Start($"auth-{kind}", 0, kind, directory.FullName, Password);
                Assert.Equal("PONG", (await server.CallAsync("PING")).AsString());
            }

            var error = new StringWriter();
            Assert.Equal(1, AuthInclude.Write(Path.Combine(directory.FullName, "empty.conf"), null, error));
            Assert.Contains("CACHE_PASSWORD", error.ToString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Cache_pods_get_no_service_account_token()
    {
        var cluster = TestClusters.New();
        Assert.False(Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0).Spec.Template.Spec.AutomountServiceAccountToken);
    }

    [Fact]
    public void A_users_security_context_is_merged_field_by_field_over_the_safe_defaults()
    {
        var cluster = TestClusters.New();
        cluster.Spec.PodTemplate = new PodTemplateSpec { SecurityContext = new V1PodSecurityContext { FsGroup = 2000, Sysctls = [new V1Sysctl { Name = "net.core.somaxconn", Value = "1024" }] } };
        var pod = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0).Spec.Template.Spec;
        Assert.Equal(2000, pod.SecurityContext.FsGroup);
        Assert.Equal("net.core.somaxconn", Assert.Single(pod.SecurityContext.Sysctls).Name);
        Assert.True(pod.SecurityContext.RunAsNonRoot);
        Assert.Equal(Manifests.NonRootUser, pod.SecurityContext.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SecurityContext.SeccompProfile.Type);
        var container = pod.Containers[0].SecurityContext;
        Assert.Equal((false, true, true, "RuntimeDefault"), (container.AllowPrivilegeEscalation, container.ReadOnlyRootFilesystem, container.RunAsNonRoot, container.SeccompProfile.Type));
        Assert.Equal(["ALL"], container.Capabilities.Drop);

        // Every field of PodSecurityContext the user sets comes through (none is forgotten by the merge).
        var full = new V1PodSecurityContext();
        foreach (var property in typeof(V1PodSecurityContext).GetProperties().Where(p => p.CanWrite))
        {
            property.SetValue(full, Sample(property.PropertyType));
        }
        var merged = Manifests.PodSecurityContext(full);
        foreach (var property in typeof(V1PodSecurityContext).GetProperties().Where(p => p.CanWrite))
        {
            Assert.True(Equals(property.GetValue(full), property.GetValue(merged)), $"securityContext.{property.Name} is lost by the merge");
        }
    }

    private static object Sample(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return "x";
        }
        if (underlying == typeof(bool))
        {
            return true;
        }
        if (underlying == typeof(long))
        {
            return 4242L;
        }
        if (underlying.IsInterface && underlying.IsGenericType)
        {
            return Activator.CreateInstance(typeof(List<>).MakeGenericType(underlying.GetGenericArguments()))!;
        }
        // Objects: the merge keeps the user's instance, which reference equality checks.
        return Activator.CreateInstance(underlying)!;
    }
}
