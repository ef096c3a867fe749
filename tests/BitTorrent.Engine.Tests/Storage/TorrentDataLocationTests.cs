using Xunit;
using BitTorrent.Storage;

namespace BitTorrent.Tests.Storage;

public class TorrentDataLocationTests
{
    private static readonly BitTorrent.Metainfo.TorrentInfo Multi = HandMadeTorrent.MultiFile("content", 16,
        new HandMadeTorrent.Entry(new[] { "x", "a.bin" }, HandMadeTorrent.Random(20, 1)),
        new HandMadeTorrent.Entry(new[] { "b.bin" }, HandMadeTorrent.Random(5, 2)));

    [Fact]
    public void MultiFileFilesLieUnderTheTorrentFolderInTheDataPath()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("content"));
        var location = TorrentDataLocation.Resolve(Multi, dir.Path);
        Assert.Equal(dir.Combine("content/x/a.bin"), location.FilePaths[0]);
        Assert.Equal(dir.Combine("content/b.bin"), location.FilePaths[1]);
    }

    [Fact]
    public void TheTorrentsOwnFolderIsAcceptedAsTheDataPath()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("content"));
        var location = TorrentDataLocation.Resolve(Multi, dir.Combine("content"));
        Assert.Equal(dir.Combine("content/x/a.bin"), location.FilePaths[0]);
        Assert.Contains("own folder", location.Description);
    }

    [Fact]
    public void AFolderNamedLikeTheTorrentThatHoldsTheTorrentFolderIsUsedAsGiven()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("content/content"));
        var location = TorrentDataLocation.Resolve(Multi, dir.Combine("content"));
        Assert.Equal(dir.Combine("content/content/x/a.bin"), location.FilePaths[0]);
    }

    [Fact]
    public void ASingleFileTorrentAcceptsTheFileItself()
    {
        using var dir = new TempFolder();
        var content = dir.Write("renamed.iso", 40, 3);
        var single = HandMadeTorrent.SingleFile("original.iso", 16, content);
        var direct = TorrentDataLocation.Resolve(single, dir.Combine("renamed.iso"));
        Assert.True(direct.IsSingleFilePath);
        Assert.Equal(dir.Combine("renamed.iso"), direct.FilePaths.Single());
        var underFolder = TorrentDataLocation.Resolve(single, dir.Path);
        Assert.Equal(dir.Combine("original.iso"), underFolder.FilePaths.Single());
    }

    [Fact]
    public void AFileForAMultiFileTorrentAndAMissingPathAreErrors()
    {
        using var dir = new TempFolder();
        dir.Write("file", 3);
        var ex = Assert.Throws<StorageException>(() => TorrentDataLocation.Resolve(Multi, dir.Combine("file")));
        Assert.Equal(StorageError.DataPathIsFile, ex.Error);
        ex = Assert.Throws<StorageException>(() => TorrentDataLocation.Resolve(Multi, dir.Combine("nothing-here")));
        Assert.Equal(StorageError.DataPathNotFound, ex.Error);
    }

    [Fact]
    public void GivenPathsAreUsedAsTheyAreButMustStayUnderTheRoot()
    {
        using var dir = new TempFolder();
        var paths = new[] { dir.Combine("content/x/a.bin.part"), dir.Combine("content/b.bin") };
        var location = TorrentDataLocation.FromPaths(Multi, dir.Path, paths);
        Assert.Equal(paths, location.FilePaths);
        Assert.False(location.IsSingleFilePath);
        var outside = new[] { dir.Combine("content/x/a.bin"), System.IO.Path.GetTempPath() + "elsewhere.bin" };
        var ex = Assert.Throws<StorageException>(() => TorrentDataLocation.FromPaths(Multi, dir.Path, outside));
        Assert.Equal(StorageError.PathOutsideDataFolder, ex.Error);
        Assert.Throws<ArgumentException>(() => TorrentDataLocation.FromPaths(Multi, dir.Path, new[] { paths[0] }));
    }

    [Fact]
    public void HostilePathsInATorrentStayInsideTheDataFolder()
    {
        var hostile = HandMadeTorrent.MultiFile("../../up", 16,
            new HandMadeTorrent.Entry(new[] { "..", "..", "etc", "passwd" }, HandMadeTorrent.Random(8, 1)),
            new HandMadeTorrent.Entry(new[] { "/abs", "C:", "x" }, HandMadeTorrent.Random(8, 2)));
        using var dir = new TempFolder();
        var location = TorrentDataLocation.UnderRoot(hostile, dir.Path);
        foreach (var p in location.FilePaths)
            Assert.True(StoragePaths.IsStrictlyUnder(StoragePaths.NormalizeRoot(dir.Path), p!), p);
    }
}
