using Xunit;
using BitTorrent.Storage;

namespace BitTorrent.Tests.Storage;

public class FileProbeTests
{
    [Fact]
    public void RegularFilesFoldersAndAbsence()
    {
        using var dir = new TempFolder();
        dir.Write("a/file", 12);
        var probe = new FileProbe(dir.Path, followLinks: false);
        var ok = probe.Probe(dir.Combine("a/file"));
        Assert.True(ok.Exists);
        Assert.Equal(12, ok.Length);
        Assert.False(probe.Probe(dir.Combine("a/none")).Exists);
        var folder = probe.Probe(dir.Combine("a"));
        Assert.False(folder.Exists);
        Assert.Contains("folder", folder.Problem);
    }

    [SkippableFact]
    public void LinksBelowTheRootAreNotFollowedUnlessAsked()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        using var dir = new TempFolder();
        using var outside = new TempFolder();
        outside.Write("secret", 30);
        Directory.CreateDirectory(dir.Combine("t"));
        File.CreateSymbolicLink(dir.Combine("t/file-link"), outside.Combine("secret"));
        Directory.CreateSymbolicLink(dir.Combine("t/folder-link"), outside.Path);

        var strict = new FileProbe(dir.Path, followLinks: false);
        var fileLink = strict.Probe(dir.Combine("t/file-link"));
        Assert.False(fileLink.Exists);
        Assert.Contains("symbolic link", fileLink.Problem);
        var throughFolder = strict.Probe(dir.Combine("t/folder-link/secret"));
        Assert.False(throughFolder.Exists);
        Assert.Contains("symbolic link", throughFolder.Problem);

        var following = new FileProbe(dir.Path, followLinks: true);
        var followed = following.Probe(dir.Combine("t/file-link"));
        Assert.True(followed.Exists);
        Assert.Equal(30, followed.Length);   // the target's length, not the link's own
        Assert.True(following.Probe(dir.Combine("t/folder-link/secret")).Exists);
    }
}
