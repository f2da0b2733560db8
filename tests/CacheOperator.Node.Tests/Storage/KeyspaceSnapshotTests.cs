using System.Diagnostics;
using System.Text;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace CacheOperator.Node.Tests.Storage;

/// <summary>
/// The point-in-time snapshot: whatever commands, expiry, eviction, FLUSHDB, SWAPDB and transactions do between the
/// walker's chunks, its output is exactly the dataset at the start (a copy taken in the same lock hold is the model).
/// </summary>
public class KeyspaceSnapshotTests(ITestOutputHelper output)
{
    private const int Databases = 4;
    private const int Names = 40;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Output_is_the_dataset_at_the_start_under_a_random_workload(int seed)
    {
        await using var node = TestNode.Start("--maxmemory-policy", "allkeys-random");
        var keyspace = node.Server.Keyspace;
        var client = node.Server.ConnectLocal();
        var random = new Random(seed);
        for (int db = 0; db < Databases; db++)
        {
            await Run(client, "SELECT", db.ToString());
            for (int i = 0; i < 150; i++)
            {
                await Run(client, Creation(random));
            }
            for (int i = 0; i < 10; i++)
            {
                // Free entries at the start, which keys created during the walk take.
                await Run(client, "DEL", AnyKey(random));
            }
            for (int i = 0; i < 10; i++)
            {
                // Some keys run out during the walk: read lazily, or found by the active cycle.
                await Run(client, "PEXPIRE", AnyKey(random), random.Next(1, 40).ToString());
            }
        }

        var (sink, snapshot, model) = StartWithModel(keyspace);
        Assert.Same(snapshot, keyspace.Snapshot);
        Assert.Equal(model.Count, snapshot.KeysAtStart);

        for (int step = 0; step < 4000 && !snapshot.IsComplete; step++)
        {
            int dice = random.Next(1000);
            if (dice < 2)
            {
                await Run(client, "FLUSHDB");
            }
            else if (dice < 3)
            {
                await Run(client, "FLUSHALL");
            }
            else if (dice < 12)
            {
                await Run(client, "SWAPDB", random.Next(Databases).ToString(), random.Next(Databases).ToString());
            }
            else if (dice < 20)
            {
                await Evict(node.Server, client);
            }
            else if (dice < 30)
            {
                ActiveExpiry.RunCycle(keyspace, random, TimeSpan.FromMilliseconds(1));
            }
            else if (dice < 60)
            {
                await Run(client, "SELECT", random.Next(Databases).ToString());
            }
            else if (dice < 90)
            {
                await Run(client, "MULTI");
                await Run(client, Mutation(random));
                await Run(client, Mutation(random));
                await Run(client, "EXEC");
            }
            else if (dice < 150)
            {
                await Run(client, Creation(random));
            }
            else
            {
                await Run(client, Mutation(random));
            }
            if (random.Next(8) == 0)
            {
                lock (keyspace.Sync)
                {
                    snapshot.Step(maxEntries: random.Next(1, 5));
                }
            }
        }
        lock (keyspace.Sync)
        {
            while (!snapshot.Step())
            {
            }
        }

        sink.AssertEquals(model);
        Assert.Null(keyspace.Snapshot);
        for (int db = 0; db < Databases; db++)
        {
            Assert.Null(keyspace[db].Table.Snapshot);
        }
        output.WriteLine($"keys {model.Count}, walked {snapshot.WalkedEntries}, preserved before a change {snapshot.PreservedEntries}, chunks {snapshot.Chunks}");
        Assert.True(snapshot.PreservedEntries > 0, "the workload changed entries before the walker reached them");
    }

    [Fact]
    public async Task Only_keys_present_at_the_start_are_written_and_reused_entries_are_not_mixed_up()
    {
        await using var node = TestNode.Start();
        var keyspace = node.Server.Keyspace;
        var client = node.Server.ConnectLocal();
        for (int i = 0; i < 110; i++)
        {
            await Run(client, "SET", $"k{i}", $"v{i}");
        }
        for (int i = 100; i < 110; i++)
        {
            // Entries free at the start.
            await Run(client, "DEL", $"k{i}");
        }
        var (sink, snapshot, model) = StartWithModel(keyspace);
        // New keys take the entries free at the start, then those of deleted keys: they are not part of the snapshot.
        for (int i = 0; i < 10; i++)
        {
            await Run(client, "SET", $"fresh{i}", "x");
        }
        for (int i = 0; i < 100; i += 2)
        {
            await Run(client, "DEL", $"k{i}");
            await Run(client, "SET", $"new{i}", "x");
        }
        await Run(client, "APPEND", "k1", "-changed");
        await Run(client, "PEXPIRE", "k3", "100000");
        await Run(client, "SET", "k5", "replaced");
        Assert.Throws<InvalidOperationException>(() =>
        {
            lock (keyspace.Sync)
            {
                KeyspaceSnapshot.Start(keyspace, new RecordingSink(keyspace));
            }
        });
        await snapshot.WalkAsync();
        sink.AssertEquals(model);
        Assert.True(snapshot.IsComplete);
        Assert.False(snapshot.IsAborted);
        Assert.Null(keyspace.Snapshot);
        Assert.Equal(53, snapshot.PreservedEntries);
    }

    [Fact]
    public async Task Blocked_clients_served_by_swapdb_and_a_blocking_move_into_an_existing_list_leave_the_start_intact()
    {
        await using var node = TestNode.Start();
        var keyspace = node.Server.Keyspace;
        var setup = node.Server.ConnectLocal();
        await Run(setup, "SELECT", "1");
        await Run(setup, "RPUSH", "queue", "a", "b");
        await Run(setup, "SELECT", "0");
        await Run(setup, "RPUSH", "target", "t1");
        var popper = node.Server.ConnectLocal();
        var mover = node.Server.ConnectLocal();
        var popped = popper.RunAsync("BLPOP", "queue", "0");
        await Run(mover, "SELECT", "2");
        var moved = mover.RunAsync("BLMOVE", "source", "target", "LEFT", "LEFT", "0");
        await Run(setup, "SELECT", "2");
        await Run(setup, "RPUSH", "target", "t2");
        Wait.Until(() => node.Server.Blocking.BlockedCount == 2, "both clients block");

        var (sink, snapshot, model) = StartWithModel(keyspace);
        // SWAPDB brings database 1's list to the client blocked in database 0, which pops from it outside the dispatcher.
        await Run(setup, "SWAPDB", "0", "1");
        Assert.Contains("queue", Encoding.UTF8.GetString(await popped));
        // Serving BLMOVE pushes into database 2's existing "target" outside the dispatcher; COPY replaces a key of
        // another database than the client's, which the dispatcher does not see either.
        await Run(setup, "RPUSH", "source", "s1");
        Assert.Contains("s1", Encoding.UTF8.GetString(await moved));
        await Run(setup, "COPY", "target", "target", "DB", "1", "REPLACE");

        await snapshot.WalkAsync();
        sink.AssertEquals(model);
        Assert.Equal("list:" + Convert.ToHexString("a"u8) + "," + Convert.ToHexString("b"u8), sink.Entries[(1, "queue")].Value);
    }

    /// <summary>
    /// The dispatcher's copy-on-write step finds a write command's keys with the key extractor: a write command that
    /// changes values without declaring keys would slip past it. Only keyspace-wide ones may have none.
    /// </summary>
    [Fact]
    public void Every_write_command_but_the_keyspace_wide_ones_declares_its_keys()
    {
        var table = new CacheOperator.Node.Commands.CommandTable();
        var withoutKeys = table.All.SelectMany(spec => spec.Subcommands.Count > 0 ? spec.Subcommands : [spec])
            .Where(spec => (spec.Flags & CacheOperator.Node.Commands.CommandFlags.Write) != 0 && !CacheOperator.Node.Commands.KeyExtractor.HasKeys(spec))
            .Select(spec => spec.Name).Order().ToList();
        // FUNCTION's writes change the function libraries, not the keyspace (a snapshot takes the libraries when it starts).
        Assert.Equal(["flushall", "flushdb", "function|delete", "function|flush", "function|load", "function|restore", "swapdb"], withoutKeys);
    }

    [Fact]
    public async Task A_failing_destination_aborts_the_snapshot_and_detaches_it()
    {
        await using var node = TestNode.Start();
        var keyspace = node.Server.Keyspace;
        var client = node.Server.ConnectLocal();
        for (int i = 0; i < 10_000; i++)
        {
            await Run(client, "SET", $"k{i}", "v");
        }
        var sink = new RecordingSink(keyspace) { OnFlush = chunk => chunk == 2 ? throw new IOException("disk full") : ValueTask.CompletedTask };
        KeyspaceSnapshot snapshot;
        lock (keyspace.Sync)
        {
            snapshot = KeyspaceSnapshot.Start(keyspace, sink);
        }
        // The walker's chunks are small here, so the failure comes before the end.
        await Assert.ThrowsAsync<IOException>(() => WalkInSmallChunks(keyspace, snapshot, sink));
        Assert.True(snapshot.IsAborted);
        Assert.Null(keyspace.Snapshot);
        Assert.Null(keyspace[0].Table.Snapshot);
        await Run(client, "SET", "after", "1");

        // Aborted by someone else while the walker runs (a FLUSHALL abandoning a save): the walker fails rather than end as if whole.
        var holdBack = new TaskCompletionSource();
        var second = new RecordingSink(keyspace) { OnFlush = chunk => chunk == 1 ? new ValueTask(holdBack.Task) : ValueTask.CompletedTask };
        KeyspaceSnapshot next;
        lock (keyspace.Sync)
        {
            next = KeyspaceSnapshot.Start(keyspace, second);
        }
        var walking = next.WalkAsync();
        Wait.Until(() => second.ChunksEnded == 1, "the first chunk is written");
        lock (keyspace.Sync)
        {
            next.Abort();
        }
        holdBack.SetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => walking);
        Assert.True(next.IsAborted);
        Assert.Null(keyspace.Snapshot);
    }

    /// <summary>
    /// Real sockets: several clients write, delete, expire and swap while the walker runs, each chunk of which waits for
    /// the clients to make progress, so the walk and the writes truly interleave; the output is the dataset at the start.
    /// </summary>
    [Fact]
    public async Task Clients_writing_through_sockets_during_the_walk_do_not_change_the_output()
    {
        await using var node = TestNode.Start();
        var keyspace = node.Server.Keyspace;
        using (var loader = node.Client())
        {
            var pipeline = new MemoryStream();
            for (int i = 0; i < 20_000; i++)
            {
                byte[] command = (i % 5) switch
                {
                    0 => RespClient.Encode("SET", $"s:{i}", $"value-{i}"),
                    1 => RespClient.Encode("HSET", $"h:{i % 500}", $"f{i}", $"{i}"),
                    2 => RespClient.Encode("RPUSH", $"l:{i % 500}", $"{i}"),
                    3 => RespClient.Encode("SADD", $"t:{i % 500}", $"{i}"),
                    _ => RespClient.Encode("ZADD", $"z:{i % 500}", $"{i % 97}", $"m{i}"),
                };
                pipeline.Write(command);
            }
            pipeline.Write(RespClient.Encode("SELECT", "1"));
            for (int i = 0; i < 2000; i++)
            {
                pipeline.Write(RespClient.Encode("SET", $"s:{i}", $"db1-{i}"));
            }
            loader.SendRaw(pipeline.ToArray());
            for (int i = 0; i < 22_001; i++)
            {
                loader.ReadReply();
            }
        }

        long progress = 0;
        var sink = new RecordingSink(keyspace)
        {
            // The first chunks wait until the clients have done more work, so writes land between chunks.
            OnFlush = async chunk =>
            {
                if (chunk <= 40)
                {
                    long target = Interlocked.Read(ref progress) + 20;
                    var deadline = Stopwatch.StartNew();
                    while (Interlocked.Read(ref progress) < target && deadline.Elapsed < TimeSpan.FromSeconds(10))
                    {
                        await Task.Delay(1);
                    }
                }
            },
        };
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() =>
        {
            var random = new Random(w);
            using var c = node.Client();
            while (!stop.IsCancellationRequested)
            {
                int n = random.Next(2000);
                string[] command = random.Next(14) switch
                {
                    0 => ["SET", $"s:{n * 5}", "new"],
                    1 => ["APPEND", $"s:{n * 5}", "+"],
                    2 => ["DEL", $"s:{n * 5}"],
                    3 => ["HSET", $"h:{n % 500}", "f", "new"],
                    4 => ["HDEL", $"h:{n % 500}", $"f{n * 5 + 1}"],
                    5 => ["LPUSH", $"l:{n % 500}", "new"],
                    6 => ["RPOP", $"l:{n % 500}"],
                    7 => ["SADD", $"t:{n % 500}", "new"],
                    8 => ["ZINCRBY", $"z:{n % 500}", "5", $"m{n * 5 + 4}"],
                    9 => ["PEXPIRE", $"s:{n * 5}", "5"],
                    10 => ["RENAME", $"h:{n % 500}", $"h:{(n + 1) % 500}"],
                    11 => ["EXPIRE", $"t:{n % 500}", "1000"],
                    12 => n % 50 == 0 ? ["SWAPDB", "0", "1"] : ["INCR", $"counter:{n}"],
                    _ => ["GET", $"s:{n * 5}"],
                };
                c.Call(command);
                Interlocked.Increment(ref progress);
            }
        })).ToList();
        Wait.Until(() => Interlocked.Read(ref progress) > 100, "the writers run");

        KeyspaceSnapshot snapshot;
        Dictionary<(int, string), (string, long)> model;
        lock (keyspace.Sync)
        {
            snapshot = KeyspaceSnapshot.Start(keyspace, sink);
            model = SnapshotModel.Capture(keyspace);
        }
        long before = Interlocked.Read(ref progress);
        await snapshot.WalkAsync();
        long during = Interlocked.Read(ref progress) - before;
        stop.Cancel();
        await Task.WhenAll(writers);

        sink.AssertEquals(model);
        output.WriteLine($"keys {model.Count}, client commands during the walk {during}, preserved before a change {snapshot.PreservedEntries}, chunks {snapshot.Chunks}");
        Assert.True(snapshot.PreservedEntries > 0, "clients changed entries before the walker reached them");
    }

    /// <summary>
    /// Measurement, not a timing assertion: a million keys, a client writing through a socket throughout; prints the longest
    /// single lock hold of the snapshot (start or one chunk) and the longest latency the client saw while it ran.
    /// </summary>
    [Fact]
    public async Task Measure_lock_holds_and_client_latency_with_a_million_keys()
    {
        int keys = int.TryParse(Environment.GetEnvironmentVariable("SNAPSHOT_MEASURE_KEYS"), out int k) ? k : 1_000_000;
        await using var node = TestNode.Start();
        var keyspace = node.Server.Keyspace;
        lock (keyspace.Sync)
        {
            var db = keyspace[0];
            for (int i = 0; i < keys; i++)
            {
                db.Add(Encoding.ASCII.GetBytes($"key:{i:D9}"), Encoding.ASCII.GetBytes($"value-{i:D16}"));
            }
        }
        // The entries are encoded as a background save does (RDB), and written to nowhere.
        var sink = new CacheOperator.Node.Persistence.RdbSnapshotSink(keyspace, compress: true)
        {
            Writer = new CacheOperator.Node.Persistence.RdbWriter(Stream.Null),
        };
        var result = await SnapshotLatency.MeasureAsync(node, sink, keys);
        output.WriteLine(result.ToString());
        Assert.Equal(keys, result.Written);
    }

    /// <summary>Starts a snapshot into a recording sink and, in the same lock hold, the model of the dataset it must produce.</summary>
    private static (RecordingSink Sink, KeyspaceSnapshot Snapshot, Dictionary<(int, string), (string, long)> Model) StartWithModel(Keyspace keyspace)
    {
        var sink = new RecordingSink(keyspace);
        lock (keyspace.Sync)
        {
            return (sink, KeyspaceSnapshot.Start(keyspace, sink), SnapshotModel.Capture(keyspace));
        }
    }

    private static async Task WalkInSmallChunks(Keyspace keyspace, KeyspaceSnapshot snapshot, ISnapshotSink sink)
    {
        try
        {
            bool done;
            do
            {
                lock (keyspace.Sync)
                {
                    done = snapshot.Step(maxEntries: 100);
                    sink.EndChunk();
                }
                await sink.FlushAsync(default);
            }
            while (!done);
        }
        catch
        {
            lock (keyspace.Sync)
            {
                snapshot.Abort();
            }
            throw;
        }
    }

    private static async Task Evict(NodeServer server, LocalClient client)
    {
        long used;
        lock (server.Keyspace.Sync)
        {
            used = server.Keyspace.UsedMemory();
        }
        await Run(client, "CONFIG", "SET", "maxmemory", (used * 9 / 10).ToString());
        await Run(client, "CONFIG", "SET", "maxmemory", "0");
    }

    private static async Task Run(LocalClient client, params string[] args)
    {
        string reply = Encoding.UTF8.GetString(await client.RunAsync(args));
        Assert.DoesNotContain("internal error", reply);
    }

    private static string AnyKey(Random random) => $"{"shltzc"[random.Next(6)]}:{random.Next(Names)}";

    private static string[] Creation(Random random)
    {
        int n = random.Next(Names);
        string v = "v" + random.Next(1000);
        return random.Next(6) switch
        {
            0 => ["SET", $"s:{n}", v],
            1 => ["HSET", $"h:{n}", "f" + random.Next(20), v, "g", v],
            2 => ["RPUSH", $"l:{n}", v, v + "x"],
            3 => ["SADD", $"t:{n}", v, random.Next(100).ToString()],
            4 => ["ZADD", $"z:{n}", random.Next(50).ToString(), v],
            _ => ["INCRBY", $"c:{n}", random.Next(100).ToString()],
        };
    }

    private static string[] Mutation(Random random)
    {
        int n = random.Next(Names);
        string v = "m" + random.Next(1000);
        return random.Next(30) switch
        {
            0 => ["SET", $"s:{n}", v, "PX", random.Next(1, 30).ToString()],
            1 => ["APPEND", $"s:{n}", v],
            2 => ["SETRANGE", $"s:{n}", random.Next(5).ToString(), v],
            3 => ["GETDEL", $"s:{n}"],
            4 => ["INCR", $"c:{n}"],
            5 => ["HSET", $"h:{n}", "f" + random.Next(20), v],
            6 => ["HDEL", $"h:{n}", "f" + random.Next(20), "g"],
            7 => ["HINCRBY", $"h:{n}", "count", "1"],
            8 => ["LPUSH", $"l:{n}", v],
            9 => ["LPOP", $"l:{n}"],
            10 => ["LSET", $"l:{n}", "0", v],
            11 => ["LTRIM", $"l:{n}", "1", "2"],
            12 => ["LMOVE", $"l:{n}", $"l:{random.Next(Names)}", "LEFT", "RIGHT"],
            13 => ["SADD", $"t:{n}", v],
            14 => ["SREM", $"t:{n}", random.Next(100).ToString()],
            15 => ["SPOP", $"t:{n}"],
            16 => ["SMOVE", $"t:{n}", $"t:{random.Next(Names)}", random.Next(100).ToString()],
            17 => ["ZADD", $"z:{n}", random.Next(50).ToString(), v],
            18 => ["ZINCRBY", $"z:{n}", "3", "m" + random.Next(1000)],
            19 => ["ZPOPMIN", $"z:{n}"],
            20 => ["PEXPIRE", AnyKey(random), random.Next(1, 30).ToString()],
            21 => ["PERSIST", AnyKey(random)],
            22 => ["EXPIRE", AnyKey(random), "1000"],
            23 => ["DEL", AnyKey(random), AnyKey(random)],
            24 => ["RENAME", AnyKey(random), AnyKey(random)],
            25 => ["COPY", AnyKey(random), AnyKey(random), "REPLACE"],
            26 => ["COPY", AnyKey(random), AnyKey(random), "DB", random.Next(Databases).ToString(), "REPLACE"],
            27 => ["MOVE", AnyKey(random), random.Next(Databases).ToString()],
            28 => ["SUNIONSTORE", $"t:{n}", $"t:{random.Next(Names)}", $"t:{random.Next(Names)}"],
            _ => ["GET", AnyKey(random)],
        };
    }
}

/// <summary>Runs a snapshot beside a client writing through a socket and reports the lock holds and the client's latencies.</summary>
internal static class SnapshotLatency
{
    public sealed record Result(int Keys, double StartMs, double LongestHoldMs, long Chunks, double WalkMs, long WriterCommands,
        double WriterMaxMs, double WriterMaxBeforeMs, long Preserved, long Written)
    {
        public override string ToString() =>
            $"keys {Keys}: snapshot start (one lock hold) {StartMs:F2} ms; longest lock hold of the snapshot {LongestHoldMs:F2} ms over {Chunks} chunks; " +
            $"walk {WalkMs:F0} ms; writer: {WriterCommands} commands during the walk, longest latency {WriterMaxMs:F2} ms " +
            $"(before the snapshot: {WriterMaxBeforeMs:F2} ms); entries preserved before a change {Preserved}";
    }

    public static async Task<Result> MeasureAsync(TestNode node, ISnapshotSink sink, int keys)
    {
        var keyspace = node.Server.Keyspace;
        long phase = 0; // 0 before, 1 during, 2 after
        double maxBefore = 0, maxDuring = 0;
        long commandsDuring = 0;
        using var stop = new CancellationTokenSource();
        long ready = 0;
        var writer = Task.Run(() =>
        {
            using var c = node.Client();
            var random = new Random(1);
            while (!stop.IsCancellationRequested)
            {
                int n = random.Next(keys);
                long t0 = Stopwatch.GetTimestamp();
                c.Call("SET", $"key:{n:D9}", "overwritten");
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                long p = Interlocked.Read(ref phase);
                if (p == 0)
                {
                    maxBefore = Math.Max(maxBefore, ms);
                    Interlocked.Increment(ref ready);
                }
                else if (p == 1)
                {
                    maxDuring = Math.Max(maxDuring, ms);
                    commandsDuring++;
                }
            }
        });
        Wait.Until(() => Interlocked.Read(ref ready) > 2000, "the writer runs");
        KeyspaceSnapshot snapshot;
        Interlocked.Exchange(ref phase, 1);
        var walk = Stopwatch.StartNew();
        lock (keyspace.Sync)
        {
            snapshot = KeyspaceSnapshot.Start(keyspace, sink);
        }
        double startMs = snapshot.LongestHoldTicks * 1000.0 / Stopwatch.Frequency;
        await snapshot.WalkAsync();
        walk.Stop();
        Interlocked.Exchange(ref phase, 2);
        stop.Cancel();
        await writer;
        return new Result(keys, startMs, snapshot.LongestHoldTicks * 1000.0 / Stopwatch.Frequency, snapshot.Chunks,
            walk.Elapsed.TotalMilliseconds, commandsDuring, maxDuring, maxBefore, snapshot.PreservedEntries,
            snapshot.WalkedEntries + snapshot.PreservedEntries);
    }
}
