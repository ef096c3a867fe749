using System;

namespace BitTorrent.Wire
{
    /// <summary>What <see cref="PeerHandshaker"/> needs: the torrent, our identity and the time it may take.</summary>
    public sealed class PeerHandshakeOptions
    {
        public PeerHandshakeOptions(byte[] infoHash)
        {
            if (infoHash is null || infoHash.Length != 20) throw new ArgumentException("An info-hash is 20 bytes.", nameof(infoHash));
            InfoHash = infoHash;
        }

        public byte[] InfoHash { get; }

        /// <summary>Pieces in the torrent, if known: the peer's bitfield is then checked strictly and the share it
        /// has is computed.</summary>
        public int? PieceCount { get; set; }

        /// <summary>Our peer id; a fresh one (<see cref="ClientIdentity.NewPeerId"/>) when null.</summary>
        public byte[]? PeerId { get; set; }

        /// <summary>Limit for connecting and exchanging handshakes (and for everything together).</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>How long to keep listening after the handshake for the peer's bitfield (or have all / have
        /// none) and its extended handshake; we stop as soon as both are in.</summary>
        public TimeSpan MessageWindow { get; set; } = TimeSpan.FromSeconds(3);

        /// <summary>How the peer is dialled: from a bound local address, or through a proxy
        /// (<see cref="Connections.BoundTcpPeerConnector"/>, <see cref="Connections.ProxyPeerConnector"/>); plain TCP
        /// when null. A proxy's own failure comes out as a <see cref="Connections.ProxyException"/>.</summary>
        public Download.IPeerConnector? Connector { get; set; }

        /// <summary>How long to wait, once done, for the peer to close its side after ours (see
        /// <see cref="PeerConnection.CloseAsync"/>). Not counted in the result's Elapsed.</summary>
        public TimeSpan CloseLinger { get; set; } = TimeSpan.FromSeconds(1);
    }
}
