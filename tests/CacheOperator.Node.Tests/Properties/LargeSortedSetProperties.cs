using System.Text;
using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// Random adds, score updates, removes, rank-range removes and reads on a large <see cref="SortedSetValue"/>
/// (thousands of members, so its tree has several levels that split and merge) agree with a sorted model:
/// the same scores, ranks, order read both ways from any rank, bound counts, and scan coverage.
/// </summary>
public class LargeSortedSetProperties
{
    private sealed class Model
    {
        public readonly Dictionary<string, double> Scores = [];
        public readonly SortedSet<(double Score, string Member)> Order = new(Comparer<(double Score, string Member)>.Create(
            (x, y) => SortedSetValue.Compare(x.Score, Encoding.ASCII.GetBytes(x.Member), y.Score, Encoding.ASCII.GetBytes(y.Member))));
    }

    /// <summary>Runs from random seeds; FsCheck's own integers are too small to name thousands of members.</summary>
    [Property(MaxTest = 30)]
    public bool Operations_agree_with_a_sorted_model(int seed, bool fewScores) => Run(Generate(seed, 8000), fewScores);

    /// <summary>A long fixed run: the set fills to about 10,000 members with few distinct scores, then drains.</summary>
    [Xunit.Fact]
    public void A_long_random_run_agrees_with_a_sorted_model() => Xunit.Assert.True(Run(Generate(11, 60_000), fewScores: true));

    /// <summary>
    /// Operations whose first half mostly adds (rank-range removes are off: the top bits say so) and whose
    /// second half mostly removes, so the tree grows several levels and then merges back down.
    /// </summary>
    private static int[] Generate(int seed, int length)
    {
        var random = new Random(seed);
        var operations = new int[length];
        for (int i = 0; i < length; i++)
        {
            bool filling = i < length / 2;
            int op = random.Next(10);
            op = filling ? op : op < 4 ? 5 : op < 6 ? 9 : op;
            operations[i] = (filling ? 1 << 28 : 0) | (random.Next(1 << 23) << 4) | op;
        }
        return operations;
    }

    private static bool Run(int[] operations, bool fewScores)
    {
        var set = SortedSetValue.CreateSkipList(new EncodingLimits());
        var model = new Model();
        foreach (int raw in operations)
        {
            uint op = (uint)raw;
            string member = $"m{(op >> 4) % 20000:D5}";
            // Few distinct scores make many ties, ordered by member bytes.
            double score = fewScores ? (op >> 12) % 7 : (op >> 12) % 100000 / 8.0;
            switch (op & 15)
            {
                case 0:
                case 1:
                case 2:
                case 3:
                case 4:
                    if (set.TryGetScore(Encoding.ASCII.GetBytes(member), out double current) != model.Scores.TryGetValue(member, out double expected))
                    {
                        return false;
                    }
                    if (model.Scores.ContainsKey(member))
                    {
                        if (current != expected)
                        {
                            return false;
                        }
                        if (score != current)
                        {
                            set.UpdateScore(Encoding.ASCII.GetBytes(member), score);
                            model.Order.Remove((current, member));
                            model.Order.Add((score, member));
                            model.Scores[member] = score;
                        }
                    }
                    else
                    {
                        set.Add(Encoding.ASCII.GetBytes(member), score);
                        model.Order.Add((score, member));
                        model.Scores[member] = score;
                    }
                    break;
                case 5:
                case 6:
                    if (set.Remove(Encoding.ASCII.GetBytes(member)) != model.Scores.Remove(member, out double removed))
                    {
                        return false;
                    }
                    model.Order.Remove((removed, member));
                    break;
                case 7:
                    if (!RankAndBoundAgree(set, model, member, score))
                    {
                        return false;
                    }
                    break;
                case 8:
                    if (model.Order.Count > 0 && !ReadAgrees(set, model, (int)((op >> 4) % model.Order.Count), descending: (op & 16) != 0, limit: 200))
                    {
                        return false;
                    }
                    break;
                default:
                    if (model.Order.Count > 0 && (op >> 28) == 0 && (op >> 4) % 4 == 0)
                    {
                        // ZREMRANGEBYRANK of up to 150 elements.
                        int start = (int)((op >> 7) % model.Order.Count);
                        int end = Math.Min(model.Order.Count, start + (int)((op >> 20) % 150) + 1);
                        var doomed = model.Order.Skip(start).Take(end - start).ToList();
                        set.RemoveRange(start, end);
                        foreach (var element in doomed)
                        {
                            model.Order.Remove(element);
                            model.Scores.Remove(element.Member);
                        }
                    }
                    break;
            }
            if (set.Count != model.Order.Count)
            {
                return false;
            }
        }
        return ReadAgrees(set, model, 0, descending: false, limit: int.MaxValue)
            && (model.Order.Count == 0 || ReadAgrees(set, model, model.Order.Count - 1, descending: true, limit: int.MaxValue))
            && ScanCoversAll(set, model);
    }

    private static bool RankAndBoundAgree(SortedSetValue set, Model model, string member, double score)
    {
        long rank = set.RankOf(Encoding.ASCII.GetBytes(member), out double found);
        if (!model.Scores.TryGetValue(member, out double expected))
        {
            if (rank != -1)
            {
                return false;
            }
        }
        else
        {
            int expectedRank = model.Order.GetViewBetween(model.Order.Min, (expected, member)).Count - 1;
            if (rank != expectedRank || found != expected || set.GetAt(rank).Member.AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(member)) is false)
            {
                return false;
            }
        }
        // Elements with a score below the bound.
        long before = set.CountBefore(new ScoreBelow(score));
        return before == model.Order.Count(e => e.Score < score);
    }

    private static bool ReadAgrees(SortedSetValue set, Model model, int start, bool descending, int limit)
    {
        var expected = descending ? model.Order.Reverse().Skip(model.Order.Count - 1 - start) : model.Order.Skip(start);
        var reader = set.Read(start, descending);
        int read = 0;
        foreach (var (score, member) in expected)
        {
            if (read++ == limit)
            {
                return true;
            }
            if (!reader.Next(out var m, out double s) || s != score || Encoding.ASCII.GetString(m) != member)
            {
                return false;
            }
        }
        return !reader.Next(out _, out _);
    }

    private static bool ScanCoversAll(SortedSetValue set, Model model)
    {
        var seen = new HashSet<string>();
        ulong cursor = 0;
        do
        {
            var found = new List<(byte[] Member, double Score)>();
            cursor = set.Scan(cursor, 37, found);
            foreach (var (member, score) in found)
            {
                string name = Encoding.ASCII.GetString(member);
                if (!seen.Add(name) || model.Scores[name] != score)
                {
                    return false;
                }
            }
        }
        while (cursor != 0);
        return seen.Count == model.Scores.Count;
    }

    private readonly struct ScoreBelow(double score) : ISortedSetBound
    {
        public bool IsBefore(double s, ReadOnlySpan<byte> m) => s < score;
    }
}
