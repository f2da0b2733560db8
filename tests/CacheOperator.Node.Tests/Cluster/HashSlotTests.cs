using System.Text;
using CacheOperator.Node.Cluster;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Cluster;

/// <summary>CRC16 and hash tags as Redis's crc16.c and keyHashSlot.</summary>
public class HashSlotTests
{
    [Fact]
    public void Crc16_is_xmodem()
    {
        // The check value of CRC-16/XMODEM, and Redis's own test vector in crc16.c.
        Assert.Equal(0x31C3, HashSlot.Crc16("123456789"u8));
    }

    [Theory]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("", 0)]
    [InlineData("{user1000}.following", 3443)]
    [InlineData("{user1000}.followers", 3443)]
    [InlineData("user1000", 3443)]
    public void Known_slots(string key, int slot) => Assert.Equal(slot, HashSlot.Of(Encoding.UTF8.GetBytes(key)));

    [Theory]
    [InlineData("foo{}{bar}", "foo{}{bar}")]
    [InlineData("foo{{bar}}zap", "{bar")]
    [InlineData("foo{bar}{zap}", "bar")]
    [InlineData("{}", "{}")]
    [InlineData("{", "{")]
    [InlineData("}{a}", "a")]
    [InlineData("a{b", "a{b")]
    public void Hash_tags_follow_redis_rules(string key, string hashed) =>
        Assert.Equal(HashSlot.Crc16(Encoding.UTF8.GetBytes(hashed)) & 16383, HashSlot.Of(Encoding.UTF8.GetBytes(key)));
}
