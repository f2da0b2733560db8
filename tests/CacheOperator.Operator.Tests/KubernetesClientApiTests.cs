using System.Net;
using System.Text;
using CacheOperator.Operator.Api;
using CacheOperator.Operator.Kubernetes;
using CacheOperator.Operator.Reconcile;
using k8s;
using k8s.Models;

namespace CacheOperator.Operator.Tests;

/// <summary>
/// The thin KubernetesClient-backed API against a fake HTTP server: the paths, verbs and content types a
/// real API server would receive, and how its answers are translated.
/// </summary>
public sealed class KubernetesClientApiTests : IDisposable
{
    private readonly HttpListener _listener;
    private readonly List<(string Method, string Path, string? ContentType, string Body)> _requests = [];
    private readonly Task _serving;
    private readonly string _host;

    public KubernetesClientApiTests()
    {
        for (var attempt = 0; ; attempt++)
        {
            // A listener whose Start failed is disposed, so each attempt needs a new one.
            using (var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                _host = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}/";
            }
            _listener = new HttpListener();
            _listener.Prefixes.Add(_host);
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
            }
        }
        _serving = Task.Run(ServeAsync);
    }

    private KubernetesClientApi Api() =>
        new(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = _host.TrimEnd('/') }, new CoreGroupPathHandler()));

    [Fact]
    public async Task Core_group_objects_use_the_api_path_and_404_is_null()
    {
        Assert.Null(await Api().GetAsync<V1ConfigMap>("cache", "missing", CancellationToken.None));
        Assert.Equal(("GET", "/api/v1/namespaces/cache/configmaps/missing"), (_requests[0].Method, _requests[0].Path));
    }

    [Fact]
    public async Task Apply_is_a_server_side_apply_patch_with_our_field_manager()
    {
        var cluster = TestClusters.New();
        var set = Manifests.StatefulSet(cluster, TestClusters.Plan(cluster), 0);
        var applied = await Api().ApplyAsync(set, CacheClusterResource.FieldManager, force: true, CancellationToken.None);
        var request = _requests.Single();
        Assert.Equal("PATCH", request.Method);
        Assert.StartsWith("/apis/apps/v1/namespaces/cache/statefulsets/demo-shard-0?", request.Path);
        Assert.Contains("fieldManager=cache-operator", request.Path);
        Assert.Contains("force=true", request.Path);
        Assert.StartsWith("application/apply-patch+yaml", request.ContentType);
        Assert.Equal("demo-shard-0", applied.Metadata.Name);
        Assert.Equal(2, applied.Spec.Replicas);
    }

    [Fact]
    public async Task Finalizers_are_set_with_a_merge_patch_carrying_the_resource_version()
    {
        var cluster = TestClusters.New();
        cluster.Metadata.ResourceVersion = "17";
        await new KubernetesClusterStore(Api()).SetFinalizersAsync(cluster, ["example.com/keep"], CancellationToken.None);
        var request = _requests.Single();
        Assert.Equal("PATCH", request.Method);
        Assert.StartsWith("/apis/cacheoperator.io/v1alpha1/namespaces/cache/cacheclusters/demo", request.Path);
        Assert.StartsWith("application/merge-patch+json", request.ContentType);
        Assert.Equal("""{"metadata":{"resourceVersion":"17","finalizers":["example.com/keep"]}}""", request.Body);
    }

    [Fact]
    public async Task A_409_AlreadyExists_is_not_a_conflict()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => Api().CreateAsync(TestClusters.New("exists"), CancellationToken.None));
        Assert.Equal(409, error.StatusCode);
        Assert.True(error.IsAlreadyExists);
        Assert.False(error.IsConflict);
        Assert.Equal("cacheclusters.cacheoperator.io \"exists\" already exists", error.Message);
    }

    [Fact]
    public async Task Status_updates_go_to_the_status_subresource_and_409_is_a_conflict()
    {
        var cluster = TestClusters.New("conflict");
        var error = await Assert.ThrowsAsync<ApiException>(() => Api().ReplaceStatusAsync(cluster, CancellationToken.None));
        Assert.True(error.IsConflict);
        Assert.Equal(("PUT", "/apis/cacheoperator.io/v1alpha1/namespaces/cache/cacheclusters/conflict/status"), (_requests[0].Method, _requests[0].Path));
    }

    [Fact]
    public async Task Lists_fill_in_kind_and_keep_the_resource_version()
    {
        var list = await Api().ListAsync<CacheCluster>("cache", "app=x", CancellationToken.None);
        Assert.Equal("42", list.ResourceVersion);
        var item = Assert.Single(list.Items);
        Assert.Equal(("CacheCluster", "listed", 3), (item.Kind, item.Metadata.Name, item.Spec.Shards));
        Assert.StartsWith("/apis/cacheoperator.io/v1alpha1/namespaces/cache/cacheclusters?", _requests[0].Path);
        Assert.Contains("labelSelector=app%3Dx", _requests[0].Path);
    }

    [Fact]
    public async Task A_410_watch_error_becomes_gone()
    {
        var error = await Assert.ThrowsAsync<ApiException>(async () =>
        {
            await foreach (var _ in Api().WatchAsync<CacheCluster>("cache", null, "7", CancellationToken.None))
            {
            }
        });
        Assert.True(error.IsGone);
        Assert.Contains("watch=true", _requests[0].Path);
        Assert.Contains("resourceVersion=7", _requests[0].Path);
    }

    [Fact]
    public async Task Watches_ask_for_bookmarks_with_the_selector_and_yield_them()
    {
        var events = new List<(WatchEventType, string?)>();
        await foreach (var (type, obj) in Api().WatchAsync<V1ConfigMap>("cache", "app.kubernetes.io/managed-by=cache-operator", "8", CancellationToken.None))
        {
            events.Add((type, obj.Metadata.ResourceVersion));
        }
        Assert.Equal([(WatchEventType.Modified, "11"), (WatchEventType.Bookmark, "15")], events);
        var path = _requests.Single().Path;
        Assert.Contains("allowWatchBookmarks=true", path);
        Assert.Contains("labelSelector=app.kubernetes.io%2Fmanaged-by%3Dcache-operator", path);
        Assert.Contains("timeoutSeconds=", path);
    }

    [Fact]
    public async Task A_429_keeps_the_servers_retry_after()
    {
        var error = await Assert.ThrowsAsync<ApiException>(() => Api().GetAsync<V1ConfigMap>("cache", "throttled", CancellationToken.None));
        Assert.True(error.IsTooManyRequests);
        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
    }

    public void Dispose()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // Linux's managed HttpListener can fail to release its port bookkeeping on close; the fake
            // server is done either way, and what the test checked has been checked.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception)
            {
                return;
            }
            var request = context.Request;
            var body = await new StreamReader(request.InputStream).ReadToEndAsync();
            var path = request.Url!.PathAndQuery;
            lock (_requests)
            {
                _requests.Add((request.HttpMethod, path, request.ContentType, body));
            }
            var (status, reply) = Answer(request.HttpMethod, path, body);
            var bytes = Encoding.UTF8.GetBytes(reply);
            context.Response.StatusCode = status;
            if (status == 429)
            {
                context.Response.AddHeader("Retry-After", "3");
            }
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(bytes);
            context.Response.Close();
        }
    }

    private static (int Status, string Body) Answer(string method, string path, string body)
    {
        const string NotFound = """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""";
        if (path.Contains("watch=true", StringComparison.Ordinal) && path.Contains("resourceVersion=8", StringComparison.Ordinal))
        {
            return (200, """{"type":"MODIFIED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"m","namespace":"cache","resourceVersion":"11"}}}""" + "\n"
                + """{"type":"BOOKMARK","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"15"}}}""" + "\n");
        }
        if (path.EndsWith("/throttled", StringComparison.Ordinal))
        {
            return (429, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"TooManyRequests","code":429}""");
        }
        if (path.Contains("watch=true", StringComparison.Ordinal))
        {
            return (200, """{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","message":"too old resource version","code":410}}""" + "\n");
        }
        if (method == "PATCH")
        {
            // Echo the applied object as the server's answer.
            var node = System.Text.Json.Nodes.JsonNode.Parse(body)!;
            node["metadata"]!["resourceVersion"] = "9";
            return (200, node.ToJsonString());
        }
        if (method == "POST")
        {
            return (409, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"cacheclusters.cacheoperator.io \"exists\" already exists","reason":"AlreadyExists","code":409}""");
        }
        if (method == "PUT" && path.EndsWith("/status", StringComparison.Ordinal))
        {
            return (409, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Conflict","code":409}""");
        }
        if (method == "GET" && path.StartsWith("/apis/cacheoperator.io/v1alpha1/namespaces/cache/cacheclusters?", StringComparison.Ordinal))
        {
            return (200, """{"apiVersion":"cacheoperator.io/v1alpha1","kind":"CacheClusterList","metadata":{"resourceVersion":"42"},"items":[{"metadata":{"name":"listed","namespace":"cache"},"spec":{"shards":3}}]}""");
        }
        return (404, NotFound);
    }
}
