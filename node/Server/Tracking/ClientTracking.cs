namespace CacheOperator.Node.Server.Tracking;

/// <summary>
/// One client's CLIENT TRACKING state while tracking is on (Redis's CLIENT_TRACKING_* flags, the redirection and the
/// BCAST prefixes); the session holds none while tracking is off.
/// </summary>
public sealed class ClientTracking
{
    /// <summary>The client invalidations go to instead (REDIRECT), or 0 for the tracking client itself.</summary>
    public long Redirect { get; internal set; }

    /// <summary>BCAST: invalidations for every key under <see cref="Prefixes"/>, whatever the client read.</summary>
    public bool Broadcast { get; internal set; }

    /// <summary>OPTIN: only keys read right after CLIENT CACHING YES are tracked.</summary>
    public bool OptIn { get; internal set; }

    /// <summary>OPTOUT: keys read right after CLIENT CACHING NO are not tracked.</summary>
    public bool OptOut { get; internal set; }

    /// <summary>NOLOOP: no invalidations for keys this client changed itself.</summary>
    public bool NoLoop { get; internal set; }

    /// <summary>CLIENT CACHING was given for the next command (or the transaction being queued).</summary>
    public bool CachingGiven { get; internal set; }

    /// <summary>The redirection client was gone when an invalidation was due (CLIENT LIST flag R).</summary>
    public bool BrokenRedirect { get; internal set; }

    /// <summary>The BCAST prefixes, in byte order as TRACKINGINFO lists them.</summary>
    public SortedSet<byte[]> Prefixes { get; } = new(ByteOrder.Instance);

    /// <summary>Whether a read by this client records its keys now (Redis's OPTIN/OPTOUT test in trackingRememberKeys).</summary>
    internal bool RemembersReads => !Broadcast && !(OptIn && !CachingGiven) && !(OptOut && CachingGiven);
}

/// <summary>Orders byte strings as memcmp with the shorter first on a tie, as Redis's radix trees list keys.</summary>
internal sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();

    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
