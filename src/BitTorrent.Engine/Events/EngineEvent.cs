using System;
using BitTorrent.Download;
using BitTorrent.Wire;

namespace BitTorrent.Events
{
    /// <summary>How much a user should care. The PowerShell layer maps it onto its streams: Verbose → verbose,
    /// Information → information, Warning → warning, Error → an error record (through Errors.cs).</summary>
    public enum EventSeverity
    {
        Verbose,
        Information,
        Warning,
        Error,
    }

    /// <summary>What happened. Tests and scripts match on this (and on <see cref="PeerCloseReason"/>), never on the
    /// English <see cref="EngineEvent.Message"/>, which is for people and may change.</summary>
    public enum EngineEventKind
    {
        // Session
        ListenStarted,
        ListenFailed,
        TorrentAdded,
        TorrentRemoved,

        // A torrent's lifetime
        StateChanged,
        TorrentCompleted,
        TorrentFailed,

        // Start-up and resume
        ResumeLoaded,
        ResumeChecked,
        ResumeSaveFailed,

        // Trackers
        TrackerFailed,
        PeersDiscovered,

        // Peers
        PeerConnected,
        PeerConnectFailed,
        PeerDisconnected,
        PeerSnubbed,
        PeerBanned,
        BlocksDiscarded,

        // Pieces and storage
        HashFailed,
        UploadReadFailed,

        // Metadata from peers (BEP 9, magnet links)
        /// <summary>A magnet link's info dictionary arrived from peers and hashes to its info-hash (Count: its size).</summary>
        MetadataReceived,
        /// <summary>The assembled metadata did not hash to the info-hash: the peers that sent it are banned
        /// (each a PeerBanned event) and it is fetched again.</summary>
        MetadataHashFailed,

        // The event stream itself
        EventsDropped,
    }

    /// <summary>Why a peer connection ended: a closed set, so a test can assert "the liar was banned", not a sentence.</summary>
    public enum PeerCloseReason
    {
        None,
        /// <summary>The peer closed the connection or the socket failed.</summary>
        ConnectionClosed,
        /// <summary>The peer broke the wire protocol (bad length, out-of-range index, bad handshake …).</summary>
        ProtocolViolation,
        /// <summary>Nothing, not even a keep-alive, for the silence limit.</summary>
        Silent,
        /// <summary>It stopped reading what we send.</summary>
        SendStalled,
        /// <summary>Both sides have everything: nothing to trade.</summary>
        BothSeeds,
        /// <summary>Banned for sending data that failed a hash check: it sent the failed piece alone.</summary>
        Banned,
        /// <summary>Banned by smart ban: a piece several peers sent failed, and a block this peer sent differs from the
        /// same block of the piece once it verified.</summary>
        SmartBanned,
        /// <summary>Dropped to make room for a newcomer (it was the idlest).</summary>
        Evicted,
        /// <summary>Too many requests we had to decline.</summary>
        TooManyDeclinedRequests,
        /// <summary>Too many blocks we never asked for.</summary>
        UnrequestedBlocks,
        /// <summary>A message the peer may not send in this state (e.g. 'have all' without the fast extension).</summary>
        InvalidMessage,
        /// <summary>We need metadata (a magnet link) and the peer does not offer it: no extension protocol, no
        /// ut_metadata, or no metadata_size.</summary>
        NoMetadata,
        /// <summary>Our own shutdown, pause or removal.</summary>
        Stopped,
    }

    /// <summary>One thing the engine has to say. Immutable; made on any engine thread, read on the pipeline thread.</summary>
    public sealed class EngineEvent
    {
        public EngineEvent(EngineEventKind kind, EventSeverity severity, string message)
        {
            Kind = kind;
            Severity = severity;
            Message = message ?? throw new ArgumentNullException(nameof(message));
            Time = DateTimeOffset.UtcNow;
        }

        public EngineEventKind Kind { get; }
        public EventSeverity Severity { get; }

        /// <summary>For people: one sentence, no torrent name prefix (the consumer adds it).</summary>
        public string Message { get; }

        public DateTimeOffset Time { get; init; }

        /// <summary>The torrent's info-hash (40 hex, lowercase) when the event is about one torrent.</summary>
        public string? InfoHash { get; init; }

        /// <summary>The torrent's name when the event is about one torrent.</summary>
        public string? TorrentName { get; init; }

        /// <summary>The peer's address (<c>ip:port</c> or <c>[ipv6]:port</c>) when the event is about one peer.</summary>
        public string? Peer { get; init; }

        /// <summary>Why a connection ended (PeerDisconnected, PeerBanned); None otherwise.</summary>
        public PeerCloseReason Reason { get; init; }

        /// <summary>For a connection ended by <see cref="PeerCloseReason.ProtocolViolation"/>: which rule the peer broke.</summary>
        public PeerProtocolError? ProtocolError { get; init; }

        /// <summary>A stable, machine-readable label: <c>Kind</c>, then <c>/Reason</c> when there is one, then
        /// <c>:ProtocolError</c> when there is one — e.g. <c>PeerDisconnected/ProtocolViolation:PieceIndexOutOfRange</c>.
        /// Made of enum names only, so scripts and tests can match on it; the <see cref="Message"/> is for people.</summary>
        public string Tag
        {
            get
            {
                string tag = Kind.ToString();
                if (Reason != PeerCloseReason.None) tag += "/" + Reason;
                if (ProtocolError is PeerProtocolError error) tag += ":" + error;
                return tag;
            }
        }

        /// <summary>The piece concerned (HashFailed, UploadReadFailed), or -1.</summary>
        public int Piece { get; init; } = -1;

        /// <summary>A count the event is about (peers discovered, pieces resumed, blocks discarded, events dropped).</summary>
        public long Count { get; init; }

        /// <summary>For TorrentFailed: the error the user must act on.</summary>
        public DownloadError? Error { get; init; }

        /// <summary>For StateChanged: the new state.</summary>
        public DownloadState? State { get; init; }

        /// <summary>The exception behind a failure, when there is one.</summary>
        public Exception? Exception { get; init; }

        public override string ToString() => TorrentName is null ? $"{Kind}: {Message}" : $"{TorrentName}: {Message}";
    }
}
