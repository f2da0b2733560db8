using CacheOperator.Operator.Api;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

public class CrdTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CacheOperator.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("CacheOperator.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task Committed_crd_matches_the_generator()
    {
        var temp = Directory.CreateTempSubdirectory("crds-");
        try
        {
            // The same entry point as `dotnet run --project operator -- crds --output DIR`.
            Assert.Equal(0, await Program.BuildCommand().Parse(["crds", "--output", temp.FullName]).InvokeAsync());
            var generated = await File.ReadAllTextAsync(Path.Combine(temp.FullName, CacheClusterResource.CrdFileName));
            var committedPath = Path.Combine(RepositoryRoot(), "crds", CacheClusterResource.CrdFileName);
            Assert.True(File.Exists(committedPath), $"{committedPath} is missing; run: dotnet run --project operator -- crds --output crds/");
            var committed = await File.ReadAllTextAsync(committedPath);
            Assert.True(generated == committed, $"crds/{CacheClusterResource.CrdFileName} is out of date; run: dotnet run --project operator -- crds --output crds/");
            // The chart ships the same file (Helm installs crds/ of the chart).
            var chart = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "helm", "cache-operator", "crds", CacheClusterResource.CrdFileName));
            Assert.True(generated == chart, $"helm/cache-operator/crds/{CacheClusterResource.CrdFileName} is out of date; run: dotnet run --project operator -- crds --output helm/cache-operator/crds/");
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }

    [Fact]
    public void Crd_has_names_subresources_columns_and_a_description_on_every_field()
    {
        var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(CrdGenerator.ToYaml());
        Assert.Equal("cacheclusters.cacheoperator.io", crd.Metadata.Name);
        Assert.Equal(("CacheCluster", "cacheclusters", "cachecluster"), (crd.Spec.Names.Kind, crd.Spec.Names.Plural, crd.Spec.Names.Singular));
        Assert.Equal(["cc"], crd.Spec.Names.ShortNames);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal("v1alpha1", version.Name);
        Assert.NotNull(version.Subresources.Status);
        Assert.Equal(".spec.shards", version.Subresources.Scale.SpecReplicasPath);
        Assert.Equal(["Shards", "Replicas", "Ready", "Phase", "State", "Resharding", "Age"], version.AdditionalPrinterColumns.Select(c => c.Name));

        var spec = version.Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.Equal(1L, Convert.ToInt64(spec.Properties["shards"].Minimum));
        Assert.Equal("1", spec.Properties["shards"].DefaultProperty.ToString());
        Assert.Contains(spec.XKubernetesValidations, r => r.Rule.Contains("quantity(self.maxMemory)"));
        Assert.Contains("noeviction", spec.Properties["evictionPolicy"].EnumProperty.Select(e => e.ToString()));
        // volumeClaimTemplates cannot change: the CRD refuses what would change them (CEL transition rules).
        Assert.Contains(spec.Properties["persistence"].XKubernetesValidations, r => r.Rule == "self == oldSelf");
        Assert.Contains(spec.XKubernetesValidations, r => r.Rule == "has(self.persistence) == has(oldSelf.persistence)");
        // metadata.name is bounded by the longest derived name: <name>-shard-999 within 52 characters.
        var nameRule = Assert.Single(version.Schema.OpenAPIV3Schema.XKubernetesValidations);
        Assert.Equal($"self.metadata.name.size() <= {CacheClusterResource.MaxNameLength} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')", nameRule.Rule);
        Assert.Equal(42, CacheClusterResource.MaxNameLength);
        AssertDescribed(spec, "spec");
        AssertDescribed(version.Schema.OpenAPIV3Schema.Properties["status"], "status");
    }

    private static void AssertDescribed(V1JSONSchemaProps schema, string path)
    {
        Assert.False(string.IsNullOrWhiteSpace(schema.Description), $"{path} has no description");
        foreach (var (name, child) in schema.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            AssertDescribed(child, $"{path}.{name}");
        }
    }
}
