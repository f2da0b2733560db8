using CacheOperator.Node.Protocol;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Commands;

/// <summary>
/// The consumer-group part of the stream family (Redis 7.0's t_stream.c): XGROUP, XREADGROUP (blocking too), XACK,
/// XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS / CONSUMERS and the groups of XINFO STREAM FULL, over
/// <see cref="StreamConsumerGroup"/>. What they change goes to replicas as Redis sends it: XREADGROUP and XAUTOCLAIM
/// as XCLAIM ... FORCE JUSTID LASTID, plus XGROUP SETID / CREATECONSUMER where Redis adds them.
/// </summary>
internal static partial class StreamCommands
{
    /// <summary>XREADGROUP BLOCK without COUNT serves at most this many entries (Redis's XREAD_BLOCKED_DEFAULT_COUNT).</summary>
    private const long BlockedDefaultCount = 1000;

    /// <summary>XAUTOCLAIM examines at most COUNT times this many pending entries (Redis's attempts_factor).</summary>
    private const long AutoclaimAttemptsFactor = 10;

    private static IEnumerable<CommandSpec> GroupCommands =>
    [
        new("xgroup", -2, null)
        {
            Acl = "@slow", Since = "5.0.0", Complexity = "Depends on subcommand.", Summary = "A container for consumer groups commands",
            Subcommands =
            [
                new("xgroup|create", -5, XgroupCreate)
                {
                    Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (2, 2, 1), KeySpecFlags = "RW insert", Acl = "@write @stream @slow",
                    Since = "5.0.0", Summary = "Create a consumer group.", Complexity = "O(1)",
                    Syntax = "key groupname id | $ [MKSTREAM] [ENTRIESREAD entries_read]",
                },
                new("xgroup|setid", -5, XgroupSetid)
                {
                    Flags = CommandFlags.Write, Keys = (2, 2, 1), KeySpecFlags = "RW update", Acl = "@write @stream @slow",
                    Since = "5.0.0", Summary = "Set a consumer group to an arbitrary last delivered ID value.", Complexity = "O(1)",
                    Syntax = "key groupname id | $ [ENTRIESREAD entries_read]",
                },
                new("xgroup|destroy", 4, XgroupDestroy)
                {
                    Flags = CommandFlags.Write, Keys = (2, 2, 1), KeySpecFlags = "RW delete", Acl = "@write @stream @slow",
                    Since = "5.0.0", Summary = "Destroy a consumer group.",
                    Complexity = "O(N) where N is the number of entries in the group's pending entries list (PEL).",
                    Syntax = "key groupname",
                },
                new("xgroup|createconsumer", 5, XgroupCreateConsumer)
                {
                    Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (2, 2, 1), KeySpecFlags = "RW insert", Acl = "@write @stream @slow",
                    Since = "6.2.0", Summary = "Create a consumer in a consumer group.", Complexity = "O(1)",
                    Syntax = "key groupname consumername",
                },
                new("xgroup|delconsumer", 5, XgroupDelConsumer)
                {
                    Flags = CommandFlags.Write, Keys = (2, 2, 1), KeySpecFlags = "RW delete", Acl = "@write @stream @slow",
                    Since = "5.0.0", Summary = "Delete a consumer from a consumer group.", Complexity = "O(1)",
                    Syntax = "key groupname consumername",
                },
                new("xgroup|help", 2, XgroupHelp)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@stream @slow", Since = "5.0.0", Complexity = "O(1)",
                    Summary = "Show helpful text about the different subcommands",
                },
            ],
        },
        new("xreadgroup", -7, Xreadgroup)
        {
            Flags = CommandFlags.Write | CommandFlags.Blocking, Acl = "@write @stream @slow @blocking",
            KeySpecs = [KeySpec.KeywordRange("RO access", "STREAMS", 4, -1, 1, 2)],
            GetKeysProcedure = XreadKeys,
            Summary = "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.",
            Since = "5.0.0",
            Complexity = "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
            Syntax = "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]",
        },
        new("xack", -4, Xack)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW update", Acl = "@write @stream @fast",
            Summary = "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.",
            Since = "5.0.0", Complexity = "O(1) for each message ID processed.", Syntax = "key group id [id ...]",
        },
        new("xpending", -3, Xpending)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow", Tips = "nondeterministic_output",
            Summary = "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.",
            Since = "5.0.0",
            Complexity = "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
            Syntax = "key group [[IDLE min-idle-time] start end count [consumer]]",
        },
        new("xclaim", -6, Xclaim)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW update", Acl = "@write @stream @fast", Tips = "nondeterministic_output",
            Summary = "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.",
            Since = "5.0.0", Complexity = "O(log N) with N being the number of messages in the PEL of the consumer group.",
            Syntax = "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]",
        },
        new("xautoclaim", -6, Xautoclaim)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @stream @fast", Tips = "nondeterministic_output",
            Summary = "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.",
            Since = "6.2.0", Complexity = "O(1) if COUNT is small.", Syntax = "key group consumer min-idle-time start [COUNT count] [JUSTID]",
        },
    ];

    private static IEnumerable<CommandSpec> XinfoGroupSubcommands =>
    [
        new("xinfo|groups", 3, XinfoGroups)
        {
            Flags = CommandFlags.ReadOnly, Keys = (2, 2, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow", Since = "5.0.0",
            Summary = "List the consumer groups of a stream", Complexity = "O(1)", Syntax = "key",
        },
        new("xinfo|consumers", 4, XinfoConsumers)
        {
            Flags = CommandFlags.ReadOnly, Keys = (2, 2, 1), KeySpecFlags = "RO access", Acl = "@read @stream @slow", Tips = "nondeterministic_output",
            Since = "5.0.0", Summary = "List the consumers in a consumer group", Complexity = "O(1)", Syntax = "key groupname",
        },
    ];

    // ---- XGROUP ----

    /// <summary>Redis's addReplySubcommandSyntaxError for XGROUP.</summary>
    private static void XgroupSyntaxError(Session s, ArgList a)
    {
        string sub = a.GetString(1);
        s.Reply.WriteError($"ERR unknown subcommand or wrong number of arguments for '{(sub.Length > 128 ? sub[..128] : sub)}'. Try XGROUP HELP.");
    }

    /// <summary>
    /// What every XGROUP subcommand but HELP does first (xgroupCommand's prologue): the stream (WRONGTYPE, or the
    /// "requires the key" error unless <paramref name="mkstream"/>), then the group when <paramref name="groupRequired"/>.
    /// False after the error reply.
    /// </summary>
    private static bool TryXgroupTarget(Session s, ArgList a, bool mkstream, bool groupRequired, out StreamValue? stream, out StreamConsumerGroup? group)
    {
        group = null;
        if (!TryFindStream(s, a[2], forRead: false, out _, out stream))
        {
            return false;
        }
        if (stream is null)
        {
            if (mkstream)
            {
                return true;
            }
            s.Reply.WriteError("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.");
            return false;
        }
        group = FindGroup(stream, a[3]);
        if (group is null && groupRequired)
        {
            s.Reply.WriteError($"NOGROUP No such consumer group '{a.GetString(3)}' for key name '{a.GetString(2)}'");
            return false;
        }
        return true;
    }

    /// <summary>
    /// The stream at argument 1 and its group named by argument 2 (XPENDING, XCLAIM, XAUTOCLAIM): false after WRONGTYPE
    /// or Redis's NOGROUP error.
    /// </summary>
    private static bool TryFindGroup(Session s, ArgList a, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StreamValue? stream,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StreamConsumerGroup? group)
    {
        group = null;
        if (!TryFindStream(s, a[1], forRead: true, out _, out stream))
        {
            return false;
        }
        if (stream is null || (group = FindGroup(stream, a[2])) is null)
        {
            s.Reply.WriteError($"NOGROUP No such key '{a.GetString(1)}' or consumer group '{a.GetString(2)}'");
            return false;
        }
        return true;
    }

    /// <summary>The group named <paramref name="name"/> of <paramref name="stream"/>, or null.</summary>
    private static StreamConsumerGroup? FindGroup(StreamValue stream, ReadOnlySpan<byte> name) =>
        stream.Groups.Count > 0 && stream.Groups.TryGetValue(name.ToArray(), out var group) ? group : null;

    /// <summary>ENTRIESREAD's value: a count, or -1 for unknown; false after the error reply.</summary>
    private static bool TryParseEntriesRead(Session s, ReadOnlySpan<byte> text, out long entriesRead)
    {
        if (!s.TryParseLong(text, out entriesRead))
        {
            return false;
        }
        if (entriesRead < 0 && entriesRead != StreamConsumerGroup.InvalidEntriesRead)
        {
            s.Reply.WriteError("ERR value for ENTRIESREAD must be positive or -1");
            return false;
        }
        return true;
    }

    private static void XgroupCreate(Session s, ArgList a)
    {
        bool mkstream = false;
        long entriesRead = StreamConsumerGroup.InvalidEntriesRead;
        for (int i = 5; i < a.Count; i++)
        {
            if (a.Is(i, "MKSTREAM"u8))
            {
                mkstream = true;
            }
            else if (a.Is(i, "ENTRIESREAD"u8) && i + 1 < a.Count)
            {
                if (!TryParseEntriesRead(s, a[++i], out entriesRead))
                {
                    return;
                }
            }
            else
            {
                XgroupSyntaxError(s, a);
                return;
            }
        }
        if (!TryXgroupTarget(s, a, mkstream, groupRequired: false, out var stream, out var existing))
        {
            return;
        }
        if (a.Count > 8)
        {
            XgroupSyntaxError(s, a);
            return;
        }
        StreamId id;
        if (a[4].SequenceEqual("$"u8))
        {
            id = stream?.LastId ?? StreamId.Min;
        }
        else if (!TryParseStrictId(s, a[4], 0, out id))
        {
            return;
        }
        var db = s.Db;
        if (stream is null)
        {
            stream = new StreamValue(s.Keyspace.EncodingLimits);
            db.Add(a.Detach(2), stream);
        }
        if (existing is not null)
        {
            s.Reply.WriteError("BUSYGROUP Consumer Group name already exists");
            return;
        }
        var group = new StreamConsumerGroup(a[3].ToArray(), id, entriesRead);
        stream.Groups.Add(group.Name, group);
        GroupChanged(s, 1);
        db.Notify(KeyspaceEventTypes.Stream, "xgroup-create"u8, a[2]);
        s.Reply.WriteOk();
    }

    private static void XgroupSetid(Session s, ArgList a)
    {
        if (!TryXgroupTarget(s, a, mkstream: false, groupRequired: true, out var stream, out var group))
        {
            return;
        }
        if (a.Count != 5 && a.Count != 7)
        {
            XgroupSyntaxError(s, a);
            return;
        }
        StreamId id;
        if (a[4].SequenceEqual("$"u8))
        {
            id = stream!.LastId;
        }
        else if (!TryParseId(s, a[4], 0, strict: false, out id, allowSeqStar: false, out _))
        {
            return;
        }
        long entriesRead = StreamConsumerGroup.InvalidEntriesRead;
        if (a.Count == 7)
        {
            if (!a.Is(5, "ENTRIESREAD"u8))
            {
                XgroupSyntaxError(s, a);
                return;
            }
            if (!TryParseEntriesRead(s, a[6], out entriesRead))
            {
                return;
            }
        }
        group!.LastDeliveredId = id;
        group.EntriesRead = entriesRead;
        GroupChanged(s, 1);
        s.Db.Notify(KeyspaceEventTypes.Stream, "xgroup-setid"u8, a[2]);
        s.Reply.WriteOk();
    }

    private static void XgroupDestroy(Session s, ArgList a)
    {
        if (!TryXgroupTarget(s, a, mkstream: false, groupRequired: false, out var stream, out var group))
        {
            return;
        }
        if (group is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        stream!.Groups.Remove(group.Name);
        GroupChanged(s, 1);
        s.Db.Notify(KeyspaceEventTypes.Stream, "xgroup-destroy"u8, a[2]);
        // Clients blocked in XREADGROUP on this group are answered -NOGROUP (the key is not modified for WATCH).
        s.Server.Blocking.SignalReady(s.Db, a[2]);
        s.Reply.WriteInteger(1);
    }

    private static void XgroupCreateConsumer(Session s, ArgList a)
    {
        if (!TryXgroupTarget(s, a, mkstream: false, groupRequired: true, out _, out var group))
        {
            return;
        }
        var created = CreateConsumer(s.Db, a[2], group!, a[4]);
        if (created is not null)
        {
            s.Server.Propagator.Force();
        }
        s.Reply.WriteInteger(created is null ? 0 : 1);
    }

    private static void XgroupDelConsumer(Session s, ArgList a)
    {
        if (!TryXgroupTarget(s, a, mkstream: false, groupRequired: true, out _, out var group))
        {
            return;
        }
        long pending = 0;
        if (group!.FindConsumer(a[4]) is { } consumer)
        {
            pending = group.DeleteConsumer(consumer);
            GroupChanged(s, 1);
            s.Db.Notify(KeyspaceEventTypes.Stream, "xgroup-delconsumer"u8, a[2]);
        }
        s.Reply.WriteInteger(pending);
    }

    private static void XgroupHelp(Session s, ArgList a) => HelpReply.Write(s, "XGROUP",
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.");

    /// <summary>
    /// A group command changed group state: Redis's server.dirty += <paramref name="dirty"/>, and the command itself
    /// goes to replicas (group changes do not touch the key for WATCH, as in Redis).
    /// </summary>
    private static void GroupChanged(Session s, long dirty)
    {
        s.Db.CountChanges(dirty);
        s.Server.Propagator.Force();
    }

    /// <summary>Redis's streamCreateConsumer with SCC_DEFAULT: counted dirty and notified; null when it exists.</summary>
    private static StreamConsumer? CreateConsumer(Database db, ReadOnlySpan<byte> key, StreamConsumerGroup group, ReadOnlySpan<byte> name)
    {
        var consumer = group.CreateConsumer(name, db.Keyspace.NowMs);
        if (consumer is not null)
        {
            db.CountChanges(1);
            db.Notify(KeyspaceEventTypes.Stream, "xgroup-createconsumer"u8, key);
        }
        return consumer;
    }

    /// <summary>Redis's streamLookupConsumer with SLC_DEFAULT (refreshing its seen time), creating it when absent.</summary>
    private static StreamConsumer LookupOrCreateConsumer(Database db, ReadOnlySpan<byte> key, StreamConsumerGroup group, ReadOnlySpan<byte> name, out bool created)
    {
        if (group.FindConsumer(name) is { } consumer)
        {
            consumer.SeenTimeMs = db.Keyspace.NowMs;
            created = false;
            return consumer;
        }
        created = true;
        return CreateConsumer(db, key, group, name)!;
    }

    // ---- XREADGROUP ----

    /// <summary>
    /// The consumer an XREADGROUP serves, created when new; a consumer created by a NOACK read goes to replicas as
    /// XGROUP CREATECONSUMER (without NOACK, the XCLAIMs of its deliveries create it there), as Redis.
    /// </summary>
    private static StreamConsumer ConsumerForRead(Database db, Propagator propagator, ReadOnlySpan<byte> key, StreamConsumerGroup group,
        ReadOnlySpan<byte> groupName, ReadOnlySpan<byte> consumerName, bool noack)
    {
        var consumer = LookupOrCreateConsumer(db, key, group, consumerName, out bool created);
        if (created && noack)
        {
            propagator.Also(db, "XGROUP"u8)?.Add("CREATECONSUMER"u8).Add(key).Add(groupName).Add(consumer.Name);
        }
        return consumer;
    }

    /// <summary>The outer header of an XREAD / XREADGROUP reply: an array of [key, entries] pairs in RESP2, a map in RESP3.</summary>
    private static void WriteStreamsHeader(ReplyWriter reply, int streams)
    {
        if (reply.Protocol == 2)
        {
            reply.WriteArrayHeader(streams);
        }
        else
        {
            reply.WriteMapHeader(streams);
        }
    }

    /// <summary>The key of one stream in an XREAD / XREADGROUP reply (a pair's first item in RESP2, a map key in RESP3).</summary>
    private static void WriteStreamKey(ReplyWriter reply, ReadOnlySpan<byte> key)
    {
        if (reply.Protocol == 2)
        {
            reply.WriteArrayHeader(2);
        }
        reply.WriteBulk(key);
    }

    /// <summary>The options of XREAD and XREADGROUP, parsed by <see cref="TryParseReadOptions"/>.</summary>
    private struct ReadOptions
    {
        /// <summary>COUNT (0: no limit).</summary>
        public long Count;

        /// <summary>BLOCK in milliseconds; -1 without BLOCK.</summary>
        public long TimeoutMs;

        /// <summary>NOACK (XREADGROUP only).</summary>
        public bool NoAck;

        /// <summary>Position of GROUP's group name (XREADGROUP only; the consumer follows it).</summary>
        public int GroupArg;

        /// <summary>Position of the first key after STREAMS.</summary>
        public int StreamsArg;

        /// <summary>How many keys (and as many IDs) follow STREAMS.</summary>
        public int StreamCount;
    }

    /// <summary>
    /// The option loop Redis's xreadCommand runs for both XREAD and XREADGROUP (<paramref name="group"/>), with its
    /// errors in its order; false after the error reply.
    /// </summary>
    private static bool TryParseReadOptions(Session s, ArgList a, bool group, out ReadOptions options)
    {
        options = new ReadOptions { TimeoutMs = -1 };
        for (int i = 1; i < a.Count; i++)
        {
            int more = a.Count - i - 1;
            if (a.Is(i, "BLOCK"u8) && more > 0)
            {
                if (s.IsScript)
                {
                    s.Reply.WriteError($"ERR {a.GetString(0)} command is not allowed with BLOCK option from scripts");
                    return false;
                }
                // Redis's getTimeoutFromObjectOrReply in milliseconds.
                if (!s.TryParseLong(a[++i], out options.TimeoutMs, "ERR timeout is not an integer or out of range"))
                {
                    return false;
                }
                if (options.TimeoutMs < 0)
                {
                    s.Reply.WriteError("ERR timeout is negative");
                    return false;
                }
            }
            else if (a.Is(i, "COUNT"u8) && more > 0)
            {
                if (!s.TryParseLong(a[++i], out options.Count))
                {
                    return false;
                }
                options.Count = Math.Max(options.Count, 0);
            }
            else if (a.Is(i, "STREAMS"u8) && more > 0)
            {
                options.StreamsArg = i + 1;
                options.StreamCount = a.Count - options.StreamsArg;
                if (options.StreamCount % 2 != 0)
                {
                    s.Reply.WriteError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
                    return false;
                }
                options.StreamCount /= 2;
                break;
            }
            else if (a.Is(i, "GROUP"u8) && more >= 2)
            {
                if (!group)
                {
                    s.Reply.WriteError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                    return false;
                }
                options.GroupArg = i + 1;
                i += 2;
            }
            else if (a.Is(i, "NOACK"u8))
            {
                if (!group)
                {
                    s.Reply.WriteError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                    return false;
                }
                options.NoAck = true;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return false;
            }
        }
        if (options.StreamsArg == 0)
        {
            s.Reply.WriteError(Errors.Syntax);
            return false;
        }
        if (group && options.GroupArg == 0)
        {
            s.Reply.WriteError("ERR Missing GROUP option for XREADGROUP");
            return false;
        }
        return true;
    }

    private static void Xreadgroup(Session s, ArgList a)
    {
        if (!TryParseReadOptions(s, a, group: true, out var options))
        {
            return;
        }
        // Each stream's group and the ID after which to read (StreamId.Max standing for ">").
        int streamsArg = options.StreamsArg, streamCount = options.StreamCount, groupArg = options.GroupArg;
        var groupName = a[groupArg];
        var groups = new StreamConsumerGroup[streamCount];
        var ids = new StreamId[streamCount];
        for (int i = 0; i < streamCount; i++)
        {
            int keyArg = streamsArg + i;
            int idArg = keyArg + streamCount;
            if (!TryFindStream(s, a[keyArg], forRead: true, out _, out var stream))
            {
                return;
            }
            if (stream is null || FindGroup(stream, groupName) is not { } group)
            {
                s.Reply.WriteError($"NOGROUP No such key '{a.GetString(keyArg)}' or consumer group '{a.GetString(groupArg)}' in XREADGROUP with GROUP option");
                return;
            }
            groups[i] = group;
            if (a[idArg].SequenceEqual("$"u8))
            {
                s.Reply.WriteError("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.");
                return;
            }
            if (a[idArg].SequenceEqual(">"u8))
            {
                ids[i] = StreamId.Max;
            }
            else if (!TryParseStrictId(s, a[idArg], 0, out ids[i]))
            {
                return;
            }
        }

        // Serve synchronously every stream with history asked for or new entries for the group.
        var db = s.Db;
        var reply = s.Reply;
        int served = 0;
        for (int i = 0; i < streamCount; i++)
        {
            int keyArg = streamsArg + i;
            var stream = (StreamValue)db.Table[db.Find(a[keyArg], touch: false)].Value!;
            var group = groups[i];
            bool history = ids[i] != StreamId.Max;
            StreamId after;
            if (history)
            {
                after = ids[i];
            }
            else if (stream.Length > 0 && LastValidId(stream) > group.LastDeliveredId)
            {
                after = group.LastDeliveredId;
            }
            else
            {
                continue;
            }
            if (served++ == 0)
            {
                // The number of streams served is known only at the end: count them first.
                WriteStreamsHeader(reply, 1 + CountServable(db, a, streamsArg, streamCount, groups, ids, i + 1));
            }
            WriteStreamKey(reply, a[keyArg]);
            var consumer = ConsumerForRead(db, s.Server.Propagator, a[keyArg], group, groupName, a[groupArg + 1], options.NoAck);
            after.TryIncrement(out var start);
            if (history)
            {
                WriteConsumerHistory(db, reply, stream, consumer, start, options.Count);
            }
            else
            {
                DeliverNew(db, reply, s.Server.Propagator, a[keyArg], stream, group, groupName, consumer, start, options.Count, options.NoAck);
            }
            db.CountChanges(1);
        }
        // Whatever changed went to replicas as XCLAIM / XGROUP commands; XREADGROUP itself never does.
        s.Server.Propagator.Prevent();
        if (served > 0)
        {
            return;
        }
        if (options.TimeoutMs < 0 || s.DenyBlocking)
        {
            reply.WriteNullArray();
            return;
        }
        byte[] groupBytes = groupName.ToArray();
        byte[] consumerName = a[groupArg + 1].ToArray();
        long blockedCount = options.Count > 0 ? options.Count : BlockedDefaultCount;
        s.Server.Blocking.Block(s, a, streamsArg, streamsArg + streamCount - 1, options.TimeoutMs,
            (client, key) => ServeBlockedReader(client, key, groupBytes, consumerName, blockedCount, options.NoAck), wakesOnDeletion: true);
    }

    /// <summary>How many of the streams from <paramref name="from"/> on XREADGROUP serves synchronously.</summary>
    private static int CountServable(Database db, ArgList a, int streamsArg, int streamCount, StreamConsumerGroup[] groups, StreamId[] ids, int from)
    {
        int n = 0;
        for (int i = from; i < streamCount; i++)
        {
            var stream = (StreamValue)db.Table[db.Find(a[streamsArg + i], touch: false)].Value!;
            if (ids[i] != StreamId.Max || (stream.Length > 0 && LastValidId(stream) > groups[i].LastDeliveredId))
            {
                n++;
            }
        }
        return n;
    }

    /// <summary>
    /// Serves a client blocked in XREADGROUP from <paramref name="key"/>: new entries for its group, or the error Redis
    /// gives when the stream or the group went away meanwhile; false to keep waiting.
    /// </summary>
    private static bool ServeBlockedReader(BlockedClient client, byte[] key, byte[] groupName, byte[] consumerName, long count, bool noack)
    {
        var db = client.Db;
        var reply = client.Reply;
        int index = db.Find(key, touch: false);
        if (index < 0 || db.Table[index].Value is not StreamValue stream)
        {
            reply.WriteError("UNBLOCKED the stream key no longer exists");
            return true;
        }
        if (FindGroup(stream, groupName) is not { } group)
        {
            reply.WriteError("NOGROUP the consumer group this client was blocked on no longer exists");
            return true;
        }
        if (stream.LastId <= group.LastDeliveredId)
        {
            return false;
        }
        var propagator = client.Session.Server.Propagator;
        var consumer = ConsumerForRead(db, propagator, key, group, groupName, consumerName, noack);
        WriteStreamsHeader(reply, 1);
        WriteStreamKey(reply, key);
        group.LastDeliveredId.TryIncrement(out var start);
        DeliverNew(db, reply, propagator, key, stream, group, groupName, consumer, start, count, noack);
        return true;
    }

    /// <summary>
    /// Redis's streamReplyWithRange for a group reading "&gt;": writes up to <paramref name="count"/> (0: all) entries
    /// from <paramref name="start"/> on, moves the group past them, and (unless NOACK) puts them in the consumer's
    /// pending list, each propagated as an XCLAIM; with NOACK the group's new last ID goes out as XGROUP SETID.
    /// </summary>
    private static void DeliverNew(Database db, ReplyWriter reply, Propagator propagator, ReadOnlySpan<byte> key, StreamValue stream,
        StreamConsumerGroup group, ReadOnlySpan<byte> groupName, StreamConsumer consumer, StreamId start, long count, bool noack)
    {
        var counter = stream.Range(start, StreamId.Max, reverse: false);
        long n = 0;
        while ((count == 0 || n < count) && counter.MoveNext())
        {
            n++;
        }
        reply.WriteArrayHeader((int)n);
        long nowMs = db.Keyspace.NowMs;
        bool propagateLastId = false;
        var e = stream.Range(start, StreamId.Max, reverse: false);
        for (long i = 0; i < n && e.MoveNext(); i++)
        {
            var id = e.Id;
            if (id > group.LastDeliveredId)
            {
                if (group.EntriesRead != StreamConsumerGroup.InvalidEntriesRead && !StreamLag.RangeHasTombstones(stream, id, StreamId.Max))
                {
                    group.EntriesRead++;
                }
                else if (stream.EntriesAdded != 0)
                {
                    group.EntriesRead = StreamLag.EstimateDistanceFromFirstEverEntry(stream, id);
                }
                group.LastDeliveredId = id;
                // Without NOACK the last ID travels in the XCLAIM's LASTID.
                propagateLastId |= noack;
            }
            if (!noack)
            {
                var pending = group.Deliver(id, consumer, nowMs);
                if (propagator.IsRecording)
                {
                    PropagateClaim(propagator, db, key, group, groupName, IdBytes(id), pending);
                }
            }
            WriteEntry(reply, ref e);
        }
        if (propagateLastId)
        {
            PropagateGroupId(propagator, db, key, group, groupName);
        }
    }

    /// <summary>
    /// XREADGROUP with an ID: the consumer's own pending entries after it, each with its fields, or a null in their
    /// place when the entry was deleted meanwhile (Redis's streamReplyWithRangeFromConsumerPEL); each delivered one
    /// counts a delivery.
    /// </summary>
    private static void WriteConsumerHistory(Database db, ReplyWriter reply, StreamValue stream, StreamConsumer consumer, StreamId start, long count)
    {
        var entries = new List<StreamPendingEntry>();
        foreach (var entry in consumer.PendingBetween(start, StreamId.Max))
        {
            if (count != 0 && entries.Count >= count)
            {
                break;
            }
            entries.Add(entry);
        }
        reply.WriteArrayHeader(entries.Count);
        long nowMs = db.Keyspace.NowMs;
        foreach (var entry in entries)
        {
            if (WriteOneEntry(reply, stream, entry.Id))
            {
                entry.DeliveryTimeMs = nowMs;
                entry.DeliveryCount++;
            }
            else
            {
                reply.WriteArrayHeader(2);
                WriteId(reply, entry.Id);
                reply.WriteNullArray();
            }
        }
    }

    /// <summary>Writes the entry <paramref name="id"/> ([id, [field, value, ...]]) when the stream holds it; false (nothing written) otherwise.</summary>
    private static bool WriteOneEntry(ReplyWriter reply, StreamValue stream, StreamId id)
    {
        var e = stream.Range(id, id, reverse: false);
        if (!e.MoveNext())
        {
            return false;
        }
        WriteEntry(reply, ref e);
        return true;
    }

    /// <summary>The ID of the last entry present (Redis's streamLastValidID); 0-0 when empty.</summary>
    private static StreamId LastValidId(StreamValue stream)
    {
        var e = stream.Range(StreamId.Min, StreamId.Max, reverse: true);
        return e.MoveNext() ? e.Id : StreamId.Min;
    }

    // ---- propagation (Redis's streamPropagateXCLAIM / streamPropagateGroupID) ----

    /// <summary>
    /// The idempotent form of a delivery or claim for replicas: XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n
    /// FORCE JUSTID LASTID group-last-id.
    /// </summary>
    private static void PropagateClaim(Propagator propagator, Database db, ReadOnlySpan<byte> key, StreamConsumerGroup group, ReadOnlySpan<byte> groupName,
        ReadOnlySpan<byte> id, StreamPendingEntry entry)
    {
        propagator.Also(db, "XCLAIM"u8)?.Add(key).Add(groupName).Add(entry.Consumer.Name).Add("0"u8).Add(id)
            .Add("TIME"u8).Add(entry.DeliveryTimeMs).Add("RETRYCOUNT"u8).Add(entry.DeliveryCount)
            .Add("FORCE"u8).Add("JUSTID"u8).Add("LASTID"u8).Add(IdBytes(group.LastDeliveredId));
    }

    /// <summary>XGROUP SETID key group last-id ENTRIESREAD n.</summary>
    private static void PropagateGroupId(Propagator propagator, Database db, ReadOnlySpan<byte> key, StreamConsumerGroup group, ReadOnlySpan<byte> groupName)
    {
        propagator.Also(db, "XGROUP"u8)?.Add("SETID"u8).Add(key).Add(groupName).Add(IdBytes(group.LastDeliveredId))
            .Add("ENTRIESREAD"u8).Add(group.EntriesRead);
    }

    /// <summary>Writes a group's lag (Redis's streamReplyWithCGLag): entries added and not read yet, or null when unknown.</summary>
    private static void WriteLag(ReplyWriter reply, StreamValue stream, StreamConsumerGroup group)
    {
        long added = (long)stream.EntriesAdded;
        if (added == 0)
        {
            reply.WriteInteger(0);
            return;
        }
        if (group.EntriesRead != StreamConsumerGroup.InvalidEntriesRead && !StreamLag.RangeHasTombstones(stream, group.LastDeliveredId, StreamId.Max))
        {
            reply.WriteInteger(added - group.EntriesRead);
            return;
        }
        long entriesRead = StreamLag.EstimateDistanceFromFirstEverEntry(stream, group.LastDeliveredId);
        if (entriesRead != StreamConsumerGroup.InvalidEntriesRead)
        {
            reply.WriteInteger(added - entriesRead);
        }
        else
        {
            reply.WriteNullBulk();
        }
    }

    // ---- XACK ----

    private static void Xack(Session s, ArgList a)
    {
        if (!TryFindStream(s, a[1], forRead: true, out _, out var stream))
        {
            return;
        }
        if (stream is null || FindGroup(stream, a[2]) is not { } group)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        // All IDs are checked before any is acknowledged: the reply cannot be an error once some were.
        Span<StreamId> ids = a.Count - 3 <= 64 ? stackalloc StreamId[a.Count - 3] : new StreamId[a.Count - 3];
        for (int j = 3; j < a.Count; j++)
        {
            if (!TryParseStrictId(s, a[j], 0, out ids[j - 3]))
            {
                return;
            }
        }
        long acknowledged = 0;
        foreach (var id in ids)
        {
            if (group.FindPending(id) is { } entry)
            {
                group.RemovePending(entry);
                acknowledged++;
            }
        }
        if (acknowledged > 0)
        {
            GroupChanged(s, acknowledged);
        }
        s.Reply.WriteInteger(acknowledged);
    }

    // ---- XPENDING ----

    private static void Xpending(Session s, ArgList a)
    {
        bool summary = a.Count == 3;
        if (a.Count != 3 && (a.Count < 6 || a.Count > 9))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        long count = 0;
        long minIdle = 0;
        StreamId start = StreamId.Min, end = StreamId.Max;
        int consumerArg = 0;
        if (a.Count >= 6)
        {
            int startArg = 3;
            if (a.Is(3, "IDLE"u8))
            {
                if (!s.TryParseLong(a[4], out minIdle))
                {
                    return;
                }
                if (a.Count < 8)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return;
                }
                startArg += 2;
            }
            if (!s.TryParseLong(a[startArg + 2], out count))
            {
                return;
            }
            count = Math.Max(count, 0);
            if (!TryParseIntervalId(s, a[startArg], 0, out start, out bool startExclusive))
            {
                return;
            }
            if (startExclusive && !start.TryIncrement(out start))
            {
                s.Reply.WriteError("ERR invalid start ID for the interval");
                return;
            }
            if (!TryParseIntervalId(s, a[startArg + 1], ulong.MaxValue, out end, out bool endExclusive))
            {
                return;
            }
            if (endExclusive && !end.TryDecrement(out end))
            {
                s.Reply.WriteError("ERR invalid end ID for the interval");
                return;
            }
            if (startArg + 3 < a.Count)
            {
                consumerArg = startArg + 3;
            }
        }
        if (!TryFindGroup(s, a, out var stream, out var group))
        {
            return;
        }
        var reply = s.Reply;
        if (summary)
        {
            WritePendingSummary(reply, group);
            return;
        }
        IEnumerable<StreamPendingEntry> range;
        if (consumerArg != 0)
        {
            if (group.FindConsumer(a[consumerArg]) is not { } consumer)
            {
                reply.WriteArrayHeader(0);
                return;
            }
            range = consumer.PendingBetween(start, end);
        }
        else
        {
            range = group.PendingBetween(start, end);
        }
        long nowMs = s.Keyspace.NowMs;
        var selected = new List<StreamPendingEntry>();
        if (count > 0)
        {
            foreach (var entry in range)
            {
                if (minIdle != 0 && nowMs - entry.DeliveryTimeMs < minIdle)
                {
                    continue;
                }
                selected.Add(entry);
                if (selected.Count == count)
                {
                    break;
                }
            }
        }
        reply.WriteArrayHeader(selected.Count);
        foreach (var entry in selected)
        {
            reply.WriteArrayHeader(4);
            WriteId(reply, entry.Id);
            reply.WriteBulk(entry.Consumer.Name);
            reply.WriteInteger(Math.Max(0, nowMs - entry.DeliveryTimeMs));
            reply.WriteInteger(entry.DeliveryCount);
        }
    }

    /// <summary>XPENDING key group: the count, the smallest and largest pending IDs, and each consumer with pending entries.</summary>
    private static void WritePendingSummary(ReplyWriter reply, StreamConsumerGroup group)
    {
        reply.WriteArrayHeader(4);
        reply.WriteInteger(group.Pending.Count);
        if (group.Pending.Count == 0)
        {
            reply.WriteNullBulk();
            reply.WriteNullBulk();
            reply.WriteNullArray();
            return;
        }
        WriteId(reply, group.FirstPending!.Id);
        WriteId(reply, group.LastPending!.Id);
        int withPending = 0;
        foreach (var consumer in group.Consumers.Values)
        {
            withPending += consumer.Pending.Count > 0 ? 1 : 0;
        }
        reply.WriteArrayHeader(withPending);
        foreach (var consumer in group.Consumers.Values)
        {
            if (consumer.Pending.Count == 0)
            {
                continue;
            }
            reply.WriteArrayHeader(2);
            reply.WriteBulk(consumer.Name);
            reply.WriteBulkInteger(consumer.Pending.Count);
        }
    }

    // ---- XCLAIM / XAUTOCLAIM ----

    private static void Xclaim(Session s, ArgList a)
    {
        if (!TryFindGroup(s, a, out var stream, out var group))
        {
            return;
        }
        if (!s.TryParseLong(a[4], out long minIdle, "ERR Invalid min-idle-time argument for XCLAIM"))
        {
            return;
        }
        minIdle = Math.Max(minIdle, 0);
        // The IDs run up to the first argument that is not one; options follow.
        int j = 5;
        while (j < a.Count && TryParseId(null, a[j], 0, strict: true, out _, allowSeqStar: false, out _))
        {
            j++;
        }
        int lastIdArg = j - 1;
        long nowMs = s.Keyspace.NowMs;
        long deliveryTime = -1;
        long retryCount = -1;
        bool force = false, justId = false;
        StreamId lastId = StreamId.Min;
        for (; j < a.Count; j++)
        {
            bool more = j < a.Count - 1;
            if (a.Is(j, "FORCE"u8))
            {
                force = true;
            }
            else if (a.Is(j, "JUSTID"u8))
            {
                justId = true;
            }
            else if (a.Is(j, "IDLE"u8) && more)
            {
                if (!s.TryParseLong(a[++j], out deliveryTime, "ERR Invalid IDLE option argument for XCLAIM"))
                {
                    return;
                }
                deliveryTime = nowMs - deliveryTime;
            }
            else if (a.Is(j, "TIME"u8) && more)
            {
                if (!s.TryParseLong(a[++j], out deliveryTime, "ERR Invalid TIME option argument for XCLAIM"))
                {
                    return;
                }
            }
            else if (a.Is(j, "RETRYCOUNT"u8) && more)
            {
                if (!s.TryParseLong(a[++j], out retryCount, "ERR Invalid RETRYCOUNT option argument for XCLAIM"))
                {
                    return;
                }
            }
            else if (a.Is(j, "LASTID"u8) && more)
            {
                if (!TryParseStrictId(s, a[++j], 0, out lastId))
                {
                    return;
                }
            }
            else
            {
                s.Reply.WriteError($"ERR Unrecognized XCLAIM option '{a.GetString(j)}'");
                return;
            }
        }
        var db = s.Db;
        var propagator = s.Server.Propagator;
        bool propagateLastId = false;
        if (lastId > group.LastDeliveredId)
        {
            group.LastDeliveredId = lastId;
            propagateLastId = true;
        }
        // A bogus time (negative, or in the future) means now, as in Redis: clients compute it from their own clocks.
        if (deliveryTime < 0 || deliveryTime > nowMs)
        {
            deliveryTime = nowMs;
        }
        var reply = s.Reply;
        var claimed = new List<StreamPendingEntry>();
        StreamConsumer? consumer = null;
        long dirty = 0;
        for (int k = 5; k <= lastIdArg; k++)
        {
            TryParseId(null, a[k], 0, strict: true, out var id, allowSeqStar: false, out _);
            var entry = group.FindPending(id);
            if (!stream.Contains(id))
            {
                // The entry is gone: its pending record goes too, and replicas are told through an XCLAIM of it.
                if (entry is not null)
                {
                    PropagateClaim(propagator, db, a[1], group, a[2], a[k], entry);
                    propagateLastId = false;
                    dirty++;
                    group.RemovePending(entry);
                }
                continue;
            }
            bool forced = false;
            if (force && entry is null)
            {
                entry = new StreamPendingEntry(id, null!, db.Keyspace.NowMs, 1);
                forced = true;
            }
            if (entry is null)
            {
                continue;
            }
            if (!forced && minIdle != 0 && nowMs - entry.DeliveryTimeMs < minIdle)
            {
                continue;
            }
            consumer ??= LookupOrCreateConsumer(db, a[1], group, a[3], out _);
            if (forced)
            {
                entry.Consumer = consumer;
                group.AddPending(entry);
                consumer.Add(entry);
            }
            else
            {
                group.Assign(entry, consumer);
            }
            entry.DeliveryTimeMs = deliveryTime;
            if (retryCount >= 0)
            {
                entry.DeliveryCount = retryCount;
            }
            else if (!justId)
            {
                entry.DeliveryCount++;
            }
            claimed.Add(entry);
            PropagateClaim(propagator, db, a[1], group, a[2], a[k], entry);
            propagateLastId = false;
            dirty++;
        }
        if (propagateLastId)
        {
            PropagateGroupId(propagator, db, a[1], group, a[2]);
            dirty++;
        }
        if (dirty > 0)
        {
            db.CountChanges(dirty);
        }
        propagator.Prevent();
        WriteClaimed(reply, stream, claimed, justId);
    }

    /// <summary>The claimed entries of XCLAIM / XAUTOCLAIM: their IDs with JUSTID, else the entries themselves.</summary>
    private static void WriteClaimed(ReplyWriter reply, StreamValue stream, List<StreamPendingEntry> claimed, bool justId)
    {
        reply.WriteArrayHeader(claimed.Count);
        foreach (var entry in claimed)
        {
            if (justId)
            {
                WriteId(reply, entry.Id);
            }
            else if (!WriteOneEntry(reply, stream, entry.Id))
            {
                reply.WriteNullBulk();
            }
        }
    }

    private static void Xautoclaim(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[4], out long minIdle, "ERR Invalid min-idle-time argument for XAUTOCLAIM"))
        {
            return;
        }
        minIdle = Math.Max(minIdle, 0);
        if (!TryParseIntervalId(s, a[5], 0, out var start, out bool startExclusive))
        {
            return;
        }
        if (startExclusive && !start.TryIncrement(out start))
        {
            s.Reply.WriteError("ERR invalid start ID for the interval");
            return;
        }
        long count = 100;
        bool justId = false;
        for (int j = 6; j < a.Count; j++)
        {
            bool more = j < a.Count - 1;
            if (a.Is(j, "COUNT"u8) && more)
            {
                const long maxCount = long.MaxValue / 16;
                if (!NumberFormat.TryParseInt64(a[j + 1], out count) || count < 1 || count > maxCount)
                {
                    s.Reply.WriteError("ERR COUNT must be > 0");
                    return;
                }
                j++;
            }
            else if (a.Is(j, "JUSTID"u8))
            {
                justId = true;
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (!TryFindGroup(s, a, out var stream, out var group))
        {
            return;
        }
        var db = s.Db;
        var propagator = s.Server.Propagator;
        long nowMs = s.Keyspace.NowMs;
        long attempts = count * AutoclaimAttemptsFactor;
        var claimed = new List<StreamPendingEntry>();
        var deleted = new List<StreamId>();
        StreamConsumer? consumer = null;
        long dirty = 0;
        StreamId cursor = StreamId.Min;
        // Each step looks up the first pending entry after the last one looked at: entries found deleted leave the list as it goes.
        StreamId next = start;
        bool exhausted = false;
        while (attempts-- != 0 && count != 0)
        {
            if (group.Pending.FirstAtOrAfter(next) is not { } entry)
            {
                exhausted = true;
                break;
            }
            if (!entry.Id.TryIncrement(out next))
            {
                // The largest possible ID: nothing can follow it.
                exhausted = true;
            }
            if (!stream.Contains(entry.Id))
            {
                PropagateClaim(propagator, db, a[1], group, a[2], IdBytes(entry.Id), entry);
                dirty++;
                group.RemovePending(entry);
                deleted.Add(entry.Id);
                count--;
            }
            else if (minIdle == 0 || nowMs - entry.DeliveryTimeMs >= minIdle)
            {
                consumer ??= LookupOrCreateConsumer(db, a[1], group, a[3], out _);
                group.Assign(entry, consumer);
                entry.DeliveryTimeMs = nowMs;
                if (!justId)
                {
                    entry.DeliveryCount++;
                }
                claimed.Add(entry);
                count--;
                PropagateClaim(propagator, db, a[1], group, a[2], IdBytes(entry.Id), entry);
                dirty++;
            }
            if (exhausted)
            {
                break;
            }
        }
        // The cursor is the next pending entry after the last one looked at (0-0 when the walk reached the end).
        if (!exhausted && group.Pending.FirstAtOrAfter(next) is { } following)
        {
            cursor = following.Id;
        }
        if (dirty > 0)
        {
            db.CountChanges(dirty);
        }
        propagator.Prevent();
        var reply = s.Reply;
        reply.WriteArrayHeader(3);
        WriteId(reply, cursor);
        WriteClaimed(reply, stream, claimed, justId);
        reply.WriteArrayHeader(deleted.Count);
        foreach (var id in deleted)
        {
            WriteId(reply, id);
        }
    }

    // ---- XINFO GROUPS / CONSUMERS / STREAM FULL's groups ----

    private static void XinfoGroups(Session s, ArgList a)
    {
        if (!TryFindInfoStream(s, a[2], out var stream))
        {
            return;
        }
        var reply = s.Reply;
        reply.WriteArrayHeader(stream.Groups.Count);
        foreach (var group in stream.Groups.Values)
        {
            reply.WriteMapHeader(6);
            reply.WriteBulk("name"u8);
            reply.WriteBulk(group.Name);
            reply.WriteBulk("consumers"u8);
            reply.WriteInteger(group.Consumers.Count);
            reply.WriteBulk("pending"u8);
            reply.WriteInteger(group.Pending.Count);
            WriteGroupProgress(reply, stream, group);
        }
    }

    private static void XinfoConsumers(Session s, ArgList a)
    {
        if (!TryFindInfoStream(s, a[2], out var stream))
        {
            return;
        }
        if (FindGroup(stream, a[3]) is not { } group)
        {
            s.Reply.WriteError($"NOGROUP No such consumer group '{a.GetString(3)}' for key name '{a.GetString(2)}'");
            return;
        }
        var reply = s.Reply;
        long nowMs = s.Keyspace.NowMs;
        reply.WriteArrayHeader(group.Consumers.Count);
        foreach (var consumer in group.Consumers.Values)
        {
            reply.WriteMapHeader(3);
            reply.WriteBulk("name"u8);
            reply.WriteBulk(consumer.Name);
            reply.WriteBulk("pending"u8);
            reply.WriteInteger(consumer.Pending.Count);
            reply.WriteBulk("idle"u8);
            reply.WriteInteger(Math.Max(0, nowMs - consumer.SeenTimeMs));
        }
    }

    /// <summary>The stream XINFO GROUPS / CONSUMERS look at: false after "no such key" or WRONGTYPE.</summary>
    private static bool TryFindInfoStream(Session s, ReadOnlySpan<byte> key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StreamValue? stream)
    {
        if (!TryFindStream(s, key, forRead: true, out _, out stream))
        {
            return false;
        }
        if (stream is null)
        {
            s.Reply.WriteError(Errors.NoSuchKey);
            return false;
        }
        return true;
    }

    /// <summary>The "last-delivered-id", "entries-read" and "lag" fields of XINFO GROUPS and XINFO STREAM FULL.</summary>
    private static void WriteGroupProgress(ReplyWriter reply, StreamValue stream, StreamConsumerGroup group)
    {
        reply.WriteBulk("last-delivered-id"u8);
        WriteId(reply, group.LastDeliveredId);
        reply.WriteBulk("entries-read"u8);
        if (group.EntriesRead != StreamConsumerGroup.InvalidEntriesRead)
        {
            reply.WriteInteger(group.EntriesRead);
        }
        else
        {
            reply.WriteNullBulk();
        }
        reply.WriteBulk("lag"u8);
        WriteLag(reply, stream, group);
    }

    /// <summary>
    /// The "groups" value of XINFO STREAM key FULL: each group with its lag, its global pending list and its consumers
    /// with their own lists, each list cut at <paramref name="count"/> entries (0: all).
    /// </summary>
    private static void WriteXinfoFullGroups(Session s, StreamValue stream, long count)
    {
        var reply = s.Reply;
        reply.WriteArrayHeader(stream.Groups.Count);
        foreach (var group in stream.Groups.Values)
        {
            reply.WriteMapHeader(7);
            reply.WriteBulk("name"u8);
            reply.WriteBulk(group.Name);
            WriteGroupProgress(reply, stream, group);
            reply.WriteBulk("pel-count"u8);
            reply.WriteInteger(group.Pending.Count);
            reply.WriteBulk("pending"u8);
            reply.WriteArrayHeader(Shown(group.Pending, count));
            foreach (var entry in group.Pending.Take(Shown(group.Pending, count)))
            {
                reply.WriteArrayHeader(4);
                WriteId(reply, entry.Id);
                reply.WriteBulk(entry.Consumer.Name);
                reply.WriteInteger(entry.DeliveryTimeMs);
                reply.WriteInteger(entry.DeliveryCount);
            }
            reply.WriteBulk("consumers"u8);
            reply.WriteArrayHeader(group.Consumers.Count);
            foreach (var consumer in group.Consumers.Values)
            {
                reply.WriteMapHeader(4);
                reply.WriteBulk("name"u8);
                reply.WriteBulk(consumer.Name);
                reply.WriteBulk("seen-time"u8);
                reply.WriteInteger(consumer.SeenTimeMs);
                reply.WriteBulk("pel-count"u8);
                reply.WriteInteger(consumer.Pending.Count);
                reply.WriteBulk("pending"u8);
                reply.WriteArrayHeader(Shown(consumer.Pending, count));
                foreach (var entry in consumer.Pending.Take(Shown(consumer.Pending, count)))
                {
                    reply.WriteArrayHeader(3);
                    WriteId(reply, entry.Id);
                    reply.WriteInteger(entry.DeliveryTimeMs);
                    reply.WriteInteger(entry.DeliveryCount);
                }
            }
        }
    }

    /// <summary>How many entries of <paramref name="pending"/> XINFO STREAM FULL COUNT shows (0: all).</summary>
    private static int Shown(PendingEntries pending, long count) => count == 0 ? pending.Count : (int)Math.Min(count, pending.Count);
}
