using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The stream family (Redis's t_stream.c) without consumer groups: XADD, XRANGE, XREVRANGE, XLEN, XDEL, XTRIM,
/// XSETID, XREAD (blocking too) and XINFO STREAM / HELP over <see cref="StreamValue"/>. The group commands are the
/// other part of this class (StreamCommands.Groups.cs).
/// </summary>
internal static partial class StreamCommands
{
    private const string InvalidId = "ERR Invalid stream ID specified as stream command argument";

    /// <summary>Every stream command: this file's and the group commands'.</summary>
    public static IEnumerable<CommandSpec> All => [.. NonGroupCommands, .. GroupCommands];

    private static IEnumerable<CommandSpec> NonGroupCommands =>
    [
        new("xadd", -5, Xadd)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Acl = "@write @stream @fast", Tips = "nondeterministic_output",
            KeySpecs = [KeySpec.Range("RW update", 1) with { Notes = "UPDATE instead of INSERT because of the optional trimming feature" }],
            Summary = "Appends a new entry to a stream", Since = "5.0.0",
            Complexity = "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
            Syntax = "key [NOMKSTREAM] [<MAXLEN | MINID> [= | ~] threshold [LIMIT count]] <* | id> field value [field value ...]",
        },
        new("xrange", -4, (s, a) => Xrange(s, a, reverse: false))
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow",
            Summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval", Since = "5.0.0",
            Complexity = "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
            Syntax = "key start end [COUNT count]",
        },
        new("xrevrange", -4, (s, a) => Xrange(s, a, reverse: true))
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow",
            Summary = "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
            Since = "5.0.0",
            Complexity = "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
            Syntax = "key end start [COUNT count]",
        },
        new("xlen", 2, Xlen)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @stream @fast",
            Summary = "Return the number of entries in a stream", Since = "5.0.0", Complexity = "O(1)", Syntax = "key",
        },
        new("xdel", -3, Xdel)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @stream @fast",
            Summary = "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.",
            Since = "5.0.0", Complexity = "O(1) for each single item to delete in the stream, regardless of the stream size.", Syntax = "key id [id ...]",
        },
        new("xtrim", -4, Xtrim)
        {
            Flags = CommandFlags.Write, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @stream @slow", Tips = "nondeterministic_output",
            Summary = "Trims the stream to (approximately if '~' is passed) a certain size", Since = "5.0.0",
            Complexity = "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
            Syntax = "key <MAXLEN | MINID> [= | ~] threshold [LIMIT count]",
        },
        new("xsetid", -3, Xsetid)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW update", Acl = "@write @stream @fast",
            Summary = "An internal command for replicating stream values", Since = "5.0.0", Complexity = "O(1)",
            Syntax = "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]",
        },
        new("xread", -4, Xread)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Blocking, Acl = "@read @stream @slow @blocking",
            KeySpecs = [KeySpec.KeywordRange("RO access", "STREAMS", 1, -1, 1, 2)],
            GetKeysProcedure = XreadKeys,
            Summary = "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.",
            Since = "5.0.0", Complexity = "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
            Syntax = "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
        },
        new("xinfo", -2, null)
        {
            Acl = "@slow", Since = "5.0.0", Complexity = "Depends on subcommand.", Summary = "A container for stream introspection commands",
            Subcommands =
            [
                new("xinfo|stream", -3, XinfoStream)
                {
                    Flags = CommandFlags.ReadOnly, Keys = (2, 2, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow", Since = "5.0.0",
                    Summary = "Get information about a stream", Complexity = "O(1)", Syntax = "key [FULL [COUNT count]]",
                },
                new("xinfo|help", 2, XinfoHelp)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@stream @slow", Since = "5.0.0", Complexity = "O(1)",
                    Summary = "Show helpful text about the different subcommands",
                },
                .. XinfoGroupSubcommands,
            ],
        },
    ];

    // ---- shared helpers (the group commands use them too) ----

    /// <summary>
    /// The stream at argument <paramref name="keyArg"/> for a write: false after WRONGTYPE; null stream when absent.
    /// </summary>
    internal static bool TryFindStream(Session s, ReadOnlySpan<byte> key, bool forRead, out int index, out StreamValue? stream) =>
        CollectionCommandHelpers.TryFind(s, key, forRead, out index, out stream);

    /// <summary>
    /// Redis's streamGenericParseIDOrReply: "-" / "+" (unless <paramref name="strict"/>), "ms", "ms-seq", and with
    /// <paramref name="allowSeqStar"/> "ms-*" (<paramref name="seqGiven"/> false). False after the error reply.
    /// </summary>
    internal static bool TryParseId(Session? s, ReadOnlySpan<byte> text, ulong missingSeq, bool strict, out StreamId id, bool allowSeqStar, out bool seqGiven)
    {
        id = default;
        seqGiven = true;
        if (text.Length > 127)
        {
            return Invalid(s);
        }
        if (text.Length == 1 && text[0] is (byte)'-' or (byte)'+')
        {
            if (strict)
            {
                return Invalid(s);
            }
            id = text[0] == '-' ? StreamId.Min : StreamId.Max;
            return true;
        }
        int dash = text.IndexOf((byte)'-');
        if (allowSeqStar && dash >= 0 && text.Length == dash + 2 && text[dash + 1] == '*')
        {
            if (!StreamId.TryParse(text[..dash], 0, out id))
            {
                return Invalid(s);
            }
            seqGiven = false;
            return true;
        }
        if (!StreamId.TryParse(text, missingSeq, out id))
        {
            return Invalid(s);
        }
        return true;

        static bool Invalid(Session? s)
        {
            s?.Reply.WriteError(InvalidId);
            return false;
        }
    }

    /// <summary>streamParseStrictIDOrReply without the "ms-*" form.</summary>
    internal static bool TryParseStrictId(Session s, ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id) =>
        TryParseId(s, text, missingSeq, strict: true, out id, allowSeqStar: false, out _);

    /// <summary>Redis's streamParseIntervalIDOrReply: "(" makes the bound exclusive (and the ID strict).</summary>
    private static bool TryParseIntervalId(Session s, ReadOnlySpan<byte> text, ulong missingSeq, out StreamId id, out bool exclusive)
    {
        exclusive = text.Length > 1 && text[0] == '(';
        return exclusive
            ? TryParseId(s, text[1..], missingSeq, strict: true, out id, allowSeqStar: false, out _)
            : TryParseId(s, text, missingSeq, strict: false, out id, allowSeqStar: false, out _);
    }

    /// <summary>Writes an ID as a bulk string.</summary>
    internal static void WriteId(ReplyWriter reply, StreamId id)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxTextLength];
        reply.WriteBulk(text[..id.Format(text)]);
    }

    /// <summary>An ID as bytes (for propagation and stored arguments).</summary>
    internal static byte[] IdBytes(StreamId id)
    {
        Span<byte> text = stackalloc byte[StreamId.MaxTextLength];
        return text[..id.Format(text)].ToArray();
    }

    /// <summary>Writes the current entry of <paramref name="e"/>: [id, [field, value, ...]].</summary>
    internal static void WriteEntry(ReplyWriter reply, ref StreamValue.Enumerator e)
    {
        reply.WriteArrayHeader(2);
        WriteId(reply, e.Id);
        int n = e.FieldCount;
        reply.WriteArrayHeader(n * 2);
        for (int i = 0; i < n; i++)
        {
            e.ReadPair(out var field, out var value);
            reply.WriteBulk(field);
            reply.WriteBulk(value);
        }
    }

    /// <summary>
    /// Writes up to <paramref name="count"/> entries (0: all) from <paramref name="start"/> to <paramref name="end"/>
    /// as an array (Redis's streamReplyWithRange without groups); returns how many.
    /// </summary>
    internal static long WriteRange(ReplyWriter reply, StreamValue stream, StreamId start, StreamId end, long count, bool reverse)
    {
        // The count is known only after the walk: count first, then write (entries are read in place, twice).
        var counter = stream.Range(start, end, reverse);
        long n = 0;
        while ((count == 0 || n < count) && counter.MoveNext())
        {
            n++;
        }
        reply.WriteArrayHeader((int)n);
        var e = stream.Range(start, end, reverse);
        for (long i = 0; i < n && e.MoveNext(); i++)
        {
            WriteEntry(reply, ref e);
        }
        return n;
    }

    // ---- XADD / XTRIM ----

    /// <summary>The parsed options of XADD / XTRIM (Redis's streamAddTrimArgs).</summary>
    private struct AddTrimArgs
    {
        public StreamTrimArgs Trim;
        public bool HasTrim;
        public int TrimArgIndex;
        public bool NoMkStream;
        public bool IdGiven;
        public bool SeqGiven;
        public StreamId Id;
    }

    /// <summary>Redis's streamParseAddOrTrimArgsOrReply: the position of the ID (XADD) or past the options; -1 after the error reply.</summary>
    private static int ParseAddOrTrimArgs(Session s, ArgList a, bool xadd, out AddTrimArgs args)
    {
        args = default;
        bool limitGiven = false;
        bool approx = false;
        long limit = 0, maxLen = 0;
        StreamId minId = default;
        bool byMinId = false;
        int i = 2;
        for (; i < a.Count; i++)
        {
            int moreArgs = a.Count - 1 - i;
            var opt = a[i];
            if (xadd && opt.Length == 1 && opt[0] == '*')
            {
                break;
            }
            if ((a.Is(i, "MAXLEN"u8) || a.Is(i, "MINID"u8)) && moreArgs > 0)
            {
                bool minid = a.Is(i, "MINID"u8);
                if (args.HasTrim)
                {
                    s.Reply.WriteError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
                    return -1;
                }
                approx = false;
                var next = a[i + 1];
                if (moreArgs >= 2 && next.Length == 1 && next[0] == '~')
                {
                    approx = true;
                    i++;
                }
                else if (moreArgs >= 2 && next.Length == 1 && next[0] == '=')
                {
                    i++;
                }
                if (minid)
                {
                    if (!TryParseStrictId(s, a[i + 1], 0, out minId))
                    {
                        return -1;
                    }
                }
                else
                {
                    if (!NumberFormat.TryParseInt64(a[i + 1], out maxLen))
                    {
                        s.Reply.WriteError(Errors.NotInteger);
                        return -1;
                    }
                    if (maxLen < 0)
                    {
                        s.Reply.WriteError("ERR The MAXLEN argument must be >= 0.");
                        return -1;
                    }
                }
                i++;
                byMinId = minid;
                args.HasTrim = true;
                args.TrimArgIndex = i;
            }
            else if (a.Is(i, "LIMIT"u8) && moreArgs > 0)
            {
                if (!NumberFormat.TryParseInt64(a[i + 1], out limit))
                {
                    s.Reply.WriteError(Errors.NotInteger);
                    return -1;
                }
                if (limit < 0)
                {
                    s.Reply.WriteError("ERR The LIMIT argument must be >= 0.");
                    return -1;
                }
                limitGiven = true;
                i++;
            }
            else if (xadd && a.Is(i, "NOMKSTREAM"u8))
            {
                args.NoMkStream = true;
            }
            else if (xadd)
            {
                if (!TryParseId(s, opt, 0, strict: true, out args.Id, allowSeqStar: true, out args.SeqGiven))
                {
                    return -1;
                }
                args.IdGiven = true;
                break;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return -1;
            }
        }
        if (limit != 0 && !args.HasTrim)
        {
            s.Reply.WriteError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
            return -1;
        }
        if (!xadd && !args.HasTrim)
        {
            s.Reply.WriteError("ERR syntax error, XTRIM must be called with a trimming strategy");
            return -1;
        }
        if (s.IsMaster)
        {
            // The master rewrote "~" trims to exact ones; a replica must not stop early.
            limit = 0;
        }
        else if (limitGiven)
        {
            if (!approx)
            {
                s.Reply.WriteError("ERR syntax error, LIMIT cannot be used without the special ~ option");
                return -1;
            }
        }
        else
        {
            limit = approx ? 100 * s.Keyspace.EncodingLimits.StreamNodeMaxEntries : 0;
        }
        args.Trim = new StreamTrimArgs(byMinId, maxLen, minId, approx, limit);
        return i;
    }

    private static void Xadd(Session s, ArgList a)
    {
        int idPos = ParseAddOrTrimArgs(s, a, xadd: true, out var args);
        if (idPos < 0)
        {
            return;
        }
        int fieldPos = idPos + 1;
        int pairsArgs = a.Count - fieldPos;
        if (pairsArgs < 2 || pairsArgs % 2 == 1)
        {
            s.Reply.WriteError(Errors.WrongArgs("xadd"));
            return;
        }
        if (args.IdGiven && args.SeqGiven && args.Id == StreamId.Min)
        {
            s.Reply.WriteError("ERR The ID specified in XADD must be greater than 0-0");
            return;
        }
        if (!TryFindStream(s, a[1], forRead: false, out int index, out var stream))
        {
            return;
        }
        var db = s.Db;
        if (stream is null)
        {
            if (args.NoMkStream)
            {
                s.Reply.WriteNullBulk();
                return;
            }
            stream = new StreamValue(s.Keyspace.EncodingLimits);
        }
        else if (stream.LastId == StreamId.Max)
        {
            s.Reply.WriteError("ERR The stream has exhausted the last possible ID, unable to add more items");
            return;
        }
        // streamAppendItem's ID choice and checks.
        StreamId id;
        bool ok = true;
        if (args.IdGiven)
        {
            if (args.SeqGiven)
            {
                id = args.Id;
            }
            else if (stream.LastId.Ms == args.Id.Ms)
            {
                ok = stream.LastId.TryIncrement(out id) && stream.LastId.Seq != ulong.MaxValue;
            }
            else
            {
                id = args.Id;
            }
        }
        else
        {
            ulong now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            if (now > stream.LastId.Ms)
            {
                id = new StreamId(now, 0);
            }
            else
            {
                ok = stream.LastId.TryIncrement(out id);
            }
        }
        if (!ok || id <= stream.LastId)
        {
            s.Reply.WriteError("ERR The ID specified in XADD is equal or smaller than the target stream top item");
            return;
        }
        long total = 0;
        for (int i = fieldPos; i < a.Count; i++)
        {
            total += a[i].Length;
        }
        if (total > 1 << 30)
        {
            s.Reply.WriteError("ERR Elements are too large to be stored");
            return;
        }
        if (index < 0)
        {
            index = db.Add(a.Detach(1), stream);
        }
        stream.Append(id, a, fieldPos, pairsArgs / 2);
        WriteId(s.Reply, id);
        db.SignalGrown(a[1]);
        db.Notify(KeyspaceEventTypes.Stream, "xadd"u8, a[1]);
        db.CountChanges(1);
        bool rewriteTrim = false;
        if (args.HasTrim)
        {
            if (stream.Trim(args.Trim) > 0)
            {
                db.Notify(KeyspaceEventTypes.Stream, "xtrim"u8, a[1]);
            }
            rewriteTrim = args.Trim.Approx;
        }
        if (rewriteTrim || !args.IdGiven || !args.SeqGiven)
        {
            RewriteForPropagation(s, a, "XADD"u8, stream, rewriteTrim ? args : default, rewriteTrim, idPos, id);
        }
    }

    /// <summary>
    /// Propagates the command with the ID actually used (<paramref name="idPos"/>, XADD) and, after an approximate trim,
    /// "=" for "~" and the exact threshold reached (Redis's streamRewriteApproxSpecifier / streamRewriteTrimArgument).
    /// </summary>
    private static void RewriteForPropagation(Session s, ArgList a, ReadOnlySpan<byte> name, StreamValue stream, in AddTrimArgs args, bool rewriteTrim, int idPos, StreamId id)
    {
        if (s.Server.Propagator.Rewrite(name) is not { } command)
        {
            return;
        }
        for (int i = 1; i < a.Count; i++)
        {
            if (rewriteTrim && i == args.TrimArgIndex - 1)
            {
                command.Add("="u8);
            }
            else if (rewriteTrim && i == args.TrimArgIndex)
            {
                if (args.Trim.ByMinId)
                {
                    command.Add(IdBytes(stream.FirstEntryIdIncludingDeleted()));
                }
                else
                {
                    command.Add(System.Text.Encoding.ASCII.GetBytes(stream.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                }
            }
            else if (i == idPos)
            {
                command.Add(IdBytes(id));
            }
            else
            {
                command.Add(a[i]);
            }
        }
    }

    private static void Xtrim(Session s, ArgList a)
    {
        if (ParseAddOrTrimArgs(s, a, xadd: false, out var args) < 0)
        {
            return;
        }
        if (!TryFindStream(s, a[1], forRead: false, out _, out var stream))
        {
            return;
        }
        if (stream is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        long deleted = stream.Trim(args.Trim);
        if (deleted > 0)
        {
            s.Db.Notify(KeyspaceEventTypes.Stream, "xtrim"u8, a[1]);
            if (args.Trim.Approx)
            {
                RewriteForPropagation(s, a, "XTRIM"u8, stream, args, rewriteTrim: true, idPos: -1, default);
            }
            s.Db.SignalModified(a[1]);
            s.Db.CountChanges(deleted);
        }
        s.Reply.WriteInteger(deleted);
    }

    // ---- reads ----

    private static void Xrange(Session s, ArgList a, bool reverse)
    {
        var startArg = reverse ? a[3] : a[2];
        var endArg = reverse ? a[2] : a[3];
        if (!TryParseIntervalId(s, startArg, 0, out var start, out bool startExclusive))
        {
            return;
        }
        if (startExclusive && !start.TryIncrement(out start))
        {
            s.Reply.WriteError("ERR invalid start ID for the interval");
            return;
        }
        if (!TryParseIntervalId(s, endArg, ulong.MaxValue, out var end, out bool endExclusive))
        {
            return;
        }
        if (endExclusive && !end.TryDecrement(out end))
        {
            s.Reply.WriteError("ERR invalid end ID for the interval");
            return;
        }
        long count = -1;
        for (int j = 4; j < a.Count; j++)
        {
            if (a.Is(j, "COUNT"u8) && j + 1 < a.Count)
            {
                if (!NumberFormat.TryParseInt64(a[j + 1], out count))
                {
                    s.Reply.WriteError(Errors.NotInteger);
                    return;
                }
                if (count < 0)
                {
                    count = 0;
                }
                j++;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (!TryFindStream(s, a[1], forRead: true, out _, out var stream))
        {
            return;
        }
        if (stream is null)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        if (count == 0)
        {
            s.Reply.WriteNullArray();
            return;
        }
        WriteRange(s.Reply, stream, start, end, count == -1 ? 0 : count, reverse);
    }

    private static void Xlen(Session s, ArgList a)
    {
        if (TryFindStream(s, a[1], forRead: true, out _, out var stream))
        {
            s.Reply.WriteInteger(stream?.Length ?? 0);
        }
    }

    // ---- XDEL / XSETID ----

    private static void Xdel(Session s, ArgList a)
    {
        if (!TryFindStream(s, a[1], forRead: false, out _, out var stream))
        {
            return;
        }
        if (stream is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        // Every ID is checked before anything is deleted.
        var ids = new StreamId[a.Count - 2];
        for (int j = 2; j < a.Count; j++)
        {
            if (!TryParseStrictId(s, a[j], 0, out ids[j - 2]))
            {
                return;
            }
        }
        long deleted = 0;
        foreach (var id in ids)
        {
            if (stream.Delete(id))
            {
                if (id > stream.MaxDeletedEntryId)
                {
                    stream.MaxDeletedEntryId = id;
                }
                deleted++;
            }
        }
        if (deleted > 0)
        {
            s.Db.SignalModified(a[1]);
            s.Db.Notify(KeyspaceEventTypes.Stream, "xdel"u8, a[1]);
            s.Db.CountChanges(deleted);
        }
        s.Reply.WriteInteger(deleted);
    }

    private static void Xsetid(Session s, ArgList a)
    {
        if (!TryParseStrictId(s, a[2], 0, out var id))
        {
            return;
        }
        long entriesAdded = -1;
        StreamId maxDeleted = StreamId.Min;
        for (int i = 3; i < a.Count;)
        {
            bool more = i < a.Count - 1;
            if (a.Is(i, "ENTRIESADDED"u8) && more)
            {
                if (!NumberFormat.TryParseInt64(a[i + 1], out entriesAdded))
                {
                    s.Reply.WriteError(Errors.NotInteger);
                    return;
                }
                if (entriesAdded < 0)
                {
                    s.Reply.WriteError("ERR entries_added must be positive");
                    return;
                }
                i += 2;
            }
            else if (a.Is(i, "MAXDELETEDID"u8) && more)
            {
                if (!TryParseStrictId(s, a[i + 1], 0, out maxDeleted))
                {
                    return;
                }
                if (id < maxDeleted)
                {
                    s.Reply.WriteError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                    return;
                }
                i += 2;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (!TryFindStream(s, a[1], forRead: false, out _, out var stream))
        {
            return;
        }
        if (stream is null)
        {
            s.Reply.WriteError(Errors.NoSuchKey);
            return;
        }
        if (stream.Length > 0)
        {
            var last = stream.Range(StreamId.Min, StreamId.Max, reverse: true);
            last.MoveNext();
            if (id < last.Id)
            {
                s.Reply.WriteError("ERR The ID specified in XSETID is smaller than the target stream top item");
                return;
            }
            if (entriesAdded != -1 && stream.Length > entriesAdded)
            {
                s.Reply.WriteError("ERR The entries_added specified in XSETID is smaller than the target stream length");
                return;
            }
        }
        stream.LastId = id;
        if (entriesAdded != -1)
        {
            stream.EntriesAdded = (ulong)entriesAdded;
        }
        if (maxDeleted != StreamId.Min)
        {
            stream.MaxDeletedEntryId = maxDeleted;
        }
        s.Reply.WriteOk();
        s.Db.SignalModified(a[1]);
        s.Db.Notify(KeyspaceEventTypes.Stream, "xsetid"u8, a[1]);
        s.Db.CountChanges(1);
    }
}
