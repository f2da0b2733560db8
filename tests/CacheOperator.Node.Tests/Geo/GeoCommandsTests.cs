using System.Globalization;
using CacheOperator.Node.Tests.Infrastructure;

namespace CacheOperator.Node.Tests.Geo;

/// <summary>
/// GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS(_RO) and GEORADIUSBYMEMBER(_RO) against
/// redis-server 7.0.15, byte for byte in RESP2 and RESP3: every option and option mix, result order (ties included),
/// stored results, every error text, the dirty counter, keyspace events and the command table entries.
/// </summary>
public class GeoCommandsTests(RedisAndNode servers) : IClassFixture<RedisAndNode>
{
    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Sicily, a ring of equal-distance points, members sharing one position, poles, the antimeridian.</summary>
    private static void Fill(PairedDifferential both, string key = "g")
    {
        both.Same("GEOADD", key, "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania", "12.758489", "38.788135", "edge1",
            "13.5", "37.5", "Agrigento", "14.0", "37.0", "sea");
        var ring = new List<string> { "GEOADD", key };
        for (int i = 0; i < 12; i++)
        {
            ring.AddRange([F(14 + (0.5 * Math.Cos(i * Math.PI / 6))), F(37.5 + (0.5 * Math.Sin(i * Math.PI / 6))), "ring" + i.ToString(CultureInfo.InvariantCulture)]);
        }
        for (int i = 0; i < 15; i++)
        {
            ring.AddRange(["14.25", "37.75", "same" + i.ToString(CultureInfo.InvariantCulture)]);
        }
        both.Same([.. ring]);
        both.Same("GEOADD", key, "0", "85.05112878", "north", "0", "-85.05112878", "south", "179.9999", "0", "east", "-180", "0", "west", "180", "0.5", "east2");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Geoadd_geopos_geodist_geohash_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        both.Same("ZRANGE", "g", "0", "-1", "WITHSCORES");
        both.Same("OBJECT", "ENCODING", "g");
        both.Same("GEOADD", "g", "NX", "1", "1", "Palermo", "2", "2", "new");
        both.Same("GEOADD", "g", "XX", "1", "1", "Palermo", "3", "3", "new2");
        both.Same("GEOADD", "g", "XX", "CH", "1", "1", "Palermo", "3", "3", "new2");
        both.Same("GEOADD", "g", "CH", "1", "1", "Palermo", "4", "4", "new3");
        both.Same("GEOADD", "g", "ch", "nx", "5", "5", "new4");
        both.Same("GEOADD", "fresh", "XX", "1", "1", "a");
        both.Same("EXISTS", "fresh");
        both.Same("GEOADD", "g", "13.361389", "38.115556", "Palermo");
        both.Same("ZRANGE", "g", "0", "-1", "WITHSCORES");
        both.Same("GEOPOS", "g", "Palermo", "Catania", "nosuch", "north", "south", "east", "west", "east2", "ring3", "same0");
        both.Same("GEOPOS", "g");
        both.Same("GEOPOS", "nokey", "a", "b");
        both.Same("GEOHASH", "g", "Palermo", "Catania", "nosuch", "north", "south", "east", "west", "east2", "ring7");
        both.Same("GEOHASH", "g");
        both.Same("GEOHASH", "nokey", "a");
        foreach (var unit in new[] { "m", "km", "ft", "mi", "KM", "Mi" })
        {
            both.Same("GEODIST", "g", "Palermo", "Catania", unit);
            both.Same("GEODIST", "g", "north", "south", unit);
            both.Same("GEODIST", "g", "east", "west", unit);
        }
        both.Same("GEODIST", "g", "Palermo", "Catania");
        both.Same("GEODIST", "g", "Palermo", "Palermo");
        both.Same("GEODIST", "g", "Palermo", "nosuch");
        both.Same("GEODIST", "nokey", "a", "b");
        // Plain sorted-set scores (negative, past 52 bits, fractional) decode as Redis's cast makes them.
        both.Same("ZADD", "z", "-1", "neg", "1e20", "big", "123.75", "frac", "4503599627370496", "top", "inf", "inf");
        both.Same("GEOPOS", "z", "neg", "big", "frac", "top", "inf");
        both.Same("GEOHASH", "z", "neg", "big", "frac", "top", "inf");
        both.Same("GEODIST", "z", "neg", "frac", "km");
        both.Same("GEOSEARCH", "z", "FROMLONLAT", "0", "0", "BYRADIUS", "30000", "km", "WITHHASH");
        // Binary members.
        both.Same("GEOADD"u8.ToArray(), "b"u8.ToArray(), "1"u8.ToArray(), "2"u8.ToArray(), [0, 255, 13, 10]);
        both.Same("GEOPOS"u8.ToArray(), "b"u8.ToArray(), [0, 255, 13, 10]);
        both.Same("GEOSEARCH", "b", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "m");
    }

    /// <summary>The option mixes of the searches, each run around a point and around a member.</summary>
    private static readonly string[][] Options =
    [
        [], ["ASC"], ["DESC"], ["COUNT", "1"], ["COUNT", "3"], ["COUNT", "7", "DESC"], ["COUNT", "5", "ASC"], ["COUNT", "4", "ANY"],
        ["COUNT", "4", "ANY", "DESC"], ["COUNT", "100", "ANY", "ASC"], ["COUNT", "1000"], ["WITHDIST"], ["WITHHASH"], ["WITHCOORD"],
        ["WITHCOORD", "WITHDIST", "WITHHASH"], ["withdist", "withcoord", "count", "6"], ["WITHHASH", "DESC", "COUNT", "9"],
        ["ASC", "DESC"], ["COUNT", "2", "COUNT", "8"], ["ANY", "COUNT", "3"],
    ];

    private static readonly string[][] Shapes =
    [
        ["BYRADIUS", "200", "km"], ["BYRADIUS", "100000", "m"], ["BYRADIUS", "60", "mi"], ["BYRADIUS", "300000", "FT"], ["BYRADIUS", "0", "m"],
        ["BYRADIUS", "5000", "km"], ["BYRADIUS", "20000", "km"], ["BYBOX", "400", "400", "km"], ["BYBOX", "100", "30", "km"], ["BYBOX", "0", "0", "m"],
        ["BYBOX", "40000", "20000", "km"], ["BYBOX", "90", "90", "mi"],
    ];

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Geosearch_with_every_option_matches_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        string[][] centers = [["FROMLONLAT", "14", "37.5"], ["FROMMEMBER", "same3"], ["FROMLONLAT", "14.25", "37.75"], ["fromlonlat", "-179.9", "84"],
            ["FROMMEMBER", "Palermo"], ["FROMLONLAT", "179.99", "-0.1"], ["FROMMEMBER", "north"]];
        foreach (var center in centers)
        {
            foreach (var shape in Shapes)
            {
                foreach (var options in Options)
                {
                    both.Same(["GEOSEARCH", "g", .. center, .. shape, .. options]);
                }
            }
        }
        // Options before the center and shape.
        both.Same("GEOSEARCH", "g", "WITHDIST", "BYRADIUS", "300", "km", "COUNT", "3", "FROMLONLAT", "14", "37");
        both.Same("GEOSEARCH", "nokey", "FROMLONLAT", "14", "37", "BYRADIUS", "300", "km");
        both.Same("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "300", "km", "WITHDIST");
    }

    /// <summary>Radii and boxes of zero, below a meter, past the earth and infinite; centers on the Mercator corners.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Extreme_shapes_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        string[][] queries =
        [
            ["FROMLONLAT", "0", "0", "BYRADIUS", "1e300", "km", "WITHDIST"], ["FROMLONLAT", "0", "0", "BYRADIUS", "inf", "km", "WITHDIST"],
            ["FROMLONLAT", "0", "0", "BYBOX", "inf", "1", "km", "WITHDIST"], ["FROMLONLAT", "0", "0", "BYBOX", "0", "inf", "km", "ASC", "COUNT", "2"],
            ["FROMLONLAT", "180", "85.05112878", "BYBOX", "1e10", "1e10", "m", "WITHDIST"], ["FROMLONLAT", "0", "0", "BYRADIUS", "1e-300", "m"],
            ["FROMLONLAT", "-180", "-85.05112878", "BYRADIUS", "0", "m", "WITHCOORD"], ["FROMMEMBER", "west", "BYRADIUS", "0", "m", "WITHCOORD"],
            ["FROMMEMBER", "east2", "BYBOX", "50000", "1", "km", "WITHDIST", "DESC"], ["FROMLONLAT", "-180", "0", "BYRADIUS", "30", "km", "WITHCOORD"],
            ["FROMLONLAT", "180", "0", "BYBOX", "100", "100", "km", "WITHHASH"], ["FROMMEMBER", "north", "BYRADIUS", "40000", "km", "COUNT", "9", "ANY", "DESC"],
        ];
        foreach (var query in queries)
        {
            both.Same(["GEOSEARCH", "g", .. query]);
        }
        both.Same("GEOSEARCH", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "m", "COUNT", "9223372036854775807");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Georadius_and_georadiusbymember_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        string[][] circles = [["200", "km"], ["100000", "m"], ["60", "mi"], ["0", "m"], ["5000", "km"], ["20000", "km"], ["300000", "ft"]];
        foreach (var circle in circles)
        {
            foreach (var options in Options)
            {
                foreach (var command in new[] { "GEORADIUS", "GEORADIUS_RO" })
                {
                    both.Same([command, "g", "14", "37.5", .. circle, .. options]);
                    both.Same([command, "g", "14.25", "37.75", .. circle, .. options]);
                    both.Same([command, "g", "-180", "85.05112878", .. circle, .. options]);
                }
                foreach (var command in new[] { "GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO" })
                {
                    both.Same([command, "g", "same0", .. circle, .. options]);
                    both.Same([command, "g", "east", .. circle, .. options]);
                }
            }
        }
        both.Same("GEORADIUS", "nokey", "14", "37", "10", "km", "WITHDIST");
        both.Same("GEORADIUSBYMEMBER", "nokey", "x", "10", "km");
        // Without a source key, neither the member nor the radius is read.
        both.Same("GEORADIUSBYMEMBER", "nokey", "x", "abc", "furlong");
        both.Same("GEORADIUSBYMEMBER_RO", "nokey", "x", "-1", "km", "COUNT", "2");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Store_variants_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        string[][] stores =
        [
            ["GEORADIUS", "g", "14", "37.5", "200", "km", "STORE", "d"],
            ["GEORADIUS", "g", "14", "37.5", "200", "km", "STOREDIST", "d"],
            ["GEORADIUS", "g", "14", "37.5", "200", "mi", "STOREDIST", "d", "COUNT", "5"],
            ["GEORADIUS", "g", "14", "37.5", "200", "km", "STORE", "x", "STOREDIST", "d", "COUNT", "3", "DESC"],
            ["GEORADIUS", "g", "14", "37.5", "200", "km", "STOREDIST", "x", "STORE", "d", "COUNT", "3", "ANY"],
            ["GEORADIUSBYMEMBER", "g", "same1", "50", "km", "STORE", "d"],
            ["GEORADIUSBYMEMBER", "g", "same1", "50", "ft", "STOREDIST", "d"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "14", "37.5", "BYBOX", "300", "300", "km"],
            ["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "STOREDIST"],
            ["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "STOREDIST", "COUNT", "4", "DESC"],
            ["GEOSEARCHSTORE", "d", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "mi", "storedist", "COUNT", "4", "ANY"],
            ["GEOSEARCHSTORE", "g", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km"],
        ];
        foreach (var store in stores)
        {
            both.Same("SET", "d", "a string");
            both.Same("EXPIRE", "d", "1000");
            both.Same(store);
            both.Same("ZRANGE", "d", "0", "-1", "WITHSCORES");
            both.Same("OBJECT", "ENCODING", "d");
            both.Same("TTL", "d");
            both.Same("TYPE", "d");
        }
        both.Same("ZRANGE", "g", "0", "-1", "WITHSCORES");
        Fill(both);
        // Nothing found, or no source key: the destination is deleted.
        both.Same("GEOADD", "d", "1", "1", "x");
        both.Same("GEORADIUS", "g", "100", "10", "1", "km", "STORE", "d");
        both.Same("EXISTS", "d");
        both.Same("GEORADIUS", "g", "100", "10", "1", "km", "STORE", "d");
        both.Same("GEOADD", "d", "1", "1", "x");
        both.Same("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km");
        both.Same("EXISTS", "d");
        both.Same("GEOADD", "d", "1", "1", "x");
        both.Same("GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "STORE", "d");
        both.Same("EXISTS", "d");
        both.Same("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km");
        // Large results take the skiplist form, as Redis's conversion decides.
        var many = new List<string> { "GEOADD", "big" };
        for (int i = 0; i < 300; i++)
        {
            many.AddRange([F(10 + (i * 0.001)), F(40 + (i * 0.0007)), "m" + i.ToString(CultureInfo.InvariantCulture)]);
        }
        both.Same([.. many]);
        both.Same("GEOSEARCHSTORE", "d", "big", "FROMLONLAT", "10.1", "40.1", "BYRADIUS", "100", "km");
        both.Same("OBJECT", "ENCODING", "d");
        both.Same("ZRANGE", "d", "0", "-1", "WITHSCORES");
        both.Same("GEOSEARCHSTORE", "d", "big", "FROMLONLAT", "10.1", "40.1", "BYRADIUS", "100", "km", "COUNT", "20", "STOREDIST");
        both.Same("OBJECT", "ENCODING", "d");
        both.Same("ZRANGE", "d", "0", "-1", "WITHSCORES");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Errors_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        Fill(both);
        both.Same("SET", "s", "x");
        string[][] commands =
        [
            ["GEOADD", "g", "200", "100", "x"], ["GEOADD", "g", "1", "100", "x"], ["GEOADD", "g", "-180.0001", "0", "x"], ["GEOADD", "g", "0", "85.06", "x"],
            ["GEOADD", "g", "1e300", "-1e300", "x"], ["GEOADD", "g", "inf", "0", "x"], ["GEOADD", "g", "0", "-inf", "x"], ["GEOADD", "g", "-0.0000001", "-86", "x"],
            ["GEOADD", "g", "abc", "1", "x"], ["GEOADD", "g", "1", "nan", "x"], ["GEOADD", "g", "1", " 2", "x"], ["GEOADD", "g", "1", "", "x"],
            ["GEOADD", "g", "1", "2", "ok", "1", "300", "bad"], ["GEOADD", "g", "NX", "XX", "1", "2", "x"], ["GEOADD", "g", "CH", "1", "2"],
            ["GEOADD", "g", "GT", "1", "2", "x"], ["GEOADD", "g", "INCR", "1", "2", "x"], ["GEOADD", "g", "1", "2", "x", "3"], ["GEOADD", "g", "CH", "NX", "XX"],
            ["GEOADD", "g", "1", "2"], ["GEOADD", "s", "1", "2", "x"], ["GEOADD", "s", "1", "200", "x"],
            ["GEODIST", "g", "a", "b", "furlong"], ["GEODIST", "g", "a", "b", "km", "x"], ["GEODIST", "s", "a", "b"], ["GEODIST", "s", "a", "b", "x"], ["GEODIST", "g", "a"],
            ["GEOPOS", "s", "a"], ["GEOHASH", "s", "a"], ["GEOPOS"], ["GEOHASH"],
            ["GEORADIUS", "g", "15", "37", "abc", "km"], ["GEORADIUS", "g", "15", "37", "-1", "km"], ["GEORADIUS", "g", "15", "37", "1", "yd"],
            ["GEORADIUS", "g", "200", "37", "abc", "km"], ["GEORADIUS", "g", "x", "37", "1", "km"], ["GEORADIUS", "s", "200", "37", "1", "km"],
            ["GEORADIUS", "g", "15", "37", "100", "km", "COUNT", "0"], ["GEORADIUS", "g", "15", "37", "100", "km", "COUNT", "-5"],
            ["GEORADIUS", "g", "15", "37", "100", "km", "COUNT", "x"], ["GEORADIUS", "g", "15", "37", "100", "km", "COUNT"], ["GEORADIUS", "g", "15", "37", "100", "km", "ANY"],
            ["GEORADIUS", "g", "15", "37", "100", "km", "STORE", "x", "WITHDIST"], ["GEORADIUS", "g", "15", "37", "100", "km", "WITHHASH", "STOREDIST", "x"],
            ["GEORADIUS", "g", "15", "37", "100", "km", "WITHCOORD", "STORE", "x"], ["GEORADIUS", "g", "15", "37", "100", "km", "STORE"],
            ["GEORADIUS", "g", "15", "37", "100", "km", "FROMLONLAT", "1", "2"], ["GEORADIUS", "g", "15", "37", "100", "km", "BOGUS"],
            ["GEORADIUS_RO", "g", "15", "37", "100", "km", "STORE", "x"], ["GEORADIUS_RO", "g", "15", "37", "100", "km", "STOREDIST", "x"],
            ["GEORADIUS", "g", "15", "37", "100"], ["GEORADIUS", "nokey", "15", "37", "100", "km", "ANY"], ["GEORADIUS", "nokey", "15", "37", "100", "km", "STORE", "x", "WITHDIST"],
            ["GEORADIUSBYMEMBER", "g", "nosuch", "100", "km"], ["GEORADIUSBYMEMBER", "g", "Palermo", "abc", "km"], ["GEORADIUSBYMEMBER", "g", "Palermo", "1", "x"],
            ["GEORADIUSBYMEMBER", "s", "Palermo", "1", "km"], ["GEORADIUSBYMEMBER", "g", "Palermo", "100", "km", "STORE"], ["GEORADIUSBYMEMBER_RO", "g", "Palermo", "100", "km", "STORE", "d"],
            ["GEORADIUSBYMEMBER", "nokey", "x", "100", "km", "COUNT", "0"], ["GEORADIUSBYMEMBER", "nokey", "x", "100", "km", "BOGUS"],
            ["GEOSEARCH", "g", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"], ["GEOSEARCH", "g", "FROMLONLAT", "200", "1", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "-1", "2", "km"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "1", "-2", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "a", "2", "km"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "1", "b", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "1", "2", "yards"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "x", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "-3", "km"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "3", "parsec"],
            ["GeoSearch", "g", "FROMLONLAT", "1", "2", "ASC", "WITHDIST"], ["geosearch", "g", "BYRADIUS", "1", "km", "ASC", "WITHDIST"],
            ["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYBOX", "1", "1", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYBOX", "1", "1", "km", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "x"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STOREDIST"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "COUNT", "0", "ANY"],
            ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "BYRADIUS", "1", "km"],
            ["GEOSEARCH", "s", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"], ["GEOSEARCH", "nokey", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"],
            ["GEOSEARCH", "nokey", "FROMLONLAT", "1", "200", "BYRADIUS", "1", "km"], ["GEOSEARCH", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "BYRADIUS", "2", "km"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "WITHDIST"], ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "STORE", "x"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "WITHHASH", "COUNT", "2"], ["GeoSearchStore", "d", "g", "BYRADIUS", "1", "km", "COUNT", "2"],
            ["GEOSEARCHSTORE", "d", "s", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km"], ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "km", "ANY"],
            ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "1", "2", "BYRADIUS"],
        ];
        foreach (var command in commands)
        {
            both.Same(command);
        }
        both.Same("ZRANGE", "g", "0", "-1", "WITHSCORES");
        both.Same("EXISTS", "x", "d");
    }

    /// <summary>GEOADD counts as its ZADD (one per member added or moved); a stored result one per member; a deleted destination one.</summary>
    [Fact]
    public void Changes_are_counted_as_redis_counts_them()
    {
        using var both = new PairedDifferential(servers);
        string[][] steps =
        [
            ["GEOADD", "g", "1", "1", "a", "2", "2", "b"], ["GEOADD", "g", "1", "1", "a"], ["GEOADD", "g", "CH", "1", "1", "a", "3", "3", "b", "4", "4", "c"],
            ["GEOADD", "g", "NX", "9", "9", "a"], ["GEORADIUS", "g", "2", "2", "500", "km", "STORE", "d"], ["GEOSEARCHSTORE", "e", "g", "FROMMEMBER", "a", "BYRADIUS", "1000", "km"],
            ["GEOSEARCHSTORE", "e", "g", "FROMMEMBER", "a", "BYRADIUS", "1", "m", "STOREDIST"], ["GEOSEARCHSTORE", "e", "g", "FROMMEMBER", "a", "BYBOX", "1", "1", "m"],
            ["GEOSEARCHSTORE", "e", "g", "FROMLONLAT", "50", "50", "BYRADIUS", "1", "m"], ["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "a", "BYRADIUS", "1", "m"],
            ["GEOSEARCH", "g", "FROMMEMBER", "a", "BYRADIUS", "1000", "km"], ["GEOADD", "g", "200", "1", "z"],
        ];
        foreach (var step in steps)
        {
            both.SameChanges(step);
        }
    }

    [Fact]
    public void Keyspace_events_and_watch_match_redis()
    {
        using var both = new PairedDifferential(servers);
        both.Same("CONFIG", "SET", "notify-keyspace-events", "KEA");
        var transcripts = new List<string>();
        foreach (var server in new Func<RespClient>[] { servers.Redis.Client, servers.Node.Client })
        {
            using var subscriber = server();
            using var client = server();
            subscriber.Call("PSUBSCRIBE", "__key*__:*");
            client.Call("GEOADD", "g", "1", "1", "a", "2", "2", "b");
            client.Call("GEOADD", "g", "1", "1", "a");
            client.Call("GEOADD", "g", "XX", "5", "5", "nosuch");
            client.Call("GEORADIUS", "g", "1", "1", "500", "km", "STORE", "d");
            client.Call("GEORADIUSBYMEMBER", "g", "a", "500", "km", "STOREDIST", "d");
            client.Call("GEOSEARCHSTORE", "e", "g", "FROMMEMBER", "a", "BYRADIUS", "1000", "km");
            client.Call("GEOSEARCHSTORE", "e", "g", "FROMLONLAT", "50", "50", "BYRADIUS", "1", "m");
            client.Call("GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "a", "BYRADIUS", "1", "m");
            client.Call("GEOSEARCH", "g", "FROMMEMBER", "a", "BYRADIUS", "1000", "km");
            // WATCH sees a GEOADD that moved a member, not one that changed nothing.
            client.Call("WATCH", "g");
            client.Call("GEOADD", "g", "1", "1", "a");
            client.Call("MULTI");
            client.Call("PING");
            string first = client.Call("EXEC").ToString();
            client.Call("WATCH", "g");
            client.Call("GEOADD", "g", "1.5", "1", "a");
            client.Call("MULTI");
            client.Call("PING");
            string second = client.Call("EXEC").ToString();
            client.Call("WATCH", "d");
            client.Call("GEORADIUS", "g", "1", "1", "500", "km", "STORE", "d");
            client.Call("MULTI");
            client.Call("PING");
            string third = client.Call("EXEC").ToString();
            var lines = new List<string> { first, second, third };
            lines.AddRange(subscriber.ReadMessagesUntilPing().Select(m => m.ToString()));
            transcripts.Add(string.Join('\n', lines));
        }
        both.Same("CONFIG", "SET", "notify-keyspace-events", "");
        Assert.Contains("georadiusstore", transcripts[0], StringComparison.Ordinal);
        Assert.Contains("geosearchstore", transcripts[0], StringComparison.Ordinal);
        Assert.Equal(transcripts[0], transcripts[1]);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Command_info_and_getkeys_match_redis(int protocol)
    {
        using var both = new PairedDifferential(servers, protocol);
        foreach (var name in new[] { "geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro", "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore" })
        {
            both.Same("COMMAND", "INFO", name);
        }
        both.Same("COMMAND", "GETKEYS", "GEOADD", "k", "1", "2", "m");
        both.Same("COMMAND", "GETKEYS", "GEORADIUS", "k", "1", "2", "3", "km");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "k", "1", "2", "3", "km", "STORE", "d");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "GEORADIUS", "k", "1", "2", "3", "km", "COUNT", "1", "STOREDIST", "d");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "GEORADIUSBYMEMBER", "k", "m", "3", "km", "STORE", "d");
        both.Same("COMMAND", "GETKEYSANDFLAGS", "GEOSEARCHSTORE", "d", "k", "FROMMEMBER", "m", "BYRADIUS", "1", "km");
        both.Same("COMMAND", "GETKEYS", "GEOSEARCH", "k", "FROMMEMBER", "m", "BYRADIUS", "1", "km");
    }
}
