using Xunit;
using BitTorrent.Storage;

namespace BitTorrent.Tests.Storage;

public class PieceLayoutTests
{
    [Fact]
    public void SingleFileHasFullPiecesAndAShortLastPiece()
    {
        var layout = new PieceLayout(new long[] { 100 }, 32);
        Assert.Equal(4, layout.PieceCount);
        Assert.Equal(new[] { 32, 32, 32, 4 }, Enumerable.Range(0, 4).Select(layout.GetPieceLength));
        Assert.Equal(96, layout.GetPieceOffset(3));
        var spans = layout.GetPieceSpans(3).ToList();
        Assert.Single(spans);
        Assert.Equal((0, 96L, 4), (spans[0].FileIndex, spans[0].FileOffset, spans[0].Length));
    }

    [Fact]
    public void ExactMultipleHasNoShortPiece()
    {
        var layout = new PieceLayout(new long[] { 64 }, 32);
        Assert.Equal(2, layout.PieceCount);
        Assert.Equal(32, layout.GetPieceLength(1));
    }

    [Fact]
    public void APieceSpansSeveralFilesAndSkipsEmptyOnes()
    {
        // files: 10, 0, 5, 0, 30 bytes; pieces of 16 → piece 0 = f0[0..10) f2[0..5) f4[0..1)
        var layout = new PieceLayout(new long[] { 10, 0, 5, 0, 30 }, 16);
        Assert.Equal(45, layout.TotalLength);
        Assert.Equal(3, layout.PieceCount);
        var spans = layout.GetPieceSpans(0).ToList();
        Assert.Equal(new[] { (0, 0L, 0L, 10), (2, 0L, 10L, 5), (4, 0L, 15L, 1) },
            spans.Select(s => (s.FileIndex, s.FileOffset, s.TorrentOffset, s.Length)));
        var last = layout.GetPieceSpans(2).ToList();
        Assert.Equal(new[] { (4, 17L, 32L, 13) }, last.Select(s => (s.FileIndex, s.FileOffset, s.TorrentOffset, s.Length)));
    }

    [Fact]
    public void ZeroLengthFilesLieInNoPiece()
    {
        var layout = new PieceLayout(new long[] { 0, 10, 0, 10, 0 }, 8);
        Assert.False(layout.TryGetFilePieces(0, out _, out _));
        Assert.False(layout.TryGetFilePieces(2, out _, out _));
        Assert.False(layout.TryGetFilePieces(4, out _, out _));
        Assert.True(layout.TryGetFilePieces(1, out int f1, out int l1));
        Assert.Equal((0, 1), (f1, l1));
        Assert.True(layout.TryGetFilePieces(3, out int f3, out int l3));
        Assert.Equal((1, 2), (f3, l3));
        Assert.Equal(1, layout.FindFile(0));
        Assert.Equal(1, layout.FindFile(9));
        Assert.Equal(3, layout.FindFile(10));
        Assert.Equal(3, layout.FindFile(19));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.FindFile(20));
    }

    [Fact]
    public void PaddingSpansAreFlagged()
    {
        var layout = new PieceLayout(new long[] { 10, 6, 16 }, 16, new[] { false, true, false });
        var spans = layout.GetPieceSpans(0).ToList();
        Assert.Equal(2, spans.Count);
        Assert.False(spans[0].IsPadding);
        Assert.True(spans[1].IsPadding);
        Assert.Equal(6, spans[1].Length);
        Assert.False(layout.GetPieceSpans(1).ToList().Single().IsPadding);
    }

    [Fact]
    public void RangesAcrossTheWholeTorrentAreCoveredExactly()
    {
        var random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            int fileCount = random.Next(1, 12);
            var lengths = Enumerable.Range(0, fileCount).Select(_ => (long)(random.Next(4) == 0 ? 0 : random.Next(1, 100))).ToArray();
            if (lengths.Sum() == 0) lengths[0] = 1;
            int pieceLength = random.Next(1, 40);
            var layout = new PieceLayout(lengths, pieceLength);
            long total = lengths.Sum();
            Assert.Equal((int)((total + pieceLength - 1) / pieceLength), layout.PieceCount);
            long expected = 0;
            var perFile = new long[fileCount];
            for (int p = 0; p < layout.PieceCount; p++)
            {
                foreach (var span in layout.GetPieceSpans(p))
                {
                    Assert.Equal(expected, span.TorrentOffset);            // contiguous
                    Assert.True(span.Length > 0);                         // zero-length files never appear
                    Assert.Equal(layout.GetFileOffset(span.FileIndex) + span.FileOffset, span.TorrentOffset);
                    Assert.True(span.FileOffset + span.Length <= lengths[span.FileIndex]);
                    perFile[span.FileIndex] += span.Length;
                    expected += span.Length;
                }
            }
            Assert.Equal(total, expected);
            Assert.Equal(lengths, perFile);
            for (int f = 0; f < fileCount; f++)
            {
                long overlap = 0;
                for (int p = 0; p < layout.PieceCount; p++) overlap += layout.GetOverlap(f, p);
                Assert.Equal(lengths[f], overlap);
            }
        }
    }

    [Fact]
    public void FromTorrentAgreesWithTheParsersFirstAndLastPieces()
    {
        var torrent = HandMadeTorrent.MultiFile("t", 16,
            new HandMadeTorrent.Entry(new[] { "a" }, HandMadeTorrent.Random(20, 1)),
            new HandMadeTorrent.Entry(new[] { "empty" }, Array.Empty<byte>()),
            new HandMadeTorrent.Entry(new[] { "pad" }, new byte[12], Padding: true),
            new HandMadeTorrent.Entry(new[] { "b", "c" }, HandMadeTorrent.Random(33, 2)));
        var layout = PieceLayout.FromTorrent(torrent);
        Assert.Equal(torrent.PieceCount, layout.PieceCount);
        Assert.True(layout.IsPadding(2));
        foreach (var f in torrent.Files)
        {
            bool has = layout.TryGetFilePieces(f.Index, out int first, out int last);
            Assert.Equal(f.FirstPiece, has ? first : -1);
            Assert.Equal(f.LastPiece, has ? last : -1);
        }
    }

    [Fact]
    public void RangesBeyondTheEndAreRefused()
    {
        var layout = new PieceLayout(new long[] { 10 }, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.GetSpans(8, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.GetPieceLength(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => layout.GetPieceOffset(-1));
        Assert.Empty(layout.GetSpans(10, 0).ToList());
    }
}
