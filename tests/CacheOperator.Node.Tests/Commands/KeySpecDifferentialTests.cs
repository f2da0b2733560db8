using System.Text;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// Key specs against redis-server 7.0.15: for every command both servers know, command lines generated from redis's own
/// COMMAND DOCS argument trees (each oneof branch, optional arguments present and absent, repeated arguments, numkeys
/// matching the keys that follow, and broken counts) go through COMMAND GETKEYS and COMMAND GETKEYSANDFLAGS on both
/// servers, and the key-spec part of COMMAND INFO is compared command by command.
/// </summary>
public class KeySpecDifferentialTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Getkeys_and_getkeysandflags_answer_as_redis_for_every_generated_command_line(int protocol)
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        redis.Call("HELLO", "3");
        var docs = Pairs(redis.Call("COMMAND", "DOCS"));
        var common = CommonCommands(redis, node);
        var lines = new List<string[]>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in common)
        {
            string[] prefix = name.Split('|');
            foreach (var line in IsContainer(docs, name) ? [] : CommandLines(ArgumentsOf(docs, name)))
            {
                lines.Add([.. prefix, .. line]);
                covered.Add(name);
            }
            // Too few arguments, and arguments that are not what the command takes.
            for (int extra = 0; extra <= 3; extra++)
            {
                lines.Add([.. prefix, .. Enumerable.Repeat("a", extra)]);
            }
        }
        lines.AddRange(
        [
            ["nosuch", "a"], ["config", "nosuch"], ["config", "get", "maxmemory"], ["object", "nosuch", "k"],
            ["set", "k", "v", "get"], ["set", "k", "get"], ["set", "k", "get", "GeT"], ["set", "k", "v", "EX", "10", "GET"], ["set", "k", "v", "getx"],
            ["sort", "k", "store"], ["sort", "k", "store", "d1", "store", "d2"], ["sort", "k", "limit", "store", "x", "store", "d"],
            ["sort", "k", "get", "store", "store", "d"], ["sort", "k", "by", "store"], ["sort", "k", "STORE", "d", "BY", "p"],
            ["sort_ro", "k", "store", "d"],
        ]);
        // A deliberate difference of the node's command table, not of key specs: ZRANK/ZREVRANK take Redis 7.2's
        // WITHSCORE (arity -3 where 7.0.15 has 3; see SortedSetCommandsTests).
        lines.RemoveAll(l => l[0] is "zrank" or "zrevrank" && l.Length > 3);
        Assert.NotEmpty(lines);
        // Every command both servers know gets generated lines (the whole table, not a sample).
        Assert.Equal(common.Where(n => !IsContainer(docs, n)).Order(), covered.Order());

        redis.Call("HELLO", protocol.ToString(System.Globalization.CultureInfo.InvariantCulture));
        node.Call("HELLO", protocol.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var queries = lines.Distinct(new SequenceComparer()).SelectMany(l => new[] { (string[])["COMMAND", "GETKEYS", .. l], ["COMMAND", "GETKEYSANDFLAGS", .. l] }).ToList();
        var expected = Pipeline(redis, queries);
        var actual = Pipeline(node, queries);
        var differences = queries.Select((q, i) => (q, i)).Where(p => !Same(expected[p.i], actual[p.i]))
            .Select(p => $"{string.Join(' ', p.q)}\n  redis: {expected[p.i]}\n  node:  {actual[p.i]}").ToList();
        Assert.True(differences.Count == 0, $"{differences.Count} of {queries.Count} differ:\n{string.Join('\n', differences.Take(30))}");
        // The generated lines do find keys: a generator that produced only errors would pass the comparison vacuously.
        Assert.True(actual.Count(r => r.Kind == RespKind.Array && r.Elements.Count > 0) > common.Count);
    }

    [Fact]
    public void Command_info_key_specs_first_last_step_and_movablekeys_are_redis_s()
    {
        using var redis = servers.Redis.Client();
        using var node = servers.Node.Client();
        redis.Call("HELLO", "3");
        node.Call("HELLO", "3");
        var common = CommonCommands(redis, node);
        var differences = new List<string>();
        int withSpecs = 0;
        foreach (var name in common)
        {
            var expected = redis.Call("COMMAND", "INFO", name).Elements[0];
            var actual = node.Call("COMMAND", "INFO", name).Elements[0];
            withSpecs += expected.Elements[8].Elements.Count > 0 ? 1 : 0;
            for (int field = 3; field <= 5; field++)
            {
                if (!Same(expected.Elements[field], actual.Elements[field]))
                {
                    differences.Add($"{name} first/last/step: redis {expected.Elements[field]} node {actual.Elements[field]}");
                }
            }
            if (!Same(expected.Elements[8], actual.Elements[8]))
            {
                differences.Add($"{name} key specs:\n  redis: {expected.Elements[8]}\n  node:  {actual.Elements[8]}");
            }
            bool movable(RespValue info) => info.Elements[2].Elements.Any(f => f.Text == "movablekeys");
            if (movable(expected) != movable(actual))
            {
                differences.Add($"{name} movablekeys: redis {movable(expected)} node {movable(actual)}");
            }
        }
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        Assert.True(withSpecs > 100, $"only {withSpecs} commands with key specs compared");
    }

    /// <summary>
    /// The extractor itself against every key spec redis-server 7.0.15 has, including the kinds no command of the node
    /// uses yet (keyword begin search, range limits, not_key, incomplete): each redis command's specs, read from its
    /// COMMAND INFO, are given to <see cref="KeyExtractor"/> with lines generated from its COMMAND DOCS. Where the specs
    /// find keys, redis answers from the same specs, so keys and flags must equal its GETKEYSANDFLAGS; where they cannot,
    /// redis falls back to a getkeys procedure the node does not have for that command, and the line is not compared.
    /// The legacy first/last/step and movablekeys derived from the specs must equal redis's too.
    /// </summary>
    [Fact]
    public void The_extractor_reads_every_redis_key_spec_as_redis_does()
    {
        using var redis = servers.Redis.Client();
        redis.Call("HELLO", "3");
        var docs = Pairs(redis.Call("COMMAND", "DOCS"));
        var infos = redis.Call("COMMAND", "INFO").Elements.SelectMany(i => new[] { i }.Concat(i.Elements[9].Elements)).ToList();
        var differences = new List<string>();
        var keys = new KeyBuffer();
        int compared = 0;
        var kindsSeen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var info in infos)
        {
            string name = info.Elements[0].Text!;
            var specs = info.Elements[8].Elements.Select(ToKeySpec).ToList();
            var command = new CommandSpec(name, (int)info.Elements[1].Integer, null) { KeySpecs = specs };
            long[] legacy = [info.Elements[3].Integer, info.Elements[4].Integer, info.Elements[5].Integer];
            bool movable = info.Elements[2].Elements.Any(f => f.Text == "movablekeys");
            if (!legacy.SequenceEqual([command.FirstKey, command.LastKey, command.KeyStep]) || movable != ((command.Flags & CommandFlags.MovableKeys) != 0))
            {
                differences.Add($"{name}: redis {string.Join('/', legacy)} movable={movable}, node {command.FirstKey}/{command.LastKey}/{command.KeyStep} flags={command.Flags}");
            }
            if (specs.Count == 0 || IsContainer(docs, name))
            {
                continue;
            }
            string[] prefix = name.Split('|');
            var lines = CommandLines(ArgumentsOf(docs, name)).Select(l => (string[])[.. prefix, .. l]).ToList();
            var replies = Pipeline(redis, lines.Select(l => (string[])["COMMAND", "GETKEYSANDFLAGS", .. l]).ToList());
            for (int i = 0; i < lines.Count; i++)
            {
                var args = new ArgList(lines[i].Select(Encoding.UTF8.GetBytes).ToArray());
                if (KeyExtractor.GetKeys(command, args, keys) == 0)
                {
                    continue;
                }
                compared++;
                specs.ForEach(k => kindsSeen.Add($"{k.BeginSearch}/{k.FindKeys}"));
                var ours = Enumerable.Range(0, keys.Count).Select(k => $"{lines[i][keys[k].Position]} [{string.Join(' ', FlagNames(keys[k].Flags))}]");
                var theirs = replies[i].Kind == RespKind.Array
                    ? replies[i].Elements.Select(e => $"{e.Elements[0].Text} [{string.Join(' ', e.Elements[1].Elements.Select(f => f.Text))}]")
                    : [replies[i].ToString()];
                if (!ours.SequenceEqual(theirs))
                {
                    differences.Add($"{string.Join(' ', lines[i])}\n  redis: {string.Join(", ", theirs)}\n  node:  {string.Join(", ", ours)}");
                }
            }
        }
        Assert.True(differences.Count == 0, string.Join('\n', differences.Take(30)));
        Assert.True(compared > 500, $"only {compared} lines compared");
        Assert.Superset(new HashSet<string> { "Index/Range", "Index/KeyNum", "Keyword/Range" }, kindsSeen);
    }

    /// <summary>A key spec of redis's COMMAND INFO as the node's model.</summary>
    private static KeySpec ToKeySpec(RespValue reply)
    {
        var map = Pairs(reply);
        string flags = string.Join(' ', map["flags"].Elements.Select(f => f.Text));
        var begin = Pairs(map["begin_search"]);
        var beginSpec = Pairs(begin["spec"]);
        var find = Pairs(map["find_keys"]);
        var findSpec = Pairs(find["spec"]);
        int Find(string field) => (int)findSpec[field].Integer;
        var spec = (begin["type"].Text, find["type"].Text) switch
        {
            ("index", "range") => KeySpec.Range(flags, (int)beginSpec["index"].Integer, Find("lastkey"), Find("keystep"), Find("limit")),
            ("index", "keynum") => KeySpec.KeyNum(flags, (int)beginSpec["index"].Integer, Find("keynumidx"), Find("firstkey"), Find("keystep")),
            ("keyword", "range") => KeySpec.KeywordRange(flags, beginSpec["keyword"].Text!, (int)beginSpec["startfrom"].Integer, Find("lastkey"), Find("keystep"), Find("limit")),
            ("keyword", "keynum") => KeySpec.KeywordKeyNum(flags, beginSpec["keyword"].Text!, (int)beginSpec["startfrom"].Integer, Find("keynumidx"), Find("firstkey"), Find("keystep")),
            _ => KeySpec.Unknown(flags, ""),
        };
        return spec with { Notes = map.TryGetValue("notes", out var notes) ? notes.Text : null };
    }

    private static IEnumerable<string> FlagNames(KeyFlags flags) =>
        new (KeyFlags Flag, string Name)[]
        {
            (KeyFlags.RO, "RO"), (KeyFlags.RW, "RW"), (KeyFlags.OW, "OW"), (KeyFlags.RM, "RM"), (KeyFlags.Access, "access"), (KeyFlags.Update, "update"),
            (KeyFlags.Insert, "insert"), (KeyFlags.Delete, "delete"), (KeyFlags.NotKey, "not_key"), (KeyFlags.Incomplete, "incomplete"), (KeyFlags.VariableFlags, "variable_flags"),
        }.Where(f => (flags & f.Flag) != 0).Select(f => f.Name);

    /// <summary>Names (with subcommands as "container|sub") that both servers list.</summary>
    private static List<string> CommonCommands(RespClient redis, RespClient node)
    {
        var ours = node.Call("COMMAND", "LIST").Texts.ToHashSet(StringComparer.Ordinal);
        var theirs = redis.Call("COMMAND", "LIST").Texts;
        var common = theirs.Where(ours.Contains).Select(n => n!).ToList();
        var withSubcommands = new List<string>(common);
        foreach (var name in common)
        {
            var info = redis.Call("COMMAND", "INFO", name).Elements[0];
            withSubcommands.AddRange(info.Elements[9].Elements.Select(s => s.Elements[0].Text!).Where(n => ours.Contains(n)));
        }
        // COMMAND LIST names containers; our node must also know each subcommand to count it.
        var ourSubcommands = node.Call("COMMAND", "INFO").Elements.SelectMany(i => i.Elements[9].Elements.Select(s => s.Elements[0].Text!));
        return withSubcommands.Where(n => !n.Contains('|', StringComparison.Ordinal) || ourSubcommands.Contains(n)).Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private static bool IsContainer(Dictionary<string, RespValue> docs, string name) =>
        !name.Contains('|', StringComparison.Ordinal) && Pairs(docs[name]).ContainsKey("subcommands");

    /// <summary>Redis's documented arguments of a command or subcommand.</summary>
    private static List<Argument> ArgumentsOf(Dictionary<string, RespValue> docs, string name)
    {
        string[] parts = name.Split('|');
        var doc = Pairs(docs[parts[0]]);
        if (parts.Length == 2)
        {
            doc = Pairs(Pairs(doc["subcommands"])[name]);
        }
        return doc.TryGetValue("arguments", out var args) ? args.Elements.Select(Argument.From).ToList() : [];
    }

    /// <summary>One argument of COMMAND DOCS.</summary>
    private sealed record Argument(string Name, string Type, string? Token, bool Optional, bool Multiple, bool MultipleToken, List<Argument> Children)
    {
        public static Argument From(RespValue value)
        {
            var map = Pairs(value);
            var flags = map.TryGetValue("flags", out var f) ? f.Elements.Select(e => e.Text).ToHashSet() : [];
            return new Argument(map["name"].Text!, map["type"].Text!, map.TryGetValue("token", out var t) ? t.Text : null,
                flags.Contains("optional"), flags.Contains("multiple"), flags.Contains("multiple_token"),
                map.TryGetValue("arguments", out var a) ? a.Elements.Select(From).ToList() : []);
        }
    }

    /// <summary>
    /// Valid command lines: eight systematic variants (oneof branch i, optionals all absent or all present, one to three
    /// repetitions) and eight seeded random ones; for each numkeys, also the counts redis refuses or reads leniently.
    /// </summary>
    private static IEnumerable<string[]> CommandLines(List<Argument> arguments)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var random = new Random(20260705);
        for (int variant = 0; variant < 16; variant++)
        {
            var generator = new LineGenerator(variant, random);
            foreach (var arg in arguments)
            {
                generator.Emit(arg);
            }
            var line = generator.Parts;
            if (seen.Add(string.Join('\u0001', line)))
            {
                yield return [.. line];
            }
            if (variant == 0)
            {
                foreach (int at in generator.NumKeysPositions)
                {
                    foreach (string bad in new[] { "0", "-1", "abc", "2abc", "99", " 1", "+1", "01" })
                    {
                        var broken = line.ToArray();
                        broken[at] = bad;
                        yield return broken;
                    }
                }
            }
        }
    }

    /// <summary>Builds one command line from argument trees, choosing per the variant.</summary>
    private sealed class LineGenerator(int variant, Random random)
    {
        private int _keys;
        private int _choices;
        private int _pendingNumKeys = -1;

        public List<string> Parts { get; } = [];

        public List<int> NumKeysPositions { get; } = [];

        private bool Systematic => variant < 8;

        public void Emit(Argument arg)
        {
            if (arg.Optional && !(Systematic ? variant % 2 == 1 : random.Next(2) == 0))
            {
                return;
            }
            int repetitions = arg.Multiple ? (Systematic ? 1 + (variant % 3) : random.Next(1, 4)) : 1;
            for (int r = 0; r < repetitions; r++)
            {
                if (arg.Token is not null && (r == 0 || arg.MultipleToken))
                {
                    Parts.Add(arg.Token);
                }
                EmitValue(arg);
            }
            if (arg.Type == "key" && _pendingNumKeys >= 0)
            {
                Parts[_pendingNumKeys] = repetitions.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _pendingNumKeys = -1;
            }
        }

        private void EmitValue(Argument arg)
        {
            switch (arg.Type)
            {
                case "pure-token":
                    break;
                case "oneof":
                    int branch = Systematic ? (variant + _choices++) % arg.Children.Count : random.Next(arg.Children.Count);
                    Emit(arg.Children[branch] with { Optional = false });
                    break;
                case "block":
                    foreach (var child in arg.Children)
                    {
                        Emit(child);
                    }
                    break;
                case "key":
                    Parts.Add($"key:{++_keys}");
                    break;
                case "integer" when arg.Name == "numkeys":
                    _pendingNumKeys = Parts.Count;
                    NumKeysPositions.Add(Parts.Count);
                    Parts.Add("1");
                    break;
                case "integer":
                    Parts.Add("1");
                    break;
                case "double":
                    Parts.Add("1.5");
                    break;
                case "unix-time":
                    Parts.Add("1700000000");
                    break;
                case "pattern":
                    Parts.Add("pattern:*");
                    break;
                default:
                    Parts.Add("value");
                    break;
            }
        }
    }

    private static List<RespValue> Pipeline(RespClient client, List<string[]> commands)
    {
        var replies = new List<RespValue>(commands.Count);
        const int Batch = 200;
        for (int start = 0; start < commands.Count; start += Batch)
        {
            var batch = commands.Skip(start).Take(Batch).ToList();
            client.SendRaw(batch.SelectMany(c => RespClient.Encode(c)).ToArray());
            replies.AddRange(batch.Select(_ => client.Read()));
        }
        return replies;
    }

    private static Dictionary<string, RespValue> Pairs(RespValue map)
    {
        var result = new Dictionary<string, RespValue>(StringComparer.Ordinal);
        for (int i = 0; i < map.Elements.Count; i += 2)
        {
            result[map.Elements[i].Text!] = map.Elements[i + 1];
        }
        return result;
    }

    /// <summary>Same RESP type and bytes, element by element.</summary>
    private static bool Same(RespValue a, RespValue b)
    {
        if (a.Kind != b.Kind || a.Integer != b.Integer || !(a.Bytes ?? []).AsSpan().SequenceEqual(b.Bytes ?? []))
        {
            return false;
        }
        var ai = a.Items ?? [];
        var bi = b.Items ?? [];
        return ai.Count == bi.Count && ai.Zip(bi).All(p => Same(p.First, p.Second));
    }

    private sealed class SequenceComparer : IEqualityComparer<string[]>
    {
        public bool Equals(string[]? x, string[]? y) => x is not null && y is not null && x.SequenceEqual(y);

        public int GetHashCode(string[] obj) => string.Join('\u0001', obj).GetHashCode(StringComparison.Ordinal);
    }
}
