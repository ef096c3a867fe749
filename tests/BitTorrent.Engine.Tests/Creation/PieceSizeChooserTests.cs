using Xunit;
using BitTorrent.Creation;

namespace BitTorrent.Tests.Creation;

public class PieceSizeChooserTests
{
    private const long KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    [Theory]
    [InlineData(1L, 16 * KiB)]
    [InlineData(40 * MiB, 16 * KiB)]
    [InlineData(40 * MiB + 1, 32 * KiB)]
    [InlineData(80 * MiB, 32 * KiB)]
    [InlineData(160 * MiB, 64 * KiB)]
    [InlineData(320 * MiB, 128 * KiB)]
    [InlineData(640 * MiB, 256 * KiB)]
    [InlineData(700 * MiB, 512 * KiB)]
    [InlineData(GiB, 512 * KiB)]
    [InlineData(GiB + GiB / 4, 512 * KiB)]
    [InlineData(2 * GiB, 1 * MiB)]
    [InlineData(4 * GiB + 1, 2 * MiB)]
    [InlineData(10 * GiB, 4 * MiB)]
    [InlineData(20 * GiB, 8 * MiB)]
    [InlineData(21 * GiB, 16 * MiB)]
    [InlineData(4096 * GiB, 16 * MiB)]
    public void AutoPieceSizeFollowsTheTable(long total, long expected)
    {
        Assert.Equal(expected, PieceSizeChooser.Choose(total));
    }

    [Fact]
    public void MidSizedContentGetsAboutFifteenHundredToTwoThousandPieces()
    {
        for (long total = 41 * MiB; total <= 40 * GiB; total = total * 9 / 8)
        {
            long pieces = (total + PieceSizeChooser.Choose(total) - 1) / PieceSizeChooser.Choose(total);
            Assert.InRange(pieces, 1281, 2560);
        }
    }

    [Theory]
    [InlineData(16 * KiB, true)]
    [InlineData(256 * MiB, true)]
    [InlineData(8 * KiB, false)]
    [InlineData(512 * MiB, false)]
    [InlineData(3 * 16 * KiB, false)]
    [InlineData(0, false)]
    public void ExplicitPieceSizesMustBePowersOfTwoInRange(long size, bool valid)
    {
        Assert.Equal(valid, PieceSizeChooser.IsValid(size));
    }
}
