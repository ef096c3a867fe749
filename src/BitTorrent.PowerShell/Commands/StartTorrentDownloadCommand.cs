using System;
using System.Linq;
using System.Management.Automation;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Downloads torrents from their swarms into a folder. Blocks until done (like Start-BitsTransfer) with
    /// progress, or returns a job with -AsJob. While downloading it also uploads to peers (tit-for-tat), and with
    /// -SeedTime/-SeedRatio keeps seeding after completion.</summary>
    [Cmdlet(VerbsLifecycle.Start, "TorrentDownload", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
    [OutputType(typeof(DownloadResult))]
    [OutputType(typeof(TorrentJob))]
    public sealed class StartTorrentDownloadCommand : SwarmCmdlet
    {
        /// <summary>The folder the torrents' content goes into (default: the current location).</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string DestinationPath { get; set; } = string.Empty;

        /// <summary>Only files whose path inside the torrent matches one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TorrentFileCompleter))]
        public string[] Include { get; set; } = Array.Empty<string>();

        /// <summary>Skip files whose path inside the torrent matches one of these wildcard patterns.</summary>
        [Parameter]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(TorrentFileCompleter))]
        public string[] Exclude { get; set; } = Array.Empty<string>();

        /// <summary>Give up with NoPeersAvailable when no peer sends data for this many seconds.</summary>
        [Parameter]
        [ValidateRange(1, 86400)]
        public int TimeoutSec { get; set; } = 60;

        /// <summary>Keep seeding this long after the download completes.</summary>
        [Parameter]
        public TimeSpan SeedTime { get; set; }

        /// <summary>Keep seeding after completion until uploaded bytes reach this multiple of the size.</summary>
        [Parameter]
        [ValidateRange(0.0, 1000.0)]
        public double SeedRatio { get; set; }

        protected override string JobName => "TorrentDownload";

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            DestinationPath = ResolveFolder(DestinationPath, Errors.DestinationInvalidId);
        }

        protected override void Queue(TorrentInfo torrent)
        {
            bool[]? selected = SelectFiles(torrent);
            if (selected is not null && !selected.Any(s => s))
            {
                WriteWarning($"No file of '{torrent.Name}' matches -Include/-Exclude; nothing to download.");
                return;
            }
            if (!ShouldProcess(DestinationPath, $"Download '{torrent.Name}' ({Units.FormatBytes(torrent.TotalSize)})")) return;
            var options = BaseOptions() with
            {
                SelectedFiles = selected,
                NoPeersTimeout = TimeSpan.FromSeconds(TimeoutSec),
                SeedTime = MyInvocation.BoundParameters.ContainsKey(nameof(SeedTime)) ? SeedTime : (TimeSpan?)null,
                SeedRatio = MyInvocation.BoundParameters.ContainsKey(nameof(SeedRatio)) ? SeedRatio : (double?)null,
            };
            if (!Swarm.Add(torrent, DestinationPath, options))
                WriteWarning($"'{torrent.Name}' ({torrent.InfoHash}) is already in this batch for '{DestinationPath}'; it is taken once.");
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
