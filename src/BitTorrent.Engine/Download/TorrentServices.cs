using System;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Storage;

namespace BitTorrent.Download
{
    /// <summary>What a torrent borrows from the session it belongs to: identity, the event stream, the clock, the
    /// announced listen port, how peers are dialled and where pieces are stored. A torrent made without a session
    /// gets its own; tests replace the clock, the connector and the storage.</summary>
    public sealed class TorrentServices
    {
        /// <summary>Our peer id (BEP 20 style, see <see cref="ClientIdentity"/>): one per session.</summary>
        public byte[] PeerId { get; init; } = ClientIdentity.NewPeerId();

        /// <summary>Where the torrent publishes its events.</summary>
        public EngineEventQueue Events { get; init; } = new EngineEventQueue();

        /// <summary>The port announced to trackers (0: not listening).</summary>
        public int ListenPort { get; init; }

        /// <summary>Every time the torrent reads and every wait it makes (the run loop, its 1 s tick, timeouts, the
        /// upload cap's waits) go through this clock.</summary>
        public TimeProvider Clock { get; init; } = TimeProvider.System;

        /// <summary>How the torrent dials peers (TCP by default).</summary>
        public IPeerConnector Connector { get; init; } = TcpPeerConnector.Instance;

        /// <summary>How the torrent's tracker clients are set up: the session's proxy and bind address, limits, clock
        /// (null: <see cref="TrackerClientOptions.Default"/>).</summary>
        public Trackers.TrackerClientOptions? TrackerOptions { get; init; }

        /// <summary>Makes the torrent's storage from the torrent, the destination folder and the selected files
        /// (null: files under the destination, <see cref="DownloadStorage"/>).</summary>
        public Func<TorrentInfo, string, bool[], IPieceStorage>? StorageFactory { get; init; }
    }
}
