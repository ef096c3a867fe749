using System;
using System.Net;

namespace BitTorrent.Trackers
{
    /// <summary>A peer of a torrent, as Get-TorrentPeer emits it. The property names are a contract: other cmdlets
    /// bind <c>EndPoint</c> and <c>InfoHash</c> from the pipeline by name.</summary>
    public sealed class TorrentPeer
    {
        public TorrentPeer(IPAddress address, int port, string infoHash, string source, string torrentName, byte[]? peerId = null)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            IPAddress = PeerEndPoint.Normalize(address);
            Port = port;
            EndPoint = PeerEndPoint.Format(IPAddress, port);
            InfoHash = infoHash ?? throw new ArgumentNullException(nameof(infoHash));
            Source = source ?? string.Empty;
            TorrentName = torrentName ?? string.Empty;
            PeerId = peerId is { Length: 20 } ? Hex.ToLower(peerId) : null;
        }

        public IPAddress IPAddress { get; }
        public int Port { get; }

        /// <summary><c>1.2.3.4:6881</c> or <c>[::1]:6881</c>.</summary>
        public string EndPoint { get; }

        /// <summary>The torrent's info-hash, 40 lower-case hex digits.</summary>
        public string InfoHash { get; }

        /// <summary>The URL of the tracker that listed this peer first.</summary>
        public string Source { get; }

        public string TorrentName { get; }

        /// <summary>The peer id in hex when the tracker sent it (dictionary-model replies), else null.</summary>
        public string? PeerId { get; }

        public override string ToString() => EndPoint;
    }
}
