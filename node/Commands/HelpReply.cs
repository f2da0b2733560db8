using CacheOperator.Node.Server;

namespace CacheOperator.Node.Commands;

/// <summary>The reply of a container's HELP subcommand, in Redis's layout: a title line, the lines, then HELP itself, as simple strings.</summary>
internal static class HelpReply
{
    /// <summary>Writes the help of <paramref name="command"/> (upper case) with its subcommand lines.</summary>
    public static void Write(Session s, string command, params string[] lines)
    {
        s.Reply.WriteArrayHeader(lines.Length + 3);
        s.Reply.WriteSimple($"{command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines)
        {
            s.Reply.WriteSimple(line);
        }
        s.Reply.WriteSimple("HELP"u8);
        s.Reply.WriteSimple("    Prints this help."u8);
    }
}
