using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The hyperloglog family: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST over string values in Redis's HLL layout (<see cref="HyperLogLog"/>).</summary>
internal static class HyperLogLogCommands
{
    /// <summary>A string that is not an HLL (Redis's isHLLObjectOrReply).</summary>
    private const string NotHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";

    /// <summary>An HLL whose sparse opcodes do not add up (Redis's invalid_hll_err).</summary>
    private const string Corrupted = "INVALIDOBJ Corrupted HLL object detected";

    public static IEnumerable<CommandSpec> All =>
    [
        new("pfadd", -2, PfAdd)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @hyperloglog @fast",
            Summary = "Adds the specified elements to the specified HyperLogLog.", Since = "2.8.9", Complexity = "O(1) to add every element.",
            Syntax = "key [element [element ...]]",
        },
        new("pfcount", -2, PfCount)
        {
            Flags = CommandFlags.ReadOnly, Acl = "@read @hyperloglog @slow",
            KeySpecs = [KeySpec.Range("RW access", 1, -1) with { Notes = "RW because it may change the internal representation of the key, and propagate to replicas" }],
            Summary = "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Since = "2.8.9",
            Complexity = "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
            Syntax = "key [key ...]",
        },
        new("pfmerge", -2, PfMerge)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @hyperloglog @slow",
            KeySpecs = [KeySpec.Range("RW access insert", 1), KeySpec.Range("RO access", 2, -1)],
            Summary = "Merge N different HyperLogLogs into a single one.", Since = "2.8.9", Complexity = "O(N) to merge N HyperLogLogs, but with high constant times.",
            Syntax = "destkey sourcekey [sourcekey ...]",
        },
        new("pfdebug", 3, PfDebug)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Admin, Keys = (2, 2, 1), KeySpecFlags = "RW access", Acl = "@write @hyperloglog @admin @slow @dangerous",
            Summary = "Internal commands for debugging HyperLogLog values", Since = "2.8.9", Complexity = "N/A", DocFlags = "syscmd",
            Syntax = "subcommand key",
        },
        new("pfselftest", 1, PfSelfTest)
        {
            Flags = CommandFlags.Admin, Acl = "@hyperloglog @admin @slow @dangerous",
            Summary = "An internal command for testing HyperLogLog values", Since = "2.8.9", Complexity = "N/A", DocFlags = "syscmd",
        },
    ];

    /// <summary>The HLL at <paramref name="index"/>, or null after replying Redis's error (another type, or a string that is no HLL).</summary>
    private static byte[]? HllAt(Session s, int index)
    {
        if (s.Db.Table[index].Value is not byte[] value)
        {
            s.Reply.WriteError(Errors.WrongType);
            return null;
        }
        if (!HyperLogLog.IsValid(value))
        {
            s.Reply.WriteError(NotHll);
            return null;
        }
        return value;
    }

    /// <summary>Stores the edited HLL back when editing replaced its bytes (growth, promotion to dense).</summary>
    private static void Store(Session s, int index, in HyperLogLog.Editor hll)
    {
        var value = hll.ToValue();
        if (!ReferenceEquals(value, s.Db.Table[index].Value))
        {
            s.Db.Table[index].Value = value;
        }
    }

    private static void PfAdd(Session s, ArgList a)
    {
        var db = s.Db;
        int index = db.Find(a[1]);
        int updated = 0;
        byte[] value;
        if (index < 0)
        {
            value = HyperLogLog.Create();
            index = db.Add(a.Detach(1), value);
            updated++;
        }
        else if (HllAt(s, index) is { } existing)
        {
            value = existing;
        }
        else
        {
            return;
        }
        long sparseMax = s.Server.Config.HllSparseMaxBytes.Number;
        var hll = new HyperLogLog.Editor(value);
        for (int j = 2; j < a.Count; j++)
        {
            int result = HyperLogLog.Add(ref hll, a[j], sparseMax);
            if (result < 0)
            {
                // Redis keeps whatever the failed add changed (its string was edited in place).
                Store(s, index, hll);
                s.Reply.WriteError(Corrupted);
                return;
            }
            updated += result;
        }
        Store(s, index, hll);
        if (updated > 0)
        {
            db.SignalModified(a[1]);
            db.Notify(KeyspaceEventTypes.String, "pfadd"u8, a[1]);
            db.CountChanges(updated);
            HyperLogLog.InvalidateCache(db.Table[index].Value as byte[] ?? value);
        }
        s.Reply.WriteInteger(updated > 0 ? 1 : 0);
    }

    private static void PfCount(Session s, ArgList a)
    {
        if (a.Count > 2)
        {
            // The count of the union of several HLLs, computed on one byte per register and written nowhere.
            Span<byte> max = stackalloc byte[HyperLogLog.Registers];
            max.Clear();
            for (int j = 1; j < a.Count; j++)
            {
                int at = s.FindForRead(a[j]);
                if (at < 0)
                {
                    continue;
                }
                if (HllAt(s, at) is not { } source)
                {
                    return;
                }
                if (!HyperLogLog.MergeInto(max, source))
                {
                    s.Reply.WriteError(Corrupted);
                    return;
                }
            }
            s.Reply.WriteInteger(HyperLogLog.CountRaw(max));
            return;
        }
        int index = s.FindForRead(a[1]);
        if (index < 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        if (HllAt(s, index) is not { } value)
        {
            return;
        }
        if (HyperLogLog.CachedCount(value) is { } cached)
        {
            s.Reply.WriteInteger(cached);
            return;
        }
        if (HyperLogLog.Count(value) is not { } count)
        {
            s.Reply.WriteError(Corrupted);
            return;
        }
        // Caching the count changes the string: Redis signals the key and counts a change, so PFCOUNT itself is
        // propagated to replicas. The command is read-only, so the snapshot must be told before the in-place write.
        s.Db.BeforeWrite(a[1]);
        HyperLogLog.SetCachedCount(value, count);
        s.Db.SignalModified(a[1]);
        s.Reply.WriteInteger(count);
    }

    private static void PfMerge(Session s, ArgList a)
    {
        var db = s.Db;
        Span<byte> max = stackalloc byte[HyperLogLog.Registers];
        max.Clear();
        bool useDense = false;
        for (int j = 1; j < a.Count; j++)
        {
            int at = s.FindForRead(a[j]);
            if (at < 0)
            {
                continue;
            }
            if (HllAt(s, at) is not { } source)
            {
                return;
            }
            useDense |= source[4] == HyperLogLog.Dense;
            if (!HyperLogLog.MergeInto(max, source))
            {
                s.Reply.WriteError(Corrupted);
                return;
            }
        }
        int index = db.Find(a[1]);
        if (index < 0)
        {
            index = db.Add(a.Detach(1), HyperLogLog.Create());
        }
        // The destination was among the sources, so it is known to be a valid HLL here.
        var hll = new HyperLogLog.Editor((byte[])db.Table[index].Value!);
        if (useDense && !HyperLogLog.ToDense(ref hll))
        {
            s.Reply.WriteError(Corrupted);
            return;
        }
        long sparseMax = s.Server.Config.HllSparseMaxBytes.Number;
        for (int j = 0; j < HyperLogLog.Registers; j++)
        {
            if (max[j] != 0)
            {
                HyperLogLog.Set(ref hll, j, max[j], sparseMax);
            }
        }
        Store(s, index, hll);
        HyperLogLog.InvalidateCache((byte[])db.Table[index].Value!);
        db.SignalModified(a[1]);
        // Redis names the event of a merge "pfadd" too: in theory it is a mass add.
        db.Notify(KeyspaceEventTypes.String, "pfadd"u8, a[1]);
        s.Reply.WriteOk();
    }

    private static void PfDebug(Session s, ArgList a)
    {
        var db = s.Db;
        int index = db.Find(a[2]);
        if (index < 0)
        {
            s.Reply.WriteError("ERR The specified key does not exist");
            return;
        }
        if (HllAt(s, index) is not { } value)
        {
            return;
        }
        var sub = a[1];
        if (Ascii.EqualsIgnoreCase(sub, "GETREG"u8))
        {
            if (value[4] == HyperLogLog.Sparse && !ToDense(s, index, value))
            {
                return;
            }
            var dense = (byte[])db.Table[index].Value!;
            s.Reply.WriteArrayHeader(HyperLogLog.Registers);
            for (int j = 0; j < HyperLogLog.Registers; j++)
            {
                s.Reply.WriteInteger(HyperLogLog.GetDense(dense, j));
            }
        }
        else if (Ascii.EqualsIgnoreCase(sub, "DECODE"u8))
        {
            if (value[4] != HyperLogLog.Sparse)
            {
                s.Reply.WriteError("ERR HLL encoding is not sparse");
                return;
            }
            s.Reply.WriteBulk(HyperLogLog.Decode(value));
        }
        else if (Ascii.EqualsIgnoreCase(sub, "ENCODING"u8))
        {
            s.Reply.WriteSimple(value[4] == HyperLogLog.Dense ? "dense"u8 : "sparse"u8);
        }
        else if (Ascii.EqualsIgnoreCase(sub, "TODENSE"u8))
        {
            bool converted = value[4] == HyperLogLog.Sparse;
            if (converted && !ToDense(s, index, value))
            {
                return;
            }
            s.Reply.WriteInteger(converted ? 1 : 0);
        }
        else
        {
            s.Reply.WriteError($"ERR Unknown PFDEBUG subcommand '{Encoding.UTF8.GetString(sub)}'");
        }
    }

    /// <summary>
    /// PFDEBUG's conversion of a sparse HLL to dense, keeping the cached count as it was. Redis counts a change without
    /// signalling the key (no WATCH abort), so that the conversion reaches replicas: a forced propagation here.
    /// </summary>
    private static bool ToDense(Session s, int index, byte[] value)
    {
        var hll = new HyperLogLog.Editor(value);
        if (!HyperLogLog.ToDense(ref hll))
        {
            s.Reply.WriteError(Corrupted);
            return false;
        }
        s.Db.Table[index].Value = hll.ToValue();
        s.Db.CountChanges(1);
        s.Server.Propagator.Force();
        return true;
    }

    private static void PfSelfTest(Session s, ArgList a)
    {
        if (HyperLogLog.SelfTest(s.Server.Config.HllSparseMaxBytes.Number) is { } failure)
        {
            s.Reply.WriteError(failure);
            return;
        }
        s.Reply.WriteOk();
    }
}
