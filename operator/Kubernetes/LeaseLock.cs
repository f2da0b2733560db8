using System.Net;
using CacheOperator.Operator.Reconcile;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// k8s.LeaderElection's lock on a coordination.k8s.io Lease, through <see cref="IKubeApi"/> so the same
/// code runs against the API server and the in-memory one. Updates carry the resourceVersion last read,
/// so two candidates cannot both win a round. Every failure reaches the elector the way it retries:
/// a failed read as an <see cref="HttpOperationException"/> with the status (404 means "create it"),
/// a failed create or update as false. Anything else escaping would end a standby's campaign, or drop
/// leadership at the first failed renewal instead of retrying until the renew deadline.
/// </summary>
public sealed class LeaseLock(IKubeApi api, string @namespace, string name, string identity) : ILock
{
    private V1Lease? _last;

    /// <inheritdoc />
    public string Identity => identity;

    /// <inheritdoc />
    public async Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
    {
        V1Lease? lease;
        try
        {
            lease = await api.GetAsync<V1Lease>(@namespace, name, cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // 403, 429, 5xx, a dropped connection, a timeout: "could not read", which the elector retries.
            var status = e is ApiException failure ? (HttpStatusCode)failure.StatusCode : HttpStatusCode.ServiceUnavailable;
            throw Failure(status == HttpStatusCode.NotFound ? HttpStatusCode.ServiceUnavailable : status, $"reading lease {Describe()}: {e.Message}");
        }
        if (lease is null)
        {
            // LeaderElector creates the lock when Get says 404 this way.
            throw Failure(HttpStatusCode.NotFound, $"lease {Describe()} not found");
        }
        _last = lease;
        // A released lease (no holder) must read as free, not as missing: the elector would try to create it and fail forever.
        return new LeaderElectionRecord
        {
            HolderIdentity = lease.Spec?.HolderIdentity ?? "",
            LeaseDurationSeconds = lease.Spec?.LeaseDurationSeconds ?? 0,
            AcquireTime = lease.Spec?.AcquireTime ?? DateTime.MinValue,
            RenewTime = lease.Spec?.RenewTime ?? DateTime.MinValue,
            LeaderTransitions = lease.Spec?.LeaseTransitions ?? 0,
        };
    }

    /// <inheritdoc />
    public async Task<bool> CreateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        try
        {
            _last = await api.CreateAsync(new V1Lease { ApiVersion = "coordination.k8s.io/v1", Kind = "Lease", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace }, Spec = Spec(record) }, cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<bool> UpdateAsync(LeaderElectionRecord record, CancellationToken cancellationToken = default)
    {
        if (_last is null)
        {
            return false;
        }
        try
        {
            _last.Spec = Spec(record);
            _last = await api.ReplaceAsync(_last, cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _last = null;
            return false;
        }
    }

    /// <summary>
    /// Gives the lease up on shutdown, as client-go's ReleaseOnCancel does: no holder and a one-second duration, so a
    /// standby takes over at its next try instead of after a whole lease duration. Only a lease this replica still holds
    /// is touched (the write is conditional on its resourceVersion); best effort.
    /// </summary>
    public async Task<bool> ReleaseAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                var lease = await api.GetAsync<V1Lease>(@namespace, name, cancellationToken);
                if (lease?.Spec?.HolderIdentity != identity)
                {
                    return false;
                }
                var now = DateTime.UtcNow;
                lease.Spec.HolderIdentity = "";
                lease.Spec.LeaseDurationSeconds = 1;
                lease.Spec.AcquireTime = now;
                lease.Spec.RenewTime = now;
                await api.ReplaceAsync(lease, cancellationToken);
                return true;
            }
            catch (ApiException e) when (e.IsConflict)
            {
                // A renewal still in flight wrote it first: read again.
            }
        }
        return false;
    }

    /// <inheritdoc />
    public string Describe() => $"{@namespace}/{name}";

    private static HttpOperationException Failure(HttpStatusCode status, string message) => new(message)
    {
        Response = new HttpResponseMessageWrapper(new HttpResponseMessage(status), ""),
    };

    private static V1LeaseSpec Spec(LeaderElectionRecord record) => new()
    {
        HolderIdentity = record.HolderIdentity,
        LeaseDurationSeconds = record.LeaseDurationSeconds,
        AcquireTime = record.AcquireTime,
        RenewTime = record.RenewTime,
        LeaseTransitions = record.LeaderTransitions,
    };
}
