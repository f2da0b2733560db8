using System.Globalization;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Commands;

/// <summary>SORT and SORT_RO: sorting the elements of a list, set or sorted set, as Redis 7.0's sortCommandGeneric.</summary>
internal static class SortCommands
{
    private const string SortComplexity =
        "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).";

    private const string StoreNotes = "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array";

    /// <summary>The keys BY and GET patterns name: no spec can find them (Redis's notes say why).</summary>
    private static readonly KeySpec ByGetKeys = KeySpec.Unknown("RO access",
        "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort");

    public static IEnumerable<CommandSpec> All =>
    [
        new("sort", -2, Sort)
        {
            Flags = CommandFlags.Write | CommandFlags.DenyOom,
            KeySpecs = [KeySpec.Range("RO access", 1), ByGetKeys, KeySpec.Unknown("OW update", StoreNotes)],
            GetKeysProcedure = KeyExtractor.SortKeys,
            Acl = "@write @set @sortedset @list @slow @dangerous",
            Summary = "Sort the elements in a list, set or sorted set", Complexity = SortComplexity,
            Syntax = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA] [STORE destination]",
        },
        new("sort_ro", -2, SortReadOnly)
        {
            Flags = CommandFlags.ReadOnly,
            KeySpecs = [KeySpec.Range("RO access", 1), ByGetKeys],
            GetKeysProcedure = KeyExtractor.SortReadOnlyKeys,
            Acl = "@read @set @sortedset @list @slow @dangerous",
            Summary = "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Since = "7.0.0", Complexity = SortComplexity,
            Syntax = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC | DESC] [ALPHA]",
        },
    ];

    private static void Sort(Session s, ArgList a) => SortGeneric(s, a, readOnly: false);

    private static void SortReadOnly(Session s, ArgList a) => SortGeneric(s, a, readOnly: true);

    /// <summary>The parsed options of one SORT call.</summary>
    private sealed class SortOptions
    {
        public bool Descending;
        public bool Alpha;
        public bool DontSort;
        public long LimitStart;
        public long LimitCount = -1;
        public int StoreArg = -1;
        public int ByArg = -1;
        public List<int> GetArgs { get; } = [];
    }

    /// <summary>One element to sort with what it sorts by: a number, or (ALPHA with BY) the looked-up bytes.</summary>
    private struct SortItem
    {
        public byte[] Element;
        public double Score;
        public byte[]? CompareBy;
    }

    private static void SortGeneric(Session s, ArgList a, bool readOnly)
    {
        if (!TryParseOptions(s, a, readOnly, out var options))
        {
            return;
        }
        int index = s.FindForRead(a[1]);
        object? value = index >= 0 ? s.Db.Table[index].Value : null;
        if (value is not (null or ListValue or SetValue or SortedSetValue))
        {
            s.Reply.WriteError(Errors.WrongType);
            return;
        }
        bool store = options.StoreArg >= 0;
        var by = options.ByArg >= 0 ? a[options.ByArg].ToArray() : null;
        // A set has no order of its own: when its elements are stored, Redis sorts them (ALPHA) so replicas agree.
        if (options.DontSort && value is SetValue && store)
        {
            options.DontSort = false;
            options.Alpha = true;
            by = null;
        }
        long length = value is ICollectionValue collection ? collection.Count : 0;
        long start = options.LimitStart < 0 ? 0 : options.LimitStart;
        long end = options.LimitCount < 0 ? length - 1 : unchecked(start + options.LimitCount - 1);
        if (start >= length)
        {
            start = length - 1;
            end = length - 2;
        }
        if (end >= length)
        {
            end = length - 1;
        }
        // An overflowing LIMIT sum selects nothing.
        if (end < start)
        {
            end = start - 1;
        }
        var items = Load(value, options, ref start, ref end);
        bool conversionError = false;
        if (!options.DontSort)
        {
            conversionError = Score(s, items, by, options.Alpha);
            if (!conversionError)
            {
                var comparer = new ItemComparer(options.Alpha, by is not null, options.Descending, store);
                items.Sort(comparer);
            }
        }
        if (conversionError)
        {
            s.Reply.WriteError("ERR One or more scores can't be converted into double");
            return;
        }
        int selected = (int)(end - start + 1);
        int gets = options.GetArgs.Count;
        long outputLength = gets > 0 ? (long)gets * selected : selected;
        if (!store)
        {
            s.Reply.WriteArrayHeader((int)outputLength);
        }
        var result = store ? new ListValue((int)Math.Min(outputLength, 1024)) : null;
        for (long j = start; j <= end; j++)
        {
            var element = items[(int)j].Element;
            if (gets == 0)
            {
                Emit(s, result, element);
                continue;
            }
            foreach (int getArg in options.GetArgs)
            {
                var found = LookupByPattern(s, a[getArg], element);
                Emit(s, result, found ?? (store ? [] : null));
            }
        }
        if (result is null)
        {
            return;
        }
        if (outputLength > 0)
        {
            s.Db.Set(a[options.StoreArg], result);
            s.Db.Notify(KeyspaceEventTypes.List, "sortstore"u8, a[options.StoreArg]);
        }
        else if (s.Db.Delete(a[options.StoreArg]))
        {
            s.Db.Notify(KeyspaceEventTypes.Generic, "del"u8, a[options.StoreArg]);
        }
        s.Reply.WriteInteger(outputLength);
    }

    private static void Emit(Session s, ListValue? result, byte[]? element)
    {
        if (result is not null)
        {
            result.PushRight(element!);
        }
        else if (element is null)
        {
            s.Reply.WriteNullBulk();
        }
        else
        {
            s.Reply.WriteBulk(element);
        }
    }

    /// <summary>Parses the options after the key; false after writing the error (syntax, or a LIMIT that is not a number).</summary>
    private static bool TryParseOptions(Session s, ArgList a, bool readOnly, out SortOptions options)
    {
        options = new SortOptions();
        for (int j = 2; j < a.Count; j++)
        {
            int left = a.Count - j - 1;
            if (a.Is(j, "ASC"u8))
            {
                options.Descending = false;
            }
            else if (a.Is(j, "DESC"u8))
            {
                options.Descending = true;
            }
            else if (a.Is(j, "ALPHA"u8))
            {
                options.Alpha = true;
            }
            else if (a.Is(j, "LIMIT"u8) && left >= 2)
            {
                if (!s.TryParseLong(a[j + 1], out options.LimitStart) || !s.TryParseLong(a[j + 2], out options.LimitCount))
                {
                    return false;
                }
                j += 2;
            }
            else if (!readOnly && a.Is(j, "STORE"u8) && left >= 1)
            {
                options.StoreArg = ++j;
            }
            else if (a.Is(j, "BY"u8) && left >= 1)
            {
                options.ByArg = ++j;
                // A pattern without '*' names no per-element key: the elements keep their own order (and stay so, as in Redis).
                if (a[j].IndexOf((byte)'*') < 0)
                {
                    options.DontSort = true;
                }
            }
            else if (a.Is(j, "GET"u8) && left >= 1)
            {
                options.GetArgs.Add(++j);
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
    /// The elements to sort. Unsorted lists and sorted sets load only the LIMIT window, in their own order
    /// (reversed for DESC), and the window is then renumbered from 0, as in Redis.
    /// </summary>
    private static List<SortItem> Load(object? value, SortOptions options, ref long start, ref long end)
    {
        var items = new List<SortItem>();
        switch (value)
        {
            case ListValue list when options.DontSort:
                for (long j = start; j <= end; j++)
                {
                    int position = (int)(options.Descending ? list.Length - 1 - j : j);
                    items.Add(new SortItem { Element = list[position].ToArray() });
                }
                (start, end) = (0, end - start);
                break;
            case ListValue list:
                for (int j = 0; j < list.Length; j++)
                {
                    items.Add(new SortItem { Element = list[j].ToArray() });
                }
                break;
            case SetValue set:
                foreach (var member in set.Members)
                {
                    items.Add(new SortItem { Element = member });
                }
                break;
            case SortedSetValue zset when options.DontSort:
                if (end >= start)
                {
                    var reader = zset.Read(options.Descending ? zset.Count - 1 - start : start, options.Descending);
                    for (long j = start; j <= end && reader.Next(out var member, out _); j++)
                    {
                        items.Add(new SortItem { Element = member });
                    }
                }
                (start, end) = (0, end - start);
                break;
            case SortedSetValue zset:
                var all = zset.Read(0, descending: false);
                while (all.Next(out var member, out _))
                {
                    items.Add(new SortItem { Element = member });
                }
                break;
        }
        return items;
    }

    /// <summary>Fills what each element sorts by; true when some number could not be read (the whole SORT then fails).</summary>
    private static bool Score(Session s, List<SortItem> items, byte[]? by, bool alpha)
    {
        bool failed = false;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(items);
        for (int j = 0; j < span.Length; j++)
        {
            ref var item = ref span[j];
            byte[]? byValue = by is null ? item.Element : LookupByPattern(s, by, item.Element);
            if (byValue is null)
            {
                continue;
            }
            if (alpha)
            {
                if (by is not null)
                {
                    item.CompareBy = byValue;
                }
            }
            else if (!TryStrtod(byValue, out item.Score))
            {
                failed = true;
            }
        }
        return failed;
    }

    /// <summary>
    /// The value a GET or BY pattern names for <paramref name="element"/>: "#" is the element itself; otherwise
    /// the first '*' is replaced by the element and the key read as a string, or, with "->field" after the '*',
    /// as a hash field. Null when there is no '*', no such key, or a key of another type.
    /// </summary>
    private static byte[]? LookupByPattern(Session s, ReadOnlySpan<byte> pattern, byte[] element)
    {
        if (pattern.SequenceEqual("#"u8))
        {
            return element;
        }
        int star = pattern.IndexOf((byte)'*');
        if (star < 0)
        {
            return null;
        }
        var afterStar = pattern[(star + 1)..];
        int arrow = afterStar.IndexOf("->"u8);
        ReadOnlySpan<byte> field = default;
        bool isField = arrow >= 0 && arrow + 2 < afterStar.Length;
        if (isField)
        {
            field = afterStar[(arrow + 2)..];
            afterStar = afterStar[..arrow];
        }
        int keyLength = star + element.Length + afterStar.Length;
        var key = keyLength <= 256 ? stackalloc byte[keyLength] : new byte[keyLength];
        pattern[..star].CopyTo(key);
        element.CopyTo(key[star..]);
        afterStar.CopyTo(key[(star + element.Length)..]);
        int index = s.FindForRead(key);
        if (index < 0)
        {
            return null;
        }
        object stored = s.Db.Table[index].Value!;
        if (isField)
        {
            return stored is HashValue hash ? hash.GetCopy(field) : null;
        }
        return stored as byte[];
    }

    /// <summary>
    /// Reads a number as C's strtod does for SORT: leading white space, trailing garbage refused, the empty
    /// string is 0, hexadecimal and inf accepted; NaN and out-of-range values refused.
    /// </summary>
    internal static bool TryStrtod(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
        {
            text = text[..nul];
        }
        int begin = 0;
        while (begin < text.Length && text[begin] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
        {
            begin++;
        }
        text = text[begin..];
        if (text.IsEmpty)
        {
            // strtod converts nothing, and the end pointer is at the terminator: Redis accepts it as 0.
            return true;
        }
        bool negative = text[0] == '-';
        var unsigned = text[0] is (byte)'-' or (byte)'+' ? text[1..] : text;
        if (Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (unsigned.Length > 2 && unsigned[0] == '0' && (unsigned[1] | 0x20) == 'x')
        {
            if (!ulong.TryParse(unsigned[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong hex))
            {
                return false;
            }
            value = negative ? -(double)hex : hex;
            return true;
        }
        if (unsigned.IsEmpty || !(char.IsAsciiDigit((char)unsigned[0]) || unsigned[0] == '.')
            || !double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }
        // ERANGE: overflow to infinity, or a non-zero number that underflowed to 0.
        if (double.IsInfinity(value))
        {
            return false;
        }
        if (value == 0 && HasNonZeroDigit(unsigned))
        {
            return false;
        }
        return true;
    }

    private static bool HasNonZeroDigit(ReadOnlySpan<byte> number)
    {
        foreach (byte b in number)
        {
            if (b is (byte)'e' or (byte)'E')
            {
                return false;
            }
            if (b is >= (byte)'1' and <= (byte)'9')
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Redis's sortCompare: by number (ties by element bytes) or, with ALPHA, by the element or its BY value:
    /// whole byte strings when storing, C strings otherwise (Redis's strcoll stops at a NUL; the C locale's
    /// collation is byte order).
    /// </summary>
    private sealed class ItemComparer(bool alpha, bool byPattern, bool descending, bool store) : IComparer<SortItem>
    {
        public int Compare(SortItem x, SortItem y)
        {
            int cmp;
            if (!alpha)
            {
                cmp = x.Score > y.Score ? 1 : x.Score < y.Score ? -1 : x.Element.AsSpan().SequenceCompareTo(y.Element);
            }
            else if (byPattern)
            {
                cmp = x.CompareBy is null || y.CompareBy is null
                    ? (x.CompareBy is null ? 0 : 1) - (y.CompareBy is null ? 0 : 1)
                    : CompareText(x.CompareBy, y.CompareBy);
            }
            else
            {
                cmp = CompareText(x.Element, y.Element);
            }
            return descending ? -cmp : cmp;
        }

        private int CompareText(byte[] x, byte[] y) => store ? x.AsSpan().SequenceCompareTo(y) : UpToNul(x).SequenceCompareTo(UpToNul(y));

        private static ReadOnlySpan<byte> UpToNul(byte[] text)
        {
            int nul = Array.IndexOf(text, (byte)0);
            return nul < 0 ? text : text.AsSpan(0, nul);
        }
    }
}
