using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>One connected peer of a download: its wire state and the requests we have outstanding with it.
    /// A read loop hands every message to the <see cref="TorrentDownload"/> (which holds the lock); a send loop
    /// drains this session's outbox, batching messages and flushing when the outbox is empty. State fields are
    /// guarded by the download's lock.</summary>
    internal sealed class PeerSession
    {
        private readonly Channel<PeerMessage> _outbox = Channel.CreateUnbounded<PeerMessage>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        private long _rateWindowBytes;
        private double _rate;
        private long _uploadWindowBytes;
        private double _uploadRate;
        private readonly object _uploadLock = new object();

        public PeerSession(PeerConnection connection, IPEndPoint endPoint, Handshake handshake, int pieceCount)
        {
            Connection = connection;
            EndPoint = endPoint;
            PeerHas = new Bitfield(pieceCount);
            SupportsFast = handshake.SupportsFastExtension;
            SupportsExtensions = handshake.SupportsExtensionProtocol;
            PeerId = handshake.PeerId.ToArray();
            Client = PeerIdDecoder.Decode(PeerId).ToString();
            LastBlockAt = DateTime.UtcNow;
        }

        public PeerConnection Connection { get; }
        public IPEndPoint EndPoint { get; }
        public byte[] PeerId { get; }
        public string Client { get; set; }
        public Bitfield PeerHas { get; }
        public bool SupportsFast { get; }
        public bool SupportsExtensions { get; }

        /// <summary>Whether the peer's bitfield (or have-all/have-none) has come.</summary>
        public bool GotBitfield { get; set; }
        public bool PeerChoking { get; set; } = true;
        public bool AmInterested { get; set; }
        public HashSet<int> AllowedFast { get; } = new HashSet<int>();

        /// <summary>Requests sent and not yet answered, by block key.</summary>
        public Dictionary<long, BlockRequest> Outstanding { get; } = new Dictionary<long, BlockRequest>();

        /// <summary>How many requests to keep outstanding (grows with the peer's rate).</summary>
        public int DesiredQueue { get; set; }

        /// <summary>The peer's advertised request queue (BEP 10 reqq); 250 when it does not say (libtorrent's default).</summary>
        public int PeerRequestQueue { get; set; } = 250;

        public DateTime LastBlockAt { get; set; }

        /// <summary>When payload last moved either way (a block received or sent), or when the peer connected:
        /// the peer idle longest is the one to drop when the connection limit is reached and another peer calls.</summary>
        public DateTime LastUsefulAt { get; set; } = DateTime.UtcNow;

        /// <summary>The peer connected to us (rather than we to it).</summary>
        public bool Incoming { get; set; }

        /// <summary>Disconnected to make room for a newcomer (no longer counted against the limit).</summary>
        public bool Evicted { get; set; }

        /// <summary>BytesUploaded at the last tick (to notice uploads in <see cref="LastUsefulAt"/>).</summary>
        public long UploadedAtLastTick { get; set; }
        public bool Snubbed { get; set; }
        public long BytesDownloaded { get; set; }
        public int HashFailures { get; set; }
        /// <summary>Caught sending bad data: disconnected and never dialled again.</summary>
        public bool Banned { get; set; }
        public int BadRequests { get; set; }
        /// <summary>Blocks the peer sent that we had not asked it for (or no longer wanted from it): ignored.</summary>
        public int UnrequestedBlocks { get; set; }
        public bool Closed { get; set; }

        // ---- upload side (guarded by the download's lock unless noted) ----

        /// <summary>We choke the peer (no uploads) until the choker gives it a slot.</summary>
        public bool AmChoking { get; set; } = true;
        public bool PeerInterested { get; set; }
        public DateTime UnchokedAt { get; set; }

        /// <summary>When we last choked the peer (or connected): the seeding round robin serves the longest-waiting first.</summary>
        public DateTime ChokedAt { get; set; } = DateTime.UtcNow;

        /// <summary>Pieces the peer may request while we choke it (BEP 6 allowed fast), as we told it.</summary>
        public HashSet<int> OurAllowedFast { get; } = new HashSet<int>();

        /// <summary>Payload bytes sent to this peer (updated by the send loop).</summary>
        public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);
        private long _bytesUploaded;

        /// <summary>Payload bytes per second sent, smoothed over ticks.</summary>
        public double UploadRate => _uploadRate;

        /// <summary>Requests accepted and not yet served (thread-safe).</summary>
        public int PendingUploads
        {
            get { lock (_uploadLock) return _uploads.Count; }
        }

        /// <summary>Reads a block we have from disk into a pooled buffer; null if it cannot be read.</summary>
        public Func<BlockRequest, PooledBuffer?>? ReadBlock { get; set; }

        /// <summary>Shared upload cap (null: none); the send loop waits on it before each block.</summary>
        public RateLimiter? UploadLimiter { get; set; }

        /// <summary>Most control messages (haves, rejects, …) queued for a peer that does not read them; past it the
        /// connection is closed rather than let the queue grow.</summary>
        public int MaxQueuedMessages { get; set; } = 4096;

        /// <summary>Why the session closed itself (outbox overflow, silence), for the user's log; null otherwise.</summary>
        public string? CloseReason => Volatile.Read(ref _closeReason);
        private string? _closeReason;

        /// <summary>When the last message of any kind arrived (<see cref="Environment.TickCount"/> milliseconds).</summary>
        public int LastMessageTick => Volatile.Read(ref _lastMessageTick);
        private int _lastMessageTick = Environment.TickCount;

        public void MessageReceived() => Volatile.Write(ref _lastMessageTick, Environment.TickCount);

        /// <summary>Closes the connection, giving the reason for the user's log (the first reason given wins).</summary>
        public void Close(string reason)
        {
            Interlocked.CompareExchange(ref _closeReason, reason, null);
            Connection.Abort();
        }

        /// <summary>Queues a block to upload. Only the request is queued: the data is read from disk when the send
        /// loop is about to write it, so a peer that stops reading costs at most one block of memory.</summary>
        public void QueueUpload(BlockRequest block)
        {
            lock (_uploadLock) _uploads.AddLast(block);
            // One wake-up marker at most is in the outbox: the send loop serves the whole queue when it takes it.
            if (Interlocked.Exchange(ref _uploadWakeQueued, 1) == 0)
                _outbox.Writer.TryWrite(PeerMessage.Piece(0, 0, ReadOnlyMemory<byte>.Empty));
        }

        /// <summary>The peer cancelled a request: true if it was still queued (now dropped).</summary>
        public bool CancelUpload(BlockRequest block)
        {
            lock (_uploadLock)
            {
                for (var node = _uploads.First; node is not null; node = node.Next)
                {
                    if (!node.Value.Equals(block)) continue;
                    _uploads.Remove(node);
                    return true;
                }
            }
            return false;
        }

        /// <summary>We choked the peer: drops every queued request except those for <paramref name="keep"/> pieces
        /// (allowed fast) and returns the dropped ones, to reject them (BEP 6).</summary>
        public List<BlockRequest> DropQueuedUploads(ICollection<int> keep)
        {
            var dropped = new List<BlockRequest>();
            lock (_uploadLock)
            {
                for (var node = _uploads.First; node is not null;)
                {
                    var next = node.Next;
                    if (!keep.Contains(node.Value.Piece))
                    {
                        dropped.Add(node.Value);
                        _uploads.Remove(node);
                    }
                    node = next;
                }
            }
            return dropped;
        }

        private readonly LinkedList<BlockRequest> _uploads = new LinkedList<BlockRequest>();
        private int _uploadWakeQueued;
        private int _queuedMessages;
        private long _sendBlockedSince;

        private bool TryTakeUpload(out BlockRequest block)
        {
            lock (_uploadLock)
            {
                var first = _uploads.First;
                if (first is null) { block = default; return false; }
                _uploads.RemoveFirst();
                block = first.Value;
                return true;
            }
        }

        /// <summary>True when a socket write has been waiting longer than <paramref name="limit"/>: the peer stopped
        /// reading (thread-safe).</summary>
        public bool SendStalled(DateTime now, TimeSpan limit)
        {
            long since = Interlocked.Read(ref _sendBlockedSince);
            return since != 0 && now.Ticks - since > limit.Ticks;
        }

        /// <summary>Payload bytes per second, smoothed over ticks.</summary>
        public double DownloadRate => _rate;

        public void CountPayload(int bytes)
        {
            BytesDownloaded += bytes;
            _rateWindowBytes += bytes;
        }

        /// <summary>Once a second: fold the window into the smoothed rate.</summary>
        public void Tick(double seconds)
        {
            double instant = seconds > 0 ? _rateWindowBytes / seconds : 0;
            _rate = _rate == 0 ? instant : 0.6 * instant + 0.4 * _rate;
            _rateWindowBytes = 0;
            long up = Interlocked.Exchange(ref _uploadWindowBytes, 0);
            double upInstant = seconds > 0 ? up / seconds : 0;
            _uploadRate = _uploadRate == 0 ? upInstant : 0.6 * upInstant + 0.4 * _uploadRate;
        }

        public void Send(PeerMessage message)
        {
            if (Interlocked.Increment(ref _queuedMessages) > MaxQueuedMessages)
            {
                Interlocked.Decrement(ref _queuedMessages);
                message.Dispose();
                Interlocked.CompareExchange(ref _closeReason, $"it does not read what we send ({MaxQueuedMessages} messages queued)", null);
                Connection.Abort();
                return;
            }
            if (!_outbox.Writer.TryWrite(message))
            {
                Interlocked.Decrement(ref _queuedMessages);
                message.Dispose();
            }
        }

        /// <summary>Writes queued messages and serves queued uploads until the connection closes or the token is
        /// cancelled. Control messages go first; blocks are read from disk one at a time, just before they are sent.</summary>
        public async Task RunSendLoopAsync(CancellationToken cancellationToken)
        {
            var reader = _outbox.Reader;
            var writer = Connection.Writer;
            try
            {
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (true)
                    {
                        if (await TryWriteControlAsync(reader, writer, cancellationToken).ConfigureAwait(false)) continue;
                        if (TryTakeUpload(out var block))
                        {
                            await ServeUploadAsync(block, writer, cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        break;
                    }
                    await FlushAsync(writer, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                while (reader.TryRead(out var left)) left.Dispose();
            }
        }

        /// <summary>Flushes, noting when the socket write blocks (for the stall watchdog).</summary>
        private async Task FlushAsync(PeerMessageWriter writer, CancellationToken cancellationToken)
        {
            var flush = writer.FlushAsync(cancellationToken);
            if (flush.IsCompleted) { await flush.ConfigureAwait(false); return; }
            Interlocked.Exchange(ref _sendBlockedSince, DateTime.UtcNow.Ticks);
            try { await flush.ConfigureAwait(false); }
            finally { Interlocked.Exchange(ref _sendBlockedSince, 0); }
        }

        /// <summary>Writes through the batching writer, noting when a socket write blocks (for the stall watchdog).</summary>
        private async ValueTask WriteAsync(PeerMessageWriter writer, PeerMessage message, CancellationToken cancellationToken)
        {
            var write = writer.WriteAsync(message, cancellationToken);
            if (write.IsCompleted) { await write.ConfigureAwait(false); return; }
            Interlocked.Exchange(ref _sendBlockedSince, DateTime.UtcNow.Ticks);
            try { await write.ConfigureAwait(false); }
            finally { Interlocked.Exchange(ref _sendBlockedSince, 0); }
        }

        /// <summary>Writes the next control message, if any (false when the outbox is empty).</summary>
        private async ValueTask<bool> TryWriteControlAsync(ChannelReader<PeerMessage> reader, PeerMessageWriter writer, CancellationToken cancellationToken)
        {
            if (!reader.TryRead(out var message)) return false;
            if (message.Id == PeerMessageId.Piece && message.Payload.IsEmpty)
            {
                // The upload wake-up: cleared before the queue is looked at, so no upload is missed.
                Volatile.Write(ref _uploadWakeQueued, 0);
                return true;
            }
            Interlocked.Decrement(ref _queuedMessages);
            try { await WriteAsync(writer, message, cancellationToken).ConfigureAwait(false); }
            finally { message.Dispose(); }
            return true;
        }

        /// <summary>How often control messages are sent while a block waits for the upload cap.</summary>
        private static readonly TimeSpan ControlWhileThrottled = TimeSpan.FromMilliseconds(50);

        private async Task ServeUploadAsync(BlockRequest block, PeerMessageWriter writer, CancellationToken cancellationToken)
        {
            var limiter = UploadLimiter;
            if (limiter is not null)
            {
                // A tight cap shared by many peers can make a block wait for seconds; haves, rejects and choke
                // messages keep flowing meanwhile, or they would pile up (and trip MaxQueuedMessages) behind it.
                var wait = limiter.Reserve(block.Length + 13);
                var until = DateTime.UtcNow + wait;
                // What is already batched goes out before the wait, not after it.
                if (wait > TimeSpan.Zero) await FlushAsync(writer, cancellationToken).ConfigureAwait(false);
                for (var left = until - DateTime.UtcNow; left > TimeSpan.Zero; left = until - DateTime.UtcNow)
                {
                    await Task.Delay(left < ControlWhileThrottled ? left : ControlWhileThrottled, cancellationToken).ConfigureAwait(false);
                    bool wrote = false;
                    while (await TryWriteControlAsync(_outbox.Reader, writer, cancellationToken).ConfigureAwait(false)) wrote = true;
                    if (wrote) await FlushAsync(writer, cancellationToken).ConfigureAwait(false);
                }
            }
            var data = ReadBlock?.Invoke(block);
            if (data is null) return;
            var piece = PeerMessage.WithPayload(PeerMessageId.Piece, data, block.Piece, block.Offset);
            try { await WriteAsync(writer, piece, cancellationToken).ConfigureAwait(false); }
            finally { piece.Dispose(); }
            Interlocked.Add(ref _bytesUploaded, block.Length);
            Interlocked.Add(ref _uploadWindowBytes, block.Length);
        }

        public void CompleteOutbox() => _outbox.Writer.TryComplete();

        public override string ToString() => $"{EndPoint} ({Client})";
    }
}
