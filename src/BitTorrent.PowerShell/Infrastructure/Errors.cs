using System;
using System.IO;
using System.Management.Automation;
using BitTorrent.Creation;
using BitTorrent.Download;
using BitTorrent.Events;
using BitTorrent.Bencoding;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Trackers;
using BitTorrent.Wire;

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
        public const string UnsupportedBencodeInputId = "UnsupportedBencodeInput";
        public const string DownloadFailedId = "DownloadFailed";
        public const string ListenFailedId = "ListenFailed";
        public const string SeedDataIncompleteId = "SeedDataIncomplete";
        public const string DestinationInvalidId = "DestinationInvalid";
        public const string NoPeersAvailableId = "NoPeersAvailable";
        public const string DestinationWriteFailedId = "DestinationWriteFailed";
        public const string EngineErrorId = "EngineError";

        // Outgoing connections: bind address and proxy.
        public const string InvalidBindAddressId = "InvalidBindAddress";
        public const string InvalidProxyId = "InvalidProxy";
        public const string ProxyConnectFailedId = "ProxyConnectFailed";
        public const string ProxyAuthenticationFailedId = "ProxyAuthenticationFailed";

        // Managing torrent jobs (Suspend-TorrentJob, Resume-TorrentJob).
        public const string NotATorrentJobId = "NotATorrentJob";
        public const string TorrentJobNotFoundId = "TorrentJobNotFound";
        public const string TorrentJobStateInvalidId = "TorrentJobStateInvalid";
        public const string TorrentJobTimeoutId = "TorrentJobTimeout";

        // Trackers (Get-TorrentPeer, Get-TorrentTracker)
        public const string NoTrackersId = "NoTrackers";
        public const string InvalidTrackerUrlId = "InvalidTrackerUrl";
        public const string TrackerAnnounceFailedId = "TrackerAnnounceFailed";
        public const string TrackerTimeoutId = "TrackerTimeout";

        // Peer wire protocol (Invoke-PeerHandshake and, later, the download engine).
        public const string InvalidInfoHashId = "InvalidInfoHash";

        // Magnet links and their metadata.
        public const string InvalidMagnetUriId = "InvalidMagnetUri";
        public const string MetadataNotFoundId = "MetadataNotFound";
        public const string InvalidPeerAddressId = "InvalidPeerAddress";
        public const string PeerConnectionRefusedId = "PeerConnectionRefused";
        public const string PeerUnreachableId = "PeerUnreachable";
        public const string PeerTimeoutId = "PeerTimeout";
        public const string HandshakeRejectedId = "HandshakeRejected";
        public const string HandshakeInfoHashMismatchId = "HandshakeInfoHashMismatch";
        public const string ProtocolViolationId = "ProtocolViolation";
        public const string PeerHandshakeFailedId = "PeerHandshakeFailed";

        // Creating torrents (New-Torrent).
        public const string TorrentSourceNotFoundId = "TorrentSourceNotFound";
        public const string TorrentSourceEmptyId = "TorrentSourceEmpty";
        public const string TorrentSourceTooLargeId = "TorrentSourceTooLarge";
        public const string TorrentSourceUnreadableId = "TorrentSourceUnreadable";
        public const string TorrentSourceChangedId = "TorrentSourceChanged";
        public const string InvalidPieceSizeId = "InvalidPieceSize";
        public const string InvalidWebSeedUrlId = "InvalidWebSeedUrl";
        public const string TorrentTooLargeId = "TorrentTooLarge";
        public const string OutFileExistsId = "OutFileExists";
        public const string OutFileConflictId = "OutFileConflict";
        public const string OutFileWriteFailedId = "OutFileWriteFailed";

        // Verifying data (Test-Torrent).
        public const string DataPathNotFoundId = "DataPathNotFound";
        public const string DataPathIsFileId = "DataPathIsFile";
        public const string PathOutsideDataFolderId = "PathOutsideDataFolder";
        public const string DataReadFailedId = "DataReadFailed";

        /// <summary>A torrent that could not be created, with an id per reason.</summary>
        public static ErrorRecord CreationFailed(TorrentCreationException ex, string source)
        {
            var (id, category, action) = ex.Error switch
            {
                TorrentCreationError.SourceNotFound => (TorrentSourceNotFoundId, ErrorCategory.ObjectNotFound,
                    "Check the path; a symbolic link given as the source must lead to an existing file or folder."),
                TorrentCreationError.NoFiles => (TorrentSourceEmptyId, ErrorCategory.InvalidData,
                    "A torrent needs at least one non-empty file; hidden files count unless -ExcludeHidden is given."),
                TorrentCreationError.TooManyFiles => (TorrentSourceTooLargeId, ErrorCategory.LimitsExceeded,
                    "Split the content into several torrents."),
                TorrentCreationError.SourceUnreadable => (TorrentSourceUnreadableId, ErrorCategory.ReadError,
                    "Check the permissions of the folder."),
                TorrentCreationError.SourceChanged => (TorrentSourceChangedId, ErrorCategory.ReadError,
                    "A file changed while it was hashed; run the command again once nothing writes to the files."),
                TorrentCreationError.InvalidPieceLength => (InvalidPieceSizeId, ErrorCategory.InvalidArgument,
                    "Use -PieceSize Auto, or a power of two from 16 KiB to 256 MiB that gives at most 2 097 152 pieces."),
                TorrentCreationError.InvalidUrl => (InvalidTrackerUrlId, ErrorCategory.InvalidArgument,
                    "Give absolute URLs with a host."),
                _ => (TorrentTooLargeId, ErrorCategory.LimitsExceeded,
                    "Use a larger -PieceSize: the piece hashes make up most of a .torrent file."),
            };
            var record = new ErrorRecord(ex, id, category, source);
            record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = action };
            return record;
        }

        /// <summary>A torrent that failed for a reason the user must act on (or for no known reason: DownloadFailed).
        /// <paramref name="verb"/> is "Downloading" or "Seeding"; the target is the torrent, or the folder when the
        /// folder is what must change.</summary>
        public static ErrorRecord TorrentFailed(DownloadError? error, Exception? exception, string message, string name, object? torrent, string? destination, string verb)
        {
            var (id, category, action) = error switch
            {
                DownloadError.NoPeersAvailable => (NoPeersAvailableId, ErrorCategory.ResourceUnavailable,
                    "Check that the trackers or -Peer addresses are reachable and have this torrent; a larger -TimeoutSec waits longer."),
                DownloadError.DestinationWriteFailed => (DestinationWriteFailedId, ErrorCategory.WriteError,
                    "Free space in the destination, or fix its permissions; run the command again to resume."),
                DownloadError.DestinationInvalid => (DestinationInvalidId, ErrorCategory.InvalidArgument,
                    "Give a folder that exists or can be created (not a file)."),
                DownloadError.SeedDataIncomplete => (SeedDataIncompleteId, ErrorCategory.InvalidData,
                    "Give -DataPath the folder that holds the torrent's complete data (check it with Test-Torrent)."),
                DownloadError.ProxyConnectFailed => (ProxyConnectFailedId, ErrorCategory.ConnectionError,
                    "Check that the -Proxy is running and allows tunnels to the peers' ports. Peers are never dialled around it."),
                DownloadError.ProxyAuthenticationFailed => (ProxyAuthenticationFailedId, ErrorCategory.AuthenticationError,
                    "Give the proxy's user name and password as -ProxyCredential."),
                _ => (DownloadFailedId, ErrorCategory.NotSpecified, (string?)null),
            };
            object? target = (error == DownloadError.DestinationWriteFailed || error == DownloadError.DestinationInvalid) && destination is not null
                ? destination
                : torrent;
            var record = new ErrorRecord(
                exception ?? (error is null ? new InvalidOperationException(message) : new DownloadException(error.Value, message)), id, category, target);
            record.ErrorDetails = new ErrorDetails($"{verb} '{name}' failed: {message}");
            if (action is not null) record.ErrorDetails.RecommendedAction = action;
            return record;
        }

        /// <summary>The session could not listen for peers (the port is taken, or the address is not this machine's).</summary>
        public static ErrorRecord ListenFailed(System.Net.Sockets.SocketException ex, System.Net.IPAddress? address, int port) =>
            new ErrorRecord(ex, ListenFailedId, ErrorCategory.ResourceUnavailable, $"{address}:{port}")
            {
                ErrorDetails = new ErrorDetails($"Cannot listen for peers on port {port}: {ex.Message}")
                {
                    RecommendedAction = "Give another -Port (0 picks a free one) or a -ListenAddress of this machine.",
                },
            };

        /// <summary>An engine event of Error severity that no cmdlet handled itself (its torrent is named by info-hash).</summary>
        public static ErrorRecord EngineError(EngineEvent e)
        {
            if (e.Kind == EngineEventKind.TorrentFailed)
                return TorrentFailed(e.Error, e.Exception, e.Message, e.TorrentName ?? e.InfoHash ?? "torrent", e.InfoHash, null, "Running");
            return new ErrorRecord(e.Exception ?? new InvalidOperationException(e.Message), EngineErrorId, ErrorCategory.NotSpecified, e.InfoHash)
            {
                ErrorDetails = new ErrorDetails(e.ToString()),
            };
        }

        /// <summary>A data path that cannot be used for a torrent.</summary>
        public static ErrorRecord DataPathFailed(StorageException ex, TorrentInfo torrent)
        {
            var (id, category, action) = ex.Error switch
            {
                StorageError.DataPathNotFound => (DataPathNotFoundId, ErrorCategory.ObjectNotFound,
                    "Give the folder that contains the torrent's file or folder (where the download was saved)."),
                StorageError.DataPathIsFile => (DataPathIsFileId, ErrorCategory.InvalidArgument,
                    "A multi-file torrent needs the folder that contains its own folder, not a file."),
                _ => (PathOutsideDataFolderId, ErrorCategory.SecurityError,
                    "The torrent names a path outside the data folder; it is not read."),
            };
            var record = new ErrorRecord(ex, id, category, ex.Path);
            record.ErrorDetails = new ErrorDetails($"'{torrent.Name}': {ex.Message}") { RecommendedAction = action };
            return record;
        }

        /// <summary>A .torrent file would be overwritten without -Force (New-Torrent, Save-TorrentFile).</summary>
        public static ErrorRecord OutFileExists(string outFile)
        {
            var record = new ErrorRecord(new IOException($"The file '{outFile}' already exists."), OutFileExistsId,
                ErrorCategory.ResourceExists, outFile);
            record.ErrorDetails = new ErrorDetails(record.Exception.Message) { RecommendedAction = "Use -Force to overwrite it, or choose another -OutFile." };
            return record;
        }

        public static ErrorRecord FileNotFound(string path, bool isDirectory) => new ErrorRecord(
            isDirectory
                ? new FileNotFoundException($"'{path}' is a folder, not a file.", path)
                : new FileNotFoundException($"Cannot find the file '{path}'.", path),
            TorrentFileNotFoundId, ErrorCategory.ObjectNotFound, path);

        /// <summary>One peer's failure, as a non-terminating error whose id says what happened.</summary>
        /// <summary>A proxy that failed us while dialling a peer (Invoke-PeerHandshake): ProxyAuthenticationFailed or
        /// ProxyConnectFailed, the peer as the target. The peer was not dialled around it.</summary>
        public static ErrorRecord ProxyFailed(BitTorrent.Connections.ProxyException ex, string peer)
        {
            bool auth = ex.Error == BitTorrent.Connections.ProxyError.ProxyAuthenticationFailed;
            var record = new ErrorRecord(ex, auth ? ProxyAuthenticationFailedId : ProxyConnectFailedId,
                auth ? ErrorCategory.AuthenticationError : ErrorCategory.ConnectionError, peer);
            record.ErrorDetails = new ErrorDetails($"{peer}: {ex.Message}")
            {
                RecommendedAction = auth ? "Give the proxy's user name and password as -ProxyCredential."
                    : "Check that the -Proxy is running and allows tunnels to the peers' ports. Peers are never dialled around it.",
            };
            return record;
        }

        public static ErrorRecord PeerFailed(PeerConnectionException ex)
        {
            var (id, category, action) = ex.Failure switch
            {
                PeerFailure.ConnectionRefused => (PeerConnectionRefusedId, ErrorCategory.ConnectionError,
                    "Nothing listens at that address and port: check the port, or whether the client is running."),
                PeerFailure.Unreachable => (PeerUnreachableId, ErrorCategory.ConnectionError,
                    "Check the address (and the name, if one was given) and the network route."),
                PeerFailure.Timeout => (PeerTimeoutId, ErrorCategory.OperationTimeout,
                    "The peer may be overloaded, firewalled or not a BitTorrent client; try a larger -TimeoutSec."),
                PeerFailure.HandshakeRejected => (HandshakeRejectedId, ErrorCategory.ConnectionError,
                    "The peer closed the connection on our handshake: it does not have this torrent (check the info-hash) or refused us."),
                PeerFailure.InfoHashMismatch => (HandshakeInfoHashMismatchId, ErrorCategory.InvalidResult,
                    "The peer serves a different torrent at that address."),
                _ => (ProtocolViolationId, ErrorCategory.ProtocolError,
                    "The peer does not speak the BitTorrent protocol correctly; it cannot be used."),
            };
            var record = new ErrorRecord(ex, id, category, ex.EndPoint);
            record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = action };
            return record;
        }

        /// <summary>Input that is not valid bencode (or is over a decoder limit); the message carries the byte offset.</summary>
        public static ErrorRecord InvalidBencode(BencodeException ex, object target, string? path)
        {
            var record = new ErrorRecord(ex, InvalidBencodeId, ErrorCategory.InvalidData, target);
            string what = path is null ? "The input" : $"'{path}'";
            record.ErrorDetails = new ErrorDetails($"{what} is not valid bencode ({ex.Error}): {ex.Message}")
            {
                RecommendedAction = ex.Error == BencodeError.InputTooLarge || ex.Error == BencodeError.DepthLimitExceeded || ex.Error == BencodeError.TokenLimitExceeded
                    ? "The input is over a safety limit (10 MB, nesting depth 100, 3 000 000 values)."
                    : "Check that the data is complete, unmodified bencode (read files as bytes: Get-Content -AsByteStream -Raw).",
            };
            return record;
        }

        /// <summary>Something ConvertFrom-Bencode cannot read as bencoded data (not bytes, a string or a file).</summary>
        public static ErrorRecord UnsupportedBencodeInput(object? input)
        {
            string type = input is null ? "null" : input.GetType().FullName!;
            var record = new ErrorRecord(
                new ArgumentException($"Cannot read bencode from a value of type {type}; pass a byte[], a string, a file, or use -Path."),
                UnsupportedBencodeInputId, ErrorCategory.InvalidType, input);
            return record;
        }

        /// <summary>A value ConvertTo-Bencode cannot write; the message says where it is in the input object.</summary>
        public static ErrorRecord UnsupportedBencodeValue(BitTorrent.PowerShell.Bencoding.BencodeValueException ex, object? input) =>
            new ErrorRecord(ex, UnsupportedBencodeValueId, ErrorCategory.InvalidType, input);

        public static ErrorRecord InvalidTorrent(TorrentFormatException ex, string path)
        {
            var record = new ErrorRecord(ex, InvalidTorrentFileId, ErrorCategory.InvalidData, path);
            record.ErrorDetails = new ErrorDetails($"'{path}' is not a usable torrent ({ex.Error}): {ex.Message}")
            {
                RecommendedAction = "Check that the file is a complete .torrent file; download it again if it was truncated.",
            };
            return record;
        }

        /// <summary>A magnet link (or info-hash) that cannot be used; the message and the exception's Error say why.</summary>
        public static ErrorRecord InvalidMagnetUri(MagnetUriException ex, string text)
        {
            var record = new ErrorRecord(ex, InvalidMagnetUriId, ErrorCategory.InvalidArgument, text);
            string where = ex.Parameter is null ? "" : $" (parameter '{ex.Parameter}')";
            record.ErrorDetails = new ErrorDetails($"Not a usable magnet link ({ex.Error}){where}: {ex.Message}")
            {
                RecommendedAction = "Give a link of the form magnet:?xt=urn:btih:<40 hex digits or 32 base32 characters>, or the info-hash alone.",
            };
            return record;
        }

        /// <summary>Metadata that hashes to the magnet link's info-hash (so it is the swarm's own) but is not a usable torrent.</summary>
        public static ErrorRecord InvalidFetchedTorrent(TorrentFormatException ex, MagnetUri magnet)
        {
            var record = new ErrorRecord(ex, InvalidTorrentFileId, ErrorCategory.InvalidData, magnet);
            record.ErrorDetails = new ErrorDetails($"The metadata of {magnet.InfoHash} from its peers is not a usable torrent ({ex.Error}): {ex.Message}")
            {
                RecommendedAction = "The metadata matches the info-hash, so the torrent itself is broken: it cannot be downloaded by this client.",
            };
            return record;
        }

        public static ErrorRecord NoTrackers(TorrentInfo torrent) => NoTrackers(TorrentTarget.From(torrent));

        public static ErrorRecord NoTrackers(TorrentTarget torrent)
        {
            string what = torrent.InputObject is MagnetUri ? "magnet link" : "torrent";
            var record = new ErrorRecord(
                new InvalidOperationException($"The {what} '{torrent.Name}' ({torrent.InfoHash}) lists no trackers."),
                NoTrackersId, ErrorCategory.ObjectNotFound, torrent.InputObject);
            record.ErrorDetails = new ErrorDetails(record.Exception.Message)
            {
                RecommendedAction = "Name a tracker with -Tracker (e.g. -Tracker udp://tracker.example:6969/announce).",
            };
            return record;
        }

        public static ErrorRecord InvalidTrackerUrl(TrackerException ex, string url) =>
            new ErrorRecord(ex, InvalidTrackerUrlId, ErrorCategory.InvalidArgument, url);

        /// <summary>A tracker that did not give us peers: TrackerTimeout when it did not answer in time, else
        /// TrackerAnnounceFailed. The target object is the tracker URL; the exception carries the TrackerError.</summary>
        public static ErrorRecord TrackerFailed(TrackerException ex, TorrentInfo torrent) => TrackerFailed(ex, TorrentTarget.From(torrent));

        public static ErrorRecord TrackerFailed(TrackerException ex, TorrentTarget torrent)
        {
            bool timeout = ex.Error == TrackerError.Timeout;
            if (ex.InnerException is BitTorrent.Connections.ProxyException proxy)
            {
                bool auth = proxy.Error == BitTorrent.Connections.ProxyError.ProxyAuthenticationFailed;
                var proxyRecord = new ErrorRecord(ex, auth ? ProxyAuthenticationFailedId : ProxyConnectFailedId,
                    auth ? ErrorCategory.AuthenticationError : ErrorCategory.ConnectionError, ex.TrackerUrl);
                proxyRecord.ErrorDetails = new ErrorDetails($"Tracker '{ex.TrackerUrl}' failed for '{torrent.Name}' ({ex.Error}): {ex.Message}")
                {
                    RecommendedAction = auth ? "Give the proxy's user name and password as -ProxyCredential." : "Check that the -Proxy is running and allows tunnels to the tracker's port.",
                };
                return proxyRecord;
            }
            var record = new ErrorRecord(ex, timeout ? TrackerTimeoutId : TrackerAnnounceFailedId,
                timeout ? ErrorCategory.OperationTimeout : ErrorCategory.ConnectionError, ex.TrackerUrl);
            record.ErrorDetails = new ErrorDetails($"Tracker '{ex.TrackerUrl}' failed for '{torrent.Name}' ({ex.Error}): {ex.Message}")
            {
                RecommendedAction = timeout
                    ? "The tracker may be down or blocked; try a longer -TimeoutSec or another tracker."
                    : "Check the tracker URL; the torrent may not be registered with this tracker.",
            };
            return record;
        }
    }
}
