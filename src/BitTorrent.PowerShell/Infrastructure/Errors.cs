using System;
using System.IO;
using System.Management.Automation;
using BitTorrent.Metainfo;

namespace BitTorrent.PowerShell.Infrastructure
{
    /// <summary>Error ids are part of the module's contract: scripts and tests match on FullyQualifiedErrorId, so they
    /// live here, once.</summary>
    internal static class Errors
    {
        public const string TorrentFileNotFoundId = "TorrentFileNotFound";
        public const string InvalidTorrentFileId = "InvalidTorrentFile";
        public const string TorrentFileReadFailedId = "TorrentFileReadFailed";
        public const string NotFileSystemPathId = "NotFileSystemPath";
        public const string InvalidPathId = "InvalidPath";
        public const string InvalidBencodeId = "InvalidBencode";
        public const string UnsupportedBencodeValueId = "UnsupportedBencodeValue";
        public const string DownloadFailedId = "DownloadFailed";
        public const string InvalidPeerAddressId = "InvalidPeerAddress";
        public const string DestinationInvalidId = "DestinationInvalid";

        public static ErrorRecord FileNotFound(string path, bool isDirectory) => new ErrorRecord(
            isDirectory
                ? new FileNotFoundException($"'{path}' is a folder, not a .torrent file.", path)
                : new FileNotFoundException($"Cannot find the file '{path}'.", path),
            TorrentFileNotFoundId, ErrorCategory.ObjectNotFound, path);

        public static ErrorRecord InvalidTorrent(TorrentFormatException ex, string path)
        {
            var record = new ErrorRecord(ex, InvalidTorrentFileId, ErrorCategory.InvalidData, path);
            record.ErrorDetails = new ErrorDetails($"'{path}' is not a usable torrent ({ex.Error}): {ex.Message}")
            {
                RecommendedAction = "Check that the file is a complete .torrent file; download it again if it was truncated.",
            };
            return record;
        }
    }
}
