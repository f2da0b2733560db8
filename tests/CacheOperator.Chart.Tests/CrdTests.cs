using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>The chart ships the generated CacheCluster CRD unchanged, with the contract's names.</summary>
public sealed class CrdTests
{
    static RenderedManifest Crd(string path) => Assert.Single(RenderedManifest.Split(File.ReadAllText(path)));

    [Fact]
    public void ChartCrdIsTheGeneratedCrdByteForByte()
    {
        Assert.True(File.Exists(RepositoryPaths.GeneratedCrd), $"{RepositoryPaths.GeneratedCrd} is missing: run `dotnet run --project operator -- crds --output crds/`");
        var generated = File.ReadAllBytes(RepositoryPaths.GeneratedCrd);
        var shipped = File.ReadAllBytes(RepositoryPaths.ChartCrd);
        Assert.True(generated.AsSpan().SequenceEqual(shipped),
            "helm/cache-operator/crds/cacheclusters.cacheoperator.io.yaml differs from crds/: copy the generated file into the chart");
    }

    [Fact]
    public void CrdHasTheContractsNamesAndColumns()
    {
        var crd = KubernetesModels.Parse<V1CustomResourceDefinition>(Crd(RepositoryPaths.ChartCrd));
        Assert.Equal("cacheclusters.cacheoperator.io", crd.Metadata.Name);
        Assert.Equal("cacheoperator.io", crd.Spec.Group);
        Assert.Equal("Namespaced", crd.Spec.Scope);
        Assert.Equal(("CacheCluster", "cacheclusters", "cachecluster"), (crd.Spec.Names.Kind, crd.Spec.Names.Plural, crd.Spec.Names.Singular));
        Assert.Equal(["cc"], crd.Spec.Names.ShortNames);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal("v1alpha1", version.Name);
        Assert.True(version.Served && version.Storage);
        Assert.NotNull(version.Subresources.Status);
        Assert.Equal(["Shards", "Replicas", "Ready", "Phase", "Age"], version.AdditionalPrinterColumns.Select(c => c.Name));
    }

    [Fact]
    public void HelmInstallsTheChartsCrd()
    {
        var rendered = RenderedManifest.Single(Helm.Render(ChartValues.Default), "CustomResourceDefinition");
        Assert.Equal(Crd(RepositoryPaths.ChartCrd).Yaml.Trim(), rendered.Yaml[(rendered.Yaml.IndexOf("apiVersion:", StringComparison.Ordinal))..].Trim());
    }
}
