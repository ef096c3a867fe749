using System;
using BitTorrent.Bencoding;

namespace BitTorrent.Metainfo
{
    /// <summary>What is wrong with a .torrent file. Stable names: tests and error records key on them.</summary>
    public enum TorrentError
    {
        FileTooLarge,
        InvalidBencoding,
        NotADictionary,
        MissingInfo,
        MissingName,
        MissingPieceLength,
        InvalidPieceLength,
        MissingPieces,
        InvalidPiecesLength,
        PieceCountMismatch,
        TooManyPieces,
        InvalidFileList,
        InvalidFileLength,
        InvalidFilePath,
        TooManyFiles,
        PathTooDeep,
        TotalSizeOverflow,
        NoData,
        UnsupportedVersion,
        /// <summary>Metadata (an info dictionary from peers) that does not hash to the info-hash it was fetched for.</summary>
        InfoHashMismatch,
    }

    /// <summary>A .torrent file that cannot be used, with the reason as an enum and in words.</summary>
    public sealed class TorrentFormatException : FormatException
    {
        public TorrentFormatException(TorrentError error, string message, Exception? inner = null)
            : base(message, inner)
        {
            Error = error;
        }

        public TorrentError Error { get; }

        /// <summary>The bencode error underneath, when the file is not valid bencode.</summary>
        public BencodeError? BencodeError => (InnerException as BencodeException)?.Error;
    }
}
