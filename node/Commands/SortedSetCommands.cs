using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>How a pop of sorted-set elements shapes its reply (Redis's genericZpopCommand variants).</summary>
public enum ZPopReplyShape
{
    /// <summary>member, score, member, score... (ZPOPMIN/ZPOPMAX in RESP2, or without COUNT).</summary>
    Flat,

    /// <summary>[[member, score], ...] (ZPOPMIN/ZPOPMAX with COUNT in RESP3).</summary>
    Pairs,

    /// <summary>key, member, score (BZPOPMIN/BZPOPMAX).</summary>
    KeyThenFlat,

    /// <summary>[key, [[member, score], ...]] (ZMPOP/BZMPOP).</summary>
    KeyThenPairs,
}

/// <summary>The sorted-set family: ZADD, ZRANGE and the commands on zset values.</summary>
internal static class SortedSetCommands
{
    private const string ScoreRangeError = "ERR min or max is not a float";
    private const string LexRangeError = "ERR min or max not valid string range item";
    private const string NanError = "ERR resulting score is not a number (NaN)";

    public static IEnumerable<CommandSpec> All =>
    [
        Write("zadd", -4, Zadd, "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
            "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
            "key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]", fast: true, since: "1.2.0"),
        Write("zincrby", 4, Zincrby, "O(log(N)) where N is the number of elements in the sorted set.",
            "Increments the score of a member in a sorted set.", "key increment member", fast: true, since: "1.2.0", keys: [KeySpec.Range("RW access update", 1)]),
        Read("zscore", 3, Zscore, "O(1)", "Returns the score of a member in a sorted set.", "key member", fast: true, since: "1.2.0"),
        Read("zmscore", -3, Zmscore, "O(N) where N is the number of members being requested.",
            "Returns the score of one or more members in a sorted set.", "key member [member ...]", fast: true, since: "6.2.0"),
        Read("zcard", 2, Zcard, "O(1)", "Returns the number of members in a sorted set.", "key", fast: true, since: "1.2.0", keys: [KeySpec.Range("RO", 1)]),
        Read("zcount", 4, Zcount, "O(log(N)) with N being the number of elements in the sorted set.",
            "Returns the count of members in a sorted set that have scores within a range.", "key min max", fast: true, since: "2.0.0"),
        Read("zlexcount", 4, Zlexcount, "O(log(N)) with N being the number of elements in the sorted set.",
            "Returns the number of members in a sorted set within a lexicographical range.", "key min max", fast: true, since: "2.8.9"),
        Read("zrank", -3, Zrank, "O(log(N))", "Returns the index of a member in a sorted set ordered by ascending scores.",
            "key member [WITHSCORE]", fast: true, since: "2.0.0"),
        Read("zrevrank", -3, Zrevrank, "O(log(N))", "Returns the index of a member in a sorted set ordered by descending scores.",
            "key member [WITHSCORE]", fast: true, since: "2.0.0"),
        Read("zrange", -4, Zrange, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
            "Returns members in a sorted set within a range of indexes.",
            "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", since: "1.2.0"),
        Write("zrangestore", -5, Zrangestore, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
            "Stores a range of members from sorted set in a key.",
            "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]", since: "6.2.0", keys: [KeySpec.Range("OW update", 1), KeySpec.Range("RO access", 2)]),
        Read("zrevrange", -4, Zrevrange, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
            "Returns members in a sorted set within a range of indexes in reverse order.", "key start stop [WITHSCORES]", since: "1.2.0"),
        Read("zrangebyscore", -4, Zrangebyscore, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
            "Returns members in a sorted set within a range of scores.", "key min max [WITHSCORES] [LIMIT offset count]", since: "1.0.5"),
        Read("zrevrangebyscore", -4, Zrevrangebyscore, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
            "Returns members in a sorted set within a range of scores in reverse order.", "key max min [WITHSCORES] [LIMIT offset count]", since: "2.2.0"),
        Read("zrangebylex", -4, Zrangebylex, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
            "Returns members in a sorted set within a lexicographical range.", "key min max [LIMIT offset count]", since: "2.8.9"),
        Read("zrevrangebylex", -4, Zrevrangebylex, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
            "Returns members in a sorted set within a lexicographical range in reverse order.", "key max min [LIMIT offset count]", since: "2.8.9"),
        Write("zrem", -3, Zrem, "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
            "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "key member [member ...]", fast: true, since: "1.2.0", oom: false, keys: [KeySpec.Range("RW delete", 1)]),
        Write("zremrangebyrank", 4, Zremrangebyrank, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
            "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "key start stop", since: "2.0.0", oom: false, keys: [KeySpec.Range("RW delete", 1)]),
        Write("zremrangebyscore", 4, Zremrangebyscore, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
            "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "key min max", since: "1.2.0", oom: false, keys: [KeySpec.Range("RW delete", 1)]),
        Write("zremrangebylex", 4, Zremrangebylex, "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
            "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "key min max", since: "2.8.9", oom: false, keys: [KeySpec.Range("RW delete", 1)]),
        Write("zpopmin", -2, Zpopmin, "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
            "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "key [count]", fast: true, since: "5.0.0", oom: false, keys: [KeySpec.Range("RW access delete", 1)]),
        Write("zpopmax", -2, Zpopmax, "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
            "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "key [count]", fast: true, since: "5.0.0", oom: false, keys: [KeySpec.Range("RW access delete", 1)]),
        Write("zmpop", -4, Zmpop, "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
            "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
            "numkeys key [key ...] <MIN | MAX> [COUNT count]", since: "7.0.0", oom: false, keys: [KeySpec.KeyNum("RW access delete", 1)], getKeys: KeyExtractor.NumKeys(0, 1, 2)),
        Blocking("bzpopmin", -3, Bzpopmin, "O(log(N)) with N being the number of elements in the sorted set.",
            "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
            "key [key ...] timeout", fast: true, since: "5.0.0", keys: [KeySpec.Range("RW access delete", 1, -2)]),
        Blocking("bzpopmax", -3, Bzpopmax, "O(log(N)) with N being the number of elements in the sorted set.",
            "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
            "key [key ...] timeout", fast: true, since: "5.0.0", keys: [KeySpec.Range("RW access delete", 1, -2)]),
        Blocking("bzmpop", -5, Bzmpop, "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
            "Remove and return members with scores in a sorted set or block until one is available",
            "timeout numkeys key [key ...] <MIN | MAX> [COUNT count]", fast: false, since: "7.0.0", keys: [KeySpec.KeyNum("RW access delete", 2)], getKeys: KeyExtractor.NumKeys(0, 2, 3)),
        Read("zrandmember", -2, Zrandmember, "O(N) where N is the number of members returned",
            "Returns one or more random members from a sorted set.", "key [count [WITHSCORES]]", since: "6.2.0"),
        Read("zunion", -3, Zunion, "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
            "Returns the union of multiple sorted sets.", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]", since: "6.2.0", keys: [KeySpec.KeyNum("RO access", 1)], getKeys: KeyExtractor.NumKeys(0, 1, 2)),
        Read("zinter", -3, Zinter, "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
            "Returns the intersect of multiple sorted sets.", "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>] [WITHSCORES]", since: "6.2.0", keys: [KeySpec.KeyNum("RO access", 1)], getKeys: KeyExtractor.NumKeys(0, 1, 2)),
        Read("zdiff", -3, Zdiff, "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
            "Returns the difference between multiple sorted sets.", "numkeys key [key ...] [WITHSCORES]", since: "6.2.0", keys: [KeySpec.KeyNum("RO access", 1)], getKeys: KeyExtractor.NumKeys(0, 1, 2)),
        Write("zunionstore", -4, Zunionstore, "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
            "Stores the union of multiple sorted sets in a key.", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]", since: "2.0.0", keys: [KeySpec.Range("OW update", 1), KeySpec.KeyNum("RO access", 2)], getKeys: KeyExtractor.NumKeys(1, 2, 3)),
        Write("zinterstore", -4, Zinterstore, "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
            "Stores the intersect of multiple sorted sets in a key.", "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE <SUM | MIN | MAX>]", since: "2.0.0", keys: [KeySpec.Range("OW update", 1), KeySpec.KeyNum("RO access", 2)], getKeys: KeyExtractor.NumKeys(1, 2, 3)),
        Write("zdiffstore", -4, Zdiffstore, "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
            "Stores the difference of multiple sorted sets in a key.", "destination numkeys key [key ...]", since: "6.2.0", keys: [KeySpec.Range("OW update", 1), KeySpec.KeyNum("RO access", 2)], getKeys: KeyExtractor.NumKeys(1, 2, 3)),
        Read("zintercard", -3, Zintercard, "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
            "Returns the number of members of the intersect of multiple sorted sets.", "numkeys key [key ...] [LIMIT limit]", since: "7.0.0", keys: [KeySpec.KeyNum("RO access", 1)], getKeys: KeyExtractor.NumKeys(0, 1, 2)),
        Read("zscan", -3, Zscan, "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            "Iterates over members and scores of a sorted set.", "key cursor [MATCH pattern] [COUNT count]", since: "2.8.0"),
    ];

    private static CommandSpec Read(string name, int arity, CommandHandler handler, string complexity, string summary, string syntax,
        bool fast = false, string since = "1.0.0", KeySpec[]? keys = null, GetKeysProcedure? getKeys = null) =>
        new(name, arity, handler)
        {
            Flags = CommandFlags.ReadOnly | (fast ? CommandFlags.Fast : 0),
            KeySpecs = keys ?? [KeySpec.Range("RO access", 1)],
            GetKeysProcedure = getKeys,
            Acl = fast ? "@read @sortedset @fast" : "@read @sortedset @slow",
            Summary = summary,
            Complexity = complexity,
            Syntax = syntax,
            Since = since,
        };

    private static CommandSpec Write(string name, int arity, CommandHandler handler, string complexity, string summary, string syntax,
        bool fast = false, string since = "1.0.0", bool oom = true, KeySpec[]? keys = null, GetKeysProcedure? getKeys = null) =>
        new(name, arity, handler)
        {
            Flags = CommandFlags.Write | (oom ? CommandFlags.DenyOom : 0) | (fast ? CommandFlags.Fast : 0),
            KeySpecs = keys ?? [KeySpec.Range("RW update", 1)],
            GetKeysProcedure = getKeys,
            Acl = fast ? "@write @sortedset @fast" : "@write @sortedset @slow",
            Summary = summary,
            Complexity = complexity,
            Syntax = syntax,
            Since = since,
        };

    private static CommandSpec Blocking(string name, int arity, CommandHandler handler, string complexity, string summary, string syntax,
        bool fast, string since, KeySpec[] keys, GetKeysProcedure? getKeys = null) =>
        new(name, arity, handler)
        {
            // Redis 7.0 marks BZPOPMIN/BZPOPMAX (fast) noscript, but not BZMPOP.
            Flags = CommandFlags.Write | CommandFlags.Blocking | (fast ? CommandFlags.Fast | CommandFlags.NoScript : 0),
            KeySpecs = keys,
            GetKeysProcedure = getKeys,
            Acl = fast ? "@write @sortedset @fast @blocking" : "@write @sortedset @slow @blocking",
            Summary = summary,
            Complexity = complexity,
            Syntax = syntax,
            Since = since,
        };

    // ---- Lookup and reply helpers -------------------------------------------------------------

    /// <summary>
    /// The sorted set under <paramref name="key"/> (null when absent, with <paramref name="index"/> -1).
    /// Writes WRONGTYPE and returns false for another type. Reads count keyspace hits and misses.
    /// </summary>
    internal static bool TryFind(Session s, ReadOnlySpan<byte> key, bool forWrite, out SortedSetValue? set, out int index) =>
        CollectionCommandHelpers.TryFind(s, key, forRead: !forWrite, out index, out set);

    /// <summary>Header for <paramref name="count"/> elements: a flat array in RESP2, one pair per element in RESP3 when scored.</summary>
    private static void WriteElementsHeader(ReplyWriter reply, long count, bool withScores) =>
        reply.WriteArrayHeader((int)(withScores && reply.Protocol == 2 ? count * 2 : count));

    /// <summary>One element of a list begun with <see cref="WriteElementsHeader"/>.</summary>
    private static void WriteElement(ReplyWriter reply, byte[] member, double score, bool withScores)
    {
        if (withScores && reply.Protocol == 3)
        {
            reply.WriteArrayHeader(2);
        }
        reply.WriteBulk(member);
        if (withScores)
        {
            reply.WriteDouble(score);
        }
    }

    /// <summary>
    /// After members were removed from the set at <paramref name="index"/> by <paramref name="name"/> (its keyspace event):
    /// deleted once empty ("del" follows, as in Redis), otherwise watchers learn of the change.
    /// </summary>
    private static void Shrunk(Database db, SortedSetValue set, int index, ReadOnlySpan<byte> name)
    {
        var key = db.Table[index].Key!;
        db.Notify(KeyspaceEventTypes.SortedSet, name, key);
        if (set.Count == 0)
        {
            db.DeleteAt(index);
            db.Notify(KeyspaceEventTypes.Generic, "del"u8, key);
        }
        else
        {
            db.SignalModified(key);
        }
    }

    // ---- ZADD, ZINCRBY ---------------------------------------------------------------------------

    [Flags]
    private enum AddFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
        Ch = 16,
        Incr = 32,
    }

    private enum AddOutcome
    {
        Added,
        Updated,
        Unchanged,
        Nop,
        NotANumber,
    }

    private static void Zadd(Session s, ArgList a)
    {
        var flags = AddFlags.None;
        int first = 2;
        for (; first < a.Count; first++)
        {
            var word = a[first];
            var flag = Ascii.EqualsIgnoreCase(word, "NX"u8) ? AddFlags.Nx
                : Ascii.EqualsIgnoreCase(word, "XX"u8) ? AddFlags.Xx
                : Ascii.EqualsIgnoreCase(word, "GT"u8) ? AddFlags.Gt
                : Ascii.EqualsIgnoreCase(word, "LT"u8) ? AddFlags.Lt
                : Ascii.EqualsIgnoreCase(word, "CH"u8) ? AddFlags.Ch
                : Ascii.EqualsIgnoreCase(word, "INCR"u8) ? AddFlags.Incr
                : AddFlags.None;
            if (flag == AddFlags.None)
            {
                break;
            }
            flags |= flag;
        }
        int elements = a.Count - first;
        if (elements == 0 || elements % 2 != 0)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if ((flags & (AddFlags.Nx | AddFlags.Xx)) == (AddFlags.Nx | AddFlags.Xx))
        {
            s.Reply.WriteError("ERR XX and NX options at the same time are not compatible");
            return;
        }
        int exclusive = ((flags & AddFlags.Gt) != 0 ? 1 : 0) + ((flags & AddFlags.Lt) != 0 ? 1 : 0) + ((flags & AddFlags.Nx) != 0 ? 1 : 0);
        if (exclusive > 1)
        {
            s.Reply.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        if ((flags & AddFlags.Incr) != 0 && elements > 2)
        {
            s.Reply.WriteError("ERR INCR option supports a single increment-element pair");
            return;
        }
        AddCore(s, a, first, flags);
    }

    private static void Zincrby(Session s, ArgList a) => AddCore(s, a, 2, AddFlags.Incr);

    /// <summary>Adds the score/member pairs from <paramref name="first"/>: all scores are checked before any change, as in Redis.</summary>
    private static void AddCore(Session s, ArgList a, int first, AddFlags flags)
    {
        int pairs = (a.Count - first) / 2;
        Span<double> scores = pairs <= 32 ? stackalloc double[pairs] : new double[pairs];
        for (int i = 0; i < pairs; i++)
        {
            if (!TryParseScore(a[first + (2 * i)], out scores[i]))
            {
                s.Reply.WriteError(Errors.NotFloat);
                return;
            }
        }
        AddScored(s, a, first, 2, scores, flags);
    }

    /// <summary>
    /// GEOADD's ZADD (Redis rewrites GEOADD into one): the members of the longitude, latitude, member triples from
    /// <paramref name="first"/>, with the scores already computed from their coordinates.
    /// </summary>
    internal static void AddGeoScored(Session s, ArgList a, int first, ReadOnlySpan<double> scores, bool nx, bool xx, bool ch) =>
        AddScored(s, a, first, 3, scores, (nx ? AddFlags.Nx : 0) | (xx ? AddFlags.Xx : 0) | (ch ? AddFlags.Ch : 0));

    /// <summary>Adds the members of the groups of <paramref name="stride"/> arguments from <paramref name="first"/> (the member last in each) with their parsed scores.</summary>
    private static void AddScored(Session s, ArgList a, int first, int stride, ReadOnlySpan<double> scores, AddFlags flags)
    {
        if (!TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            return;
        }
        bool incr = (flags & AddFlags.Incr) != 0;
        long added = 0;
        long updated = 0;
        long processed = 0;
        double result = 0;
        bool created = set is null;
        if (set is null)
        {
            if ((flags & AddFlags.Xx) != 0)
            {
                WriteAddReply(s, incr, processed, result, added);
                return;
            }
            set = SortedSetValue.CreateForFirstMember(s.Keyspace.EncodingLimits, a[first + stride - 1].Length);
            s.Db.Add(a.Detach(1), set);
        }
        for (int i = first; i < a.Count; i += stride)
        {
            var outcome = AddOne(set, a, i + stride - 1, scores[(i - first) / stride], flags, out result);
            switch (outcome)
            {
                case AddOutcome.NotANumber:
                    Grown(s, a[1], created, added + updated);
                    s.Reply.WriteError(NanError);
                    return;
                case AddOutcome.Added:
                    added++;
                    processed++;
                    break;
                case AddOutcome.Updated:
                    updated++;
                    processed++;
                    break;
                case AddOutcome.Unchanged:
                    processed++;
                    break;
            }
        }
        Grown(s, a[1], created, added + updated);
        if (added + updated > 0)
        {
            s.Db.Notify(KeyspaceEventTypes.SortedSet, incr ? "zincr"u8 : "zadd"u8, a[1]);
        }
        WriteAddReply(s, incr, processed, result, (flags & AddFlags.Ch) != 0 ? added + updated : added);
    }

    /// <summary>
    /// After an add to an existing set changed <paramref name="changes"/> members: watchers see the change
    /// and clients blocked in BZPOPMIN/BZMPOP on the key may be served (a created key was signalled by Add).
    /// </summary>
    private static void Grown(Session s, ReadOnlySpan<byte> key, bool created, long changes)
    {
        // Redis counts each member added or updated.
        s.Db.CountChanges(changes);
        if (!created && changes > 0)
        {
            s.Db.SignalGrown(key);
        }
    }

    /// <summary>
    /// A score or weight argument as Redis's getDoubleFromObject reads it: like strtod, but a value out
    /// of range (overflowing to infinity, or a non-zero value underflowing to zero) is refused.
    /// </summary>
    internal static bool TryParseScore(ReadOnlySpan<byte> text, out double value)
    {
        if (TryParseSmallInteger(text, out value))
        {
            return true;
        }
        if (!NumberFormat.TryParseDouble(text, out value))
        {
            return false;
        }
        if (double.IsInfinity(value))
        {
            return text.IndexOfAny("iI"u8) >= 0;
        }
        if (value == 0)
        {
            int exponent = text.IndexOfAny("eE"u8);
            var mantissa = exponent >= 0 ? text[..exponent] : text;
            return mantissa.IndexOfAnyInRange((byte)'1', (byte)'9') < 0;
        }
        return true;
    }

    /// <summary>
    /// The common case of a score: an optional minus and at most 15 decimal digits, exactly representable,
    /// so the value is what strtod gives (including -0) without the general parser.
    /// </summary>
    private static bool TryParseSmallInteger(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        bool negative = !text.IsEmpty && text[0] == (byte)'-';
        var digits = negative ? text[1..] : text;
        if (digits.IsEmpty || digits.Length > 15)
        {
            return false;
        }
        long n = 0;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9)
            {
                return false;
            }
            n = (n * 10) + d;
        }
        value = negative ? -(double)n : n;
        return true;
    }

    private static void WriteAddReply(Session s, bool incr, long processed, double score, long count)
    {
        if (!incr)
        {
            s.Reply.WriteInteger(count);
        }
        else if (processed > 0)
        {
            s.Reply.WriteDouble(score);
        }
        else
        {
            s.Reply.WriteNullBulk();
        }
    }

    /// <summary>Redis's zsetAdd: one member with the NX/XX/GT/LT/INCR rules.</summary>
    private static AddOutcome AddOne(SortedSetValue set, ArgList a, int memberIndex, double score, AddFlags flags, out double newScore)
    {
        newScore = score;
        if (set.TryGetScore(a[memberIndex], out double current))
        {
            if ((flags & AddFlags.Nx) != 0)
            {
                return AddOutcome.Nop;
            }
            if ((flags & AddFlags.Incr) != 0)
            {
                score += current;
                if (double.IsNaN(score))
                {
                    return AddOutcome.NotANumber;
                }
            }
            if (((flags & AddFlags.Lt) != 0 && score >= current) || ((flags & AddFlags.Gt) != 0 && score <= current))
            {
                return AddOutcome.Nop;
            }
            newScore = score;
            if (score != current)
            {
                set.UpdateScore(a[memberIndex], score);
                return AddOutcome.Updated;
            }
            return AddOutcome.Unchanged;
        }
        if ((flags & AddFlags.Xx) != 0)
        {
            return AddOutcome.Nop;
        }
        set.Add(a.Detach(memberIndex), score);
        return AddOutcome.Added;
    }

    // ---- Point reads -------------------------------------------------------------------------

    private static void Zscore(Session s, ArgList a)
    {
        if (!TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        if (set is not null && set.TryGetScore(a[2], out double score))
        {
            s.Reply.WriteDouble(score);
        }
        else
        {
            s.Reply.WriteNullBulk();
        }
    }

    private static void Zmscore(Session s, ArgList a)
    {
        if (!TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int i = 2; i < a.Count; i++)
        {
            if (set is not null && set.TryGetScore(a[i], out double score))
            {
                s.Reply.WriteDouble(score);
            }
            else
            {
                s.Reply.WriteNullBulk();
            }
        }
    }

    private static void Zcard(Session s, ArgList a)
    {
        if (TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            s.Reply.WriteInteger(set?.Count ?? 0);
        }
    }

    private static void Zcount(Session s, ArgList a)
    {
        if (!TryParseScoreRange(a[2], a[3], out var start, out var end))
        {
            s.Reply.WriteError(ScoreRangeError);
            return;
        }
        CountInRange(s, a, start, end);
    }

    private static void Zlexcount(Session s, ArgList a)
    {
        if (!TryParseLexRange(a[2], a[3], out var start, out var end))
        {
            s.Reply.WriteError(LexRangeError);
            return;
        }
        CountInRange(s, a, start, end);
    }

    private static void CountInRange<TStart, TEnd>(Session s, ArgList a, TStart start, TEnd end)
        where TStart : ISortedSetBound
        where TEnd : ISortedSetBound
    {
        if (TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            s.Reply.WriteInteger(set is null ? 0 : Math.Max(0, set.CountBefore(end) - set.CountBefore(start)));
        }
    }

    private static void Zrank(Session s, ArgList a) => Rank(s, a, reverse: false);

    private static void Zrevrank(Session s, ArgList a) => Rank(s, a, reverse: true);

    /// <summary>ZRANK/ZREVRANK, with Redis 7.2's WITHSCORE ([rank, score], or a null array when absent).</summary>
    private static void Rank(Session s, ArgList a, bool reverse)
    {
        if (a.Count > 4)
        {
            s.Reply.WriteError(Errors.WrongArgs(reverse ? "zrevrank" : "zrank"));
            return;
        }
        bool withScore = false;
        if (a.Count == 4)
        {
            if (!a.Is(3, "WITHSCORE"u8))
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
            withScore = true;
        }
        if (!TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        double score = 0;
        long rank = set is null ? -1 : set.RankOf(a[2], out score);
        if (rank < 0)
        {
            if (withScore)
            {
                s.Reply.WriteNullArray();
            }
            else
            {
                s.Reply.WriteNullBulk();
            }
            return;
        }
        if (withScore)
        {
            s.Reply.WriteArrayHeader(2);
        }
        s.Reply.WriteInteger(reverse ? set!.Count - 1 - rank : rank);
        if (withScore)
        {
            s.Reply.WriteDouble(score);
        }
    }

    // ---- Ranges ------------------------------------------------------------------------------

    /// <summary>Elements before the start of a score range: below min, or at min when min is exclusive.</summary>
    private readonly struct ScoreStart(double min, bool exclusive) : ISortedSetBound
    {
        public bool IsBefore(double score, ReadOnlySpan<byte> member) => exclusive ? score <= min : score < min;
    }

    /// <summary>Elements not after the end of a score range: below max, or at max when max is inclusive.</summary>
    private readonly struct ScoreEnd(double max, bool exclusive) : ISortedSetBound
    {
        public bool IsBefore(double score, ReadOnlySpan<byte> member) => exclusive ? score < max : score <= max;
    }

    /// <summary>A lex range item: "-" (before all), "+" (after all), "[x" inclusive, "(x" exclusive.</summary>
    private readonly struct LexItem(sbyte infinity, byte[] value, bool exclusive)
    {
        public readonly sbyte Infinity = infinity;
        public readonly byte[] Value = value;
        public readonly bool Exclusive = exclusive;
    }

    private readonly struct LexStart(LexItem min) : ISortedSetBound
    {
        public bool IsBefore(double score, ReadOnlySpan<byte> member) =>
            min.Infinity != 0 ? min.Infinity > 0 : member.SequenceCompareTo(min.Value) is var c && (min.Exclusive ? c <= 0 : c < 0);
    }

    private readonly struct LexEnd(LexItem max) : ISortedSetBound
    {
        public bool IsBefore(double score, ReadOnlySpan<byte> member) =>
            max.Infinity != 0 ? max.Infinity > 0 : member.SequenceCompareTo(max.Value) is var c && (max.Exclusive ? c < 0 : c <= 0);
    }

    private static bool TryParseScoreRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreStart start, out ScoreEnd end)
    {
        bool ok = TryParseScoreItem(min, out double low, out bool lowExclusive) & TryParseScoreItem(max, out double high, out bool highExclusive);
        start = new ScoreStart(low, lowExclusive);
        end = new ScoreEnd(high, highExclusive);
        return ok;
    }

    private static bool TryParseScoreItem(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        exclusive = text.Length > 0 && text[0] == (byte)'(';
        if (exclusive)
        {
            text = text[1..];
        }
        // strtod reads nothing from an empty string and Redis takes that as 0.
        value = 0;
        return text.IsEmpty || NumberFormat.TryParseDouble(text, out value);
    }

    private static bool TryParseLexRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexStart start, out LexEnd end)
    {
        bool ok = TryParseLexItem(min, out var low) & TryParseLexItem(max, out var high);
        start = new LexStart(low);
        end = new LexEnd(high);
        return ok;
    }

    private static bool TryParseLexItem(ReadOnlySpan<byte> text, out LexItem item)
    {
        item = default;
        if (text.IsEmpty)
        {
            return false;
        }
        switch (text[0])
        {
            case (byte)'-' when text.Length == 1:
                item = new LexItem(-1, [], false);
                return true;
            case (byte)'+' when text.Length == 1:
                item = new LexItem(1, [], false);
                return true;
            case (byte)'[':
                item = new LexItem(0, text[1..].ToArray(), false);
                return true;
            case (byte)'(':
                item = new LexItem(0, text[1..].ToArray(), true);
                return true;
            default:
                return false;
        }
    }

    private enum RangeKind
    {
        Auto,
        Rank,
        Score,
        Lex,
    }

    private static void Zrange(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Auto, null);

    private static void Zrangestore(Session s, ArgList a) => RangeGeneric(s, a, 2, store: true, RangeKind.Auto, null);

    private static void Zrevrange(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Rank, true);

    private static void Zrangebyscore(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Score, false);

    private static void Zrevrangebyscore(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Score, true);

    private static void Zrangebylex(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Lex, false);

    private static void Zrevrangebylex(Session s, ArgList a) => RangeGeneric(s, a, 1, store: false, RangeKind.Lex, true);

    /// <summary>
    /// Redis's zrangeGenericCommand: every ZRANGE form. <paramref name="kind"/> and <paramref name="reverse"/>
    /// are fixed by the legacy commands, and left open (Auto, null) for ZRANGE/ZRANGESTORE to take from options.
    /// </summary>
    private static void RangeGeneric(Session s, ArgList a, int keyIndex, bool store, RangeKind kind, bool? reverse)
    {
        bool withScores = false;
        long offset = 0;
        long limit = -1;
        for (int j = keyIndex + 3; j < a.Count; j++)
        {
            int left = a.Count - j - 1;
            if (!store && a.Is(j, "WITHSCORES"u8))
            {
                withScores = true;
            }
            else if (a.Is(j, "LIMIT"u8) && left >= 2)
            {
                if (!s.TryParseLong(a[j + 1], out offset) || !s.TryParseLong(a[j + 2], out limit))
                {
                    return;
                }
                j += 2;
            }
            else if (reverse is null && a.Is(j, "REV"u8))
            {
                reverse = true;
            }
            else if (kind == RangeKind.Auto && a.Is(j, "BYLEX"u8))
            {
                kind = RangeKind.Lex;
            }
            else if (kind == RangeKind.Auto && a.Is(j, "BYSCORE"u8))
            {
                kind = RangeKind.Score;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        bool descending = reverse ?? false;
        if (kind == RangeKind.Auto)
        {
            kind = RangeKind.Rank;
        }
        if (limit != -1 && kind == RangeKind.Rank)
        {
            s.Reply.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && kind == RangeKind.Lex)
        {
            s.Reply.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        // REV with BYSCORE/BYLEX takes the range as max, min.
        int minIndex = keyIndex + 1;
        int maxIndex = keyIndex + 2;
        if (descending && kind != RangeKind.Rank)
        {
            (minIndex, maxIndex) = (maxIndex, minIndex);
        }
        long rankStart = 0;
        long rankStop = 0;
        ScoreStart scoreStart = default;
        ScoreEnd scoreEnd = default;
        LexStart lexStart = default;
        LexEnd lexEnd = default;
        switch (kind)
        {
            case RangeKind.Rank:
                if (!s.TryParseLong(a[minIndex], out rankStart) || !s.TryParseLong(a[maxIndex], out rankStop))
                {
                    return;
                }
                break;
            case RangeKind.Score:
                if (!TryParseScoreRange(a[minIndex], a[maxIndex], out scoreStart, out scoreEnd))
                {
                    s.Reply.WriteError(ScoreRangeError);
                    return;
                }
                break;
            default:
                if (!TryParseLexRange(a[minIndex], a[maxIndex], out lexStart, out lexEnd))
                {
                    s.Reply.WriteError(LexRangeError);
                    return;
                }
                break;
        }

        if (!TryFind(s, a[keyIndex], forWrite: false, out var set, out _))
        {
            return;
        }
        long first = 0;
        long count = 0;
        if (set is not null)
        {
            (first, count) = kind switch
            {
                RangeKind.Rank => RankWindow(set.Count, rankStart, rankStop, descending),
                RangeKind.Score => BoundWindow(set.CountBefore(scoreStart), set.CountBefore(scoreEnd), descending, offset, limit),
                _ => BoundWindow(set.CountBefore(lexStart), set.CountBefore(lexEnd), descending, offset, limit),
            };
        }
        if (store)
        {
            var result = new SortedSetValue(s.Keyspace.EncodingLimits);
            if (set is not null)
            {
                var reader = set.Read(first, descending);
                for (long i = 0; i < count && reader.Next(out var member, out double score); i++)
                {
                    result.Add(member, score);
                }
            }
            Store(s, a[1], result);
            return;
        }
        WriteElementsHeader(s.Reply, count, withScores);
        if (set is not null)
        {
            var reader = set.Read(first, descending);
            for (long i = 0; i < count && reader.Next(out var member, out double score); i++)
            {
                WriteElement(s.Reply, member, score, withScores);
            }
        }
    }

    /// <summary>Redis's index range (negative from the end, clamped): the first rank read and how many.</summary>
    private static (long First, long Count) RankWindow(long length, long start, long stop, bool descending)
    {
        var (first, count) = CollectionCommandHelpers.ClampRange(start, stop, length);
        return count == 0 ? (0, 0) : (descending ? length - 1 - first : first, count);
    }

    /// <summary>
    /// The ranks [<paramref name="begin"/>, <paramref name="end"/>) in a score or lex range, after LIMIT:
    /// a negative offset gives nothing and a negative count no limit, as Redis's loops do.
    /// </summary>
    private static (long First, long Count) BoundWindow(long begin, long end, bool descending, long offset, long limit)
    {
        long available = end - begin;
        if (available <= 0 || offset < 0 || offset >= available)
        {
            return (0, 0);
        }
        long count = available - offset;
        if (limit >= 0 && limit < count)
        {
            count = limit;
        }
        return (descending ? end - 1 - offset : begin + offset, count);
    }

    /// <summary>Stores a computed set at <paramref name="destination"/> (deleting it when empty) and replies its size.</summary>
    private static void Store(Session s, ReadOnlySpan<byte> destination, SortedSetValue result)
    {
        if (result.Count > 0)
        {
            s.Db.Set(destination, result);
            // The command's own name: zunionstore, zinterstore, zdiffstore or zrangestore.
            s.Db.Notify(KeyspaceEventTypes.SortedSet, Encoding.ASCII.GetBytes(s.LastCommand!.Name), destination);
        }
        else if (s.Db.Delete(destination))
        {
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, destination);
        }
        s.Reply.WriteInteger(result.Count);
    }

    // ---- Removal -----------------------------------------------------------------------------

    private static void Zrem(Session s, ArgList a)
    {
        if (!TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            return;
        }
        long removed = 0;
        if (set is not null)
        {
            for (int i = 2; i < a.Count && set.Count > 0; i++)
            {
                if (set.Remove(a[i]))
                {
                    removed++;
                }
            }
            if (removed > 0)
            {
                Shrunk(s.Db, set, index, "zrem"u8);
            }
            s.Db.CountChanges(removed);
        }
        s.Reply.WriteInteger(removed);
    }

    private static void Zremrangebyrank(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long start) || !s.TryParseLong(a[3], out long stop))
        {
            return;
        }
        if (TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            var (first, count) = set is null ? (0, 0) : RankWindow(set.Count, start, stop, descending: false);
            RemoveWindow(s, set, index, first, first + count, "zremrangebyrank"u8);
        }
    }

    private static void Zremrangebyscore(Session s, ArgList a)
    {
        if (!TryParseScoreRange(a[2], a[3], out var start, out var end))
        {
            s.Reply.WriteError(ScoreRangeError);
            return;
        }
        if (TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            RemoveWindow(s, set, index, set?.CountBefore(start) ?? 0, set?.CountBefore(end) ?? 0, KindOfRemoval(a));
        }
    }

    private static void Zremrangebylex(Session s, ArgList a)
    {
        if (!TryParseLexRange(a[2], a[3], out var start, out var end))
        {
            s.Reply.WriteError(LexRangeError);
            return;
        }
        if (TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            RemoveWindow(s, set, index, set?.CountBefore(start) ?? 0, set?.CountBefore(end) ?? 0, KindOfRemoval(a));
        }
    }

    /// <summary>ZREMRANGEBYSCORE (16 letters) or ZREMRANGEBYLEX, by the command's name.</summary>
    private static ReadOnlySpan<byte> KindOfRemoval(ArgList a) => a[0].Length == 16 ? "zremrangebyscore"u8 : "zremrangebylex"u8;

    private static void RemoveWindow(Session s, SortedSetValue? set, int index, long begin, long end, ReadOnlySpan<byte> name)
    {
        if (set is null || end <= begin)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        set.RemoveRange(begin, end);
        s.Db.CountChanges(end - begin);
        Shrunk(s.Db, set, index, name);
        s.Reply.WriteInteger(end - begin);
    }

    // ---- Pops --------------------------------------------------------------------------------

    private static void Zpopmin(Session s, ArgList a) => PopMinMax(s, a, max: false);

    private static void Zpopmax(Session s, ArgList a) => PopMinMax(s, a, max: true);

    private static void PopMinMax(Session s, ArgList a, bool max)
    {
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        long count = -1;
        if (a.Count == 3 && (!NumberFormat.TryParseInt64(a[2], out count) || count < 0))
        {
            s.Reply.WriteError(Errors.NotPositive);
            return;
        }
        if (!TryFind(s, a[1], forWrite: true, out var set, out int index))
        {
            return;
        }
        if (set is null || count == 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        var shape = s.Reply.Protocol == 3 && count != -1 ? ZPopReplyShape.Pairs : ZPopReplyShape.Flat;
        PopAndReply(s.Db, s.Reply, a[1], set, index, max, count == -1 ? 1 : count, shape);
    }

    private static void Zmpop(Session s, ArgList a)
    {
        if (TryParseMpop(s, a, 1, out int keyCount, out bool max, out long count))
        {
            PopFirstOrBlock(s, a, 2, 1 + keyCount, null, max, count, ZPopReplyShape.KeyThenPairs);
        }
    }

    private static void Bzpopmin(Session s, ArgList a) => BlockingPop(s, a, max: false);

    private static void Bzpopmax(Session s, ArgList a) => BlockingPop(s, a, max: true);

    /// <summary>BZPOPMIN/BZPOPMAX: keys then a timeout; one element with its key, flat in both protocols as in Redis 7.0.</summary>
    private static void BlockingPop(Session s, ArgList a, bool max)
    {
        if (BlockingTimeout.TryParse(s, a[^1], out long timeoutMs))
        {
            PopFirstOrBlock(s, a, 1, a.Count - 2, timeoutMs, max, 1, ZPopReplyShape.KeyThenFlat);
        }
    }

    /// <summary>BZMPOP: the timeout comes first but is checked after numkeys, MIN|MAX and COUNT, as in Redis.</summary>
    private static void Bzmpop(Session s, ArgList a)
    {
        if (TryParseMpop(s, a, 2, out int keyCount, out bool max, out long count) && BlockingTimeout.TryParse(s, a[1], out long timeoutMs))
        {
            PopFirstOrBlock(s, a, 3, 2 + keyCount, timeoutMs, max, count, ZPopReplyShape.KeyThenPairs);
        }
    }

    /// <summary>
    /// Pops from the first of keys <paramref name="first"/>..<paramref name="last"/> holding a sorted set; when
    /// none does, blocks on them all for <paramref name="timeoutMs"/>, or answers a null array when not blocking
    /// (null timeout: ZMPOP) or not allowed to (inside EXEC).
    /// </summary>
    private static void PopFirstOrBlock(Session s, ArgList a, int first, int last, long? timeoutMs, bool max, long count, ZPopReplyShape shape)
    {
        for (int i = first; i <= last; i++)
        {
            if (!TryFind(s, a[i], forWrite: true, out var set, out int index))
            {
                return;
            }
            if (set is not null)
            {
                PropagateAsPop(s, a[i], max, Math.Min(count, set.Count), shape);
                PopAndReply(s.Db, s.Reply, a[i], set, index, max, count, shape);
                return;
            }
        }
        if (timeoutMs is not { } wait || s.DenyBlocking)
        {
            s.Reply.WriteNullArray();
            return;
        }
        s.Server.Blocking.Block(s, a, first, last, wait, (client, key) =>
        {
            var db = client.Db;
            int index = db.Find(key, touch: false);
            if (index < 0 || db.Table[index].Value is not SortedSetValue { Count: > 0 } set)
            {
                return false;
            }
            PropagateAsPop(s, key, max, Math.Min(count, set.Count), shape);
            PopAndReply(db, client.Reply, key, set, index, max, count, shape);
            return true;
        });
    }

    /// <summary>ZMPOP and the blocking pops go to the change stream as the ZPOPMIN/ZPOPMAX of the key they found and how many it gave, which never waits.</summary>
    private static void PropagateAsPop(Session s, ReadOnlySpan<byte> key, bool max, long count, ZPopReplyShape shape)
    {
        var rewrite = s.Server.Propagator.Rewrite(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8)?.Add(key);
        if (shape == ZPopReplyShape.KeyThenPairs)
        {
            rewrite?.Add(count);
        }
    }

    /// <summary>
    /// Parses "numkeys key [key ...] MIN|MAX [COUNT count]" from <paramref name="numKeysIndex"/>, as ZMPOP
    /// and BZMPOP share it; writes Redis's error and returns false when malformed.
    /// </summary>
    internal static bool TryParseMpop(Session s, ArgList a, int numKeysIndex, out int keyCount, out bool max, out long count)
    {
        keyCount = 0;
        max = false;
        count = -1;
        if (!NumberFormat.TryParseInt64(a[numKeysIndex], out long numKeys) || numKeys < 1)
        {
            s.Reply.WriteError("ERR numkeys should be greater than 0");
            return false;
        }
        long whereIndex = numKeysIndex + Math.Min(numKeys, a.Count) + 1;
        if (whereIndex >= a.Count)
        {
            s.Reply.WriteError(Errors.Syntax);
            return false;
        }
        keyCount = (int)numKeys;
        if (a.Is((int)whereIndex, "MAX"u8))
        {
            max = true;
        }
        else if (!a.Is((int)whereIndex, "MIN"u8))
        {
            s.Reply.WriteError(Errors.Syntax);
            return false;
        }
        for (int j = (int)whereIndex + 1; j < a.Count; j++)
        {
            if (count == -1 && a.Is(j, "COUNT"u8) && j + 1 < a.Count)
            {
                if (!NumberFormat.TryParseInt64(a[++j], out count) || count < 1)
                {
                    s.Reply.WriteError("ERR count should be greater than 0");
                    return false;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return false;
            }
        }
        if (count == -1)
        {
            count = 1;
        }
        return true;
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> lowest (or highest) elements of the non-empty set at
    /// <paramref name="index"/>, writes the reply in <paramref name="shape"/>, and deletes the key once
    /// empty. The one pop used by ZPOPMIN/ZPOPMAX/ZMPOP and, later, by their blocking forms.
    /// </summary>
    internal static void PopAndReply(Database db, ReplyWriter reply, ReadOnlySpan<byte> key, SortedSetValue set, int index, bool max, long count, ZPopReplyShape shape)
    {
        long taken = Math.Min(count, set.Count);
        // Redis counts each member popped.
        db.CountChanges(taken);
        switch (shape)
        {
            case ZPopReplyShape.Flat:
                reply.WriteArrayHeader((int)(taken * 2));
                break;
            case ZPopReplyShape.Pairs:
                reply.WriteArrayHeader((int)taken);
                break;
            case ZPopReplyShape.KeyThenFlat:
                reply.WriteArrayHeader((int)(taken * 2) + 1);
                reply.WriteBulk(key);
                break;
            default:
                reply.WriteArrayHeader(2);
                reply.WriteBulk(key);
                reply.WriteArrayHeader((int)taken);
                break;
        }
        bool pairs = shape is ZPopReplyShape.Pairs or ZPopReplyShape.KeyThenPairs;
        for (long i = 0; i < taken; i++)
        {
            long rank = max ? set.Count - 1 : 0;
            var (member, score) = set.GetAt(rank);
            set.RemoveRange(rank, rank + 1);
            if (pairs)
            {
                reply.WriteArrayHeader(2);
            }
            reply.WriteBulk(member);
            reply.WriteDouble(score);
        }
        Shrunk(db, set, index, max ? "zpopmax"u8 : "zpopmin"u8);
    }

    // ---- ZRANDMEMBER -------------------------------------------------------------------------

    private static void Zrandmember(Session s, ArgList a)
    {
        if (a.Count == 2)
        {
            if (TryFind(s, a[1], forWrite: false, out var single, out _))
            {
                if (single is null)
                {
                    s.Reply.WriteNullBulk();
                }
                else
                {
                    s.Reply.WriteBulk(single.GetAt(single.RandomRank()).Member);
                }
            }
            return;
        }
        if (!NumberFormat.TryParseInt64(a[2], out long requested))
        {
            s.Reply.WriteError(Errors.NotInteger);
            return;
        }
        if (requested == long.MinValue)
        {
            s.Reply.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        bool withScores = false;
        if (a.Count > 4 || (a.Count == 4 && !a.Is(3, "WITHSCORES"u8)))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (a.Count == 4)
        {
            withScores = true;
            if (requested < -long.MaxValue / 2 || requested > long.MaxValue / 2)
            {
                s.Reply.WriteError("ERR value is out of range");
                return;
            }
        }
        if (!TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        if (set is null || requested == 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        long size = set.Count;
        bool unique = requested > 0;
        long count = Math.Abs(requested);
        if (!unique || count == 1)
        {
            // Repeats allowed: each pick independent.
            WriteElementsHeader(s.Reply, count, withScores);
            for (long i = 0; i < count; i++)
            {
                var (member, score) = set.GetAt(set.RandomRank());
                WriteElement(s.Reply, member, score, withScores);
            }
            return;
        }
        if (count >= size)
        {
            // The whole set, highest first, as Redis answers a count at least the size.
            WriteElementsHeader(s.Reply, size, withScores);
            var reader = set.Read(size - 1, descending: true);
            while (reader.Next(out var member, out double score))
            {
                WriteElement(s.Reply, member, score, withScores);
            }
            return;
        }
        // Distinct picks: a partial Fisher-Yates shuffle of ranks, touching only the ranks drawn.
        var swapped = new Dictionary<long, long>();
        WriteElementsHeader(s.Reply, count, withScores);
        for (long i = 0; i < count; i++)
        {
            long j = i + Random.Shared.NextInt64(size - i);
            long picked = swapped.GetValueOrDefault(j, j);
            swapped[j] = swapped.GetValueOrDefault(i, i);
            var (member, score) = set.GetAt(picked);
            WriteElement(s.Reply, member, score, withScores);
        }
    }

    // ---- Set algebra -------------------------------------------------------------------------

    private enum SetOperation
    {
        Union,
        Inter,
        Diff,
    }

    private enum Aggregate
    {
        Sum,
        Min,
        Max,
    }

    /// <summary>One input of the set algebra: a sorted set, a plain set (score 1), or nothing (missing key).</summary>
    private readonly struct AlgebraInput(object? value, double weight)
    {
        public readonly object? Value = value;
        public readonly double Weight = weight;

        public long Count => Value switch
        {
            SortedSetValue z => z.Count,
            ISetMembers set => set.Count,
            _ => 0,
        };

        public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
        {
            switch (Value)
            {
                case SortedSetValue z:
                    return z.TryGetScore(member, out score);
                case ISetMembers set:
                    score = 1;
                    return set.Contains(member);
                default:
                    score = 0;
                    return false;
            }
        }

        public IEnumerable<(byte[] Member, double Score)> Elements()
        {
            if (Value is SortedSetValue z)
            {
                var reader = z.Read(0, descending: false);
                while (reader.Next(out var member, out double score))
                {
                    yield return (member, score);
                }
            }
            else if (Value is ISetMembers set)
            {
                foreach (var member in set.Members)
                {
                    yield return (member, 1);
                }
            }
        }

        public AlgebraInput WithWeight(double weight) => new(Value, weight);
    }

    private static void Zunion(Session s, ArgList a) => Algebra(s, a, 1, false, SetOperation.Union, cardinalityOnly: false);

    private static void Zinter(Session s, ArgList a) => Algebra(s, a, 1, false, SetOperation.Inter, cardinalityOnly: false);

    private static void Zdiff(Session s, ArgList a) => Algebra(s, a, 1, false, SetOperation.Diff, cardinalityOnly: false);

    private static void Zunionstore(Session s, ArgList a) => Algebra(s, a, 2, true, SetOperation.Union, cardinalityOnly: false);

    private static void Zinterstore(Session s, ArgList a) => Algebra(s, a, 2, true, SetOperation.Inter, cardinalityOnly: false);

    private static void Zdiffstore(Session s, ArgList a) => Algebra(s, a, 2, true, SetOperation.Diff, cardinalityOnly: false);

    private static void Zintercard(Session s, ArgList a) => Algebra(s, a, 1, false, SetOperation.Inter, cardinalityOnly: true);

    /// <summary>Redis's zunionInterDiffGenericCommand: every ZUNION/ZINTER/ZDIFF form and ZINTERCARD.</summary>
    private static void Algebra(Session s, ArgList a, int numKeysIndex, bool store, SetOperation operation, bool cardinalityOnly)
    {
        if (!s.TryParseLong(a[numKeysIndex], out long numKeys))
        {
            return;
        }
        if (numKeys < 1)
        {
            s.Reply.WriteError($"ERR at least 1 input key is needed for '{s.LastCommand?.Name}' command");
            return;
        }
        if (numKeys > a.Count - (numKeysIndex + 1))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        var inputs = new AlgebraInput[numKeys];
        int j = numKeysIndex + 1;
        for (int i = 0; i < numKeys; i++, j++)
        {
            int index = s.FindForRead(a[j]);
            object? value = index >= 0 ? s.Db.Table[index].Value : null;
            if (value is not (null or SortedSetValue or ISetMembers))
            {
                s.Reply.WriteError(Errors.WrongType);
                return;
            }
            inputs[i] = new AlgebraInput(value, 1);
        }

        var aggregate = Aggregate.Sum;
        bool withScores = false;
        long limit = 0;
        while (j < a.Count)
        {
            int remaining = a.Count - j;
            if (operation != SetOperation.Diff && !cardinalityOnly && remaining >= numKeys + 1 && a.Is(j, "WEIGHTS"u8))
            {
                j++;
                for (int i = 0; i < numKeys; i++, j++)
                {
                    if (!TryParseScore(a[j], out double weight))
                    {
                        s.Reply.WriteError("ERR weight value is not a float");
                        return;
                    }
                    inputs[i] = inputs[i].WithWeight(weight);
                }
            }
            else if (operation != SetOperation.Diff && !cardinalityOnly && remaining >= 2 && a.Is(j, "AGGREGATE"u8))
            {
                j++;
                if (a.Is(j, "SUM"u8))
                {
                    aggregate = Aggregate.Sum;
                }
                else if (a.Is(j, "MIN"u8))
                {
                    aggregate = Aggregate.Min;
                }
                else if (a.Is(j, "MAX"u8))
                {
                    aggregate = Aggregate.Max;
                }
                else
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
                j++;
            }
            else if (!store && !cardinalityOnly && a.Is(j, "WITHSCORES"u8))
            {
                j++;
                withScores = true;
            }
            else if (cardinalityOnly && remaining >= 2 && a.Is(j, "LIMIT"u8))
            {
                if (!NumberFormat.TryParseInt64(a[j + 1], out limit) || limit < 0)
                {
                    s.Reply.WriteError("ERR LIMIT can't be negative");
                    return;
                }
                j += 2;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }

        if (operation != SetOperation.Diff)
        {
            // Smallest first, as Redis sorts its inputs (the intersection walks the smallest one).
            var ordered = inputs.OrderBy(input => input.Count).ToArray();
            ordered.CopyTo(inputs, 0);
        }
        if (cardinalityOnly)
        {
            s.Reply.WriteInteger(InterCardinality(inputs, limit));
            return;
        }
        var result = operation switch
        {
            SetOperation.Union => Union(s.Keyspace.EncodingLimits, inputs, aggregate),
            SetOperation.Inter => Intersect(s.Keyspace.EncodingLimits, inputs, aggregate),
            _ => Difference(s.Keyspace.EncodingLimits, inputs),
        };
        if (store)
        {
            result.CompactIfSmall();
            Store(s, a[1], result);
            return;
        }
        WriteElementsHeader(s.Reply, result.Count, withScores);
        var reader = result.Read(0, descending: false);
        while (reader.Next(out var member, out double score))
        {
            WriteElement(s.Reply, member, score, withScores);
        }
    }

    private static double Combine(double target, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                double sum = target + value;
                // +inf plus -inf: Redis keeps 0 rather than NaN.
                return double.IsNaN(sum) ? 0 : sum;
            case Aggregate.Min:
                return value < target ? value : target;
            default:
                return value > target ? value : target;
        }
    }

    private static double Weighted(double score, double weight)
    {
        double value = weight * score;
        return double.IsNaN(value) ? 0 : value;
    }

    private static SortedSetValue Union(EncodingLimits limits, AlgebraInput[] inputs, Aggregate aggregate)
    {
        var scores = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
        var order = new List<byte[]>();
        foreach (var input in inputs)
        {
            foreach (var (member, score) in input.Elements())
            {
                double value = Weighted(score, input.Weight);
                if (scores.TryGetValue(member, out double existing))
                {
                    scores[member] = Combine(existing, value, aggregate);
                }
                else
                {
                    scores[member] = value;
                    order.Add(member);
                }
            }
        }
        var result = SortedSetValue.CreateSkipList(limits);
        foreach (var member in order)
        {
            result.Add(member, scores[member]);
        }
        return result;
    }

    private static SortedSetValue Intersect(EncodingLimits limits, AlgebraInput[] inputs, Aggregate aggregate)
    {
        var result = SortedSetValue.CreateSkipList(limits);
        if (inputs[0].Count == 0)
        {
            return result;
        }
        foreach (var (member, score) in inputs[0].Elements())
        {
            if (TryScoreInAll(inputs, member, score, aggregate, out double combined))
            {
                result.Add(member, combined);
            }
        }
        return result;
    }

    private static long InterCardinality(AlgebraInput[] inputs, long limit)
    {
        long cardinality = 0;
        if (inputs[0].Count == 0)
        {
            return 0;
        }
        foreach (var (member, score) in inputs[0].Elements())
        {
            if (TryScoreInAll(inputs, member, score, Aggregate.Sum, out _))
            {
                cardinality++;
                if (limit > 0 && cardinality >= limit)
                {
                    break;
                }
            }
        }
        return cardinality;
    }

    /// <summary>The aggregated score of a member of the first input, when every other input holds it too.</summary>
    private static bool TryScoreInAll(AlgebraInput[] inputs, byte[] member, double score, Aggregate aggregate, out double combined)
    {
        combined = Weighted(score, inputs[0].Weight);
        for (int i = 1; i < inputs.Length; i++)
        {
            if (!inputs[i].TryGetScore(member, out double other))
            {
                return false;
            }
            combined = Combine(combined, other * inputs[i].Weight, aggregate);
        }
        return true;
    }

    private static SortedSetValue Difference(EncodingLimits limits, AlgebraInput[] inputs)
    {
        var result = SortedSetValue.CreateSkipList(limits);
        foreach (var (member, score) in inputs[0].Elements())
        {
            bool elsewhere = false;
            for (int i = 1; i < inputs.Length && !elsewhere; i++)
            {
                elsewhere = inputs[i].TryGetScore(member, out _);
            }
            if (!elsewhere)
            {
                result.Add(member, score);
            }
        }
        return result;
    }

    // ---- ZSCAN -------------------------------------------------------------------------------

    private static void Zscan(Session s, ArgList a)
    {
        if (!NumberFormat.TryParseScanCursor(a[2], out ulong cursor))
        {
            s.Reply.WriteError("ERR invalid cursor");
            return;
        }
        if (!TryFind(s, a[1], forWrite: false, out var set, out _))
        {
            return;
        }
        if (set is null)
        {
            s.Reply.WriteArrayHeader(2);
            s.Reply.WriteBulk("0"u8);
            s.Reply.WriteArrayHeader(0);
            return;
        }
        long count = 10;
        int patternIndex = -1;
        for (int i = 3; i < a.Count; i += 2)
        {
            if (a.Is(i, "COUNT"u8) && i + 1 < a.Count)
            {
                if (!s.TryParseLong(a[i + 1], out count))
                {
                    return;
                }
                if (count < 1)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
            }
            else if (a.Is(i, "MATCH"u8) && i + 1 < a.Count)
            {
                patternIndex = Glob.MatchesAll(a[i + 1]) ? -1 : i + 1;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        var found = new List<(byte[] Member, double Score)>();
        ulong next = set.Scan(cursor, count, found);
        if (patternIndex >= 0)
        {
            found.RemoveAll(element => !Glob.IsMatch(a[patternIndex], element.Member));
        }
        s.Reply.WriteArrayHeader(2);
        Span<byte> text = stackalloc byte[40];
        next.TryFormat(text, out int digits, default, System.Globalization.CultureInfo.InvariantCulture);
        s.Reply.WriteBulk(text[..digits]);
        s.Reply.WriteArrayHeader(found.Count * 2);
        foreach (var (member, score) in found)
        {
            s.Reply.WriteBulk(member);
            // Scores in a scan are always strings, whatever the protocol.
            int n = NumberFormat.FormatDoubleD2String(score, text);
            s.Reply.WriteBulk(text[..n]);
        }
    }
}
