using System.Net;
using System.Net.Sockets;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Wire;

public class PeerAddressTests
{
    [Theory]
    [InlineData("127.0.0.1:6881", "127.0.0.1", 6881, "127.0.0.1:6881")]
    [InlineData(" 10.0.0.2:1 ", "10.0.0.2", 1, "10.0.0.2:1")]
    [InlineData("[::1]:51413", "::1", 51413, "[::1]:51413")]
    [InlineData("[2001:DB8::7]:65535", "2001:db8::7", 65535, "[2001:db8::7]:65535")]
    [InlineData("localhost:80", "localhost", 80, "localhost:80")]
    [InlineData("peer.example.org:6881", "peer.example.org", 6881, "peer.example.org:6881")]
    public void Parses_ip_v6_and_host_forms(string text, string host, int port, string shown)
    {
        Assert.True(PeerAddress.TryParse(text, out var address));
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(shown, address.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:-5")]
    [InlineData("127.0.0.1:68 81")]
    [InlineData("::1:6881")]          // unbracketed IPv6 is ambiguous
    [InlineData("[::1]6881")]
    [InlineData("[127.0.0.1]:6881")]  // brackets are for IPv6
    [InlineData("1.2:6881")]          // IPv4 shorthand is not a peer address
    [InlineData("bad host:6881")]
    [InlineData(":6881")]
    public void Rejects_what_is_not_an_endpoint(string text)
    {
        Assert.False(PeerAddress.TryParse(text, out _));
        Assert.Throws<FormatException>(() => PeerAddress.Parse(text));
    }

    [Fact]
    public async Task Resolves_names_and_literals()
    {
        var literal = await PeerAddress.Parse("[::1]:7").ResolveAsync(CancellationToken.None);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7), Assert.Single(literal));
        var named = await PeerAddress.Parse("localhost:7").ResolveAsync(CancellationToken.None);
        Assert.NotEmpty(named);
        Assert.All(named, e => Assert.True(IPAddress.IsLoopback(e.Address)));
        Assert.Equal(AddressFamily.InterNetwork, named[0].AddressFamily);   // IPv4 first
    }
}
