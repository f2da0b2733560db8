using CacheOperator.Node.Storage;

namespace CacheOperator.Node.Tests.Geo;

/// <summary>
/// Redis's geohash arithmetic. Every expectation was read from redis-server 7.0.15 (GEOADD then ZSCORE, GEOHASH,
/// GEODIST), edges included: the latitude limit and the antimeridian carry one bit past the 52.
/// </summary>
public class GeoHashTests
{
    [Theory]
    [InlineData(13.361389, 38.115556, 3479099956230698UL)]
    [InlineData(15.087269, 37.502669, 3479447370796909UL)]
    [InlineData(0, 85.05112878, 6755399441055744UL)]
    [InlineData(180, 0, 10133099161583616UL)]
    [InlineData(-180, -85.05112878, 0UL)]
    public void Score_is_redis_servers(double longitude, double latitude, ulong expected) =>
        Assert.Equal(expected, GeoHash.Score(longitude, latitude));

    [Theory]
    [InlineData(3479099956230698UL, "sqc8b49rny0")]
    [InlineData(6755399441055744UL, "up05b5048p0")]
    [InlineData(10133099161583616UL, "80000000000")]
    [InlineData(0UL, "00bh0hbj200")]
    public void Standard_string_is_redis_servers(ulong score, string expected)
    {
        var text = new byte[11];
        GeoHash.StandardString(score, text);
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(text));
    }

    [Fact]
    public void Decoded_points_are_redis_servers()
    {
        // GEOPOS prints %.17Lf of these doubles.
        var (x, y) = GeoHash.DecodeScore(3479099956230698UL);
        Assert.Equal("13.36138933897018433", x.ToString("F17", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("38.11555639549629859", y.ToString("F17", System.Globalization.CultureInfo.InvariantCulture));
        (x, y) = GeoHash.DecodeScore(10133099161583616UL);
        Assert.Equal(180, x);
        Assert.Equal("0.00000126736058093", y.ToString("F17", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Distance_is_redis_servers()
    {
        var (x1, y1) = GeoHash.DecodeScore(3479099956230698UL);
        var (x2, y2) = GeoHash.DecodeScore(3479447370796909UL);
        Assert.Equal("166.2742", (GeoHash.Distance(x1, y1, x2, y2) / 1000).ToString("F4", System.Globalization.CultureInfo.InvariantCulture));
    }
}
