namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// A failed call to the backend's API, with the HTTP status code the Kubernetes API server would give:
/// 404 not found, 409 conflict (stale resourceVersion, already exists, field-ownership conflict), 410 gone
/// (a watch's resourceVersion is too old), 422 invalid, 429 too many requests (with Retry-After).
/// </summary>
public sealed class ApiException(int statusCode, string message, TimeSpan? retryAfter = null) : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>How long the server asked the client to wait (its Retry-After header), if it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>409: someone else wrote first; re-read and retry.</summary>
    public bool IsConflict => StatusCode == 409;

    /// <summary>404.</summary>
    public bool IsNotFound => StatusCode == 404;

    /// <summary>410: a watch must list again.</summary>
    public bool IsGone => StatusCode == 410;

    /// <summary>429: the server is throttling; wait <see cref="RetryAfter"/> before the next call.</summary>
    public bool IsTooManyRequests => StatusCode == 429;
}
