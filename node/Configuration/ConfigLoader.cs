using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Configuration;

/// <summary>A configuration that cannot be used; the message names the source, line and directive.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Reads configuration as redis-server does: an optional redis.conf-style file (first argument or
/// <c>--config FILE</c>) and then <c>--name value...</c> options, which win over the file.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Applies the file and options in <paramref name="args"/> to <paramref name="config"/>.</summary>
    public static void Load(NodeConfig config, IReadOnlyList<string> args)
    {
        int i = 0;
        string? file = null;
        if (args.Count > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            file = args[0];
            i = 1;
        }
        var options = new List<(string Name, List<string> Values)>();
        for (; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                throw new ConfigException($"command line: '{args[i]}' is not an option; options look like --port 7000");
            }
            var values = new List<string>();
            while (i + 1 < args.Count && !(args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
            {
                values.Add(args[++i]);
            }
            string name = args[i - values.Count][2..];
            if (name.Equals("config", StringComparison.OrdinalIgnoreCase))
            {
                if (values.Count != 1)
                {
                    throw new ConfigException("command line: --config takes one file name");
                }
                file = values[0];
                continue;
            }
            options.Add((name, values));
        }

        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new ConfigException($"{file}: the configuration file does not exist");
            }
            config.ConfigFile = Path.GetFullPath(file);
            ApplyText(config, File.ReadAllText(file), file);
        }
        foreach (var (name, values) in options)
        {
            Apply(config, name, values, $"command line option --{name}");
        }
    }

    /// <summary>Applies redis.conf text; <paramref name="source"/> names it in errors.</summary>
    public static void ApplyText(NodeConfig config, string text, string source)
    {
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var words = InlineSplitter.Split(Encoding.UTF8.GetBytes(line));
            string where = $"{source}, line {n + 1}";
            if (words is null)
            {
                throw new ConfigException($"{where}: >>> '{line}': unbalanced quotes in configuration line");
            }
            string name = Encoding.UTF8.GetString(words[0]);
            Apply(config, name, words.Skip(1).Select(w => Encoding.UTF8.GetString(w)).ToList(), where, line);
        }
    }

    private static void Apply(NodeConfig config, string name, List<string> values, string where, string? line = null)
    {
        string shown = line ?? $"{name} {string.Join(' ', values)}".TrimEnd();
        var directive = config.Find(name) ?? throw new ConfigException($"{where}: >>> '{shown}': Bad directive or wrong number of arguments (unknown directive '{name}')");
        if (values.Count == 0 && directive.Kind != DirectiveKind.Text)
        {
            throw new ConfigException($"{where}: >>> '{shown}': wrong number of arguments for '{directive.Name}'");
        }
        if (values.Count > 1 && directive.Kind != DirectiveKind.Text)
        {
            throw new ConfigException($"{where}: >>> '{shown}': wrong number of arguments for '{directive.Name}'");
        }
        var error = directive.Set(string.Join(' ', values));
        if (error is not null)
        {
            throw new ConfigException($"{where}: >>> '{shown}': {error}");
        }
    }
}
