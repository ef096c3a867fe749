using System.Security.Cryptography;
using System.Text;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Tests.Session;
using Xunit;

namespace BitTorrent.Tests.Storage;

/// <summary>Metadata kept for magnet links (<c>.bittorrent/&lt;info-hash&gt;.torrent</c>), the .torrent writer behind
/// it, and TorrentParser.FromMetadata.</summary>
public class MetadataCacheTests
{
    private static MagnetUri MagnetFor(TorrentInfo torrent) =>
        MagnetUri.Create(torrent.InfoHashBytes, "from the link", trackers: new[] { "http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969" },
            webSeeds: new[] { "http://127.0.0.1:8080/files/" });

    [Fact]
    public void A_saved_torrent_loads_back_with_the_same_info_hash_trackers_and_web_seeds()
    {
        using var fixture = new SessionFixture();
        var destination = fixture.Folder("dl");
        var (made, _) = SessionFixture.MakeTorrent("cached.bin", 100_000, 16384, seed: 3, dataFolder: null);
        var torrent = TorrentParser.FromMetadata(made.RawInfo.Span, MagnetFor(made));

        Assert.Null(MetadataCache.TryLoad(destination, torrent.InfoHash));           // nothing kept yet
        var path = MetadataCache.Save(destination, torrent);
        Assert.Equal(MetadataCache.GetPath(destination, torrent.InfoHash), path);
        Assert.Equal(Path.Combine(Path.GetFullPath(destination), ".bittorrent", torrent.InfoHash + ".torrent"), path);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));      // the temporary file was renamed

        var loaded = MetadataCache.TryLoad(destination, torrent.InfoHash.ToUpperInvariant());
        Assert.NotNull(loaded);
        Assert.Equal(torrent.InfoHash, loaded!.InfoHash);
        Assert.True(made.RawInfo.Span.SequenceEqual(loaded.RawInfo.Span));
        Assert.Equal(torrent.Trackers, loaded.Trackers);
        Assert.Equal(2, loaded.TrackerTiers.Count);
        Assert.Equal(torrent.WebSeeds, loaded.WebSeeds);

        // Saving again replaces the file (the same bytes), atomically.
        Assert.Equal(path, MetadataCache.Save(destination, loaded));
        Assert.Equal(File.ReadAllBytes(path), TorrentWriter.ToBytes(torrent));
    }

    [Fact]
    public void A_tampered_or_foreign_file_is_not_trusted()
    {
        using var fixture = new SessionFixture();
        var destination = fixture.Folder("dl");
        var (torrent, _) = SessionFixture.MakeTorrent("cached.bin", 100_000, 16384, seed: 4, dataFolder: null);
        var path = MetadataCache.Save(destination, torrent);

        // One byte of a piece hash changed: still a valid torrent, but another info-hash.
        var bytes = File.ReadAllBytes(path);
        int pieces = Encoding.Latin1.GetString(bytes).IndexOf("6:pieces", StringComparison.Ordinal);
        Assert.True(pieces > 0);
        int colon = Array.IndexOf(bytes, (byte)':', pieces + 8);
        bytes[colon + 5] ^= 0x01;
        File.WriteAllBytes(path, bytes);
        Assert.Null(MetadataCache.TryLoad(destination, torrent.InfoHash));

        // Garbage, and another torrent's file under this name.
        File.WriteAllText(path, "not bencode");
        Assert.Null(MetadataCache.TryLoad(destination, torrent.InfoHash));
        var (other, _) = SessionFixture.MakeTorrent("other.bin", 5000, 16384, seed: 5, dataFolder: null);
        File.WriteAllBytes(path, TorrentWriter.ToBytes(other));
        Assert.Null(MetadataCache.TryLoad(destination, torrent.InfoHash));
    }

    [Fact]
    public void Saving_refuses_to_write_through_a_link_planted_as_the_state_folder()
    {
        using var fixture = new SessionFixture();
        var destination = fixture.Folder("dl");
        var elsewhere = fixture.Folder("elsewhere");
        Directory.CreateSymbolicLink(Path.Combine(destination, ".bittorrent"), elsewhere);
        var (torrent, _) = SessionFixture.MakeTorrent("cached.bin", 5000, 16384, seed: 8, dataFolder: null);
        Assert.Throws<IOException>(() => MetadataCache.Save(destination, torrent));
        Assert.Empty(Directory.GetFileSystemEntries(elsewhere));
    }

    [Theory]
    [InlineData("../../../../etc/passwd")]
    [InlineData("0123456789abcdef0123456789abcdef0123456")]
    [InlineData("0123456789abcdef0123456789abcdef0123456g")]
    public void An_info_hash_that_is_not_40_hex_digits_cannot_name_a_file(string infoHash)
    {
        Assert.Throws<ArgumentException>(() => MetadataCache.GetPath("/tmp", infoHash));
        Assert.Throws<ArgumentException>(() => MetadataCache.TryLoad("/tmp", infoHash));
    }

    [Fact]
    public void The_writer_keeps_a_non_canonical_info_dictionary_byte_for_byte()
    {
        // Keys out of order and an unknown key: re-encoding would change the info-hash; the writer must not.
        var pieces = SHA1.HashData(new byte[100]);
        var info = Encoding.Latin1.GetBytes("d4:name5:x.bin6:lengthi100e12:piece lengthi16384e6:pieces20:")
            .Concat(pieces).Concat(Encoding.Latin1.GetBytes("7:zzextra3:abce")).ToArray();
        var magnet = MagnetUri.Create(SHA1.HashData(info), trackers: new[] { "http://127.0.0.1:1/announce" });
        var torrent = TorrentParser.FromMetadata(info, magnet);
        var written = TorrentWriter.ToBytes(torrent);
        var again = TorrentParser.Parse(written);
        Assert.Equal(Convert.ToHexString(SHA1.HashData(info)).ToLowerInvariant(), again.InfoHash);
        Assert.True(info.AsSpan().SequenceEqual(again.RawInfo.Span));
        Assert.Equal(new[] { "http://127.0.0.1:1/announce" }, again.Trackers);
    }

    [Fact]
    public void FromMetadata_refuses_bytes_that_do_not_hash_to_the_magnets_info_hash_and_names_a_nameless_torrent_after_dn()
    {
        var (torrent, _) = SessionFixture.MakeTorrent("real.bin", 5000, 16384, seed: 6, dataFolder: null);
        var other = MagnetUri.Create(SHA1.HashData(new byte[] { 1, 2, 3 }));
        var error = Assert.Throws<TorrentFormatException>(() => TorrentParser.FromMetadata(torrent.RawInfo.Span, other));
        Assert.Equal(TorrentError.InfoHashMismatch, error.Error);

        var nameless = Encoding.Latin1.GetBytes("d6:lengthi100e12:piece lengthi16384e6:pieces20:").Concat(SHA1.HashData(new byte[100])).Concat("e"u8.ToArray()).ToArray();
        var named = TorrentParser.FromMetadata(nameless, MagnetUri.Create(SHA1.HashData(nameless), name: "from dn"));
        Assert.Equal("from dn", named.Name);
        Assert.Equal("from dn", named.Files[0].SanitizedPath);

        // Kept and loaded back under the same name (the link's dn), not refused for having none.
        var destination = Directory.CreateTempSubdirectory("metadata-cache-nameless").FullName;
        try
        {
            MetadataCache.Save(destination, named);
            var loaded = MetadataCache.TryLoad(destination, named.InfoHash, "from dn");
            Assert.NotNull(loaded);
            Assert.Equal("from dn", loaded!.Name);
            Assert.True(nameless.AsSpan().SequenceEqual(loaded.RawInfo.Span));
        }
        finally { Directory.Delete(destination, recursive: true); }
    }
}
