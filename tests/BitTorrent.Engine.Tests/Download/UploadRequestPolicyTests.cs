using BitTorrent.Download;
using Xunit;

namespace BitTorrent.Tests.Download;

public class UploadRequestPolicyTests
{
    private const int Piece = 256 * 1024;

    private static UploadDecision Decide(int begin = 0, int length = 16384, int pieceLength = Piece, bool have = true,
        bool choked = false, bool allowedFast = false, bool queueFull = false) =>
        UploadRequestPolicy.Decide(pieceLength, begin, length, have, choked, allowedFast, queueFull, out _);

    [Fact]
    public void A_block_inside_a_piece_we_have_is_served_to_an_unchoked_peer()
    {
        Assert.Equal(UploadDecision.Serve, Decide());
        Assert.Equal(UploadDecision.Serve, Decide(begin: Piece - 16384));
        Assert.Equal(UploadDecision.Serve, Decide(begin: 1000, length: 1));              // odd but inside
        Assert.Equal(UploadDecision.Serve, Decide(begin: 1000, length: 3000, pieceLength: 4000)); // a short last piece
    }

    [Theory]
    [InlineData(Piece - 16383, 16384)]      // one byte past the end
    [InlineData(Piece, 1)]
    [InlineData(int.MaxValue, 16384)]       // begin + length overflows an int
    [InlineData(-1, 100)]
    public void A_range_outside_the_piece_closes_the_connection(int begin, int length)
    {
        Assert.Equal(UploadDecision.Disconnect, UploadRequestPolicy.Decide(Piece, begin, length, true, false, false, false, out var reason));
        Assert.Contains("piece", reason);
    }

    [Theory]
    [InlineData(16385)]
    [InlineData(1024 * 1024)]
    [InlineData(0)]
    public void A_block_over_16_KiB_or_empty_closes_the_connection(int length)
    {
        Assert.Equal(UploadDecision.Disconnect, UploadRequestPolicy.Decide(Piece, 0, length, true, false, false, false, out var reason));
        Assert.Contains("block", reason);
    }

    [Fact]
    public void A_piece_we_do_not_have_is_rejected()
    {
        Assert.Equal(UploadDecision.Reject, UploadRequestPolicy.Decide(Piece, 0, 16384, false, false, false, false, out var reason));
        Assert.Contains("do not have", reason);
    }

    [Fact]
    public void A_choked_peer_is_rejected_unless_the_piece_is_allowed_fast()
    {
        Assert.Equal(UploadDecision.Reject, Decide(choked: true));
        Assert.Equal(UploadDecision.Serve, Decide(choked: true, allowedFast: true));
        // Allowed fast does not cover a piece we lack.
        Assert.Equal(UploadDecision.Reject, Decide(choked: true, allowedFast: true, have: false));
    }

    [Fact]
    public void A_full_queue_rejects()
    {
        Assert.Equal(UploadDecision.Reject, Decide(queueFull: true));
    }
}
