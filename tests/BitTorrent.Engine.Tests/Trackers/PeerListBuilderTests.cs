using System.Net;
using BitTorrent.Trackers;
using Xunit;
using static BitTorrent.Tests.Trackers.TrackerTestData;

namespace BitTorrent.Tests.Trackers;

public sealed class PeerListBuilderTests
{
    [Fact]
    public void Compact_DropsDuplicatesUnusableAddressesAndTheTrailingPartialEntry()
    {
        var b = new PeerListBuilder(100);
        var data = CompactV4(("1.2.3.4", 1), ("1.2.3.4", 1), ("0.0.0.0", 5), ("1.2.3.5", 0), ("224.0.0.1", 6), ("255.255.255.255", 7), ("10.0.0.1", 65535))
            .Concat(new byte[] { 9, 9, 9 }).ToArray();
        b.AddCompact(data, ipv6: false);
        Assert.Equal(new[] { "1.2.3.4:1", "10.0.0.1:65535" }, b.ToList().Select(p => p.ToString()));
        Assert.Equal(6, b.Discarded);
    }

    [Fact]
    public void Compact6_MapsIPv4MappedAddressesToIPv4_AndDedupesAcrossFamilies()
    {
        var b = new PeerListBuilder(100);
        b.AddCompact(CompactV4(("9.9.9.9", 2)), ipv6: false);
        b.AddCompact(CompactV6(("::ffff:9.9.9.9", 2), ("ff02::1", 3), ("::", 4), ("fe80::1", 5)), ipv6: true);
        Assert.Equal(new[] { "9.9.9.9:2", "[fe80::1]:5" }, b.ToList().Select(p => p.ToString()));
        Assert.Equal(3, b.Discarded);
    }

    [Fact]
    public void Cap_IsHonoured_AndTheRestCounted()
    {
        var b = new PeerListBuilder(2);
        b.AddCompact(CompactV4(("1.0.0.1", 1), ("1.0.0.2", 1), ("1.0.0.3", 1), ("1.0.0.4", 1)), ipv6: false);
        Assert.True(b.IsFull);
        Assert.False(b.Add(IPAddress.Parse("1.0.0.5"), 1, null));
        Assert.Equal(2, b.Count);
        Assert.Equal(3, b.Discarded);
    }

    [Fact]
    public void TorrentPeer_FormatsEndPoints_ForBothFamilies()
    {
        var v4 = new TorrentPeer(IPAddress.Parse("::ffff:1.2.3.4"), 6881, "ab", "udp://t:1", "name");
        var v6 = new TorrentPeer(IPAddress.Parse("fe80::1%3"), 6881, "ab", "udp://t:1", "name");
        Assert.Equal("1.2.3.4:6881", v4.EndPoint);
        Assert.Equal(IPAddress.Parse("1.2.3.4"), v4.IPAddress);
        Assert.Equal("[fe80::1]:6881", v6.EndPoint);
    }
}
