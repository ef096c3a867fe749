using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Hashing;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.Storage;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Checks a torrent's data on disk piece by piece: the engine's <see cref="PieceVerifier"/> (the same check
    /// the downloader resumes with) reads and hashes on every core; this resolves the torrents and the data path,
    /// shows progress and emits one <see cref="VerificationResult"/> (or, with -Quiet, one Boolean) per torrent.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "Torrent", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(VerificationResult), typeof(bool))]
    public sealed class TestTorrentCommand : TorrentPathCmdlet, IDisposable
    {
        private const string TorrentSet = "Torrent";
        private const int ProgressActivityId = 4;

        /// <summary>Torrents as Get-TorrentInfo or New-Torrent emit them, by value or by property name.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TorrentSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("InputObject")]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>The folder that contains the torrent's file or folder (a download destination); a single-file
        /// torrent's data file itself is accepted too. Default: the current folder.</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? DataPath { get; set; }

        /// <summary>Emit only True (complete) or False per torrent.</summary>
        [Parameter]
        public SwitchParameter Quiet { get; set; }

        /// <summary>Read files through symbolic links and junctions below the data path.</summary>
        [Parameter]
        public SwitchParameter FollowSymlink { get; set; }

        /// <summary>Hashing threads (default: one per processor).</summary>
        [Parameter]
        [ValidateRange(1, 256)]
        public int ThrottleLimit { get; set; }

        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private string _dataPath = string.Empty;

        protected override void BeginProcessing()
        {
            if (DataPath is null)
            {
                _dataPath = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
                return;
            }
            try
            {
                _dataPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(DataPath, out var provider, out _);
                if (provider.ImplementingType != typeof(Microsoft.PowerShell.Commands.FileSystemProvider))
                    ThrowTerminatingError(new ErrorRecord(
                        new ArgumentException($"The data path '{DataPath}' is on the {provider.Name} provider; only file-system paths are supported."),
                        Errors.NotFileSystemPathId, ErrorCategory.InvalidArgument, DataPath));
            }
            catch (Exception ex) when (ex is ProviderNotFoundException || ex is System.Management.Automation.DriveNotFoundException || ex is NotSupportedException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, Errors.InvalidPathId, ErrorCategory.InvalidArgument, DataPath));
            }
        }

        protected override void ProcessRecord()
        {
            IEnumerable<TorrentInfo?> torrents = ParameterSetName == TorrentSet ? Torrent : ReadTorrents();
            foreach (var torrent in torrents)
            {
                if (_cancel.IsCancellationRequested) return;
                if (torrent is not null) Verify(torrent);
            }
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            _cancel.Cancel();
            GC.SuppressFinalize(this);
        }

        private IEnumerable<TorrentInfo?> ReadTorrents()
        {
            foreach (var source in ResolveInputs())
                yield return source.Magnet is null ? ReadTorrent(source.Path!) : KeptMetadata(source.Magnet);
        }

        /// <summary>A magnet link names data whose metadata a download from the link kept in the data folder
        /// (.bittorrent/&lt;info-hash&gt;.torrent); Test-Torrent reads only that, it never asks the swarm.</summary>
        private TorrentInfo? KeptMetadata(MagnetUri magnet)
        {
            string folder = File.Exists(_dataPath) ? System.IO.Path.GetDirectoryName(_dataPath) ?? _dataPath : _dataPath;
            var kept = MetadataCache.TryLoad(folder, magnet.InfoHash!, magnet.Name);
            if (kept is null)
            {
                var record = new ErrorRecord(
                    new FileNotFoundException($"No metadata of {magnet.InfoHash} is kept in '{MetadataCache.GetPath(folder, magnet.InfoHash!)}'.",
                        MetadataCache.GetPath(folder, magnet.InfoHash!)),
                    Errors.MetadataNotFoundId, ErrorCategory.ObjectNotFound, magnet);
                record.ErrorDetails = new ErrorDetails(record.Exception.Message)
                {
                    RecommendedAction = "Test-Torrent does not fetch metadata: give -DataPath the folder a download from this link went to, or pipe Get-TorrentInfo <link> into Test-Torrent.",
                };
                WriteError(record);
            }
            return kept;
        }

        private void Verify(TorrentInfo torrent)
        {
            TorrentDataLocation location;
            try
            {
                location = TorrentDataLocation.Resolve(torrent, _dataPath);
            }
            catch (StorageException ex)
            {
                // -Quiet answers the question "is the data intact?": no data at all is a plain no.
                if (Quiet && ex.Error == StorageError.DataPathNotFound) WriteObject(false);
                else WriteError(Errors.DataPathFailed(ex, torrent));
                return;
            }
            WriteVerbose(location.Description);

            var options = new VerificationOptions { ThreadCount = ThrottleLimit, FollowSymbolicLinks = FollowSymlink };
            VerificationResult result;
            try
            {
                result = new HashProgressReporter().Run(this, _cancel.Token,
                    (progress, token) => PieceVerifier.VerifyAsync(torrent, location, options, progress, token),
                    ProgressActivityId, $"Verifying '{torrent.Name}'",
                    i => i < location.FilePaths.Count ? location.FilePaths[i] : null);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(new ErrorRecord(ex, Errors.DataReadFailedId, ErrorCategory.ReadError, location.Root));
                return;
            }

            foreach (var file in result.Files)
                if (file.Problem is not null && file.Status != FileStatus.Complete) WriteVerbose($"{file.Status} '{file.Path}': {file.Problem}");
            double seconds = Math.Max(0.001, result.Duration.TotalSeconds);
            WriteVerbose($"'{torrent.Name}': {result.ValidPieces} of {result.PieceCount} pieces valid, {result.CorruptPieces} corrupt, " +
                $"{result.MissingPieces} missing; {Units.FormatRate(result.CheckedPieces == 0 ? 0 : torrent.TotalSize / seconds)}.");
            if (Quiet) WriteObject(result.IsComplete);
            else WriteObject(result);
        }
    }
}
