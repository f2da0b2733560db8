using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>The chart grants the operator exactly the permissions of the contract, to its own ServiceAccount.</summary>
public sealed class RbacTests
{
    static readonly IReadOnlyList<RenderedManifest> Manifests = Helm.Render(ChartValues.Default);

    [Fact]
    public void ClusterRoleGrantsExactlyTheContractsPermissions()
    {
        var role = KubernetesModels.Parse<V1ClusterRole>(RenderedManifest.Single(Manifests, "ClusterRole"));
        var granted = OperatorContract.Expand(role.Rules.SelectMany(rule =>
            rule.ApiGroups.Select(group => (group, rule.Resources.ToArray(), rule.Verbs.ToArray()))));
        var missing = OperatorContract.Rbac.Except(granted).ToList();
        var extra = granted.Except(OperatorContract.Rbac).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"missing: {string.Join(", ", missing)}\nextra: {string.Join(", ", extra)}");
    }

    [Fact]
    public void ClusterRoleUsesNoWildcardsOrResourceNamesOrNonResourceUrls()
    {
        var role = KubernetesModels.Parse<V1ClusterRole>(RenderedManifest.Single(Manifests, "ClusterRole"));
        Assert.All(role.Rules, rule =>
        {
            Assert.DoesNotContain("*", rule.ApiGroups);
            Assert.DoesNotContain("*", rule.Resources);
            Assert.DoesNotContain("*", rule.Verbs);
            Assert.Null(rule.NonResourceURLs);
            Assert.Null(rule.ResourceNames);
        });
        Assert.Null(role.AggregationRule);
    }

    [Fact]
    public void BindingGivesTheClusterRoleToTheOperatorsServiceAccount()
    {
        var account = KubernetesModels.Parse<V1ServiceAccount>(RenderedManifest.Single(Manifests, "ServiceAccount"));
        var role = KubernetesModels.Parse<V1ClusterRole>(RenderedManifest.Single(Manifests, "ClusterRole"));
        var binding = KubernetesModels.Parse<V1ClusterRoleBinding>(RenderedManifest.Single(Manifests, "ClusterRoleBinding"));
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(Manifests, "Deployment"));
        Assert.Equal(("ClusterRole", role.Metadata.Name), (binding.RoleRef.Kind, binding.RoleRef.Name));
        var subject = Assert.Single(binding.Subjects);
        Assert.Equal(("ServiceAccount", account.Metadata.Name, Helm.Namespace), (subject.Kind, subject.Name, subject.NamespaceProperty));
        Assert.Equal(account.Metadata.Name, deployment.Spec.Template.Spec.ServiceAccountName);
    }

    [Fact]
    public void AnExistingServiceAccountCanBeUsedInstead()
    {
        var manifests = Helm.Render(ChartValues.Named("minimal-values"));
        Assert.DoesNotContain(manifests, m => m.Kind == "ServiceAccount");
        var binding = KubernetesModels.Parse<V1ClusterRoleBinding>(RenderedManifest.Single(manifests, "ClusterRoleBinding"));
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(manifests, "Deployment"));
        Assert.Equal("cache-operator", binding.Subjects.Single().Name);
        Assert.Equal("cache-operator", deployment.Spec.Template.Spec.ServiceAccountName);
    }
}
