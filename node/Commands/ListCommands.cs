using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The list family: pushes, pops, indexing, ranges, moves, and the blocking pops that wait for data.</summary>
internal static class ListCommands
{
    private const string PushComplexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.";
    private const string MpopComplexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned.";
    private const CommandFlags BlockingWrite = CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Blocking;

    public static IEnumerable<CommandSpec> All =>
    [
        new("lpush", -3, (s, a) => Push(s, a, left: true, onlyIfExists: false))
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @list @fast",
            Summary = "Prepend one or multiple elements to a list", Complexity = PushComplexity, Syntax = "key element [element ...]",
        },
        new("rpush", -3, (s, a) => Push(s, a, left: false, onlyIfExists: false))
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @list @fast",
            Summary = "Append one or multiple elements to a list", Complexity = PushComplexity, Syntax = "key element [element ...]",
        },
        new("lpushx", -3, (s, a) => Push(s, a, left: true, onlyIfExists: true))
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @list @fast", Since = "2.2.0",
            Summary = "Prepend an element to a list, only if the list exists", Complexity = PushComplexity, Syntax = "key element [element ...]",
        },
        new("rpushx", -3, (s, a) => Push(s, a, left: false, onlyIfExists: true))
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @list @fast", Since = "2.2.0",
            Summary = "Append an element to a list, only if the list exists", Complexity = PushComplexity, Syntax = "key element [element ...]",
        },
        new("lpop", -2, (s, a) => Pop(s, a, left: true))
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access delete", Acl = "@write @list @fast",
            Summary = "Remove and get the first elements in a list", Complexity = "O(N) where N is the number of elements returned", Syntax = "key [count]",
        },
        new("rpop", -2, (s, a) => Pop(s, a, left: false))
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access delete", Acl = "@write @list @fast",
            Summary = "Remove and get the last elements in a list", Complexity = "O(N) where N is the number of elements returned", Syntax = "key [count]",
        },
        new("llen", 2, Llen)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @list @fast",
            Summary = "Get the length of a list", Complexity = "O(1)", Syntax = "key",
        },
        new("lindex", 3, Lindex)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @list @slow", Summary = "Get an element from a list by its index",
            Complexity = "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
            Syntax = "key index",
        },
        new("lset", 4, Lset)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), Acl = "@write @list @slow", Summary = "Set the value of an element in a list by its index",
            Complexity = "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).", Syntax = "key index element",
        },
        new("lrange", 4, Lrange)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @list @slow", Summary = "Get a range of elements from a list",
            Complexity = "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
            Syntax = "key start stop",
        },
        new("ltrim", 4, Ltrim)
        {
            Flags = CommandFlags.Write, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @list @slow", Summary = "Trim a list to the specified range",
            Complexity = "O(N) where N is the number of elements to be removed by the operation.", Syntax = "key start stop",
        },
        new("linsert", 5, Linsert)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @list @slow", Since = "2.2.0",
            Summary = "Insert an element before or after another element in a list",
            Complexity = "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
            Syntax = "key BEFORE | AFTER pivot element",
        },
        new("lrem", 4, Lrem)
        {
            Flags = CommandFlags.Write, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @list @slow", Summary = "Remove elements from a list",
            Complexity = "O(N+M) where N is the length of the list and M is the number of elements removed.", Syntax = "key count element",
        },
        new("lpos", -3, Lpos)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @list @slow", Since = "6.0.6", Summary = "Return the index of matching elements on a list",
            Complexity = "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
            Syntax = "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
        },
        new("lmove", 5, Lmove)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @list @slow", Since = "6.2.0",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("RW insert", 2)],
            Summary = "Pop an element from a list, push it to another list and return it", Complexity = "O(1)",
            Syntax = "source destination LEFT | RIGHT LEFT | RIGHT",
        },
        new("rpoplpush", 3, Rpoplpush)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @list @slow", Since = "1.2.0",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("RW insert", 2)],
            Summary = "Remove the last element in a list, prepend it to another list and return it", Complexity = "O(1)", Syntax = "source destination",
        },
        new("lmpop", -4, (s, a) => Mpop(s, a, numKeysIndex: 1, blocking: false))
        {
            Flags = CommandFlags.Write, Acl = "@write @list @slow", Since = "7.0.0",
            KeySpecs = [KeySpec.KeyNum("RW access delete", 1)],
            GetKeysProcedure = KeyExtractor.NumKeys(0, 1, 2),
            Summary = "Pop elements from a list", Complexity = MpopComplexity, Syntax = "numkeys key [key ...] LEFT | RIGHT [COUNT count]",
        },
        new("blpop", -3, (s, a) => Bpop(s, a, left: true))
        {
            Flags = BlockingWrite, Keys = (1, -2, 1), KeySpecFlags = "RW access delete", Acl = "@write @list @slow @blocking", Since = "2.0.0", Complexity = "O(N) where N is the number of provided keys.",
            Summary = "Remove and get the first element in a list, or block until one is available", Syntax = "key [key ...] timeout",
        },
        new("brpop", -3, (s, a) => Bpop(s, a, left: false))
        {
            Flags = BlockingWrite, Keys = (1, -2, 1), KeySpecFlags = "RW access delete", Acl = "@write @list @slow @blocking", Since = "2.0.0", Complexity = "O(N) where N is the number of provided keys.",
            Summary = "Remove and get the last element in a list, or block until one is available", Syntax = "key [key ...] timeout",
        },
        new("blmove", 6, Blmove)
        {
            Flags = BlockingWrite | CommandFlags.DenyOom, Acl = "@write @list @slow @blocking", Since = "6.2.0", Complexity = "O(1)",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("RW insert", 2)],
            Summary = "Pop an element from a list, push it to another list and return it; or block until one is available",
            Syntax = "source destination LEFT | RIGHT LEFT | RIGHT timeout",
        },
        new("brpoplpush", 4, Brpoplpush)
        {
            Flags = BlockingWrite | CommandFlags.DenyOom, Acl = "@write @list @slow @blocking", Since = "2.2.0", Complexity = "O(1)",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("RW insert", 2)],
            Summary = "Pop an element from a list, push it to another list and return it; or block until one is available", Syntax = "source destination timeout",
        },
        new("blmpop", -5, (s, a) => Mpop(s, a, numKeysIndex: 2, blocking: true))
        {
            Flags = CommandFlags.Write | CommandFlags.Blocking, Acl = "@write @list @slow @blocking", Since = "7.0.0",
            KeySpecs = [KeySpec.KeyNum("RW access delete", 2)],
            GetKeysProcedure = KeyExtractor.NumKeys(0, 2, 3),
            Summary = "Pop elements from a list, or block until one is available", Complexity = MpopComplexity,
            Syntax = "timeout numkeys key [key ...] LEFT | RIGHT [COUNT count]",
        },
    ];

    /// <summary>
    /// The list under <paramref name="key"/>, or null when there is none; false after writing WRONGTYPE.
    /// Read commands count keyspace hits and misses.
    /// </summary>
    private static bool TryFindList(Session s, ReadOnlySpan<byte> key, bool forRead, out ListValue? list) =>
        CollectionCommandHelpers.TryFind(s, key, forRead, out _, out list);

    /// <summary>The non-empty list under <paramref name="key"/> for serving a blocked client, or null (missing or another type).</summary>
    private static ListValue? FindListToServe(Database db, ReadOnlySpan<byte> key)
    {
        int index = db.Find(key, touch: false);
        return index >= 0 && db.Table[index].Value is ListValue { Length: > 0 } list ? list : null;
    }

    /// <summary>
    /// After elements were removed by <paramref name="name"/> (its keyspace event): an emptied list's key is deleted
    /// ("del" follows, as in Redis), otherwise watchers learn of the change.
    /// </summary>
    private static void Shrunk(Database db, ReadOnlySpan<byte> key, ListValue list, ReadOnlySpan<byte> name)
    {
        db.Notify(KeyspaceEventTypes.List, name, key);
        if (list.Length == 0)
        {
            db.Delete(key);
            db.Notify(KeyspaceEventTypes.Generic, "del"u8, key);
        }
        else
        {
            db.SignalModified(key);
        }
    }

    private static ReadOnlySpan<byte> PopEvent(bool left) => left ? "lpop"u8 : "rpop"u8;

    private static ReadOnlySpan<byte> PushEvent(bool left) => left ? "lpush"u8 : "rpush"u8;

    /// <summary>LEFT or RIGHT; false after writing a syntax error.</summary>
    private static bool TryParseEnd(Session s, ReadOnlySpan<byte> word, out bool left)
    {
        left = Ascii.EqualsIgnoreCase(word, "LEFT"u8);
        if (left || Ascii.EqualsIgnoreCase(word, "RIGHT"u8))
        {
            return true;
        }
        s.Reply.WriteError(Errors.Syntax);
        return false;
    }

    /// <summary>Turns a Redis index (negative from the tail) into a position, or -1 when out of range.</summary>
    private static int Position(long index, int length)
    {
        if (index < 0)
        {
            index += length;
        }
        return index >= 0 && index < length ? (int)index : -1;
    }

    private static void Push(Session s, ArgList a, bool left, bool onlyIfExists)
    {
        if (!TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        bool created = list is null;
        if (list is null)
        {
            if (onlyIfExists)
            {
                s.Reply.WriteInteger(0);
                return;
            }
            list = new ListValue(a.Count - 2);
        }
        for (int i = 2; i < a.Count; i++)
        {
            list.Push(a[i], left);
        }
        s.Db.CountChanges(a.Count - 2);
        if (created)
        {
            s.Db.Add(a.Detach(1), list);
        }
        else
        {
            s.Db.SignalModified(a[1]);
        }
        s.Db.Notify(KeyspaceEventTypes.List, PushEvent(left), a[1]);
        s.Reply.WriteInteger(list.Length);
    }

    private static void Pop(Session s, ArgList a, bool left)
    {
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.WrongArgs(left ? "lpop" : "rpop"));
            return;
        }
        bool hasCount = a.Count == 3;
        long count = 0;
        if (hasCount && !TryParsePositive(s, a[2], out count, Errors.NotPositive))
        {
            return;
        }
        if (!TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        if (list is null)
        {
            if (hasCount)
            {
                s.Reply.WriteNullArray();
            }
            else
            {
                s.Reply.WriteNullBulk();
            }
            return;
        }
        if (!hasCount)
        {
            s.Reply.WriteBulk(list.Pop(left));
        }
        else if (count == 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        else
        {
            WritePopped(s.Db, s.Reply, list, left, count);
        }
        Shrunk(s.Db, a[1], list, PopEvent(left));
    }

    /// <summary>A non-negative integer; false after writing <paramref name="error"/> (also for non-numbers, as Redis).</summary>
    private static bool TryParsePositive(Session s, ReadOnlySpan<byte> text, out long value, string error)
    {
        if (NumberFormat.TryParseInt64(text, out value) && value >= 0)
        {
            return true;
        }
        s.Reply.WriteError(error);
        return false;
    }

    /// <summary>Pops up to <paramref name="count"/> elements and writes them as an array; each counts as a change, as in Redis.</summary>
    private static void WritePopped(Database db, ReplyWriter reply, ListValue list, bool left, long count)
    {
        int n = (int)Math.Min(count, list.Length);
        db.CountChanges(n);
        reply.WriteArrayHeader(n);
        for (int i = 0; i < n; i++)
        {
            reply.WriteBulk(list.Pop(left));
        }
    }

    private static void Llen(Session s, ArgList a)
    {
        if (TryFindList(s, a[1], forRead: true, out var list))
        {
            s.Reply.WriteInteger(list?.Length ?? 0);
        }
    }

    private static void Lindex(Session s, ArgList a)
    {
        if (!TryFindList(s, a[1], forRead: true, out var list))
        {
            return;
        }
        if (list is null)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        if (!s.TryParseLong(a[2], out long index))
        {
            return;
        }
        int position = Position(index, list.Length);
        if (position < 0)
        {
            s.Reply.WriteNullBulk();
        }
        else
        {
            s.Reply.WriteBulk(list[position]);
        }
    }

    private static void Lset(Session s, ArgList a)
    {
        if (!TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        if (list is null)
        {
            s.Reply.WriteError(Errors.NoSuchKey);
            return;
        }
        if (!s.TryParseLong(a[2], out long index))
        {
            return;
        }
        int position = Position(index, list.Length);
        if (position < 0)
        {
            s.Reply.WriteError("ERR index out of range");
            return;
        }
        list.Set(position, a[3]);
        s.Db.SignalModified(a[1]);
        s.Db.Notify(KeyspaceEventTypes.List, "lset"u8, a[1]);
        s.Reply.WriteOk();
    }

    /// <summary>Clamps Redis's start/stop pair to the list; false when the range is empty.</summary>
    private static bool TryClampRange(long start, long stop, int length, out int first, out int last)
    {
        var (from, count) = CollectionCommandHelpers.ClampRange(start, stop, length);
        first = (int)from;
        last = (int)(from + count - 1);
        return count > 0;
    }

    private static void Lrange(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long start) || !s.TryParseLong(a[3], out long stop)
            || !TryFindList(s, a[1], forRead: true, out var list))
        {
            return;
        }
        if (list is null || !TryClampRange(start, stop, list.Length, out int first, out int last))
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        s.Reply.WriteArrayHeader(last - first + 1);
        for (int i = first; i <= last; i++)
        {
            s.Reply.WriteBulk(list[i]);
        }
    }

    private static void Ltrim(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long start) || !s.TryParseLong(a[3], out long stop)
            || !TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        if (list is not null)
        {
            // Redis counts each element trimmed away.
            s.Db.CountChanges(list.Length);
            if (TryClampRange(start, stop, list.Length, out int first, out int last))
            {
                list.Trim(first, last);
            }
            else
            {
                list.Clear();
            }
            s.Db.CountChanges(-list.Length);
            Shrunk(s.Db, a[1], list, "ltrim"u8);
        }
        s.Reply.WriteOk();
    }

    private static void Linsert(Session s, ArgList a)
    {
        bool after = a.Is(2, "AFTER"u8);
        if (!after && !a.Is(2, "BEFORE"u8))
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (!TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        if (list is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        int pivot = list.IndexOf(a[3]);
        if (pivot < 0)
        {
            s.Reply.WriteInteger(-1);
            return;
        }
        list.Insert(after ? pivot + 1 : pivot, a[4]);
        s.Db.SignalModified(a[1]);
        s.Db.Notify(KeyspaceEventTypes.List, "linsert"u8, a[1]);
        s.Reply.WriteInteger(list.Length);
    }

    private static void Lrem(Session s, ArgList a)
    {
        if (!s.TryParseLong(a[2], out long count) || !TryFindList(s, a[1], forRead: false, out var list))
        {
            return;
        }
        if (list is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        int removed = list.RemoveMatching(a[3], count == long.MinValue ? long.MaxValue : Math.Abs(count), fromTail: count < 0);
        if (removed > 0)
        {
            Shrunk(s.Db, a[1], list, "lrem"u8);
        }
        s.Reply.WriteInteger(removed);
    }

    private static void Lpos(Session s, ArgList a)
    {
        long rank = 1;
        long count = -1;
        long maxLength = 0;
        for (int i = 3; i < a.Count; i++)
        {
            bool more = i + 1 < a.Count;
            if (a.Is(i, "RANK"u8) && more)
            {
                if (!s.TryParseLong(a[++i], out rank))
                {
                    return;
                }
                if (rank == 0)
                {
                    s.Reply.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (a.Is(i, "COUNT"u8) && more)
            {
                if (!TryParsePositive(s, a[++i], out count, "ERR COUNT can't be negative"))
                {
                    return;
                }
            }
            else if (a.Is(i, "MAXLEN"u8) && more)
            {
                if (!TryParsePositive(s, a[++i], out maxLength, "ERR MAXLEN can't be negative"))
                {
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (!TryFindList(s, a[1], forRead: true, out var list))
        {
            return;
        }
        if (list is null)
        {
            if (count != -1)
            {
                s.Reply.WriteArrayHeader(0);
            }
            else
            {
                s.Reply.WriteNullBulk();
            }
            return;
        }
        bool fromTail = rank < 0;
        // Redis negates the rank in C: the lowest long stays negative and so acts as -1.
        long skip = rank == long.MinValue ? 0 : Math.Abs(rank) - 1;
        var element = a[2];
        var found = new List<int>();
        int length = list.Length;
        long limit = maxLength == 0 ? length : Math.Min(maxLength, length);
        for (int n = 0; n < limit; n++)
        {
            int i = fromTail ? length - 1 - n : n;
            if (!element.SequenceEqual(list[i]))
            {
                continue;
            }
            if (skip > 0)
            {
                skip--;
                continue;
            }
            found.Add(i);
            // Without COUNT one match answers; COUNT 0 means every match.
            if (count == -1 || (count > 0 && found.Count >= count))
            {
                break;
            }
        }
        if (count != -1)
        {
            s.Reply.WriteArrayHeader(found.Count);
            foreach (int i in found)
            {
                s.Reply.WriteInteger(i);
            }
        }
        else if (found.Count > 0)
        {
            s.Reply.WriteInteger(found[0]);
        }
        else
        {
            s.Reply.WriteNullBulk();
        }
    }

    /// <summary>
    /// Pops from <paramref name="source"/> (a non-empty list) and pushes onto the list at <paramref name="destination"/>,
    /// creating it; writes the moved element to <paramref name="reply"/>. When the destination holds another
    /// type nothing moves and WRONGTYPE is written.
    /// </summary>
    private static void Move(Database db, ReplyWriter reply, ReadOnlySpan<byte> sourceKey, ListValue source,
        ReadOnlySpan<byte> destination, bool fromLeft, bool toLeft)
    {
        int index = db.Find(destination, touch: false);
        ListValue? target = null;
        if (index >= 0)
        {
            target = db.Table[index].Value as ListValue;
            if (target is null)
            {
                reply.WriteError(Errors.WrongType);
                return;
            }
        }
        // The popped bytes stay readable only until the next push (which may reuse their block): copy them first.
        var popped = source.Pop(fromLeft);
        Span<byte> value = popped.Length <= 256 ? stackalloc byte[popped.Length] : new byte[popped.Length];
        popped.CopyTo(value);
        if (target is null)
        {
            target = new ListValue();
            target.Push(value, toLeft);
            db.Add(destination.ToArray(), target);
        }
        else
        {
            // When source and destination are one list, the element goes back in before the emptiness check.
            target.Push(value, toLeft);
            db.SignalModified(destination);
            // A blocked BLMOVE is served outside the dispatcher, which would otherwise re-charge the destination.
            db.Recharge(destination);
        }
        db.Notify(KeyspaceEventTypes.List, PushEvent(toLeft), destination);
        reply.WriteBulk(value);
        Shrunk(db, sourceKey, source, PopEvent(fromLeft));
    }

    /// <summary>LMOVE and RPOPLPUSH once the ends are known.</summary>
    private static void MoveCommand(Session s, ArgList a, bool fromLeft, bool toLeft)
    {
        if (!TryFindList(s, a[1], forRead: false, out var source))
        {
            return;
        }
        if (source is null)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        Move(s.Db, s.Reply, a[1], source, a[2], fromLeft, toLeft);
    }

    private static void Lmove(Session s, ArgList a)
    {
        if (TryParseEnd(s, a[3], out bool fromLeft) && TryParseEnd(s, a[4], out bool toLeft))
        {
            MoveCommand(s, a, fromLeft, toLeft);
        }
    }

    private static void Rpoplpush(Session s, ArgList a) => MoveCommand(s, a, fromLeft: false, toLeft: true);

    private static void Blmove(Session s, ArgList a)
    {
        if (TryParseEnd(s, a[3], out bool fromLeft) && TryParseEnd(s, a[4], out bool toLeft))
        {
            BlockingMove(s, a, fromLeft, toLeft, a[5]);
        }
    }

    private static void Brpoplpush(Session s, ArgList a) => BlockingMove(s, a, fromLeft: false, toLeft: true, a[3]);

    /// <summary>BLMOVE and BRPOPLPUSH: move at once when the source has data, otherwise wait for it.</summary>
    private static void BlockingMove(Session s, ArgList a, bool fromLeft, bool toLeft, ReadOnlySpan<byte> timeout)
    {
        // BRPOPLPUSH goes to the stream as RPOPLPUSH, BLMOVE as LMOVE, as Redis sends them.
        bool asRpoplpush = a.Count == 4;
        if (!BlockingTimeout.TryParse(s, timeout, out long timeoutMs) || !TryFindList(s, a[1], forRead: false, out var source))
        {
            return;
        }
        if (source is not null)
        {
            Move(s.Db, s.Reply, a[1], source, a[2], fromLeft, toLeft);
            PropagateAsMove(s, a[1], a[2], fromLeft, toLeft, asRpoplpush);
            return;
        }
        if (s.DenyBlocking)
        {
            s.Reply.WriteNullBulk();
            return;
        }
        byte[] destination = a[2].ToArray();
        s.Server.Blocking.Block(s, [a[1].ToArray()], timeoutMs, (client, key) =>
        {
            var list = FindListToServe(client.Db, key);
            if (list is null)
            {
                return false;
            }
            // The destination is changed in place outside the dispatcher (the popped key is seen to by the server).
            client.Db.BeforeWrite(destination);
            Move(client.Db, client.Reply, key, list, destination, fromLeft, toLeft);
            PropagateAsMove(s, key, destination, fromLeft, toLeft, asRpoplpush);
            return true;
        });
    }

    /// <summary>A blocking move goes to the change stream as the move it performed, which never waits.</summary>
    private static void PropagateAsMove(Session s, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool fromLeft, bool toLeft, bool asRpoplpush)
    {
        if (asRpoplpush)
        {
            s.Server.Propagator.Rewrite("RPOPLPUSH"u8)?.Add(source).Add(destination);
        }
        else
        {
            s.Server.Propagator.Rewrite("LMOVE"u8)?.Add(source).Add(destination).Add(fromLeft ? "LEFT"u8 : "RIGHT"u8).Add(toLeft ? "LEFT"u8 : "RIGHT"u8);
        }
    }

    /// <summary>Writes a BLPOP reply: the key and the popped element.</summary>
    private static void PopWithKey(Database db, ReplyWriter reply, ReadOnlySpan<byte> key, ListValue list, bool left)
    {
        reply.WriteArrayHeader(2);
        reply.WriteBulk(key);
        reply.WriteBulk(list.Pop(left));
        Shrunk(db, key, list, PopEvent(left));
    }

    /// <summary>Writes an LMPOP reply: the key and an array of up to <paramref name="count"/> popped elements.</summary>
    private static void PopRangeWithKey(Database db, ReplyWriter reply, ReadOnlySpan<byte> key, ListValue list, bool left, long count)
    {
        reply.WriteArrayHeader(2);
        reply.WriteBulk(key);
        WritePopped(db, reply, list, left, count);
        Shrunk(db, key, list, PopEvent(left));
    }

    private static void Bpop(Session s, ArgList a, bool left)
    {
        if (!BlockingTimeout.TryParse(s, a[^1], out long timeoutMs))
        {
            return;
        }
        PopFirstOrBlock(s, a, 1, a.Count - 2, timeoutMs, (db, reply, key, list) =>
        {
            PopWithKey(db, reply, key, list, left);
            // Served at once or later, it propagates as the pop it did, which never waits.
            s.Server.Propagator.Rewrite(left ? "LPOP"u8 : "RPOP"u8)?.Add(key);
        });
    }

    /// <summary>Writes the reply for a list known to hold data.</summary>
    private delegate void ListPopper(Database db, ReplyWriter reply, ReadOnlySpan<byte> key, ListValue list);

    /// <summary>
    /// Pops from the first of keys <paramref name="first"/>..<paramref name="last"/> holding a list; when none
    /// does, blocks on them all for <paramref name="timeoutMs"/>, or answers a null array when not blocking
    /// (null timeout: LMPOP) or not allowed to (inside EXEC).
    /// </summary>
    private static void PopFirstOrBlock(Session s, ArgList a, int first, int last, long? timeoutMs, ListPopper pop)
    {
        for (int i = first; i <= last; i++)
        {
            if (!TryFindList(s, a[i], forRead: false, out var list))
            {
                return;
            }
            if (list is not null)
            {
                pop(s.Db, s.Reply, a[i], list);
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
            var list = FindListToServe(client.Db, key);
            if (list is null)
            {
                return false;
            }
            pop(client.Db, client.Reply, key, list);
            return true;
        });
    }

    /// <summary>LMPOP and BLMPOP: numkeys, the keys, LEFT|RIGHT, then COUNT; BLMPOP's timeout comes first but is checked last, as in Redis.</summary>
    private static void Mpop(Session s, ArgList a, int numKeysIndex, bool blocking)
    {
        if (!NumberFormat.TryParseInt64(a[numKeysIndex], out long numKeys) || numKeys <= 0)
        {
            s.Reply.WriteError("ERR numkeys should be greater than 0");
            return;
        }
        if (numKeys >= a.Count - numKeysIndex - 1)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        int whereIndex = numKeysIndex + (int)numKeys + 1;
        if (!TryParseEnd(s, a[whereIndex], out bool left))
        {
            return;
        }
        long count = -1;
        for (int i = whereIndex + 1; i < a.Count; i++)
        {
            if (count == -1 && a.Is(i, "COUNT"u8) && i + 1 < a.Count)
            {
                if (!NumberFormat.TryParseInt64(a[++i], out count) || count <= 0)
                {
                    s.Reply.WriteError("ERR count should be greater than 0");
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        if (count == -1)
        {
            count = 1;
        }
        long timeoutMs = 0;
        if (blocking && !BlockingTimeout.TryParse(s, a[1], out timeoutMs))
        {
            return;
        }
        PopFirstOrBlock(s, a, numKeysIndex + 1, whereIndex - 1, blocking ? timeoutMs : null, (db, reply, key, list) =>
        {
            long popped = Math.Min(count, list.Length);
            PopRangeWithKey(db, reply, key, list, left, count);
            // As Redis: the key found and how many it gave, as the LPOP/RPOP a replica applies without choosing.
            s.Server.Propagator.Rewrite(left ? "LPOP"u8 : "RPOP"u8)?.Add(key).Add(popped);
        });
    }
}
