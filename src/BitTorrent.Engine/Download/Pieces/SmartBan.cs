using System;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using BitTorrent.Events;

namespace BitTorrent.Download
{
    /// <summary>A block of a piece that failed its hash check: who sent it and the SHA-1 of what they sent.</summary>
    internal readonly struct FailedBlock
    {
        public FailedBlock(PeerSession? peer, byte[]? hash) { Peer = peer; Hash = hash; }
        public PeerSession? Peer { get; }
        public byte[]? Hash { get; }
    }

    /// <summary>Finds and bans peers that send bad data (libtorrent's smart ban plugin, with its two hooks). When a
    /// piece fails its hash check (<see cref="OnPieceFailed"/>): if it came from one peer alone, that peer lied;
    /// if from several, blaming them all would ban honest peers along with a liar, so a hash of each block and who
    /// sent it is kept and the piece is fetched again from one peer alone. When that piece then passes
    /// (<see cref="OnPiecePassed"/>), whoever sent a block that differs from the good one lied. Block hashes are
    /// computed by the static helpers outside the lock; the hooks run under it.</summary>
    internal sealed class SmartBan
    {
        /// <summary>Pieces whose failed blocks are remembered, at most this many (the oldest is forgotten first):
        /// a block costs 20 bytes and a reference, so this stays small.</summary>
        public const int MaxRememberedFailures = 64;

        private readonly TorrentContext _ctx;
        private readonly Dictionary<int, FailedBlock[]> _failedBlocks = new Dictionary<int, FailedBlock[]>();
        private readonly Queue<int> _failedOrder = new Queue<int>();

        public SmartBan(TorrentContext context) => _ctx = context;

        [ThreadStatic] private static SHA1? _sha1;

        /// <summary>Hashes every block of a complete piece and notes its sender (outside the lock: the piece is
        /// complete, so nobody changes its blocks until it is marked failed or verified).</summary>
        public static FailedBlock[] HashBlocks(PartialPiece partial)
        {
            var sha = _sha1 ??= SHA1.Create();
            var data = partial.Data;
            var blocks = new FailedBlock[partial.BlockCount];
            for (int b = 0; b < blocks.Length; b++)
            {
                if (partial.Source(b) is not PeerSession peer) continue;
                blocks[b] = new FailedBlock(peer, sha.ComputeHash(data.Array!, data.Offset + b * BlockRequest.BlockSize, partial.BlockLength(b)));
            }
            return blocks;
        }

        /// <summary>The peers whose block of the failed attempt differs from the verified piece (outside the lock).</summary>
        public static List<(PeerSession Peer, int Block)> FindLiars(PartialPiece good, FailedBlock[] failed)
        {
            var liars = new List<(PeerSession, int)>();
            var seen = new HashSet<PeerSession>();
            var sha = _sha1 ??= SHA1.Create();
            var data = good.Data;
            for (int b = 0; b < failed.Length && b < good.BlockCount; b++)
            {
                if (failed[b].Peer is not PeerSession peer || failed[b].Hash is not byte[] hash || seen.Contains(peer)) continue;
                var goodHash = sha.ComputeHash(data.Array!, data.Offset + b * BlockRequest.BlockSize, good.BlockLength(b));
                if (!goodHash.AsSpan().SequenceEqual(hash)) { liars.Add((peer, b)); seen.Add(peer); }
            }
            return liars;
        }

        /// <summary>Hook: a piece failed its hash check. <paramref name="evidence"/> is its blocks' hashes (from
        /// <see cref="HashBlocks"/>) when several peers sent it. Returns how many peers sent it.</summary>
        public int OnPieceFailed(PartialPiece partial, FailedBlock[]? evidence)
        {
            _ctx.Lock.AssertHeld();
            var sources = partial.Contributors.OfType<PeerSession>().ToList();
            if (sources.Count == 1)
            {
                _ctx.Publish(EngineEventKind.HashFailed, EventSeverity.Warning, $"Piece {partial.Index} failed its hash check; it will be downloaded again.", piece: partial.Index, count: 1);
                Ban(sources[0], $"it sent piece {partial.Index} alone, and it failed the hash check");
            }
            else
            {
                _ctx.Publish(EngineEventKind.HashFailed, EventSeverity.Warning, $"Piece {partial.Index} failed its hash check; it came from {sources.Count} peers, so it is fetched again from one peer alone.", piece: partial.Index, count: sources.Count);
                // The first failure's blocks are the evidence.
                if (evidence is not null && !_failedBlocks.ContainsKey(partial.Index))
                {
                    while (_failedBlocks.Count >= MaxRememberedFailures && _failedOrder.Count > 0) _failedBlocks.Remove(_failedOrder.Dequeue());
                    _failedBlocks[partial.Index] = evidence;
                    _failedOrder.Enqueue(partial.Index);
                }
            }
            return sources.Count;
        }

        /// <summary>The evidence kept for a piece that failed before, taken (null: none).</summary>
        public FailedBlock[]? TakeEvidence(int piece)
        {
            _ctx.Lock.AssertHeld();
            if (!_failedBlocks.TryGetValue(piece, out var blocks)) return null;
            _failedBlocks.Remove(piece);
            return blocks;
        }

        /// <summary>Hook: a piece that failed before passed; <paramref name="liars"/> from <see cref="FindLiars"/>.</summary>
        public void OnPiecePassed(int piece, List<(PeerSession Peer, int Block)> liars)
        {
            _ctx.Lock.AssertHeld();
            foreach (var (liar, block) in liars)
                Ban(liar, $"block {block} of piece {piece} it sent differs from the verified piece", PeerCloseReason.SmartBanned);
        }

        /// <summary>Bans a peer: it is disconnected, never dialled again, and every block it sent to a piece still in
        /// flight is dropped. <paramref name="reason"/> says how it was caught: <see cref="PeerCloseReason.Banned"/> (it sent a failed
        /// piece alone) or <see cref="PeerCloseReason.SmartBanned"/> (its block differed from the verified piece).</summary>
        public void Ban(PeerSession s, string why, PeerCloseReason reason = PeerCloseReason.Banned)
        {
            _ctx.Lock.AssertHeld();
            if (s.Banned) return;
            _ctx.Publish(EngineEventKind.PeerBanned, EventSeverity.Warning, $"Banning {s}: {why}.", s, reason);
            _ctx.Candidates.Ban(s.EndPoint);
            int dropped = _ctx.Picker.ReleasePeer(s, discardItsBlocks: true);
            if (dropped > 0) _ctx.Publish(EngineEventKind.BlocksDiscarded, EventSeverity.Verbose, $"Dropped {dropped} block(s) from {s} in pieces still downloading.", s, count: dropped);
            s.Ban(_ctx.Options.BanAfterHashFailures, why);
        }
    }
}
