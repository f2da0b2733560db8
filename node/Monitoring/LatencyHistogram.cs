using System.Numerics;

namespace CacheOperator.Node.Monitoring;

/// <summary>
/// One command's latency distribution in nanoseconds, as Redis 7.0 keeps it for LATENCY HISTOGRAM and INFO
/// latencystats: an HdrHistogram (hdr_histogram.c) tracking 1 ns to 1 s with 2 significant figures, so that
/// the percentiles and cumulative buckets it reports land on the same bucket edges as redis-server's.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Values below are recorded as this (Redis's LATENCY_HISTOGRAM_MIN_VALUE, ns).</summary>
    public const long MinValue = 1;

    /// <summary>Values above are recorded as this (LATENCY_HISTOGRAM_MAX_VALUE: one second in ns).</summary>
    public const long MaxValue = 1_000_000_000;

    // 2 significant figures: single-unit resolution up to 2*10^2, so 256 sub-buckets per bucket (hdr_calculate_bucket_config
    // with lowest 1: unit magnitude 0), and 23 buckets to reach MaxValue.
    private const int SubBucketCountMagnitude = 8;
    private const int SubBucketHalfCountMagnitude = SubBucketCountMagnitude - 1;
    private const int SubBucketCount = 1 << SubBucketCountMagnitude;
    private const int SubBucketHalfCount = SubBucketCount / 2;
    private const long SubBucketMask = SubBucketCount - 1;
    private const int BucketCount = 23;
    private const int CountsLength = (BucketCount + 1) * SubBucketHalfCount;

    private readonly long[] _counts = new long[CountsLength];

    /// <summary>Number of values recorded.</summary>
    public long TotalCount { get; private set; }

    /// <summary>Records one duration in nanoseconds, clamped into [<see cref="MinValue"/>, <see cref="MaxValue"/>].</summary>
    public void Record(long nanoseconds)
    {
        long value = Math.Clamp(nanoseconds, MinValue, MaxValue);
        _counts[CountsIndexFor(value)]++;
        TotalCount++;
    }

    /// <summary>
    /// hdr_value_at_percentile: the highest value equivalent to the recorded value at <paramref name="percentile"/>
    /// (the lowest equivalent for percentile 0); 0 when nothing is recorded.
    /// </summary>
    public long ValueAtPercentile(double percentile)
    {
        double requested = Math.Min(percentile, 100.0);
        long countAtPercentile = Math.Max((long)((requested / 100 * TotalCount) + 0.5), 1);
        long total = 0;
        for (int i = 0; i < CountsLength; i++)
        {
            total += _counts[i];
            if (total >= countAtPercentile)
            {
                long value = ValueAtIndex(i);
                return percentile == 0.0 ? LowestEquivalent(value) : HighestEquivalent(value);
            }
        }
        return 0;
    }

    /// <summary>
    /// The cumulative distribution LATENCY HISTOGRAM prints: hdr's logarithmic iterator from 1024 ns doubling, each
    /// step as (highest equivalent value of the bucket the iterator stands on, in whole microseconds; values recorded
    /// up to there), steps that add nothing left out as Redis's fillCommandCDF does.
    /// </summary>
    public List<(long Microseconds, long CumulativeCount)> CumulativeBuckets()
    {
        var steps = new List<(long, long)>();
        long reportingLevel = 1024;
        long reportingLevelLowest = LowestEquivalent(reportingLevel);
        int index = -1;
        long value = 0, highest = 0, cumulative = 0, previous = 0;
        while (true)
        {
            bool hasNext = cumulative < TotalCount;
            if (!hasNext && ValueAtIndex(index + 1) <= reportingLevelLowest)
            {
                return steps;
            }
            // hdr's log_iter_next: walk the buckets until one reaches the reporting level (or the array ends).
            while (value < reportingLevelLowest && index + 1 < CountsLength)
            {
                index++;
                cumulative += _counts[index];
                value = ValueAtIndex(index);
                highest = HighestEquivalent(value);
            }
            if (value >= reportingLevelLowest)
            {
                reportingLevel *= 2;
                reportingLevelLowest = LowestEquivalent(reportingLevel);
            }
            else if (index + 1 >= CountsLength)
            {
                // The array ended before the level: hdr reports this last position once more and stops.
                if (cumulative > previous)
                {
                    steps.Add((highest / 1000, cumulative));
                }
                return steps;
            }
            if (cumulative > previous)
            {
                steps.Add((highest / 1000, cumulative));
            }
            previous = cumulative;
        }
    }

    private static int BucketIndex(long value)
    {
        int pow2Ceiling = 64 - BitOperations.LeadingZeroCount((ulong)(value | SubBucketMask));
        return pow2Ceiling - (SubBucketHalfCountMagnitude + 1);
    }

    private static int CountsIndexFor(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        return ((bucket + 1) << SubBucketHalfCountMagnitude) + (subBucket - SubBucketHalfCount);
    }

    private static long ValueAtIndex(int index)
    {
        int bucket = (index >> SubBucketHalfCountMagnitude) - 1;
        int subBucket = (index & (SubBucketHalfCount - 1)) + SubBucketHalfCount;
        if (bucket < 0)
        {
            subBucket -= SubBucketHalfCount;
            bucket = 0;
        }
        return (long)subBucket << bucket;
    }

    private static long LowestEquivalent(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        return (long)subBucket << bucket;
    }

    private static long HighestEquivalent(long value)
    {
        int bucket = BucketIndex(value);
        int subBucket = (int)(value >> bucket);
        int adjustedBucket = subBucket >= SubBucketCount ? bucket + 1 : bucket;
        return LowestEquivalent(value) + (1L << adjustedBucket) - 1;
    }
}
