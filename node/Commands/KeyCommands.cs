using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>The generic family: commands on keys of any type (DEL, EXISTS, EXPIRE, SCAN, ...).</summary>
internal static class KeyCommands
{
    private const string SameObject = "ERR source and destination objects are the same";

    /// <summary>Keys SCAN returns per call when COUNT is not given, as in Redis.</summary>
    private const long DefaultScanCount = 10;

    /// <summary>Integers Redis keeps as shared objects (OBJ_SHARED_INTEGERS): OBJECT REFCOUNT answers INT_MAX for them.</summary>
    private const long SharedIntegers = 10000;

    public static IEnumerable<CommandSpec> All =>
    [
        new("del", -2, Del)
        {
            Flags = CommandFlags.Write, Keys = (1, -1, 1), KeySpecFlags = "RM delete", Acl = "@keyspace @write @slow", Complexity = "O(N) where N is the number of keys that will be removed.",
            Summary = "Deletes one or more keys.", Syntax = "key [key ...]",
        },
        new("unlink", -2, Del)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, -1, 1), KeySpecFlags = "RM delete", Acl = "@keyspace @write @fast", Since = "4.0.0",
            Complexity = "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
            Summary = "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Syntax = "key [key ...]",
        },
        new("exists", -2, Exists)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, -1, 1), KeySpecFlags = "RO", Acl = "@keyspace @read @fast", Complexity = "O(N) where N is the number of keys to check.",
            Summary = "Determines whether one or more keys exist.", Syntax = "key [key ...]",
        },
        new("type", 2, Type)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@keyspace @read @fast", Complexity = "O(1)",
            Summary = "Determine the type stored at key", Syntax = "key",
        },
        new("rename", 3, (s, a) => Rename(s, a, onlyIfNew: false))
        {
            Flags = CommandFlags.Write, Acl = "@keyspace @write @slow", Complexity = "O(1)",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("OW update", 2)],
            Summary = "Rename a key", Syntax = "key newkey",
        },
        new("renamenx", 3, (s, a) => Rename(s, a, onlyIfNew: true))
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Acl = "@keyspace @write @fast", Complexity = "O(1)",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("OW insert", 2)],
            Summary = "Rename a key, only if the new key does not exist", Syntax = "key newkey",
        },
        new("copy", -3, Copy)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@keyspace @write @slow", Since = "6.2.0",
            KeySpecs = [KeySpec.Range("RO access", 1), KeySpec.Range("OW update", 2)],
            Complexity = "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
            Summary = "Copy a key", Syntax = "source destination [DB destination-db] [REPLACE]",
        },
        new("move", 3, Move)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access update", Acl = "@keyspace @write @fast", Complexity = "O(1)",
            Summary = "Move a key to another database", Syntax = "key db",
        },
        new("keys", 2, Keys)
        {
            Flags = CommandFlags.ReadOnly, Acl = "@keyspace @read @slow @dangerous",
            Complexity = "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
            Summary = "Find all keys matching the given pattern", Syntax = "pattern",
        },
        new("scan", -2, Scan)
        {
            Flags = CommandFlags.ReadOnly, Acl = "@keyspace @read @slow", Since = "2.8.0",
            Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
            Summary = "Incrementally iterate the keys space", Syntax = "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        },
        new("randomkey", 1, RandomKey)
        {
            Flags = CommandFlags.ReadOnly, Acl = "@keyspace @read @slow", Complexity = "O(1)",
            Summary = "Return a random key from the keyspace",
        },
        new("touch", -2, Touch)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, -1, 1), KeySpecFlags = "RO", Acl = "@keyspace @read @fast", Since = "3.2.1",
            Complexity = "O(N) where N is the number of keys that will be touched.",
            Summary = "Alters the last access time of a key(s). Returns the number of existing keys specified.", Syntax = "key [key ...]",
        },
        ExpireSpec("expire", "1.0.0", "Set a key's time to live in seconds", "key seconds [NX | XX | GT | LT]", relative: true, seconds: true),
        ExpireSpec("pexpire", "2.6.0", "Set a key's time to live in milliseconds", "key milliseconds [NX | XX | GT | LT]", relative: true, seconds: false),
        ExpireSpec("expireat", "1.2.0", "Set the expiration for a key as a UNIX timestamp", "key unix-time-seconds [NX | XX | GT | LT]", relative: false, seconds: true),
        ExpireSpec("pexpireat", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds", "key unix-time-milliseconds [NX | XX | GT | LT]", relative: false, seconds: false),
        TimeToLiveSpec("ttl", "1.0.0", "Get the time to live for a key in seconds", milliseconds: false, absolute: false),
        TimeToLiveSpec("pttl", "2.6.0", "Get the time to live for a key in milliseconds", milliseconds: true, absolute: false),
        TimeToLiveSpec("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", milliseconds: false, absolute: true),
        TimeToLiveSpec("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", milliseconds: true, absolute: true),
        new("persist", 2, Persist)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), Acl = "@keyspace @write @fast", Since = "2.2.0", Complexity = "O(1)",
            Summary = "Remove the expiration from a key", Syntax = "key",
        },
        new("object", -2, null)
        {
            Acl = "@slow", Since = "2.2.3", Complexity = "Depends on subcommand.", Summary = "A container for object introspection commands",
            Subcommands =
            [
                ObjectSpec("object|encoding", "2.2.3", "Inspect the internal encoding of a Redis object", ObjectEncoding),
                ObjectSpec("object|freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object", ObjectFreq),
                ObjectSpec("object|idletime", "2.2.3", "Get the time since a Redis object was last accessed", ObjectIdleTime),
                ObjectSpec("object|refcount", "2.2.3", "Get the number of references to the value of the key", ObjectRefCount),
                new("object|help", 2, ObjectHelp)
                {
                    Flags = CommandFlags.Loading | CommandFlags.Stale, Acl = "@keyspace @slow", Since = "6.2.0", Complexity = "O(1)",
                    Summary = "Show helpful text about the different subcommands",
                },
            ],
        },
    ];

    private static CommandSpec ExpireSpec(string name, string since, string summary, string syntax, bool relative, bool seconds) =>
        new(name, -3, (s, a) => Expire(s, a, relative, seconds, name))
        {
            Flags = CommandFlags.Write | CommandFlags.Fast,
            Keys = (1, 1, 1),
            Acl = "@keyspace @write @fast",
            Since = since,
            Complexity = "O(1)",
            Summary = summary,
            Syntax = syntax,
        };

    private static CommandSpec TimeToLiveSpec(string name, string since, string summary, bool milliseconds, bool absolute) =>
        new(name, 2, (s, a) => TimeToLive(s, a, milliseconds, absolute))
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast,
            Keys = (1, 1, 1),
            Acl = "@keyspace @read @fast",
            Since = since,
            Complexity = "O(1)",
            Summary = summary,
            Syntax = "key",
        };

    private static CommandSpec ObjectSpec(string name, string since, string summary, CommandHandler handler) =>
        new(name, 3, handler)
        {
            Flags = CommandFlags.ReadOnly,
            Keys = (2, 2, 1),
            KeySpecFlags = "RO",
            Acl = "@keyspace @read @slow",
            Since = since,
            Complexity = "O(1)",
            Summary = summary,
            Syntax = "key",
        };

    /// <summary>DEL and UNLINK: freeing is the garbage collector's job either way, so both delete at once.</summary>
    private static void Del(Session s, ArgList a)
    {
        long deleted = 0;
        for (int i = 1; i < a.Count; i++)
        {
            if (s.Db.Delete(a[i]))
            {
                s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[i]);
                deleted++;
            }
        }
        s.Db.CountChanges(deleted);
        s.Reply.WriteInteger(deleted);
    }

    private static void Exists(Session s, ArgList a)
    {
        long found = 0;
        for (int i = 1; i < a.Count; i++)
        {
            if (FindWithoutTouch(s, a[i]) >= 0)
            {
                found++;
            }
        }
        s.Reply.WriteInteger(found);
    }

    /// <summary>
    /// A read lookup that leaves the access time alone (Redis's LOOKUP_NOTOUCH) but still counts a
    /// keyspace hit or miss, as TYPE, TTL and OBJECT do in Redis.
    /// </summary>
    private static int FindWithoutTouch(Session s, ReadOnlySpan<byte> key)
    {
        int index = s.Db.Find(key, touch: false);
        if (index < 0)
        {
            s.Keyspace.Misses++;
            s.Db.Notify(KeyspaceEventTypes.KeyMiss, "keymiss"u8, key);
        }
        else
        {
            s.Keyspace.Hits++;
        }
        return index;
    }

    private static void Type(Session s, ArgList a)
    {
        int index = FindWithoutTouch(s, a[1]);
        if (index < 0)
        {
            s.Reply.WriteSimple("none"u8);
        }
        else if (s.Db.Table[index].Value is byte[])
        {
            s.Reply.WriteSimple("string"u8);
        }
        else
        {
            s.Reply.WriteSimple(ValueKinds.TypeName(s.Db.Table[index].Value!));
        }
    }

    private static void Rename(Session s, ArgList a, bool onlyIfNew)
    {
        var db = s.Db;
        int source = db.Find(a[1]);
        if (source < 0)
        {
            // Checked before the same-name case: renaming a missing key to itself is still an error.
            s.Reply.WriteError(Errors.NoSuchKey);
            return;
        }
        if (a[1].SequenceEqual(a[2]))
        {
            // Nothing to do: RENAME says OK, RENAMENX says 0 since the new name exists.
            if (onlyIfNew)
            {
                s.Reply.WriteInteger(0);
            }
            else
            {
                s.Reply.WriteOk();
            }
            return;
        }
        var table = db.Table;
        int target = db.Find(a[2], touch: false);
        if (target >= 0 && onlyIfNew)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        // Redis signals the old name before the new one: invalidations for tracking clients go out in that order.
        db.SignalModified(a[1]);
        if (target < 0)
        {
            target = db.Add(a.Detach(2), table[source].Value!);
        }
        else
        {
            table[target].Value = table[source].Value;
            // Redis deletes the old value and adds the key anew.
            db.Notify(KeyspaceEventTypes.New, "new"u8, a[2]);
        }
        // The value keeps its expiry and its access time: only its name changes.
        table[target].Access = table[source].Access;
        db.SetExpire(target, table.ExpireAt(source));
        db.DeleteAt(source);
        db.Notify(KeyspaceEventTypes.Generic, "rename_from"u8, a[1]);
        db.Notify(KeyspaceEventTypes.Generic, "rename_to"u8, a[2]);
        WriteRenameDone(s, onlyIfNew);
    }

    private static void WriteRenameDone(Session s, bool onlyIfNew)
    {
        if (onlyIfNew)
        {
            s.Reply.WriteInteger(1);
        }
        else
        {
            s.Reply.WriteOk();
        }
    }

    private static void Copy(Session s, ArgList a)
    {
        var source = s.Db;
        Database? destination = s.Db;
        bool replace = false;
        for (int i = 3; i < a.Count; i++)
        {
            if (a.Is(i, "REPLACE"u8))
            {
                replace = true;
            }
            else if (a.Is(i, "DB"u8) && i + 1 < a.Count)
            {
                if (!DatabaseCommands.TryGetDatabase(s, a[++i], out destination))
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
        if (s.Server.Cluster is not null && (source.Id != 0 || destination.Id != 0))
        {
            s.Reply.WriteError("ERR Copying to another database is not allowed in cluster mode");
            return;
        }
        if (source == destination && a[1].SequenceEqual(a[2]))
        {
            s.Reply.WriteError(SameObject);
            return;
        }
        int from = s.FindForRead(a[1]);
        if (from < 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        int to = destination.Find(a[2], touch: false);
        if (to >= 0 && !replace)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        ref var entry = ref source.Table[from];
        // Strings are copied too: other commands may change a stored byte array in place.
        object copy = entry.Value switch
        {
            byte[] bytes => bytes.AsSpan().ToArray(),
            ICollectionValue collection => collection.Clone(),
            var other => other!,
        };
        long expireAt = source.Table.ExpireAt(from);
        if (to >= 0)
        {
            // The destination may be in another database, whose keys the dispatcher does not see to for a snapshot.
            destination.Table.BeforeChange(to);
            destination.Table[to].Value = copy;
            destination.Table[to].Access = s.Keyspace.AccessClock;
            destination.Notify(KeyspaceEventTypes.New, "new"u8, a[2]);
        }
        else
        {
            to = destination.Add(a.Detach(2), copy);
        }
        destination.SetExpire(to, expireAt);
        destination.Notify(KeyspaceEventTypes.Generic, "copy_to"u8, a[2]);
        s.Reply.WriteInteger(1);
    }

    private static void Move(Session s, ArgList a)
    {
        if (s.Server.Cluster is not null)
        {
            s.Reply.WriteError("ERR MOVE is not allowed in cluster mode");
            return;
        }
        if (!DatabaseCommands.TryGetDatabase(s, a[2], out var destination))
        {
            return;
        }
        var source = s.Db;
        if (source == destination)
        {
            s.Reply.WriteError(SameObject);
            return;
        }
        int from = source.Find(a[1]);
        if (from < 0 || destination.Find(a[1], touch: false) >= 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        ref var entry = ref source.Table[from];
        // The source entry is deleted right after, so its key array changes owner instead of being copied.
        int to = destination.Add(entry.Key!, entry.Value!);
        destination.Table[to].Access = entry.Access;
        destination.SetExpire(to, source.Table.ExpireAt(from));
        source.DeleteAt(from);
        source.Notify(KeyspaceEventTypes.Generic, "move_from"u8, a[1]);
        destination.Notify(KeyspaceEventTypes.Generic, "move_to"u8, a[1]);
        s.Reply.WriteInteger(1);
    }

    private static void Keys(Session s, ArgList a)
    {
        var pattern = a[1];
        bool all = Glob.MatchesAll(pattern);
        var db = s.Db;
        var table = db.Table;
        var found = new List<byte[]>();
        for (int i = 0; i < table.IndexLimit; i++)
        {
            var key = table[i].Key;
            // Expired keys are skipped but left for expiry to delete, as Redis's KEYS does.
            if (key is not null && (all || Glob.IsMatch(pattern, key)) && !db.IsExpired(i))
            {
                found.Add(key);
            }
        }
        WriteKeyArray(s, found);
    }

    private static void WriteKeyArray(Session s, List<byte[]> keys)
    {
        s.Reply.WriteArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            s.Reply.WriteBulk(key);
        }
    }

    /// <summary>
    /// SCAN's cursor is an entry index in the key table. Entries never move while their key lives, so a
    /// full iteration returns every key that was present from start to end, exactly once (a deleted
    /// entry's slot may be reused by a new key, which is then returned at most once).
    /// </summary>
    private static void Scan(Session s, ArgList a)
    {
        if (!NumberFormat.TryParseScanCursor(a[1], out ulong cursor))
        {
            s.Reply.WriteError("ERR invalid cursor");
            return;
        }
        long count = DefaultScanCount;
        int patternArg = -1;
        string? typeName = null;
        for (int i = 2; i < a.Count; i += 2)
        {
            bool hasValue = i + 1 < a.Count;
            if (a.Is(i, "COUNT"u8) && hasValue)
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
            else if (a.Is(i, "MATCH"u8) && hasValue)
            {
                patternArg = Glob.MatchesAll(a[i + 1]) ? -1 : i + 1;
            }
            else if (a.Is(i, "TYPE"u8) && hasValue)
            {
                // Text once per call (the last TYPE wins, as in Redis), compared with each key's type name.
                typeName = a.GetString(i + 1);
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }

        var db = s.Db;
        var table = db.Table;
        int limit = table.IndexLimit;
        int index = cursor >= (ulong)limit ? limit : (int)cursor;
        // As Redis: stop once COUNT keys were looked at, or after ten times COUNT slots in a sparse table.
        long steps = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        long seen = 0;
        var found = new List<byte[]>();
        for (; index < limit && seen < count && steps > 0; index++, steps--)
        {
            var key = table[index].Key;
            if (key is null)
            {
                continue;
            }
            seen++;
            if (patternArg >= 0 && !Glob.IsMatch(a[patternArg], key))
            {
                continue;
            }
            if (db.IsExpired(index))
            {
                db.DeleteExpired(index);
                continue;
            }
            if (typeName is not null && !string.Equals(typeName, ValueKinds.TypeName(table[index].Value!), StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }
            found.Add(key);
        }
        s.Reply.WriteArrayHeader(2);
        s.Reply.WriteBulkInteger(index >= limit ? 0 : index);
        WriteKeyArray(s, found);
    }

    private static void RandomKey(Session s, ArgList a)
    {
        var db = s.Db;
        for (int tries = 0; ; tries++)
        {
            int index = db.Table.RandomIndex(Random.Shared);
            if (index < 0)
            {
                s.Reply.WriteNullBulk();
                return;
            }
            // As Redis: a replica cannot delete expired keys, so after many expired picks it returns one (no endless loop).
            if (db.IsExpired(index) && !(s.Keyspace.ExpiresFollowMaster && tries >= 100))
            {
                db.DeleteExpired(index);
                continue;
            }
            s.Reply.WriteBulk(db.Table[index].Key);
            return;
        }
    }

    private static void Touch(Session s, ArgList a)
    {
        long found = 0;
        for (int i = 1; i < a.Count; i++)
        {
            if (s.FindForRead(a[i]) >= 0)
            {
                found++;
            }
        }
        s.Reply.WriteInteger(found);
    }

    /// <summary>EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT with Redis 7's NX/XX/GT/LT rules.</summary>
    private static void Expire(Session s, ArgList a, bool relative, bool seconds, string command)
    {
        bool nx = false, xx = false, gt = false, lt = false;
        for (int i = 3; i < a.Count; i++)
        {
            if (a.Is(i, "NX"u8))
            {
                nx = true;
            }
            else if (a.Is(i, "XX"u8))
            {
                xx = true;
            }
            else if (a.Is(i, "GT"u8))
            {
                gt = true;
            }
            else if (a.Is(i, "LT"u8))
            {
                lt = true;
            }
            else
            {
                s.Reply.WriteError($"ERR Unsupported option {a.GetString(i)}");
                return;
            }
        }
        if (nx && (xx || gt || lt))
        {
            s.Reply.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if (gt && lt)
        {
            s.Reply.WriteError("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!s.TryParseLong(a[2], out long when))
        {
            return;
        }
        // Negative times are allowed (the key is deleted); only overflow is an error.
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                s.Reply.WriteError(Errors.InvalidExpire(command));
                return;
            }
            when *= 1000;
        }
        long basetime = relative ? s.Keyspace.NowMs : 0;
        if (when > long.MaxValue - basetime)
        {
            s.Reply.WriteError(Errors.InvalidExpire(command));
            return;
        }
        when += basetime;

        var db = s.Db;
        int index = db.Find(a[1]);
        if (index < 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        long current = db.Table.ExpireAt(index);
        bool hasExpiry = current != 0;
        // A key without expiry counts as an infinite TTL: GT never beats it, LT always does.
        if ((nx && hasExpiry) || (xx && !hasExpiry) || (gt && (!hasExpiry || when <= current)) || (lt && hasExpiry && when >= current))
        {
            s.Reply.WriteInteger(0);
            return;
        }
        var propagator = s.Server.Propagator;
        if (when <= s.Keyspace.NowMs)
        {
            db.DeleteAt(index);
            propagator.Rewrite(s.Server.Config.LazyFreeLazyExpire.Number != 0 ? "UNLINK"u8 : "DEL"u8)?.Add(a[1]);
            db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[1]);
        }
        else
        {
            db.SetExpire(index, when);
            db.Notify(KeyspaceEventTypes.Generic, "expire"u8, a[1]);
            // Relative and second times become PEXPIREAT at the absolute millisecond; the options stay.
            var rewrite = propagator.Rewrite("PEXPIREAT"u8)?.Add(a[1]).Add(when);
            for (int i = 3; rewrite is not null && i < a.Count; i++)
            {
                rewrite.Add(a[i]);
            }
        }
        s.Reply.WriteInteger(1);
    }

    /// <summary>TTL, PTTL, EXPIRETIME and PEXPIRETIME: -2 for a missing key, -1 for a key without expiry.</summary>
    private static void TimeToLive(Session s, ArgList a, bool milliseconds, bool absolute)
    {
        int index = FindWithoutTouch(s, a[1]);
        if (index < 0)
        {
            s.Reply.WriteInteger(-2);
            return;
        }
        long expireAt = s.Db.Table.ExpireAt(index);
        if (expireAt == 0)
        {
            s.Reply.WriteInteger(-1);
            return;
        }
        long ms = Math.Max(0, absolute ? expireAt : expireAt - s.Keyspace.NowMs);
        s.Reply.WriteInteger(milliseconds ? ms : (ms + 500) / 1000);
    }

    private static void Persist(Session s, ArgList a)
    {
        int index = s.Db.Find(a[1]);
        if (index < 0 || s.Db.Table.ExpireAt(index) == 0)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        s.Db.SetExpire(index, 0);
        s.Db.Notify(KeyspaceEventTypes.Generic, "persist"u8, a[1]);
        s.Reply.WriteInteger(1);
    }

    /// <summary>The key OBJECT inspects, or -1 after replying null for a missing key.</summary>
    private static int FindObject(Session s, ArgList a)
    {
        int index = FindWithoutTouch(s, a[2]);
        if (index < 0)
        {
            s.Reply.WriteNullBulk();
        }
        return index;
    }

    private static bool LfuPolicy(Session s) => s.Server.Config.MaxMemoryPolicy.Text.EndsWith("lfu", StringComparison.OrdinalIgnoreCase);

    private static void ObjectEncoding(Session s, ArgList a)
    {
        int index = FindObject(s, a);
        if (index >= 0)
        {
            s.Reply.WriteBulk(ValueKinds.EncodingName(s.Db.Table[index].Value!));
        }
    }

    private static void ObjectFreq(Session s, ArgList a)
    {
        int index = FindObject(s, a);
        if (index < 0)
        {
            return;
        }
        if (!LfuPolicy(s))
        {
            s.Reply.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        // Under an LFU policy the access field holds Redis's layout: decrement time above, the 8-bit log counter below.
        s.Reply.WriteInteger(s.Db.Table[index].Access & 0xFF);
    }

    private static void ObjectIdleTime(Session s, ArgList a)
    {
        int index = FindObject(s, a);
        if (index < 0)
        {
            return;
        }
        if (LfuPolicy(s))
        {
            s.Reply.WriteError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        s.Reply.WriteInteger(Math.Max(0, (long)s.Keyspace.AccessClock - s.Db.Table[index].Access));
    }

    private static void ObjectRefCount(Session s, ArgList a)
    {
        int index = FindObject(s, a);
        if (index < 0)
        {
            return;
        }
        // Redis shares the objects of small non-negative integers unless an LRU/LFU policy needs per-key clocks.
        var config = s.Server.Config;
        bool sharing = config.MaxMemory.Number == 0 || !(config.MaxMemoryPolicy.Text.EndsWith("lru", StringComparison.OrdinalIgnoreCase) || LfuPolicy(s));
        bool shared = sharing && s.Db.Table[index].Value is byte[] bytes && NumberFormat.TryParseInt64(bytes, out long number)
            && number is >= 0 and < SharedIntegers;
        s.Reply.WriteInteger(shared ? int.MaxValue : 1);
    }

    private static void ObjectHelp(Session s, ArgList a) => HelpReply.Write(
        s,
        "OBJECT",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.");
}
