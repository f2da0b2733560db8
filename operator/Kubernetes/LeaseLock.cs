using System.Net;
using CacheOperator.Operator.Reconcile;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.Models;

namespace CacheOperator.Operator.Kubernetes;

/// <summary>
/// k8s.LeaderElection's lock on a coordination.k8s.io Lease, through <see cref="IKubeApi"/> so the same
/// code runs against the API server and the in-memory one. Updates carry the resourceVersion last read,
/// so two candidates cannot both win a round.
/// </summary>
public sealed class LeaseLock(IKubeApi api, string @namespace, string name, string identity) : ILock
{
    private V1Lease? _last;

    /// <inheritdoc />
    public string Identity => identity;

    /// <inheritdoc />
    public async Task<LeaderElectionRecord> GetAsync(CancellationToken cancellationToken = default)
    {
        var lease = await api.GetAsync<V1Lease>(@namespace, name, cancellationToken);
        if (lease is null)
        {
            // LeaderElector creates the lock when Get says 404 this way.
            throw new HttpOperationException($"lease {@namespace}/{name} not found")
            {
                Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.NotFound), ""),
            };
        }
        _last = lease;
        return new LeaderElectionRecord
        {
            HolderIdentity = lease.Spec?.HolderIdentity,
            LeaseDurationSeconds = lease.Spec?.LeaseDurationSeconds ?? 0,
            AcquireTime = lease.Spec?.AcquireTime,
            RenewTime = lease.Spec?.RenewTime,
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
        catch (ApiException)
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
        catch (ApiException)
        {
            _last = null;
            return false;
        }
    }

    /// <inheritdoc />
    public string Describe() => $"{@namespace}/{name}";

    private static V1LeaseSpec Spec(LeaderElectionRecord record) => new()
    {
        HolderIdentity = record.HolderIdentity,
        LeaseDurationSeconds = record.LeaseDurationSeconds,
        AcquireTime = record.AcquireTime,
        RenewTime = record.RenewTime,
        LeaseTransitions = record.LeaderTransitions,
    };
}
