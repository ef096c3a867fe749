using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Session
{
    /// <summary>Where and how long <see cref="TorrentSession.FetchMetadataAsync"/> looks for a magnet link's info
    /// dictionary (BEP 9). The magnet's own <c>x.pe</c> peers and <c>tr</c> trackers are always used as well.</summary>
    public sealed class MetadataFetchOptions
    {
        /// <summary>Peers to ask besides the magnet's <c>x.pe</c> (the cmdlets' -Peer).</summary>
        public IList<IPEndPoint> Peers { get; } = new List<IPEndPoint>();

        /// <summary>Trackers to announce to besides the magnet's <c>tr</c> (the cmdlets' -Tracker).</summary>
        public IList<string> Trackers { get; } = new List<string>();

        /// <summary>Announce to no tracker at all (the cmdlets' -NoTracker): only the listed peers are asked.</summary>
        public bool NoTracker { get; set; }

        /// <summary>Do not ask the session's discovery sources (local discovery) for peers of this link.</summary>
        public bool NoDiscovery { get; set; }

        /// <summary>Give up (DownloadError.NoPeersAvailable, saying no metadata was found) when no peer has sent a
        /// metadata block for this long.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

        /// <summary>Peers connected at once while fetching.</summary>
        public int MaxConnections { get; set; } = 16;
    }
}
