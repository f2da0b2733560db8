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
/// The per-request work of the node without sockets: parsing a pipelined batch of 16 commands,
/// dispatching GET/SET through <see cref="CommandDispatcher"/>, and writing replies. Each benchmark
/// handles one batch of 16 commands (see OperationsPerInvoke) so figures are per command.
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private const int BatchSize = 16;
    private static readonly byte[] Value64 = Encoding.ASCII.GetBytes(new string('x', 64));

    private readonly CommandBatch _batch = new();
    private byte[] _getBatch = [];
    private byte[] _setBatch = [];
    private NodeServer _server = null!;
    private Session _session = null!;
    private DiscardingPipeWriter _output = null!;

    /// <summary>Builds request bytes as redis-benchmark -P 16 sends them, and a session on an unstarted server.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _getBatch = RespBatches.Build(BatchSize, i => ["GET", $"key:{i * 6151 % 100000:D12}"]);
        _setBatch = RespBatches.Build(BatchSize, i => ["SET", $"key:{i * 6151 % 100000:D12}", new string('x', 64)]);
        var config = new NodeConfig();
        ConfigLoader.Load(config, ["--port", "0"]);
        _server = new NodeServer(config, new NodeLog { MinimumLevel = LogLevel.Warning });
        _output = new DiscardingPipeWriter();
        _session = new Session(_server, 1, new ReplyWriter(_output), "127.0.0.1:1", "127.0.0.1:2");
        RunBatch(_setBatch);
    }

    /// <summary>RESP parse of 16 pipelined GETs.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int ParseGetBatch() => Parse(_getBatch);

    /// <summary>RESP parse of 16 pipelined SETs with 64-byte values.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public int ParseSetBatch() => Parse(_setBatch);

    /// <summary>Parse and dispatch of 16 GETs (hits) under the keyspace lock, replies discarded.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void DispatchGetBatch() => RunBatch(_getBatch);

    /// <summary>Parse and dispatch of 16 SETs (overwrites), replies discarded.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void DispatchSetBatch() => RunBatch(_setBatch);

    /// <summary>Sixteen 64-byte bulk replies.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteBulkReplies()
    {
        var reply = _session.Reply;
        for (int i = 0; i < BatchSize; i++)
        {
            reply.WriteBulk(Value64);
        }
        _output.Reset();
    }

    /// <summary>Sixteen +OK replies.</summary>
    [Benchmark(OperationsPerInvoke = BatchSize)]
    public void WriteOkReplies()
    {
        var reply = _session.Reply;
        for (int i = 0; i < BatchSize; i++)
        {
            reply.WriteOk();
        }
        _output.Reset();
    }

    private int Parse(byte[] bytes)
    {
        RespParser.Parse(new ReadOnlySequence<byte>(bytes), _batch, long.MaxValue);
        int count = _batch.CommandCount;
        _batch.ClearCompleted();
        return count;
    }

    private void RunBatch(byte[] bytes)
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
}
