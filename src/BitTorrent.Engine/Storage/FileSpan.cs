namespace BitTorrent.Storage
{
    /// <summary>A run of bytes of the torrent's byte stream that lies in one file: where it is in the torrent and
    /// where it is in that file.</summary>
    public readonly struct FileSpan
    {
        public FileSpan(int fileIndex, long fileOffset, long torrentOffset, int length, bool isPadding)
        {
            FileIndex = fileIndex;
            FileOffset = fileOffset;
            TorrentOffset = torrentOffset;
            Length = length;
            IsPadding = isPadding;
        }

        /// <summary>Index of the file in the torrent's file list.</summary>
        public int FileIndex { get; }

        /// <summary>Offset of the span's first byte inside the file.</summary>
        public long FileOffset { get; }

        /// <summary>Offset of the span's first byte in the torrent's concatenated byte stream.</summary>
        public long TorrentOffset { get; }

        public int Length { get; }

        /// <summary>The span lies in a BEP 47 padding file: its bytes are zeros and are never on disk.</summary>
        public bool IsPadding { get; }

        public override string ToString() => $"file {FileIndex} @{FileOffset} +{Length}{(IsPadding ? " (padding)" : string.Empty)}";
    }
}
