using System;

namespace BitTorrent.Trackers
{
    /// <summary>One tracker of one torrent, as Get-TorrentTracker reports it: the announce outcome and the
    /// scrape counts.</summary>
    public sealed class TrackerStatus
    {
        public string Url { get; set; } = string.Empty;

        /// <summary>0-based BEP 12 tier.</summary>
        public int Tier { get; set; }

        /// <summary>The announce outcome: Working or Failed. With -ScrapeOnly, the scrape outcome (NotContacted for
        /// an HTTP tracker that has no scrape URL).</summary>
        public TrackerState Status { get; set; }

        /// <summary>From the scrape when it worked, else from the announce replies (the one to 'stopped' when it
        /// has counts, as it no longer counts this query).</summary>
        public int? Seeders { get; set; }
        public int? Leechers { get; set; }

        /// <summary>Finished downloads the tracker counted (scrape <c>downloaded</c>).</summary>
        public int? Completed { get; set; }

        public TimeSpan? Interval { get; set; }
        public TimeSpan? MinInterval { get; set; }

        /// <summary>Peers in the announce reply (after dropping duplicates, unusable addresses and ourselves).</summary>
        public int? PeerCount { get; set; }

        /// <summary>Why the announce failed (with -ScrapeOnly: why the scrape failed); null when it worked.</summary>
        public string? Error { get; set; }

        /// <summary>The <see cref="TrackerError"/> name for <see cref="Error"/>.</summary>
        public TrackerError? ErrorKind { get; set; }

        /// <summary>Why the scrape failed, when the announce worked but the scrape did not.</summary>
        public string? ScrapeError { get; set; }

        public string? WarningMessage { get; set; }
        public DateTimeOffset? LastAnnounce { get; set; }
        public string InfoHash { get; set; } = string.Empty;
        public string TorrentName { get; set; } = string.Empty;

        public override string ToString() => $"{Url} ({Status})";
    }
}
