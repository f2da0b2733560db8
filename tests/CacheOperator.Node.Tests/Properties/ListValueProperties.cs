using CacheOperator.Node.Storage;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// Random pushes, pops, positional reads and writes, inserts, removals and trims on <see cref="ListValue"/>
/// agree with a plain list. Small blocks (a few hundred bytes) make long lists span many blocks, and element
/// lengths from 0 to a few hundred bytes cover both length encodings and elements larger than a block.
/// </summary>
public class ListValueProperties
{
    /// <summary>Runs from random seeds, so that lists grow to thousands of elements.</summary>
    [Property(MaxTest = 60)]
    public bool Operations_agree_with_a_list(int seed, bool smallBlocks) => Run(seed, 6000, smallBlocks ? 96 : 4096);

    /// <summary>A long fixed run with the real block size: the list grows past several 128 KiB blocks and drains.</summary>
    [Xunit.Fact]
    public void A_long_run_with_real_blocks_agrees_with_a_list() => Xunit.Assert.True(Run(5, 120_000, 0));

    private static bool Run(int seed, int steps, int maxBlock)
    {
        var random = new Random(seed);
        var list = maxBlock == 0 ? new ListValue() : new ListValue(0, maxBlock);
        var model = new List<byte[]>();
        for (int step = 0; step < steps; step++)
        {
            // The first two thirds mostly grow the list, the rest mostly shrink it.
            bool growing = step < steps * 2 / 3;
            int op = random.Next(20);
            var value = Value(random, step);
            switch (op)
            {
                case < 6 when growing || op < 3:
                    list.PushLeft(value);
                    model.Insert(0, value);
                    break;
                case < 12 when growing || op < 9:
                    list.PushRight(value);
                    model.Add(value);
                    break;
                case < 12:
                case 12:
                case 13:
                    if (model.Count > 0)
                    {
                        bool left = op % 2 == 0;
                        var expected = left ? model[0] : model[^1];
                        if (!list.Pop(left).SequenceEqual(expected))
                        {
                            return Fail(step, op, model.Count);
                        }
                        model.RemoveAt(left ? 0 : model.Count - 1);
                        if (random.Next(4) == 0 && model.Count > 0)
                        {
                            // Rotate as LMOVE does on one list: the popped bytes go back in at the other end.
                            var popped = list.Pop(!left).ToArray();
                            list.Push(popped, left);
                            var moved = left ? model[^1] : model[0];
                            model.RemoveAt(left ? model.Count - 1 : 0);
                            model.Insert(left ? 0 : model.Count, moved);
                            if (!popped.AsSpan().SequenceEqual(moved))
                            {
                                return Fail(step, op, model.Count);
                            }
                        }
                    }
                    break;
                case 14:
                    // A run of reads in one direction from a random place, as LRANGE or LPOS walk.
                    if (model.Count > 0)
                    {
                        int from = random.Next(model.Count);
                        bool forward = random.Next(2) == 0;
                        for (int n = 0, i = from; n < 50 && i >= 0 && i < model.Count; n++, i += forward ? 1 : -1)
                        {
                            if (!list[i].SequenceEqual(model[i]))
                            {
                                return Fail(step, op, model.Count);
                            }
                        }
                    }
                    break;
                case 15:
                    if (model.Count > 0)
                    {
                        int at = random.Next(model.Count);
                        // Same length (copied in place) or a new length (the block is rewritten).
                        var replacement = random.Next(2) == 0 ? Filled(model[at].Length, (byte)step) : value;
                        list.Set(at, replacement);
                        model[at] = replacement;
                    }
                    break;
                case 16:
                    {
                        int at = random.Next(model.Count + 1);
                        list.Insert(at, value);
                        model.Insert(at, value);
                        break;
                    }
                case 17:
                    if (model.Count > 0 && random.Next(8) == 0)
                    {
                        var target = model[random.Next(model.Count)];
                        long limit = random.Next(3);
                        bool fromTail = random.Next(2) == 0;
                        int removed = list.RemoveMatching(target, limit, fromTail);
                        int expectedRemoved = RemoveFromModel(model, target, limit, fromTail);
                        if (removed != expectedRemoved)
                        {
                            return Fail(step, op, model.Count);
                        }
                    }
                    break;
                case 18:
                    if (model.Count > 2 && random.Next(10) == 0)
                    {
                        int start = random.Next(model.Count / 3);
                        int end = model.Count - 1 - random.Next(model.Count / 3);
                        list.Trim(start, end);
                        model.RemoveRange(end + 1, model.Count - end - 1);
                        model.RemoveRange(0, start);
                    }
                    break;
                default:
                    if (model.Count > 0 && list.IndexOf(model[model.Count / 2]) != model.FindIndex(e => e.AsSpan().SequenceEqual(model[model.Count / 2])))
                    {
                        return Fail(step, op, model.Count);
                    }
                    break;
            }
            if (list.Length != model.Count)
            {
                return Fail(step, op, model.Count);
            }
        }
        var copy = (ListValue)list.Clone();
        for (int i = 0; i < model.Count; i++)
        {
            if (!list[i].SequenceEqual(model[i]) || !copy[i].SequenceEqual(model[i]))
            {
                return false;
            }
        }
        list.Clear();
        return list.Length == 0 && copy.Length == model.Count && copy.EstimatedBytes > model.Sum(e => (long)e.Length);
    }

    private static bool Fail(int step, int op, int count) =>
        throw new Xunit.Sdk.XunitException($"step {step}, operation {op}, {count} elements in the model");

    /// <summary>Mostly short elements, some of 255 bytes and more (the long length form), now and then longer than a small block.</summary>
    private static byte[] Value(Random random, int step)
    {
        int kind = random.Next(20);
        int length = kind == 0 ? random.Next(255, 700) : kind == 1 ? 0 : random.Next(1, 70);
        return Filled(length, (byte)random.Next(4));
    }

    private static byte[] Filled(int length, byte seed)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + (i % 3));
        }
        return bytes;
    }

    private static int RemoveFromModel(List<byte[]> model, byte[] target, long limit, bool fromTail)
    {
        var doomed = new List<int>();
        for (int n = 0; n < model.Count && (limit == 0 || doomed.Count < limit); n++)
        {
            int i = fromTail ? model.Count - 1 - n : n;
            if (model[i].AsSpan().SequenceEqual(target))
            {
                doomed.Add(i);
            }
        }
        foreach (int i in doomed.OrderDescending())
        {
            model.RemoveAt(i);
        }
        return doomed.Count;
    }
}
