using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Protocol;

public class ConnectionBehaviourTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public Task InitializeAsync()
    {
        _node = TestNode.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public void Thousands_of_pipelined_commands_in_one_write_are_answered_in_order()
    {
        using var client = _node.Client();
        var request = new MemoryStream();
        for (int i = 0; i < 5000; i++)
        {
            request.Write(RespClient.Encode("SET", $"k{i}", $"v{i}"));
            request.Write(RespClient.Encode("GET", $"k{i}"));
        }
        client.SendRaw(request.ToArray());
        for (int i = 0; i < 5000; i++)
        {
            Assert.Equal("OK", client.Read().Text);
            Assert.Equal($"v{i}", client.Read().Text);
        }
    }

    [Fact]
    public void Request_sent_one_byte_at_a_time_over_the_socket_is_understood()
    {
        using var client = _node.Client();
        foreach (byte b in RespClient.Encode("ECHO", "hello world"))
        {
            client.SendRaw([b]);
        }
        Assert.Equal("hello world", client.Read().Text);
    }

    [Fact]
    public void Protocol_error_is_answered_and_the_connection_closed_after_earlier_commands_ran()
    {
        using var client = _node.Client();
        client.SendRaw("*1\r\n$4\r\nPING\r\n*1\r\n+bad\r\n");
        Assert.Equal("PONG", client.Read().Text);
        var error = client.Read();
        Assert.Equal(RespKind.Error, error.Kind);
        Assert.Equal("ERR Protocol error: expected '$', got '+'", error.Text);
        Assert.True(client.IsClosedByServer());
        using var other = _node.Client();
        Assert.Equal("PONG", other.Call("PING").Text);
    }

    [Fact]
    public void Client_that_sends_half_a_command_and_leaves_does_not_disturb_others()
    {
        using (var client = _node.Client())
        {
            client.SendRaw("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$100\r\nabc");
        }
        using var other = _node.Client();
        Assert.Equal(RespKind.Null, other.Call("GET", "half").Kind);
        Assert.Equal("PONG", other.Call("PING").Text);
    }

    [Fact]
    public void Inline_commands_work_as_with_telnet()
    {
        using var client = _node.Client();
        client.SendRaw("SET inline \"two words\"\r\nGET inline\r\n");
        Assert.Equal("OK", client.Read().Text);
        Assert.Equal("two words", client.Read().Text);
    }

    [Fact]
    public void Values_with_NUL_and_CRLF_inside_round_trip_exactly()
    {
        using var client = _node.Client();
        byte[] value = [0, 13, 10, 255, 0, (byte)'x', 13, 10];
        Assert.Equal("OK", client.Call(Encoding.UTF8.GetBytes("SET"), [0, 1, 13, 10], value).Text);
        Assert.Equal(value, client.Call(Encoding.UTF8.GetBytes("GET"), [0, 1, 13, 10]).Bytes);
    }

    [Fact]
    public void Unknown_command_lists_its_first_arguments_like_Redis()
    {
        using var client = _node.Client();
        Assert.Equal("ERR unknown command 'foo', with args beginning with: 'a' 'b' ", client.Call("foo", "a", "b").Text);
        Assert.Equal("ERR unknown command 'foo', with args beginning with: ", client.Call("foo").Text);
    }

    [Fact]
    public void Wrong_argument_count_names_the_command_in_lower_case()
    {
        using var client = _node.Client();
        Assert.Equal("ERR wrong number of arguments for 'get' command", client.Call("GET").Text);
    }

    [Fact]
    public void Bulk_over_proto_max_bulk_len_is_refused_and_the_connection_closed()
    {
        using var client = _node.Client();
        client.SendRaw("*2\r\n$3\r\nGET\r\n$99999999999\r\n");
        Assert.Equal("ERR Protocol error: invalid bulk length", client.Read().Text);
        Assert.True(client.IsClosedByServer());
    }
}
