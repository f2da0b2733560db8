namespace CacheOperator.Operator.Reconcile;

/// <summary>Namespace and name of a CacheCluster: the work queue's item.</summary>
public readonly record struct ClusterKey(string Namespace, string Name)
{
    /// <inheritdoc />
    public override string ToString() => $"{Namespace}/{Name}";
}
