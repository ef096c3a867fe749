using Xunit;
using BitTorrent.Storage;

namespace BitTorrent.Tests.Storage;

public class TorrentDataReaderTests
{
    [Fact]
    public void ReadsAcrossFilesAndFillsPaddingWithZerosWithoutOpeningIt()
    {
        using var dir = new TempFolder();
        var a = dir.Write("a", 10, 1);
        var b = dir.Write("b", 20, 2);
        var layout = new PieceLayout(new long[] { 10, 6, 20 }, 16, new[] { false, true, false });
        // The padding file's path points nowhere: it must never be opened.
        using var reader = new TorrentDataReader(layout, new[] { dir.Combine("a"), dir.Combine("does-not-exist"), dir.Combine("b") });
        var buffer = new byte[36];
        var missing = new List<ByteRange>();
        Assert.True(reader.Read(0, buffer, 0, 36, missing));
        Assert.Empty(missing);
        Assert.Equal(a.Concat(new byte[6]).Concat(b), buffer);
    }

    [Fact]
    public void AMissingFileIsReportedAsExactlyItsRange()
    {
        using var dir = new TempFolder();
        var a = dir.Write("a", 10, 1);
        var c = dir.Write("c", 10, 3);
        var layout = new PieceLayout(new long[] { 10, 15, 10 }, 8);
        using var reader = new TorrentDataReader(layout, new[] { dir.Combine("a"), dir.Combine("b"), dir.Combine("c") });
        var buffer = Enumerable.Repeat((byte)0xEE, 35).ToArray();
        var missing = new List<ByteRange>();
        Assert.False(reader.Read(0, buffer, 0, 35, missing));
        Assert.Equal(new[] { (10L, 15L) }, missing.Select(r => (r.Offset, r.Length)));
        Assert.Equal(a, buffer[..10]);
        Assert.All(buffer[10..25], x => Assert.Equal(0, x));   // unavailable bytes are zeroed, not left as they were
        Assert.Equal(c, buffer[25..]);
        Assert.Contains("does not exist", reader.GetFileError(1));
        Assert.Null(reader.GetFileError(0));
    }

    [Fact]
    public void AShortFileIsUnavailableFromItsEnd()
    {
        using var dir = new TempFolder();
        dir.Write("a", 7, 1);                       // the torrent says 12
        var b = dir.Write("b", 5, 2);
        var layout = new PieceLayout(new long[] { 12, 5 }, 4);
        using var reader = new TorrentDataReader(layout, new[] { dir.Combine("a"), dir.Combine("b") });
        var missing = new List<ByteRange>();
        var buffer = new byte[17];
        Assert.False(reader.Read(0, buffer, 0, 17, missing));
        Assert.Equal(new[] { (7L, 5L) }, missing.Select(r => (r.Offset, r.Length)));
        Assert.Equal(b, buffer[12..]);
        // Later reads of the same file do not try again past the known end.
        missing.Clear();
        Assert.False(reader.Read(8, buffer, 0, 4, missing));
        Assert.Equal(new[] { (8L, 4L) }, missing.Select(r => (r.Offset, r.Length)));
        Assert.Contains("7 bytes", reader.GetFileError(0));
    }

    [Fact]
    public void ANullPathIsUnavailable()
    {
        var layout = new PieceLayout(new long[] { 5 }, 4);
        using var reader = new TorrentDataReader(layout, new string?[] { null });
        var missing = new List<ByteRange>();
        Assert.False(reader.Read(0, new byte[5], 0, 5, missing));
        Assert.Equal(5, missing.Single().Length);
    }

    [Fact]
    public void AFolderWhereAFileShouldBeIsUnavailableWithItsReason()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.Combine("a"));
        var b = dir.Write("b", 6, 2);
        var layout = new PieceLayout(new long[] { 4, 6 }, 4);
        using var reader = new TorrentDataReader(layout, new[] { dir.Combine("a"), dir.Combine("b") });
        var missing = new List<ByteRange>();
        var buffer = new byte[10];
        Assert.False(reader.Read(0, buffer, 0, 10, missing));
        Assert.Equal(new[] { (0L, 4L) }, missing.Select(r => (r.Offset, r.Length)));
        Assert.Equal(b, buffer[4..]);
        Assert.Contains("folder", reader.GetFileError(0), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void AMissingFolderIsToldApartFromAMissingFile()
    {
        using var dir = new TempFolder();
        var layout = new PieceLayout(new long[] { 4, 4 }, 4);
        using var reader = new TorrentDataReader(layout, new[] { dir.Combine("no-such-folder/a"), dir.Combine("b") });
        Assert.False(reader.Read(0, new byte[8], 0, 8, new List<ByteRange>()));
        Assert.Contains("folder does not exist", reader.GetFileError(0));
        Assert.Contains("file does not exist", reader.GetFileError(1));
    }

    [SkippableFact]
    public void ReadingThousandsOfFilesKeepsOneOpenAndClosesItOnDispose()
    {
        Skip.IfNot(Directory.Exists("/proc/self/fd"), "descriptor counting needs Linux's /proc/self/fd");
        using var dir = new TempFolder();
        const int count = 2000;
        var lengths = new long[count];
        var paths = new string[count];
        var expected = new List<byte>();
        for (int i = 0; i < count; i++)
        {
            lengths[i] = 1 + i % 7;
            paths[i] = dir.Combine($"f{i}");
            expected.AddRange(dir.Write($"f{i}", (int)lengths[i], i));
        }
        var layout = new PieceLayout(lengths, 16);
        int before = Directory.GetFiles("/proc/self/fd").Length;
        var buffer = new byte[expected.Count];
        using (var reader = new TorrentDataReader(layout, paths))
        {
            for (int at = 0; at < buffer.Length; at += 1000)
                Assert.True(reader.Read(at, buffer, at, Math.Min(1000, buffer.Length - at), null));
            // Other tests run in parallel and open files too; a leak here would be a thousand descriptors.
            Assert.InRange(Directory.GetFiles("/proc/self/fd").Length, 0, before + 50);
        }
        Assert.Equal(expected.ToArray(), buffer);
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length, 0, before + 50);
    }
}
