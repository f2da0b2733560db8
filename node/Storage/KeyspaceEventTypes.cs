namespace CacheOperator.Node.Storage;

/// <summary>The classes of keyspace notifications, as Redis's NOTIFY_* flags (the letters of notify-keyspace-events).</summary>
[Flags]
public enum KeyspaceEventTypes
{
    /// <summary>Nothing is notified.</summary>
    None = 0,

    /// <summary>K: __keyspace@db__:key channels.</summary>
    Keyspace = 1 << 0,

    /// <summary>E: __keyevent@db__:event channels.</summary>
    Keyevent = 1 << 1,

    /// <summary>g: generic commands (DEL, EXPIRE, RENAME, ...).</summary>
    Generic = 1 << 2,

    /// <summary>$: string commands.</summary>
    String = 1 << 3,

    /// <summary>l: list commands.</summary>
    List = 1 << 4,

    /// <summary>s: set commands.</summary>
    Set = 1 << 5,

    /// <summary>h: hash commands.</summary>
    Hash = 1 << 6,

    /// <summary>z: sorted set commands.</summary>
    SortedSet = 1 << 7,

    /// <summary>x: a key expired.</summary>
    Expired = 1 << 8,

    /// <summary>e: a key was evicted.</summary>
    Evicted = 1 << 9,

    /// <summary>t: stream commands.</summary>
    Stream = 1 << 10,

    /// <summary>m: a read found no key (not part of A).</summary>
    KeyMiss = 1 << 11,

    /// <summary>d: module key types.</summary>
    Module = 1 << 13,

    /// <summary>n: a key was created (not part of A).</summary>
    New = 1 << 14,

    /// <summary>A: g$lshzxetd.</summary>
    All = Generic | String | List | Set | Hash | SortedSet | Expired | Evicted | Stream | Module,
}
