using System.Globalization;
using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Commands;

/// <summary>One key found in a command line: its argument position (0 is the command name) and how it is used.</summary>
public readonly record struct KeyReference(int Position, KeyFlags Flags);

/// <summary>A command line inside an argument list: the command name at <see cref="Start"/> (COMMAND GETKEYS's full-command), positions counted from it.</summary>
public readonly struct CommandLine(ArgList args, int start)
{
    /// <summary>Where the command name is in the underlying arguments.</summary>
    public int Start { get; } = start;

    /// <summary>Arguments of the command line, the name included (Redis's argc).</summary>
    public int Count => args.Count - Start;

    /// <summary>Argument <paramref name="position"/> of the command line.</summary>
    public ReadOnlySpan<byte> this[int position] => args[Start + position];

    /// <summary>A whole argument list as a command line.</summary>
    public static implicit operator CommandLine(ArgList args) => new(args, 0);
}

/// <summary>
/// Finds keys where key specs cannot say (Redis's getkeys_proc): SORT's STORE, SET's GET-dependent flags,
/// and the numkeys commands when their count is not a plain number.
/// </summary>
public delegate void GetKeysProcedure(CommandLine line, KeyBuffer result);

/// <summary>A reusable list of found keys, so that finding them allocates nothing once it has grown.</summary>
public sealed class KeyBuffer
{
    private KeyReference[] _items = new KeyReference[16];

    /// <summary>Keys found.</summary>
    public int Count { get; private set; }

    /// <summary>Key <paramref name="i"/> in the order found.</summary>
    public KeyReference this[int i] => _items[i];

    /// <summary>Forgets the keys (keeps the storage).</summary>
    public void Clear() => Count = 0;

    /// <summary>Adds one key.</summary>
    public void Add(int position, KeyFlags flags)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }
        _items[Count++] = new KeyReference(position, flags);
    }
}

/// <summary>
/// The one place that finds a command's keys (Redis 7.0's getKeysFromCommandWithSpecs): the key specs when they can
/// say it and their flags are fixed, else the command's getkeys procedure. Memory accounting, COMMAND GETKEYS /
/// GETKEYSANDFLAGS, and (next) the cluster slot check, ACL key patterns and scripts all call <see cref="GetKeys"/>.
/// </summary>
public static class KeyExtractor
{
    /// <summary>
    /// Fills <paramref name="result"/> with the keys of <paramref name="line"/> (a command line of <paramref name="spec"/>);
    /// returns how many (0: none, or arguments the specs cannot read, which COMMAND GETKEYS reports as invalid).
    /// With <paramref name="positionsOnly"/> (memory accounting, slot checks) the specs serve even when their flags
    /// depend on the arguments, which spares SET's procedure; the flags found are then the specs' own.
    /// </summary>
    public static int GetKeys(CommandSpec spec, CommandLine line, KeyBuffer result, bool positionsOnly = false)
    {
        result.Clear();
        if (spec.SimpleKeyRange is { } simple && (positionsOnly || !spec.HasVariableKeyFlags))
        {
            // The common case, one spec of keys at fixed steps (GET, SET, MSET, DEL): no walk over a spec list.
            int argc = line.Count;
            return AddKeys(simple.Index, simple.LastKey >= 0 ? simple.Index + simple.LastKey : argc + simple.LastKey, simple.KeyStep, argc, simple.Flags, result)
                ? result.Count : 0;
        }
        var specs = spec.KeySpecs;
        if (spec.HasKeySpecs && (positionsOnly || !spec.HasVariableKeyFlags) && TryUseSpecs(specs, line, includeNotKeys: false, result))
        {
            return result.Count;
        }
        result.Clear();
        spec.GetKeysProcedure?.Invoke(line, result);
        return result.Count;
    }

    /// <summary>
    /// The keys the cluster slot check routes by: <see cref="GetKeys"/>'s, and for a pub/sub command its shard channels
    /// (not_key specs), as Redis 7.0's getNodeByQuery treats SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH.
    /// </summary>
    public static int GetRoutingKeys(CommandSpec spec, CommandLine line, KeyBuffer result)
    {
        if ((spec.Flags & CommandFlags.PubSub) == 0 || spec.KeySpecs.Count == 0)
        {
            return GetKeys(spec, line, result, positionsOnly: true);
        }
        result.Clear();
        return TryUseSpecs(spec.KeySpecs, line, includeNotKeys: true, result) ? result.Count : 0;
    }

    /// <summary>True when the slot check has keys to route by: <see cref="HasKeys"/>, or shard channels.</summary>
    public static bool HasRoutingKeys(CommandSpec spec) => HasKeys(spec) || ((spec.Flags & CommandFlags.PubSub) != 0 && spec.KeySpecs.Count > 0);

    /// <summary>True when the command can have keys (Redis's doesCommandHaveKeys): a procedure, or a spec of real keys.</summary>
    public static bool HasKeys(CommandSpec spec) => spec.GetKeysProcedure is not null || spec.HasKeySpecs;

    /// <summary>Redis's getKeysUsingKeySpecs: false when a spec cannot be applied (unknown, incomplete, out of range, bad count).</summary>
    private static bool TryUseSpecs(IReadOnlyList<KeySpec> specs, CommandLine line, bool includeNotKeys, KeyBuffer result)
    {
        int argc = line.Count;
        for (int j = 0; j < specs.Count; j++)
        {
            var ks = specs[j];
            if ((ks.Flags & KeyFlags.NotKey) != 0 && !includeNotKeys)
            {
                continue;
            }
            int first;
            if (ks.BeginSearch == BeginSearchKind.Index)
            {
                first = ks.Index;
            }
            else if (ks.BeginSearch == BeginSearchKind.Keyword)
            {
                first = FindKeyword(ks, line);
                if (first == 0)
                {
                    continue;
                }
            }
            else
            {
                return false;
            }

            int last;
            int step;
            if (ks.FindKeys == FindKeysKind.Range)
            {
                step = ks.KeyStep;
                last = ks.LastKey >= 0 ? first + ks.LastKey
                    : ks.Limit == 0 ? argc + ks.LastKey
                    : first + ((argc - first) / ks.Limit + ks.LastKey);
            }
            else if (ks.FindKeys == FindKeysKind.KeyNum)
            {
                step = ks.KeyStep;
                int countAt = first + ks.KeyNumIndex;
                if (countAt >= argc || !IsStrictInteger(line[countAt])
                    || !long.TryParse(line[countAt], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long numKeys) || numKeys < 0)
                {
                    return false;
                }
                first += ks.FirstKey;
                long lastLong = first + numKeys - 1;
                last = lastLong >= argc ? argc : (int)lastLong;
            }
            else
            {
                return false;
            }

            if (!AddKeys(first, last, step, argc, ks.Flags, result) || (ks.Flags & KeyFlags.Incomplete) != 0)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Adds the keys at <paramref name="first"/>, every <paramref name="step"/>, up to <paramref name="last"/>; false when that range does not fit the arguments.</summary>
    private static bool AddKeys(int first, int last, int step, int argc, KeyFlags flags, KeyBuffer result)
    {
        if (last >= argc || last < first || first >= argc || step <= 0)
        {
            return false;
        }
        for (int i = first; i <= last; i += step)
        {
            result.Add(i, flags);
        }
        return true;
    }

    /// <summary>The position after the keyword, or 0 when it is not found; the end position itself is never searched, as in Redis.</summary>
    private static int FindKeyword(KeySpec ks, CommandLine line)
    {
        int argc = line.Count;
        int start = ks.StartFrom > 0 ? ks.StartFrom : argc + ks.StartFrom;
        int end = ks.StartFrom > 0 ? argc - 1 : 1;
        int direction = start <= end ? 1 : -1;
        for (int i = start; i != end; i += direction)
        {
            if (i >= argc || i < 1)
            {
                break;
            }
            if (Ascii.EqualsIgnoreCase(line[i], ks.KeywordBytes))
            {
                return i + 1;
            }
        }
        return 0;
    }

    /// <summary>Redis's string2ll: optional '-', digits, no leading zeros, no '+' or spaces.</summary>
    private static bool IsStrictInteger(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        if (text.Length == 1 && text[0] == (byte)'0')
        {
            return true;
        }
        int i = text[0] == (byte)'-' ? 1 : 0;
        if (i == text.Length || text[i] is < (byte)'1' or > (byte)'9')
        {
            return false;
        }
        for (i++; i < text.Length; i++)
        {
            if (text[i] is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>C's atoi: leading spaces, a sign, the digits up to the first non-digit; 0 when there are none.</summary>
    private static long Atoi(ReadOnlySpan<byte> text)
    {
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
        {
            i++;
        }
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            negative = text[i] == (byte)'-';
            i++;
        }
        long value = 0;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9'; i++)
        {
            value = Math.Min(value * 10 + (text[i] - '0'), int.MaxValue);
        }
        return negative ? -value : value;
    }

    /// <summary>
    /// Redis's genericGetKeys: numkeys at <paramref name="countAt"/> read as atoi, keys from <paramref name="firstKeyAt"/>,
    /// then the destination at <paramref name="storeAt"/> (0: none); no keys when the count is out of range. Flags are not known.
    /// </summary>
    public static GetKeysProcedure NumKeys(int storeAt, int countAt, int firstKeyAt, int keyStep = 1) => (line, result) =>
    {
        long num = Atoi(line[countAt]);
        if (num < 1 || num > (line.Count - firstKeyAt) / keyStep)
        {
            return;
        }
        for (int i = 0; i < num; i++)
        {
            result.Add(firstKeyAt + (i * keyStep), KeyFlags.None);
        }
        if (storeAt > 0)
        {
            result.Add(storeAt, KeyFlags.None);
        }
    };

    /// <summary>Redis's sortGetKeys: the sorted key, and the last STORE destination (LIMIT, GET and BY arguments skipped).</summary>
    public static void SortKeys(CommandLine line, KeyBuffer result)
    {
        result.Add(1, KeyFlags.RO | KeyFlags.Access);
        int store = 0;
        for (int i = 2; i < line.Count; i++)
        {
            var arg = line[i];
            if (Ascii.EqualsIgnoreCase(arg, "limit"u8))
            {
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "get"u8) || Ascii.EqualsIgnoreCase(arg, "by"u8))
            {
                i += 1;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "store"u8) && i + 1 < line.Count)
            {
                store = i + 1;
            }
        }
        if (store > 0)
        {
            result.Add(store, KeyFlags.OW | KeyFlags.Update);
        }
    }

    /// <summary>Redis's sortROGetKeys: only the sorted key (BY/GET keys derive from its content).</summary>
    public static void SortReadOnlyKeys(CommandLine line, KeyBuffer result) => result.Add(1, KeyFlags.RO | KeyFlags.Access);

    /// <summary>Redis's setGetKeys: the key is read as well as written when a GET argument follows the value.</summary>
    public static void SetKeys(CommandLine line, KeyBuffer result)
    {
        for (int i = 3; i < line.Count; i++)
        {
            if (Ascii.EqualsIgnoreCase(line[i], "get"u8))
            {
                result.Add(1, KeyFlags.RW | KeyFlags.Access | KeyFlags.Update);
                return;
            }
        }
        result.Add(1, KeyFlags.OW | KeyFlags.Update);
    }

    /// <summary>Redis's bitfieldGetKeys: the key is only read when every operation is a GET (OVERFLOW aside); anything else, a syntax error included, writes.</summary>
    public static void BitfieldKeys(CommandLine line, KeyBuffer result)
    {
        bool readOnly = true;
        for (int i = 2; i < line.Count; i++)
        {
            int remaining = line.Count - i - 1;
            var arg = line[i];
            if (Ascii.EqualsIgnoreCase(arg, "get"u8) && remaining >= 2)
            {
                i += 2;
            }
            else if (Ascii.EqualsIgnoreCase(arg, "overflow"u8) && remaining >= 1)
            {
                i += 1;
            }
            else
            {
                readOnly = false;
                break;
            }
        }
        result.Add(1, readOnly ? KeyFlags.RO | KeyFlags.Access : KeyFlags.RW | KeyFlags.Access | KeyFlags.Update);
    }
}
