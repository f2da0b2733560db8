using System.Globalization;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;
using FsCheck.Xunit;

namespace CacheOperator.Node.Tests.Properties;

/// <summary>
/// BITOP and BITFIELD on random binary strings, run on redis-server 7.0.15 and on the node: every reply and the
/// resulting bytes must be identical. Strings stay under 80 bytes and offsets under 700 bits, so a run is quick.
/// </summary>
public sealed class BitmapDifferentialProperties(RedisAndNode servers) : IClassFixture<RedisAndNode>, IDisposable
{
    private static readonly string[] Operations = ["AND", "OR", "XOR", "NOT"];

    private static readonly string[] Types = ["i1", "u1", "i3", "u3", "i8", "u8", "i12", "u12", "i16", "u31", "i32", "u33", "i63", "u63", "i64"];

    private static readonly string[] OverflowModes = ["WRAP", "SAT", "FAIL"];

    private readonly RespClient _redis = servers.Redis.Client();
    private readonly RespClient _node = servers.Node.Client();

    /// <summary>FsCheck's seed drives a <see cref="Random"/>: its own integers and arrays are too small to reach word loops and type edges.</summary>
    [Property(MaxTest = 150)]
    public bool Bitop_gives_redis_s_bytes(int seed)
    {
        var random = new Random(seed);
        string op = Operations[random.Next(Operations.Length)];
        var keys = new List<string>();
        int count = op == "NOT" ? 1 : random.Next(1, 5);
        for (int i = 0; i < count; i++)
        {
            string key = "src" + i.ToString(CultureInfo.InvariantCulture);
            keys.Add(key);
            // Some sources are missing keys, some empty strings; the rest any bytes, often runs of 0x00 or 0xFF.
            switch (random.Next(6))
            {
                case 0:
                    Both(B("DEL"), B(key));
                    break;
                case 1:
                    Both(B("SET"), B(key), []);
                    break;
                default:
                    Both(B("SET"), B(key), RandomBytes(random, random.Next(1, 80)));
                    break;
            }
        }
        string destination = random.Next(3) == 0 ? keys[random.Next(keys.Count)] : "dest";
        return Same(["BITOP", op, destination, .. keys]) && Same(["GET", destination]) && Same(["EXISTS", destination]);
    }

    [Property(MaxTest = 150)]
    public bool Bitfield_gives_redis_s_replies_and_bytes(int seed)
    {
        var random = new Random(seed);
        Both(B("DEL"), B("bf"));
        if (random.Next(4) != 0)
        {
            Both(B("SET"), B("bf"), RandomBytes(random, random.Next(0, 80)));
        }
        bool readOnly = random.Next(5) == 0;
        var command = new List<string> { readOnly ? "BITFIELD_RO" : "BITFIELD", "bf" };
        for (int i = random.Next(1, 12); i > 0; i--)
        {
            string type = Types[random.Next(Types.Length)];
            int bits = int.Parse(type[1..], CultureInfo.InvariantCulture);
            int position = random.Next(700);
            string offset = random.Next(4) == 0 ? "#" + (position / bits).ToString(CultureInfo.InvariantCulture) : position.ToString(CultureInfo.InvariantCulture);
            string value = Value(random, bits).ToString(CultureInfo.InvariantCulture);
            switch (readOnly ? 0 : random.Next(4))
            {
                case 0:
                    command.AddRange(["GET", type, offset]);
                    break;
                case 1:
                    command.AddRange(["SET", type, offset, value]);
                    break;
                case 2:
                    command.AddRange(["INCRBY", type, offset, value]);
                    break;
                default:
                    command.AddRange(["OVERFLOW", OverflowModes[random.Next(3)]]);
                    break;
            }
        }
        return Same([.. command]) && Same(["GET", "bf"]);
    }

    /// <summary>Small numbers, numbers near a type's edges, or any 64-bit number, equally often.</summary>
    private static long Value(Random random, int bits) => random.Next(3) switch
    {
        0 => random.Next(-4, 5),
        1 => (random.Next(2) == 0 ? -1 : 1) * ((bits >= 64 ? long.MaxValue : (1L << Math.Min(bits, 62)) - 1) - random.Next(3)),
        _ => random.NextInt64(long.MinValue, long.MaxValue),
    };

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = random.Next(4) switch { 0 => 0x00, 1 => 0xFF, _ => (byte)random.Next(256) };
        }
        return bytes;
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    private void Both(params byte[][] command)
    {
        var expected = _redis.Call(command).ToString();
        Xunit.Assert.Equal(expected, _node.Call(command).ToString());
    }

    private bool Same(string[] command)
    {
        var expected = _redis.Call(command);
        var actual = _node.Call(command);
        Xunit.Assert.True(expected.ToString() == actual.ToString() && (expected.Bytes ?? []).AsSpan().SequenceEqual(actual.Bytes ?? []),
            $"{string.Join(' ', command)}\n  redis: {expected}\n  node:  {actual}");
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _redis.Dispose();
        _node.Dispose();
    }
}
