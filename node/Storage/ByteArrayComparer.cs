namespace CacheOperator.Node.Storage;

/// <summary>
/// Compares byte strings by content with the process-seeded <see cref="KeyHash"/>; usable with span
/// lookups so collection members are found without copying the argument bytes.
/// </summary>
public sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    /// <summary>The one instance.</summary>
    public static readonly ByteArrayComparer Instance = new();

    /// <inheritdoc/>
    public bool Equals(byte[]? x, byte[]? y) => x is not null && y is not null && x.AsSpan().SequenceEqual(y);

    /// <inheritdoc/>
    public int GetHashCode(byte[] obj) => (int)KeyHash.Of(obj);

    /// <inheritdoc/>
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    /// <inheritdoc/>
    public int GetHashCode(ReadOnlySpan<byte> alternate) => (int)KeyHash.Of(alternate);

    /// <inheritdoc/>
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
