using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>What to do with one 'request' a peer sent us.</summary>
    internal enum UploadDecision
    {
        /// <summary>Queue the block for upload.</summary>
        Serve,
        /// <summary>Do not serve it: answer 'reject request' if the peer speaks BEP 6, else drop it silently (BEP 3:
        /// a choked peer's requests are discarded). An honest peer does this now and then (a request that crossed
        /// our choke); the caller counts them and closes a connection that keeps at it.</summary>
        Reject,
        /// <summary>A request no honest peer sends (a range outside the piece, a block over 16 KiB): close.</summary>
        Disconnect,
    }

    /// <summary>The checks a seeder applies to a request before it reads a byte from disk. The wire reader has already
    /// refused piece indexes outside the torrent and lengths of 0 or over 16 KiB (the connection is closed); these
    /// checks repeat the length bound so they stand alone.</summary>
    internal static class UploadRequestPolicy
    {
        /// <param name="pieceLength">Length of the requested piece (the last one may be short).</param>
        /// <param name="havePiece">We have verified the piece.</param>
        /// <param name="peerChoked">We choke the peer.</param>
        /// <param name="allowedFast">The piece is in the allowed-fast set we gave the peer (served while choked).</param>
        /// <param name="queueFull">The peer already has as many requests queued as we accept.</param>
        public static UploadDecision Decide(int pieceLength, int begin, int length, bool havePiece, bool peerChoked,
            bool allowedFast, bool queueFull, out string? reason)
        {
            reason = null;
            if (length <= 0 || length > PeerMessageLimits.StandardBlockLength)
            {
                reason = $"requested a {length}-byte block (blocks are 1 to {PeerMessageLimits.StandardBlockLength} bytes)";
                return UploadDecision.Disconnect;
            }
            if (begin < 0 || (long)begin + length > pieceLength)
            {
                reason = $"requested bytes {begin}..{(long)begin + length} of a {pieceLength}-byte piece";
                return UploadDecision.Disconnect;
            }
            if (!havePiece)
            {
                reason = "requested a piece we do not have";
                return UploadDecision.Reject;
            }
            if (peerChoked && !allowedFast)
            {
                reason = "requested while choked";
                return UploadDecision.Reject;
            }
            if (queueFull)
            {
                reason = "requested more blocks than we queue";
                return UploadDecision.Reject;
            }
            return UploadDecision.Serve;
        }
    }
}
