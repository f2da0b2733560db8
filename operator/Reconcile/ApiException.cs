namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// A failed call to the backend's API, with the HTTP status code the Kubernetes API server would give:
/// 404 not found, 409 conflict (stale resourceVersion, already exists, field-ownership conflict), 410 gone
/// (a watch's resourceVersion is too old), 422 invalid, 429 too many requests (with Retry-After); and the Status reason
/// where the server gives one (a 409 is either Conflict or AlreadyExists).
/// </summary>
public sealed class ApiException(int statusCode, string message, TimeSpan? retryAfter = null, string? reason = null) : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>How long the server asked the client to wait (its Retry-After header), if it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The Status reason (Conflict, AlreadyExists, NotFound, Invalid, Forbidden...), when known.</summary>
    public string? Reason { get; } = reason;

    /// <summary>409 Conflict: someone else wrote first; re-read and retry. Not a create of a name that exists.</summary>
    public bool IsConflict => StatusCode == 409 && Reason != "AlreadyExists";

    /// <summary>409 AlreadyExists: a create found the name taken.</summary>
    public bool IsAlreadyExists => StatusCode == 409 && Reason == "AlreadyExists";

    /// <summary>404.</summary>
    public bool IsNotFound => StatusCode == 404;

    /// <summary>410: a watch must list again.</summary>
    public bool IsGone => StatusCode == 410;

    /// <summary>429: the server is throttling; wait <see cref="RetryAfter"/> before the next call.</summary>
    public bool IsTooManyRequests => StatusCode == 429;
}
