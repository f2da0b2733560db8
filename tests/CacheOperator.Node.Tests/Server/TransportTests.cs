using System.Net.Sockets;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Server;

/// <summary>
/// The network loop under pressure, as clients meet it: a client that sends far more than the loop
/// buffers before reading any reply (both pipes pause and resume), large values in both directions,
/// a client that leaves with megabytes of replies unread, and many clients at once.
/// </summary>
public class TransportTests : IAsyncLifetime
{
    private TestNode _node = null!;

    public Task InitializeAsync()
    {
        _node = TestNode.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_client_that_reads_no_reply_until_it_has_sent_everything_gets_every_reply_in_order()
    {
        using var client = _node.Client();
        client.Call("SET", "big", new string('v', 16));
        // 1,500,000 GETs are 33 MB of requests and 34 MB of replies: more than the kernel's socket buffers and
        // either pipe (4 MiB) hold, so the node must stop serving, then stop reading this client, then resume
        // both as the replies drain.
        const int count = 1_500_000;
        var request = new MemoryStream();
        for (int i = 0; i < count; i++)
        {
            request.Write(RespClient.Encode("GET", "big"));
        }
        var send = Task.Run(() => client.SendRaw(request.ToArray()));
        // Let the node fill its buffers and pause before anything is read.
        await Task.Delay(300);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(16, client.Read().Text!.Length);
        }
        await send;
        Assert.Equal("PONG", client.Call("PING").Text);
    }

    [Fact]
    public void Values_of_several_megabytes_go_in_and_come_out_whole()
    {
        using var client = _node.Client();
        var value = new byte[12 * 1024 * 1024];
        new Random(7).NextBytes(value);
        Assert.Equal("OK", client.Call(Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes("blob"), value).Text);
        var reply = client.Call(Encoding.ASCII.GetBytes("GET"), Encoding.ASCII.GetBytes("blob"));
        Assert.True(reply.Bytes.AsSpan().SequenceEqual(value));
    }

    [Fact]
    public void A_client_that_leaves_with_replies_unread_does_not_disturb_the_others()
    {
        using (var leaver = new TcpClient("127.0.0.1", _node.Port))
        {
            var request = new MemoryStream();
            request.Write(RespClient.Encode("SET", "x", new string('y', 4096)));
            for (int i = 0; i < 5000; i++)
            {
                request.Write(RespClient.Encode("GET", "x"));
            }
            leaver.GetStream().Write(request.ToArray());
            leaver.Client.LingerState = new LingerOption(true, 0);
        }
        using var other = _node.Client();
        Wait.Until(() => other.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, "the leaver is gone");
        Assert.Equal(4096, other.Call("STRLEN", "x").Integer);
    }

    [Fact]
    public void Two_hundred_clients_each_pipelining_get_their_own_replies()
    {
        // Threads of their own: 200 blocking readers on the thread pool would starve the in-process node.
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 200).Select(c => new Thread(() =>
        {
            try
            {
                using var client = _node.Client();
                var request = new MemoryStream();
                for (int i = 0; i < 100; i++)
                {
                    request.Write(RespClient.Encode("SET", $"c{c}:{i}", $"{c}-{i}"));
                    request.Write(RespClient.Encode("GET", $"c{c}:{i}"));
                }
                client.SendRaw(request.ToArray());
                for (int i = 0; i < 100; i++)
                {
                    Assert.Equal("OK", client.Read().Text);
                    Assert.Equal($"{c}-{i}", client.Read().Text);
                }
            }
            catch (Exception e)
            {
                failures.Add(e);
            }
        })).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }
        foreach (var thread in threads)
        {
            thread.Join();
        }
        Assert.Empty(failures);
    }
}
