using System;

namespace BitTorrent.Creation
{
    /// <summary>Piece sizes for new torrents. Auto: the smallest power of two from 16 KiB to 16 MiB that keeps the
    /// torrent at <see cref="TargetMaxPieces"/> pieces or fewer, so mid-sized content gets 1 281–2 560 pieces (about
    /// 25–50 KiB of hashes in the .torrent), as the mature creators aim for; tiny content gets 16 KiB pieces, and over
    /// 40 GiB the piece count grows past 2 560 with 16 MiB pieces.
    /// <code>
    ///  content up to   piece size        content up to   piece size
    ///     40 MiB        16 KiB              1.25 GiB       512 KiB
    ///     80 MiB        32 KiB              2.5 GiB          1 MiB
    ///    160 MiB        64 KiB              5 GiB            2 MiB
    ///    320 MiB       128 KiB             10 GiB            4 MiB
    ///    640 MiB       256 KiB             20 GiB            8 MiB
    ///                                      larger           16 MiB
    /// </code></summary>
    public static class PieceSizeChooser
    {
        public const int MinAutoPieceLength = 16 * 1024;
        public const int MaxAutoPieceLength = 16 * 1024 * 1024;
        public const int TargetMaxPieces = 2560;

        /// <summary>Smallest piece length accepted for a new torrent (the BitTorrent block size).</summary>
        public const int MinPieceLength = 16 * 1024;

        /// <summary>Largest piece length accepted for a new torrent (what the parser accepts).</summary>
        public const int MaxPieceLength = Metainfo.TorrentParser.MaxPieceLength;

        /// <summary>The automatic piece length for <paramref name="totalSize"/> bytes of content.</summary>
        public static int Choose(long totalSize)
        {
            if (totalSize < 0) throw new ArgumentOutOfRangeException(nameof(totalSize));
            int piece = MinAutoPieceLength;
            while (piece < MaxAutoPieceLength && totalSize > (long)piece * TargetMaxPieces) piece *= 2;
            return piece;
        }

        /// <summary>True for a power of two from <see cref="MinPieceLength"/> to <see cref="MaxPieceLength"/>.</summary>
        public static bool IsValid(long pieceLength) =>
            pieceLength >= MinPieceLength && pieceLength <= MaxPieceLength && (pieceLength & (pieceLength - 1)) == 0;
    }
}
