namespace CacheOperator.Node.Commands;

/// <summary>Redis's error replies, word for word, since clients match on them.</summary>
public static class Errors
{
    /// <summary>Operation on a key of another type.</summary>
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

    /// <summary>An argument that must be an integer is not one.</summary>
    public const string NotInteger = "ERR value is not an integer or out of range";

    /// <summary>An argument that must be a float is not one.</summary>
    public const string NotFloat = "ERR value is not a valid float";

    /// <summary>Options that do not fit the command.</summary>
    public const string Syntax = "ERR syntax error";

    /// <summary>A command without the loading flag while the snapshot loads at start-up.</summary>
    public const string Loading = "LOADING Redis is loading the dataset in memory";

    /// <summary>A write (or PING) while the last background save failed and stop-writes-on-bgsave-error is yes.</summary>
    public const string BgsaveFailed = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
        + "Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails "
        + "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    /// <summary>A command before AUTH while a password is set.</summary>
    public const string NoAuth = "NOAUTH Authentication required.";

    /// <summary>INCR family past the 64-bit range.</summary>
    public const string Overflow = "ERR increment or decrement would overflow";

    /// <summary>RENAME and friends on a missing key.</summary>
    public const string NoSuchKey = "ERR no such key";

    /// <summary>SELECT, MOVE, SWAPDB with a bad database number.</summary>
    public const string DbIndexOutOfRange = "ERR DB index is out of range";

    /// <summary>An integer argument that must be positive is not.</summary>
    public const string NotPositive = "ERR value is out of range, must be positive";

    /// <summary>A value that would exceed proto-max-bulk-len.</summary>
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

    /// <summary>Wrong argument count for a command (lower-case name, "config|get" for subcommands).</summary>
    public static string WrongArgs(string command) => $"ERR wrong number of arguments for '{command}' command";

    /// <summary>A bad expire time in SET, EXPIRE and friends.</summary>
    public static string InvalidExpire(string command) => $"ERR invalid expire time in '{command}' command";
}
