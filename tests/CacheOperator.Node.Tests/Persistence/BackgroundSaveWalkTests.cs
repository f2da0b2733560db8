using System.Diagnostics;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;
using CacheOperator.Node.Tests.Storage;
using Xunit.Abstractions;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// A background save is a point-in-time walk (KeyspaceSnapshot) written as RDB while clients keep writing through
/// sockets: the file holds exactly the data at the snapshot point, passes redis-check-rdb, and redis-server 7.0.15 reads
/// it to the same data (databases interleave in the file when entries are written ahead of a change).
/// </summary>
public sealed class BackgroundSaveWalkTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bgsave-walk-").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_save_while_clients_write_holds_the_data_of_its_snapshot_point()
    {
        await using var node = TestNode.Start("--dir", _dir);
        var keyspace = node.Server.Keyspace;
        Load(node);

        long progress = 0;
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => Write(node, w, stop.Token, ref progress))).ToList();
        Wait.Until(() => Interlocked.Read(ref progress) > 100, "the writers run");

        // The first writes of the file wait for the clients to get on, so the walk and the writes interleave.
        var destination = new GatedStream(() => Interlocked.Read(ref progress), gatedWrites: 30);
        BackgroundSave save;
        Dictionary<(int, string), (string, long)> model;
        lock (keyspace.Sync)
        {
            save = node.Server.Snapshots.StartBackgroundSave(destination)!;
            model = SnapshotModel.Capture(keyspace);
        }
        Assert.True(await save.Completion);
        stop.Cancel();
        await Task.WhenAll(writers);
        output.WriteLine($"keys {model.Count}, chunks {save.Snapshot.Chunks}, preserved before a change {save.Snapshot.PreservedEntries}, " +
            $"longest lock hold {save.Snapshot.LongestHoldTicks * 1000.0 / Stopwatch.Frequency:F2} ms, file {destination.Length} bytes");
        Assert.True(save.Snapshot.PreservedEntries > 0, "clients changed entries before the walker reached them");
        Assert.Null(keyspace.Snapshot);

        var file = destination.ToArray();
        await using (var loaded = TestNode.Start())
        {
            lock (loaded.Server.Keyspace.Sync)
            {
                RdbReader.LoadInto(new MemoryStream(file), loaded.Server.Keyspace, 0);
                AssertSame(model, SnapshotModel.Capture(loaded.Server.Keyspace));
            }
        }

        // redis-server reads the file (interleaved databases and all) and writes its own, which must hold the same data.
        string path = Path.Combine(_dir, "walk.rdb");
        File.WriteAllBytes(path, file);
        Assert.Contains("RDB looks OK", CheckRdb(path), StringComparison.Ordinal);
        using (var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "walk.rdb"))
        using (var redisClient = redis.Client())
        {
            Assert.Equal("OK", redisClient.Call("SAVE").Text);
        }
        await using (var reloaded = TestNode.Start())
        {
            // A master drops keys already expired when it loads (the clients' 5 ms expiries); the others have days to go.
            long loadedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var live = model.Where(p => p.Value.Item2 < 0 || p.Value.Item2 > loadedAt).ToDictionary();
            lock (reloaded.Server.Keyspace.Sync)
            {
                RdbReader.LoadInto(new MemoryStream(File.ReadAllBytes(path)), reloaded.Server.Keyspace, 0);
                AssertSame(live, SnapshotModel.Capture(reloaded.Server.Keyspace));
            }
        }
    }

    [Fact]
    public async Task Flushall_leaves_a_save_to_a_stream_whole_and_stops_one_to_the_file()
    {
        await using var node = TestNode.Start("--dir", _dir);
        var keyspace = node.Server.Keyspace;
        var local = node.Server.ConnectLocal();
        Load(node);
        var destination = new MemoryStream();
        BackgroundSave toStream;
        Dictionary<(int, string), (string, long)> model;
        lock (keyspace.Sync)
        {
            // FLUSHALL comes in the hold that starts the save, before the walker's first chunk.
            toStream = node.Server.Snapshots.StartBackgroundSave(destination)!;
            model = SnapshotModel.Capture(keyspace);
            Assert.True(local.RunAsync("FLUSHALL").IsCompletedSuccessfully);
        }
        // A save to a stream (a replica) goes on: its data is that of its snapshot point, the walk reads the dropped tables.
        Assert.True(await toStream.Completion);
        Assert.Null(keyspace.Snapshot);
        await using (var loaded = TestNode.Start())
        {
            lock (loaded.Server.Keyspace.Sync)
            {
                RdbReader.LoadInto(new MemoryStream(destination.ToArray()), loaded.Server.Keyspace, 0);
                AssertSame(model, SnapshotModel.Capture(loaded.Server.Keyspace));
            }
        }

        Load(node);
        BackgroundSave toFile;
        lock (keyspace.Sync)
        {
            toFile = node.Server.Snapshots.StartBackgroundSave()!;
            Assert.True(local.RunAsync("FLUSHALL").IsCompletedSuccessfully);
        }
        // A save to the file is abandoned, as Redis kills its child: the walk stops and no file replaces the last one.
        Assert.False(await toFile.Completion);
        Assert.True(toFile.Snapshot.IsAborted);
        Assert.Null(keyspace.Snapshot);
        Assert.False(File.Exists(Path.Combine(_dir, "dump.rdb")));
        using var client = node.Client();
        Assert.Equal("ok", Info(client, "rdb_last_bgsave_status"));
    }

    private static string Info(RespClient client, string field) =>
        client.Call("INFO", "persistence").Text!.Split("\r\n").First(l => l.StartsWith(field + ":", StringComparison.Ordinal))[(field.Length + 1)..];

    private static void AssertSame(Dictionary<(int Db, string Key), (string Value, long ExpireAt)> expected, Dictionary<(int Db, string Key), (string Value, long ExpireAt)> actual)
    {
        var missing = expected.Keys.Where(k => !actual.ContainsKey(k)).Take(5).ToList();
        var extra = actual.Keys.Where(k => !expected.ContainsKey(k)).Take(5).ToList();
        var different = expected.Where(p => actual.TryGetValue(p.Key, out var got) && got != p.Value).Take(3).Select(p => p.Key).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && different.Count == 0,
            $"missing {string.Join(" ", missing)}; extra {string.Join(" ", extra)}; different {string.Join(" ", different)}");
    }

    private static string CheckRdb(string path)
    {
        var info = new ProcessStartInfo("redis-check-rdb", [path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        string text = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, text);
        return text;
    }

    /// <summary>Strings, hashes, lists, sets and sorted sets in compact and large encodings, some with an expiry, in databases 0, 3 and 15.</summary>
    private static void Load(TestNode node)
    {
        using var loader = node.Client();
        var pipeline = new MemoryStream();
        int commands = 0;
        void Add(params string[] args)
        {
            pipeline.Write(RespClient.Encode(args));
            commands++;
        }
        foreach (int db in new[] { 0, 3, 15 })
        {
            Add("SELECT", db.ToString());
            for (int i = 0; i < 3000; i++)
            {
                switch (i % 6)
                {
                    case 0: Add("SET", $"s:{i}", $"value-{db}-{i}"); break;
                    case 1: Add("HSET", $"h:{i % 300}", $"f{i}", $"{i}"); break;
                    case 2: Add("RPUSH", $"l:{i % 300}", $"{i}"); break;
                    case 3: Add("SADD", $"t:{i % 300}", i % 12 == 3 ? $"{i}" : $"m{i}"); break;
                    case 4: Add("ZADD", $"z:{i % 200}", $"{i % 97}", $"m{i}"); break;
                    default: Add("SET", $"n:{i}", $"{i}"); break;
                }
            }
            // Large encodings: a hashtable hash, a skiplist sorted set, a hashtable set.
            for (int i = 0; i < 300; i++)
            {
                Add("HSET", "bighash", $"field-{i}", new string('x', i % 70));
                Add("ZADD", "bigzset", $"{i * 0.5}", $"member-{i}");
                Add("SADD", "bigset", $"member-{i}");
            }
            for (int i = 0; i < 3000; i += 7)
            {
                Add("EXPIRE", $"s:{i - (i % 6)}", "100000");
            }
        }
        Add("SELECT", "0");
        loader.SendRaw(pipeline.ToArray());
        for (int i = 0; i < commands; i++)
        {
            loader.ReadReply();
        }
    }

    private static void Write(TestNode node, int seed, CancellationToken stop, ref long progress)
    {
        var random = new Random(seed);
        using var c = node.Client();
        while (!stop.IsCancellationRequested)
        {
            int n = random.Next(3000);
            string[] command = random.Next(16) switch
            {
                0 => ["SET", $"s:{n - (n % 6)}", "new"],
                1 => ["APPEND", $"s:{n - (n % 6)}", "+"],
                2 => ["DEL", $"s:{n - (n % 6)}"],
                3 => ["HSET", $"h:{n % 300}", "f", "new"],
                4 => ["HDEL", "bighash", $"field-{n % 300}"],
                5 => ["LPUSH", $"l:{n % 300}", "new"],
                6 => ["RPOP", $"l:{n % 300}"],
                7 => ["SADD", $"t:{n % 300}", "new"],
                8 => ["ZINCRBY", "bigzset", "5", $"member-{n % 300}"],
                9 => ["PEXPIRE", $"s:{n - (n % 6)}", "5"],
                10 => ["RENAME", $"h:{n % 300}", $"h:{(n + 1) % 300}"],
                11 => ["PERSIST", $"s:{n - (n % 6)}"],
                12 => n % 40 == 0 ? ["SWAPDB", "0", "3"] : ["INCR", $"n:{n - (n % 6) + 5}"],
                13 => ["SELECT", random.Next(3) switch { 0 => "0", 1 => "3", _ => "15" }],
                14 => n % 500 == 0 ? ["FLUSHDB"] : ["SREM", "bigset", $"member-{n % 300}"],
                _ => ["GET", $"s:{n - (n % 6)}"],
            };
            c.Call(command);
            Interlocked.Increment(ref progress);
        }
    }

    /// <summary>
    /// A memory stream whose first <paramref name="gatedWrites"/> writes each wait until <paramref name="progress"/>
    /// moved on by 20, with a deadline; the writer is the save's background task.
    /// </summary>
    private sealed class GatedStream(Func<long> progress, int gatedWrites) : MemoryStream
    {
        private int _writes;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Gate();
            base.Write(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Gate();
            base.Write(buffer, offset, count);
        }

        private void Gate()
        {
            if (++_writes > gatedWrites)
            {
                return;
            }
            long target = progress() + 20;
            var deadline = Stopwatch.StartNew();
            while (progress() < target && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                Thread.Sleep(1);
            }
        }
    }
}
