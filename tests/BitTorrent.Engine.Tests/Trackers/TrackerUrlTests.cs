using BitTorrent.Trackers;
using Xunit;

namespace BitTorrent.Tests.Trackers;

public sealed class TrackerUrlTests
{
    [Fact]
    public void PercentEncode_KeepsOnlyUnreservedCharacters()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        string encoded = TrackerUrl.PercentEncode(all);
        // Decode it back by hand: every byte round-trips.
        var decoded = new List<byte>();
        for (int i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] == '%') { decoded.Add(Convert.ToByte(encoded.Substring(i + 1, 2), 16)); i += 2; }
            else
            {
                Assert.Matches("[A-Za-z0-9._~-]", encoded[i].ToString());
                decoded.Add((byte)encoded[i]);
            }
        }
        Assert.Equal(all, decoded.ToArray());
        Assert.Equal(66 + 190 * 3, encoded.Length); // 66 unreserved characters, 190 escaped bytes
    }

    [Theory]
    [InlineData("http://t.example/announce", "http://t.example/scrape")]
    [InlineData("http://t.example/x/announce", "http://t.example/x/scrape")]
    [InlineData("http://t.example/announce.php", "http://t.example/scrape.php")]
    [InlineData("http://t.example/a?x2%0644", "")]
    [InlineData("http://t.example/announce?x2%0644", "http://t.example/scrape?x2%0644")]
    [InlineData("http://t.example/x%064announce", "")]
    [InlineData("http://t.example/announce/x", "")]
    [InlineData("https://t.example:8443/p/announce?passkey=abc", "https://t.example:8443/p/scrape?passkey=abc")]
    [InlineData("udp://t.example:6969/announce", "udp://t.example:6969/announce")]
    public void ScrapeUri_FollowsBep48(string announce, string expected)
    {
        bool ok = TrackerUrl.TryGetScrapeUri(new Uri(announce), out var scrape);
        Assert.Equal(expected.Length > 0, ok);
        if (ok) Assert.Equal(expected, scrape.OriginalString);
    }

    [Theory]
    [InlineData("wss://tracker.openwebtorrent.com", TrackerError.UnsupportedScheme)]
    [InlineData("ftp://t.example/announce", TrackerError.UnsupportedScheme)]
    [InlineData("udp://t.example/announce", TrackerError.InvalidUrl)]
    [InlineData("not a url", TrackerError.InvalidUrl)]
    [InlineData("", TrackerError.InvalidUrl)]
    [InlineData("/announce", TrackerError.InvalidUrl)]
    public void Parse_RejectsWhatWeCannotTalkTo(string url, TrackerError expected)
    {
        var ex = Assert.Throws<TrackerException>(() => TrackerUrl.Parse(url));
        Assert.Equal(expected, ex.Error);
    }

    [Theory]
    [InlineData("http://127.0.0.1:6969/announce")]
    [InlineData("https://t.example/announce")]
    [InlineData("udp://[::1]:6969")]
    [InlineData("udp://tracker.example:1337/announce")]
    public void Parse_AcceptsHttpHttpsUdp(string url) => Assert.True(TrackerUrl.IsSupported(url));

    [Fact]
    public void AnnounceUri_DropsTheFragment_AndKeepsTheQuery()
    {
        var uri = TrackerUrl.BuildAnnounceUri(new Uri("http://t.example/announce?pk=1#frag"), TrackerTestData.Request() with { TrackerId = "id 1" });
        Assert.StartsWith("http://t.example/announce?pk=1&info_hash=", uri.AbsoluteUri);
        Assert.DoesNotContain("#", uri.AbsoluteUri);
        Assert.EndsWith("&trackerid=id%201", uri.AbsoluteUri);
    }
}
