using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>One connected peer of a download: its wire state and the requests we have outstanding with it.
    /// A read loop (<see cref="PeerConnections"/>) hands every message to the <see cref="MessageDispatcher"/>; a send
    /// loop (the other half of this class) drains the outbox. Its state changes only through its own methods, each of
    /// which asserts the torrent's lock is held; reads happen under the same lock. The outbox, upload queue and
    /// traffic counters are thread-safe on their own.</summary>
    internal sealed partial class PeerSession
    {
        private readonly TorrentLock _lock;
        private readonly TimeProvider _clock;
        private readonly Dictionary<long, BlockRequest> _outstanding = new Dictionary<long, BlockRequest>();
        private readonly HashSet<int> _allowedFast = new HashSet<int>();
        private readonly HashSet<int> _ourAllowedFast = new HashSet<int>();
        private long _rateWindowBytes;
        private double _rate;

        public PeerSession(PeerConnection connection, IPEndPoint endPoint, Handshake handshake, int pieceCount,
            TorrentLock torrentLock, TimeProvider clock, int initialQueue, bool incoming)
        {
            _lock = torrentLock;
            _clock = clock;
            Connection = connection;
            EndPoint = endPoint;
            Incoming = incoming;
            PeerHas = new Bitfield(pieceCount);
            SupportsFast = handshake.SupportsFastExtension;
            SupportsExtensions = handshake.SupportsExtensionProtocol;
            PeerId = handshake.PeerId.ToArray();
            Client = PeerIdDecoder.Decode(PeerId).ToString();
            var now = clock.GetUtcNow().UtcDateTime;
            LastBlockAt = now;
            LastUsefulAt = now;
            ChokedAt = now;
            _lastMessageTicks = now.Ticks;
            DesiredQueue = initialQueue;
        }

        public PeerConnection Connection { get; }
        public IPEndPoint EndPoint { get; }
        public byte[] PeerId { get; }
        public string Client { get; private set; }
        /// <summary>Pieces the peer has (changed through <see cref="OnHave"/> and <see cref="OnBitfield"/>).</summary>
        public Bitfield PeerHas { get; }
        public bool SupportsFast { get; }
        public bool SupportsExtensions { get; }
        /// <summary>The peer connected to us (rather than we to it).</summary>
        public bool Incoming { get; }

        /// <summary>The ids the peer wants our extension messages under (BEP 10; the table bounds its size).</summary>
        public PeerExtensionTable Extensions { get; } = new PeerExtensionTable();
        /// <summary>BEP 21 upload_only: the peer says it will not download (a seed, or done with what it wants).</summary>
        public bool PeerUploadOnly { get; private set; }
        /// <summary>The port the peer listens on (BEP 10 <c>p</c>), when it said.</summary>
        public int? PeerListenPort { get; private set; }
        /// <summary>Our extended handshake to it said upload_only (we had everything we want).</summary>
        public bool ToldUploadOnly { get; private set; }

        public void MarkToldUploadOnly()
        {
            _lock.AssertHeld();
            ToldUploadOnly = true;
        }

        // ---- download side ----

        public bool GotBitfield { get; private set; }
        public bool PeerChoking { get; private set; } = true;
        public bool AmInterested { get; private set; }
        /// <summary>Pieces the peer lets us request while it chokes us (BEP 6).</summary>
        public ICollection<int> AllowedFast => _allowedFastView ??= new ReadOnlySet(_allowedFast);
        private ReadOnlySet? _allowedFastView;
        /// <summary>Requests sent and not yet answered, by block key.</summary>
        public IReadOnlyDictionary<long, BlockRequest> Outstanding => _outstanding;
        public int OutstandingCount => _outstanding.Count;
        /// <summary>How many requests to keep outstanding (grows with the peer's rate).</summary>
        public int DesiredQueue { get; private set; }
        /// <summary>The peer's advertised request queue (BEP 10 reqq); 250 when it does not say (libtorrent's default).</summary>
        public int PeerRequestQueue { get; private set; } = 250;
        public DateTime LastBlockAt { get; private set; }
        /// <summary>When payload last moved either way (a block received or sent), or when the peer connected:
        /// the peer idle longest is the one to drop when the connection limit is reached and another peer calls.</summary>
        public DateTime LastUsefulAt { get; private set; }
        public bool Snubbed { get; private set; }
        public long BytesDownloaded { get; private set; }
        /// <summary>Payload bytes per second received, smoothed over ticks.</summary>
        public double DownloadRate => _rate;
        /// <summary>Blocks the peer sent that we had not asked it for (or no longer wanted from it): ignored.</summary>
        public int UnrequestedBlocks { get; private set; }

        // ---- upload side ----

        /// <summary>We choke the peer (no uploads) until the choker gives it a slot.</summary>
        public bool AmChoking { get; private set; } = true;
        public bool PeerInterested { get; private set; }
        public DateTime UnchokedAt { get; private set; }
        /// <summary>When we last choked the peer (or connected): the seeding round robin serves the longest-waiting first.</summary>
        public DateTime ChokedAt { get; private set; }
        /// <summary>Pieces the peer may request while we choke it (BEP 6 allowed fast), as we told it.</summary>
        public IReadOnlyCollection<int> OurAllowedFast => _ourAllowedFast;
        public int BadRequests { get; private set; }

        // ---- its end ----

        /// <summary>Disconnected to make room for a newcomer (no longer counted against the limit).</summary>
        public bool Evicted { get; private set; }
        /// <summary>Caught sending bad data: disconnected and never dialled again.</summary>
        public bool Banned { get; private set; }
        public int HashFailures { get; private set; }
        /// <summary>Removed from the download (its connection is over).</summary>
        public bool Closed { get; private set; }
        /// <summary>BytesUploaded at the last tick (to notice uploads in <see cref="LastUsefulAt"/>).</summary>
        private long _uploadedAtLastTick;

        // ---- what the peer told us ----

        public void OnChoke()
        {
            _lock.AssertHeld();
            PeerChoking = true;
        }

        public void OnUnchoke()
        {
            _lock.AssertHeld();
            PeerChoking = false;
        }

        public void OnInterested(bool interested)
        {
            _lock.AssertHeld();
            PeerInterested = interested;
        }

        /// <summary>The peer announced a piece; false if it had already.</summary>
        public bool OnHave(int piece)
        {
            _lock.AssertHeld();
            if (PeerHas[piece]) return false;
            PeerHas.Set(piece);
            return true;
        }

        /// <summary>A bitfield, 'have all' or 'have none' (null bits): merged with what the peer announced before
        /// (a peer's pieces only ever grow).</summary>
        public void OnBitfield(Bitfield? bits, bool all)
        {
            _lock.AssertHeld();
            GotBitfield = true;
            if (all) PeerHas.SetAll();
            else if (bits is not null) PeerHas.Or(bits);
        }

        public void OnAllowedFast(int piece, int pieceCount)
        {
            _lock.AssertHeld();
            if (_allowedFast.Count < 64 && piece < pieceCount) _allowedFast.Add(piece);
        }

        /// <summary>A (first or later) BEP 10 handshake: later ones are deltas, so only what they carry changes.</summary>
        public void OnExtendedHandshake(ExtendedHandshake handshake, int maxRequestQueue)
        {
            _lock.AssertHeld();
            Extensions.Apply(handshake);
            if (handshake.RequestQueueLength is int reqq && reqq > 0) PeerRequestQueue = Math.Min(reqq, maxRequestQueue);
            if (!string.IsNullOrEmpty(handshake.ClientName)) Client = handshake.ClientName!;
            if (handshake.UploadOnly is bool uploadOnly) PeerUploadOnly = uploadOnly;
            if (handshake.ListenPort is int port) PeerListenPort = port;
        }

        /// <summary>Counts a declined request; returns the count so far.</summary>
        public int DeclineRequest()
        {
            _lock.AssertHeld();
            return ++BadRequests;
        }

        /// <summary>Counts a block nobody asked this peer for; returns the count so far.</summary>
        public int OnUnrequestedBlock()
        {
            _lock.AssertHeld();
            return ++UnrequestedBlocks;
        }

        /// <summary>A requested block arrived: counts it and, with <paramref name="queueCap"/>, grows the request
        /// queue by one (slow start) or, if the peer was snubbed, starts over from <paramref name="minQueue"/>.</summary>
        public void OnBlock(int length, DateTime now, int minQueue, int queueCap)
        {
            _lock.AssertHeld();
            BytesDownloaded += length;
            _rateWindowBytes += length;
            LastBlockAt = now;
            LastUsefulAt = now;
            if (Snubbed) { Snubbed = false; DesiredQueue = minQueue; }
            else if (DesiredQueue < queueCap) DesiredQueue++;
        }

        // ---- what we do to it ----

        /// <summary>Gives the peer an upload slot.</summary>
        public void Unchoke(DateTime now)
        {
            _lock.AssertHeld();
            if (!AmChoking) return;
            AmChoking = false;
            UnchokedAt = now;
            Send(PeerMessage.Unchoke);
        }

        /// <summary>Takes its slot away. BEP 3: a choke discards the peer's requests; BEP 6 peers are told which ones,
        /// by a reject each. Requests for allowed-fast pieces stay queued and are still served.</summary>
        public void Choke(DateTime now)
        {
            _lock.AssertHeld();
            if (AmChoking) return;
            AmChoking = true;
            ChokedAt = now;
            Send(PeerMessage.Choke);
            var dropped = DropQueuedUploads(_ourAllowedFast);
            if (SupportsFast)
                foreach (var b in dropped) Send(PeerMessage.RejectRequest(b.Piece, b.Offset, b.Length));
        }

        public void SetInterested(bool interested)
        {
            _lock.AssertHeld();
            AmInterested = interested;
            Send(interested ? PeerMessage.Interested : PeerMessage.NotInterested);
        }

        /// <summary>Tells the peer a piece it may fetch while choked (BEP 6).</summary>
        public void GrantAllowedFast(int piece)
        {
            _lock.AssertHeld();
            if (_ourAllowedFast.Add(piece)) Send(PeerMessage.AllowedFast(piece));
        }

        public void AddOutstanding(BlockRequest block)
        {
            _lock.AssertHeld();
            _outstanding[block.Key] = block;
            Send(PeerMessage.Request(block.Piece, block.Offset, block.Length));
        }

        /// <summary>A request answered, rejected or cancelled: false if it was not outstanding.</summary>
        public bool RemoveOutstanding(BlockRequest block)
        {
            _lock.AssertHeld();
            return _outstanding.Remove(block.Key);
        }

        /// <summary>Forgets every outstanding request (sending a cancel for each with <paramref name="sendCancel"/>)
        /// and returns them, to be asked of someone else.</summary>
        public List<BlockRequest> TakeOutstanding(bool sendCancel)
        {
            _lock.AssertHeld();
            var list = new List<BlockRequest>(_outstanding.Values);
            _outstanding.Clear();
            if (sendCancel) foreach (var b in list) Send(PeerMessage.Cancel(b.Piece, b.Offset, b.Length));
            return list;
        }

        /// <summary>It sent nothing for the snub timeout: keep one request outstanding to see if it recovers.
        /// Returns true the first time (for the event).</summary>
        public bool Snub()
        {
            _lock.AssertHeld();
            DesiredQueue = 1;
            if (Snubbed) return false;
            Snubbed = true;
            return true;
        }

        public void SetDesiredQueue(int queue)
        {
            _lock.AssertHeld();
            DesiredQueue = queue;
        }

        /// <summary>Once a second: fold the windows into the smoothed rates and notice uploads for idleness.</summary>
        public void Tick(double seconds, DateTime now)
        {
            _lock.AssertHeld();
            double instant = seconds > 0 ? _rateWindowBytes / seconds : 0;
            _rate = _rate == 0 ? instant : 0.6 * instant + 0.4 * _rate;
            _rateWindowBytes = 0;
            TickUpload(seconds);
            long uploaded = BytesUploaded;
            if (uploaded != _uploadedAtLastTick) { _uploadedAtLastTick = uploaded; LastUsefulAt = now; }
        }

        /// <summary>Dropped to make room for a newcomer.</summary>
        public void Evict()
        {
            _lock.AssertHeld();
            Evicted = true;
            Close(PeerCloseReason.Evicted, "evicted to make room for a newcomer");
        }

        /// <summary>Caught lying: it is disconnected and counts as failed enough to be banned.</summary>
        public bool Ban(int banAfterHashFailures, string why)
        {
            _lock.AssertHeld();
            if (Banned) return false;
            Banned = true;
            HashFailures = Math.Max(HashFailures + 1, banAfterHashFailures);
            Close(PeerCloseReason.Banned, why);
            return true;
        }

        /// <summary>Marks it removed from the download; false if it already was.</summary>
        public bool MarkClosed()
        {
            _lock.AssertHeld();
            if (Closed) return false;
            Closed = true;
            return true;
        }

        /// <summary>When the last message of any kind arrived (thread-safe: the read loop notes it without the lock).</summary>
        public DateTime LastMessageAt => new DateTime(Interlocked.Read(ref _lastMessageTicks), DateTimeKind.Utc);
        private long _lastMessageTicks;

        public void MessageReceived() => Interlocked.Exchange(ref _lastMessageTicks, _clock.GetUtcNow().UtcDateTime.Ticks);

        /// <summary>Why the connection is closing, the first reason given (None while it is open).</summary>
        public PeerCloseReason CloseReason => (PeerCloseReason)Volatile.Read(ref _closeReason);
        /// <summary>The same, for people.</summary>
        public string? CloseDetail => Volatile.Read(ref _closeDetail);
        private int _closeReason;
        private string? _closeDetail;

        /// <summary>Closes the connection, giving the reason (the first reason given wins). Thread-safe.</summary>
        public void Close(PeerCloseReason reason, string detail)
        {
            if (Interlocked.CompareExchange(ref _closeReason, (int)reason, (int)PeerCloseReason.None) == (int)PeerCloseReason.None)
                Volatile.Write(ref _closeDetail, detail);
            Connection.Abort();
        }

        public override string ToString() => $"{EndPoint} ({Client})";

        /// <summary>A set others may read (the picker takes an ICollection) but not change.</summary>
        private sealed class ReadOnlySet : ICollection<int>
        {
            private readonly HashSet<int> _set;
            public ReadOnlySet(HashSet<int> set) => _set = set;
            public int Count => _set.Count;
            public bool IsReadOnly => true;
            public bool Contains(int item) => _set.Contains(item);
            public void CopyTo(int[] array, int arrayIndex) => _set.CopyTo(array, arrayIndex);
            public IEnumerator<int> GetEnumerator() => _set.GetEnumerator();
            System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _set.GetEnumerator();
            public void Add(int item) => throw new NotSupportedException();
            public void Clear() => throw new NotSupportedException();
            public bool Remove(int item) => throw new NotSupportedException();
        }
    }
}
