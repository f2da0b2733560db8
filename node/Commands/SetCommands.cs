using CacheOperator.Node.Protocol;
using CacheOperator.Node.Replication;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using static CacheOperator.Node.Commands.CollectionCommandHelpers;

namespace CacheOperator.Node.Commands;

/// <summary>The set family: SADD, SREM, SMEMBERS, SPOP, SRANDMEMBER, SMOVE, the set algebra commands and SSCAN.</summary>
internal static class SetCommands
{
    private const string MultiKeyComplexityUnion = "O(N) where N is the total number of elements in all given sets.";
    private const string MultiKeyComplexityInter = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.";

    public static IEnumerable<CommandSpec> All =>
    [
        new("sadd", -3, SAdd)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW insert", Acl = "@write @set @fast", Syntax = "key member [member ...]",
            Summary = "Add one or more members to a set",
            Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
        },
        new("srem", -3, SRem)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW delete", Acl = "@write @set @fast", Syntax = "key member [member ...]",
            Summary = "Remove one or more members from a set", Complexity = "O(N) where N is the number of members to be removed.",
        },
        new("sismember", 3, SIsMember)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @set @fast", Syntax = "key member",
            Summary = "Determine if a given value is a member of a set", Complexity = "O(1)",
        },
        new("smismember", -3, SMIsMember)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), Acl = "@read @set @fast", Since = "6.2.0", Syntax = "key member [member ...]",
            Summary = "Returns the membership associated with the given elements for a set", Complexity = "O(N) where N is the number of elements being checked for membership",
        },
        new("smembers", 2, SMembers)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @set @slow", Syntax = "key",
            Summary = "Get all the members in a set", Complexity = "O(N) where N is the set cardinality.",
        },
        new("scard", 2, SCard)
        {
            Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RO", Acl = "@read @set @fast", Syntax = "key",
            Summary = "Get the number of members in a set", Complexity = "O(1)",
        },
        new("spop", -2, SPop)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Keys = (1, 1, 1), KeySpecFlags = "RW access delete", Acl = "@write @set @fast", Syntax = "key [count]",
            Summary = "Remove and return one or multiple random members from a set",
            Complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
        },
        new("srandmember", -2, SRandMember)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @set @slow", Syntax = "key [count]",
            Summary = "Get one or multiple random members from a set",
            Complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
        },
        new("smove", 4, SMove)
        {
            Flags = CommandFlags.Write | CommandFlags.Fast, Acl = "@write @set @fast", Syntax = "source destination member",
            KeySpecs = [KeySpec.Range("RW access delete", 1), KeySpec.Range("RW insert", 2)],
            Summary = "Move a member from one set to another", Complexity = "O(1)",
        },
        new("sinter", -2, SInter)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, -1, 1), Acl = "@read @set @slow", Syntax = "key [key ...]",
            Summary = "Intersect multiple sets", Complexity = MultiKeyComplexityInter,
        },
        new("sintercard", -3, SInterCard)
        {
            Flags = CommandFlags.ReadOnly, Acl = "@read @set @slow", Since = "7.0.0", Syntax = "numkeys key [key ...] [LIMIT limit]",
            KeySpecs = [KeySpec.KeyNum("RO access", 1)],
            GetKeysProcedure = KeyExtractor.NumKeys(0, 1, 2),
            Summary = "Intersect multiple sets and return the cardinality of the result", Complexity = MultiKeyComplexityInter,
        },
        new("sinterstore", -3, SInterStore)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @set @slow", Syntax = "destination key [key ...]",
            KeySpecs = [KeySpec.Range("RW update", 1), KeySpec.Range("RO access", 2, -1)],
            Summary = "Intersect multiple sets and store the resulting set in a key", Complexity = MultiKeyComplexityInter,
        },
        new("sunion", -2, SUnion)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, -1, 1), Acl = "@read @set @slow", Syntax = "key [key ...]",
            Summary = "Add multiple sets", Complexity = MultiKeyComplexityUnion,
        },
        new("sunionstore", -3, SUnionStore)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @set @slow", Syntax = "destination key [key ...]",
            KeySpecs = [KeySpec.Range("OW update", 1), KeySpec.Range("RO access", 2, -1)],
            Summary = "Add multiple sets and store the resulting set in a key", Complexity = MultiKeyComplexityUnion,
        },
        new("sdiff", -2, SDiff)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, -1, 1), Acl = "@read @set @slow", Syntax = "key [key ...]",
            Summary = "Subtract multiple sets", Complexity = MultiKeyComplexityUnion,
        },
        new("sdiffstore", -3, SDiffStore)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom, Acl = "@write @set @slow", Syntax = "destination key [key ...]",
            KeySpecs = [KeySpec.Range("OW update", 1), KeySpec.Range("RO access", 2, -1)],
            Summary = "Subtract multiple sets and store the resulting set in a key", Complexity = MultiKeyComplexityUnion,
        },
        new("sscan", -3, SScan)
        {
            Flags = CommandFlags.ReadOnly, Keys = (1, 1, 1), Acl = "@read @set @slow", Since = "2.8.0", Syntax = "key cursor [MATCH pattern] [COUNT count]",
            Summary = "Incrementally iterate Set elements",
            Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
        },
    ];

    private static void SAdd(Session s, ArgList a)
    {
        if (!TryFind<SetValue>(s, a[1], forRead: false, out int index, out var set))
        {
            return;
        }
        set ??= new SetValue(s.Keyspace.EncodingLimits);
        long added = 0;
        for (int i = 2; i < a.Count; i++)
        {
            if (set.Add(a[i]))
            {
                added++;
            }
        }
        s.Db.CountChanges(added);
        Settle(s, a, 1, index, set, KeyspaceEventTypes.Set, "sadd"u8, changed: added > 0);
        s.Reply.WriteInteger(added);
    }

    private static void SRem(Session s, ArgList a)
    {
        if (!TryFind<SetValue>(s, a[1], forRead: false, out int index, out var set))
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
            s.Db.CountChanges(removed);
            Settle(s, a, 1, index, set, KeyspaceEventTypes.Set, "srem"u8, changed: removed > 0);
        }
        s.Reply.WriteInteger(removed);
    }

    private static void SIsMember(Session s, ArgList a)
    {
        if (TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            s.Reply.WriteInteger(set is not null && set.Contains(a[2]) ? 1 : 0);
        }
    }

    private static void SMIsMember(Session s, ArgList a)
    {
        if (!TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            return;
        }
        s.Reply.WriteArrayHeader(a.Count - 2);
        for (int i = 2; i < a.Count; i++)
        {
            s.Reply.WriteInteger(set is not null && set.Contains(a[i]) ? 1 : 0);
        }
    }

    private static void SMembers(Session s, ArgList a)
    {
        if (TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            WriteWholeSet(s, set);
        }
    }

    private static void SCard(Session s, ArgList a)
    {
        if (TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            s.Reply.WriteInteger(set?.Count ?? 0);
        }
    }

    private static void SPop(Session s, ArgList a)
    {
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        long count = 1;
        if (a.Count == 3)
        {
            // Redis answers the same for a non-number and a negative count here.
            if (!s.TryParseLong(a[2], out count, Errors.NotPositive))
            {
                return;
            }
            if (count < 0)
            {
                s.Reply.WriteError(Errors.NotPositive);
                return;
            }
        }
        if (!TryFind<SetValue>(s, a[1], forRead: false, out int index, out var set))
        {
            return;
        }
        if (a.Count == 2)
        {
            if (set is null)
            {
                s.Reply.WriteNullBulk();
                return;
            }
            // The random choice is made here, once: replicas remove the member chosen.
            PopOne(s, set, s.Server.Propagator.Rewrite("SREM"u8)?.Add(a[1]));
            Settle(s, a, 1, index, set, KeyspaceEventTypes.Set, "spop"u8);
            return;
        }
        if (set is null || count == 0)
        {
            s.Reply.WriteSetHeader(0);
            return;
        }
        if (count >= set.Count)
        {
            // Everything goes: reply with the whole set and delete the key.
            WriteWholeSet(s, set);
            s.Db.CountChanges(set.Count);
            s.Db.DeleteAt(index);
            s.Server.Propagator.Rewrite("DEL"u8)?.Add(a[1]);
            s.Db.Notify(KeyspaceEventTypes.Set, "spop"u8, a[1]);
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[1]);
            return;
        }
        s.Reply.WriteSetHeader((int)count);
        s.Db.CountChanges(count);
        // As Redis 7.0: one SREM per member chosen, instead of the SPOP (several go out as one MULTI/EXEC).
        var propagator = s.Server.Propagator;
        propagator.Prevent();
        for (long i = 0; i < count; i++)
        {
            PopOne(s, set, propagator.Also(s.Db, "SREM"u8)?.Add(a[1]));
        }
        s.Db.SignalModified(a[1]);
        s.Db.Notify(KeyspaceEventTypes.Set, "spop"u8, a[1]);
    }

    /// <summary>Pops a random member into the reply, and into <paramref name="removed"/> (the SREM for the change stream) when recording.</summary>
    private static void PopOne(Session s, SetValue set, PropagatedCommand? removed)
    {
        int position = Random.Shared.Next((int)set.Count);
        Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
        var member = set.MemberAt(position, scratch);
        s.Reply.WriteBulk(member);
        removed?.Add(member);
        set.RemovePosition(position);
    }

    private static void SRandMember(Session s, ArgList a)
    {
        if (a.Count == 2)
        {
            if (TryFind<SetValue>(s, a[1], forRead: true, out _, out var single))
            {
                if (single is null)
                {
                    s.Reply.WriteNullBulk();
                }
                else
                {
                    WriteMember(s, single, Random.Shared.Next((int)single.Count));
                }
            }
            return;
        }
        if (a.Count > 3)
        {
            s.Reply.WriteError(Errors.Syntax);
            return;
        }
        if (!TryParseRandomCount(s, a[2], out long count) || !TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            return;
        }
        if (set is null || count == 0)
        {
            s.Reply.WriteArrayHeader(0);
            return;
        }
        int size = (int)set.Count;
        if (count < 0)
        {
            s.Reply.WriteArrayHeader(checked((int)-count));
            for (long i = 0; i < -count; i++)
            {
                WriteMember(s, set, Random.Shared.Next(size));
            }
            return;
        }
        if (count >= size)
        {
            s.Reply.WriteArrayHeader(size);
            for (int i = 0; i < size; i++)
            {
                WriteMember(s, set, i);
            }
            return;
        }
        var positions = DistinctPositions(size, (int)count);
        s.Reply.WriteArrayHeader(positions.Length);
        foreach (int position in positions)
        {
            WriteMember(s, set, position);
        }
    }

    private static void SMove(Session s, ArgList a)
    {
        if (!TryFind<SetValue>(s, a[1], forRead: false, out int sourceIndex, out var source))
        {
            return;
        }
        if (source is null)
        {
            s.Reply.WriteInteger(0);
            return;
        }
        if (!TryFind<SetValue>(s, a[2], forRead: false, out int destinationIndex, out var destination))
        {
            return;
        }
        if (ReferenceEquals(source, destination))
        {
            s.Reply.WriteInteger(source.Contains(a[3]) ? 1 : 0);
            return;
        }
        if (!source.Remove(a[3]))
        {
            s.Reply.WriteInteger(0);
            return;
        }
        // Entry indices stay valid when another key is deleted, so the destination index still holds.
        Settle(s, a, 1, sourceIndex, source, KeyspaceEventTypes.Set, "srem"u8);
        destination ??= new SetValue(s.Keyspace.EncodingLimits);
        bool added = destination.Add(a[3]);
        Settle(s, a, 2, destinationIndex, destination, KeyspaceEventTypes.Set, "sadd"u8, changed: added);
        // Redis counts the removal, and the insertion when the member was new there.
        s.Db.CountChanges(added ? 2 : 1);
        s.Reply.WriteInteger(1);
    }

    private static void SInter(Session s, ArgList a) => Intersect(s, a, 1, a.Count - 1, destinationArg: -1, cardinalityOnly: false, limit: 0);

    private static void SInterStore(Session s, ArgList a) => Intersect(s, a, 2, a.Count - 2, destinationArg: 1, cardinalityOnly: false, limit: 0);

    private static void SInterCard(Session s, ArgList a)
    {
        const string NumKeysError = "ERR numkeys should be greater than 0";
        if (!s.TryParseLong(a[1], out long numKeys, NumKeysError))
        {
            return;
        }
        if (numKeys < 1)
        {
            s.Reply.WriteError(NumKeysError);
            return;
        }
        if (numKeys > a.Count - 2)
        {
            s.Reply.WriteError("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int i = 2 + (int)numKeys; i < a.Count; i++)
        {
            if (a.Is(i, "LIMIT"u8) && i + 1 < a.Count)
            {
                const string LimitError = "ERR LIMIT can't be negative";
                if (!s.TryParseLong(a[++i], out limit, LimitError))
                {
                    return;
                }
                if (limit < 0)
                {
                    s.Reply.WriteError(LimitError);
                    return;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return;
            }
        }
        Intersect(s, a, 2, (int)numKeys, destinationArg: -1, cardinalityOnly: true, limit);
    }

    /// <summary>
    /// SINTER, SINTERSTORE and SINTERCARD: walks the smallest set and keeps members every other set has.
    /// A missing key is an empty set, but every key is still type-checked first, as in Redis 7.0.
    /// </summary>
    private static void Intersect(Session s, ArgList a, int firstKey, int keyCount, int destinationArg, bool cardinalityOnly, long limit)
    {
        if (!TryCollect(s, a, firstKey, keyCount, forRead: destinationArg < 0, out var sets))
        {
            return;
        }
        var members = new List<byte[]>();
        long cardinality = 0;
        if (Array.IndexOf(sets, null) < 0)
        {
            var bySize = sets.OrderBy(set => set!.Count).ToArray();
            var smallest = bySize[0]!;
            Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
            for (int i = 0; i < smallest.Count; i++)
            {
                var member = smallest.MemberAt(i, scratch);
                bool everywhere = true;
                for (int j = 1; j < bySize.Length && everywhere; j++)
                {
                    everywhere = bySize[j]!.Contains(member);
                }
                if (!everywhere)
                {
                    continue;
                }
                cardinality++;
                if (cardinalityOnly)
                {
                    if (limit != 0 && cardinality >= limit)
                    {
                        break;
                    }
                }
                else
                {
                    members.Add(member.ToArray());
                }
            }
        }
        if (cardinalityOnly)
        {
            s.Reply.WriteInteger(cardinality);
            return;
        }
        var result = new SetValue(s.Keyspace.EncodingLimits);
        foreach (var member in members)
        {
            result.Add(member);
        }
        Deliver(s, a, destinationArg, result);
    }

    private static void SUnion(Session s, ArgList a) => Combine(s, a, 1, destinationArg: -1, difference: false);

    private static void SUnionStore(Session s, ArgList a) => Combine(s, a, 2, destinationArg: 1, difference: false);

    private static void SDiff(Session s, ArgList a) => Combine(s, a, 1, destinationArg: -1, difference: true);

    private static void SDiffStore(Session s, ArgList a) => Combine(s, a, 2, destinationArg: 1, difference: true);

    /// <summary>SUNION and SDIFF with their STORE forms: builds the result set, then replies or stores it.</summary>
    private static void Combine(Session s, ArgList a, int firstKey, int destinationArg, bool difference)
    {
        if (!TryCollect(s, a, firstKey, a.Count - firstKey, forRead: destinationArg < 0, out var sets))
        {
            return;
        }
        var result = new SetValue(s.Keyspace.EncodingLimits);
        Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
        if (difference)
        {
            if (sets[0] is { } first)
            {
                for (int i = 0; i < first.Count; i++)
                {
                    var member = first.MemberAt(i, scratch);
                    bool elsewhere = false;
                    for (int j = 1; j < sets.Length && !elsewhere; j++)
                    {
                        elsewhere = sets[j] is { } other && other.Contains(member);
                    }
                    if (!elsewhere)
                    {
                        result.Add(member);
                    }
                }
            }
        }
        else
        {
            foreach (var set in sets)
            {
                for (int i = 0; i < (set?.Count ?? 0); i++)
                {
                    result.Add(set!.MemberAt(i, scratch));
                }
            }
        }
        Deliver(s, a, destinationArg, result);
    }

    /// <summary>Replies with a computed set, or stores it (an empty result deletes the destination) and replies with its size.</summary>
    private static void Deliver(Session s, ArgList a, int destinationArg, SetValue result)
    {
        if (destinationArg < 0)
        {
            WriteWholeSet(s, result);
            return;
        }
        if (result.Count > 0)
        {
            s.Db.Set(a[destinationArg], result);
            // The command's own name: sinterstore, sunionstore or sdiffstore.
            s.Db.Notify(KeyspaceEventTypes.Set, Encoding.ASCII.GetBytes(s.LastCommand!.Name), a[destinationArg]);
        }
        else if (s.Db.Delete(a[destinationArg]))
        {
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[destinationArg]);
        }
        s.Reply.WriteInteger(result.Count);
    }

    /// <summary>The sets under keys firstKey.. (null for a missing key); false with WRONGTYPE written when one is not a set.</summary>
    private static bool TryCollect(Session s, ArgList a, int firstKey, int keyCount, bool forRead, out SetValue?[] sets)
    {
        sets = new SetValue?[keyCount];
        for (int i = 0; i < keyCount; i++)
        {
            if (!TryFind(s, a[firstKey + i], forRead, out _, out sets[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static void SScan(Session s, ArgList a)
    {
        if (!TryParseCursor(s, a[2], out ulong cursor) || !TryFind<SetValue>(s, a[1], forRead: true, out _, out var set))
        {
            return;
        }
        if (set is null)
        {
            WriteEmptyScan(s);
            return;
        }
        if (!TryParseScanOptions(s, a, out long count, out int patternArg))
        {
            return;
        }
        var picked = new List<byte[]>();
        ulong next = 0;
        if (set.Table is { } table)
        {
            var slots = new List<int>();
            next = ScanSlots(table, cursor, count, slots);
            foreach (int slot in slots)
            {
                if (patternArg < 0 || Glob.IsMatch(a[patternArg], table.KeyAt(slot)))
                {
                    picked.Add(table.KeyArrayAt(slot));
                }
            }
        }
        else
        {
            // The compact forms are returned whole in one call, as Redis does.
            Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
            for (int i = 0; i < set.Count; i++)
            {
                var member = set.MemberAt(i, scratch);
                if (patternArg < 0 || Glob.IsMatch(a[patternArg], member))
                {
                    picked.Add(member.ToArray());
                }
            }
        }
        s.Reply.WriteArrayHeader(2);
        WriteCursor(s, next);
        s.Reply.WriteArrayHeader(picked.Count);
        foreach (var member in picked)
        {
            s.Reply.WriteBulk(member);
        }
    }

    /// <summary>Every member as a set reply (an array in RESP2); an absent set is empty.</summary>
    private static void WriteWholeSet(Session s, SetValue? set)
    {
        int count = (int)(set?.Count ?? 0);
        s.Reply.WriteSetHeader(count);
        for (int i = 0; i < count; i++)
        {
            WriteMember(s, set!, i);
        }
    }

    private static void WriteMember(Session s, SetValue set, int position)
    {
        Span<byte> scratch = stackalloc byte[SetValue.ScratchLength];
        s.Reply.WriteBulk(set.MemberAt(position, scratch));
    }
}
