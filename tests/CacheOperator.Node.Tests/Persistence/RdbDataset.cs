using System.Globalization;
using System.Text;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Persistence;

/// <summary>
/// A dataset of every type and encoding redis-server 7.0 keeps (small and large, integers and text, compressible and
/// not, with and without expiries, in several databases), written by commands so that a node and redis-server build
/// it alike, and a canonical text of a server's whole dataset to compare two servers key by key.
/// </summary>
public static class RdbDataset
{
    /// <summary>An absolute expiry far ahead (2100-01-01), so that no key expires during a test and the value is exact.</summary>
    public const long FarExpiryMs = 4_102_444_800_000;

    /// <summary>Databases the dataset uses.</summary>
    public static readonly int[] Databases = [0, 3, 15];

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>Writes the dataset through <paramref name="client"/>.</summary>
    public static void Populate(RespClient client)
    {
        var random = new Random(12);
        void Ok(params string[] args) => Assert.False(client.Call(args).IsError, string.Join(' ', args));
        void OkBytes(params byte[][] args) => Assert.False(client.Call(args).IsError);

        Ok("SELECT", "0");
        Ok("SET", "str:small", "hello");
        Ok("SET", "str:empty", "");
        Ok("SET", "str:int8", "-7");
        Ok("SET", "str:int16", "12345");
        Ok("SET", "str:int32", "-2000000000");
        Ok("SET", "str:int64", "1234567890123456789");
        Ok("SET", "str:leadingzero", "0123");
        Ok("SET", "str:compressible", string.Concat(Enumerable.Repeat("abcdefgh", 500)));
        var noise = new byte[3000];
        random.NextBytes(noise);
        OkBytes("SET"u8.ToArray(), "str:binary"u8.ToArray(), noise);
        Ok("SET", "str:big", new string('x', 200_000));
        Ok("SET", "str:ttl", "expiring");
        Ok("PEXPIREAT", "str:ttl", N(FarExpiryMs));

        Ok("RPUSH", "list:small", "a", "1", "-5", "long element " + new string('q', 100));
        for (int i = 0; i < 3000; i += 100)
        {
            Ok(["RPUSH", "list:large", .. Enumerable.Range(i, 100).Select(n => n % 3 == 0 ? N(n * 1000L) : "element-" + N(n) + new string('e', n % 40))]);
        }
        Ok("RPUSH", "list:bigelements", new string('b', 20_000), new string('c', 9000), "tail");
        Ok("RPUSH", "list:ttl", "x", "y");
        Ok("PEXPIREAT", "list:ttl", N(FarExpiryMs + 1));

        Ok("SADD", "set:intset", "1", "-2", "300", "70000", "-5000000000");
        Ok(["SADD", "set:intset:large", .. Enumerable.Range(0, 600).Select(n => N(n * 7L))]);
        Ok("SADD", "set:strings", "alpha", "beta", "12", "gamma");
        Ok(["SADD", "set:strings:large", .. Enumerable.Range(0, 300).Select(n => "member-" + N(n))]);
        Ok("SADD", "set:ttl", "1", "2");
        Ok("PEXPIREAT", "set:ttl", N(FarExpiryMs + 2));

        Ok("ZADD", "zset:small", "1", "one", "2.5", "two", "-3", "minus", "inf", "top", "-inf", "bottom", "0.1", "tenth");
        Ok(["ZADD", "zset:large", .. Enumerable.Range(0, 200).SelectMany(n => new[] { (n * 1.25 - 30).ToString("R", CultureInfo.InvariantCulture), "m" + N(n) })]);
        Ok("ZADD", "zset:longmember", "1", new string('L', 100), "2", "short");
        Ok("ZADD", "zset:ttl", "1", "a");
        Ok("PEXPIREAT", "zset:ttl", N(FarExpiryMs + 3));

        Ok("HSET", "hash:small", "f1", "v1", "f2", "2", "f3", "-300000", "empty", "");
        Ok(["HSET", "hash:large", .. Enumerable.Range(0, 600).SelectMany(n => new[] { "field" + N(n), n % 2 == 0 ? N(n) : "value" + N(n) })]);
        Ok("HSET", "hash:longvalue", "f", new string('v', 100), "g", "h");
        Ok("HSET", "hash:ttl", "f", "v");
        Ok("PEXPIREAT", "hash:ttl", N(FarExpiryMs + 4));

        Ok("SELECT", "3");
        Ok("SET", "db3:string", "three");
        Ok("RPUSH", "db3:list", "1", "2", "3");
        Ok("PEXPIREAT", "db3:list", N(FarExpiryMs + 5));
        Ok("SELECT", "15");
        Ok("HSET", "db15:hash", "a", "b");
        Ok("SELECT", "0");
    }

    /// <summary>
    /// Every key of the dataset's databases as "db key type encoding pexpiretime value", sorted: a text two
    /// servers holding the same data print identically.
    /// </summary>
    public static string Canonical(RespClient client)
    {
        var lines = new List<string>();
        foreach (int db in Databases)
        {
            client.Call("SELECT", N(db));
            foreach (var key in client.Call("KEYS", "*").Elements.Select(e => e.Bytes!))
            {
                string type = client.Call("TYPE"u8.ToArray(), key).Text!;
                string encoding = client.Call("OBJECT"u8.ToArray(), "ENCODING"u8.ToArray(), key).Text!;
                long expiry = client.Call("PEXPIRETIME"u8.ToArray(), key).Integer;
                string value = type switch
                {
                    "string" => Hex(client.Call("GET"u8.ToArray(), key).Bytes!),
                    "list" => string.Join(',', client.Call("LRANGE"u8.ToArray(), key, "0"u8.ToArray(), "-1"u8.ToArray()).Elements.Select(e => Hex(e.Bytes!))),
                    "set" => string.Join(',', client.Call("SMEMBERS"u8.ToArray(), key).Elements.Select(e => Hex(e.Bytes!)).Order(StringComparer.Ordinal)),
                    "zset" => string.Join(',', client.Call("ZRANGE"u8.ToArray(), key, "0"u8.ToArray(), "-1"u8.ToArray(), "WITHSCORES"u8.ToArray()).Elements.Select(e => Hex(e.Bytes!))),
                    "hash" => string.Join(',', client.Call("HGETALL"u8.ToArray(), key).Elements.Chunk(2)
                        .Select(p => Hex(p[0].Bytes!) + "=" + Hex(p[1].Bytes!)).Order(StringComparer.Ordinal)),
                    _ => throw new InvalidOperationException($"Unexpected type {type}"),
                };
                lines.Add($"{db} {Encoding.UTF8.GetString(key)} {type} {encoding} {expiry} {value}");
            }
        }
        client.Call("SELECT", "0");
        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines);
    }

    private static string Hex(byte[] bytes) => bytes.Length <= 64 ? Encoding.Latin1.GetString(bytes) : $"{bytes.Length}:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes))}";
}
