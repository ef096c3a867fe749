using System.Text;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Wire;

public class PeerIdDecoderTests
{
    [Theory]
    // Azureus style: -XXvvvv- then 12 random bytes.
    [InlineData("-qB4520-abcdefghijkl", "qBittorrent", "4.5.2")]
    [InlineData("-qB5010-abcdefghijkl", "qBittorrent", "5.0.1")]
    [InlineData("-TR3000-abcdefghijkl", "Transmission", "3.00")]
    [InlineData("-TR2940-abcdefghijkl", "Transmission", "2.94")]
    [InlineData("-TR0072-abcdefghijkl", "Transmission", "0.72")]
    [InlineData("-TR111Z-abcdefghijkl", "Transmission", "1.11+")]
    [InlineData("-TR4050-abcdefghijkl", "Transmission", "4.0.5")]
    [InlineData("-TR400B-abcdefghijkl", "Transmission", "4.0.0-beta")]
    [InlineData("-LT2080-abcdefghijkl", "libtorrent (Rasterbar)", "2.0.8")]
    [InlineData("-LT1C90-abcdefghijkl", "libtorrent (Rasterbar)", "1.12.9")]
    [InlineData("-lt0D80-abcdefghijkl", "libTorrent (Rakshasa)", "0.13.8")]
    [InlineData("-DE13F0-abcdefghijkl", "Deluge", "1.3.15")]
    [InlineData("-UT355W-abcdefghijkl", "µTorrent", "3.5.5")]
    [InlineData("-BC0184-abcdefghijkl", "BitComet", "1.84")]
    [InlineData("-AZ5760-abcdefghijkl", "Azureus", "5.7.6")]
    [InlineData("-BI2501-abcdefghijkl", "BiglyBT", "2.5.0.1")]
    [InlineData("-WW0105-abcdefghijkl", "WebTorrent", "1.5")]
    [InlineData("-PB0100-abcdefghijkl", "BitTorrent for PowerShell", "0.1.0")]
    // aria2, Mainline, Shadow and others.
    [InlineData("A2-1-36-0-abcdefghij", "aria2", "1.36.0")]
    [InlineData("A2-1-37-10-abcdefghi", "aria2", "1.37.10")]
    [InlineData("M4-3-6--abcdefghijkl", "Mainline", "4.3.6")]
    [InlineData("M7-10-2-abcdefghijkl", "Mainline", "7.10.2")]
    [InlineData("Q1-10-0-abcdefghijkl", "Queen Bee", "1.10.0")]
    [InlineData("T03I-----abcdefghijk", "BitTornado", "0.3.18")]
    [InlineData("S58B-----abcdefghijk", "Shadow's client", "5.8.11")]
    [InlineData("A310--001v5Gysr4NxNK", "ABC", "3.1.0")]
    [InlineData("TIX0193-abcdefghijkl", "Tixati", "1.93")]
    [InlineData("XBT054d-abcdefghijkl", "XBT Client", "0.5.4 (debug)")]
    [InlineData("-ML2.7.2-abcdefghijk", "MLDonkey", "2.7.2")]
    public void Decodes_known_clients(string peerId, string name, string version)
    {
        var client = PeerIdDecoder.Decode(Encoding.ASCII.GetBytes(peerId));
        Assert.Equal(name, client.Name);
        Assert.Equal(version, client.Version);
        Assert.True(client.IsKnown);
        Assert.Equal($"{name} {version}", client.ToString());
    }

    [Theory]
    [InlineData("-XY1234-abcdefghijkl", "-XY1234-")]        // Azureus style, code nobody registered
    [InlineData("exbc\u0000\u0038LORDabcdefghij", "exbc")]       // printable prefix up to the first binary byte
    [InlineData("FakeClient/1.0xxxxxx", "FakeClie")]         // at most 8 characters
    [InlineData("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13", "Unknown")]
    public void Shows_unknown_ids_by_their_printable_prefix(string peerId, string shown)
    {
        var client = PeerIdDecoder.Decode(Encoding.Latin1.GetBytes(peerId));
        Assert.Equal(shown, client.Name);
        Assert.Null(client.Version);
        Assert.False(client.IsKnown);
    }

    [Fact]
    public void Our_own_peer_ids_decode_to_our_client_name()
    {
        var client = PeerIdDecoder.Decode(ClientIdentity.NewPeerId());
        Assert.Equal(ClientIdentity.ClientName, client.ToString());
    }

    [Fact]
    public void ToPrintable_masks_binary_bytes()
    {
        Assert.Equal("-qB4520-....abcdefgh", PeerIdDecoder.ToPrintable(Encoding.Latin1.GetBytes("-qB4520-\u0000\u0001\u00ff\u007fabcdefgh")));
    }
}
