using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/bench/Micro -- --filter '*' [--job short] [--inProcess]
BenchmarkSwitcher.FromAssembly(typeof(CacheOperator.Bench.Micro.HotPathBenchmarks).Assembly).Run(args);
