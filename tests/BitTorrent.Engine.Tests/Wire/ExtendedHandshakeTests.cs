using System.Net;
using System.Text;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Wire;

public class ExtendedHandshakeTests
{
    [Fact]
    public void Decodes_a_libtorrent_style_handshake()
    {
        // Shaped like what libtorrent 2.0 sends (keys sorted, yourip as 4 raw bytes).
        var bytes = Encoding.Latin1.GetBytes(
            "d12:complete_agoi-1e1:md11:lt_donthavei7e10:share_modei8e11:upload_onlyi3e12:ut_holepunchi4e11:ut_metadatai2e6:ut_pexi1ee" +
            "13:metadata_sizei1234e4:reqqi500e11:upload_onlyi1e1:v18:libtorrent/2.0.8.06:yourip4:\u007f\u0000\u0000\u0001e");
        var hs = ExtendedHandshake.Decode(bytes);

        Assert.Equal(new[] { "lt_donthave", "share_mode", "upload_only", "ut_holepunch", "ut_metadata", "ut_pex" }, hs.Extensions.Keys);
        Assert.Equal(2, hs.Extensions["ut_metadata"]);
        Assert.Equal("libtorrent/2.0.8.0", hs.ClientName);
        Assert.Equal(500, hs.RequestQueueLength);
        Assert.Equal(1234, hs.MetadataSize);
        Assert.Equal(IPAddress.Loopback, hs.YourIp);
        Assert.True(hs.UploadOnly);
        Assert.Null(hs.ListenPort);
        Assert.Equal(-1, ((BitTorrent.Bencoding.BInteger)hs.Dictionary["complete_ago"]!).Value);   // unknown keys kept
    }

    [Fact]
    public void Round_trips_every_modelled_field()
    {
        var hs = new ExtendedHandshake
        {
            ClientName = "BitTorrent for PowerShell 0.1.0",
            ListenPort = 51413,
            RequestQueueLength = 250,
            YourIp = IPAddress.IPv6Loopback,
            Ipv4 = IPAddress.Parse("192.0.2.7"),
            Ipv6 = IPAddress.Parse("2001:db8::1"),
            MetadataSize = 31337,
            UploadOnly = false,
        };
        hs.Extensions["ut_metadata"] = 3;
        hs.Extensions["ut_pex"] = 1;
        var back = ExtendedHandshake.Decode(hs.Encode());

        Assert.Equal(hs.Extensions, back.Extensions);
        Assert.Equal((hs.ClientName, hs.ListenPort, hs.RequestQueueLength, hs.MetadataSize, hs.UploadOnly),
            (back.ClientName, back.ListenPort, back.RequestQueueLength, back.MetadataSize, back.UploadOnly));
        Assert.Equal(hs.YourIp, back.YourIp);
        Assert.Equal(hs.Ipv4, back.Ipv4);
        Assert.Equal(hs.Ipv6, back.Ipv6);
    }

    [Fact]
    public void Ignores_disabled_extensions_and_values_of_the_wrong_type_or_range()
    {
        var hs = ExtendedHandshake.Decode(Encoding.Latin1.GetBytes(
            "d1:md6:ut_pexi0e11:ut_metadatai256e5:ut_okli1eee1:pi70000e4:reqqi-5e1:vi5e6:yourip3:abce"));
        Assert.Empty(hs.Extensions);
        Assert.Null(hs.ListenPort);
        Assert.Null(hs.RequestQueueLength);
        Assert.Null(hs.ClientName);
        Assert.Null(hs.YourIp);
    }

    [Fact]
    public void Accepts_trailing_bytes_but_not_a_root_that_is_not_a_dictionary()
    {
        Assert.Equal("x", ExtendedHandshake.Decode("d1:v1:xeTRAILING"u8).ClientName);
        foreach (var bad in new[] { "li1ee", "i5e", "d1:v", "", "d1:v3:ab" })
        {
            var ex = Assert.Throws<PeerProtocolException>(() => ExtendedHandshake.Decode(Encoding.ASCII.GetBytes(bad)));
            Assert.Equal(PeerProtocolError.InvalidExtendedHandshake, ex.Error);
        }
    }

    [Fact]
    public void Rejects_deep_nesting_and_oversized_input_within_limits()
    {
        var deep = "d1:x" + new string('l', 1000) + new string('e', 1000) + "e";
        Assert.Equal(PeerProtocolError.InvalidExtendedHandshake,
            Assert.Throws<PeerProtocolException>(() => ExtendedHandshake.Decode(Encoding.ASCII.GetBytes(deep))).Error);
        Assert.Equal(PeerProtocolError.InvalidExtendedHandshake,
            Assert.Throws<PeerProtocolException>(() => ExtendedHandshake.Decode(new byte[ExtendedHandshake.MaxEncodedLength + 1])).Error);
    }

    [Fact]
    public void Cuts_an_absurdly_long_client_name()
    {
        var name = new string('a', 5000);
        var hs = ExtendedHandshake.Decode(Encoding.ASCII.GetBytes($"d1:v{name.Length}:{name}e"));
        Assert.Equal(ExtendedHandshake.MaxClientNameLength, hs.ClientName!.Length);
    }
}
