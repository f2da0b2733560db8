namespace CacheOperator.Node.Scripting;

/// <summary>The flags a script's shebang may declare (Redis 7's scripts_flags_def).</summary>
[Flags]
public enum ScriptFlag
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>no-writes: the script only reads (may run on read-only replicas, with EVAL_RO).</summary>
    NoWrites = 1,

    /// <summary>allow-oom: runs even over maxmemory.</summary>
    AllowOom = 2,

    /// <summary>allow-stale: runs on a replica whose link is down with replica-serve-stale-data no.</summary>
    AllowStale = 4,

    /// <summary>no-cluster: refused in cluster mode.</summary>
    NoCluster = 8,

    /// <summary>allow-cross-slot-keys: redis.call may use keys of several slots.</summary>
    AllowCrossSlotKeys = 16,
}

/// <summary>What a script's first line declares: nothing (a Redis 6 style script) or <c>#!lua</c> with flags.</summary>
public readonly record struct ScriptFlags(bool Declared, ScriptFlag Value)
{
    /// <summary>
    /// Reads the shebang as Redis's evalExtractShebangFlags: <paramref name="shebangLength"/> is the length of the
    /// first line without its newline (left out of the compiled code, so line numbers stay the user's).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out ScriptFlags flags, out int shebangLength, out string? error)
    {
        flags = default;
        shebangLength = 0;
        error = null;
        if (!body.StartsWith("#!"u8))
        {
            return true;
        }
        int end = body.IndexOf((byte)'\n');
        if (end < 0)
        {
            error = "ERR Invalid script shebang";
            return false;
        }
        var parts = Encoding.UTF8.GetString(body[..end]).Split([' ', '\t', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0)
        {
            error = "ERR Invalid engine in script shebang";
            return false;
        }
        if (parts[0] != "#!lua")
        {
            error = $"ERR Unexpected engine in script shebang: {parts[0]}";
            return false;
        }
        var value = ScriptFlag.None;
        foreach (var part in parts.Skip(1))
        {
            if (!part.StartsWith("flags=", StringComparison.Ordinal))
            {
                error = $"ERR Unknown lua shebang option: {part}";
                return false;
            }
            string list = part[6..];
            if (list.Length == 0)
            {
                continue;
            }
            foreach (var name in list.Split(','))
            {
                var flag = name switch
                {
                    "no-writes" => ScriptFlag.NoWrites,
                    "allow-oom" => ScriptFlag.AllowOom,
                    "allow-stale" => ScriptFlag.AllowStale,
                    "no-cluster" => ScriptFlag.NoCluster,
                    "allow-cross-slot-keys" => ScriptFlag.AllowCrossSlotKeys,
                    _ => ScriptFlag.None,
                };
                if (flag == ScriptFlag.None)
                {
                    error = $"ERR Unexpected flag in script shebang: {name}";
                    return false;
                }
                value |= flag;
            }
        }
        flags = new ScriptFlags(true, value);
        shebangLength = end;
        return true;
    }
}
