using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Protocol;

public class RespParserTests
{
    private const long MaxBulk = 512L * 1024 * 1024;

    /// <summary>Feeds <paramref name="chunks"/> through a real Pipe as separate writes and returns every parsed command.</summary>
    private static List<string[]> ParseInChunks(IEnumerable<byte[]> chunks, long maxBulk = MaxBulk)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var batch = new CommandBatch();
        var commands = new List<string[]>();
        foreach (var chunk in chunks)
        {
            pipe.Writer.Write(chunk);
            Flush(pipe.Writer);
            Assert.True(pipe.Reader.TryRead(out var result));
            var consumed = RespParser.Parse(result.Buffer, batch, maxBulk);
            pipe.Reader.AdvanceTo(consumed, result.Buffer.End);
            for (int i = 0; i < batch.CommandCount; i++)
            {
                var args = batch.GetCommand(i);
                commands.Add(Enumerable.Range(0, args.Count).Select(j => Encoding.UTF8.GetString(args[j])).ToArray());
            }
            batch.ClearCompleted();
        }
        return commands;
    }

    /// <summary>An unbounded Pipe flushes synchronously; no waiting is involved.</summary>
    private static void Flush(PipeWriter writer) => Assert.True(writer.FlushAsync().IsCompleted);

    private static readonly string Pipelined =
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n" +
        "PING\r\n" +
        "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" +
        "set \"a b\" 'c d' \"\\x41\\n\"\n" +
        "*0\r\n" +
        "\r\n" +
        "*1\r\n$4\r\nPING\r\n";

    private static readonly string[][] Expected =
    [
        ["SET", "key", "va\r\nl"],
        ["PING"],
        ["ECHO", ""],
        ["set", "a b", "c d", "A\n"],
        ["PING"],
    ];

    [Fact]
    public void Parses_a_pipelined_mix_of_multibulk_and_inline_requests_in_one_read()
    {
        var commands = ParseInChunks([Encoding.UTF8.GetBytes(Pipelined)]);
        Assert.Equal(Expected, commands);
    }

    [Fact]
    public void Gives_the_same_commands_whatever_byte_the_request_is_split_at()
    {
        var bytes = Encoding.UTF8.GetBytes(Pipelined);
        for (int split = 1; split < bytes.Length; split++)
        {
            var commands = ParseInChunks([bytes[..split], bytes[split..]]);
            Assert.Equal(Expected, commands);
        }
    }

    [Fact]
    public void Gives_the_same_commands_when_every_byte_arrives_alone()
    {
        var bytes = Encoding.UTF8.GetBytes(Pipelined);
        var commands = ParseInChunks(bytes.Select(b => new[] { b }));
        Assert.Equal(Expected, commands);
    }

    [Fact]
    public void Large_bulk_split_at_every_thousandth_byte_is_reassembled_exactly()
    {
        var value = new byte[CommandBatch.LargeBulkThreshold * 3 + 7];
        new Random(1).NextBytes(value);
        var request = RespClient.Encode(Encoding.UTF8.GetBytes("SET"), Encoding.UTF8.GetBytes("big"), value);
        var chunks = request.Chunk(1000).ToList();
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var batch = new CommandBatch();
        byte[]? parsed = null;
        foreach (var chunk in chunks)
        {
            pipe.Writer.Write(chunk);
            Flush(pipe.Writer);
            pipe.Reader.TryRead(out var result);
            pipe.Reader.AdvanceTo(RespParser.Parse(result.Buffer, batch, MaxBulk), result.Buffer.End);
            if (batch.CommandCount == 1)
            {
                parsed = batch.GetCommand(0).Detach(2);
            }
        }
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("*abc\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'")]
    [InlineData("*1\r\n$x\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$-5\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$9999999999\r\n", "Protocol error: invalid bulk length")]
    [InlineData("set \"abc\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("set \"abc\"def\n", "Protocol error: unbalanced quotes in request")]
    public void Malformed_requests_raise_Redis_protocol_errors(string request, string message)
    {
        var e = Assert.Throws<ProtocolException>(() => ParseInChunks([Encoding.UTF8.GetBytes(request)]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Bulk_longer_than_proto_max_bulk_len_is_refused_before_any_allocation()
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ProtocolException>(() => ParseInChunks([Encoding.UTF8.GetBytes("*2\r\n$3\r\nGET\r\n$2000000\r\n")], maxBulk: 1024 * 1024));
        Assert.Equal("Protocol error: invalid bulk length", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024 * 1024, "the oversized bulk must not be allocated");
    }

    [Fact]
    public void Inline_request_without_newline_over_64k_is_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => ParseInChunks([Encoding.UTF8.GetBytes(new string('a', 70 * 1024))]));
        Assert.Equal("Protocol error: too big inline request", e.Message);
    }

    [Fact]
    public void Random_garbage_either_parses_or_raises_a_protocol_error()
    {
        var random = new Random(42);
        for (int round = 0; round < 2000; round++)
        {
            var bytes = new byte[random.Next(1, 200)];
            random.NextBytes(bytes);
            // Bias towards RESP-looking input so deeper states are reached.
            if (round % 2 == 0)
            {
                bytes[0] = (byte)"*$+:"[random.Next(4)];
            }
            try
            {
                ParseInChunks(bytes.Chunk(random.Next(1, 20)));
            }
            catch (ProtocolException)
            {
                // Expected for garbage.
            }
        }
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-1", -1L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Integers_parse_like_string2ll(string text, long expected)
    {
        Assert.True(RespParser.TryParseInt64(Encoding.ASCII.GetBytes(text), out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("-0")]
    [InlineData("01")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("1.0")]
    public void Integers_refuse_what_string2ll_refuses(string text)
    {
        Assert.False(RespParser.TryParseInt64(Encoding.ASCII.GetBytes(text), out _));
    }
}
