using Xunit;
using System.Security.Cryptography;
using BitTorrent.Bencoding;
using BitTorrent.Creation;
using BitTorrent.Metainfo;
using BitTorrent.Tests.Storage;

namespace BitTorrent.Tests.Creation;

public class TorrentBuilderTests
{
    private static TorrentBuilder Builder(string path, int pieceLength = 16_384) =>
        new TorrentBuilder(SourceScanner.Scan(path)) { PieceLength = pieceLength };

    [Fact]
    public async Task PieceHashesAreTheSha1OfTheConcatenatedFiles()
    {
        using var dir = new TempFolder();
        var a = dir.Write("src/a", 30_000, 1);
        var e = dir.Write("src/b/empty", 0, 2);
        var c = dir.Write("src/b/c", 20_000, 3);
        var result = await Builder(dir.Combine("src")).BuildAsync();
        var all = a.Concat(c).ToArray();            // sorted: a, b/c, b/empty
        var t = result.Torrent;
        Assert.Equal(new[] { "a", "b/c", "b/empty" }, t.Files.Select(f => f.Path));
        Assert.Equal(all.Length, t.TotalSize);
        for (int i = 0; i < t.PieceCount; i++)
        {
            var expected = SHA1.HashData(all.AsSpan(i * 16_384, t.GetPieceLength(i)));
            Assert.Equal(expected, t.GetPieceHash(i).ToArray());
        }
    }

    [Fact]
    public async Task InfoDictionaryHasExactlyMktorrentsKeys()
    {
        using var dir = new TempFolder();
        dir.Write("src/x", 100, 1);
        var plain = await Builder(dir.Combine("src")).BuildAsync();
        var info = (BDictionary)((BDictionary)BencodeDecoder.Decode(plain.Bytes))["info"]!;
        Assert.Equal(new[] { "files", "name", "piece length", "pieces" }, info.Keys.Select(k => k.Text));
        var file = (BDictionary)((BList)info["files"]!)[0];
        Assert.Equal(new[] { "length", "path" }, file.Keys.Select(k => k.Text));

        var b = Builder(dir.Combine("src/x"));
        b.IsPrivate = true;
        b.SourceTag = "TRACKER";
        var marked = await b.BuildAsync();
        info = (BDictionary)((BDictionary)BencodeDecoder.Decode(marked.Bytes))["info"]!;
        Assert.Equal(new[] { "length", "name", "piece length", "pieces", "private", "source" }, info.Keys.Select(k => k.Text));
        Assert.True(marked.Torrent.IsPrivate);
        Assert.Equal("TRACKER", marked.Torrent.SourceTag);
    }

    [Fact]
    public async Task TheSameFilesGiveTheSameBytesWhateverTheThreads()
    {
        using var dir = new TempFolder();
        for (int i = 0; i < 30; i++) dir.Write($"src/d{i % 4}/f{i:00}", 5_000 + i * 977, i);
        var one = Builder(dir.Combine("src"));
        one.ThreadCount = 1;
        var many = Builder(dir.Combine("src"));
        many.ThreadCount = 7;
        Assert.Equal((await one.BuildAsync()).Bytes, (await many.BuildAsync()).Bytes);
    }

    [Fact]
    public async Task TrackersWebSeedsAndTextGoOutsideTheInfoDictionary()
    {
        using var dir = new TempFolder();
        dir.Write("f", 10, 1);
        var b = Builder(dir.Combine("f"));
        var bare = await b.BuildAsync();
        b.TrackerTiers.Add(new List<string> { "udp://t1:6969/announce", "http://t2/announce" });
        b.TrackerTiers.Add(new List<string> { "https://t3/announce" });
        b.WebSeeds.Add("https://mirror/f");
        b.Comment = "hello";
        b.CreatedBy = "me";
        b.CreationDate = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var full = await b.BuildAsync();
        Assert.Equal(bare.Torrent.InfoHash, full.Torrent.InfoHash);
        var root = (BDictionary)BencodeDecoder.Decode(full.Bytes);
        Assert.Equal("udp://t1:6969/announce", ((BString)root["announce"]!).Text);
        Assert.Equal(2, full.Torrent.TrackerTiers.Count);
        Assert.Equal(new[] { "udp://t1:6969/announce", "http://t2/announce", "https://t3/announce" }, full.Torrent.Trackers);
        Assert.Equal("https://mirror/f", ((BString)root["url-list"]!).Text);
        Assert.Equal("hello", full.Torrent.Comment);
        Assert.Equal("me", full.Torrent.CreatedBy);
        Assert.Equal(1_700_000_000, full.Torrent.CreationDate!.Value.ToUnixTimeSeconds());

        var single = Builder(dir.Combine("f"));
        single.TrackerTiers.Add(new List<string> { "http://only/announce" });
        var oneTracker = (BDictionary)BencodeDecoder.Decode((await single.BuildAsync()).Bytes);
        Assert.False(oneTracker.ContainsKey("announce-list"));
        Assert.False(oneTracker.ContainsKey("creation date"));
    }

    [Fact]
    public async Task InvalidInputIsRefusedBeforeHashing()
    {
        using var dir = new TempFolder();
        dir.Write("src/empty", 0);
        Directory.CreateDirectory(dir.Combine("nothing"));
        Assert.Equal(TorrentCreationError.NoFiles,
            (await Assert.ThrowsAsync<TorrentCreationException>(() => Builder(dir.Combine("src")).BuildAsync())).Error);
        Assert.Equal(TorrentCreationError.NoFiles,
            (await Assert.ThrowsAsync<TorrentCreationException>(() => Builder(dir.Combine("nothing")).BuildAsync())).Error);
        dir.Write("f", 10);
        Assert.Equal(TorrentCreationError.InvalidPieceLength,
            (await Assert.ThrowsAsync<TorrentCreationException>(() => Builder(dir.Combine("f"), 20_000).BuildAsync())).Error);
        var badUrl = Builder(dir.Combine("f"));
        badUrl.TrackerTiers.Add(new List<string> { "not a url" });
        Assert.Equal(TorrentCreationError.InvalidUrl, (await Assert.ThrowsAsync<TorrentCreationException>(() => badUrl.BuildAsync())).Error);
        var badSeed = Builder(dir.Combine("f"));
        badSeed.WebSeeds.Add("udp://x:1/");
        Assert.Equal(TorrentCreationError.InvalidUrl, (await Assert.ThrowsAsync<TorrentCreationException>(() => badSeed.BuildAsync())).Error);
    }

    [Fact]
    public void TooManyPieceHashesForATorrentFileAreRefusedBeforeHashing()
    {
        using var dir = new TempFolder();
        // 8 GiB in 16 KiB pieces: 524 288 hashes = 10.5 MB, more than readers accept. Sparse: nothing is written.
        using (var s = File.Create(dir.Combine("huge"))) s.SetLength(8L << 30);
        var ex = Assert.Throws<TorrentCreationException>(() => Builder(dir.Combine("huge")).Validate());
        Assert.Equal(TorrentCreationError.TorrentTooLarge, ex.Error);
        Builder(dir.Combine("huge"), 64 * 1024).Validate();
    }

    [Fact]
    public async Task AFileThatShrankWhileWaitingIsAnError()
    {
        using var dir = new TempFolder();
        dir.Write("src/a", 40_000, 1);
        var b = Builder(dir.Combine("src"));
        using (var s = new FileStream(dir.Combine("src/a"), FileMode.Open)) s.SetLength(10);
        var ex = await Assert.ThrowsAsync<TorrentCreationException>(() => b.BuildAsync());
        Assert.Equal(TorrentCreationError.SourceChanged, ex.Error);
        Assert.Contains("src", ex.Message);
    }

    [Fact]
    public async Task AutoPieceSizeIsUsedWhenNoneIsGiven()
    {
        using var dir = new TempFolder();
        dir.Write("f", 100_000, 1);
        var result = await new TorrentBuilder(SourceScanner.Scan(dir.Combine("f"))).BuildAsync();
        Assert.Equal(16_384, result.Torrent.PieceLength);
        Assert.Equal(7, result.Torrent.PieceCount);
    }
}
