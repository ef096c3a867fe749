using Xunit;
using BitTorrent.Hashing;

namespace BitTorrent.Tests.Hashing;

public class PieceRunTests
{
    [Fact]
    public void IndexesBecomeSortedMergedRuns()
    {
        var runs = PieceRun.FromIndexes(new[] { 9, 1, 2, 3, 7, 2, 8 }, 10);
        Assert.Equal(new[] { (1, 3), (7, 3) }, runs.Select(r => (r.First, r.Count)));
        Assert.Empty(PieceRun.FromIndexes(Array.Empty<int>(), 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => PieceRun.FromIndexes(new[] { -1 }, 10));
    }
}
