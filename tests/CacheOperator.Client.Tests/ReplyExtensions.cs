namespace CacheOperator.Client.Tests;

/// <summary>Assertion helpers.</summary>
public static class ReplyExtensions
{
    /// <summary>The texts of an aggregate's children, nulls as "(nil)".</summary>
    public static string[] Strings(this RespReply reply) => [.. reply.AsStrings().Select(s => s ?? "(nil)")];
}
