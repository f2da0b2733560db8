using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>The operator Deployment: two leader-electing replicas, hardened, with requests and probes.</summary>
public sealed class DeploymentTests
{
    static V1Deployment Deployment(ChartValues values) =>
        KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(Helm.Render(values), "Deployment"));

    static V1Container Operator(V1Deployment deployment) => Assert.Single(deployment.Spec.Template.Spec.Containers);

    [Fact]
    public void RunsTwoReplicasWithLeaderElection()
    {
        var deployment = Deployment(ChartValues.Default);
        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal(["run", "--leader-elect", "--metrics-port", "8080"], Operator(deployment).Args);
        var env = Operator(deployment).Env.ToDictionary(e => e.Name);
        Assert.Equal("metadata.namespace", env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath);
        Assert.Equal("metadata.name", env["POD_NAME"].ValueFrom.FieldRef.FieldPath);
    }

    [Fact]
    public void OneReplicaWithoutLeaderElectionDropsTheFlag()
    {
        var deployment = Deployment(ChartValues.Named("minimal-values"));
        Assert.Equal(1, deployment.Spec.Replicas);
        Assert.Equal(["run", "--metrics-port", "8080"], Operator(deployment).Args);
    }

    [Theory]
    [MemberData(nameof(ChartRenderTests.ValueSets), MemberType = typeof(ChartRenderTests))]
    public void RunsAsNonRootOnAReadOnlyRootFileSystem(string values)
    {
        var deployment = Deployment(ChartValues.Named(values));
        var pod = deployment.Spec.Template.Spec.SecurityContext;
        Assert.True(pod.RunAsNonRoot);
        Assert.NotEqual(0, pod.RunAsUser);
        Assert.Equal("RuntimeDefault", pod.SeccompProfile.Type);
        var container = Operator(deployment).SecurityContext;
        Assert.True(container.RunAsNonRoot);
        Assert.True(container.ReadOnlyRootFilesystem);
        Assert.False(container.AllowPrivilegeEscalation);
        Assert.Equal(["ALL"], container.Capabilities.Drop);
        // The read-only root needs a writable /tmp for .NET.
        Assert.Contains(Operator(deployment).VolumeMounts, m => m.MountPath == "/tmp");
    }

    [Theory]
    [MemberData(nameof(ChartRenderTests.ValueSets), MemberType = typeof(ChartRenderTests))]
    public void RequestsCpuAndMemory(string values)
    {
        var requests = Operator(Deployment(ChartValues.Named(values))).Resources.Requests;
        Assert.True(requests["cpu"].ToDecimal() > 0);
        Assert.True(requests["memory"].ToDecimal() > 0);
    }

    [Fact]
    public void ProbesUseTheHealthEndpointsOnTheMetricsPort()
    {
        var container = Operator(Deployment(ChartValues.Default));
        Assert.Equal(("/healthz", "metrics"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.Equal(("/readyz", "metrics"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
    }

    [Fact]
    public void ImageComesFromValuesAndDefaultsToTheAppVersion()
    {
        Assert.Equal("ghcr.io/cacheoperator/cache-operator:0.1.0", Operator(Deployment(ChartValues.Default)).Image);
        Assert.Equal("registry.example.com/platform/cache-operator:0.1.0", Operator(Deployment(ChartValues.Named("production-values"))).Image);
        var custom = Deployment(new ChartValues("custom-image", [], ["image.repository=example/op", "image.tag=1.2.3"]));
        Assert.Equal("example/op:1.2.3", Operator(custom).Image);
    }

    [Theory]
    [MemberData(nameof(ChartRenderTests.ValueSets), MemberType = typeof(ChartRenderTests))]
    public void RunsAsTheImagesOwnUser(string values)
    {
        // operator/Dockerfile runs as the chiseled image's app user ($APP_UID, 1654); another uid would not own /app's files.
        var dockerfile = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "operator", "Dockerfile"));
        Assert.Contains("USER $APP_UID", dockerfile);
        Assert.Contains("-chiseled", dockerfile);
        var pod = Deployment(ChartValues.Named(values)).Spec.Template.Spec.SecurityContext;
        Assert.Equal((1654L, 1654L), (pod.RunAsUser, pod.RunAsGroup));
        Assert.Equal(CacheOperator.Operator.Kubernetes.Manifests.NonRootUser, pod.RunAsUser);
    }

    [Theory]
    [InlineData("Debug")]
    [InlineData("Warning")]
    public void LogLevelReachesTheOperator(string level)
    {
        var container = Operator(Deployment(new ChartValues("log-" + level, [], ["logLevel=" + level])));
        Assert.Equal(level, container.Args[container.Args.IndexOf("--log-level") + 1]);
        // And the operator accepts it.
        Assert.Empty(CacheOperator.Operator.Program.BuildCommand().Parse([.. container.Args]).Errors);
    }

    [Fact]
    public void TheOperatorKnowsItsImageForTheCachePodsAuthInitContainer()
    {
        var container = Operator(Deployment(ChartValues.Default));
        Assert.Equal(container.Image, container.Env.Single(e => e.Name == CacheOperator.Operator.Kubernetes.Manifests.OperatorImageVariable).Value);
    }
}
