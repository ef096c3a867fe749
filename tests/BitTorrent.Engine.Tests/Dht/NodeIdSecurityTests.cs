using System.Net;
using System.Text;
using BitTorrent.Dht;
using Xunit;

namespace BitTorrent.Tests.Dht;

/// <summary>BEP 42 node ids against the BEP's own test vectors, and CRC-32C against its standard check value.</summary>
public sealed class NodeIdSecurityTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_values()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0x00000000u, Crc32C.Compute(ReadOnlySpan<byte>.Empty));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
    }

    // The BEP 42 table: address, r, and the example id (its first 21 bits come from the address, the last byte is r).
    [Theory]
    [InlineData("124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401")]
    [InlineData("21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256")]
    [InlineData("65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616")]
    [InlineData("84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41")]
    [InlineData("43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a")]
    public void Generates_and_accepts_the_BEP_42_vectors(string address, int r, string exampleId)
    {
        var ip = IPAddress.Parse(address);
        var example = new NodeId(Convert.FromHexString(exampleId));
        Assert.True(NodeIdSecurity.IsValid(example, ip));

        var generated = NodeIdSecurity.Generate(ip, (byte)r, example.Bytes);
        Assert.Equal(example, generated); // the free bits came from the example, the rest must be computed identically

        var random = NodeIdSecurity.Generate(ip);
        Assert.True(NodeIdSecurity.IsValid(random, ip));
    }

    [Fact]
    public void An_id_from_another_address_or_another_r_is_refused()
    {
        var id = new NodeId(Convert.FromHexString("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"));
        Assert.False(NodeIdSecurity.IsValid(id, IPAddress.Parse("124.31.75.22")));
        var wrongR = id.Bytes.ToArray();
        wrongR[19] = 2;
        Assert.False(NodeIdSecurity.IsValid(new NodeId(wrongR), IPAddress.Parse("124.31.75.21")));
        var flipped = id.Bytes.ToArray();
        flipped[2] ^= 0x08; // the 21st bit
        Assert.False(NodeIdSecurity.IsValid(new NodeId(flipped), IPAddress.Parse("124.31.75.21")));
        flipped[2] ^= 0x08 | 0x04; // the 22nd bit is free
        Assert.True(NodeIdSecurity.IsValid(new NodeId(flipped), IPAddress.Parse("124.31.75.21")));
    }

    [Fact]
    public void Bits_outside_the_mask_do_not_matter()
    {
        // 124.31.75.21 masked with 03.0f.3f.ff is 0.15.11.21: these differ only in masked-out bits.
        var id = new NodeId(Convert.FromHexString("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"));
        Assert.True(NodeIdSecurity.IsValid(id, IPAddress.Parse("4.15.11.21")));
        Assert.True(NodeIdSecurity.IsValid(id, IPAddress.Parse("252.255.203.21")));
    }

    [Fact]
    public void IPv6_ids_use_the_first_8_bytes_only()
    {
        var a = IPAddress.Parse("2001:db8:1234:5678::1");
        var id = NodeIdSecurity.Generate(a);
        Assert.True(NodeIdSecurity.IsValid(id, a));
        Assert.True(NodeIdSecurity.IsValid(id, IPAddress.Parse("2001:db8:1234:5678:ffff:ffff:ffff:ffff")));
        Assert.False(NodeIdSecurity.IsValid(id, IPAddress.Parse("2001:db8:1234:5679::1")));
    }

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.0.1")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("::ffff:192.168.0.1")]
    public void Local_and_private_addresses_are_exempt(string address)
    {
        Assert.True(NodeIdSecurity.IsExempt(IPAddress.Parse(address)));
        Assert.True(NodeIdSecurity.IsValid(new NodeId(new byte[20]), IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("172.32.0.1")]
    [InlineData("8.8.8.8")]
    [InlineData("198.18.0.1")]
    [InlineData("2001:db8::1")]
    public void Public_addresses_are_not_exempt(string address) =>
        Assert.False(NodeIdSecurity.IsExempt(IPAddress.Parse(address)));
}
