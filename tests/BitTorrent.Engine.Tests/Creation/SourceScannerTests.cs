using Xunit;
using BitTorrent.Creation;
using BitTorrent.Tests.Storage;

namespace BitTorrent.Tests.Creation;

public class SourceScannerTests
{
    [Fact]
    public void FolderFilesAreSortedByPathAndEmptyFoldersLeaveNoTrace()
    {
        using var dir = new TempFolder();
        dir.Write("src/z.bin", 3);
        dir.Write("src/sub/deep/x.dat", 2);
        dir.Write("src/sub-file", 1);
        dir.Write("src/A.txt", 1);
        dir.Write("src/empty.txt", 0);
        dir.Write("src/.hidden", 4);
        Directory.CreateDirectory(dir.Combine("src/nothing/inside"));

        var scan = SourceScanner.Scan(dir.Combine("src"));
        Assert.True(scan.IsDirectory);
        Assert.Equal("src", scan.Name);
        Assert.Equal(new[] { ".hidden", "A.txt", "empty.txt", "sub-file", "sub/deep/x.dat", "z.bin" },
            scan.Files.Select(f => f.RelativePath));
        Assert.Equal(new[] { "sub", "deep", "x.dat" }, scan.Files[4].PathSegments);
        Assert.Equal(11, scan.TotalLength);
    }

    [Fact]
    public void SubfoldersWalkedOnAllCoresGiveTheSameResultEveryTime()
    {
        using var dir = new TempFolder();
        var expected = new List<string>();
        for (int d = 0; d < 24; d++)
            for (int f = 0; f < 5; f++)
            {
                string relative = $"d{d:D2}/{(f % 2 == 0 ? "" : "inner/")}f{f}.bin";
                dir.Write("src/" + relative, 1 + d + f);
                expected.Add(relative);
            }
        dir.Write("src/top.bin", 3);
        expected.Add("top.bin");
        for (int d = 0; d < 24; d += 5)
            File.CreateSymbolicLink(dir.Combine($"src/d{d:D2}/link"), dir.Combine("src/top.bin"));
        expected.Sort(StringComparer.Ordinal);

        var first = SourceScanner.Scan(dir.Combine("src"));
        Assert.Equal(expected, first.Files.Select(f => f.RelativePath));
        Assert.Equal(new[] { "d00/link", "d05/link", "d10/link", "d15/link", "d20/link" },
            first.Skipped.Select(s => s.Split(':')[0]));
        for (int run = 0; run < 5; run++)
        {
            var again = SourceScanner.Scan(dir.Combine("src"));
            Assert.Equal(first.Files.Select(f => (f.RelativePath, f.Length, f.FullPath)), again.Files.Select(f => (f.RelativePath, f.Length, f.FullPath)));
            Assert.Equal(first.Skipped, again.Skipped);
        }
    }

    [Fact]
    public void AFailureInOneSubfolderIsThrownAsItself()
    {
        using var dir = new TempFolder();
        for (int d = 0; d < 8; d++) dir.Write($"src/d{d}/f.bin", 4);
        // One subfolder nested deeper than a torrent path may go.
        string deep = "src/d3/" + string.Join("/", Enumerable.Repeat("n", BitTorrent.Metainfo.TorrentParser.MaxPathDepth + 1)) + "/f.bin";
        dir.Write(deep, 1);
        var ex = Assert.Throws<TorrentCreationException>(() => SourceScanner.Scan(dir.Combine("src")));
        Assert.Equal(TorrentCreationError.TooManyFiles, ex.Error);
        Assert.Contains("nested", ex.Message);

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => SourceScanner.Scan(dir.Combine("src"), null, cancel.Token));
    }

    [Fact]
    public void HiddenEntriesAreLeftOutOnlyWhenAsked()
    {
        using var dir = new TempFolder();
        dir.Write("src/.git/config", 3);
        dir.Write("src/.env", 3);
        dir.Write("src/visible", 3);
        var all = SourceScanner.Scan(dir.Combine("src"));
        Assert.Equal(3, all.Files.Count);
        var visible = SourceScanner.Scan(dir.Combine("src"), new SourceScanOptions { IncludeHidden = false });
        Assert.Equal(new[] { "visible" }, visible.Files.Select(f => f.RelativePath));
        Assert.Equal(2, visible.Skipped.Count);
    }

    [Fact]
    public void ExcludedFilesAreLeftOutAndListed()
    {
        using var dir = new TempFolder();
        dir.Write("src/data.bin", 5);
        dir.Write("src/src.torrent", 7);
        var options = new SourceScanOptions();
        options.ExcludedFiles.Add(dir.Combine("src/src.torrent"));
        var scan = SourceScanner.Scan(dir.Combine("src"), options);
        Assert.Equal(new[] { "data.bin" }, scan.Files.Select(f => f.RelativePath));
        Assert.Equal(new[] { "src.torrent: excluded" }, scan.Skipped);
    }

    [Fact]
    public void ASingleFileIsASingleFileSource()
    {
        using var dir = new TempFolder();
        dir.Write("one.iso", 10);
        var scan = SourceScanner.Scan(dir.Combine("one.iso"));
        Assert.False(scan.IsDirectory);
        Assert.Equal("one.iso", scan.Name);
        Assert.Equal("one.iso", scan.Files.Single().RelativePath);
        var missing = Assert.Throws<TorrentCreationException>(() => SourceScanner.Scan(dir.Combine("nope")));
        Assert.Equal(TorrentCreationError.SourceNotFound, missing.Error);
    }

    [SkippableFact]
    public void LinksAreSkippedUnlessFollowedAndLoopsAreCut()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var dir = new TempFolder();
        using var outside = new TempFolder();
        dir.Write("src/real/f", 5);
        outside.Write("ext/g", 7);
        File.CreateSymbolicLink(dir.Combine("src/file-link"), dir.Combine("src/real/f"));
        Directory.CreateSymbolicLink(dir.Combine("src/ext-link"), outside.Combine("ext"));
        Directory.CreateSymbolicLink(dir.Combine("src/real/loop"), dir.Combine("src"));
        File.CreateSymbolicLink(dir.Combine("src/broken"), dir.Combine("src/none"));

        var strict = SourceScanner.Scan(dir.Combine("src"));
        Assert.Equal(new[] { "real/f" }, strict.Files.Select(f => f.RelativePath));
        Assert.Equal(4, strict.Skipped.Count);

        var following = SourceScanner.Scan(dir.Combine("src"), new SourceScanOptions { FollowSymbolicLinks = true });
        Assert.Equal(new[] { "ext-link/g", "file-link", "real/f" }, following.Files.Select(f => f.RelativePath));
        Assert.Equal(5, following.Files.Single(f => f.RelativePath == "file-link").Length);   // the target's length
        Assert.Contains(following.Skipped, s => s.StartsWith("real/loop", StringComparison.Ordinal));
        Assert.Contains(following.Skipped, s => s.StartsWith("broken", StringComparison.Ordinal));
    }

    [SkippableFact]
    public void NamesOtherClientsWouldChangeAreWarnedAbout()
    {
        Skip.If(OperatingSystem.IsWindows(), "Windows cannot create the names (CON.txt, a:b, Readme beside README) this test needs");
        using var dir = new TempFolder();
        dir.Write("src/CON.txt", 1);
        dir.Write("src/a:b", 1);
        dir.Write("src/Readme", 1);
        dir.Write("src/README", 1);
        var scan = SourceScanner.Scan(dir.Combine("src"));
        Assert.Contains(scan.Warnings, w => w.Contains("'CON.txt'"));
        Assert.Contains(scan.Warnings, w => w.Contains("'a:b'"));
        Assert.Contains(scan.Warnings, w => w.Contains("only in case"));
    }
}
