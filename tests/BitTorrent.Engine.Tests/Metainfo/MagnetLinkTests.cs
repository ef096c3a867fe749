using BitTorrent.Metainfo;
using Xunit;

namespace BitTorrent.Tests.Metainfo;

public sealed class MagnetLinkTests
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";

    [Fact]
    public void Hash_only()
    {
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}", MagnetLink.Build(Hash, null, Array.Empty<string>()));
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}", MagnetLink.Build(Hash, "", Array.Empty<string>()));
    }

    [Fact]
    public void Name_trackers_and_web_seeds_are_percent_encoded_in_order()
    {
        var uri = MagnetLink.Build(Hash, "a b&c=d/é", new[] { "udp://t:80/announce", "http://h/a?k=1&x=2" }, new[] { "http://seed/f" });
        Assert.Equal($"magnet:?xt=urn:btih:{Hash}&dn=a%20b%26c%3Dd%2F%C3%A9" +
                     "&tr=udp%3A%2F%2Ft%3A80%2Fannounce&tr=http%3A%2F%2Fh%2Fa%3Fk%3D1%26x%3D2&ws=http%3A%2F%2Fseed%2Ff", uri);
    }

    [Fact]
    public void Every_parameter_decodes_back_to_what_went_in()
    {
        string name = "Ünïcødé name + [brackets] #1 100%";
        string[] trackers = { "http://t/announce?passkey=a&b", "udp://[::1]:6969" };
        var uri = new Uri(MagnetLink.Build(Hash, name, trackers));
        var pairs = uri.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2)).Select(p => (p[0], Uri.UnescapeDataString(p[1]))).ToList();
        Assert.Equal(new[] { ("xt", "urn:btih:" + Hash), ("dn", name), ("tr", trackers[0]), ("tr", trackers[1]) }, pairs);
    }
}
