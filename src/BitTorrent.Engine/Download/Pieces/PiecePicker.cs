using System;
using System.Collections.Generic;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>What a received block meant to the picker.</summary>
    internal enum BlockOutcome
    {
        /// <summary>Stored; the piece still misses blocks.</summary>
        Stored,
        /// <summary>Stored and the piece is complete: hash it.</summary>
        PieceComplete,
        /// <summary>We did not ask for it, already have it, or it does not fit the piece: ignore it.</summary>
        Unwanted,
    }

    /// <summary>Chooses blocks to request (libtorrent's and Transmission's rules):
    /// <list type="number">
    /// <item>finish pieces already started, the one closest to completion first, so data is verified and written early
    /// and partial-piece memory stays small;</item>
    /// <item>then start the rarest piece the peer has, ties broken at random (so peers spread over the torrent);</item>
    /// <item>at most <see cref="MaxPartialPieces"/> pieces in flight: bounds memory independently of torrent size;</item>
    /// <item>endgame: once every missing block is requested, a block may be asked of a second peer (cancel on arrival).</item>
    /// </list>
    /// Not thread-safe: used under the torrent's lock (only a claimed block's bytes are written, and pieces hashed,
    /// outside it: see <see cref="PartialPiece"/>).</summary>
    internal sealed class PiecePicker
    {
        private readonly int _pieceCount;
        private readonly int _pieceLength;
        private readonly long _totalSize;
        private readonly Bitfield _have;
        private readonly Bitfield _wanted;
        private readonly int[] _availability;
        private readonly Dictionary<int, PartialPiece> _partials = new Dictionary<int, PartialPiece>();
        private readonly List<PartialPiece> _partialList = new List<PartialPiece>();
        private readonly Random _random;
        private int _wantedMissing;
        /// <summary>Partial pieces whose blocks have all arrived and that wait for their hash check and write.</summary>
        private int _awaitingVerification;

        /// <param name="have">Verified pieces (shared with the caller, updated through <see cref="MarkVerified"/>).</param>
        /// <param name="wanted">Pieces selected for download (all, unless -Include/-Exclude narrowed them).</param>
        public PiecePicker(int pieceCount, int pieceLength, long totalSize, Bitfield have, Bitfield wanted, int maxPartialPieces, int? seed = null)
        {
            _pieceCount = pieceCount;
            _pieceLength = pieceLength;
            _totalSize = totalSize;
            _have = have;
            _wanted = wanted;
            _availability = new int[pieceCount];
            MaxPartialPieces = Math.Max(1, maxPartialPieces);
            _random = seed.HasValue ? new Random(seed.Value) : new Random();
            for (int i = 0; i < pieceCount; i++)
                if (_wanted[i] && !_have[i]) _wantedMissing++;
        }

        /// <summary>Pieces being downloaded at once. Pieces complete in memory and waiting for their hash check and
        /// write do not count, so a slow disk does not starve the network, but they have their own bound
        /// (<see cref="MaxAwaitingVerification"/>): memory stays bounded by both.</summary>
        public int MaxPartialPieces { get; set; }

        /// <summary>A quarter of <see cref="MaxPartialPieces"/> (at least 4): SHA-1 is fed as blocks arrive, so a
        /// complete piece's check is nearly done when its last block lands and it mostly waits for its write; half
        /// (before incremental hashing) only held more memory.</summary>
        public int MaxAwaitingVerification => Math.Max(4, MaxPartialPieces / 4);

        private bool CanStartPiece =>
            _partialList.Count - _awaitingVerification < MaxPartialPieces && _awaitingVerification < MaxAwaitingVerification;

        /// <summary>Wanted pieces not yet verified.</summary>
        public int WantedMissing => _wantedMissing;

        public bool IsComplete => _wantedMissing == 0;

        public int PartialCount => _partialList.Count;

        /// <summary>The pieces in flight (for tests and diagnostics).</summary>
        public IEnumerable<PartialPiece> PartialPieces() => _partialList;

        /// <summary>True once no wanted block is left unrequested: duplicates are allowed from then on.</summary>
        public bool InEndgame { get; private set; }

        public int Availability(int piece) => _availability[piece];

        public int PieceLength(int piece) => piece == _pieceCount - 1 ? (int)(_totalSize - (long)_pieceLength * (_pieceCount - 1)) : _pieceLength;

        public bool IsWanted(int piece) => (uint)piece < (uint)_pieceCount && _wanted[piece] && !_have[piece];

        // ---- availability ------------------------------------------------------------------------------------

        public void AddPeer(Bitfield peerHas) => peerHas.AddTo(_availability);
        public void RemovePeer(Bitfield peerHas) => peerHas.SubtractFrom(_availability);
        public void AddHave(int piece) { if ((uint)piece < (uint)_pieceCount) _availability[piece]++; }

        /// <summary>True if the peer has a piece we still want (we should be interested).</summary>
        public bool IsInteresting(Bitfield peerHas)
        {
            if (_wantedMissing == 0) return false;
            for (int i = peerHas.NextSet(0); i >= 0; i = i + 1 < _pieceCount ? peerHas.NextSet(i + 1) : -1)
                if (_wanted[i] && !_have[i]) return true;
            return false;
        }

        // ---- picking -----------------------------------------------------------------------------------------

        /// <summary>Appends up to <paramref name="count"/> blocks to request from a peer. <paramref name="alreadyRequested"/>
        /// tells whether this peer already has a block outstanding (only consulted in endgame).</summary>
        /// <param name="allowedFastOnly">When the peer chokes us, only these pieces (BEP 6 allowed fast) may be asked.</param>
        /// <param name="peer">Who asks (a piece fetched again after a hash failure goes to one peer only).</param>
        public int Pick(Bitfield peerHas, int count, List<BlockRequest> output, Func<BlockRequest, bool> alreadyRequested,
            ICollection<int>? allowedFastOnly = null, object? peer = null)
        {
            int picked = 0;
            if (count <= 0 || _wantedMissing == 0) return 0;

            // 1. Pieces in flight, the most complete first.
            if (_partialList.Count > 1)
                _partialList.Sort((a, b) => (b.ReceivedBlocks + b.BlockCount - b.UnrequestedBlocks).CompareTo(a.ReceivedBlocks + a.BlockCount - a.UnrequestedBlocks));
            foreach (var partial in _partialList)
            {
                if (picked >= count) return picked;
                if (partial.UnrequestedBlocks <= 0 || !peerHas[partial.Index] || !partial.MayServe(peer)) continue;
                if (allowedFastOnly is not null && !allowedFastOnly.Contains(partial.Index)) continue;
                int taken = TakeUnrequested(partial, count - picked, output);
                if (taken > 0 && partial.SingleSource && partial.Owner is null) partial.Owner = peer;
                picked += taken;
            }

            // 2. New pieces, rarest first.
            while (picked < count && CanStartPiece)
            {
                int piece = PickRarestNewPiece(peerHas, allowedFastOnly);
                if (piece < 0) break;
                var partial = StartPiece(piece);
                picked += TakeUnrequested(partial, count - picked, output);
            }

            if (picked > 0) return picked;

            // 3. Endgame: nothing unrequested is left that this peer can serve; duplicate blocks others are slow on.
            if (!AnyUnrequestedOrUnstarted())
            {
                InEndgame = true;
                foreach (var partial in _partialList)
                {
                    if (picked >= count) break;
                    if (!peerHas[partial.Index] || partial.SingleSource) continue;
                    if (allowedFastOnly is not null && !allowedFastOnly.Contains(partial.Index)) continue;
                    for (int b = 0; b < partial.BlockCount && picked < count; b++)
                    {
                        if (partial.IsReceived(b)) continue;
                        var block = partial.Block(b);
                        if (alreadyRequested(block)) continue;
                        // Strict endgame: at most two peers on one block.
                        if (partial.Requesters(b) >= 2) continue;
                        partial.MarkRequested(b);
                        output.Add(block);
                        picked++;
                    }
                }
            }
            return picked;
        }

        private int TakeUnrequested(PartialPiece partial, int count, List<BlockRequest> output)
        {
            int taken = 0;
            for (int b = 0; b < partial.BlockCount && taken < count && partial.UnrequestedBlocks > 0; b++)
            {
                if (partial.IsReceived(b) || partial.Requesters(b) > 0) continue;
                partial.MarkRequested(b);
                output.Add(partial.Block(b));
                taken++;
            }
            return taken;
        }

        private int PickRarestNewPiece(Bitfield peerHas, ICollection<int>? allowedFastOnly)
        {
            if (allowedFastOnly is not null)
            {
                foreach (var p in allowedFastOnly)
                    if (IsWanted(p) && peerHas[p] && !_partials.ContainsKey(p)) return p;
                return -1;
            }
            // One pass from a random start: the first piece of the lowest availability seen wins, which is a random
            // choice among the rarest without sorting or allocating.
            int best = -1, bestAvailability = int.MaxValue;
            int start = _random.Next(_pieceCount);
            for (int n = 0; n < _pieceCount; n++)
            {
                int i = start + n;
                if (i >= _pieceCount) i -= _pieceCount;
                if (!peerHas[i] || _have[i] || !_wanted[i] || _partials.ContainsKey(i)) continue;
                int a = _availability[i];
                if (a < bestAvailability)
                {
                    best = i;
                    bestAvailability = a;
                    if (a <= 1) break; // nothing is rarer than the only copy
                }
            }
            return best;
        }

        private PartialPiece StartPiece(int piece)
        {
            var partial = new PartialPiece(piece, PieceLength(piece));
            partial.Initialize();
            _partials.Add(piece, partial);
            _partialList.Add(partial);
            return partial;
        }

        private bool AnyUnrequestedOrUnstarted()
        {
            foreach (var p in _partialList) if (p.UnrequestedBlocks > 0) return true;
            // Any wanted piece not started yet?
            return _wantedMissing > _partialList.Count;
        }

        // ---- events ------------------------------------------------------------------------------------------

        /// <summary>A request went unanswered (choke, reject, timeout, disconnect): the block can be asked again.</summary>
        public void RequestDropped(BlockRequest block)
        {
            if (_partials.TryGetValue(block.Piece, out var partial) && TryBlockIndex(partial, block, out int b))
                partial.MarkRequestDropped(b);
        }

        /// <summary>Stores a received block (a late block we no longer had outstanding is still taken if wanted).</summary>
        /// <param name="requestedByPeer">Whether this peer had the block outstanding (its request is now answered).</param>
        public BlockOutcome BlockReceived(BlockRequest block, ReadOnlySpan<byte> data, object peer, bool requestedByPeer, out PartialPiece? partial)
        {
            partial = null;
            if (!_partials.TryGetValue(block.Piece, out var p) || !TryBlockIndex(p, block, out int b) || data.Length != block.Length)
                return BlockOutcome.Unwanted;
            if (requestedByPeer) p.MarkRequestDropped(b);
            if (!p.Receive(b, data, peer)) return BlockOutcome.Unwanted;
            partial = p;
            if (!p.IsComplete) return BlockOutcome.Stored;
            _awaitingVerification++;
            return BlockOutcome.PieceComplete;
        }

        /// <summary>Reserves a wanted block's place in its piece's buffer for a reader to write the block into (see
        /// <see cref="BlockClaim"/>); null if the block is not in a piece in flight, does not fit it, is received or is
        /// being received from another peer. Whether the peer was asked for it is the caller's check.</summary>
        /// <param name="torrentLock">The lock guarding this picker, held by the caller (the claim takes it to give
        /// the place back, and asserts it when the block is taken).</param>
        public BlockClaim? ClaimBlock(BlockRequest block, TorrentLock torrentLock)
        {
            torrentLock.AssertHeld();
            if (!_partials.TryGetValue(block.Piece, out var p) || !TryBlockIndex(p, block, out int b) || !p.TryClaim(b)) return null;
            return new BlockClaim(p, b, torrentLock);
        }

        /// <summary>Takes a block that was read straight into its piece's buffer through <paramref name="claim"/>: the
        /// same outcomes as a copied block, without the copy (lock held: the claim asserts it).</summary>
        public BlockOutcome BlockReceived(BlockClaim claim, object peer, bool requestedByPeer, out PartialPiece? partial)
        {
            partial = null;
            var p = claim.Piece;
            // The picker let the piece go since (shutdown): the claim then just ends.
            if (!_partials.TryGetValue(p.Index, out var current) || !ReferenceEquals(current, p)) return BlockOutcome.Unwanted;
            if (requestedByPeer) p.MarkRequestDropped(claim.Block);
            if (!claim.TryCommit(peer)) return BlockOutcome.Unwanted;
            partial = p;
            if (!p.IsComplete) return BlockOutcome.Stored;
            _awaitingVerification++;
            return BlockOutcome.PieceComplete;
        }

        /// <summary>The piece's hash matched and it is (being) written: forget its partial state.</summary>
        public void MarkVerified(int piece)
        {
            if (_partials.TryGetValue(piece, out var partial))
            {
                if (partial.IsComplete) _awaitingVerification--;
                _partials.Remove(piece);
                _partialList.Remove(partial);
                partial.Release();
            }
            if (!_have[piece])
            {
                _have.Set(piece);
                if (_wanted[piece]) _wantedMissing--;
            }
        }

        /// <summary>The piece's hash did not match: every block is wanted again; from one peer alone when
        /// <paramref name="singleSource"/> (the failed attempt mixed blocks from several).</summary>
        public void MarkFailed(int piece, bool singleSource = false)
        {
            if (_partials.TryGetValue(piece, out var partial))
            {
                if (partial.IsComplete) _awaitingVerification--;
                partial.Reset();
                partial.SingleSource = singleSource;
            }
            InEndgame = false;
        }

        /// <summary>A peer is gone, snubbed or banned: single-source pieces it was fetching start over (another peer
        /// takes them whole), and with <paramref name="discardItsBlocks"/> (banned) every block it sent to a piece
        /// still in flight is dropped, so its data cannot fail an honest peer's piece. Pieces complete and waiting
        /// for their hash check are left to it. Returns the blocks dropped.</summary>
        public int ReleasePeer(object peer, bool discardItsBlocks)
        {
            int dropped = 0;
            foreach (var partial in _partialList)
            {
                if (partial.IsComplete) continue;
                if (partial.SingleSource && ReferenceEquals(partial.Owner, peer))
                {
                    dropped += partial.ReceivedBlocks;
                    partial.Reset();
                    partial.SingleSource = true;
                }
                else if (discardItsBlocks)
                {
                    dropped += partial.Discard(source => ReferenceEquals(source, peer));
                }
            }
            return dropped;
        }

        /// <summary>Drops every partial piece's buffer (shutdown).</summary>
        public void ReleaseAll()
        {
            foreach (var p in _partialList) p.Release();
            _partialList.Clear();
            _partials.Clear();
            _awaitingVerification = 0;
        }

        private static bool TryBlockIndex(PartialPiece partial, BlockRequest block, out int index)
        {
            index = block.Offset / BlockRequest.BlockSize;
            return block.Offset % BlockRequest.BlockSize == 0 && index < partial.BlockCount && partial.BlockLength(index) == block.Length;
        }
    }
}
