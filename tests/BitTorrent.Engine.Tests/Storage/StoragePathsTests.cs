using Xunit;
using BitTorrent.Storage;

namespace BitTorrent.Tests.Storage;

public class StoragePathsTests
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "bt-root");

    [Theory]
    [InlineData("a/b.txt")]
    [InlineData("folder/sub/file")]
    [InlineData("a/./b")]
    [InlineData("a/x/../b")]
    public void PathsInsideTheRootAreCombined(string relative)
    {
        string full = StoragePaths.Combine(Root, relative);
        Assert.StartsWith(Root + Path.DirectorySeparatorChar, full);
        Assert.Equal(Path.GetFullPath(full), full);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("C:evil")]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("a\0b")]
    public void PathsLeavingTheRootAreRefused(string relative)
    {
        Assert.Throws<UnauthorizedAccessException>(() => StoragePaths.Combine(Root, relative));
    }

    [Fact]
    public void ASiblingWithTheRootAsPrefixIsNotInside()
    {
        string root = StoragePaths.NormalizeRoot(Root);
        Assert.False(StoragePaths.IsStrictlyUnder(root, root + "2" + Path.DirectorySeparatorChar + "x"));
        Assert.False(StoragePaths.IsStrictlyUnder(root, root));
        Assert.True(StoragePaths.IsStrictlyUnder(root, Path.Combine(root, "x")));
        Assert.Throws<UnauthorizedAccessException>(() => StoragePaths.Combine(Root, "../bt-root2/x"));
    }

    [Fact]
    public void ATrailingSeparatorOnTheRootChangesNothing()
    {
        Assert.Equal(StoragePaths.Combine(Root, "a"), StoragePaths.Combine(Root + Path.DirectorySeparatorChar, "a"));
    }
}
