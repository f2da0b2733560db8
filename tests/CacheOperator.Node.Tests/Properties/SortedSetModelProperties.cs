using System.Text;
using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// Random ZADD/ZREM/ZINCRBY/ZRANGE/ZRANK sequences on <see cref="SortedSetValue"/> agree with a plain
/// sorted list: the same members, scores, order and ranks, through the compact form and the skip list.
/// </summary>
public class SortedSetModelProperties
{
    private static byte[] MemberBytes(ushort id) =>
        // A few long members force the skip list early; most are short.
        id % 97 == 0 ? Encoding.ASCII.GetBytes(new string('L', 70) + id) : Encoding.ASCII.GetBytes($"m{id % 400}");

    private static int ModelCompare((byte[] Member, double Score) x, (byte[] Member, double Score) y) =>
        x.Score != y.Score ? x.Score.CompareTo(y.Score) : x.Member.AsSpan().SequenceCompareTo(y.Member);

    [Property(MaxTest = 300)]
    public bool Operations_agree_with_a_sorted_list_model(bool skipList, (byte Op, ushort Member, sbyte Score)[] operations)
    {
        var set = skipList ? SortedSetValue.CreateSkipList(new EncodingLimits()) : new SortedSetValue(new EncodingLimits());
        var model = new List<(byte[] Member, double Score)>();
        foreach (var (op, id, rawScore) in operations)
        {
            var member = MemberBytes(id);
            double score = rawScore / 4.0;
            int at = model.FindIndex(e => e.Member.AsSpan().SequenceEqual(member));
            switch (op % 6)
            {
                case 0:
                case 1:
                    // ZADD
                    if (at >= 0)
                    {
                        if (model[at].Score != score)
                        {
                            set.UpdateScore(member, score);
                        }
                        model[at] = (member, score);
                    }
                    else
                    {
                        set.Add(member, score);
                        model.Add((member, score));
                    }
                    break;
                case 2:
                    // ZREM
                    if (set.Remove(member) != (at >= 0))
                    {
                        return false;
                    }
                    if (at >= 0)
                    {
                        model.RemoveAt(at);
                    }
                    break;
                case 3:
                    // ZINCRBY
                    if (at >= 0)
                    {
                        set.UpdateScore(member, model[at].Score + score);
                        model[at] = (member, model[at].Score + score);
                    }
                    else
                    {
                        set.Add(member, score);
                        model.Add((member, score));
                    }
                    break;
                case 4:
                    // ZRANK and ZSCORE
                    model.Sort(ModelCompare);
                    at = model.FindIndex(e => e.Member.AsSpan().SequenceEqual(member));
                    if (set.RankOf(member, out double found) != at || (at >= 0 && found != model[at].Score))
                    {
                        return false;
                    }
                    break;
                default:
                    // ZRANGE start stop (ascending or descending) and ZREMRANGEBYRANK of one element
                    model.Sort(ModelCompare);
                    if (model.Count > 0)
                    {
                        int start = id % model.Count;
                        bool descending = rawScore < 0;
                        var reader = set.Read(start, descending);
                        for (int i = start; descending ? i >= 0 : i < model.Count; i += descending ? -1 : 1)
                        {
                            if (!reader.Next(out var m, out double s) || !m.AsSpan().SequenceEqual(model[i].Member) || s != model[i].Score)
                            {
                                return false;
                            }
                        }
                        if (reader.Next(out _, out _))
                        {
                            return false;
                        }
                        if (rawScore % 5 == 0)
                        {
                            set.RemoveRange(start, start + 1);
                            model.RemoveAt(start);
                        }
                    }
                    break;
            }
        }
        model.Sort(ModelCompare);
        if (set.Count != model.Count)
        {
            return false;
        }
        for (int i = 0; i < model.Count; i++)
        {
            var (m, s) = set.GetAt(i);
            if (!m.AsSpan().SequenceEqual(model[i].Member) || s != model[i].Score || set.RankOf(m, out _) != i)
            {
                return false;
            }
        }
        return true;
    }
}
