using System.Net;
using BitTorrent.Download;
using Xunit;

namespace BitTorrent.Tests.Download;

public class AllowedFastSetTests
{
    private static readonly byte[] InfoHashAA = Enumerable.Repeat((byte)0xAA, 20).ToArray();

    [Fact]
    public void Matches_the_BEP_6_reference_vectors()
    {
        // BEP 6: address 80.4.4.200, info-hash 0xAA × 20, 1313 pieces.
        var seven = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHashAA, 1313, 7);
        Assert.Equal(new[] { 1059, 431, 808, 1217, 287, 376, 1188 }, seven);
        var nine = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHashAA, 1313, 9);
        Assert.Equal(new[] { 1059, 431, 808, 1217, 287, 376, 1188, 353, 508 }, nine);
    }

    [Fact]
    public void Depends_on_the_24_bit_network_only()
    {
        var a = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHashAA, 1313);
        var b = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.1"), InfoHashAA, 1313);
        var mapped = AllowedFastSet.Compute(IPAddress.Parse("::ffff:80.4.4.7"), InfoHashAA, 1313);
        var other = AllowedFastSet.Compute(IPAddress.Parse("80.4.5.200"), InfoHashAA, 1313);
        Assert.Equal(a, b);
        Assert.Equal(a, mapped);
        Assert.NotEqual(a, other);
        Assert.Equal(AllowedFastSet.DefaultSize, a.Count);
        Assert.Equal(a.Count, a.Distinct().Count());
        Assert.All(a, p => Assert.InRange(p, 0, 1312));
    }

    [Fact]
    public void Works_for_IPv6()
    {
        var set = AllowedFastSet.Compute(IPAddress.IPv6Loopback, InfoHashAA, 100);
        Assert.Equal(AllowedFastSet.DefaultSize, set.Distinct().Count());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    public void Is_empty_for_a_torrent_with_no_more_pieces_than_the_set(int pieces)
    {
        Assert.Empty(AllowedFastSet.Compute(IPAddress.Loopback, InfoHashAA, pieces));
    }
}
