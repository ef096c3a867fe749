using System;
using System.Collections.Generic;
using BitTorrent.Metainfo;

namespace BitTorrent.Hashing
{
    /// <summary>The outcome of checking a torrent's data on disk piece by piece.</summary>
    public sealed class VerificationResult
    {
        internal VerificationResult() { }

        public string Name { get; internal set; } = string.Empty;
        public string InfoHash { get; internal set; } = string.Empty;

        /// <summary>The .torrent file the torrent came from, when known.</summary>
        public string? TorrentPath { get; internal set; }

        /// <summary>The data path as interpreted: the folder holding the torrent's content, or the data file itself.</summary>
        public string DataPath { get; internal set; } = string.Empty;

        /// <summary>True when every piece is valid and every file is there with exactly the torrent's size.</summary>
        public bool IsComplete { get; internal set; }

        public int PieceCount { get; internal set; }
        public int PieceLength { get; internal set; }
        public int CheckedPieces { get; internal set; }
        public int ValidPieces { get; internal set; }
        public int CorruptPieces { get; internal set; }
        public int MissingPieces { get; internal set; }

        /// <summary>Bytes in valid pieces.</summary>
        public long BytesValid { get; internal set; }

        public long TotalSize { get; internal set; }

        /// <summary>Pieces whose data was read in full but does not match the torrent, ascending.</summary>
        public IReadOnlyList<int> CorruptPieceIndexes { get; internal set; } = Array.Empty<int>();

        /// <summary>Pieces that could not be read in full, ascending.</summary>
        public IReadOnlyList<int> MissingPieceIndexes { get; internal set; } = Array.Empty<int>();

        /// <summary>Every file (padding files left out), in torrent order.</summary>
        public IReadOnlyList<FileVerification> Files { get; internal set; } = Array.Empty<FileVerification>();

        /// <summary>The state of every piece (and the bitfield of valid pieces, for resuming a download).</summary>
        public PieceStateMap Pieces { get; internal set; } = new PieceStateMap(0);

        public TimeSpan Duration { get; internal set; }

        public TorrentInfo? Torrent { get; internal set; }

        public override string ToString() =>
            $"{Name}: {(IsComplete ? "complete" : "incomplete")}, {ValidPieces}/{PieceCount} pieces valid";
    }
}
