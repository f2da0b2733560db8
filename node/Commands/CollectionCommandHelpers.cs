using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>What the hash and set families share: typed key lookup, HSCAN/SSCAN arguments and random sampling.</summary>
internal static class CollectionCommandHelpers
{
    /// <summary>Redis's reply to a scan of a missing key: cursor 0, no elements.</summary>
    private static ReadOnlySpan<byte> EmptyScan => "*2\r\n$1\r\n0\r\n*0\r\n"u8;

    /// <summary>
    /// Looks up a key expected to hold a <typeparamref name="T"/>: false (WRONGTYPE written) when it holds
    /// another type; otherwise its entry index (-1 when absent) and value. Reads count hits and misses.
    /// </summary>
    public static bool TryFind<T>(Session s, ReadOnlySpan<byte> key, bool forRead, out int index, out T? value)
        where T : class, ICollectionValue
    {
        index = forRead ? s.FindForRead(key) : s.Db.Find(key);
        value = null;
        if (index < 0)
        {
            return true;
        }
        if (s.Db.Table[index].Value is T typed)
        {
            value = typed;
            return true;
        }
        s.Reply.WriteError(Errors.WrongType);
        return false;
    }

    /// <summary>
    /// Stores a value created by a write command under a key that had none, deletes an emptied one, or, when
    /// <paramref name="changed"/>, tells WATCH that the value stored there changed in place.
    /// </summary>
    public static void Settle(Session s, ArgList a, int keyArg, int index, ICollectionValue value, bool changed = true)
    {
        if (index < 0)
        {
            if (value.Count > 0)
            {
                s.Db.Add(a.Detach(keyArg), value);
            }
        }
        else if (value.Count == 0)
        {
            s.Db.DeleteAt(index);
        }
        else if (changed)
        {
            s.Db.SignalModified(a[keyArg]);
        }
    }

    /// <summary>
    /// <see cref="Settle(Session, ArgList, int, int, ICollectionValue, bool)"/> with the keyspace notification of the change,
    /// in Redis's order: a created key's "new" first, then <paramref name="name"/>, then "del" for a key emptied; nothing
    /// is notified when nothing <paramref name="changed"/>.
    /// </summary>
    public static void Settle(Session s, ArgList a, int keyArg, int index, ICollectionValue value, KeyspaceEventTypes type, ReadOnlySpan<byte> name, bool changed = true)
    {
        bool removed = index >= 0 && value.Count == 0;
        Settle(s, a, keyArg, index, value, changed);
        if (!changed || (index < 0 && value.Count == 0))
        {
            return;
        }
        s.Db.Notify(type, name, a[keyArg]);
        if (removed)
        {
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[keyArg]);
        }
    }

    /// <summary>
    /// Redis's index range over <paramref name="length"/> elements (LRANGE, ZRANGE, LTRIM...): negative
    /// indexes count from the end, both ends are clamped; the first index and how many (0: empty).
    /// </summary>
    public static (long First, long Count) ClampRange(long start, long stop, long length)
    {
        if (start < 0)
        {
            start = Math.Max(0, start + length);
        }
        if (stop < 0)
        {
            stop += length;
        }
        if (start > stop || start >= length)
        {
            return (0, 0);
        }
        stop = Math.Min(stop, length - 1);
        return (start, stop - start + 1);
    }

    /// <summary>Parses a SCAN cursor as Redis does with strtoul: optional sign (negative wraps), empty is 0.</summary>
    public static bool TryParseCursor(Session s, ReadOnlySpan<byte> text, out ulong cursor)
    {
        if (NumberFormat.TryParseScanCursor(text, out cursor))
        {
            return true;
        }
        s.Reply.WriteError("ERR invalid cursor");
        return false;
    }

    /// <summary>Writes the reply to a scan of a missing key.</summary>
    public static void WriteEmptyScan(Session s) => s.Reply.WriteRaw(EmptyScan);

    /// <summary>
    /// Parses HSCAN/SSCAN options from argument 3 on: COUNT (at least 1) and MATCH; the last of each wins.
    /// <paramref name="patternArg"/> is -1 when there is no pattern or it matches everything.
    /// </summary>
    public static bool TryParseScanOptions(Session s, ArgList a, out long count, out int patternArg)
    {
        count = 10;
        patternArg = -1;
        for (int i = 3; i < a.Count; i++)
        {
            bool hasValue = i + 1 < a.Count;
            if (a.Is(i, "COUNT"u8) && hasValue)
            {
                if (!s.TryParseLong(a[++i], out count))
                {
                    return false;
                }
                if (count < 1)
                {
                    s.Reply.WriteError(Errors.Syntax);
                    return false;
                }
            }
            else if (a.Is(i, "MATCH"u8) && hasValue)
            {
                patternArg = ++i;
                if (Glob.MatchesAll(a[i]))
                {
                    patternArg = -1;
                }
            }
            else
            {
                s.Reply.WriteError(Errors.Syntax);
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// One step of a scan over a table: the live slots from <paramref name="cursor"/> on, stopping after
    /// <paramref name="count"/> members or ten times that many slots; returns the next cursor (0 at the end).
    /// Slots never move, so every member present throughout an iteration is visited exactly once.
    /// </summary>
    public static ulong ScanSlots<TValue>(EntryTable<TValue> table, ulong cursor, long count, List<int> slots)
    {
        long limit = table.SlotLimit;
        if (cursor >= (ulong)limit)
        {
            return 0;
        }
        long slot = (long)cursor;
        long maxSteps = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        long found = 0;
        for (long steps = 0; slot < limit && found < count && steps < maxSteps; slot++, steps++)
        {
            if (table.IsLive((int)slot))
            {
                slots.Add((int)slot);
                found++;
            }
        }
        return slot >= limit ? 0 : (ulong)slot;
    }

    /// <summary>Writes a scan cursor as the bulk string Redis sends.</summary>
    public static void WriteCursor(Session s, ulong cursor)
    {
        Span<byte> digits = stackalloc byte[20];
        cursor.TryFormat(digits, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        s.Reply.WriteBulk(digits[..n]);
    }

    /// <summary>
    /// Parses the count of SRANDMEMBER/HRANDFIELD: any long but LONG_MIN, with Redis's message; a negative
    /// count asks for that many picks with repeats.
    /// </summary>
    public static bool TryParseRandomCount(Session s, ReadOnlySpan<byte> text, out long count)
    {
        if (!s.TryParseLong(text, out count))
        {
            return false;
        }
        if (count == long.MinValue)
        {
            s.Reply.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return false;
        }
        return true;
    }

    /// <summary><paramref name="count"/> distinct positions out of <paramref name="size"/> (count &lt; size), in random order.</summary>
    public static int[] DistinctPositions(int size, int count)
    {
        var random = Random.Shared;
        var picked = new int[count];
        if ((long)count * 3 > size)
        {
            // Many of the members: a partial shuffle of every position.
            var all = new int[size];
            for (int i = 0; i < size; i++)
            {
                all[i] = i;
            }
            for (int i = 0; i < count; i++)
            {
                int j = random.Next(i, size);
                (all[i], all[j]) = (all[j], all[i]);
                picked[i] = all[i];
            }
            return picked;
        }
        // Few of many: draw and reject repeats.
        var seen = new HashSet<int>(count);
        int n = 0;
        while (n < count)
        {
            int p = random.Next(size);
            if (seen.Add(p))
            {
                picked[n++] = p;
            }
        }
        return picked;
    }
}
