using System.Buffers;
using System.Text;
using CacheOperator.Node.Persistence;
using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// The RDB object codec in process: values of every type and encoding round-trip, LZF round-trips and
/// hundreds of thousands of mutated objects are refused or decoded, never an exception.
/// </summary>
public class RdbObjectCodecTests
{
    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private static IEnumerable<object> SampleValues()
    {
        yield return B("");
        yield return B("12345");
        yield return B(string.Concat(Enumerable.Repeat("abc", 100)));
        var list = new ListValue();
        foreach (int i in Enumerable.Range(0, 3000))
        {
            list.PushRight(B(i % 7 == 0 ? new string('z', i % 300) : i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        yield return list;
        foreach (int size in new[] { 3, 700 })
        {
            var ints = new SetValue(new EncodingLimits());
            var strings = new SetValue(new EncodingLimits());
            var hash = new HashValue(new EncodingLimits());
            var zset = new SortedSetValue(new EncodingLimits());
            for (int i = 0; i < size; i++)
            {
                ints.Add(B(((i * 40503L) - 70000).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                strings.Add(B("s" + i));
                hash.Set(B("f" + i), B(i % 2 == 0 ? "v" + i : i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                zset.Add(B("m" + i), i % 3 == 0 ? i * 0.5 : -i);
            }
            yield return ints;
            yield return strings;
            yield return hash;
            yield return zset;
        }
    }

    private static byte[] Object(object value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RdbObjectWriter.Write(buffer, value);
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Every_value_reads_back_as_written()
    {
        foreach (var value in SampleValues())
        {
            var written = Object(value);
            var reader = new RdbObjectReader(written, new EncodingLimits());
            var read = reader.TryReadObject();
            Assert.NotNull(read);
            Assert.Equal(written.Length, reader.Position);
            Assert.Equal(ValueKinds.TypeName(value), ValueKinds.TypeName(read));
            Assert.Equal(ValueKinds.EncodingName(value), ValueKinds.EncodingName(read));
            Assert.Equal(written, Object(read));
        }
    }

    [Fact]
    public void Lzf_round_trips_what_it_compresses()
    {
        var random = new Random(7);
        for (int n = 0; n < 500; n++)
        {
            var data = new byte[random.Next(4, 5000)];
            // Few distinct bytes, so that back-references of every length and offset occur.
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)random.Next(n % 5 == 0 ? 256 : 1 + (n % 4));
            }
            var compressed = Lzf.Compress(data, data.Length - 4);
            if (compressed is null)
            {
                continue;
            }
            Assert.True(compressed.Length <= data.Length - 4);
            var output = new byte[data.Length];
            Assert.True(Lzf.TryDecompress(compressed, output));
            Assert.Equal(data, output);
            // One byte short or long: refused, not overrun.
            Assert.False(Lzf.TryDecompress(compressed, new byte[data.Length - 1]));
            Assert.False(Lzf.TryDecompress(compressed, new byte[data.Length + 1]));
        }
    }

    [Fact]
    public void Mutated_objects_never_throw()
    {
        var random = new Random(99);
        var samples = SampleValues().Select(Object).ToArray();
        int decoded = 0;
        for (int n = 0; n < 60_000; n++)
        {
            var sample = samples[n % samples.Length];
            var mutated = (byte[])sample.Clone();
            int edits = 1 + random.Next(3);
            for (int e = 0; e < edits; e++)
            {
                // Mostly near the start, where lengths, headers and encodings live.
                int at = random.Next(2) == 0 ? random.Next(Math.Min(mutated.Length, 40)) : random.Next(mutated.Length);
                mutated[at] = random.Next(3) switch { 0 => (byte)random.Next(256), 1 => (byte)(mutated[at] ^ (1 << random.Next(8))), _ => (byte)(mutated[at] + 1) };
            }
            if (random.Next(4) == 0)
            {
                mutated = mutated[..random.Next(mutated.Length)];
            }
            var reader = new RdbObjectReader(mutated, new EncodingLimits());
            if (reader.TryReadObject() is not null)
            {
                decoded++;
            }
        }
        // Some mutations (a changed character inside a string) still decode: the parser was reached, not just refused up front.
        Assert.InRange(decoded, 1, 59_999);
    }

    [Fact]
    public void Huge_claimed_lengths_are_refused_without_allocating_them()
    {
        byte[][] objects =
        [
            [RdbType.String, 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            [RdbType.String, 0xC3, 0x01, 0x80, 0x7F, 0xFF, 0xFF, 0xFF, 0x00],
            [RdbType.List, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x00],
            [RdbType.ListQuicklist2, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00],
            [RdbType.SetIntset, 0x0C, 8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0x1F, 0, 0, 0, 0],
            [RdbType.HashListpack, 0x07, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF],
            [RdbType.SortedSet2, 0x40, 0x05],
        ];
        foreach (var bytes in objects)
        {
            Assert.Null(new RdbObjectReader(bytes, new EncodingLimits()).TryReadObject());
        }
    }
}
