using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;
using BitTorrent.Storage;

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
            _seedTime = MyInvocation.BoundParameters.ContainsKey(nameof(SeedTime)) ? SeedTime : (TimeSpan?)null;
            _seedRatio = MyInvocation.BoundParameters.ContainsKey(nameof(SeedRatio)) ? SeedRatio : (double?)null;
        }

        private TimeSpan? _seedTime;
        private double? _seedRatio;

        protected override void Queue(TorrentInfo torrent) => Queue(torrent, null);

        /// <summary>A magnet link: the metadata kept in the destination by an earlier run if there is one, else it is
        /// fetched from the swarm (in the command's session), kept, and then downloaded.</summary>
        private protected override void QueueMagnet(MagnetUri magnet)
        {
            var kept = CachedMetadata(DestinationPath, magnet);
            if (kept is not null)
            {
                Queue(kept, magnet);
                return;
            }
            string name = TorrentInput.DisplayName(magnet);
            if (!ShouldProcess(DestinationPath, $"Fetch the metadata of '{name}' ({magnet.InfoHash}) from its peers, keep it in " +
                    $"'{MetadataCache.GetPath(DestinationPath, magnet.InfoHash!)}' and download it"))
                return;
            if (!Swarm.AddMagnet(magnet, DestinationPath, FetchOptions(TimeSpan.FromSeconds(TimeoutSec)), torrent => Prepare(torrent, magnet)))
                WriteWarning($"'{name}' ({magnet.InfoHash}) is already in this batch for '{DestinationPath}'; it is taken once.");
        }

        private void Queue(TorrentInfo torrent, MagnetUri? magnet)
        {
            if (!ShouldProcess(DestinationPath, $"Download '{torrent.Name}' ({Units.FormatBytes(torrent.TotalSize)})")) return;
            var (options, warning) = Prepare(torrent, magnet);
            if (warning is not null) WriteWarning(warning);
            if (options is null) return;
            if (!Swarm.Add(torrent, DestinationPath, options))
                WriteWarning($"'{torrent.Name}' ({torrent.InfoHash}) is already in this batch for '{DestinationPath}'; it is taken once.");
        }

        /// <summary>The torrent's options (any thread: it writes nothing); null and a warning when no file is wanted.</summary>
        private (DownloadOptions? Options, string? Warning) Prepare(TorrentInfo torrent, MagnetUri? magnet)
        {
            bool[]? selected = SelectFiles(torrent, magnet?.SelectedFiles);
            if (selected is not null && !selected.Any(s => s))
                return (null, $"No file of '{torrent.Name}' matches -Include/-Exclude (and the magnet link's so=); nothing to download.");
            var options = BaseOptions() with
            {
                SelectedFiles = selected,
                NoPeersTimeout = TimeSpan.FromSeconds(TimeoutSec),
                SeedTime = _seedTime,
                SeedRatio = _seedRatio,
            };
            return (WithMagnetPeers(options, magnet), null);
        }

        /// <summary>-Include/-Exclude against each file's path inside the torrent ('/'-separated, as displayed), within
        /// the files a magnet link selects (BEP 53 so=, file indices; indices past the last file select nothing).</summary>
        private bool[]? SelectFiles(TorrentInfo torrent, IReadOnlyList<int>? selectOnly)
        {
            if (Include.Length == 0 && Exclude.Length == 0 && selectOnly is null) return null;
            var chosen = selectOnly is null ? null : new HashSet<int>(selectOnly);
            var include = Include.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
            var exclude = Exclude.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToArray();
            var selected = new bool[torrent.Files.Count];
            foreach (var f in torrent.Files)
            {
                bool inc = include.Length == 0 || include.Any(p => p.IsMatch(f.Path));
                bool exc = exclude.Any(p => p.IsMatch(f.Path));
                selected[f.Index] = inc && !exc && (chosen is null || chosen.Contains(f.Index));
            }
            return selected;
        }
    }
}
