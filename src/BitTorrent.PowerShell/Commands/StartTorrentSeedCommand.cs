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

        protected override string JobName => "TorrentSeed";

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            DataPath = ResolveFolder(DataPath, Errors.DestinationInvalidId);
            Swarm.Verb = "Seeding";
        }

        protected override void Queue(TorrentInfo torrent)
        {
            // Seeding writes to the data folder (the resume record under .bittorrent): -WhatIf says so and writes nothing.
            if (!ShouldProcess(DataPath, $"Seed '{torrent.Name}' ({Units.FormatBytes(torrent.TotalSize)}) from this folder, " +
                    $"keeping its resume record in '{ResumeRecord.PathFor(DataPath, torrent)}'"))
                return;
            bool timed = MyInvocation.BoundParameters.ContainsKey(nameof(Duration));
            var options = BaseOptions() with
            {
                SeedOnly = true,
                SeedUntilCancelled = !timed,
                SeedTime = timed ? Duration : (TimeSpan?)null,
            };
            if (!Swarm.Add(torrent, DataPath, options))
                WriteWarning($"'{torrent.Name}' ({torrent.InfoHash}) is already in this batch for '{DataPath}'; it is taken once.");
        }
    }
}
