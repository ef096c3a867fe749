using System.Text;
using BitTorrent.Discovery;
using Xunit;

namespace BitTorrent.Tests.Discovery;

public sealed class LsdMessageTests
{
    private static byte[] HashOf(int i) => Enumerable.Range(0, 20).Select(b => (byte)(b + i + 1)).ToArray();

    private static bool Parse(string text, out LsdAnnouncement announcement, out LsdRejectReason reason, string? own = null) =>
        LsdMessage.TryParse(Encoding.Latin1.GetBytes(text), own, out announcement, out reason);

    [Fact]
    public void Builds_the_BEP_14_request_and_reads_it_back()
    {
        var datagram = Assert.Single(LsdMessage.Build(false, 6881, new[] { HashOf(0) }, "1a2b3c"));
        Assert.Equal("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\n" +
                     $"Infohash: {Convert.ToHexStringLower(HashOf(0))}\r\ncookie: 1a2b3c\r\n\r\n\r\n", Encoding.ASCII.GetString(datagram));
        Assert.True(LsdMessage.TryParse(datagram, "other", out var a, out var reason));
        Assert.Equal(LsdRejectReason.None, reason);
        Assert.Equal(6881, a.Port);
        Assert.Equal(new[] { Convert.ToHexStringLower(HashOf(0)) }, a.InfoHashes);
        Assert.Equal(("1a2b3c", "239.192.152.143:6771"), (a.Cookie, a.Host));
        var v6 = Encoding.ASCII.GetString(LsdMessage.Build(true, 6881, new[] { HashOf(0) }, "c")[0]);
        Assert.Contains("\r\nHost: [ff15::efc0:988f]:6771\r\n", v6);
    }

    [Fact]
    public void Many_hashes_are_split_into_datagrams_of_at_most_1400_bytes()
    {
        var hashes = Enumerable.Range(0, 100).Select(HashOf).ToList();
        var datagrams = LsdMessage.Build(false, 51413, hashes, LsdMessage.NewCookie());
        Assert.True(datagrams.Count > 1);
        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, LsdMessage.MaxDatagramLength));
        var read = datagrams.SelectMany(d =>
        {
            Assert.True(LsdMessage.TryParse(d, null, out var a, out _));
            return a.InfoHashes;
        });
        Assert.Equal(hashes.Select(Convert.ToHexStringLower), read);
    }

    [Fact]
    public void Our_own_cookie_is_recognised()
    {
        string cookie = LsdMessage.NewCookie();
        Assert.Matches("^[0-9a-f]{1,8}$", cookie);
        var datagram = LsdMessage.Build(false, 6881, new[] { HashOf(1) }, cookie)[0];
        Assert.False(LsdMessage.TryParse(datagram, cookie, out _, out var reason));
        Assert.Equal(LsdRejectReason.OwnAnnouncement, reason);
    }

    [Fact]
    public void Bad_infohashes_are_left_out_and_unknown_headers_ignored()
    {
        string good = Convert.ToHexStringLower(HashOf(2));
        Assert.True(Parse("BT-SEARCH * HTTP/1.1\nhost: x\nPORT:  7000 \nX-Whatever: 1\n" +
                          $"Infohash: {new string('0', 40)}\nInfohash: xyz\nInfohash: {good.ToUpperInvariant()}\nInfohash: {good}\n" +
                          $"Infohash: {good}0\n\nInfohash: {Convert.ToHexStringLower(HashOf(3))}\n", out var a, out _));
        Assert.Equal(7000, a.Port);
        Assert.Equal(new[] { good }, a.InfoHashes);   // after the blank line nothing counts
        Assert.Equal(3, a.IgnoredInfoHashes);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1\r\nPort: 1\r\n\r\n", LsdRejectReason.NotBtSearch)]
    [InlineData("", LsdRejectReason.NotBtSearch)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", LsdRejectReason.InvalidPort)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", LsdRejectReason.InvalidPort)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", LsdRejectReason.InvalidPort)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: -1\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", LsdRejectReason.InvalidPort)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881x\r\nInfohash: 0102030405060708090a0b0c0d0e0f1011121314\r\n\r\n", LsdRejectReason.InvalidPort)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n", LsdRejectReason.NoValidInfoHash)]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0000000000000000000000000000000000000000\r\n\r\n", LsdRejectReason.NoValidInfoHash)]
    public void Datagrams_without_a_valid_port_or_infohash_are_ignored(string text, LsdRejectReason expected)
    {
        Assert.False(Parse(text, out _, out var reason));
        Assert.Equal(expected, reason);
    }

    [Fact]
    public void Oversized_and_binary_datagrams_are_refused_without_throwing()
    {
        Assert.False(LsdMessage.TryParse(new byte[LsdMessage.MaxReceiveLength + 1], null, out _, out var reason));
        Assert.Equal(LsdRejectReason.TooLarge, reason);
        var random = new byte[1400];
        new Random(5).NextBytes(random);
        Assert.False(LsdMessage.TryParse(random, null, out _, out _));
    }
}
