using BitTorrent.Download;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download
{
    public sealed class PiecePickerTests
    {
        private const int PieceLength = 4 * BlockRequest.BlockSize;

        private static Bitfield All(int n) { var b = new Bitfield(n); b.SetAll(); return b; }

        private static Bitfield Of(int n, params int[] pieces)
        {
            var b = new Bitfield(n);
            foreach (var p in pieces) b.Set(p);
            return b;
        }

        private static PiecePicker Picker(int pieces, Bitfield? have = null, Bitfield? wanted = null, int maxPartials = 8, int seed = 7) =>
            new PiecePicker(pieces, PieceLength, (long)pieces * PieceLength - 1000, have ?? new Bitfield(pieces), wanted ?? All(pieces), maxPartials, seed);

        [Fact]
        public void Picks_the_rarest_piece_the_peer_has()
        {
            var picker = Picker(10);
            picker.AddPeer(All(10));
            picker.AddPeer(All(10));
            picker.AddPeer(Of(10, 6));
            picker.AddPeer(Of(10, 0, 1, 2, 3, 4, 5, 7, 8, 9)); // every piece now held by 3 peers
            picker.RemovePeer(Of(10, 4));                       // piece 4 by 2: the rarest
            var output = new List<BlockRequest>();
            picker.Pick(All(10), 1, output, _ => false);
            Assert.Equal(4, Assert.Single(output).Piece);
        }

        [Fact]
        public void Ties_are_broken_at_random_not_by_index()
        {
            var first = new HashSet<int>();
            for (int seed = 0; seed < 40; seed++)
            {
                var picker = Picker(50, seed: seed);
                picker.AddPeer(All(50));
                var output = new List<BlockRequest>();
                picker.Pick(All(50), 1, output, _ => false);
                first.Add(output[0].Piece);
            }
            Assert.True(first.Count > 10, $"only {first.Count} distinct first picks");
        }

        [Fact]
        public void Finishes_started_pieces_before_starting_new_ones_and_never_asks_a_block_twice()
        {
            var picker = Picker(10);
            picker.AddPeer(All(10));
            var a = new List<BlockRequest>();
            picker.Pick(All(10), 2, a, _ => false);             // two blocks of one piece
            Assert.Single(a.Select(r => r.Piece).Distinct());
            var b = new List<BlockRequest>();
            picker.Pick(All(10), 2, b, _ => false);             // the rest of the same piece
            Assert.Equal(a[0].Piece, Assert.Single(b.Select(r => r.Piece).Distinct()));
            Assert.Empty(a.Intersect(b));
            Assert.Equal(1, picker.PartialCount);
        }

        [Fact]
        public void Blocks_are_16KiB_and_the_last_piece_is_short()
        {
            var picker = Picker(3, wanted: Of(3, 2));
            picker.AddPeer(All(3));
            var output = new List<BlockRequest>();
            picker.Pick(All(3), 100, output, _ => false);
            Assert.All(output, r => Assert.Equal(2, r.Piece));
            Assert.Equal(PieceLength - 1000, output.Sum(r => r.Length));
            Assert.All(output.Take(output.Count - 1), r => Assert.Equal(BlockRequest.BlockSize, r.Length));
        }

        [Fact]
        public void Only_wanted_pieces_the_peer_has_and_we_lack_are_picked()
        {
            var picker = Picker(8, have: Of(8, 1), wanted: Of(8, 1, 2, 3));
            picker.AddPeer(Of(8, 1, 3, 5));
            var output = new List<BlockRequest>();
            picker.Pick(Of(8, 1, 3, 5), 100, output, _ => false);
            Assert.Equal(new[] { 3 }, output.Select(r => r.Piece).Distinct().ToArray());
            Assert.False(picker.IsInteresting(Of(8, 1, 5)));
            Assert.True(picker.IsInteresting(Of(8, 2)));
        }

        [Fact]
        public void Endgame_duplicates_outstanding_blocks_to_a_second_peer_only()
        {
            var picker = Picker(1);
            picker.AddPeer(All(1));
            var first = new List<BlockRequest>();
            picker.Pick(All(1), 100, first, _ => false);        // peer 1 asked for every block
            Assert.Equal(4, first.Count);
            Assert.False(picker.InEndgame);

            var second = new List<BlockRequest>();
            picker.Pick(All(1), 100, second, _ => false);       // peer 2: nothing new, so endgame duplicates
            Assert.True(picker.InEndgame);
            Assert.Equal(first, second);

            var third = new List<BlockRequest>();
            picker.Pick(All(1), 100, third, _ => false);        // at most two peers per block
            Assert.Empty(third);

            var own = new List<BlockRequest>();
            var ownBlocks = new HashSet<BlockRequest>(first);
            picker.Pick(All(1), 100, own, ownBlocks.Contains);   // a peer is never sent its own outstanding block
            Assert.Empty(own);
        }

        [Fact]
        public void A_failed_piece_is_asked_again_in_full_and_a_verified_one_never()
        {
            var picker = Picker(2, wanted: Of(2, 0));
            picker.AddPeer(All(2));
            var blocks = new List<BlockRequest>();
            picker.Pick(All(2), 100, blocks, _ => false);
            var peer = new object();
            PartialPiece? partial = null;
            foreach (var b in blocks)
                picker.BlockReceived(b, new byte[b.Length], peer, true, out partial);
            Assert.True(partial!.IsComplete);
            Assert.Contains(peer, partial.Contributors);

            picker.MarkFailed(0);
            var again = new List<BlockRequest>();
            picker.Pick(All(2), 100, again, _ => false);
            Assert.Equal(blocks, again);

            foreach (var b in again) picker.BlockReceived(b, new byte[b.Length], peer, true, out partial);
            picker.MarkVerified(0);
            Assert.True(picker.IsComplete);
            var none = new List<BlockRequest>();
            Assert.Equal(0, picker.Pick(All(2), 100, none, _ => false));
        }

        [Fact]
        public void Blocks_that_do_not_fit_are_unwanted()
        {
            var picker = Picker(2);
            picker.AddPeer(All(2));
            var blocks = new List<BlockRequest>();
            picker.Pick(All(2), 1, blocks, _ => false);
            var b = blocks[0];
            var peer = new object();
            Assert.Equal(BlockOutcome.Unwanted, picker.BlockReceived(new BlockRequest(b.Piece, b.Offset + 1, b.Length), new byte[b.Length], peer, false, out _));
            Assert.Equal(BlockOutcome.Unwanted, picker.BlockReceived(b, new byte[b.Length - 1], peer, true, out _));
            Assert.Equal(BlockOutcome.Unwanted, picker.BlockReceived(new BlockRequest(1 - b.Piece, 0, BlockRequest.BlockSize), new byte[BlockRequest.BlockSize], peer, false, out _));
            Assert.Equal(BlockOutcome.Stored, picker.BlockReceived(b, new byte[b.Length], peer, true, out _));
            Assert.Equal(BlockOutcome.Unwanted, picker.BlockReceived(b, new byte[b.Length], peer, false, out _)); // a duplicate
        }

        [Fact]
        public void Complete_pieces_waiting_for_their_check_free_their_slot_within_their_own_bound()
        {
            var picker = Picker(100, maxPartials: 2);   // awaiting bound: max(4, 2/2) = 4
            picker.AddPeer(All(100));
            var peer = new object();
            int completed = 0;
            for (int round = 0; round < 10; round++)
            {
                var blocks = new List<BlockRequest>();
                picker.Pick(All(100), 1000, blocks, _ => false);
                if (blocks.Count == 0) break;
                foreach (var b in blocks)
                    if (picker.BlockReceived(b, new byte[b.Length], peer, true, out _) == BlockOutcome.PieceComplete) completed++;
            }
            // Each round fills the two download slots and completes them; four complete pieces may wait for their
            // check (twice the two slots), then no new piece starts.
            Assert.Equal(4, completed);
            Assert.Equal(4, picker.PartialCount);
            var none = new List<BlockRequest>();
            Assert.Equal(0, picker.Pick(All(100), 1000, none, _ => false));

            // One check done: a slot for waiting pieces is free again.
            picker.MarkVerified(picker.PartialPieces().First(p => p.IsComplete).Index);
            var more = new List<BlockRequest>();
            Assert.True(picker.Pick(All(100), 1000, more, _ => false) > 0);
        }

        [Fact]
        public void The_number_of_pieces_in_flight_is_bounded()
        {
            var picker = Picker(100, maxPartials: 3);
            picker.AddPeer(All(100));
            var output = new List<BlockRequest>();
            picker.Pick(All(100), 1000, output, _ => false);
            Assert.Equal(3, output.Select(r => r.Piece).Distinct().Count());
            Assert.Equal(3, picker.PartialCount);
        }
    }
}
