using CacheOperator.Node.Commands;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Docs;

public class ReadmeTests
{
    /// <summary>README.md at the repository root.</summary>
    internal static string ReadmeText() => File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));

    /// <summary>The text between <c>&lt;!-- name --&gt;</c> and <c>&lt;!-- /name --&gt;</c>.</summary>
    internal static string Section(string text, string name)
    {
        string open = $"<!-- {name} -->\n", close = $"<!-- /{name} -->";
        int start = text.IndexOf(open, StringComparison.Ordinal);
        int end = text.IndexOf(close, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md has no {name} section");
        return text[(start + open.Length)..end];
    }

    [Fact]
    public void Readme_lists_exactly_the_commands_of_the_command_table()
    {
        // Regenerate with: dotnet run --project node -- --commands-markdown
        Assert.Equal(CommandReference.Markdown(new CommandTable()), Section(ReadmeText(), "commands-table"));
    }

    [Fact]
    public void Readme_names_every_command_redis_lists_that_the_node_lacks()
    {
        using var redis = RedisServerProcess.Start();
        using var client = redis.Client();
        var redisCommands = client.Call("COMMAND", "LIST").Texts.Select(n => n!).ToHashSet(StringComparer.Ordinal);
        var table = new CommandTable();
        var ours = table.All.SelectMany(c => c.Subcommands.Select(s => s.Name).Prepend(c.Name)).ToHashSet(StringComparer.Ordinal);
        // Redis lists a container's subcommands as "container|sub".
        var lacking = redisCommands.Where(n => !ours.Contains(n)).Order(StringComparer.Ordinal).ToList();
        var named = Section(ReadmeText(), "commands-not-served").Split('\n')
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| commands", StringComparison.Ordinal) && !l.StartsWith("| ---", StringComparison.Ordinal))
            .SelectMany(l => l.Split('|')[1].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Select(n => n.ToLowerInvariant().Replace(' ', '|'))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(lacking, named);
    }
}
