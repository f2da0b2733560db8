using CacheOperator.Operator.Kubernetes;
using k8s.Models;

namespace CacheOperator.Chart.Tests;

/// <summary>
/// The chart grants the operator exactly <see cref="OperatorPermissions"/>, which a test in the operator's tests records
/// from the operator's own calls: the workload permissions cluster-wide (or per watched namespace), the Lease in the
/// release namespace only, one CRD by name; no unused verb, no Secret list or watch.
/// </summary>
public sealed class RbacTests
{
    static readonly IReadOnlyList<RenderedManifest> Manifests = Helm.Render(ChartValues.Default);

    static readonly ChartValues Namespaced = new("watch-namespaces", [], ["watchNamespaces={team-a,team-b}"]);

    static IReadOnlySet<Permission> Granted(IEnumerable<V1PolicyRule> rules) =>
        OperatorContract.Expand(rules.SelectMany(rule => rule.ApiGroups.Select(group => (group, rule.Resources.ToArray(), rule.Verbs.ToArray()))));

    static List<string> Sorted(IEnumerable<Permission> permissions) =>
        permissions.Select(p => $"{p.ApiGroup}/{p.Resource} {p.Verb}").Order(StringComparer.Ordinal).ToList();

    static T Named<T>(IEnumerable<RenderedManifest> manifests, string kind, string name) =>
        KubernetesModels.Parse<T>(manifests.Single(m => m.Kind == kind && m.Name == name));

    [Fact]
    public void ClusterRoleGrantsExactlyTheWorkloadPermissionsTheOperatorUses()
    {
        var role = Named<V1ClusterRole>(Manifests, "ClusterRole", "cache-operator");
        Assert.Equal(Sorted(OperatorPermissions.Workload), Sorted(Granted(role.Rules)));
    }

    [Fact]
    public void TheLeaseIsGrantedOnlyInTheReleaseNamespace()
    {
        var role = Named<V1Role>(Manifests, "Role", "cache-operator-leader-election");
        Assert.Equal(Helm.Namespace, role.Metadata.NamespaceProperty);
        Assert.Equal(Sorted(OperatorPermissions.LeaderElection), Sorted(Granted(role.Rules)));
        var binding = Named<V1RoleBinding>(Manifests, "RoleBinding", "cache-operator-leader-election");
        Assert.Equal(("Role", role.Metadata.Name, Helm.Namespace), (binding.RoleRef.Kind, binding.RoleRef.Name, binding.Metadata.NamespaceProperty));
        Assert.DoesNotContain(Manifests.Where(m => m.Kind == "ClusterRole").SelectMany(m => KubernetesModels.Parse<V1ClusterRole>(m).Rules), r => r.Resources.Contains("leases"));
    }

    [Fact]
    public void TheOnlyClusterScopedReadIsTheServiceMonitorCrdByName()
    {
        var role = Named<V1ClusterRole>(Manifests, "ClusterRole", "cache-operator-crd-check");
        Assert.Equal(Sorted(OperatorPermissions.Cluster), Sorted(Granted(role.Rules)));
        Assert.Equal(["servicemonitors.monitoring.coreos.com"], Assert.Single(role.Rules).ResourceNames);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("watch-namespaces")]
    public void NoRuleUsesWildcardsOrNonResourceUrlsOrReadsEverySecret(string values)
    {
        var manifests = values == "default" ? Manifests : Helm.Render(Namespaced);
        var rules = manifests.Where(m => m.Kind == "ClusterRole").SelectMany(m => KubernetesModels.Parse<V1ClusterRole>(m).Rules)
            .Concat(manifests.Where(m => m.Kind == "Role").SelectMany(m => KubernetesModels.Parse<V1Role>(m).Rules))
            .ToList();
        Assert.NotEmpty(rules);
        Assert.All(rules, rule =>
        {
            Assert.DoesNotContain("*", rule.ApiGroups);
            Assert.DoesNotContain("*", rule.Resources);
            Assert.DoesNotContain("*", rule.Verbs);
            Assert.Null(rule.NonResourceURLs);
            if (rule.Resources.Contains("secrets"))
            {
                Assert.Equal(["get"], rule.Verbs);
            }
        });
    }

    [Fact]
    public void WatchNamespacesGrantsTheWorkloadPermissionsInEachNamespaceOnlyAndTellsTheOperator()
    {
        var manifests = Helm.Render(Namespaced);
        Assert.DoesNotContain(manifests, m => m.Kind == "ClusterRole" && m.Name == "cache-operator");
        Assert.DoesNotContain(manifests, m => m.Kind == "ClusterRoleBinding" && m.Name == "cache-operator");
        var roles = manifests.Where(m => m.Kind == "Role" && m.Name == "cache-operator").Select(KubernetesModels.Parse<V1Role>).ToList();
        Assert.Equal(["team-a", "team-b"], roles.Select(r => r.Metadata.NamespaceProperty).Order(StringComparer.Ordinal));
        Assert.All(roles, role => Assert.Equal(Sorted(OperatorPermissions.Workload), Sorted(Granted(role.Rules))));
        var bindings = manifests.Where(m => m.Kind == "RoleBinding" && m.Name == "cache-operator").Select(KubernetesModels.Parse<V1RoleBinding>).ToList();
        Assert.Equal(["team-a", "team-b"], bindings.Select(b => b.Metadata.NamespaceProperty).Order(StringComparer.Ordinal));
        Assert.All(bindings, b => Assert.Equal(("ServiceAccount", "cache-operator", Helm.Namespace), (b.Subjects.Single().Kind, b.Subjects.Single().Name, b.Subjects.Single().NamespaceProperty)));

        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(manifests, "Deployment"));
        var args = deployment.Spec.Template.Spec.Containers.Single().Args;
        Assert.Equal("team-a,team-b", args[args.IndexOf("--watch-namespaces") + 1]);
    }

    [Fact]
    public void BindingGivesTheClusterRoleToTheOperatorsServiceAccount()
    {
        var account = KubernetesModels.Parse<V1ServiceAccount>(RenderedManifest.Single(Manifests, "ServiceAccount"));
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(Manifests, "Deployment"));
        foreach (var name in new[] { "cache-operator", "cache-operator-crd-check" })
        {
            var binding = Named<V1ClusterRoleBinding>(Manifests, "ClusterRoleBinding", name);
            Assert.Equal(("ClusterRole", name), (binding.RoleRef.Kind, binding.RoleRef.Name));
            var subject = Assert.Single(binding.Subjects);
            Assert.Equal(("ServiceAccount", account.Metadata.Name, Helm.Namespace), (subject.Kind, subject.Name, subject.NamespaceProperty));
        }
        Assert.Equal(account.Metadata.Name, deployment.Spec.Template.Spec.ServiceAccountName);
    }

    [Fact]
    public void AnExistingServiceAccountCanBeUsedInstead()
    {
        var manifests = Helm.Render(ChartValues.Named("minimal-values"));
        Assert.DoesNotContain(manifests, m => m.Kind == "ServiceAccount");
        var binding = Named<V1ClusterRoleBinding>(manifests, "ClusterRoleBinding", "cache-operator");
        var deployment = KubernetesModels.Parse<V1Deployment>(RenderedManifest.Single(manifests, "Deployment"));
        Assert.Equal("cache-operator", binding.Subjects.Single().Name);
        Assert.Equal("cache-operator", deployment.Spec.Template.Spec.ServiceAccountName);
    }
}
