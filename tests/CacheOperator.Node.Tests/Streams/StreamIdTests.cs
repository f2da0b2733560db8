using System.Text;
using CacheOperator.Node.Storage.Streams;
using Xunit;

namespace CacheOperator.Node.Tests.Streams;

public class StreamIdTests
{
    [Theory]
    [InlineData("0", 0UL, 0UL)]
    [InlineData("5-3", 5UL, 3UL)]
    [InlineData("18446744073709551615-18446744073709551615", ulong.MaxValue, ulong.MaxValue)]
    public void Parses_and_formats_back(string text, ulong ms, ulong seq)
    {
        Assert.True(StreamId.TryParse(Encoding.ASCII.GetBytes(text), 0, out var id));
        Assert.Equal(new StreamId(ms, seq), id);
        Span<byte> buffer = stackalloc byte[StreamId.MaxTextLength];
        string expected = text.Contains('-') ? text : text + "-0";
        Assert.Equal(expected, Encoding.ASCII.GetString(buffer[..id.Format(buffer)]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("1-")]
    [InlineData("a-1")]
    [InlineData("1-2-3")]
    [InlineData(" ")]
    [InlineData("1--1")]
    [InlineData("18446744073709551616")]
    public void Rejects_what_redis_rejects(string text) =>
        Assert.False(StreamId.TryParse(Encoding.ASCII.GetBytes(text), 0, out _));

    [Theory]
    [InlineData("+5", 5UL, 0UL)]
    [InlineData(" 5-\t2", 5UL, 2UL)]
    public void Takes_strtoull_forms_as_redis_does(string text, ulong ms, ulong seq)
    {
        Assert.True(StreamId.TryParse(Encoding.ASCII.GetBytes(text), 0, out var id));
        Assert.Equal(new StreamId(ms, seq), id);
    }

    [Fact]
    public void A_missing_sequence_takes_the_given_default()
    {
        Assert.True(StreamId.TryParse("7"u8, ulong.MaxValue, out var id));
        Assert.Equal(new StreamId(7, ulong.MaxValue), id);
    }

    [Fact]
    public void Increment_and_decrement_carry_between_the_parts()
    {
        Assert.True(new StreamId(1, ulong.MaxValue).TryIncrement(out var up));
        Assert.Equal(new StreamId(2, 0), up);
        Assert.True(up.TryDecrement(out var down));
        Assert.Equal(new StreamId(1, ulong.MaxValue), down);
        Assert.False(StreamId.Max.TryIncrement(out _));
        Assert.False(StreamId.Min.TryDecrement(out _));
    }
}
