namespace CacheOperator.Operator.Topology;

/// <summary>TEMPORARY local stub (not committed).</summary>
public sealed class TopologyManager : ITopologyManager
{
    /// <inheritdoc/>
    public Task<TopologyReport> ReconcileAsync(DesiredTopology desired, CancellationToken cancellationToken) => throw new NotImplementedException();
}
