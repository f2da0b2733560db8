using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// Differential runs for collections whose member order is not part of the contract (Redis 7.0 keeps
/// string sets and big hashes in a hashtable): aggregate replies are compared after sorting their elements
/// (pairs kept together for maps and HGETALL-like flat lists), everything else exactly.
/// </summary>
internal static class CollectionDifferential
{
    /// <summary>
    /// <see cref="RedisAndNode.AssertSameReplies(int, string[][])"/> after deleting, on the node, every
    /// argument the commands name, so runs start clean even where the node has no FLUSHALL yet.
    /// </summary>
    public static IReadOnlyList<RespValue> AssertSame(RedisAndNode servers, int protocol, params string[][] commands)
    {
        Clean(servers, commands);
        return servers.AssertSameReplies(protocol, commands);
    }

    /// <summary>Deletes on the node every argument (after the name) of the commands: a superset of their keys.</summary>
    public static void Clean(RedisAndNode servers, string[][] commands)
    {
        using var node = servers.Node.Client();
        var names = commands.SelectMany(c => c.Skip(1)).Distinct().ToArray();
        foreach (var chunk in names.Chunk(500))
        {
            node.Call(["DEL", .. chunk]);
        }
    }

    /// <summary>Runs every command on both servers and compares replies, sorting aggregates (as pairs where <paramref name="pairs"/> says).</summary>
    public static IReadOnlyList<RespValue> AssertSameIgnoringOrder(RedisAndNode servers, int protocol, Func<string[], bool> pairs, params string[][] commands)
    {
        Clean(servers, commands);
        return servers.AssertSameReplies(protocol, (command, reply) => Normalize(reply, pairs(command)), commands);
    }

    /// <summary>Sorts the elements of an aggregate reply (as pairs when <paramref name="pairs"/>), recursively for a scan reply.</summary>
    public static RespValue Normalize(RespValue value, bool pairs)
    {
        if (value.Items is null)
        {
            return value;
        }
        // A scan reply: [cursor, elements].
        if (value.Kind == RespKind.Array && value.Items.Count == 2 && value.Items[1].Items is not null && value.Items[0].Kind == RespKind.Bulk)
        {
            return value with { Items = [value.Items[0], Normalize(value.Items[1], pairs)] };
        }
        var items = value.Items.ToList();
        if (pairs || value.Kind == RespKind.Map)
        {
            var grouped = items.Chunk(2).OrderBy(p => Render(p[0]), StringComparer.Ordinal).SelectMany(p => p).ToList();
            return value with { Items = grouped };
        }
        return value with { Items = items.OrderBy(Render, StringComparer.Ordinal).ToList() };
    }

    /// <summary>Type and bytes of a reply as text, for exact comparison.</summary>
    public static string Render(RespValue value) => value.Items is null
        ? $"{value.Kind}:{value.Integer}:{Convert.ToHexString(value.Bytes ?? [])}"
        : $"{value.Kind}[{string.Join(",", value.Items.Select(Render))}]";
}
