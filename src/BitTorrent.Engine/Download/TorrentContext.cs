using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using BitTorrent.Events;
using BitTorrent.Metainfo;
using BitTorrent.Storage;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>What the parts of one download share: the torrent, its options and services, the lock, the pieces we
    /// have and want, the connected sessions and the transfer counters. Values marked "lock" change only under
    /// <see cref="Lock"/>: their setters assert it.</summary>
    internal sealed class TorrentContext
    {
        public TorrentContext(TorrentInfo torrent, string destination, DownloadOptions options, TorrentServices services)
        {
            Torrent = torrent;
            Destination = destination;
            Options = options;
            Services = services;
            Clock = services.Clock;
            Have = new Bitfield(torrent.PieceCount);
            Wanted = new Bitfield(torrent.PieceCount);
            Candidates = new PeerCandidates(Lock);
            Metadata = new MetadataServing(this);
        }

        public TorrentInfo Torrent { get; }
        public string Destination { get; }
        public DownloadOptions Options { get; }
        public TorrentServices Services { get; }
        public TimeProvider Clock { get; }
        public TorrentLock Lock { get; } = new TorrentLock();

        /// <summary>Verified pieces (lock; the picker sets them).</summary>
        public Bitfield Have { get; }
        /// <summary>Selected pieces (set once at start).</summary>
        public Bitfield Wanted { get; }
        /// <summary>Set once storage and resume are done (before any peer connects).</summary>
        public PiecePicker Picker { get; set; } = null!;
        public IPieceStorage? Storage { get; set; }

        /// <summary>Connected peers (lock).</summary>
        public List<PeerSession> Sessions { get; } = new List<PeerSession>();
        public PeerCandidates Candidates { get; }
        /// <summary>Serves our metadata to peers that ask (BEP 9; lock).</summary>
        public MetadataServing Metadata { get; }

        /// <summary>Bytes of wanted pieces (set once at start).</summary>
        public long TotalWanted { get => _totalWanted; set { Lock.AssertHeld(); _totalWanted = value; } }
        private long _totalWanted;
        /// <summary>Bytes of wanted pieces verified (lock).</summary>
        public long BytesVerified { get => _bytesVerified; set { Lock.AssertHeld(); _bytesVerified = value; } }
        private long _bytesVerified;
        /// <summary>Payload received in this run (interlocked: the result reads it without the lock).</summary>
        public long BytesDownloaded;
        /// <summary>Payload received since the last tick (lock).</summary>
        public long RateWindow { get => _rateWindow; set { Lock.AssertHeld(); _rateWindow = value; } }
        private long _rateWindow;
        /// <summary>When any peer last sent us a wanted block (lock).</summary>
        public DateTime LastPayloadAt { get => _lastPayloadAt; set { Lock.AssertHeld(); _lastPayloadAt = value; } }
        private DateTime _lastPayloadAt;
        /// <summary>Pieces complete in memory and being hashed or written (lock).</summary>
        public int PendingVerifications { get => _pendingVerifications; set { Lock.AssertHeld(); _pendingVerifications = value; } }
        private int _pendingVerifications;
        /// <summary>Blocks read off the wire straight into their piece's buffer, without a copy (lock).</summary>
        public long BlocksReceivedInPlace { get => _blocksReceivedInPlace; set { Lock.AssertHeld(); _blocksReceivedInPlace = value; } }
        private long _blocksReceivedInPlace;
        public int HashFailures { get => _hashFailures; set { Lock.AssertHeld(); _hashFailures = value; } }
        private int _hashFailures;
        /// <summary>Uploads of sessions already closed (lock).</summary>
        public long BytesUploadedClosed { get => _bytesUploadedClosed; set { Lock.AssertHeld(); _bytesUploadedClosed = value; } }
        private long _bytesUploadedClosed;
        public int PeersServedClosed { get => _peersServedClosed; set { Lock.AssertHeld(); _peersServedClosed = value; } }
        private int _peersServedClosed;

        public DateTime Now => Clock.GetUtcNow().UtcDateTime;

        /// <summary>Every wanted piece is verified and none is still being written.</summary>
        public bool IsDone => Picker is not null && Picker.IsComplete && PendingVerifications == 0;

        public void Publish(EngineEventKind kind, EventSeverity severity, string message, PeerSession? peer = null,
            PeerCloseReason reason = PeerCloseReason.None, int piece = -1, long count = 0, Exception? exception = null,
            string? peerKey = null, DownloadError? error = null, DownloadState? state = null,
            PeerProtocolError? protocolError = null) =>
            Services.Events.Publish(new EngineEvent(kind, severity, message)
            {
                Time = Clock.GetUtcNow(),
                InfoHash = Torrent.InfoHash,
                TorrentName = Torrent.Name,
                Peer = peer is null ? peerKey : new PeerAddress(peer.EndPoint).ToString(),
                Reason = reason,
                ProtocolError = protocolError,
                Piece = piece,
                Count = count,
                Exception = exception,
                Error = error,
                State = state,
            });
    }
}
