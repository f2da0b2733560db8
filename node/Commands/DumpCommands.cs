using CacheOperator.Node.Persistence;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>DUMP and RESTORE: a value as a versioned, checksummed payload in Redis's own format (<see cref="DumpPayload"/>) and back.</summary>
internal static class DumpCommands
{
    public static IEnumerable<CommandSpec> All =>
    [
        new("dump", 2, Dump)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), KeySpecFlags = "RO access", Acl = "@keyspace @read @slow", Tips = "nondeterministic_output",
            Summary = "Return a serialized version of the value stored at the specified key.", Since = "2.6.0",
            Complexity = "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
            Syntax = "key",
        },
        new("restore", -4, Restore)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), KeySpecFlags = "OW update", Acl = "@keyspace @write @slow @dangerous",
            Summary = "Create a key using the provided serialized value, previously obtained using DUMP.", Since = "2.6.0",
            Complexity = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
            Syntax = "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        },
    ];

    private static void Dump(Session s, ArgList a)
    {
        int index = s.FindForRead(a[1]);
        if (index < 0)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        s.Reply.WriteBulk(DumpPayload.Create(s.Db.Table[index].Value!, s.Server.Config.RdbCompression.IsOn));
    }

    private static void Restore(Session s, ArgList a) => RestoreKey(s, a);

    /// <summary>
    /// Redis 7.0's restoreCommand: options, then the existing key, the TTL, the checksum and the body, in that order.
    /// True when it answered OK (RESTORE-ASKING counts the keys it received).
    /// </summary>
    internal static bool RestoreKey(Session s, ArgList a)
    {
        bool replace = false;
        bool absTtl = false;
        long idleSeconds = -1;
        long frequency = -1;
        for (int j = 4; j < a.Count; j++)
        {
            bool hasArgument = j + 1 < a.Count;
            if (a.Is(j, "REPLACE"u8))
            {
                replace = true;
            }
            else if (a.Is(j, "ABSTTL"u8))
            {
                absTtl = true;
            }
            else if (a.Is(j, "IDLETIME"u8) && hasArgument && frequency == -1)
            {
                if (!s.TryParseLong(a[++j], out idleSeconds))
                {
                    return false;
                }
                if (idleSeconds < 0)
                {
                    s.Reply.WriteError("ERR Invalid IDLETIME value, must be >= 0");
                    return false;
                }
            }
            else if (a.Is(j, "FREQ"u8) && hasArgument && idleSeconds == -1)
            {
                if (!s.TryParseLong(a[++j], out frequency))
                {
                    return false;
                }
                if (frequency is < 0 or > 255)
                {
                    s.Reply.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return false;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return false;
            }
        }
        var db = s.Db;
        if (!replace && db.Find(a[1]) >= 0)
        {
            s.Reply.WriteError("BUSYKEY Target key name already exists.");
            return false;
        }
        if (!s.TryParseLong(a[2], out long ttl))
        {
            return false;
        }
        if (ttl < 0)
        {
            s.Reply.WriteError("ERR Invalid TTL value, must be >= 0");
            return false;
        }
        var payload = a[3];
        if (!DumpPayload.Verify(payload))
        {
            s.Reply.WriteError("ERR DUMP payload version or checksum are wrong");
            return false;
        }
        var value = DumpPayload.Restore(payload, s.Keyspace.EncodingLimits);
        if (value is null)
        {
            s.Reply.WriteError("ERR Bad data format");
            return false;
        }
        if (ttl != 0 && !absTtl)
        {
            ttl = ttl > long.MaxValue - s.Keyspace.NowMs ? long.MaxValue : ttl + s.Keyspace.NowMs;
        }
        if (ttl != 0 && ttl <= s.Keyspace.NowMs)
        {
            // Already expired: the key ends up absent (an old one replaced is deleted), and the answer is still OK.
            if (replace && db.Delete(a[1]))
            {
                s.Server.Propagator.Rewrite("DEL"u8)?.Add(a[1]);
            }
            s.Reply.WriteOk();
            return true;
        }
        if (replace)
        {
            // As Redis: the old value is deleted and the key added anew ("new" is notified).
            db.Delete(a[1]);
        }
        int index = db.Set(a[1], value);
        if (ttl != 0)
        {
            db.SetExpire(index, ttl);
            if (!absTtl && s.Server.Propagator.Rewrite("RESTORE"u8) is { } rewrite)
            {
                // The relative TTL becomes the absolute time, so a replica applying it later expires the key at the same instant.
                rewrite.Add(a[1]).Add(ttl);
                for (int i = 3; i < a.Count; i++)
                {
                    rewrite.Add(a[i]);
                }
                rewrite.Add("ABSTTL"u8);
            }
        }
        db.Notify(KeyspaceEventTypes.Generic, "restore"u8, a[1]);
        // As Redis's objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME otherwise.
        ref var entry = ref db.Table[index];
        if (s.Server.Config.MaxMemoryPolicy.Text.EndsWith("lfu", StringComparison.OrdinalIgnoreCase))
        {
            if (frequency >= 0)
            {
                entry.Access = (entry.Access & ~0xFFu) | (uint)frequency;
            }
        }
        else if (idleSeconds >= 0)
        {
            uint clock = s.Keyspace.AccessClock;
            entry.Access = idleSeconds >= clock ? 0 : clock - (uint)idleSeconds;
        }
        s.Reply.WriteOk();
        return true;
    }
}
