using System;
using System.Collections.Generic;
using System.Net;
using BitTorrent.Metainfo;

namespace BitTorrent.Session
{
    /// <summary>A source of peers that belongs to the session rather than to one torrent.
    /// <para>This is where the DHT node (BEP 5: one UDP socket and one routing table for every torrent of the session,
    /// announcing the session's listen port) and local service discovery (BEP 14: multicast on the LAN) will live. Neither
    /// exists yet; the session already does its part: it starts each source with its listen port, tells it which
    /// torrents to look for as they are added and removed, hands the peers it finds to the torrent, and disposes it
    /// with the session. A source must skip private torrents (<see cref="TorrentInfo.IsPrivate"/>, BEP 27), whose
    /// peers come from their trackers only.</para></summary>
    public interface IPeerDiscovery : IDisposable
    {
        /// <summary>Called once, before any torrent: the port peers should connect to (0: the session does not listen).</summary>
        void Start(int listenPort);

        /// <summary>Look for peers of this torrent and report them (from any thread) through <paramref name="peersFound"/>.</summary>
        void Add(TorrentInfo torrent, Action<IReadOnlyList<IPEndPoint>> peersFound);

        /// <summary>Stop looking for the torrent with this info-hash (40 hex, lowercase).</summary>
        void Remove(string infoHash);
    }
}
