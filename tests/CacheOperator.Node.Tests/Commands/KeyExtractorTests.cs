using System.Globalization;
using System.Text;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Memory;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>The key extractor as its users rely on it: memory accounting after every write, without allocating.</summary>
public sealed class KeyExtractorTests
{
    [Fact]
    public void Finding_keys_allocates_nothing_once_the_buffer_has_grown()
    {
        var table = new CommandTable();
        (CommandSpec Spec, ArgList Args)[] lines =
        [
            Line(table, "SET", "k", "v", "EX", "10", "GET"),
            Line(table, "MSET", "a", "1", "b", "2", "c", "3"),
            Line(table, "ZUNIONSTORE", "d", "3", "a", "b", "c", "WEIGHTS", "1", "2", "3"),
            Line(table, "ZUNIONSTORE", "d", "3x", "a", "b", "c"),
            Line(table, "SORT", "k", "BY", "w_*", "GET", "o_*", "STORE", "d"),
            Line(table, "BLMPOP", "0", "2", "a", "b", "LEFT"),
            Line(table, "RENAME", "a", "b"),
        ];
        var keys = new KeyBuffer();
        int found = 0;
        foreach (var (spec, args) in lines)
        {
            found += KeyExtractor.GetKeys(spec, args, keys);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            foreach (var (spec, args) in lines)
            {
                found += KeyExtractor.GetKeys(spec, args, keys);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        // SET 1, MSET 3, ZUNIONSTORE 4 and 4 (the count read as atoi), SORT 2, BLMPOP 2, RENAME 2.
        Assert.Equal(1001 * 18, found);
    }

    [Fact]
    public async Task Keys_found_after_a_numkeys_count_are_recharged_after_the_write()
    {
        await using var node = TestNode.Start();
        using var c = node.Client();
        for (int i = 0; i < 500; i++)
        {
            string member = "member-with-a-long-name-" + i.ToString(CultureInfo.InvariantCulture);
            c.Call("ZADD", "z1", "1", member);
            c.Call("ZADD", "z2", "1", member);
        }
        long large = UsedMemory(c);
        // The changed keys are the second of two after numkeys: only the key specs (or Redis's getkeys procedures) find them.
        Assert.Equal(2, c.Call("ZMPOP", "2", "nozset", "z1", "MIN", "COUNT", "499").Elements.Count);
        long afterFirst = UsedMemory(c);
        Assert.True(afterFirst < large - (400 * 24), $"ZMPOP of 499 members: used_memory {large} -> {afterFirst}");
        Assert.Equal(2, c.Call("BZMPOP", "0", "2", "nozset", "z2", "MAX", "COUNT", "499").Elements.Count);
        long afterSecond = UsedMemory(c);
        Assert.True(afterSecond < afterFirst - (400 * 24), $"BZMPOP of 499 members: used_memory {afterFirst} -> {afterSecond}");
    }

    private static (CommandSpec, ArgList) Line(CommandTable table, params string[] words)
    {
        var args = new ArgList(words.Select(Encoding.UTF8.GetBytes).ToArray());
        return (table.Find(args[0])!, args);
    }

    private static long UsedMemory(RespClient c) => long.Parse(EvictionTests.Info(c, "memory")["used_memory"], CultureInfo.InvariantCulture);
}
