using System;

namespace BitTorrent.Wire
{
    /// <summary>What one peer told us in its handshake and in the messages that followed it: who it is, what it
    /// speaks, and how much of the torrent it has.</summary>
    public sealed class PeerHandshakeResult
    {
        /// <summary>The peer we connected to, "ip:port" or "[ipv6]:port".</summary>
        public string EndPoint { get; internal set; } = "";

        /// <summary>The torrent, as 40 lower-case hex characters.</summary>
        public string InfoHash { get; internal set; } = "";

        /// <summary>The peer's 20-byte id as hex.</summary>
        public string PeerId { get; internal set; } = "";

        /// <summary>The peer id with non-printable bytes shown as '.'.</summary>
        public string PeerIdText { get; internal set; } = "";

        /// <summary>Client and version decoded from the peer id (e.g. "qBittorrent 4.5.2").</summary>
        public string Client { get; internal set; } = "";

        /// <summary>The decoded client as an object (name and version apart).</summary>
        public PeerClient? ClientInfo { get; internal set; }

        /// <summary>The 8 reserved bytes of the handshake as hex.</summary>
        public string Reserved { get; internal set; } = "";

        public bool SupportsExtensionProtocol { get; internal set; }
        public bool SupportsFastExtension { get; internal set; }
        public bool SupportsDht { get; internal set; }

        /// <summary>Extension names from the BEP 10 handshake's m dictionary (ut_metadata, ut_pex …), sorted.</summary>
        public string[] Extensions { get; internal set; } = Array.Empty<string>();

        /// <summary><c>v</c> from the extended handshake: the client's own name and version string.</summary>
        public string? ClientVersion { get; internal set; }

        /// <summary><c>p</c>: the port the peer says it listens on.</summary>
        public int? ListenPort { get; internal set; }

        /// <summary><c>reqq</c>: outstanding requests the peer accepts.</summary>
        public int? RequestQueue { get; internal set; }

        /// <summary><c>yourip</c>: our address as the peer sees it.</summary>
        public string? YourIp { get; internal set; }

        /// <summary><c>metadata_size</c>: bytes in the torrent's info dictionary (BEP 9).</summary>
        public long? MetadataSize { get; internal set; }

        /// <summary><c>upload_only</c>: the peer says it only uploads.</summary>
        public bool? UploadOnly { get; internal set; }

        /// <summary>The whole decoded extended handshake, or null if none arrived.</summary>
        public ExtendedHandshake? ExtendedHandshake { get; internal set; }

        /// <summary>The DHT port from a 'port' message, if one arrived.</summary>
        public int? DhtPort { get; internal set; }

        /// <summary>The peer sent 'have all' (BEP 6).</summary>
        public bool HasAll { get; internal set; }

        /// <summary>Pieces the peer has (from its bitfield, have all/none and haves); null if it said nothing.</summary>
        public int? PiecesHave { get; internal set; }

        /// <summary>Pieces in the torrent, when we know the torrent.</summary>
        public int? PieceCount { get; internal set; }

        /// <summary>PiecesHave / PieceCount in percent (100 for 'have all'); null when unknown.</summary>
        public double? PercentComplete { get; internal set; }

        /// <summary>The peer's pieces, when its bitfield (or have all) and the piece count are known.</summary>
        public Bitfield? Bitfield { get; internal set; }

        /// <summary>The messages the peer sent after its handshake, in order (at most 64 shown).</summary>
        public string[] MessagesReceived { get; internal set; } = Array.Empty<string>();

        /// <summary>Time to open the TCP connection.</summary>
        public TimeSpan ConnectTime { get; internal set; }

        /// <summary>From sending our handshake to having the peer's.</summary>
        public TimeSpan RoundTrip { get; internal set; }

        /// <summary>The whole exchange, from resolving the address to the last message read.</summary>
        public TimeSpan Elapsed { get; internal set; }

        public override string ToString() => $"{EndPoint} {Client}";
    }
}
