using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Trackers
{
    /// <summary>A tracker's answer to an announce, HTTP or UDP.</summary>
    public sealed class AnnounceResponse
    {
        /// <summary>The interval we assume when a tracker sends none (30 minutes, the common default).</summary>
        public static readonly TimeSpan DefaultInterval = TimeSpan.FromMinutes(30);

        public AnnounceResponse(IReadOnlyList<TrackerPeer> peers) => Peers = peers ?? throw new ArgumentNullException(nameof(peers));

        /// <summary>Distinct usable peers (IPv4 and IPv6 together), at most <see cref="TrackerClientOptions.MaxPeersPerResponse"/>.</summary>
        public IReadOnlyList<TrackerPeer> Peers { get; }

        /// <summary>Entries left out: duplicates, unusable addresses (port 0, 0.0.0.0, multicast), host names in the
        /// dictionary model, a truncated trailing compact entry, and everything past the per-reply cap.</summary>
        public int PeersDiscarded { get; internal set; }

        /// <summary>How long to wait before the next regular announce.</summary>
        public TimeSpan Interval { get; internal set; } = DefaultInterval;

        /// <summary>The shortest wait the tracker allows between announces, when it says.</summary>
        public TimeSpan? MinInterval { get; internal set; }

        /// <summary>HTTP <c>tracker id</c>: send it back on the next announce to this tracker.</summary>
        public string? TrackerId { get; internal set; }

        /// <summary>Seeders (<c>complete</c>), when the tracker says.</summary>
        public int? Seeders { get; internal set; }

        /// <summary>Leechers (<c>incomplete</c>), when the tracker says.</summary>
        public int? Leechers { get; internal set; }

        /// <summary>Completed downloads (<c>downloaded</c>), sent by some HTTP trackers.</summary>
        public int? Completed { get; internal set; }

        /// <summary>HTTP <c>warning message</c>: the request worked but the tracker wants us to know something.</summary>
        public string? WarningMessage { get; internal set; }

        /// <summary>BEP 24 <c>external ip</c>: our address as the tracker sees it.</summary>
        public IPAddress? ExternalAddress { get; internal set; }
    }
}
