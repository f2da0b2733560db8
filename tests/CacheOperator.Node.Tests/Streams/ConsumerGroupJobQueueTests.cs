using System.Collections.Concurrent;
using CacheOperator.Node.Tests.Infrastructure;
using StackExchange.Redis;

namespace CacheOperator.Node.Tests.Streams;

/// <summary>
/// A job queue on a stream, driven by StackExchange.Redis clients over sockets as an application would: producers XADD
/// jobs while consumers of one group take them with XREADGROUP and XACK them; one consumer dies mid-work holding
/// unacknowledged jobs, and a rescuer takes them over with XAUTOCLAIM. No job is lost, each is acknowledged once, and
/// no job is ever held by two live consumers at the same time.
/// </summary>
public class ConsumerGroupJobQueueTests
{
    private const int Producers = 3;
    private const int JobsPerProducer = 200;
    private const int LiveConsumers = 3;

    private static ConnectionMultiplexer Connect(int port, RedisProtocol protocol)
    {
        var options = ConfigurationOptions.Parse($"127.0.0.1:{port}");
        options.Protocol = protocol;
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 10_000;
        options.SyncTimeout = 30_000;
        return ConnectionMultiplexer.Connect(options);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public async Task No_job_is_lost_or_held_by_two_live_consumers(int protocol)
    {
        var resp = protocol == 3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2;
        await using var node = TestNode.Start();
        using var admin = Connect(node.Port, resp);
        var db = admin.GetDatabase();
        await db.StreamCreateConsumerGroupAsync("jobs", "workers", "0-0", createStream: true);

        // Who holds each job now; a live consumer taking a job another live one holds is the failure this test looks for.
        var holders = new ConcurrentDictionary<string, string>();
        var acked = new ConcurrentDictionary<string, int>();
        var produced = new ConcurrentBag<string>();
        var violations = new ConcurrentBag<string>();
        int producersDone = 0;

        // The victim takes a batch and dies without acknowledging it: its connection is closed mid-work.
        var victimHeld = new List<string>();
        using (var victim = Connect(node.Port, resp))
        {
            var vdb = victim.GetDatabase();
            for (int i = 0; i < 12; i++)
            {
                await vdb.StreamAddAsync("jobs", "job", $"early-{i}");
                produced.Add($"early-{i}");
            }
            foreach (var entry in await vdb.StreamReadGroupAsync("jobs", "workers", "victim", ">", count: 7))
            {
                Assert.True(holders.TryAdd(entry.Id!, "victim"));
                victimHeld.Add(entry.Id!);
            }
        }
        Assert.Equal(7, victimHeld.Count);

        var producerTasks = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            using var connection = Connect(node.Port, resp);
            var pdb = connection.GetDatabase();
            for (int i = 0; i < JobsPerProducer; i++)
            {
                string job = $"p{p}-{i}";
                await pdb.StreamAddAsync("jobs", "job", job);
                produced.Add(job);
            }
            Interlocked.Increment(ref producersDone);
        })).ToArray();

        var consumerTasks = Enumerable.Range(0, LiveConsumers).Select(c => Task.Run(async () =>
        {
            string name = $"worker-{c}";
            using var connection = Connect(node.Port, resp);
            var cdb = connection.GetDatabase();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                bool finished = Volatile.Read(ref producersDone) == Producers;
                var batch = await cdb.StreamReadGroupAsync("jobs", "workers", name, ">", count: 5);
                if (batch.Length == 0)
                {
                    if (finished)
                    {
                        return;
                    }
                    await Task.Delay(2);
                    continue;
                }
                foreach (var entry in batch)
                {
                    Take(entry.Id!, name);
                }
                foreach (var entry in batch)
                {
                    Release(entry.Id!, name);
                    Assert.Equal(1, await cdb.StreamAcknowledgeAsync("jobs", "workers", entry.Id));
                }
            }
            violations.Add($"{name} did not finish in time");
        })).ToArray();

        await Task.WhenAll(producerTasks);
        await Task.WhenAll(consumerTasks);

        // The live consumers drained the stream: what is still pending is the victim's, taken over by the rescuer.
        var pending = await db.StreamPendingAsync("jobs", "workers");
        Assert.Equal(victimHeld.Count, pending.PendingMessageCount);
        Assert.Equal("victim", Assert.Single(pending.Consumers).Name);
        using (var rescuerConnection = Connect(node.Port, resp))
        {
            var rdb = rescuerConnection.GetDatabase();
            RedisValue cursor = "0-0";
            do
            {
                var claim = await rdb.StreamAutoClaimAsync("jobs", "workers", "rescuer", 0, cursor, count: 3);
                Assert.Empty(claim.DeletedIds);
                foreach (var entry in claim.ClaimedEntries)
                {
                    Assert.StartsWith("early-", entry["job"].ToString(), StringComparison.Ordinal);
                    Take(entry.Id!, "rescuer");
                    Release(entry.Id!, "rescuer");
                    Assert.Equal(1, await rdb.StreamAcknowledgeAsync("jobs", "workers", entry.Id));
                }
                cursor = claim.NextStartId;
            }
            while (cursor != "0-0");
        }

        Assert.Empty(violations);
        Assert.Empty(holders);
        var all = await db.StreamRangeAsync("jobs");
        Assert.Equal(Producers * JobsPerProducer + 12, all.Length);
        Assert.Equal(produced.Order(), all.Select(e => e["job"].ToString()).Order());
        Assert.Equal(all.Select(e => e.Id.ToString()).Order(), acked.Keys.Order());
        Assert.All(acked.Values, count => Assert.Equal(1, count));
        Assert.Equal(0, (await db.StreamPendingAsync("jobs", "workers")).PendingMessageCount);
        var group = Assert.Single(await db.StreamGroupInfoAsync("jobs"));
        Assert.Equal(0, group.PendingMessageCount);
        Assert.Equal(0, group.Lag);
        Assert.Equal(all[^1].Id, group.LastDeliveredId);

        void Take(string id, string consumer)
        {
            // A job may pass from the dead victim to the rescuer; never from one live consumer to another.
            holders.AddOrUpdate(id, consumer, (_, holder) =>
            {
                if (holder != "victim")
                {
                    violations.Add($"{id} given to {consumer} while {holder} holds it");
                }
                return consumer;
            });
        }

        void Release(string id, string consumer)
        {
            if (!holders.TryRemove(new KeyValuePair<string, string>(id, consumer)))
            {
                violations.Add($"{consumer} acknowledges {id} it does not hold");
            }
            acked.AddOrUpdate(id, 1, (_, n) => n + 1);
        }
    }
}
