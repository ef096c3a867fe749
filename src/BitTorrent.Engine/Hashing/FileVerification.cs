namespace BitTorrent.Hashing
{
    /// <summary>The verification of one file of a torrent (padding files are not listed).</summary>
    public sealed class FileVerification
    {
        internal FileVerification() { }

        /// <summary>Position in the torrent's file list.</summary>
        public int Index { get; internal set; }

        /// <summary>The path as the torrent gives it ('/'-separated; for display).</summary>
        public string Path { get; internal set; } = string.Empty;

        /// <summary>Where the file was looked for.</summary>
        public string FullPath { get; internal set; } = string.Empty;

        public FileStatus Status { get; internal set; }

        /// <summary>The size the torrent gives.</summary>
        public long Length { get; internal set; }

        /// <summary>The size on disk, or null when the file is missing.</summary>
        public long? ActualLength { get; internal set; }

        /// <summary>Pieces holding bytes of this file (0 for an empty file).</summary>
        public int PieceCount { get; internal set; }

        /// <summary>Of those, the valid ones.</summary>
        public int ValidPieces { get; internal set; }

        /// <summary>Bytes of this file that lie in valid pieces.</summary>
        public long BytesValid { get; internal set; }

        /// <summary>What went wrong reading it (not found, denied, shorter than expected, I/O error), or null.</summary>
        public string? Problem { get; internal set; }

        public override string ToString() => $"{Status} {Path}";
    }
}
