using System;
using System.Buffers;
using System.Threading;

namespace BitTorrent.Download
{
    /// <summary>A block's place in its piece's buffer, handed to a peer's message reader so the block is read straight
    /// into it (see <see cref="Wire.BlockDestinationResolver"/>). It travels as the piece message's payload owner:
    /// the download commits it when it takes the block (<see cref="PiecePicker.BlockReceived(BlockClaim, object, bool, out PartialPiece?)"/>,
    /// under the torrent's lock); disposing it before that (the read failed, or the block was not taken) gives the
    /// place back. Disposing it after the commit feeds the piece's SHA-1 on the reader's thread, outside the torrent's
    /// lock, while the block is still in that core's cache.</summary>
    internal sealed class BlockClaim : IMemoryOwner<byte>
    {
        private const int Open = 0, Committed = 1, Ended = 2;
        private readonly TorrentLock _torrentLock;
        private int _state;

        /// <summary>Made by <see cref="PiecePicker.ClaimBlock"/> (lock held) once the piece has reserved the block.</summary>
        public BlockClaim(PartialPiece piece, int block, TorrentLock torrentLock)
        {
            Piece = piece;
            Block = block;
            _torrentLock = torrentLock;
            Memory = piece.BlockMemory(block);
        }

        public PartialPiece Piece { get; }
        public int Block { get; }
        public Memory<byte> Memory { get; }

        /// <summary>Takes the block for <paramref name="peer"/> (lock held). True once, if the piece still exists;
        /// either way the claim has ended.</summary>
        public bool TryCommit(object peer)
        {
            _torrentLock.AssertHeld();
            if (Interlocked.CompareExchange(ref _state, Committed, Open) != Open) return false;
            return Piece.ReceiveClaimed(Block, peer);
        }

        /// <summary>The message is done with (never under the torrent's lock: a committed block is hashed here).</summary>
        public void Dispose()
        {
            int was = Interlocked.Exchange(ref _state, Ended);
            if (was == Open)
            {
                using (_torrentLock.Enter()) Piece.Unclaim(Block);
            }
            else if (was == Committed)
            {
                _torrentLock.AssertNotHeld();
                Piece.AdvanceHash();
            }
        }
    }
}
