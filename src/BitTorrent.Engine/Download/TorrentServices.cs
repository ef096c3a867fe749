using System;
using BitTorrent.Events;

namespace BitTorrent.Download
{
    /// <summary>What a torrent borrows from the session it belongs to: identity, the event stream, the clock, the
    /// announced listen port and the session-wide rate limits. A torrent made without a session gets its own.</summary>
    public sealed class TorrentServices
    {
        /// <summary>Our peer id (BEP 20 style, see <see cref="ClientIdentity"/>): one per session.</summary>
        public byte[] PeerId { get; init; } = ClientIdentity.NewPeerId();

        /// <summary>Where the torrent publishes its events.</summary>
        public EngineEventQueue Events { get; init; } = new EngineEventQueue();

        /// <summary>The port announced to trackers (0: not listening).</summary>
        public int ListenPort { get; init; }
    }
}
