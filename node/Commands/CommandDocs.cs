using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Commands;

/// <summary>
/// COMMAND INFO and COMMAND DOCS replies in Redis 7.0's shapes, built from <see cref="CommandSpec"/>:
/// flags, key specs from the fixed key positions, and argument docs parsed from the Syntax string.
/// </summary>
internal static class CommandDocs
{
    /// <summary>Flag names in the order Redis lists them.</summary>
    private static readonly (CommandFlags Flag, string Name)[] FlagNames =
    [
        (CommandFlags.Write, "write"), (CommandFlags.ReadOnly, "readonly"), (CommandFlags.DenyOom, "denyoom"), (CommandFlags.Admin, "admin"),
        (CommandFlags.PubSub, "pubsub"), (CommandFlags.NoScript, "noscript"), (CommandFlags.Blocking, "blocking"), (CommandFlags.Loading, "loading"), (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"), (CommandFlags.SkipSlowlog, "skip_slowlog"), (CommandFlags.Asking, "asking"), (CommandFlags.Fast, "fast"), (CommandFlags.NoAuth, "no_auth"),
        (CommandFlags.NoMandatoryKeys, "no_mandatory_keys"), (CommandFlags.NoAsyncLoading, "no_async_loading"), (CommandFlags.NoMulti, "no_multi"), (CommandFlags.MovableKeys, "movablekeys"), (CommandFlags.AllowBusy, "allow_busy"),
    ];

    /// <summary>ACL categories in Redis's order, which COMMAND INFO follows.</summary>
    private static readonly string[] AclOrder =
    [
        "@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string", "@bitmap", "@hyperloglog", "@geo", "@stream",
        "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous", "@connection", "@transaction", "@scripting",
    ];

    private static readonly HashSet<string> IntegerNames = new(StringComparer.Ordinal)
    {
        "seconds", "milliseconds", "count", "numkeys", "index", "offset", "start", "stop", "end", "db", "port", "increment", "decrement",
        "protover", "client-id", "numreplicas", "timeout", "limit", "length", "position", "bit", "destination-db", "len", "ttl",
    };

    private static readonly HashSet<string> DoubleNames = new(StringComparer.Ordinal) { "score", "longitude", "latitude", "radius", "width", "height", "min", "max" };

    /// <summary>The ACL categories of a command, with the ones Redis derives from its flags, in Redis's order.</summary>
    public static IEnumerable<string> AclCategories(CommandSpec spec)
    {
        var categories = new HashSet<string>(spec.Acl.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
        if ((spec.Flags & CommandFlags.Write) != 0)
        {
            categories.Add("@write");
        }
        if ((spec.Flags & CommandFlags.ReadOnly) != 0)
        {
            categories.Add("@read");
        }
        if ((spec.Flags & CommandFlags.Admin) != 0)
        {
            categories.Add("@admin");
            categories.Add("@dangerous");
        }
        if ((spec.Flags & CommandFlags.Blocking) != 0)
        {
            categories.Add("@blocking");
        }
        categories.Add((spec.Flags & CommandFlags.Fast) != 0 ? "@fast" : "@slow");
        if (categories.Contains("@fast"))
        {
            categories.Remove("@slow");
        }
        return AclOrder.Where(categories.Contains).Concat(categories.Where(c => !AclOrder.Contains(c)).Order(StringComparer.Ordinal));
    }

    /// <summary>One command's COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories, tips, key specs, subcommands.</summary>
    public static void WriteInfo(ReplyWriter r, CommandSpec spec)
    {
        r.WriteArrayHeader(10);
        r.WriteBulk(spec.Name);
        r.WriteInteger(spec.Arity);
        var flags = FlagNames.Where(f => (spec.Flags & f.Flag) != 0).Select(f => f.Name).ToList();
        r.WriteSetHeader(flags.Count);
        foreach (var flag in flags)
        {
            r.WriteSimple(flag);
        }
        r.WriteInteger(spec.FirstKey);
        r.WriteInteger(spec.LastKey);
        r.WriteInteger(spec.KeyStep);
        var acl = AclCategories(spec).ToList();
        r.WriteSetHeader(acl.Count);
        foreach (var category in acl)
        {
            r.WriteSimple(category);
        }
        var tips = spec.Tips.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        r.WriteSetHeader(tips.Length);
        foreach (var tip in tips)
        {
            r.WriteBulk(tip);
        }
        WriteKeySpecs(r, spec);
        if (spec.Subcommands.Count == 0)
        {
            r.WriteSetHeader(0);
        }
        else
        {
            r.WriteArrayHeader(spec.Subcommands.Count);
            foreach (var sub in spec.Subcommands)
            {
                WriteInfo(r, sub);
            }
        }
    }

    /// <summary>The key-specs element of COMMAND INFO, as Redis's addReplyCommandKeySpecs.</summary>
    private static void WriteKeySpecs(ReplyWriter r, CommandSpec spec)
    {
        var specs = spec.KeySpecs;
        r.WriteSetHeader(specs.Count);
        foreach (var ks in specs)
        {
            r.WriteMapHeader(ks.Notes is null ? 3 : 4);
            if (ks.Notes is not null)
            {
                r.WriteBulk("notes"u8);
                r.WriteBulk(ks.Notes);
            }
            r.WriteBulk("flags"u8);
            WriteKeyFlags(r, ks.Flags);
            r.WriteBulk("begin_search"u8);
            r.WriteMapHeader(2);
            r.WriteBulk("type"u8);
            switch (ks.BeginSearch)
            {
                case BeginSearchKind.Index:
                    r.WriteBulk("index"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(1);
                    r.WriteBulk("index"u8);
                    r.WriteInteger(ks.Index);
                    break;
                case BeginSearchKind.Keyword:
                    r.WriteBulk("keyword"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(2);
                    r.WriteBulk("keyword"u8);
                    r.WriteBulk(ks.Keyword);
                    r.WriteBulk("startfrom"u8);
                    r.WriteInteger(ks.StartFrom);
                    break;
                default:
                    r.WriteBulk("unknown"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(0);
                    break;
            }
            r.WriteBulk("find_keys"u8);
            r.WriteMapHeader(2);
            r.WriteBulk("type"u8);
            switch (ks.FindKeys)
            {
                case FindKeysKind.Range:
                    r.WriteBulk("range"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(3);
                    r.WriteBulk("lastkey"u8);
                    r.WriteInteger(ks.LastKey);
                    r.WriteBulk("keystep"u8);
                    r.WriteInteger(ks.KeyStep);
                    r.WriteBulk("limit"u8);
                    r.WriteInteger(ks.Limit);
                    break;
                case FindKeysKind.KeyNum:
                    r.WriteBulk("keynum"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(3);
                    r.WriteBulk("keynumidx"u8);
                    r.WriteInteger(ks.KeyNumIndex);
                    r.WriteBulk("firstkey"u8);
                    r.WriteInteger(ks.FirstKey);
                    r.WriteBulk("keystep"u8);
                    r.WriteInteger(ks.KeyStep);
                    break;
                default:
                    r.WriteBulk("unknown"u8);
                    r.WriteBulk("spec"u8);
                    r.WriteMapHeader(0);
                    break;
            }
        }
    }

    /// <summary>Key flags as a set of names in Redis's order (COMMAND INFO key specs, COMMAND GETKEYSANDFLAGS).</summary>
    public static void WriteKeyFlags(ReplyWriter r, KeyFlags flags)
    {
        int count = 0;
        foreach (var (flag, _) in KeySpec.FlagNames)
        {
            count += (flags & flag) != 0 ? 1 : 0;
        }
        r.WriteSetHeader(count);
        foreach (var (flag, name) in KeySpec.FlagNames)
        {
            if ((flags & flag) != 0)
            {
                r.WriteSimple(name);
            }
        }
    }

    /// <summary>One command's COMMAND DOCS value (the map after its name).</summary>
    public static void WriteDocs(ReplyWriter r, CommandSpec spec)
    {
        var arguments = ParseSyntax(spec.Syntax);
        AssignKeySpecs(arguments, spec, []);
        var docFlags = spec.DocFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int fields = 4 + (docFlags.Length > 0 ? 1 : 0) + (arguments.Count > 0 ? 1 : 0) + (spec.Subcommands.Count > 0 ? 1 : 0);
        r.WriteMapHeader(fields);
        r.WriteBulk("summary"u8);
        r.WriteBulk(spec.Summary);
        r.WriteBulk("since"u8);
        r.WriteBulk(spec.Since);
        r.WriteBulk("group"u8);
        r.WriteBulk(spec.Group);
        r.WriteBulk("complexity"u8);
        r.WriteBulk(spec.Complexity);
        if (docFlags.Length > 0)
        {
            r.WriteBulk("doc_flags"u8);
            r.WriteSetHeader(docFlags.Length);
            foreach (var flag in docFlags)
            {
                r.WriteSimple(flag);
            }
        }
        if (arguments.Count > 0)
        {
            r.WriteBulk("arguments"u8);
            WriteArguments(r, arguments);
        }
        if (spec.Subcommands.Count > 0)
        {
            r.WriteBulk("subcommands"u8);
            r.WriteMapHeader(spec.Subcommands.Count);
            foreach (var sub in spec.Subcommands)
            {
                r.WriteBulk(sub.Name);
                WriteDocs(r, sub);
            }
        }
    }

    private static void WriteArguments(ReplyWriter r, List<ArgumentDoc> arguments)
    {
        r.WriteArrayHeader(arguments.Count);
        foreach (var arg in arguments)
        {
            var flags = new List<string>();
            if (arg.Optional)
            {
                flags.Add("optional");
            }
            if (arg.Multiple)
            {
                flags.Add("multiple");
            }
            bool isKey = arg.KeySpecIndex is not null;
            int fields = 2 + (isKey ? 1 : 0) + (arg.Token is null ? 0 : 1) + (flags.Count > 0 ? 1 : 0) + (arg.Arguments.Count > 0 ? 1 : 0);
            r.WriteMapHeader(fields);
            r.WriteBulk("name"u8);
            r.WriteBulk(arg.Name);
            r.WriteBulk("type"u8);
            r.WriteBulk(arg.Type);
            if (isKey)
            {
                r.WriteBulk("key_spec_index"u8);
                r.WriteInteger(arg.KeySpecIndex!.Value);
            }
            if (arg.Token is not null)
            {
                r.WriteBulk("token"u8);
                r.WriteBulk(arg.Token);
            }
            if (flags.Count > 0)
            {
                r.WriteBulk("flags"u8);
                r.WriteSetHeader(flags.Count);
                foreach (var flag in flags)
                {
                    r.WriteSimple(flag);
                }
            }
            if (arg.Arguments.Count > 0)
            {
                r.WriteBulk("arguments"u8);
                WriteArguments(r, arg.Arguments);
            }
        }
    }

    /// <summary>Names Redis's documentation gives key arguments that the syntax does not spell "...key".</summary>
    private static readonly HashSet<string> KeyArgumentNames = new(StringComparer.Ordinal) { "source", "destination", "dst", "src" };

    /// <summary>
    /// Links key arguments to the command's key specs in order of appearance, as Redis's documentation does: each
    /// differently named key argument takes the next spec; patterns name keys only where a spec cannot say them (SORT's BY/GET).
    /// </summary>
    private static void AssignKeySpecs(List<ArgumentDoc> arguments, CommandSpec spec, Dictionary<string, int> assigned)
    {
        var specs = spec.KeySpecs;
        if (specs.Count == 0)
        {
            return;
        }
        foreach (var arg in arguments)
        {
            if (arg.Type == "string" && KeyArgumentNames.Contains(arg.Name))
            {
                arg.Type = "key";
            }
            bool namesKeys = arg.Type == "key" || (arg.Type == "pattern" && specs.Any(k => k.BeginSearch == BeginSearchKind.Unknown));
            if (namesKeys)
            {
                if (!assigned.TryGetValue(arg.Name, out int index))
                {
                    index = Math.Min(assigned.Count, specs.Count - 1);
                    assigned[arg.Name] = index;
                }
                arg.KeySpecIndex = index;
            }
            AssignKeySpecs(arg.Arguments, spec, assigned);
        }
    }

    /// <summary>One argument as COMMAND DOCS describes it.</summary>
    internal sealed class ArgumentDoc(string name, string type)
    {
        public string Name { get; set; } = name;

        public string Type { get; set; } = type;

        public string? Token { get; set; }

        public bool Optional { get; set; }

        public bool Multiple { get; set; }

        /// <summary>The key spec that finds this argument (key arguments, and SORT's BY/GET patterns), or null.</summary>
        public int? KeySpecIndex { get; set; }

        public List<ArgumentDoc> Arguments { get; init; } = [];
    }

    /// <summary>
    /// Parses Redis's documented syntax ("key value [NX | XX] [EX seconds | PX milliseconds]") into
    /// argument docs: upper-case words are tokens, <c>[...]</c> optional, <c>&lt;a | b&gt;</c> one of,
    /// <c>x [x ...]</c> multiple, a token followed by words a block.
    /// </summary>
    internal static List<ArgumentDoc> ParseSyntax(string syntax)
    {
        var tokens = Tokenize(syntax);
        int pos = 0;
        var alternatives = ParseAlternatives(tokens, ref pos);
        return alternatives.Count == 1 ? alternatives[0] : [OneOf(alternatives)];
    }

    private static List<string> Tokenize(string syntax)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < syntax.Length)
        {
            char c = syntax[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '[' or ']' or '<' or '>' or '|')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (syntax.AsSpan(i).StartsWith("..."))
            {
                tokens.Add("...");
                i += 3;
            }
            else
            {
                int start = i;
                while (i < syntax.Length && !char.IsWhiteSpace(syntax[i]) && syntax[i] is not ('[' or ']' or '<' or '>' or '|') && !syntax.AsSpan(i).StartsWith("..."))
                {
                    i++;
                }
                tokens.Add(syntax[start..i]);
            }
        }
        return tokens;
    }

    /// <summary>Sequences separated by '|' until a closing bracket or the end.</summary>
    private static List<List<ArgumentDoc>> ParseAlternatives(List<string> tokens, ref int pos)
    {
        var alternatives = new List<List<ArgumentDoc>> { ParseSequence(tokens, ref pos) };
        while (pos < tokens.Count && tokens[pos] == "|")
        {
            pos++;
            alternatives.Add(ParseSequence(tokens, ref pos));
        }
        return alternatives;
    }

    private static List<ArgumentDoc> ParseSequence(List<string> tokens, ref int pos)
    {
        var items = new List<ArgumentDoc>();
        while (pos < tokens.Count && tokens[pos] is not ("|" or "]" or ">"))
        {
            string t = tokens[pos++];
            if (t == "...")
            {
                if (items.Count > 0)
                {
                    items[^1].Multiple = true;
                }
                continue;
            }
            if (t is "[" or "<")
            {
                var inner = ParseAlternatives(tokens, ref pos);
                if (pos < tokens.Count)
                {
                    pos++;
                }
                bool optional = t == "[";
                // "x [x ...]" or "a b [a b ...]": the group only repeats the arguments before it.
                if (optional && inner.Count == 1 && RepeatsTail(items, inner[0]))
                {
                    int n = inner[0].Count;
                    if (n == 1)
                    {
                        items[^1].Multiple = true;
                    }
                    else
                    {
                        var repeated = Block(items[^n..]);
                        repeated.Multiple = true;
                        items.RemoveRange(items.Count - n, n);
                        items.Add(repeated);
                    }
                    continue;
                }
                // "<word>" alone is a block of one argument (PSUBSCRIBE's "<pattern> [<pattern> ...]", as Redis documents it).
                var group = inner.Count > 1 ? OneOf(inner) : inner[0].Count == 1 && !(t == "<" && inner[0][0].Token is null) ? inner[0][0] : Block(inner[0]);
                // "TOKEN <a | b>": the token introduces the group.
                if (!optional && items.Count > 0 && items[^1].Type == "pure-token" && group.Token is null)
                {
                    var token = items[^1];
                    items.RemoveAt(items.Count - 1);
                    group.Token = token.Token;
                    group.Name = token.Name;
                }
                group.Optional |= optional;
                items.Add(group);
                continue;
            }
            if (IsToken(t))
            {
                // A token and the plain words after it: one argument with a token, or a block.
                var words = new List<ArgumentDoc>();
                while (pos < tokens.Count && !IsPunctuation(tokens[pos]) && !IsToken(tokens[pos]))
                {
                    words.Add(Word(tokens[pos++]));
                }
                if (pos < tokens.Count && tokens[pos] == "..." && words.Count > 0)
                {
                    pos++;
                    words[^1].Multiple = true;
                }
                ArgumentDoc arg = words.Count switch
                {
                    0 => new ArgumentDoc(t.ToLowerInvariant(), "pure-token"),
                    1 => words[0],
                    _ => new ArgumentDoc(t.ToLowerInvariant(), "block") { Arguments = words },
                };
                arg.Token = t;
                items.Add(arg);
                continue;
            }
            items.Add(Word(t));
        }
        return items;
    }

    private static bool RepeatsTail(List<ArgumentDoc> items, List<ArgumentDoc> group)
    {
        int n = group.Count;
        if (n == 0 || !group[^1].Multiple || items.Count < n)
        {
            return false;
        }
        for (int i = 0; i < n; i++)
        {
            if (items[items.Count - n + i].Name != group[i].Name)
            {
                return false;
            }
        }
        return true;
    }

    private static ArgumentDoc OneOf(List<List<ArgumentDoc>> alternatives)
    {
        var choices = alternatives.Select(a => a.Count == 1 ? a[0] : Block(a)).ToList();
        return new ArgumentDoc(string.Join('-', choices.Select(c => c.Name)), "oneof") { Arguments = choices };
    }

    private static ArgumentDoc Block(List<ArgumentDoc> items) => new(string.Join('-', items.Select(i => i.Name)), "block") { Arguments = items };

    private static ArgumentDoc Word(string word)
    {
        string type = word.EndsWith("key", StringComparison.Ordinal) ? "key"
            : word.StartsWith("unix-time", StringComparison.Ordinal) ? "unix-time"
            : IntegerNames.Contains(word) ? "integer"
            : DoubleNames.Contains(word) ? "double"
            : word == "pattern" ? "pattern"
            : "string";
        return new ArgumentDoc(word, type);
    }

    private static bool IsPunctuation(string t) => t is "[" or "]" or "<" or ">" or "|" or "...";

    private static bool IsToken(string t) => t.Any(char.IsLetter) && !t.Any(char.IsLower) && !IsPunctuation(t);
}
