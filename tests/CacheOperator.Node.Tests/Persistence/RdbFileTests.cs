using System.Diagnostics;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Server;
using CacheOperator.Node.Storage;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// RDB files (RdbWriter, RdbReader) against redis-server 7.0.15: the node's file passes redis-check-rdb and loads
/// into redis-server with the same dataset, redis-server's file loads into the node with the same dataset, and a
/// truncated or altered file is refused without touching the keyspace.
/// </summary>
public sealed class RdbFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("rdb-file-").FullName;

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Snapshot(NodeServer server, bool compress = true, bool checksum = true)
    {
        using var file = new MemoryStream();
        lock (server.Keyspace.Sync)
        {
            RdbWriter.WriteKeyspace(file, server.Keyspace, new RdbHeader("7.0.15", 1_700_000_000, server.Keyspace.UsedMemory()), compress, checksum);
        }
        return file.ToArray();
    }

    private static RdbLoadResult Load(NodeServer server, byte[] file)
    {
        lock (server.Keyspace.Sync)
        {
            server.Keyspace.UpdateClock();
            return RdbReader.LoadInto(new MemoryStream(file), server.Keyspace, server.Keyspace.NowMs);
        }
    }

    /// <summary>Runs redis-check-rdb on <paramref name="path"/>, asserts it accepts the file, and returns what it printed.</summary>
    internal static string CheckRdb(string path)
    {
        var info = new ProcessStartInfo("redis-check-rdb", [path]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, output);
        return output;
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Node_file_passes_redis_check_rdb_and_loads_into_redis_server_identically(bool compress, bool checksum)
    {
        await using var node = TestNode.Start();
        using var client = node.Client();
        RdbDataset.Populate(client);
        string expected = RdbDataset.Canonical(client);

        var path = Path.Combine(_dir, "node.rdb");
        File.WriteAllBytes(path, Snapshot(node.Server, compress, checksum));
        string report = CheckRdb(path);
        Assert.Contains("RDB looks OK", report, StringComparison.Ordinal);

        using var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "node.rdb");
        using var redisClient = redis.Client();
        Assert.Equal(expected, RdbDataset.Canonical(redisClient));
    }

    [Fact]
    public async Task Redis_server_file_loads_into_the_node_identically()
    {
        string expected;
        using (var redis = RedisServerProcess.Start("--dir", _dir, "--dbfilename", "redis.rdb"))
        using (var redisClient = redis.Client())
        {
            RdbDataset.Populate(redisClient);
            expected = RdbDataset.Canonical(redisClient);
            Assert.Equal("OK", redisClient.Call("SAVE").Text);
        }
        await using var node = TestNode.Start();
        var result = Load(node.Server, File.ReadAllBytes(Path.Combine(_dir, "redis.rdb")));
        Assert.True(result.File.ChecksumVerified);
        Assert.Equal("7.0.15", result.File.Aux["redis-ver"]);
        using var client = node.Client();
        Assert.Equal(expected, RdbDataset.Canonical(client));
    }

    [Fact]
    public async Task Node_file_round_trips_through_the_node()
    {
        await using var source = TestNode.Start();
        using var sourceClient = source.Client();
        RdbDataset.Populate(sourceClient);
        var file = Snapshot(source.Server);

        await using var target = TestNode.Start();
        var result = Load(target.Server, file);
        Assert.Equal(source.Server.Keyspace.TotalKeys(), result.KeysLoaded);
        using var targetClient = target.Client();
        Assert.Equal(RdbDataset.Canonical(sourceClient), RdbDataset.Canonical(targetClient));
        // Loaded values are stored as the node builds them, so writing them again gives the same bytes.
        Assert.Equal(file, Snapshot(target.Server));
    }

    [Fact]
    public async Task Expired_keys_are_dropped_at_load()
    {
        await using var node = TestNode.Start();
        using var client = node.Client();
        client.Call("SET", "gone", "x");
        client.Call("SET", "stays", "y");
        lock (node.Server.Keyspace.Sync)
        {
            // PEXPIREAT in the past would delete the key at once; a snapshot may still hold such a key.
            var db = node.Server.Keyspace[0];
            db.SetExpire(db.Table.Find("gone"u8), 1000);
        }
        Assert.Equal(2, node.Server.Keyspace[0].Count);
        var file = Snapshot(node.Server);

        await using var target = TestNode.Start();
        var result = Load(target.Server, file);
        Assert.Equal((1, 1), (result.KeysLoaded, result.KeysExpired));
        Assert.Equal(1, target.Server.Keyspace[0].Count);
    }

    [Fact]
    public async Task Truncated_or_altered_files_are_refused_and_leave_the_keyspace_as_it_was()
    {
        await using var source = TestNode.Start();
        using (var client = source.Client())
        {
            client.Call("SET", "s", "value");
            client.Call("RPUSH", "l", "1", "2", "three");
            client.Call("HSET", "h", "f", "v");
            client.Call("ZADD", "z", "1", "m");
            client.Call("SADD", "i", "1", "2");
            client.Call("PEXPIREAT", "s", RdbDataset.FarExpiryMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var file = Snapshot(source.Server);
        await using var target = TestNode.Start();
        using (var client = target.Client())
        {
            client.Call("SET", "existing", "kept");
        }
        var keyspace = target.Server.Keyspace;

        for (int length = 0; length < file.Length; length++)
        {
            var error = Assert.Throws<RdbFormatException>(() => Load(target.Server, file[..length]));
            Assert.False(string.IsNullOrEmpty(error.Message));
            Assert.Equal(1, keyspace.TotalKeys());
        }
        for (int bit = 0; bit < file.Length * 8; bit++)
        {
            var altered = (byte[])file.Clone();
            altered[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<RdbFormatException>(() => Load(target.Server, altered));
            Assert.Equal(1, keyspace.TotalKeys());
        }
        Assert.Contains("checksum", Assert.Throws<RdbFormatException>(() => Load(target.Server, Alter(file, file.AsSpan().IndexOf("value"u8)))).Message, StringComparison.Ordinal);
        Assert.Contains("truncated", Assert.Throws<RdbFormatException>(() => Load(target.Server, file[..^3])).Message, StringComparison.Ordinal);
        Load(target.Server, file);
        Assert.Equal(5, keyspace.TotalKeys());
    }

    private static byte[] Alter(byte[] file, int at)
    {
        var altered = (byte[])file.Clone();
        altered[at] ^= 0x20;
        return altered;
    }

    [Fact]
    public void Truncated_streams_modules_and_unknown_opcodes_are_refused_with_a_message()
    {
        static byte[] File(params byte[] body) => [.. "REDIS0010"u8, .. body];
        var keyspace = new Keyspace(16);
        // A stream that ends after its node count (streams themselves load: see Streams/StreamPersistenceTests).
        Assert.Contains("key 'k'", Refusal(File(RdbType.StreamListpacks2, 1, (byte)'k', 0)), StringComparison.Ordinal);
        Assert.Contains("module", Refusal(File(RdbType.Module, 1, (byte)'k', 0)), StringComparison.Ordinal);
        Assert.Contains("MODULE_AUX", Refusal(File(RdbOpcode.ModuleAux, 0)), StringComparison.Ordinal);
        Assert.Contains("Unknown RDB type 100", Refusal(File(100)), StringComparison.Ordinal);
        Assert.Contains("version", Refusal("REDIS0011"u8.ToArray()), StringComparison.Ordinal);
        Assert.Contains("signature", Refusal("RUBIS0010"u8.ToArray()), StringComparison.Ordinal);
        Assert.Contains("databases", Refusal(File(RdbOpcode.SelectDb, 16)), StringComparison.Ordinal);
        Assert.Contains("Duplicate key", Refusal(File(0, 1, (byte)'k', 1, (byte)'v', 0, 1, (byte)'k', 1, (byte)'w', RdbOpcode.Eof, 0, 0, 0, 0, 0, 0, 0, 0)), StringComparison.Ordinal);

        string Refusal(byte[] file) => Assert.Throws<RdbFormatException>(() => RdbReader.LoadInto(new MemoryStream(file), keyspace, 0)).Message;
    }

    [Fact]
    public void Old_versions_and_encodings_load()
    {
        // An RDB version 3 file as Redis 2.4 wrote it: a zipmap hash, an EXPIRETIME in seconds, no checksum.
        byte[] zipmap = [2, 1, (byte)'a', 1, 0, (byte)'1', 2, (byte)'b', (byte)'c', 3, 2, (byte)'x', (byte)'y', (byte)'z', 0, 0, 0xFF];
        byte[] file =
        [
            .. "REDIS0003"u8, RdbOpcode.SelectDb, 2,
            RdbOpcode.ExpireTime, 0x00, 0x00, 0x00, 0x7F, RdbType.HashZipmap, 1, (byte)'h', (byte)zipmap.Length, .. zipmap,
            RdbOpcode.Eof,
        ];
        var keyspace = new Keyspace(16);
        var result = RdbReader.LoadInto(new MemoryStream(file), keyspace, 0);
        Assert.Equal(1, result.KeysLoaded);
        int index = keyspace[2].Table.Find("h"u8);
        Assert.True(index >= 0);
        Assert.Equal(0x7F000000L * 1000, keyspace[2].Table.ExpireAt(index));
        var hash = Assert.IsType<HashValue>(keyspace[2].Table[index].Value);
        Assert.Equal(2, hash.Count);
        Assert.Equal("xyz"u8.ToArray(), hash.GetCopy("bc"u8));
    }
}
