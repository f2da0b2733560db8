namespace CacheOperator.Node.Commands;

/// <summary>The list of supported commands as a Markdown table, generated from the command table for README.md.</summary>
public static class CommandReference
{
    /// <summary>One row per Redis command group: the group and its commands (subcommands as CONFIG GET).</summary>
    public static string Markdown(CommandTable table)
    {
        var sb = new StringBuilder();
        sb.Append("| group | commands |\n| --- | --- |\n");
        foreach (var group in table.All.GroupBy(c => c.Group).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var names = group
                .SelectMany(c => c.Subcommands.Count == 0 || c.Handler is not null ? c.Subcommands.Select(s => s.Name).Prepend(c.Name) : c.Subcommands.Select(s => s.Name))
                .Select(n => n.Replace('|', ' ').ToUpperInvariant())
                .Order(StringComparer.Ordinal);
            sb.Append("| ").Append(group.Key).Append(" | ").Append(string.Join(", ", names)).Append(" |\n");
        }
        return sb.ToString();
    }
}
