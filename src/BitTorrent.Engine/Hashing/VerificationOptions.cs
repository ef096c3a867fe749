using System.Collections.Generic;

namespace BitTorrent.Hashing
{
    /// <summary>How <see cref="PieceVerifier"/> checks a torrent's data.</summary>
    public sealed class VerificationOptions
    {
        /// <summary>Hashing threads; 0 means one per processor.</summary>
        public int ThreadCount { get; set; }

        /// <summary>Read files through symbolic links (and junctions) below the data folder. Off by default: such a
        /// file counts as missing.</summary>
        public bool FollowSymbolicLinks { get; set; }

        /// <summary>The pieces to check; null checks them all. Others are reported <see cref="PieceState.NotChecked"/>.</summary>
        public IEnumerable<int>? Pieces { get; set; }
    }
}
