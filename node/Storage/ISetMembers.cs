namespace CacheOperator.Node.Storage;

/// <summary>
/// A plain set as the sorted-set algebra (ZUNION, ZINTER, ZDIFF and their STORE forms) reads it: every
/// member counts with score 1, as in Redis. The set type implements this so sorted-set commands can take
/// sets as inputs without depending on its representation.
/// </summary>
public interface ISetMembers
{
    /// <summary>Number of members.</summary>
    long Count { get; }

    /// <summary>True when <paramref name="member"/> is in the set.</summary>
    bool Contains(ReadOnlySpan<byte> member);

    /// <summary>Every member, in any order; the set is not changed while this runs.</summary>
    IEnumerable<byte[]> Members { get; }
}
