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
}
