using Xunit;
using BitTorrent.Creation;
using BitTorrent.Hashing;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Tests.Storage;

namespace BitTorrent.Tests.Hashing;

public class PieceVerifierTests
{
    private const int PieceLength = 16 * 1024;

    /// <summary>data/set/{a.bin 100 000, b/c.bin 40 000, empty, d.bin 70 001}; pieces of 16 KiB span the files.</summary>
    private static (TempFolder Dir, TorrentInfo Torrent) MakeSet(int threads = 0)
    {
        var dir = new TempFolder();
        dir.Write("set/a.bin", 100_000, 1);
        dir.Write("set/b/c.bin", 40_000, 2);
        dir.Write("set/empty", 0, 3);
        dir.Write("set/d.bin", 70_001, 4);
        var builder = new TorrentBuilder(SourceScanner.Scan(dir.Combine("set"))) { PieceLength = PieceLength, ThreadCount = threads };
        var torrent = builder.BuildAsync().GetAwaiter().GetResult().Torrent;
        return (dir, torrent);
    }

    private static int FileIndex(TorrentInfo t, string path) => t.Files.Single(f => f.Path == path).Index;

    [Fact]
    public async Task IntactDataIsComplete()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.True(result.IsComplete);
        Assert.Equal(torrent.PieceCount, result.ValidPieces);
        Assert.Equal(torrent.TotalSize, result.BytesValid);
        Assert.Equal(0, result.CorruptPieces + result.MissingPieces);
        Assert.All(result.Files, f => Assert.Equal(FileStatus.Complete, f.Status));
        Assert.All(result.Files, f => Assert.Equal(f.Length, f.BytesValid));
        Assert.Equal(4, result.Files.Count);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(16_383L)]
    [InlineData(16_384L)]
    [InlineData(99_999L)]
    [InlineData(140_000L)]
    [InlineData(210_000L)]
    public async Task AFlippedByteCorruptsExactlyItsPiece(long torrentOffset)
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var layout = PieceLayout.FromTorrent(torrent);
        int file = layout.FindFile(torrentOffset);
        long inFile = torrentOffset - layout.GetFileOffset(file);
        string path = dir.Combine(torrent.Files[file].SanitizedPath);
        var bytes = File.ReadAllBytes(path);
        bytes[inFile] ^= 0x01;
        File.WriteAllBytes(path, bytes);

        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.False(result.IsComplete);
        Assert.Equal(new[] { (int)(torrentOffset / PieceLength) }, result.CorruptPieceIndexes);
        Assert.Empty(result.MissingPieceIndexes);
        Assert.Equal(torrent.PieceCount - 1, result.ValidPieces);
        Assert.Equal(FileStatus.Partial, result.Files.Single(f => f.Index == file).Status);
        Assert.Equal(torrent.TotalSize - torrent.GetPieceLength((int)(torrentOffset / PieceLength)), result.BytesValid);
    }

    [Fact]
    public async Task ATruncatedFileMakesItsTailPiecesMissingAndItsSizeWrong()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        int a = FileIndex(torrent, "a.bin");
        var fileA = torrent.Files[a];
        const int keep = 50_000;
        using (var s = new FileStream(dir.Combine(fileA.SanitizedPath), FileMode.Open)) s.SetLength(keep);

        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        // Missing: every piece holding a byte of a.bin from offset 50 000 on.
        int firstMissing = (int)((fileA.Offset + keep) / PieceLength);
        var expected = Enumerable.Range(firstMissing, fileA.LastPiece - firstMissing + 1).ToArray();
        Assert.Equal(expected, result.MissingPieceIndexes);
        Assert.Empty(result.CorruptPieceIndexes);
        var status = result.Files.Single(f => f.Index == a);
        Assert.Equal(FileStatus.WrongSize, status.Status);
        Assert.Equal(keep, status.ActualLength);
        Assert.False(result.IsComplete);
    }

    [Fact]
    public async Task ADeletedFileIsMissingAndOnlyItsPiecesAre()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        int d = FileIndex(torrent, "d.bin");
        File.Delete(dir.Combine(torrent.Files[d].SanitizedPath));

        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        var fd = torrent.Files[d];
        Assert.Equal(Enumerable.Range(fd.FirstPiece, fd.LastPiece - fd.FirstPiece + 1), result.MissingPieceIndexes);
        var status = result.Files.Single(f => f.Index == d);
        Assert.Equal(FileStatus.Missing, status.Status);
        Assert.Null(status.ActualLength);
        Assert.NotNull(status.Problem);
        // Files that share no piece with d.bin are still complete.
        foreach (var f in result.Files.Where(f => f.Index != d && f.PieceCount > 0))
        {
            var tf = torrent.Files[f.Index];
            bool shares = tf.LastPiece >= fd.FirstPiece && tf.FirstPiece <= fd.LastPiece;
            Assert.Equal(shares ? FileStatus.Partial : FileStatus.Complete, f.Status);
        }
    }

    [Fact]
    public async Task AnAbsentEmptyFileIsMissingButNoPieceIs()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        File.Delete(dir.Combine("set/empty"));
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.Equal(torrent.PieceCount, result.ValidPieces);
        Assert.Equal(FileStatus.Missing, result.Files.Single(f => f.Path == "empty").Status);
        Assert.False(result.IsComplete);
    }

    [Fact]
    public async Task ALongerFileKeepsValidPiecesButHasTheWrongSize()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        File.AppendAllText(dir.Combine("set/d.bin"), "extra");
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.Equal(torrent.PieceCount, result.ValidPieces);
        var d = result.Files.Single(f => f.Path == "d.bin");
        Assert.Equal(FileStatus.WrongSize, d.Status);
        Assert.Equal(70_006, d.ActualLength);
        Assert.False(result.IsComplete);
    }

    [Fact]
    public async Task SelectedPiecesOnlyAreChecked()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { Pieces = new[] { 3, 1, 3 } });
        Assert.Equal(2, result.CheckedPieces);
        Assert.Equal(2, result.ValidPieces);
        Assert.Equal(PieceState.NotChecked, result.Pieces[0]);
        Assert.Equal(PieceState.Valid, result.Pieces[1]);
        Assert.False(result.IsComplete);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { Pieces = new[] { torrent.PieceCount } }).GetAwaiter().GetResult());
    }

    [Fact]
    public async Task TheBitfieldHasOneBitPerValidPieceHighBitFirst()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var bytes = File.ReadAllBytes(dir.Combine("set/a.bin"));
        bytes[0] ^= 0xFF;                                    // piece 0 corrupt
        File.WriteAllBytes(dir.Combine("set/a.bin"), bytes);
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        var bits = result.Pieces.ToBitfield();
        Assert.Equal((torrent.PieceCount + 7) / 8, bits.Length);
        Assert.Equal(0x7F, bits[0]);
        int spare = bits.Length * 8 - torrent.PieceCount;
        Assert.Equal(0, bits[^1] & ((1 << spare) - 1));
    }

    [Fact]
    public async Task PaddingFilesAreZerosAndNeverOnDisk()
    {
        using var dir = new TempFolder();
        var a = HandMadeTorrent.Random(10_000, 1);
        var b = HandMadeTorrent.Random(5_000, 2);
        var torrent = HandMadeTorrent.MultiFile("padded", 16_384,
            new HandMadeTorrent.Entry(new[] { "a" }, a),
            new HandMadeTorrent.Entry(new[] { ".pad", "6384" }, new byte[6384], Padding: true),
            new HandMadeTorrent.Entry(new[] { "b" }, b));
        Directory.CreateDirectory(dir.Combine("padded"));
        File.WriteAllBytes(dir.Combine("padded/a"), a);
        File.WriteAllBytes(dir.Combine("padded/b"), b);
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.True(result.IsComplete);
        Assert.Equal(2, result.Files.Count);                 // the padding file is not listed
        Assert.False(Directory.Exists(dir.Combine("padded/.pad")));
    }

    [Fact]
    public async Task SingleFileTorrentByFolderOrByFile()
    {
        using var dir = new TempFolder();
        var content = dir.Write("one.bin", 50_000, 9);
        var torrent = HandMadeTorrent.SingleFile("one.bin", 16_384, content);
        Assert.True((await PieceVerifier.VerifyAsync(torrent, dir.Path)).IsComplete);
        File.Move(dir.Combine("one.bin"), dir.Combine("renamed"));
        var byFolder = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        Assert.Equal(FileStatus.Missing, byFolder.Files.Single().Status);
        Assert.Equal(torrent.PieceCount, byFolder.MissingPieces);
        Assert.True((await PieceVerifier.VerifyAsync(torrent, dir.Combine("renamed"))).IsComplete);
    }

    [SkippableFact]
    public async Task ALinkedFileIsMissingUnlessLinksAreFollowed()
    {
        Skip.If(OperatingSystem.IsWindows(), "symbolic links need privileges on Windows");
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        using var elsewhere = new TempFolder();
        File.Move(dir.Combine("set/d.bin"), elsewhere.Combine("d.bin"));
        File.CreateSymbolicLink(dir.Combine("set/d.bin"), elsewhere.Combine("d.bin"));
        var strict = await PieceVerifier.VerifyAsync(torrent, dir.Path);
        var d = strict.Files.Single(f => f.Path == "d.bin");
        Assert.Equal(FileStatus.Missing, d.Status);
        Assert.Contains("symbolic link", d.Problem);
        var following = await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { FollowSymbolicLinks = true });
        Assert.True(following.IsComplete);
    }

    [Fact]
    public async Task CancellationStopsTheCheck()
    {
        using var dir = new TempFolder();
        // 64 MiB in 16 KiB pieces on one thread: long enough to cancel midway.
        string path = dir.Combine("big/x");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var s = File.Create(path)) s.SetLength(64L << 20);
        var torrent = (await new TorrentBuilder(SourceScanner.Scan(dir.Combine("big"))) { PieceLength = 16_384 }.BuildAsync()).Torrent;
        using var cts = new CancellationTokenSource();
        var progress = new CancelOnFirstReport(cts);
        var started = DateTime.UtcNow;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { ThreadCount = 1 }, progress, cts.Token));
        Assert.True(progress.Reports >= 1);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task OneThreadAndManyThreadsAgree()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var bytes = File.ReadAllBytes(dir.Combine("set/b/c.bin"));
        bytes[12_345] ^= 0x10;
        File.WriteAllBytes(dir.Combine("set/b/c.bin"), bytes);
        var one = await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { ThreadCount = 1 });
        var many = await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { ThreadCount = 8 });
        Assert.Equal(one.Pieces.ToBitfield(), many.Pieces.ToBitfield());
        Assert.Single(one.CorruptPieceIndexes);
    }

    [Fact]
    public async Task ProgressEndsAtTheTotal()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        var progress = new LastReport();
        await PieceVerifier.VerifyAsync(torrent, dir.Path, null, progress);
        Assert.Equal(torrent.TotalSize, progress.Last.BytesTotal);
        Assert.Equal(torrent.TotalSize, progress.Last.BytesDone);
        Assert.Equal(torrent.PieceCount, progress.Last.PiecesDone);
    }

    [Fact]
    public async Task TheResumeFormReadsGivenPartialFilesAndOnlyTheChosenPieces()
    {
        var (dir, torrent) = MakeSet();
        using var _ = dir;
        // The downloader keeps unfinished files as "<name>.part": it names the paths itself.
        int a = FileIndex(torrent, "a.bin");
        string final = dir.Combine(torrent.Files[a].SanitizedPath);
        File.Move(final, final + ".part");
        var paths = torrent.Files.Select(f => (string?)dir.Combine(f.SanitizedPath)).ToArray();
        paths[a] = final + ".part";
        var location = TorrentDataLocation.FromPaths(torrent, dir.Path, paths);
        var fa = torrent.Files[a];
        var chosen = Enumerable.Range(fa.FirstPiece, fa.LastPiece - fa.FirstPiece + 1).ToArray();
        var result = await PieceVerifier.VerifyAsync(torrent, location, new VerificationOptions { Pieces = chosen });
        Assert.Equal(chosen, result.Pieces.IndexesOf(PieceState.Valid));
        Assert.Equal(torrent.PieceCount - chosen.Length, result.Pieces.CountOf(PieceState.NotChecked));
        Assert.Equal(FileStatus.Complete, result.Files.Single(f => f.Index == a).Status);
    }

    [Fact]
    public async Task PiecesLargerThanAChunkAreHashedWhole()
    {
        using var dir = new TempFolder();
        // 32 MiB pieces: four times the pipeline's chunk, so fewer chunks are kept in flight.
        const int big = 32 << 20;
        var content = dir.Write("large/x.bin", big + 1_000_003, 9);
        var torrent = (await new TorrentBuilder(SourceScanner.Scan(dir.Combine("large/x.bin"))) { PieceLength = big }.BuildAsync()).Torrent;
        Assert.Equal(2, torrent.PieceCount);
        Assert.Equal(System.Security.Cryptography.SHA1.HashData(content.AsSpan(0, big)), torrent.GetPieceHash(0).ToArray());
        Assert.Equal(System.Security.Cryptography.SHA1.HashData(content.AsSpan(big)), torrent.GetPieceHash(1).ToArray());
        var result = await PieceVerifier.VerifyAsync(torrent, dir.Combine("large"));
        Assert.True(result.IsComplete);

        // A flipped byte in a later block of piece 0 and a cut inside piece 1 are found as such.
        string path = dir.Combine("large/x.bin");
        using (var s = new FileStream(path, FileMode.Open))
        {
            s.Position = big - 3;
            int b = s.ReadByte();
            s.Position = big - 3;
            s.WriteByte((byte)(b ^ 0xFF));
            s.SetLength(big + 500_000);
        }
        result = await PieceVerifier.VerifyAsync(torrent, dir.Combine("large"));
        Assert.Equal(new[] { 0 }, result.CorruptPieceIndexes);
        Assert.Equal(new[] { 1 }, result.MissingPieceIndexes);
        Assert.Equal(FileStatus.WrongSize, result.Files[0].Status);
        Assert.Contains((big + 500_000).ToString(), result.Files[0].Problem);
    }

    [Fact]
    public async Task ManyChunksOnManyWorkersGiveExactlyTheDamagedPieces()
    {
        using var dir = new TempFolder();
        // 40 files of 250 000 bytes in 16 KiB pieces: about 10 MB, so several 4 MiB chunks shared by 4 workers.
        for (int i = 0; i < 40; i++) dir.Write($"many/f{i:D2}.bin", 250_000, 100 + i);
        var torrent = (await new TorrentBuilder(SourceScanner.Scan(dir.Combine("many"))) { PieceLength = PieceLength, ThreadCount = 4 }.BuildAsync()).Torrent;
        Assert.True((await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { ThreadCount = 4 })).IsComplete);

        var deleted = torrent.Files[17];
        File.Delete(dir.Combine(deleted.SanitizedPath));
        var flipped = torrent.Files[33];
        string flippedPath = dir.Combine(flipped.SanitizedPath);
        var bytes = File.ReadAllBytes(flippedPath);
        bytes[123_456] ^= 0x01;
        File.WriteAllBytes(flippedPath, bytes);

        var result = await PieceVerifier.VerifyAsync(torrent, dir.Path, new VerificationOptions { ThreadCount = 4 });
        Assert.Equal(Enumerable.Range(deleted.FirstPiece, deleted.LastPiece - deleted.FirstPiece + 1), result.MissingPieceIndexes);
        Assert.Equal(new[] { (int)((flipped.Offset + 123_456) / PieceLength) }, result.CorruptPieceIndexes);
        Assert.Equal(FileStatus.Missing, result.Files[17].Status);
        Assert.Contains("does not exist", result.Files[17].Problem);
        Assert.Equal(torrent.PieceCount - result.MissingPieces - 1, result.ValidPieces);
    }

    private sealed class CancelOnFirstReport(CancellationTokenSource cts) : IProgress<HashProgress>
    {
        public int Reports;
        public void Report(HashProgress value)
        {
            Interlocked.Increment(ref Reports);
            cts.Cancel();
        }
    }

    private sealed class LastReport : IProgress<HashProgress>
    {
        private readonly object _gate = new();
        public HashProgress Last { get; private set; }
        public void Report(HashProgress value)
        {
            lock (_gate) if (value.BytesDone >= Last.BytesDone) Last = value;
        }
    }
}
