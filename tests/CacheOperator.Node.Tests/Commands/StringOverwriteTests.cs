using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Commands;

/// <summary>
/// SET reuses the stored array when the new value has the same length (a performance path): what a
/// client sees must not change, also when replies to earlier commands of the same pipeline still
/// mention the old bytes.
/// </summary>
public class StringOverwriteTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    [Fact]
    public void Same_length_overwrites_answer_as_redis()
    {
        servers.AssertSameReplies(
            ["SET", "same", "aaaa"],
            ["GET", "same"],
            ["SET", "same", "bbbb"],
            ["GET", "same"],
            ["SET", "same", "cccc", "GET"],
            ["GET", "same"],
            ["SET", "same", "dddd", "KEEPTTL"],
            ["SET", "same", "eeee", "EX", "100"],
            ["SET", "same", "ffff"],
            ["SETRANGE", "same", "1", "zz"],
            ["SET", "same", "gggg"],
            ["GET", "same"],
            ["SET", "same", "longer value"],
            ["SET", "same", "hhhhhhhhhhhh"],
            ["GET", "same"]);
    }

    [Fact]
    public void Pipelined_get_before_an_overwrite_keeps_the_old_bytes()
    {
        using var node = servers.Node.Client();
        var value1 = new string('1', 1024);
        var value2 = new string('2', 1024);
        var batch = new List<byte>();
        batch.AddRange(RespClient.Encode("SET", "piped", value1));
        batch.AddRange(RespClient.Encode("GET", "piped"));
        batch.AddRange(RespClient.Encode("SET", "piped", value2));
        batch.AddRange(RespClient.Encode("GET", "piped"));
        node.SendRaw(batch.ToArray());
        Assert.Equal("OK", node.Read().Text);
        Assert.Equal(value1, node.Read().Text);
        Assert.Equal("OK", node.Read().Text);
        Assert.Equal(value2, node.Read().Text);
        Assert.Equal(Encoding.ASCII.GetBytes(value2), node.Call("GET", "piped").Bytes);
    }
}
