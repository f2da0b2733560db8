using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>helm lint and helm template render the chart cleanly, and every document parses with KubernetesClient's models.</summary>
public sealed class ChartRenderTests
{
    /// <summary>Names of every values set (defaults and the chart's ci/ files), for theories.</summary>
    public static TheoryData<string> ValueSets => new(ChartValues.All.Select(v => v.Name));

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void HelmLintStrictPasses(string values)
    {
        var result = Helm.Run(["lint", "--strict", RepositoryPaths.Chart, .. ChartValues.Named(values).Arguments()]);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("0 chart(s) failed", result.Stdout);
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void EveryRenderedDocumentParsesWithKubernetesModels(string values)
    {
        var manifests = Helm.Render(ChartValues.Named(values));
        Assert.NotEmpty(manifests);
        foreach (var manifest in manifests)
        {
            var parsed = KubernetesModels.ParseAny(manifest);
            if (parsed is k8s.IKubernetesObject<V1ObjectMeta> typed)
            {
                Assert.Equal(manifest.Kind, typed.Kind);
                Assert.Equal(manifest.Name, typed.Metadata.Name);
            }
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public void NamespacedObjectsGoToTheReleaseNamespaceAndCarryChartLabels(string values)
    {
        foreach (var manifest in Helm.Render(ChartValues.Named(values)).Where(m => m.Kind != "CustomResourceDefinition"))
        {
            var metadata = YamlNodes.Child(manifest.Root, "metadata");
            if (manifest.Kind is not ("ClusterRole" or "ClusterRoleBinding"))
            {
                Assert.NotNull(YamlNodes.Scalar(metadata, "namespace"));
            }
            Assert.Equal(Helm.ReleaseName, YamlNodes.Scalar(YamlNodes.Child(metadata, "labels"), "app.kubernetes.io/instance"));
        }
    }

    [Fact]
    public void DefaultValuesRenderTheOperatorWithoutPrometheusOperatorObjects()
    {
        var kinds = Helm.Render(ChartValues.Default).Select(m => m.Kind).Order().ToList();
        Assert.Equal(
            ["ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", "ConfigMap", "ConfigMap", "CustomResourceDefinition", "Deployment", "PodDisruptionBudget", "Role", "RoleBinding", "Service", "ServiceAccount"],
            kinds);
    }

    [Fact]
    public void AllFeaturesAddServiceMonitorAndPrometheusRule()
    {
        var manifests = Helm.Render(ChartValues.AllFeatures);
        var monitor = RenderedManifest.Single(manifests, "ServiceMonitor");
        Assert.Equal("monitoring.coreos.com/v1", monitor.ApiVersion);
        Assert.Equal("prometheus", YamlNodes.Scalar(YamlNodes.At(monitor.Root, "metadata.labels"), "release"));
        var rule = RenderedManifest.Single(manifests, "PrometheusRule");
        Assert.Equal("monitoring.coreos.com/v1", rule.ApiVersion);
        Assert.NotNull(YamlNodes.At(rule.Root, "spec.groups"));
    }

    [Fact]
    public void ServiceMonitorScrapesTheMetricsServicePortKeepingClusterNamespaces()
    {
        var manifests = Helm.Render(ChartValues.AllFeatures);
        var service = KubernetesModels.Parse<V1Service>(RenderedManifest.Single(manifests, "Service"));
        var monitor = RenderedManifest.Single(manifests, "ServiceMonitor");
        var selector = (YamlDotNet.RepresentationModel.YamlMappingNode)YamlNodes.At(monitor.Root, "spec.selector.matchLabels")!;
        foreach (var (key, value) in selector.Children)
        {
            Assert.Equal(value.ToString(), service.Metadata.Labels[key.ToString()]);
        }
        var endpoint = ((YamlDotNet.RepresentationModel.YamlSequenceNode)YamlNodes.At(monitor.Root, "spec.endpoints")!).Children.Single();
        Assert.Equal(service.Spec.Ports.Single().Name, YamlNodes.Scalar(endpoint, "port"));
        Assert.Equal("/metrics", YamlNodes.Scalar(endpoint, "path"));
        Assert.Equal("true", YamlNodes.Scalar(endpoint, "honorLabels"));
    }

    [Fact]
    public void MetricsServiceSelectsTheOperatorPodsOnTheMetricsPort()
    {
        var manifests = Helm.Render(ChartValues.Default);
        var service = KubernetesModels.Parse<V1Service>(RenderedManifest.Single(manifests, "Service"));
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(manifests, "Deployment"));
        var podLabels = deployment.Spec.Template.Metadata.Labels;
        Assert.All(service.Spec.Selector, s => Assert.Equal(s.Value, podLabels[s.Key]));
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal(OperatorContract.OperatorMetricsPort, port.Port);
        Assert.Equal("metrics", port.TargetPort.Value);
        var containerPort = deployment.Spec.Template.Spec.Containers.Single().Ports.Single();
        Assert.Equal(("metrics", OperatorContract.OperatorMetricsPort), (containerPort.Name, containerPort.ContainerPort));
    }

    [Fact]
    public void PodDisruptionBudgetKeepsOneOperatorReplica()
    {
        var manifests = Helm.Render(ChartValues.Default);
        var budget = KubernetesModels.Parse<V1PodDisruptionBudget>(RenderedManifest.Single(manifests, "PodDisruptionBudget"));
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(manifests, "Deployment"));
        Assert.Equal("1", budget.Spec.MinAvailable.Value);
        Assert.Equal(deployment.Spec.Selector.MatchLabels, budget.Spec.Selector.MatchLabels);
    }

    [Theory]
    [InlineData("replicaCount=-1", "/replicaCount")]
    [InlineData("replicaCount=two", "/replicaCount")]
    [InlineData("metrics.serviceMonitor.enabled=maybe", "/metrics/serviceMonitor/enabled")]
    [InlineData("image.pullPolicy=Sometimes", "/image/pullPolicy")]
    [InlineData("metrics.port=70000", "/metrics/port")]
    [InlineData("metrics.serviceMonitor.interval=soon", "/metrics/serviceMonitor/interval")]
    [InlineData("resources.requests.cpu=null", "/resources/requests")]
    [InlineData("grafana.dashbords.enabled=true", "/grafana")]
    [InlineData("unknownKey=1", "unknownKey")]
    public void ValuesSchemaRejectsBadValues(string set, string wherePointed)
    {
        var result = Helm.Template(new ChartValues("bad", [], [set]));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("values don't meet the specifications of the schema", result.Stderr);
        Assert.Contains(wherePointed, result.Stderr);
    }

    [Fact]
    public void SeveralReplicasWithoutLeaderElectionAreRefused()
    {
        var result = Helm.Template(new ChartValues("no-leader-election", [], ["leaderElection.enabled=false"]));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("replicaCount > 1 needs leaderElection.enabled", result.Stderr);
    }

    [Fact]
    public void NotesTellWhatToDoNext()
    {
        var result = Helm.Run(["install", Helm.ReleaseName, RepositoryPaths.Chart, "--namespace", Helm.Namespace, "--dry-run=client"]);
        Assert.True(result.ExitCode == 0, result.Output);
        var notes = result.Stdout[result.Stdout.IndexOf("NOTES:", StringComparison.Ordinal)..];
        Assert.Contains("kubectl -n cache-system rollout status deployment/cache-operator", notes);
        Assert.Contains("kind: CacheCluster", notes);
        Assert.Contains("kubectl get cc", notes);
        Assert.Contains("metrics.serviceMonitor.enabled=true", notes);
    }
}
