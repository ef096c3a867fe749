using System.Security.Cryptography;
using BitTorrent.Download;
using BitTorrent.Wire;
using Xunit;

namespace BitTorrent.Tests.Download
{
    /// <summary>SHA-1 fed as blocks arrive (over the received prefix), and blocks read straight into the piece's buffer
    /// through claims: the piece checks exactly as a one-shot hash of its bytes would, whatever the order of arrival,
    /// whatever was dropped, and the buffer goes back to the pool once, after the last reader is done with it.</summary>
    public sealed class PartialPieceHashTests
    {
        private const int Block = BlockRequest.BlockSize;
        private const int PieceLength = 5 * Block - 1000;   // a short last block

        private static byte[] Data(int length, int seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + i / 251 + seed)).ToArray();

        private static byte[] BlockOf(byte[] piece, int b) => piece.AsSpan(b * Block, Math.Min(Block, piece.Length - b * Block)).ToArray();

        private static PartialPiece NewPiece(int length = PieceLength)
        {
            var p = new PartialPiece(0, length);
            p.Initialize();
            return p;
        }

        [Fact]
        public void In_order_blocks_are_hashed_as_they_arrive_and_the_piece_checks()
        {
            var data = Data(PieceLength, 1);
            var expected = SHA1.HashData(data);
            var piece = NewPiece();
            object peer = new();
            for (int b = 0; b < piece.BlockCount; b++)
            {
                Assert.True(piece.Receive(b, BlockOf(data, b), peer));
                piece.AdvanceHash();
                Assert.Equal(b + 1, piece.HashedBlocks);
            }
            Assert.True(piece.HashMatches(expected));
            piece.Release();
        }

        [Fact]
        public void Blocks_after_a_gap_wait_and_are_hashed_when_it_fills()
        {
            var data = Data(PieceLength, 2);
            var piece = NewPiece();
            object peer = new();
            foreach (int b in new[] { 2, 4, 1 })
            {
                piece.Receive(b, BlockOf(data, b), peer);
                piece.AdvanceHash();
                Assert.Equal(0, piece.HashedBlocks);          // block 0 is missing: nothing can be hashed yet
            }
            piece.Receive(0, BlockOf(data, 0), peer);
            piece.AdvanceHash();
            Assert.Equal(3, piece.HashedBlocks);              // 0, 1, 2; block 3 is the next gap
            piece.Receive(3, BlockOf(data, 3), peer);
            Assert.True(piece.HashMatches(SHA1.HashData(data)));   // the check hashes what is left itself
            piece.Release();
        }

        [Fact]
        public void Wrong_data_fails_and_after_a_reset_the_right_data_checks()
        {
            var good = Data(PieceLength, 3);
            var bad = (byte[])good.Clone();
            bad[3 * Block + 5] ^= 0x40;
            var expected = SHA1.HashData(good);
            var piece = NewPiece();
            object peer = new();
            for (int b = 0; b < piece.BlockCount; b++) { piece.Receive(b, BlockOf(bad, b), peer); piece.AdvanceHash(); }
            Assert.False(piece.HashMatches(expected));

            piece.Reset();
            Assert.Equal(0, piece.HashedBlocks);
            for (int b = piece.BlockCount - 1; b >= 0; b--) piece.Receive(b, BlockOf(good, b), peer);   // backwards
            Assert.True(piece.HashMatches(expected));
            piece.Release();
        }

        [Fact]
        public void A_dropped_block_inside_the_hashed_prefix_restarts_the_hash_without_its_bytes()
        {
            var good = Data(PieceLength, 4);
            var expected = SHA1.HashData(good);
            var piece = NewPiece();
            object honest = new(), liar = new();
            piece.Receive(0, BlockOf(good, 0), honest);
            piece.Receive(1, new byte[Block], liar);          // zeros: not the piece's bytes
            piece.Receive(2, BlockOf(good, 2), honest);
            piece.AdvanceHash();
            Assert.Equal(3, piece.HashedBlocks);

            Assert.Equal(1, piece.Discard(source => ReferenceEquals(source, liar)));   // the liar is banned
            Assert.Equal(0, piece.HashedBlocks);
            Assert.False(piece.IsReceived(1));

            piece.Receive(1, BlockOf(good, 1), honest);
            piece.AdvanceHash();
            Assert.Equal(3, piece.HashedBlocks);              // blocks 0 and 2 hashed again from the buffer
            piece.Receive(3, BlockOf(good, 3), honest);
            piece.Receive(4, BlockOf(good, 4), honest);
            Assert.True(piece.HashMatches(expected));
            piece.Release();
        }

        [Fact]
        public void A_dropped_block_past_the_hashed_prefix_keeps_the_hash()
        {
            var good = Data(PieceLength, 5);
            var piece = NewPiece();
            object honest = new(), liar = new();
            piece.Receive(0, BlockOf(good, 0), honest);
            piece.Receive(1, BlockOf(good, 1), honest);
            piece.Receive(3, new byte[Block], liar);
            piece.AdvanceHash();
            Assert.Equal(2, piece.HashedBlocks);

            piece.Discard(source => ReferenceEquals(source, liar));
            Assert.Equal(2, piece.HashedBlocks);
            for (int b = 2; b < piece.BlockCount; b++) piece.Receive(b, BlockOf(good, b), honest);
            Assert.True(piece.HashMatches(SHA1.HashData(good)));
            piece.Release();
        }

        [Fact]
        public void Hashing_an_incomplete_piece_is_refused()
        {
            var piece = NewPiece();
            piece.Receive(0, new byte[Block], new object());
            Assert.Throws<InvalidOperationException>(() => piece.HashMatches(new byte[20]));
            piece.Release();
            Assert.Throws<ObjectDisposedException>(() => piece.HashMatches(new byte[20]));
            piece.AdvanceHash();                              // late hashing after the release does nothing
        }

        [Fact]
        public async Task Hashing_on_other_threads_while_blocks_arrive_gives_the_one_shot_hash()
        {
            // Blocks land (under the download's lock, here one thread) while readers advance the hash on other threads.
            var data = Data(64 * Block, 6);
            var piece = NewPiece(data.Length);
            object peer = new();
            var order = Enumerable.Range(0, piece.BlockCount).OrderBy(b => (b * 37) % 64).ToArray();
            using var stop = new CancellationTokenSource();
            var hashers = Enumerable.Range(0, 2).Select(_ => Task.Run(() => { while (!stop.IsCancellationRequested) piece.AdvanceHash(); })).ToArray();
            foreach (int b in order) piece.Receive(b, BlockOf(data, b), peer);
            stop.Cancel();
            await Task.WhenAll(hashers).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(piece.HashMatches(SHA1.HashData(data)));
            piece.Release();
        }

        // ---- claims: blocks read straight into the buffer ------------------------------------------------------------

        [Fact]
        public void A_claimed_block_is_written_in_place_and_nobody_else_may_write_it_meanwhile()
        {
            var data = Data(PieceLength, 7);
            var piece = NewPiece();
            object reader = new(), other = new();
            Assert.True(piece.TryClaim(2));
            Assert.False(piece.TryClaim(2));                                  // a second reader takes the pooled path
            Assert.False(piece.Receive(2, BlockOf(data, 2), other));          // and its copy is refused
            BlockOf(data, 2).CopyTo(piece.BlockMemory(2));                    // what the socket read does
            Assert.True(piece.ReceiveClaimed(2, reader));
            Assert.True(piece.IsReceived(2));
            Assert.Equal(reader, piece.Source(2));
            Assert.False(piece.TryClaim(2));                                  // received: no more claims

            Assert.True(piece.TryClaim(3));
            piece.Unclaim(3);                                                 // the read failed
            Assert.False(piece.IsReceived(3));
            Assert.True(piece.Receive(3, BlockOf(data, 3), other));           // someone else's copy is welcome now
            piece.Release();
        }

        [Fact]
        public void The_buffer_goes_back_once_and_only_after_the_last_claim_ends()
        {
            var piece = NewPiece();
            Assert.True(piece.TryClaim(0));
            Assert.True(piece.TryClaim(1));
            piece.Release();                                  // shutdown while two readers still write
            Assert.True(piece.HoldsBuffer);
            Assert.False(piece.TryClaim(2));                  // no new claims on a released piece
            Assert.False(piece.ReceiveClaimed(0, new object()));   // the block is not taken, the claim just ends
            Assert.True(piece.HoldsBuffer);
            piece.Unclaim(1);
            Assert.False(piece.HoldsBuffer);
            piece.Release();                                  // twice: nothing more happens
            Assert.False(piece.HoldsBuffer);
            Assert.Throws<InvalidOperationException>(() => piece.Unclaim(1));   // a claim cannot end twice
        }

        [Fact]
        public void Without_claims_release_returns_the_buffer_at_once()
        {
            var piece = NewPiece();
            piece.Release();
            Assert.False(piece.HoldsBuffer);
            Assert.Throws<ObjectDisposedException>(() => piece.Data);
        }

        // ---- through the picker and the wire reader ------------------------------------------------------------------

        private static Bitfield All(int n) { var b = new Bitfield(n); b.SetAll(); return b; }

        [Fact]
        public void Picker_claims_commit_in_place_and_dispose_feeds_the_hash()
        {
            var data = Data(4 * Block, 8);
            var picker = new PiecePicker(1, 4 * Block, 4 * Block, new Bitfield(1), All(1), 8, seed: 1);
            var sync = new TorrentLock();
            object peer = new();
            var asked = new List<BlockRequest>();
            picker.Pick(All(1), 4, asked, _ => false, peer: peer);
            Assert.Equal(4, asked.Count);

            using (sync.Enter())
            {
                Assert.Null(picker.ClaimBlock(new BlockRequest(0, 100, Block), sync));      // not a block boundary
                Assert.Null(picker.ClaimBlock(new BlockRequest(0, 0, Block - 1), sync));    // wrong length
            }
            PartialPiece? partial = null;
            BlockOutcome outcome = BlockOutcome.Unwanted;
            foreach (var block in asked)
            {
                BlockClaim? claim;
                using (sync.Enter())
                {
                    claim = picker.ClaimBlock(block, sync);
                    Assert.NotNull(claim);
                    Assert.Null(picker.ClaimBlock(block, sync));                             // one reader per block
                }
                data.AsSpan(block.Offset, block.Length).CopyTo(claim.Memory.Span);
                using (sync.Enter()) outcome = picker.BlockReceived(claim, peer, requestedByPeer: true, out partial);
                claim.Dispose();                                                             // the message's dispose
                Assert.Equal(block.Offset / Block + 1, partial!.HashedBlocks);                // hashed on the reader's thread
            }
            Assert.Equal(BlockOutcome.PieceComplete, outcome);
            Assert.True(partial!.HashMatches(SHA1.HashData(data)));
            Assert.Equal(data, partial.Data.ToArray());
        }

        [Fact]
        public void A_claim_disposed_before_it_is_taken_gives_the_block_back()
        {
            var picker = new PiecePicker(1, 4 * Block, 4 * Block, new Bitfield(1), All(1), 8, seed: 1);
            var sync = new TorrentLock();
            var asked = new List<BlockRequest>();
            picker.Pick(All(1), 1, asked, _ => false, peer: new object());
            BlockClaim claim;
            using (sync.Enter()) claim = picker.ClaimBlock(asked[0], sync)!;
            claim.Dispose();                                   // the connection failed mid-block (takes the lock)
            claim.Dispose();
            using (sync.Enter())
            {
                Assert.False(claim.Piece.IsClaimed(0));
                Assert.False(claim.TryCommit(new object()));   // too late to take it
                Assert.NotNull(picker.ClaimBlock(asked[0], sync)); // another reader may now
            }
        }

        [Fact]
        public void A_claim_outliving_the_picker_ends_without_taking_the_block_and_frees_the_buffer()
        {
            var picker = new PiecePicker(1, 4 * Block, 4 * Block, new Bitfield(1), All(1), 8, seed: 1);
            var sync = new TorrentLock();
            object peer = new();
            var asked = new List<BlockRequest>();
            picker.Pick(All(1), 1, asked, _ => false, peer: peer);
            BlockClaim claim;
            using (sync.Enter()) claim = picker.ClaimBlock(asked[0], sync)!;
            using (sync.Enter()) picker.ReleaseAll();          // shutdown while the block is being read
            Assert.True(claim.Piece.HoldsBuffer);
            using (sync.Enter()) Assert.Equal(BlockOutcome.Unwanted, picker.BlockReceived(claim, peer, true, out _));
            claim.Dispose();
            Assert.False(claim.Piece.HoldsBuffer);
        }

        [Fact]
        public async Task Piece_messages_read_off_the_wire_land_in_the_piece_and_check()
        {
            // The download's wiring in small: the reader asks the picker for each block's place, the message is taken
            // under the lock, and disposing it feeds SHA-1. Blocks come out of order and one twice (endgame).
            var data = Data(4 * Block, 9);
            var picker = new PiecePicker(1, 4 * Block, 4 * Block, new Bitfield(1), All(1), 8, seed: 1);
            var sync = new TorrentLock();
            object peer = new();
            var asked = new List<BlockRequest>();
            picker.Pick(All(1), 4, asked, _ => false, peer: peer);
            var wire = new MemoryStream();
            foreach (int b in new[] { 1, 0, 0, 3, 2 })
                wire.Write(PeerMessageCodec.Encode(PeerMessage.Piece(0, b * Block, data.AsMemory(b * Block, Block))));
            wire.Position = 0;
            using var reader = new PeerMessageReader(wire, PeerMessageLimits.Default.WithPieceCount(1));
            reader.BlockDestination = (index, begin, length) => { using (sync.Enter()) return picker.ClaimBlock(new BlockRequest(index, begin, length), sync); };

            var outcomes = new List<BlockOutcome>();
            PartialPiece? partial = null;
            for (int i = 0; i < 5; i++)
            {
                using var message = await reader.ReadAsync();
                using (sync.Enter())
                {
                    outcomes.Add(message.PayloadOwner is BlockClaim claim
                        ? picker.BlockReceived(claim, peer, true, out var p)
                        : picker.BlockReceived(new BlockRequest(message.Index, message.Begin, message.Length), message.Payload.Span, peer, true, out p));
                    partial ??= p;
                }
            }

            Assert.Equal(new[] { BlockOutcome.Stored, BlockOutcome.Stored, BlockOutcome.Unwanted, BlockOutcome.Stored, BlockOutcome.PieceComplete }, outcomes);
            Assert.Equal(4, partial!.HashedBlocks);
            Assert.True(partial.HashMatches(SHA1.HashData(data)));
            Assert.Equal(data, partial.Data.ToArray());
        }

        [Fact]
        public void The_lock_discipline_is_checked_claims_under_the_lock_hashing_outside_it()
        {
            var data = Data(4 * Block, 10);
            var picker = new PiecePicker(1, 4 * Block, 4 * Block, new Bitfield(1), All(1), 8, seed: 1);
            var sync = new TorrentLock();
            object peer = new();
            var asked = new List<BlockRequest>();
            picker.Pick(All(1), 4, asked, _ => false, peer: peer);

            // Claiming or taking a block changes the picker's state: without the lock it is refused (DEBUG builds).
            Assert.Throws<LockViolationException>(() => picker.ClaimBlock(asked[0], sync));
            BlockClaim claim;
            using (sync.Enter()) claim = picker.ClaimBlock(asked[0], sync)!;
            data.AsSpan(0, Block).CopyTo(claim.Memory.Span);
            Assert.Throws<LockViolationException>(() => claim.TryCommit(peer));
            Assert.False(claim.Piece.IsReceived(0));

            // Hashing the committed block under the lock would stall every peer of the torrent: refused too, and the
            // block is still hashed by the next advance.
            using (sync.Enter())
            {
                Assert.Equal(BlockOutcome.Stored, picker.BlockReceived(claim, peer, requestedByPeer: true, out _));
                Assert.Throws<LockViolationException>(() => claim.Dispose());
            }
            Assert.Equal(0, claim.Piece.HashedBlocks);
            claim.Piece.AdvanceHash();
            Assert.Equal(1, claim.Piece.HashedBlocks);
        }
    }
}
