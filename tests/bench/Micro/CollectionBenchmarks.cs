using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using CacheOperator.Node.Commands;
using CacheOperator.Node.Configuration;
using CacheOperator.Node.Protocol;
using CacheOperator.Node.Server;

namespace CacheOperator.Bench.Micro;

/// <summary>
/// The collection commands as redis-benchmark -P 16 -r 100000 sends them, without sockets: HSET of one
/// hash of 100k fields, ZADD of random scores to one sorted set of 100k members, SADD to one set of 100k
/// members, LPUSH and LPOP on one list. Commands are parsed and dispatched in batches of 16, cycling
/// through pre-built batches with random members, so figures are per command on warm, large collections.
/// </summary>
[MemoryDiagnoser]
public class CollectionBenchmarks
{
    private const int BatchSize = 16;
    private const int Batches = 4096;
    private const int Range = 100_000;

    private readonly CommandBatch _batch = new();
    private byte[][] _hset = [];
    private byte[][] _zadd = [];
    private byte[][] _sadd = [];
    private byte[][] _pushPop = [];
    private int _next;
    private NodeServer _server = null!;
    private Session _session = null!;
    private DiscardingPipeWriter _output = null!;

    /// <summary>Builds the batches and fills the collections with every member of the range.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        string Member() => $"element:{random.Next(Range):D12}";
        var value = new string('x', 64);
        _hset = BuildBatches(_ => ["HSET", "myhash", Member(), value]);
        _zadd = BuildBatches(_ => ["ZADD", "myzset", $"{random.Next(Range):D12}", Member()]);
        _sadd = BuildBatches(_ => ["SADD", "myset", Member()]);
        _pushPop = BuildBatches(i => i % 2 == 0 ? ["LPUSH", "mylist", value] : ["LPOP", "mylist"]);
        var config = new NodeConfig();
        ConfigLoader.Load(config, ["--port", "0"]);
        _server = new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning });
        _output = new DiscardingPipeWriter();
        _session = new Session(_server, 1, new ReplyWriter(_output), "127.0.0.1:1", "127.0.0.1:2");
        for (int i = 0; i < Range; i += BatchSize)
        {
            int first = i;
            Run(RespBatches.Build(BatchSize, j => ["HSET", "myhash", $"element:{first + j:D12}", value]));
            Run(RespBatches.Build(BatchSize, j => ["ZADD", "myzset", $"{random.Next(Range):D12}", $"element:{first + j:D12}"]));
            Run(RespBatches.Build(BatchSize, j => ["SADD", "myset", $"element:{first + j:D12}"]));
        }
        for (int i = 0; i < 1000; i++)
        {
            Run(RespBatches.Build(BatchSize, _ => ["LPUSH", "mylist", value]));
        }
    }

    /// <summary>HSET overwriting a field of a 100k-field hash with a value of the same length.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void HSet() => Run(_hset[Next()]);

    /// <summary>ZADD changing the score of a member of a 100k-member sorted set (it moves).</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void ZAdd() => Run(_zadd[Next()]);

    /// <summary>SADD of a member already in a 100k-member set.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void SAdd() => Run(_sadd[Next()]);

    /// <summary>LPUSH and LPOP alternating on one list.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void LPushLPop() => Run(_pushPop[Next()]);

    private int Next() => _next = (_next + 1) & (Batches - 1);

    private void Run(byte[] bytes)
    {
        RespParser.Parse(new ReadOnlySequence<byte>(bytes), _batch, long.MaxValue);
        lock (_server.Keyspace.Sync)
        {
            for (int i = 0; i < _batch.CommandCount; i++)
            {
                CommandDispatcher.Execute(_session, _batch.GetCommand(i));
            }
        }
        _batch.ClearCompleted();
        _output.Reset();
    }

    private static byte[][] BuildBatches(Func<int, string[]> command)
    {
        var batches = new byte[Batches][];
        for (int i = 0; i < Batches; i++)
        {
            batches[i] = RespBatches.Build(BatchSize, command);
        }
        return batches;
    }
}
