using BenchmarkDotNet.Running;

// dotnet run -c Release --project tests/bench/Micro -- --filter '*'   (add --job short for a quick look)
BenchmarkSwitcher.FromAssembly(typeof(CacheOperator.Bench.Micro.HotPathBenchmarks).Assembly).Run(args);
