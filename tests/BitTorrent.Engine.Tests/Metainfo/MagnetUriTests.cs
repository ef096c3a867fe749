using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using Xunit;

namespace BitTorrent.Tests.Metainfo;

public sealed class MagnetUriTests
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";
    private const string V2 = "c5a3d1f2b4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8";

    [Fact]
    public void Reads_every_parameter_of_a_full_link()
    {
        var m = MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash.ToUpperInvariant()}&xt=urn:btmh:1220{V2}&dn=My+file%20%C3%A9&xl=12345" +
            "&tr=udp%3A%2F%2Ft.example%3A80%2Fannounce&tr.1=http://h.example/a&ws=http%3A%2F%2Fseed%2Ff%3Fa%3D1%26b%3D2" +
            "&x.pe=10.0.0.1:6881&x.pe=%5B::1%5D:51413&x.pe=peer.example:7000&so=0,2,4-6&dht=1.2.3.4:6881&kt=ignored");
        Assert.Equal(Hash, m.InfoHash);
        Assert.Equal(Convert.FromHexString(Hash), m.InfoHashBytes);
        Assert.Equal(V2, m.InfoHashV2);
        Assert.True(m.HasV1 && m.HasV2);
        Assert.Equal("My file é", m.Name);
        Assert.Equal(12345, m.ExactLength);
        Assert.Equal(new[] { "udp://t.example:80/announce", "http://h.example/a" }, m.Trackers);
        Assert.Equal(new[] { "http://seed/f?a=1&b=2" }, m.WebSeeds);
        Assert.Equal(new[] { "10.0.0.1:6881", "[::1]:51413", "peer.example:7000" }, m.Peers.Select(p => p.ToString()));
        Assert.Equal(new[] { 0, 2, 4, 5, 6 }, m.SelectedFiles);
        Assert.Empty(m.Ignored);
    }

    [Fact]
    public void Base32_and_hex_spell_the_same_hash_and_a_bare_hash_is_a_link()
    {
        string base32 = Base32.Encode(Convert.FromHexString(Hash));
        Assert.Equal(32, base32.Length);
        Assert.Equal(Hash, MagnetUri.Parse($"magnet:?xt=urn:btih:{base32}").InfoHash);
        Assert.Equal(Hash, MagnetUri.Parse($"magnet:?xt=urn:btih:{base32.ToLowerInvariant()}").InfoHash);
        Assert.Equal(Hash, MagnetUri.Parse(Hash).InfoHash);
        Assert.Equal(Hash, MagnetUri.Parse("  " + base32 + "\n").InfoHash);
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}", MagnetUri.Parse(base32).ToString());
        Assert.True(MagnetUri.LooksLikeMagnet(Hash));
        Assert.True(MagnetUri.LooksLikeMagnet("MAGNET:?broken"));
        Assert.False(MagnetUri.LooksLikeMagnet("./file.torrent"));
    }

    [Fact]
    public void A_v2_only_link_and_a_hybrid_stripped_of_btmh_both_work()
    {
        var v2 = MagnetUri.Parse($"magnet:?xt=urn:btmh:1220{V2}&dn=x");
        Assert.False(v2.HasV1);
        Assert.Null(v2.InfoHash);
        Assert.Equal(V2, v2.InfoHashV2);
        Assert.Equal($"magnet:?xt=urn:btmh:1220{V2}&dn=x", v2.ToString());
        var v1 = MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash}&dn=x");
        Assert.False(v1.HasV2);
    }

    [Theory]
    [InlineData("", MagnetUriError.Empty)]
    [InlineData("   ", MagnetUriError.Empty)]
    [InlineData("http://example.com/x.torrent", MagnetUriError.NotAMagnetUri)]
    [InlineData("0123456789abcdef", MagnetUriError.NotAMagnetUri)]
    [InlineData("magnet:?dn=no+hash&tr=http://t/a", MagnetUriError.MissingInfoHash)]
    [InlineData("magnet:?xt=urn:sha1:ABCDEF", MagnetUriError.MissingInfoHash)]
    [InlineData("magnet:?", MagnetUriError.MissingInfoHash)]
    [InlineData("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456", MagnetUriError.InvalidInfoHash)]   // 39
    [InlineData("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef0123456g", MagnetUriError.InvalidInfoHash)]  // not hex
    [InlineData("magnet:?xt=urn:btih:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", MagnetUriError.InvalidInfoHash)]          // '1' is not base32
    [InlineData("magnet:?xt=urn:btih:", MagnetUriError.InvalidInfoHash)]
    [InlineData("magnet:?xt=urn:btmh:1120c5a3d1f2b4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8", MagnetUriError.InvalidV2InfoHash)] // SHA-1 multihash
    [InlineData("magnet:?xt=urn:btmh:c5a3d1f2b4e6a8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a4b6c8", MagnetUriError.InvalidV2InfoHash)]     // unprefixed
    [InlineData("magnet:?xt=urn:btmh:1220c5a3", MagnetUriError.InvalidV2InfoHash)]
    [InlineData("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&xt=urn:btih:1123456789abcdef0123456789abcdef01234567", MagnetUriError.ConflictingInfoHashes)]
    [InlineData("magnet:?xt=urn%3Abtih%3", MagnetUriError.InvalidPercentEncoding)]
    [InlineData("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=%ZZ", MagnetUriError.InvalidPercentEncoding)]
    [InlineData("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=%C3%28", MagnetUriError.InvalidPercentEncoding)]    // not UTF-8
    public void A_link_that_cannot_be_used_names_the_reason(string text, MagnetUriError error)
    {
        var ex = Assert.Throws<MagnetUriException>(() => MagnetUri.Parse(text));
        Assert.Equal(error, ex.Error);
        Assert.False(MagnetUri.TryParse(text, out _, out var tried));
        Assert.Equal(error, tried!.Error);
    }

    [Fact]
    public void Overlong_links_and_parameter_floods_are_refused_before_work()
    {
        Assert.Equal(MagnetUriError.TooLong, Assert.Throws<MagnetUriException>(() =>
            MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash}&dn=" + new string('a', MagnetUri.MaxLength))).Error);
        var flood = $"magnet:?xt=urn:btih:{Hash}" + string.Concat(Enumerable.Repeat("&kt=a", MagnetUri.MaxParameters));
        Assert.Equal(MagnetUriError.TooLong, Assert.Throws<MagnetUriException>(() => MagnetUri.Parse(flood)).Error);
    }

    [Fact]
    public void The_costliest_link_within_the_limits_parses_quickly()
    {
        // Every parameter a full range, every tracker distinct: bounded work, not a hang.
        var parts = Enumerable.Range(0, MagnetUri.MaxParameters / 2).Select(i => "so=0-10000")
            .Concat(Enumerable.Range(0, MagnetUri.MaxParameters / 2 - 1).Select(i => $"tr=http://t{i}/a"));
        string text = $"magnet:?xt=urn:btih:{Hash}&" + string.Join("&", parts);
        Assert.True(text.Length <= MagnetUri.MaxLength);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var m = MagnetUri.Parse(text);
        Assert.Equal(10_001, m.SelectedFiles!.Count);
        Assert.Equal(MagnetUri.MaxParameters / 2 - 1, m.Trackers.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void The_same_hash_twice_is_one_hash_and_other_topics_are_ignored()
    {
        var m = MagnetUri.Parse($"magnet:?xt.1=urn:btih:{Hash}&xt.2=urn:btih:{Hash.ToUpperInvariant()}&xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0");
        Assert.Equal(Hash, m.InfoHash);
        var issue = Assert.Single(m.Ignored);
        Assert.Equal((MagnetUriError.UnsupportedExactTopic, "xt"), (issue.Error, issue.Parameter));
    }

    [Fact]
    public void Bad_optional_parameters_are_left_out_and_listed()
    {
        var m = MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash}&tr=&tr=%G0&tr=not%20a%20url&tr=http://ok/a&tr=http://ok/a" +
            "&ws=relative/path&x.pe=1.2.3:80&x.pe=10.0.0.1:0&x.pe=::1:80&x.pe=10.0.0.1:70000&x.pe=10.0.0.2:80&x.pe=10.0.0.2:80&x.pe=[fe80::1%25eth0]:80" +
            "&xl=-5&xl=abc");
        Assert.Equal(new[] { "http://ok/a" }, m.Trackers);
        Assert.Empty(m.WebSeeds);
        Assert.Equal(new[] { "10.0.0.2:80" }, m.Peers.Select(p => p.ToString()));
        Assert.Null(m.ExactLength);
        Assert.Equal(3, m.Ignored.Count(i => i.Error == MagnetUriError.InvalidTracker));
        Assert.Equal(1, m.Ignored.Count(i => i.Error == MagnetUriError.InvalidWebSeed));
        Assert.Equal(5, m.Ignored.Count(i => i.Error == MagnetUriError.InvalidPeerAddress));   // a scoped IPv6 address too
        Assert.Equal(2, m.Ignored.Count(i => i.Error == MagnetUriError.InvalidExactLength));
    }

    [Theory]
    [InlineData("0,2,4,6-8", new[] { 0, 2, 4, 6, 7, 8 }, 0)]
    [InlineData("3-3", new[] { 3 }, 0)]
    [InlineData(",,1,,", new[] { 1 }, 0)]
    [InlineData("5-2,1", new[] { 1 }, 1)]             // reversed range: that entry only
    [InlineData("-4,2", new[] { 2 }, 1)]              // missing start
    [InlineData("4-,2", new[] { 2 }, 1)]              // missing end
    [InlineData("10001,0", new[] { 0 }, 1)]           // above libtorrent's 10 000
    [InlineData("9999-10001,0", new[] { 0 }, 1)]
    [InlineData("1-2-3,4", new[] { 4 }, 1)]
    [InlineData("99999999999999999999,1", new[] { 1 }, 1)]
    [InlineData("1,a", null, 1)]                      // a foreign character: the whole value
    [InlineData("1;2", null, 1)]
    [InlineData("0-10000", null, 0)]                  // checked separately below: all 10 001
    public void Select_only_follows_libtorrents_rules(string so, int[]? expected, int ignored)
    {
        var m = MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash}&so={so}");
        if (so == "0-10000") Assert.Equal(10_001, m.SelectedFiles!.Count);
        else Assert.Equal(expected, m.SelectedFiles);
        Assert.Equal(ignored, m.Ignored.Count(i => i.Error == MagnetUriError.InvalidSelectOnly));
    }

    [Fact]
    public void Formats_in_a_stable_order_with_percent_encoding_and_parses_back()
    {
        var hash = Convert.FromHexString(Hash);
        var m = MagnetUri.Create(hash, "a b&c=d/é+%", new[] { "udp://t:80/announce", "http://h/a?k=1&x=2" }, new[] { "http://seed/f?a&b" },
            new[] { BitTorrent.Wire.PeerAddress.Parse("[::1]:6881"), BitTorrent.Wire.PeerAddress.Parse("127.0.0.1:7000") },
            new[] { 8, 0, 1, 2, 3, 5, 6 }, exactLength: 99, infoHashV2: Convert.FromHexString(V2));
        string text = m.ToString();
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}&xt=urn:btmh:1220{V2}&dn=a%20b%26c%3Dd%2F%C3%A9%2B%25&xl=99" +
                     "&tr=udp%3A%2F%2Ft%3A80%2Fannounce&tr=http%3A%2F%2Fh%2Fa%3Fk%3D1%26x%3D2&ws=http%3A%2F%2Fseed%2Ff%3Fa%26b" +
                     "&x.pe=[::1]:6881&x.pe=127.0.0.1:7000&so=0-3,5,6,8", text);
        var back = MagnetUri.Parse(text);
        Assert.Equal(m.Name, back.Name);
        Assert.Equal(m.Trackers, back.Trackers);
        Assert.Equal(m.WebSeeds, back.WebSeeds);
        Assert.Equal(m.Peers.Select(p => p.ToString()), back.Peers.Select(p => p.ToString()));
        Assert.Equal(m.SelectedFiles, back.SelectedFiles);
        Assert.Equal((m.InfoHash, m.InfoHashV2, m.ExactLength), (back.InfoHash, back.InfoHashV2, back.ExactLength));
        Assert.Equal(text, back.ToString());
    }

    [Fact]
    public void A_torrent_gives_the_link_Get_TorrentInfo_shows()
    {
        var bytes = new TorrentBuilder("alice.txt") { SingleFileContent = TorrentBuilder.Content(40000, 1) }.Build(root =>
        {
            root.Set("announce", new BString("http://a.example/announce"));
            root.Set("announce-list", new BList(new BValue[] { TorrentBuilder.Strings("http://a.example/announce", "udp://b.example:6969/announce") }));
            root.Set("url-list", TorrentBuilder.Strings("http://seed.example/alice.txt"));
        });
        var torrent = TorrentParser.Parse(bytes, null);
        string expected = $"magnet:?xt=urn:btih:{torrent.InfoHash}&dn=alice.txt&tr=http%3A%2F%2Fa.example%2Fannounce" +
                          "&tr=udp%3A%2F%2Fb.example%3A6969%2Fannounce&ws=http%3A%2F%2Fseed.example%2Falice.txt";
        Assert.Equal(expected, torrent.MagnetUri);
        Assert.Equal(expected, MagnetUri.FromTorrent(torrent).ToString());
        Assert.Equal(expected, MagnetLink.Build(torrent.InfoHash, torrent.Name, torrent.Trackers, torrent.WebSeeds));
        var back = MagnetUri.Parse(torrent.MagnetUri);
        Assert.Equal((torrent.InfoHash, torrent.Name), (back.InfoHash, back.Name));
        Assert.Equal(torrent.Trackers, back.Trackers);
    }

    [Fact]
    public void Raw_non_ascii_text_is_read_as_typed()
    {
        var m = MagnetUri.Parse($"magnet:?xt=urn:btih:{Hash}&dn=Ünïcødé 🎵");
        Assert.Equal("Ünïcødé 🎵", m.Name);
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}&dn=%C3%9Cn%C3%AFc%C3%B8d%C3%A9%20%F0%9F%8E%B5", m.ToString());
    }
}
