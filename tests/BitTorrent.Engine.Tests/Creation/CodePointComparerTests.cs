using Xunit;
using BitTorrent.Creation;

namespace BitTorrent.Tests.Creation;

public class CodePointComparerTests
{
    [Fact]
    public void OrdersLikeUtf8Bytes()
    {
        var names = new[] { "sub/deep/x", "sub-file", "Sub2/y", "a b/c", ".hidden", "\uE000", "\U0001F600", "é", "z", "A.txt" };
        var expected = names.OrderBy(n => n, Comparer<string>.Create((x, y) =>
            System.Text.Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y)))).ToArray();
        var actual = names.OrderBy(n => n, CodePointComparer.Instance).ToArray();
        Assert.Equal(expected, actual);
        // The case plain ordinal comparison gets wrong: U+1F600 is above U+E000.
        Assert.True(CodePointComparer.Instance.Compare("\U0001F600", "\uE000") > 0);
        Assert.True(string.CompareOrdinal("\U0001F600", "\uE000") < 0);
        // mktorrent's strcmp: '-' (0x2D) sorts before '/' (0x2F).
        Assert.True(CodePointComparer.Instance.Compare("sub-file", "sub/deep/x") < 0);
    }
}
