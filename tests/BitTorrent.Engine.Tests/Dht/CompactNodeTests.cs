using System.Net;
using BitTorrent.Dht;
using Xunit;

namespace BitTorrent.Tests.Dht;

public sealed class CompactNodeTests
{
    [Fact]
    public void Nodes_round_trip_in_both_families()
    {
        var v4 = new List<CompactNode>
        {
            new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("198.18.0.1"), 6881)),
            new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("198.19.255.254"), 65535)),
        };
        var bytes4 = CompactNode.WriteList(v4, ipv6: false);
        Assert.Equal(52, bytes4.Length);
        Assert.Equal(new byte[] { 198, 18, 0, 1, 0x1a, 0xe1 }, bytes4.AsSpan(20, 6).ToArray());
        Assert.Equal(v4, CompactNode.ParseList(bytes4, ipv6: false, out int dropped4));
        Assert.Equal(0, dropped4);

        var v6 = new List<CompactNode> { new(NodeId.Random(), new IPEndPoint(IPAddress.Parse("fd00::1:2"), 1)) };
        var bytes6 = CompactNode.WriteList(v6, ipv6: true);
        Assert.Equal(38, bytes6.Length);
        Assert.Equal(v6, CompactNode.ParseList(bytes6, ipv6: true, out _));
        Assert.Empty(CompactNode.ParseList(ReadOnlySpan<byte>.Empty, ipv6: true, out _));
    }

    [Theory]
    [InlineData(25, false)]
    [InlineData(27, false)]
    [InlineData(38, false)]
    [InlineData(26, true)]
    [InlineData(39, true)]
    public void Lengths_that_are_not_whole_entries_are_refused(int length, bool ipv6) =>
        Assert.Equal(KrpcError.BadCompactNodes, Assert.Throws<KrpcException>(() => CompactNode.ParseList(new byte[length], ipv6, out _)).Error);

    [Fact]
    public void Peers_are_6_or_18_bytes_and_port_zero_reads_as_null()
    {
        var p4 = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 51413);
        var p6 = new IPEndPoint(IPAddress.Parse("2001:db8::9"), 443);
        Assert.Equal(new byte[] { 203, 0, 113, 9, 0xc8, 0xd5 }, CompactPeer.Write(p4));
        Assert.Equal(p4, CompactPeer.Read(CompactPeer.Write(p4)));
        Assert.Equal(18, CompactPeer.Write(p6).Length);
        Assert.Equal(p6, CompactPeer.Read(CompactPeer.Write(p6)));
        Assert.Null(CompactPeer.Read(new byte[] { 1, 2, 3, 4, 0, 0 }));
        Assert.Null(CompactPeer.Read(new byte[18]));
        foreach (var length in new[] { 0, 5, 7, 17, 19 })
            Assert.Equal(KrpcError.BadCompactPeer, Assert.Throws<KrpcException>(() => CompactPeer.Read(new byte[length])).Error);
    }

    [Fact]
    public void A_node_list_of_the_wrong_family_is_not_written()
    {
        var v6 = new List<CompactNode> { new(NodeId.Random(), new IPEndPoint(IPAddress.IPv6Loopback, 1)) };
        Assert.Throws<ArgumentException>(() => CompactNode.WriteList(v6, ipv6: false));
    }
}
