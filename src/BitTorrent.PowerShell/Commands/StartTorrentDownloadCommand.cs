using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Threading;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;
using BitTorrent.Wire;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Downloads torrents from their swarms into a folder. Blocks until done (like Start-BitsTransfer) with
    /// progress, or returns a job with -AsJob.</summary>
    [Cmdlet(VerbsLifecycle.Start, "TorrentDownload", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
    [OutputType(typeof(DownloadResult))]
    [OutputType(typeof(TorrentJob))]
    public sealed class StartTorrentDownloadCommand : TorrentPathCmdlet
    {
        private const string TorrentSet = "Torrent";
        private readonly DownloadBatch _batch = new DownloadBatch();
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private List<IPEndPoint>? _peers;

        /// <summary>Torrents from Get-TorrentInfo.</summary>
        [Parameter(Mandatory = true, ParameterSetName = TorrentSet, ValueFromPipeline = true)]
        [ValidateNotNull]
        public TorrentInfo[] Torrent { get; set; } = Array.Empty<TorrentInfo>();

        /// <summary>The folder the torrents' content goes into (default: the current location).</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string DestinationPath { get; set; } = string.Empty;

        /// <summary>Peers to connect to directly, as "ip:port" or "[ipv6]:port".</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Peer { get; set; } = Array.Empty<string>();

        /// <summary>Only files whose path inside the torrent matches one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Include { get; set; } = Array.Empty<string>();

        /// <summary>Skip files whose path inside the torrent matches one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Exclude { get; set; } = Array.Empty<string>();

        /// <summary>Tracker URLs (http, https, udp) to use instead of the torrents' own.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[] Tracker { get; set; } = Array.Empty<string>();

        /// <summary>Do not ask the torrents' trackers for peers (use -Peer only).</summary>
        [Parameter]
        public SwitchParameter NoTracker { get; set; }

        /// <summary>Give up with NoPeersAvailable when no peer sends data for this many seconds.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 60;

        /// <summary>Most torrents downloading at the same time.</summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 3;

        /// <summary>Most peers connected per torrent.</summary>
        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxPeers { get; set; } = 50;

        /// <summary>Return a job at once and download in the background.</summary>
        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected override void BeginProcessing()
        {
            _peers = new List<IPEndPoint>();
            foreach (var text in Peer)
            {
                if (PeerAddress.TryParse(text, out var address) && address.Address is not null)
                {
                    _peers.Add(new IPEndPoint(address.Address, address.Port));
                    continue;
                }
                ThrowTerminatingError(new ErrorRecord(new ArgumentException($"'{text}' is not a peer address (expected ip:port or [ipv6]:port)."),
                    Errors.InvalidPeerAddressId, ErrorCategory.InvalidArgument, text));
            }
            string destination = string.IsNullOrEmpty(DestinationPath) ? SessionState.Path.CurrentFileSystemLocation.ProviderPath
                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(DestinationPath);
            if (File.Exists(destination))
                ThrowTerminatingError(new ErrorRecord(new IOException($"The destination '{destination}' is a file, not a folder."),
                    Errors.DestinationInvalidId, ErrorCategory.InvalidArgument, destination));
            DestinationPath = destination;
            _batch.ThrottleLimit = ThrottleLimit;
        }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == TorrentSet)
            {
                foreach (var t in Torrent) Queue(t);
                return;
            }
            foreach (var path in ResolveInputPaths())
            {
                var t = ReadTorrent(path);
                if (t is not null) Queue(t);
            }
        }

        protected override void EndProcessing()
        {
            if (_batch.Count == 0) return;
            if (AsJob)
            {
                var job = new TorrentJob(MyInvocation.Line, "TorrentDownload", (sink, token) => _batch.Run(sink, token));
                JobRepository.Add(job);
                job.Start();
                WriteObject(job);
                return;
            }
            _batch.Run(new CmdletSink(this), _cancel.Token);
        }

        protected override void StopProcessing() => _cancel.Cancel();

        private void Queue(TorrentInfo torrent)
        {
            bool[]? selected = SelectFiles(torrent);
            if (selected is not null && !selected.Any(s => s))
            {
                WriteWarning($"No file of '{torrent.Name}' matches -Include/-Exclude; nothing to download.");
                return;
            }
            if (!ShouldProcess(DestinationPath, $"Download '{torrent.Name}' ({Units.FormatBytes(torrent.TotalSize)})")) return;
            var options = new DownloadOptions
            {
                Peers = _peers!,
                UseTrackers = !NoTracker,
                TrackerOverride = Tracker.Length > 0 ? Tracker : null,
                SelectedFiles = selected,
                NoPeersTimeout = TimeSpan.FromSeconds(TimeoutSec),
                MaxConnections = MaxPeers,
            };
            _batch.Add(torrent, DestinationPath, options);
        }

        /// <summary>-Include/-Exclude against each file's path inside the torrent ('/'-separated, as displayed).</summary>
        private bool[]? SelectFiles(TorrentInfo torrent)
        {
            if (Include.Length == 0 && Exclude.Length == 0) return null;
            var include = Include.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
            var exclude = Exclude.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
            var selected = new bool[torrent.Files.Count];
            foreach (var f in torrent.Files)
            {
                bool inc = include.Length == 0 || include.Any(p => p.IsMatch(f.Path));
                bool exc = exclude.Any(p => p.IsMatch(f.Path));
                selected[f.Index] = inc && !exc;
            }
            return selected;
        }
    }
}
