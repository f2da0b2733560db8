namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// A failed call to the backend's API, with the HTTP status code the Kubernetes API server would give:
/// 404 not found, 409 conflict (stale resourceVersion, already exists, field-ownership conflict), 410 gone
/// (a watch's resourceVersion is too old), 422 invalid.
/// </summary>
public sealed class ApiException(int statusCode, string message) : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>409: someone else wrote first; re-read and retry.</summary>
    public bool IsConflict => StatusCode == 409;

    /// <summary>404.</summary>
    public bool IsNotFound => StatusCode == 404;

    /// <summary>410: a watch must list again.</summary>
    public bool IsGone => StatusCode == 410;
}
