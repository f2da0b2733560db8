namespace CacheOperator.Operator.Reconcile;

/// <summary>
/// The node runtime would not, or could not, make the cluster's objects match: an object of that name exists and is not
/// the cluster's, or the API server rejected a change as invalid (422, e.g. an immutable field). Not retried with backoff:
/// the reconciler reports it as a Degraded condition and a Warning Event, and the cluster keeps running as it was.
/// </summary>
/// <param name="reason">CamelCase reason for the condition and the Event.</param>
/// <param name="message">What was refused, naming the object.</param>
public sealed class ApplyRefusedException(string reason, string message) : Exception(message)
{
    /// <summary>CamelCase reason.</summary>
    public string Reason { get; } = reason;
}
