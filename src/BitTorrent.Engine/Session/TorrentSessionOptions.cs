using System;
using System.Collections.Generic;
using System.Net;
using BitTorrent.Events;

namespace BitTorrent.Session
{
    /// <summary>How a <see cref="TorrentSession"/> is set up: where it listens, its rate caps, how many torrents may
    /// download at once, its clock.</summary>
    public sealed record TorrentSessionOptions
    {
        /// <summary>Where to accept peers (loopback: both loopbacks; IPv6Any: IPv4 too); null: do not listen.</summary>
        public IPAddress? ListenAddress { get; init; }

        /// <summary>The TCP port to listen on (0: a free one).</summary>
        public int ListenPort { get; init; }

        /// <summary>The local address outgoing connections (peers, trackers, the proxy) leave from, so they use that
        /// interface (a VPN's, say); null: the system's choice.</summary>
        public IPAddress? BindAddress { get; init; }

        /// <summary>The proxy outgoing peer connections and HTTP trackers go through (null: direct). UDP trackers are
        /// skipped with it; incoming connections still come straight to the listener.</summary>
        public Connections.ProxySettings? Proxy { get; init; }

        /// <summary>Upload bytes per second for every torrent of the session together (0: unlimited).</summary>
        public long UploadRateLimit { get; init; }

        /// <summary>Download bytes per second for every torrent of the session together (0: unlimited).</summary>
        public long DownloadRateLimit { get; init; }

        /// <summary>Most torrents checking or downloading at once; the others wait their turn in the order added. A
        /// torrent that seeds (it has every piece it wants) no longer holds a turn, so one session can seed thousands
        /// while it checks and downloads a few at a time.</summary>
        public int MaxActiveTorrents { get; init; } = 3;

        /// <summary>Events buffered for the reader before the least important are dropped (see <see cref="EngineEventQueue"/>).</summary>
        public int EventCapacity { get; init; } = EngineEventQueue.DefaultCapacity;

        /// <summary>How long disposing waits for the torrents to stop (flush, resume record) before it gives up on them.</summary>
        public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(60);

        /// <summary>The session's clock: the listener's handshake timeout and the scheduler's turns.</summary>
        public TimeProvider? Time { get; init; }

        /// <summary>Peer sources besides the trackers (see <see cref="IPeerDiscovery"/>: the DHT node and local
        /// discovery will be two of them). The session starts, feeds and disposes them.</summary>
        public IReadOnlyList<IPeerDiscovery> Discovery { get; init; } = Array.Empty<IPeerDiscovery>();

        /// <summary>BEP 14 local service discovery: announce the public torrents on the LAN multicast groups and take
        /// the peers other hosts announce there. Off by default for the engine (the cmdlets turn it on); ignored when
        /// the environment variable BITTORRENT_LSD is 0, when the session does not listen, or listens on loopback only.</summary>
        public bool LocalDiscovery { get; init; }
    }

    /// <summary>A torrent's own rate caps, under the session's (bytes pass when both allow them). 0: no cap of its own.</summary>
    public sealed record TorrentLimits
    {
        public long UploadRateLimit { get; init; }
        public long DownloadRateLimit { get; init; }
    }

    /// <summary>Where a torrent of a session is in its life.</summary>
    public enum TorrentState
    {
        /// <summary>Added (or resumed) and waiting for a turn.</summary>
        Queued,
        /// <summary>Checking the data already on disk (or reading the resume record).</summary>
        Checking,
        Downloading,
        /// <summary>Has every piece it wants and uploads to peers; holds no turn.</summary>
        Seeding,
        /// <summary>Stopping for a pause (data flushed, resume record saved).</summary>
        Pausing,
        /// <summary>Stopped cleanly by <see cref="TorrentSession.PauseAsync"/>; <see cref="TorrentSession.Resume"/> queues it again.</summary>
        Paused,
        Completed,
        /// <summary>Stopped by the session's end or its removal before it completed.</summary>
        Stopped,
        Failed,
    }
}
