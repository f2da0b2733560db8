using CacheOperator.Node.Server;
using CacheOperator.Node.Storage.Streams;

namespace CacheOperator.Node.Commands;

/// <summary>The consumer-group part of the stream family (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM, XINFO GROUPS / CONSUMERS).</summary>
internal static partial class StreamCommands
{
    /// <summary>The group commands of the family.</summary>
    private static IEnumerable<CommandSpec> GroupCommands => [];

    /// <summary>XINFO's group subcommands (GROUPS, CONSUMERS).</summary>
    private static IEnumerable<CommandSpec> XinfoGroupSubcommands => [];

    /// <summary>The "groups" part of XINFO STREAM FULL: each group with up to <paramref name="count"/> PEL entries per list (0: all).</summary>
    private static void WriteXinfoFullGroups(Session s, StreamValue stream, long count) => s.Reply.WriteArrayHeader(0);
}
