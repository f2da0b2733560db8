using System.Text.Json.Nodes;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// A cluster's nodes on Kubernetes: a StatefulSet per shard plus the objects of <see cref="Manifests"/>, applied with
/// server-side apply as field manager cache-operator only when the live object does not already hold every field we set;
/// nodes are the shard's pods, reached at their pod IPs.
/// </summary>
public sealed class KubernetesNodeRuntime(IKubeApi api) : INodeRuntime
{
    /// <inheritdoc />
    public async Task<ObservedCluster> ObserveAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        var selector = $"app.kubernetes.io/instance={cluster.Metadata.Name},app.kubernetes.io/component=shard";
        var sets = await api.ListAsync<V1StatefulSet>(cluster.Metadata.NamespaceProperty, selector, cancellationToken);
        var pods = (await api.ListAsync<V1Pod>(cluster.Metadata.NamespaceProperty, selector, cancellationToken)).Items
            .Where(p => p.Metadata.DeletionTimestamp is null)
            .ToDictionary(p => p.Metadata.Name);
        var shards = new List<ObservedShard>();
        foreach (var set in sets.Items.Where(s => IsOwnedBy(s, cluster)))
        {
            if (set.Metadata.Labels is not { } labels || !labels.TryGetValue(Manifests.ShardLabel, out var shardLabel) || !int.TryParse(shardLabel, out var index))
            {
                continue;
            }
            var desired = set.Spec?.Replicas ?? 1;
            var members = Enumerable.Range(0, desired).Select(i => Member(pods, $"{set.Metadata.Name}-{i}", set.Status?.UpdateRevision)).ToList();
            var ready = set.Status?.ObservedGeneration >= set.Metadata.Generation ? set.Status?.ReadyReplicas ?? 0 : 0;
            shards.Add(new ObservedShard(index, set.Metadata.Name, desired, ready, members));
        }
        return new ObservedCluster(shards.OrderBy(s => s.Index).ToList());
    }

    /// <inheritdoc />
    public async Task<string?> GetPasswordAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        if (cluster.Spec.Auth?.SecretRef is not { } reference)
        {
            return null;
        }
        var secret = await api.GetAsync<V1Secret>(cluster.Metadata.NamespaceProperty, reference.Name, cancellationToken)
            ?? throw new InvalidOperationException($"Secret {reference.Name} named by spec.auth.secretRef does not exist");
        if (secret.Data?.TryGetValue(reference.Key, out var bytes) == true)
        {
            return System.Text.Encoding.UTF8.GetString(bytes);
        }
        return secret.StringData?.TryGetValue(reference.Key, out var text) == true
            ? text
            : throw new InvalidOperationException($"Secret {reference.Name} has no key {reference.Key} named by spec.auth.secretRef");
    }

    /// <summary>
    /// A pod as a member: its IP once it has one, ready when its Ready condition is True, outdated when it was made from
    /// another revision of the template than the StatefulSet's updateRevision (OnDelete: it changes only when deleted).
    /// </summary>
    private static ObservedMember Member(Dictionary<string, V1Pod> pods, string name, string? updateRevision)
    {
        if (!pods.TryGetValue(name, out var pod))
        {
            return new ObservedMember(name, null, SpecValidator.RespPort, false);
        }
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") ?? false;
        string? revision = null;
        pod.Metadata.Labels?.TryGetValue(Manifests.RevisionLabel, out revision);
        var outdated = !string.IsNullOrEmpty(updateRevision) && !string.IsNullOrEmpty(revision) && revision != updateRevision;
        return new ObservedMember(name, string.IsNullOrEmpty(pod.Status?.PodIP) ? null : pod.Status.PodIP, SpecValidator.RespPort, ready, outdated);
    }

    /// <inheritdoc />
    public Task RestartMemberAsync(CacheCluster cluster, string member, CancellationToken cancellationToken) =>
        api.DeleteAsync<V1Pod>(cluster.Metadata.NamespaceProperty, member, cancellationToken);

    /// <inheritdoc />
    public async Task<ApplySummary> ApplyAsync(CacheCluster cluster, ClusterPlan plan, CancellationToken cancellationToken)
    {
        var wantsMonitor = cluster.Spec.Metrics is { Enabled: true, ServiceMonitor: true };
        var monitorAvailable = wantsMonitor && await api.CrdExistsAsync(Manifests.ServiceMonitorCrd, cancellationToken);
        var notes = new List<string>();
        if (wantsMonitor && !monitorAvailable)
        {
            notes.Add($"spec.metrics.serviceMonitor is set but the {Manifests.ServiceMonitorCrd} CRD is not installed; no ServiceMonitor was created");
        }
        var created = new List<int>();
        var changed = new List<string>();
        var objects = new List<(IKubernetesObject<V1ObjectMeta> Desired, IKubernetesObject<V1ObjectMeta>? Live)>();
        foreach (var desired in Manifests.All(cluster, plan, monitorAvailable))
        {
            objects.Add((desired, desired switch
            {
                V1ConfigMap => await api.GetAsync<V1ConfigMap>(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken),
                V1Service => await api.GetAsync<V1Service>(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken),
                V1StatefulSet => await api.GetAsync<V1StatefulSet>(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken),
                V1PodDisruptionBudget => await api.GetAsync<V1PodDisruptionBudget>(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken),
                ServiceMonitor => await api.GetAsync<ServiceMonitor>(desired.Metadata.NamespaceProperty, desired.Metadata.Name, cancellationToken),
                _ => throw new InvalidOperationException($"no apply for {desired.GetType().Name}"),
            }));
        }
        // Someone else's object of a name we need is never taken over (a forced apply would): refuse before writing anything.
        var foreign = objects.Where(o => o.Live is not null && !IsOwnedBy(o.Live, cluster)).Select(o => $"{o.Desired.Kind} {o.Desired.Metadata.Name}").ToList();
        if (foreign.Count > 0)
        {
            throw new ApplyRefusedException("ObjectNotOwned", string.Join("; ", foreign.Select(f =>
                $"{f} already exists in namespace {cluster.Metadata.NamespaceProperty} and is not owned by this CacheCluster")) +
                "; the operator does not take over other objects: delete or rename them, or rename the cluster");
        }
        foreach (var (desired, live) in objects)
        {
            var action = desired switch
            {
                V1ConfigMap o => await ApplyIfChangedAsync(o, live, cancellationToken),
                V1Service o => await ApplyIfChangedAsync(o, live, cancellationToken),
                V1StatefulSet o => await ApplyIfChangedAsync(o, live, cancellationToken),
                V1PodDisruptionBudget o => await ApplyIfChangedAsync(o, live, cancellationToken),
                ServiceMonitor o => await ApplyIfChangedAsync(o, live, cancellationToken),
                _ => throw new InvalidOperationException($"no apply for {desired.GetType().Name}"),
            };
            if (action is null)
            {
                continue;
            }
            changed.Add($"{desired.Kind}/{desired.Metadata.Name}");
            if (action == "created" && desired is V1StatefulSet set)
            {
                created.Add(int.Parse(set.Metadata.Labels[Manifests.ShardLabel], System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return new ApplySummary(created, changed, notes);
    }

    /// <inheritdoc />
    public async Task DeleteShardAsync(CacheCluster cluster, int index, CancellationToken cancellationToken)
    {
        var name = CacheClusterReconciler.ShardName(cluster, index);
        var ns = cluster.Metadata.NamespaceProperty;
        await api.DeleteAsync<V1PodDisruptionBudget>(ns, name, cancellationToken);
        await api.DeleteAsync<V1StatefulSet>(ns, name, cancellationToken);
    }

    /// <summary>
    /// False: every object made for a cluster carries its controller owner reference, so garbage collection removes them
    /// with it; a finalizer would only add a way to get stuck (a namespace being deleted refuses Events with 403).
    /// </summary>
    public bool NeedsFinalizer => false;

    /// <inheritdoc />
    public async Task CleanUpAsync(CacheCluster cluster, CancellationToken cancellationToken)
    {
        // Budgets first, so nothing blocks the pods going; then the workloads; then what served them.
        var observed = await ObserveAsync(cluster, cancellationToken);
        foreach (var shard in observed.Shards)
        {
            await DeleteShardAsync(cluster, shard.Index, cancellationToken);
        }
        if (await api.CrdExistsAsync(Manifests.ServiceMonitorCrd, cancellationToken))
        {
            await DeleteIfOwnedAsync<ServiceMonitor>(cluster, cluster.Metadata.Name, cancellationToken);
        }
        await DeleteIfOwnedAsync<V1Service>(cluster, cluster.Metadata.Name, cancellationToken);
        await DeleteIfOwnedAsync<V1Service>(cluster, Manifests.HeadlessServiceName(cluster), cancellationToken);
        await DeleteIfOwnedAsync<V1ConfigMap>(cluster, Manifests.ConfigMapName(cluster), cancellationToken);
    }

    /// <summary>
    /// Whether every field set in <paramref name="desired"/> already has that value in <paramref name="live"/>:
    /// objects compare by the desired keys only (the API server adds defaults), lists element by element, quantities by
    /// value (the API server stores "1024Mi" as "1Gi"). Says nothing of fields no longer desired: see <see cref="AppliedAnnotation"/>.
    /// </summary>
    public static bool Holds(JsonNode? live, JsonNode? desired) => (live, desired) switch
    {
        (_, null) => true,
        (JsonObject l, JsonObject d) => d.All(p => Holds(l[p.Key], p.Value)),
        (JsonArray l, JsonArray d) => l.Count == d.Count && d.Select((item, i) => Holds(l[i], item)).All(x => x),
        (JsonValue l, JsonValue d) => JsonNode.DeepEquals(l, d) || l.ToString() == d.ToString() || SameQuantity(l.ToString(), d.ToString()),
        _ => false,
    };

    /// <summary>
    /// Annotation with a hash of the configuration last applied (the object as desired, before this annotation): an object
    /// is re-applied when it differs, so a field the operator stopped setting is removed by server-side apply, which
    /// "the live object holds every desired field" alone would never notice.
    /// </summary>
    public const string AppliedAnnotation = "cacheoperator.io/applied-hash";

    /// <summary>The hash <see cref="AppliedAnnotation"/> carries for <paramref name="desired"/>.</summary>
    public static string AppliedHash(IKubernetesObject<V1ObjectMeta> desired)
    {
        var json = JsonNode.Parse(KubernetesJson.Serialize(desired))!;
        (json["metadata"]?["annotations"] as JsonObject)?.Remove(AppliedAnnotation);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json.ToJsonString())))[..16];
    }

    private static bool SameQuantity(string live, string desired)
    {
        try
        {
            return new ResourceQuantity(live).ToString() == new ResourceQuantity(desired).ToString();
        }
        catch (Exception)
        {
            // Not quantities.
            return false;
        }
    }

    private async Task<string?> ApplyIfChangedAsync<T>(T desired, IKubernetesObject<V1ObjectMeta>? live, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var hash = AppliedHash(desired);
        desired.Metadata.Annotations ??= new Dictionary<string, string>();
        desired.Metadata.Annotations[AppliedAnnotation] = hash;
        if (live?.Metadata.Annotations is { } annotations && annotations.TryGetValue(AppliedAnnotation, out var applied) && applied == hash
            && Holds(JsonNode.Parse(KubernetesJson.Serialize(live)), JsonNode.Parse(KubernetesJson.Serialize(desired))))
        {
            return null;
        }
        try
        {
            await api.ApplyAsync(desired, CacheClusterResource.FieldManager, force: true, cancellationToken);
        }
        catch (ApiException e) when (e.StatusCode == 422)
        {
            // Invalid (an immutable field such as a StatefulSet's volumeClaimTemplates): retrying cannot help.
            throw new ApplyRefusedException("ChangeRejected", $"The API server rejected the change to {desired.Kind} {desired.Metadata.Name}: {e.Message}");
        }
        return live is null ? "created" : "updated";
    }

    private async Task DeleteIfOwnedAsync<T>(CacheCluster cluster, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var live = await api.GetAsync<T>(cluster.Metadata.NamespaceProperty, name, cancellationToken);
        if (live is not null && IsOwnedBy(live, cluster))
        {
            await api.DeleteAsync<T>(cluster.Metadata.NamespaceProperty, name, cancellationToken);
        }
    }

    private static bool IsOwnedBy(IKubernetesObject<V1ObjectMeta> obj, CacheCluster cluster) =>
        obj.Metadata.OwnerReferences?.Any(r => r.Uid == cluster.Metadata.Uid && r.Kind == CacheClusterResource.Kind && r.Controller == true) ?? false;
}
