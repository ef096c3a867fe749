using System;
using System.Management.Automation;
using BitTorrent.Download;
using BitTorrent.Metainfo;
using BitTorrent.PowerShell.Infrastructure;
using BitTorrent.PowerShell.Jobs;
using BitTorrent.Storage;

namespace BitTorrent.PowerShell.Commands
{
    /// <summary>Seeds torrents from data on disk: checks the data (or trusts a resume record), announces to the
    /// trackers, accepts peers and uploads to them until Ctrl+C, -Duration, or Stop-Job.</summary>
    [Cmdlet(VerbsLifecycle.Start, "TorrentSeed", DefaultParameterSetName = PathSet, SupportsShouldProcess = true)]
    [OutputType(typeof(DownloadResult))]
    [OutputType(typeof(TorrentJob))]
    public sealed class StartTorrentSeedCommand : SwarmCmdlet
    {
        /// <summary>The folder that holds the torrent's content (its file, or its folder for a multi-file torrent).</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string DataPath { get; set; } = string.Empty;

        /// <summary>Seed for this long, then stop (default: until Ctrl+C or Stop-Job).</summary>
        [Parameter]
        public TimeSpan Duration { get; set; }

        /// <summary>How long a magnet link's metadata is looked for when the data folder does not keep it.</summary>
        private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(60);

        protected override string JobName => "TorrentSeed";

        private bool _timed;

        private DownloadOptions Options() => BaseOptions() with
        {
            SeedOnly = true,
            SeedUntilCancelled = !_timed,
            SeedTime = _timed ? Duration : (TimeSpan?)null,
        };

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            DataPath = ResolveFolder(DataPath, Errors.DestinationInvalidId);
            Swarm.Verb = "Seeding";
            _timed = MyInvocation.BoundParameters.ContainsKey(nameof(Duration));
        }

        /// <summary>A magnet link for data already on disk: the metadata kept in the data folder
        /// (<c>.bittorrent/&lt;info-hash&gt;.torrent</c>, as a download from the link leaves it), else fetched from
        /// the swarm and kept there; then the data is checked and seeded like any torrent's.</summary>
        private protected override void QueueMagnet(MagnetUri magnet)
        {
            var kept = CachedMetadata(DataPath, magnet);
            if (kept is not null)
            {
                Queue(kept);
                return;
            }
            string name = TorrentInput.DisplayName(magnet);
            if (!ShouldProcess(DataPath, $"Fetch the metadata of '{name}' ({magnet.InfoHash}) from its peers, keep it in " +
                    $"'{MetadataCache.GetPath(DataPath, magnet.InfoHash!)}' and seed it from this folder"))
                return;
            if (!Swarm.AddMagnet(magnet, DataPath, FetchOptions(MetadataTimeout), torrent => (WithMagnetPeers(Options(), magnet), null)))
                WriteWarning($"'{name}' ({magnet.InfoHash}) is already in this batch for '{DataPath}'; it is taken once.");
        }

        protected override void Queue(TorrentInfo torrent)
        {
            // Seeding writes to the data folder (the resume record under .bittorrent): -WhatIf says so and writes nothing.
            if (!ShouldProcess(DataPath, $"Seed '{torrent.Name}' ({Units.FormatBytes(torrent.TotalSize)}) from this folder, " +
                    $"keeping its resume record in '{ResumeRecord.PathFor(DataPath, torrent)}'"))
                return;
            if (!Swarm.Add(torrent, DataPath, Options()))
                WriteWarning($"'{torrent.Name}' ({torrent.InfoHash}) is already in this batch for '{DataPath}'; it is taken once.");
        }
    }
}
