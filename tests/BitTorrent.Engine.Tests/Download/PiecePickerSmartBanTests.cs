using BitTorrent.Download;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download
{
    /// <summary>What the picker does for the smart ban (found with the hostile-peer harness: a liar sharing pieces with
    /// honest peers got them banned): a piece that failed with blocks from several peers is fetched again from one
    /// peer alone, and a banned peer's blocks leave every piece still in flight.</summary>
    public sealed class PiecePickerSmartBanTests
    {
        private const int PieceLength = 4 * BlockRequest.BlockSize;

        private static Bitfield All(int n) { var b = new Bitfield(n); b.SetAll(); return b; }

        private static PiecePicker Picker(int pieces) =>
            new PiecePicker(pieces, PieceLength, (long)pieces * PieceLength, new Bitfield(pieces), All(pieces), 8, seed: 3);

        private static PartialPiece Fill(PiecePicker picker, List<BlockRequest> blocks, object peer)
        {
            PartialPiece? partial = null;
            foreach (var b in blocks) picker.BlockReceived(b, new byte[b.Length], peer, true, out partial);
            return partial!;
        }

        [Fact]
        public void A_piece_that_failed_with_several_sources_is_fetched_again_from_one_peer_only()
        {
            var picker = Picker(1);
            object liar = new object(), honest = new object(), other = new object();
            var first = new List<BlockRequest>();
            picker.Pick(All(1), 1, first, _ => false, peer: liar);
            var rest = new List<BlockRequest>();
            picker.Pick(All(1), 10, rest, _ => false, peer: honest);
            Fill(picker, first, liar);
            var partial = Fill(picker, rest, honest);
            Assert.True(partial.IsComplete);
            Assert.Equal(2, partial.Contributors.Count);

            picker.MarkFailed(0, singleSource: true);
            var ownerBlocks = new List<BlockRequest>();
            Assert.Equal(2, picker.Pick(All(1), 2, ownerBlocks, _ => false, peer: honest));
            Assert.Same(honest, partial.Owner);
            // Nobody else gets a block of it, not even as an endgame duplicate.
            var none = new List<BlockRequest>();
            Assert.Equal(0, picker.Pick(All(1), 10, none, _ => false, peer: other));
            var more = new List<BlockRequest>();
            Assert.Equal(2, picker.Pick(All(1), 10, more, _ => false, peer: honest));
            Fill(picker, ownerBlocks, honest);
            Fill(picker, more, honest);
            Assert.True(partial.IsComplete);
            Assert.Equal(new[] { honest }, partial.Contributors);
        }

        [Fact]
        public void When_the_owner_goes_the_piece_starts_over_with_another_peer()
        {
            var picker = Picker(1);
            object a = new object(), b = new object();
            var blocks = new List<BlockRequest>();
            picker.Pick(All(1), 4, blocks, _ => false, peer: a);
            var partial = Fill(picker, blocks, a);
            picker.MarkFailed(0, singleSource: true);
            var got = new List<BlockRequest>();
            picker.Pick(All(1), 2, got, _ => false, peer: a);
            Fill(picker, got.Take(1).ToList(), a);           // one block in, one outstanding
            foreach (var r in got.Skip(1)) picker.RequestDropped(r); // the owner is snubbed or gone
            picker.ReleasePeer(a, discardItsBlocks: false);
            Assert.Equal(0, partial.ReceivedBlocks);
            Assert.Null(partial.Owner);
            var taken = new List<BlockRequest>();
            Assert.Equal(4, picker.Pick(All(1), 10, taken, _ => false, peer: b));
            Assert.Same(b, partial.Owner);
        }

        [Fact]
        public void A_banned_peers_blocks_are_dropped_from_pieces_in_flight_and_asked_again()
        {
            var picker = Picker(1);
            object liar = new object(), honest = new object();
            var liarBlocks = new List<BlockRequest>();
            picker.Pick(All(1), 2, liarBlocks, _ => false, peer: liar);
            var honestBlocks = new List<BlockRequest>();
            picker.Pick(All(1), 1, honestBlocks, _ => false, peer: honest);
            Fill(picker, liarBlocks, liar);
            var partial = Fill(picker, honestBlocks, honest);
            Assert.Equal(3, partial.ReceivedBlocks);

            Assert.Equal(2, picker.ReleasePeer(liar, discardItsBlocks: true));
            Assert.Equal(1, partial.ReceivedBlocks);
            Assert.Equal(new[] { honest }, partial.Contributors);
            var again = new List<BlockRequest>();
            picker.Pick(All(1), 10, again, _ => false, peer: honest);
            Assert.Equal(liarBlocks.Concat(new[] { partial.Block(3) }).OrderBy(x => x.Offset), again.OrderBy(x => x.Offset));
        }
    }
}
