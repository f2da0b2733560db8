global using CacheOperator.Chart.Tests.Infrastructure;
