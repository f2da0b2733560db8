using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// An API server in memory, for tests and dry runs, following the real one where the operator depends on
/// it: resourceVersion on every write and 409 on a stale one; generation bumped only when something other
/// than metadata and status changes; the status subresource (updates keep status, status updates keep the
/// rest); finalizers and deletionTimestamp; garbage collection of dependents by owner reference; watches
/// from a resourceVersion with 410 once it is compacted, filtered by label selector (an object that stops matching
/// is sent as DELETED, one that starts matching as ADDED), with BOOKMARK events carrying the version reached; 429
/// with Retry-After on demand; and server-side apply field ownership per field
/// manager (lists are atomic, conflicts unless forced, fields a manager stops applying are removed unless
/// another manager owns them); and of the StatefulSet controller, the revision of a StatefulSet's pod template
/// (status.updateRevision, "NAME-HASH", new whenever spec.template changes), which the pods made from it carry as
/// their controller-revision-hash label.
/// </summary>
public sealed class InMemoryKubeApi : IKubeApi
{
    private readonly object _gate = new();
    private readonly Dictionary<(ResourceType Type, string Namespace, string Name), Stored> _objects = [];
    private readonly List<LogEntry> _log = [];
    private readonly List<Corev1Event> _events = [];
    private readonly HashSet<string> _terminating = [];
    private readonly List<(string Verb, string Kind, string Name)> _writes = [];
    private readonly List<(Func<string, ResourceType, string, bool> Match, Func<Exception> Failure)> _failures = [];
    private readonly List<(string Verb, string Kind, string? Namespace, string? LabelSelector)> _reads = [];
    private int _watchGeneration;
    private bool _watchesPaused;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version = 100;
    private long _compactedThrough;
    private int _epoch;

    /// <summary>CRDs reported as installed by <see cref="CrdExistsAsync"/>.</summary>
    public HashSet<string> InstalledCrds { get; } = [];

    /// <summary>Events recorded so far.</summary>
    public IReadOnlyList<Corev1Event> Events
    {
        get
        {
            lock (_gate)
            {
                return _events.ToList();
            }
        }
    }

    /// <summary>Every write that changed something: (verb, kind, name).</summary>
    public IReadOnlyList<(string Verb, string Kind, string Name)> Writes
    {
        get
        {
            lock (_gate)
            {
                return _writes.ToList();
            }
        }
    }

    /// <summary>
    /// The next call matching (verb, resource, name) fails with <paramref name="statusCode"/> (and, for 429 and 503, the
    /// server's Retry-After); verbs: get, list, watch, create, update, status, apply, patch, delete. List and watch match name "".
    /// </summary>
    public void FailNext(Func<string, ResourceType, string, bool> match, int statusCode, TimeSpan? retryAfter = null) =>
        FailNextWith(match, () => new ApiException(statusCode, $"injected failure ({statusCode})", retryAfter));

    /// <summary>The next call matching (verb, resource, name) throws what <paramref name="failure"/> makes (a network error, a timeout).</summary>
    public void FailNextWith(Func<string, ResourceType, string, bool> match, Func<Exception> failure)
    {
        lock (_gate)
        {
            _failures.Add((match, failure));
        }
    }

    /// <summary>Every list and watch request: (verb, kind, namespace, label selector).</summary>
    public IReadOnlyList<(string Verb, string Kind, string? Namespace, string? LabelSelector)> Reads
    {
        get
        {
            lock (_gate)
            {
                return _reads.ToList();
            }
        }
    }

    /// <summary>
    /// Forgets the watch history up to now as etcd compaction does, without ending open watches: a watch that resumes from
    /// an older version gets 410 Gone, one that resumes from now (a bookmark's version) does not.
    /// </summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            _compactedThrough = _version;
            _log.Clear();
        }
    }

    /// <summary>Ends every open watch normally, as the API server does when a watch's timeout runs out.</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            _watchGeneration++;
            Wake();
        }
    }

    /// <summary>Open watches deliver nothing until <see cref="ResumeWatches"/> (they still end with 410 on compaction): lets a test change objects while informers are not looking.</summary>
    public void PauseWatches()
    {
        lock (_gate)
        {
            _watchesPaused = true;
        }
    }

    /// <summary>Undoes <see cref="PauseWatches"/>.</summary>
    public void ResumeWatches()
    {
        lock (_gate)
        {
            _watchesPaused = false;
            Wake();
        }
    }

    /// <summary>Injected failures (<see cref="FailNext"/>, <see cref="FailNextWith"/>) not yet met by a call.</summary>
    public int PendingFailures
    {
        get
        {
            lock (_gate)
            {
                return _failures.Count;
            }
        }
    }

    /// <summary>
    /// Forgets the watch history up to now, as etcd compaction does: open watches end with 410 Gone, and so
    /// do new watches from versions before now.
    /// </summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedThrough = _version;
            _epoch++;
            _log.Clear();
            Wake();
        }
    }

    /// <summary>Field paths (JSON-pointer style) each field manager owns on an object.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> ManagedFields<T>(string @namespace, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((ResourceTypes.Of<T>(), @namespace, name), out var stored)
                ? stored.Owners.ToDictionary(p => p.Key, p => (IReadOnlySet<string>)p.Value.ToHashSet())
                : new Dictionary<string, IReadOnlySet<string>>();
        }
    }

    /// <inheritdoc />
    public Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            ThrowIfInjected("get", type, name);
            return Task.FromResult(_objects.TryGetValue((type, @namespace, name), out var stored) ? ToObject<T>(stored.Json) : null);
        }
    }

    /// <inheritdoc />
    public Task<ObjectList<T>> ListAsync<T>(string? @namespace, string? labelSelector, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var selector = ParseSelector(labelSelector);
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            _reads.Add(("list", type.Kind, @namespace, labelSelector));
            ThrowIfInjected("list", type, "");
            var items = _objects
                .Where(p => p.Key.Type == type && (@namespace is null || p.Key.Namespace == @namespace) && Matches(p.Value.Json, selector))
                .Select(p => ToObject<T>(p.Value.Json))
                .OrderBy(o => o.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(o => o.Metadata.Name, StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(new ObjectList<T>(items, _version.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync<T>(string? @namespace, string? labelSelector, string resourceVersion, [EnumeratorCancellation] CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var type = ResourceTypes.Of<T>();
        var selector = ParseSelector(labelSelector);
        if (!long.TryParse(resourceVersion, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var since))
        {
            throw new ApiException(400, $"invalid resourceVersion \"{resourceVersion}\"");
        }
        int epoch;
        int generation;
        lock (_gate)
        {
            _reads.Add(("watch", type.Kind, @namespace, labelSelector));
            ThrowIfInjected("watch", type, "");
            epoch = _epoch;
            generation = _watchGeneration;
        }
        while (true)
        {
            var batch = new List<(WatchEventType Type, JsonObject Json)>();
            Task changed;
            lock (_gate)
            {
                if (since < _compactedThrough || epoch != _epoch)
                {
                    throw new ApiException(410, $"too old resource version: {since} ({_compactedThrough})");
                }
                if (generation != _watchGeneration)
                {
                    yield break;
                }
                changed = _changed.Task;
                if (!_watchesPaused)
                {
                    foreach (var entry in _log.Where(e => e.Version > since && e.Type == type && (@namespace is null || e.Namespace == @namespace)))
                    {
                        // As the API server's watch cache: an object that stops matching the selector is gone for this
                        // watch (DELETED), one that starts matching is new to it (ADDED).
                        var now = Matches(entry.Json, selector);
                        var before = entry.Previous is not null && Matches(entry.Previous, selector);
                        var eventType = entry.EventType switch
                        {
                            WatchEventType.Modified when now && !before => WatchEventType.Added,
                            WatchEventType.Modified when !now && before => WatchEventType.Deleted,
                            _ => entry.EventType,
                        };
                        if (now || (entry.EventType == WatchEventType.Modified && before))
                        {
                            var json = (JsonObject)entry.Json.DeepClone();
                            batch.Add((eventType, json));
                        }
                    }
                    if (batch.Count == 0 && _version > since)
                    {
                        // Nothing this watch selects changed, but the store moved on: a bookmark says how far the watch has
                        // got, so a resumed watch need not start from a version that may since have been compacted.
                        var bookmark = new JsonObject
                        {
                            ["apiVersion"] = type.ApiVersion,
                            ["kind"] = type.Kind,
                            ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                        };
                        batch.Add((WatchEventType.Bookmark, bookmark));
                    }
                }
            }
            foreach (var (eventType, json) in batch)
            {
                since = long.Parse(Version(json), System.Globalization.CultureInfo.InvariantCulture);
                yield return (eventType, ToObject<T>(json));
            }
            if (batch.Count == 0)
            {
                await changed.WaitAsync(cancellationToken);
            }
        }
    }

    /// <inheritdoc />
    public Task<T> CreateAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            var key = Key(type, obj);
            ThrowIfInjected("create", type, key.Name);
            if (_objects.ContainsKey(key))
            {
                throw new ApiException(409, $"{type.Plural} \"{key.Name}\" already exists", reason: "AlreadyExists");
            }
            ThrowIfTerminating(type, key);
            var json = ToJson(obj, type);
            ThrowIfInvalidMetadata(type, json);
            return Task.FromResult(ToObject<T>(Insert(key, json, "create").Json));
        }
    }

    /// <inheritdoc />
    public Task<T> ReplaceAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            var key = Key(type, obj);
            ThrowIfInjected("update", type, key.Name);
            var stored = Existing(key, obj.Metadata.ResourceVersion);
            var json = ToJson(obj, type);
            var metadata = (JsonObject)json["metadata"]!;
            var old = (JsonObject)stored.Json["metadata"]!;
            foreach (var kept in new[] { "uid", "creationTimestamp", "deletionTimestamp", "generation" })
            {
                metadata[kept] = old[kept]?.DeepClone();
            }
            ThrowIfFinalizerAddedWhileDeleting(type, key, old, metadata);
            json.Remove("status");
            if (stored.Json["status"] is { } status)
            {
                json["status"] = status.DeepClone();
            }
            return Task.FromResult(ToObject<T>(Commit(key, stored, json, "update").Json));
        }
    }

    /// <inheritdoc />
    public Task<T> ReplaceStatusAsync<T>(T obj, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            var key = Key(type, obj);
            ThrowIfInjected("status", type, key.Name);
            if (!type.HasStatus)
            {
                throw new ApiException(404, $"{type.Plural} has no status subresource");
            }
            var stored = Existing(key, obj.Metadata.ResourceVersion);
            var json = (JsonObject)stored.Json.DeepClone();
            json.Remove("status");
            if (ToJson(obj, type)["status"] is { } status)
            {
                json["status"] = status.DeepClone();
            }
            return Task.FromResult(ToObject<T>(Commit(key, stored, json, "status").Json));
        }
    }

    /// <inheritdoc />
    public Task<T> ApplyAsync<T>(T obj, string fieldManager, bool force, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            var key = Key(type, obj);
            ThrowIfInjected("apply", type, key.Name);
            var applied = ToJson(obj, type);
            var metadata = (JsonObject)applied["metadata"]!;
            var precondition = metadata["resourceVersion"]?.GetValue<string>();
            foreach (var server in new[] { "resourceVersion", "uid", "generation", "creationTimestamp", "deletionTimestamp", "managedFields" })
            {
                metadata.Remove(server);
            }
            applied.Remove("status");
            var leaves = new Dictionary<string, JsonNode?>();
            Leaves(applied, "", leaves);
            foreach (var identity in new[] { "/apiVersion", "/kind", "/metadata/name", "/metadata/namespace" })
            {
                leaves.Remove(identity);
            }

            if (!_objects.TryGetValue(key, out var stored))
            {
                ThrowIfTerminating(type, key);
                ThrowIfInvalidMetadata(type, applied);
                var created = Insert(key, applied, "apply");
                created.Owners[fieldManager] = [.. leaves.Keys];
                return Task.FromResult(ToObject<T>(created.Json));
            }
            if (precondition is not null && precondition != Version(stored.Json))
            {
                throw new ApiException(409, $"the object has been modified; resourceVersion {precondition} is stale", reason: "Conflict");
            }
            var conflicts = leaves
                .SelectMany(leaf => stored.Owners
                    .Where(o => o.Key != fieldManager && o.Value.Contains(leaf.Key) && !JsonNode.DeepEquals(At(stored.Json, leaf.Key), leaf.Value))
                    .Select(o => $"{leaf.Key} (owned by {o.Key})"))
                .ToList();
            if (conflicts.Count > 0 && !force)
            {
                throw new ApiException(409, "Apply failed with conflicts: " + string.Join(", ", conflicts), reason: "Conflict");
            }
            var live = (JsonObject)stored.Json.DeepClone();
            var before = stored.Owners.GetValueOrDefault(fieldManager) ?? [];
            foreach (var dropped in before.Where(p => !leaves.ContainsKey(p)))
            {
                if (!stored.Owners.Any(o => o.Key != fieldManager && o.Value.Contains(dropped)))
                {
                    RemoveAt(live, dropped);
                }
            }
            foreach (var (path, value) in leaves)
            {
                SetAt(live, path, value?.DeepClone());
            }
            foreach (var (manager, paths) in stored.Owners.Where(o => o.Key != fieldManager))
            {
                // Forced: the applier takes the conflicting fields; equal values stay shared.
                paths.RemoveWhere(p => leaves.ContainsKey(p) && !JsonNode.DeepEquals(At(stored.Json, p), leaves[p]));
            }
            stored.Owners[fieldManager] = [.. leaves.Keys];
            return Task.FromResult(ToObject<T>(Commit(key, stored, live, "apply").Json));
        }
    }

    /// <inheritdoc />
    public Task<T> MergePatchAsync<T>(string @namespace, string name, JsonObject patch, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            var key = (type, @namespace, name);
            ThrowIfInjected("patch", type, name);
            var stored = Existing(key, patch["metadata"]?["resourceVersion"]?.GetValue<string>());
            var json = (JsonObject)MergePatch(stored.Json, patch)!;
            if (IsBuiltIn(type))
            {
                NormalizeQuantities(json, null);
            }
            var metadata = json["metadata"] as JsonObject ?? throw new ApiException(422, "metadata: Required value");
            var old = (JsonObject)stored.Json["metadata"]!;
            foreach (var kept in new[] { "name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation" })
            {
                metadata[kept] = old[kept]?.DeepClone();
            }
            json["apiVersion"] = type.ApiVersion;
            json["kind"] = type.Kind;
            ThrowIfFinalizerAddedWhileDeleting(type, key, old, metadata);
            if (type.HasStatus)
            {
                // The main resource ignores status, as with an update.
                json.Remove("status");
                if (stored.Json["status"] is { } status)
                {
                    json["status"] = status.DeepClone();
                }
            }
            return Task.FromResult(ToObject<T>(Commit(key, stored, json, "patch").Json));
        }
    }

    /// <summary>
    /// Deletes a namespace as the namespace controller does: it is Terminating at once (the NamespaceLifecycle admission
    /// plugin refuses new objects and Events in it with 403) and every object in it is deleted, those with finalizers
    /// staying until the finalizers are removed.
    /// </summary>
    public void DeleteNamespace(string @namespace)
    {
        lock (_gate)
        {
            _terminating.Add(@namespace);
            foreach (var key in _objects.Keys.Where(k => k.Namespace == @namespace).ToList())
            {
                Delete(key);
            }
        }
    }

    /// <inheritdoc />
    public Task DeleteAsync<T>(string @namespace, string name, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        lock (_gate)
        {
            var type = ResourceTypes.Of<T>();
            ThrowIfInjected("delete", type, name);
            Delete((type, @namespace, name));
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<bool> CrdExistsAsync(string crdName, CancellationToken cancellationToken) => Task.FromResult(InstalledCrds.Contains(crdName));

    /// <inheritdoc />
    public Task CreateEventAsync(Corev1Event kubernetesEvent, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var ns = kubernetesEvent.Metadata?.NamespaceProperty ?? "default";
            var name = kubernetesEvent.Metadata?.Name ?? "";
            if (!IsDnsSubdomain(name))
            {
                throw new ApiException(422, $"Event \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'", reason: "Invalid");
            }
            if (_terminating.Contains(ns))
            {
                throw new ApiException(403, $"events \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated", reason: "Forbidden");
            }
            if (_events.Any(e => (e.Metadata?.NamespaceProperty ?? "default") == ns && e.Metadata?.Name == name))
            {
                throw new ApiException(409, $"events \"{name}\" already exists", reason: "AlreadyExists");
            }
            _events.Add(kubernetesEvent);
        }
        return Task.CompletedTask;
    }

    private void ThrowIfInjected(string verb, ResourceType type, string name)
    {
        var index = _failures.FindIndex(f => f.Match(verb, type, name));
        if (index >= 0)
        {
            var failure = _failures[index].Failure;
            _failures.RemoveAt(index);
            throw failure();
        }
    }

    /// <summary>
    /// The API server's name and label validation: Services are DNS-1035 labels (at most 63, starting with a letter),
    /// other kinds DNS-1123 subdomains (at most 253); label values at most 63 characters.
    /// </summary>
    private static void ThrowIfInvalidMetadata(ResourceType type, JsonObject json)
    {
        var name = json["metadata"]?["name"]?.GetValue<string>() ?? "";
        var valid = type.Kind == "Service"
            ? name.Length <= 63 && System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z]([-a-z0-9]*[a-z0-9])?$")
            : IsDnsSubdomain(name);
        if (!valid)
        {
            var rule = type.Kind == "Service"
                ? "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character, and must be no more than 63 characters"
                : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character, and must be no more than 253 characters";
            throw new ApiException(422, $"{type.Kind} \"{name}\" is invalid: metadata.name: Invalid value: \"{name}\": {rule}", reason: "Invalid");
        }
        foreach (var (key, value) in json["metadata"]?["labels"] as JsonObject ?? [])
        {
            var text = value?.GetValue<string>() ?? "";
            if (text.Length > 63 || !System.Text.RegularExpressions.Regex.IsMatch(text, "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"))
            {
                throw new ApiException(422, $"{type.Kind} \"{name}\" is invalid: metadata.labels: Invalid value: \"{text}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, and must be no more than 63 characters ({key})", reason: "Invalid");
            }
        }
    }

    private static bool IsDnsSubdomain(string name) =>
        name.Length is > 0 and <= 253 && System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

    private void ThrowIfTerminating(ResourceType type, (ResourceType Type, string Namespace, string Name) key)
    {
        if (_terminating.Contains(key.Namespace))
        {
            throw new ApiException(403, $"{type.Plural} \"{key.Name}\" is forbidden: unable to create new content in namespace {key.Namespace} because it is being terminated");
        }
    }

    /// <summary>The API server's metadata validation: an object being deleted may lose finalizers, never gain one.</summary>
    private static void ThrowIfFinalizerAddedWhileDeleting(ResourceType type, (ResourceType Type, string Namespace, string Name) key, JsonObject old, JsonObject updated)
    {
        if (old["deletionTimestamp"] is null)
        {
            return;
        }
        var before = (old["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).ToHashSet();
        var added = (updated["finalizers"] as JsonArray ?? []).Select(f => f?.GetValue<string>()).Where(f => !before.Contains(f)).ToList();
        if (added.Count > 0)
        {
            throw new ApiException(422, $"{type.Kind} \"{key.Name}\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{{\"{string.Join("\", \"", added)}\"}}");
        }
    }

    /// <summary>The StatefulSet update validation: only these spec fields may change (volumeClaimTemplates, selector, serviceName... may not).</summary>
    private static readonly string[] MutableStatefulSetFields = ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

    private static void ThrowIfImmutableStatefulSetFieldsChange((ResourceType Type, string Namespace, string Name) key, JsonObject old, JsonObject updated)
    {
        JsonObject Fixed(JsonObject json)
        {
            var spec = json["spec"] is JsonObject s ? (JsonObject)s.DeepClone() : new JsonObject();
            foreach (var field in MutableStatefulSetFields)
            {
                spec.Remove(field);
            }
            return spec;
        }
        if (!JsonNode.DeepEquals(Fixed(old), Fixed(updated)))
        {
            throw new ApiException(422, $"StatefulSet.apps \"{key.Name}\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than " +
                "'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
        }
    }

    /// <summary>RFC 7386: objects merge key by key, null removes, anything else (lists included) replaces.</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject fields)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject obj ? (JsonObject)obj.DeepClone() : new JsonObject();
        foreach (var (name, value) in fields)
        {
            if (value is null)
            {
                result.Remove(name);
            }
            else
            {
                result[name] = MergePatch(result[name], value);
            }
        }
        return result;
    }

    private static bool Matches(JsonObject json, Dictionary<string, string> selector) =>
        selector.All(s => json["metadata"]?["labels"]?[s.Key] is JsonValue value && value.GetValue<string>() == s.Value);

    private void Wake()
    {
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.SetResult();
    }

    private Stored Existing((ResourceType Type, string Namespace, string Name) key, string? resourceVersion)
    {
        if (!_objects.TryGetValue(key, out var stored))
        {
            throw new ApiException(404, $"{key.Type.Plural} \"{key.Name}\" not found");
        }
        if (!string.IsNullOrEmpty(resourceVersion) && resourceVersion != Version(stored.Json))
        {
            throw new ApiException(409, $"Operation cannot be fulfilled on {key.Type.Plural} \"{key.Name}\": the object has been modified; please apply your changes to the latest version and try again", reason: "Conflict");
        }
        return stored;
    }

    private Stored Insert((ResourceType Type, string Namespace, string Name) key, JsonObject json, string verb)
    {
        var metadata = (JsonObject)json["metadata"]!;
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        metadata["generation"] = 1;
        metadata.Remove("deletionTimestamp");
        metadata["resourceVersion"] = NextVersion();
        StampRevision(key, json);
        var stored = new Stored(json);
        _objects[key] = stored;
        Record(key, WatchEventType.Added, json, verb);
        if (metadata["ownerReferences"] is JsonArray { Count: > 0 } owners && !owners.Any(o => Owns(o?["uid"]?.GetValue<string>())))
        {
            // The garbage collector deletes an object whose owners are all gone (made by a writer that raced its owner's deletion).
            Delete(key);
        }
        return stored;
    }

    private Stored Commit((ResourceType Type, string Namespace, string Name) key, Stored stored, JsonObject json, string verb)
    {
        ThrowIfInvalidMetadata(key.Type, json);
        if (key.Type.Kind == "StatefulSet" && verb != "status")
        {
            ThrowIfImmutableStatefulSetFieldsChange(key, stored.Json, json);
        }
        var metadata = (JsonObject)json["metadata"]!;
        metadata["resourceVersion"] = stored.Json["metadata"]!["resourceVersion"]!.DeepClone();
        StampRevision(key, json);
        if (JsonNode.DeepEquals(json, stored.Json))
        {
            return stored;
        }
        if (!JsonNode.DeepEquals(Body(json), Body(stored.Json)))
        {
            metadata["generation"] = long.Parse(stored.Json["metadata"]!["generation"]?.ToJsonString() ?? "1", System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        metadata["resourceVersion"] = NextVersion();
        var previous = stored.Json;
        stored.Json = json;
        if (metadata["deletionTimestamp"] is not null && (metadata["finalizers"] as JsonArray ?? []).Count == 0)
        {
            Remove(key, stored);
            return stored;
        }
        Record(key, WatchEventType.Modified, json, verb, previous);
        return stored;
    }

    /// <summary>
    /// What the StatefulSet controller keeps in status: updateRevision names the current pod template (a hash of it, as
    /// its ControllerRevision), currentRevision the first one seen. Whatever a status write says, the revisions stay the
    /// controller's.
    /// </summary>
    private static void StampRevision((ResourceType Type, string Namespace, string Name) key, JsonObject json)
    {
        if (key.Type.Kind != "StatefulSet")
        {
            return;
        }
        var template = json["spec"]?["template"]?.ToJsonString() ?? "";
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(template)))[..10];
        var status = json["status"] as JsonObject ?? new JsonObject();
        json["status"] = status;
        var revision = $"{key.Name}-{hash}";
        status["updateRevision"] = revision;
        status["currentRevision"] ??= revision;
    }

    private void Delete((ResourceType Type, string Namespace, string Name) key)
    {
        if (!_objects.TryGetValue(key, out var stored))
        {
            return;
        }
        var metadata = (JsonObject)stored.Json["metadata"]!;
        if ((metadata["finalizers"] as JsonArray ?? []).Count > 0)
        {
            if (metadata["deletionTimestamp"] is null)
            {
                var json = (JsonObject)stored.Json.DeepClone();
                json["metadata"]!["deletionTimestamp"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
                Commit(key, stored, json, "delete");
            }
            return;
        }
        stored.Json = (JsonObject)stored.Json.DeepClone();
        stored.Json["metadata"]!["resourceVersion"] = NextVersion();
        Remove(key, stored);
    }

    private bool Owns(string? uid) => uid is not null && _objects.Values.Any(o => o.Json["metadata"]?["uid"]?.GetValue<string>() == uid);

    private void Remove((ResourceType Type, string Namespace, string Name) key, Stored stored)
    {
        _objects.Remove(key);
        Record(key, WatchEventType.Deleted, stored.Json, "delete");
        // Garbage collection: dependents go with their owner.
        var uid = stored.Json["metadata"]!["uid"]!.GetValue<string>();
        var dependents = _objects
            .Where(p => p.Value.Json["metadata"]?["ownerReferences"] is JsonArray refs && refs.Any(r => r?["uid"]?.GetValue<string>() == uid))
            .Select(p => p.Key)
            .ToList();
        foreach (var dependent in dependents)
        {
            Delete(dependent);
        }
    }

    private void Record((ResourceType Type, string Namespace, string Name) key, WatchEventType eventType, JsonObject json, string verb, JsonObject? previous = null)
    {
        _log.Add(new LogEntry(long.Parse(Version(json), System.Globalization.CultureInfo.InvariantCulture), key.Type, key.Namespace, eventType, (JsonObject)json.DeepClone(), (JsonObject?)previous?.DeepClone()));
        _writes.Add((verb, key.Type.Kind, key.Name));
        Wake();
    }

    private string NextVersion() => (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Version(JsonObject json) => json["metadata"]!["resourceVersion"]!.GetValue<string>();

    private static JsonObject Body(JsonObject json)
    {
        var body = (JsonObject)json.DeepClone();
        body.Remove("metadata");
        body.Remove("status");
        return body;
    }

    private static (ResourceType Type, string Namespace, string Name) Key(ResourceType type, IKubernetesObject<V1ObjectMeta> obj)
    {
        if (string.IsNullOrEmpty(obj.Metadata?.Name))
        {
            throw new ApiException(422, $"{type.Kind}: metadata.name is required");
        }
        return (type, obj.Metadata.NamespaceProperty ?? "default", obj.Metadata.Name);
    }

    private static JsonObject ToJson<T>(T obj, ResourceType type)
    {
        var json = (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(obj))!;
        json["apiVersion"] = type.ApiVersion;
        json["kind"] = type.Kind;
        json["metadata"] ??= new JsonObject();
        json["metadata"]!["namespace"] ??= "default";
        if (IsBuiltIn(type))
        {
            NormalizeQuantities(json, null);
        }
        return json;
    }

    /// <summary>Kinds of the API server itself; custom resources are stored as written (a CRD's schema has no quantity type).</summary>
    private static bool IsBuiltIn(ResourceType type) => !type.Group.Contains('.', StringComparison.Ordinal) || type.Group.EndsWith(".k8s.io", StringComparison.Ordinal);

    /// <summary>
    /// Quantities in built-in kinds are stored in canonical form, as the API server does ("1024Mi" reads back as "1Gi", "0.5" as "500m"):
    /// resource requests and limits, capacities and volume size limits.
    /// </summary>
    private static void NormalizeQuantities(JsonNode? node, string? name)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj.ToList())
                {
                    if (name is "requests" or "limits" or "capacity" or "allocatable" && child is JsonValue value && value.TryGetValue<string>(out var text)
                        || key == "sizeLimit" && child is JsonValue limit && limit.TryGetValue<string>(out text))
                    {
                        obj[key] = Canonical(text);
                    }
                    else
                    {
                        NormalizeQuantities(child, key);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    NormalizeQuantities(item, null);
                }
                break;
        }
    }

    private static string Canonical(string quantity)
    {
        try
        {
            return new ResourceQuantity(quantity).CanonicalizeString();
        }
        catch (Exception)
        {
            throw new ApiException(422, $"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': \"{quantity}\"");
        }
    }

    private static T ToObject<T>(JsonObject json) => KubernetesJson.Deserialize<T>(json.ToJsonString());

    private static Dictionary<string, string> ParseSelector(string? selector) =>
        string.IsNullOrWhiteSpace(selector)
            ? []
            : selector.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());

    private static string Escape(string key) => key.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    private static string[] Segments(string path) =>
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();

    private static void Leaves(JsonNode? node, string path, Dictionary<string, JsonNode?> into)
    {
        if (node is JsonObject obj && obj.Count > 0)
        {
            foreach (var (name, child) in obj)
            {
                Leaves(child, path + "/" + Escape(name), into);
            }
            return;
        }
        // Scalars, lists (atomic) and empty objects are owned whole.
        into[path] = node?.DeepClone();
    }

    private static JsonNode? At(JsonObject root, string path)
    {
        JsonNode? node = root;
        foreach (var segment in Segments(path))
        {
            node = node is JsonObject obj ? obj[segment] : null;
        }
        return node;
    }

    private static void SetAt(JsonObject root, string path, JsonNode? value)
    {
        var segments = Segments(path);
        var node = root;
        foreach (var segment in segments[..^1])
        {
            if (node[segment] is not JsonObject child)
            {
                child = new JsonObject();
                node[segment] = child;
            }
            node = child;
        }
        node[segments[^1]] = value;
    }

    private static void RemoveAt(JsonObject root, string path)
    {
        var segments = Segments(path);
        var chain = new List<JsonObject> { root };
        foreach (var segment in segments[..^1])
        {
            if (chain[^1][segment] is not JsonObject child)
            {
                return;
            }
            chain.Add(child);
        }
        chain[^1].Remove(segments[^1]);
        // Drop objects the removal left empty, as the API server's apply does.
        for (var i = chain.Count - 1; i > 0 && chain[i].Count == 0; i--)
        {
            chain[i - 1].Remove(segments[i - 1]);
        }
    }

    private sealed class Stored(JsonObject json)
    {
        public JsonObject Json { get; set; } = json;

        public Dictionary<string, HashSet<string>> Owners { get; } = [];
    }

    private sealed record LogEntry(long Version, ResourceType Type, string Namespace, WatchEventType EventType, JsonObject Json, JsonObject? Previous);
}
