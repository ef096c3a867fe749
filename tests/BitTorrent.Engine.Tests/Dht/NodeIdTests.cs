using BitTorrent.Dht;
using Xunit;

namespace BitTorrent.Tests.Dht;

public sealed class NodeIdTests
{
    private static NodeId FromHex(string hex) => new(Convert.FromHexString(hex));

    [Fact]
    public void Xor_distance_and_prefix_length()
    {
        var zero = new NodeId(new byte[20]);
        var top = FromHex("8000000000000000000000000000000000000000");
        var low = FromHex("0000000000000000000000000000000000000001");
        Assert.Equal(top, zero.Xor(top));
        Assert.Equal(zero, top.Xor(top));
        Assert.Equal(0, zero.CommonPrefixLength(top));
        Assert.Equal(159, zero.CommonPrefixLength(low));
        Assert.Equal(160, low.CommonPrefixLength(low));
        Assert.Equal(12, zero.CommonPrefixLength(FromHex("0008000000000000000000000000000000000000")));
        Assert.True(zero.CompareDistance(low, top) < 0);
        Assert.True(zero.CompareDistance(top, low) > 0);
        Assert.Equal(0, zero.CompareDistance(top, top));
        // Distance is XOR, not numeric difference: from 0x7f.., 0xff.. is farther than 0x00.. although numerically nearer.
        var mid = FromHex("7f00000000000000000000000000000000000000");
        Assert.True(mid.CompareDistance(zero, FromHex("ff00000000000000000000000000000000000000")) < 0);
    }

    [Fact]
    public void Ids_are_exactly_20_bytes()
    {
        Assert.False(NodeId.TryRead(new byte[19], out _));
        Assert.False(NodeId.TryRead(new byte[21], out _));
        Assert.True(NodeId.TryRead(new byte[20], out var id));
        Assert.Equal(new string('0', 40), id.ToString());
        Assert.Throws<ArgumentException>(() => new NodeId(new byte[3]));
        Assert.Equal(new byte[20], default(NodeId).Bytes.ToArray());
    }
}
