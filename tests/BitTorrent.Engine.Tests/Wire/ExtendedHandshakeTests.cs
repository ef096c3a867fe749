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

public class ExtendedHandshakeDeltaTests
{
    [Fact]
    public void Zero_ids_are_kept_as_disabled_and_encoded_back_as_zero()
    {
        var hs = ExtendedHandshake.Decode("d1:md6:ut_pexi0e11:ut_metadatai3eee"u8);
        Assert.Equal(new[] { "ut_pex" }, hs.DisabledExtensions);
        Assert.Equal(3, hs.Extensions["ut_metadata"]);
        var back = ExtendedHandshake.Decode(hs.Encode());
        Assert.Equal(hs.DisabledExtensions, back.DisabledExtensions);
        Assert.Equal(hs.Extensions, back.Extensions);
    }

    [Fact]
    public void Later_handshakes_are_additive_deltas()
    {
        var table = new PeerExtensionTable();
        table.Apply(ExtendedHandshake.Decode("d1:md11:ut_metadatai2e6:ut_pexi1eee"u8));
        table.Apply(ExtendedHandshake.Decode("d1:md6:ut_pexi0e11:lt_donthavei7eee"u8));   // pex off, a new one on
        table.Apply(ExtendedHandshake.Decode("d1:md11:ut_metadatai9eee"u8));                 // renumbered
        table.Apply(ExtendedHandshake.Decode("d1:v1:xe"u8));                                  // no m: nothing changes
        Assert.True(table.TryGetId("ut_metadata", out byte metadataId));
        Assert.Equal(9, metadataId);
        Assert.False(table.Supports("ut_pex"));
        Assert.True(table.TryGetId("lt_donthave", out byte donthave));
        Assert.Equal(7, donthave);
        Assert.Equal(2, table.Count);
        Assert.Equal(4, table.HandshakeCount);
    }

    [Fact]
    public void The_table_stays_bounded_however_many_deltas_arrive()
    {
        var table = new PeerExtensionTable();
        for (int round = 0; round < 10; round++)
        {
            var hs = new ExtendedHandshake();
            for (int i = 0; i < ExtendedHandshake.MaxExtensions; i++) hs.Extensions[$"x{round}_{i}"] = 1;
            table.Apply(ExtendedHandshake.Decode(hs.Encode()));
        }
        Assert.Equal(ExtendedHandshake.MaxExtensions, table.Count);
    }

    [Fact]
    public void M_entries_and_names_are_bounded_on_decode()
    {
        var sb = new StringBuilder("d1:md");
        for (int i = 0; i < 1000; i++) sb.Append($"{$"e{i:D4}".Length}:e{i:D4}i1e");
        sb.Append("ee");
        var hs = ExtendedHandshake.Decode(Encoding.ASCII.GetBytes(sb.ToString()));
        Assert.Equal(ExtendedHandshake.MaxExtensions, hs.Extensions.Count);
        string longName = new string('n', ExtendedHandshake.MaxExtensionNameLength + 1);
        var named = ExtendedHandshake.Decode(Encoding.ASCII.GetBytes($"d1:md{longName.Length}:{longName}i5e6:ut_pexi1eee"));
        Assert.Equal(new[] { "ut_pex" }, named.Extensions.Keys);
    }

    [Fact]
    public void Metadata_size_is_reported_as_sent_and_judged_usable_or_not()
    {
        Assert.True(ExtendedHandshake.Decode("d13:metadata_sizei16384ee"u8).HasUsableMetadataSize);
        var negative = ExtendedHandshake.Decode("d13:metadata_sizei-1ee"u8);
        Assert.Equal(-1, negative.MetadataSize);
        Assert.False(negative.HasUsableMetadataSize);
        Assert.False(ExtendedHandshake.Decode("d13:metadata_sizei10000001ee"u8).HasUsableMetadataSize);
        Assert.False(ExtendedHandshake.Decode("d13:metadata_sizei0ee"u8).HasUsableMetadataSize);
        Assert.Null(ExtendedHandshake.Decode("d13:metadata_size3:abce"u8).MetadataSize);
    }

    [Fact]
    public void A_v4_mapped_yourip_is_the_v4_address()
    {
        var mapped = IPAddress.Parse("::ffff:192.0.2.9").GetAddressBytes();
        var bytes = Encoding.Latin1.GetBytes("d6:yourip16:").Concat(mapped).Concat("e"u8.ToArray()).ToArray();
        Assert.Equal(IPAddress.Parse("192.0.2.9"), ExtendedHandshake.Decode(bytes).YourIp);
    }

    [Fact]
    public void Our_handshake_offers_metadata_and_pex_but_no_pex_for_a_private_torrent()
    {
        var ours = ExtendedHandshake.Decode(ExtendedHandshake.CreateLocal("BitTorrent for PowerShell 0.1.0", 2000, 6881,
            IPAddress.Parse("::ffff:127.0.0.1"), metadataSize: 31337, uploadOnly: true).Encode());
        Assert.Equal(ExtensionIds.UtMetadata, ours.Extensions[ExtensionNames.UtMetadata]);
        Assert.Equal(ExtensionIds.UtPex, ours.Extensions[ExtensionNames.UtPex]);
        Assert.Equal((31337L, 6881, 2000, true), (ours.MetadataSize!.Value, ours.ListenPort!.Value, ours.RequestQueueLength!.Value, ours.UploadOnly!.Value));
        Assert.Equal(IPAddress.Loopback, ours.YourIp);
        Assert.Equal("BitTorrent for PowerShell 0.1.0", ours.ClientName);

        var magnet = ExtendedHandshake.Decode(ExtendedHandshake.CreateLocal("c", 250, uploadOnly: true).Encode());
        Assert.Null(magnet.MetadataSize);
        Assert.Null(magnet.UploadOnly);   // without metadata we must not look finished
        Assert.Null(magnet.ListenPort);

        var closed = ExtendedHandshake.Decode(ExtendedHandshake.CreateLocal("c", 250, metadataSize: 100, isPrivate: true).Encode());
        // BEP 27: no PEX for a private torrent; its metadata is still served to peers that know its info-hash.
        Assert.Equal(new[] { ExtensionNames.UtMetadata }, closed.Extensions.Keys);
        Assert.Equal(100L, closed.MetadataSize);
    }

    [Fact]
    public void Incoming_ids_map_to_our_extension_names()
    {
        Assert.Equal(ExtensionNames.UtMetadata, ExtensionIds.LocalName(ExtensionIds.UtMetadata));
        Assert.Equal(ExtensionNames.UtPex, ExtensionIds.LocalName(ExtensionIds.UtPex));
        Assert.Null(ExtensionIds.LocalName(0));
        Assert.Null(ExtensionIds.LocalName(200));
    }
}
