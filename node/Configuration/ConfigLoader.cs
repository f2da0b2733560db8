using CacheOperator.Node.Protocol;

namespace CacheOperator.Node.Configuration;

/// <summary>A configuration that cannot be used; the message is the text redis-server 7.0 prints for it.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Reads configuration as redis-server 7.0 does: an optional redis.conf-style file (first argument, or
/// <c>--config FILE</c>) followed by the <c>--name value...</c> options turned into lines of their own, so the
/// command line wins and errors look the same wherever the directive came from.
/// </summary>
public static class ConfigLoader
{
    /// <summary>The version redis-server names in its fatal configuration errors.</summary>
    public const string RedisVersion = "7.0.15";

    /// <summary>Applies the file and options in <paramref name="args"/> to <paramref name="config"/>.</summary>
    public static void Load(NodeConfig config, IReadOnlyList<string> args)
    {
        int i = 0;
        string? file = null;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            file = args[0];
            i = 1;
        }
        var options = new StringBuilder();
        bool lastHasValue = true;
        for (; i < args.Count; i++)
        {
            string arg = args[i];
            if (lastHasValue && arg.StartsWith("--", StringComparison.Ordinal))
            {
                // As redis-server: an option name is followed by at least one value, even one starting with "--".
                if (arg.Equals("--config", StringComparison.OrdinalIgnoreCase) && i + 1 < args.Count)
                {
                    file = args[++i];
                    continue;
                }
                if (options.Length > 0)
                {
                    options.Append('\n');
                }
                options.Append(arg, 2, arg.Length - 2).Append(' ');
                lastHasValue = arg.Trim().Contains(' ', StringComparison.Ordinal);
                if (!lastHasValue && arg.Equals("--save", StringComparison.OrdinalIgnoreCase)
                    && (i == args.Count - 1 || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
                {
                    // Redis's special case: a bare --save means save "".
                    options.Append("\"\"");
                    lastHasValue = true;
                }
            }
            else
            {
                AppendQuoted(options, arg).Append(' ');
                lastHasValue = true;
            }
        }

        string text = "";
        if (file is not null)
        {
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                string reason = e is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : e.Message;
                throw new ConfigException($"Fatal error, can't open config file '{file}': {reason}");
            }
            config.ConfigFile = Path.GetFullPath(file);
        }
        if (options.Length > 0)
        {
            text += "\n" + options;
        }
        ApplyText(config, text);
    }

    /// <summary>Applies redis.conf text, line by line; a bad line stops with Redis's fatal error text.</summary>
    public static void ApplyText(NodeConfig config, string text) => ApplyText(config, text, 0);

    private static void ApplyText(NodeConfig config, string text, int depth)
    {
        var lines = text.Split('\n');
        bool saveSeen = false;
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var words = InlineSplitter.Split(Encoding.UTF8.GetBytes(line));
            if (words is null)
            {
                throw Fatal(n + 1, line, "Unbalanced quotes in configuration line");
            }
            if (words.Count == 0)
            {
                continue;
            }
            string name = Encoding.UTF8.GetString(words[0]);
            var values = words.Skip(1).Select(w => Encoding.UTF8.GetString(w)).ToList();
            if (name.Equals("include", StringComparison.OrdinalIgnoreCase) && values.Count == 1)
            {
                // As Redis: the included file's lines apply here, so later lines override them. The operator includes the
                // file its init container writes the password into, which keeps the password off the command line.
                Include(config, values[0], depth);
                continue;
            }
            if (config.Find(name) == config.Save && values is not [""])
            {
                // As Redis 7.0: the first save line replaces the default, later ones add rules to it.
                if (saveSeen && config.Save.Text.Length > 0)
                {
                    values.InsertRange(0, config.Save.Text.Split(' '));
                }
                saveSeen = true;
            }
            else if (config.Find(name) == config.Save)
            {
                saveSeen = true;
            }
            if (Apply(config, name, values) is { } error)
            {
                throw Fatal(n + 1, line, error);
            }
        }
    }

    private static void Include(NodeConfig config, string file, int depth)
    {
        if (depth >= 16)
        {
            throw new ConfigException($"Fatal error, config file '{file}' includes too deeply (include loop?)");
        }
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string reason = e is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : e.Message;
            throw new ConfigException($"Fatal error, can't open config file '{file}': {reason}");
        }
        ApplyText(config, text, depth + 1);
    }

    /// <summary>Applies one directive; returns Redis's reason when it is refused, else null.</summary>
    private static string? Apply(NodeConfig config, string name, List<string> values)
    {
        var directive = config.Find(name);
        if (directive is null)
        {
            bool ignored = values.Count == 1 && NodeConfig.IgnoredInFiles.Contains(name, StringComparer.OrdinalIgnoreCase);
            return ignored ? null : "Bad directive or wrong number of arguments";
        }
        if (!directive.MultipleArguments && values.Count != 1)
        {
            return "wrong number of arguments";
        }
        return directive.Set(string.Join(' ', values));
    }

    private static ConfigException Fatal(int line, string text, string reason) => new(
        $"\n*** FATAL CONFIG FILE ERROR (Redis {RedisVersion}) ***\nReading the configuration file, at line {line}\n>>> '{text}'\n{reason}");

    /// <summary>A config-file value quoted as Redis's sdscatrepr, so the line reads back as the same value (in the node and in redis-server).</summary>
    public static string Quote(string value) => AppendQuoted(new StringBuilder(), value).ToString();

    /// <summary>Quotes a command-line value as Redis's sdscatrepr, so the line reads back as the same value.</summary>
    private static StringBuilder AppendQuoted(StringBuilder into, string value)
    {
        into.Append('"');
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            switch (b)
            {
                case (byte)'\\': into.Append("\\\\"); break;
                case (byte)'"': into.Append("\\\""); break;
                case (byte)'\n': into.Append("\\n"); break;
                case (byte)'\r': into.Append("\\r"); break;
                case (byte)'\t': into.Append("\\t"); break;
                case 7: into.Append("\\a"); break;
                case 8: into.Append("\\b"); break;
                default:
                    if (b is >= 0x20 and < 0x7f)
                    {
                        into.Append((char)b);
                    }
                    else
                    {
                        into.Append("\\x").Append(b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    break;
            }
        }
        return into.Append('"');
    }
}
