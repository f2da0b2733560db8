using k8s;

namespace CacheOperator.Chart.Tests;

/// <summary>The CacheCluster manifests in examples/ parse as CacheClusters and satisfy the CRD's schema.</summary>
public sealed class ExampleTests
{
    static readonly YamlDotNet.RepresentationModel.YamlMappingNode Schema =
        CrdSchemaValidator.SchemaOf(Assert.Single(RenderedManifest.Split(File.ReadAllText(RepositoryPaths.ChartCrd))), "v1alpha1");

    /// <summary>Every example file, for theories.</summary>
    public static TheoryData<string> Examples =>
        new(Directory.GetFiles(RepositoryPaths.Examples, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));

    static RenderedManifest Example(string file) => Assert.Single(RenderedManifest.Split(File.ReadAllText(Path.Combine(RepositoryPaths.Examples, file))));

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleParsesAsACacheCluster(string file)
    {
        var example = Example(file);
        var cluster = KubernetesYaml.Deserialize<CacheClusterModel>(example.Yaml, strict: true);
        Assert.Equal(("cacheoperator.io/v1alpha1", "CacheCluster"), (cluster.ApiVersion, cluster.Kind));
        Assert.False(string.IsNullOrEmpty(cluster.Metadata?.Name));
        Assert.True(cluster.Spec?.Shards >= 1);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleSatisfiesTheCrdSchema(string file)
    {
        var errors = CrdSchemaValidator.Validate(Schema, Example(file).Root);
        Assert.True(errors.Count == 0, string.Join('\n', errors));
    }

    [Fact]
    public void MinimalExampleIsThreeShardsWithOneReplica()
    {
        var cluster = KubernetesYaml.Deserialize<CacheClusterModel>(Example("cachecluster.yaml").Yaml, strict: true);
        Assert.Equal((3, 1), (cluster.Spec!.Shards, cluster.Spec.ReplicasPerShard));
    }

    [Fact]
    public void ThereIsAProductionLikeExample()
    {
        var cluster = KubernetesYaml.Deserialize<CacheClusterModel>(Example("cachecluster-production.yaml").Yaml, strict: true);
        Assert.True(cluster.Spec!.ReplicasPerShard >= 2);
        Assert.NotNull(cluster.Spec.MaxMemory);
        Assert.NotNull(cluster.Spec.Resources?.Requests);
        Assert.True(cluster.Spec.Metrics?.ServiceMonitor);
    }

    [Theory]
    [InlineData("spec: {shards: 3, replicasPerShard: -1}", "spec.replicasPerShard: -1 is below the minimum 0")]
    [InlineData("spec: {shards: 0}", "spec.shards: 0 is below the minimum 1")]
    [InlineData("spec: {shards: \"3\"}", "spec.shards: must be a integer, not a string (3)")]
    [InlineData("spec: {shards: 3, replica: 1}", "spec.replica: unknown field")]
    [InlineData("spec: {shards: 3, evictionPolicy: lru}", "spec.evictionPolicy: lru is not one of the allowed values")]
    [InlineData("spec: {shards: 3, maxMemory: lots}", "spec.maxMemory: lots does not match")]
    [InlineData("spec: {shards: 3, resources: {requests: {cpu: [1]}}}", "spec.resources.requests.cpu: must be a string")]
    [InlineData("spec: {shards: 3, resources: {limits: {memory: 1 gig}}}", "spec.resources.limits.memory: 1 gig does not match")]
    [InlineData("spec: {shards: 3, persistence: {enabled: true, size: big}}", "spec.persistence.size: big does not match")]
    [InlineData("spec: {shards: 3, metrics: {serviceMonitor: \"yes\"}}", "spec.metrics.serviceMonitor: must be a boolean")]
    public void SchemaCheckRejectsInvalidCacheClusters(string spec, string expectedError)
    {
        var manifest = Assert.Single(RenderedManifest.Split($"apiVersion: cacheoperator.io/v1alpha1\nkind: CacheCluster\nmetadata: {{name: bad}}\n{spec}\n"));
        var errors = CrdSchemaValidator.Validate(Schema, manifest.Root);
        Assert.Contains(errors, e => e.StartsWith(expectedError, StringComparison.Ordinal));
    }
}
