using CacheOperator.Node.Commands;

namespace CacheOperator.Node.Tests.Docs;

public class ReadmeTests
{
    /// <summary>README.md at the repository root, found by walking up from the test binaries.</summary>
    internal static string ReadmeText()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "README.md");
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "CacheOperator.sln")))
            {
                return File.ReadAllText(candidate);
            }
        }
        throw new FileNotFoundException("README.md next to CacheOperator.sln not found");
    }

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
