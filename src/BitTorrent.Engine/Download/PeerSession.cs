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
        private readonly HashSet<long> _cancelledUploads = new HashSet<long>();
        private int _pendingUploads;

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

        /// <summary>Payload bytes sent to this peer (updated by the send loop).</summary>
        public long BytesUploaded => System.Threading.Interlocked.Read(ref _bytesUploaded);
        private long _bytesUploaded;

        /// <summary>Payload bytes per second sent, smoothed over ticks.</summary>
        public double UploadRate => _uploadRate;

        /// <summary>Requests accepted and not yet served (thread-safe).</summary>
        public int PendingUploads => System.Threading.Volatile.Read(ref _pendingUploads);

        /// <summary>Reads a block we have from disk into a pooled buffer; null if it cannot be read.</summary>
        public Func<BlockRequest, PooledBuffer?>? ReadBlock { get; set; }

        /// <summary>Queues a block to upload. Only a marker is queued: the data is read from disk when the send
        /// loop is about to write it, so a peer that stops reading costs at most one block of memory.</summary>
        public void QueueUpload(BlockRequest block)
        {
            System.Threading.Interlocked.Increment(ref _pendingUploads);
            int generation;
            lock (_uploadLock)
            {
                _cancelledUploads.Remove(block.Key);
                generation = _chokeGeneration;
            }
            // The marker's details go first: the send loop may take the marker the moment it is queued.
            _uploadMarkers.Enqueue((block.Length, generation));
            Send(PeerMessage.Piece(block.Piece, block.Offset, ReadOnlyMemory<byte>.Empty));
        }

        private readonly System.Collections.Concurrent.ConcurrentQueue<(int Length, int Generation)> _uploadMarkers =
            new System.Collections.Concurrent.ConcurrentQueue<(int Length, int Generation)>();
        private int _chokeGeneration;

        /// <summary>The peer cancelled a request, or we choked it: drop it if it is still queued.</summary>
        public void CancelUpload(BlockRequest block)
        {
            lock (_uploadLock) _cancelledUploads.Add(block.Key);
        }

        /// <summary>Drops every upload queued so far (we choked the peer); later ones are served.</summary>
        public void CancelAllUploads()
        {
            lock (_uploadLock)
            {
                _chokeGeneration++;
                _cancelledUploads.Clear();
            }
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
            long up = System.Threading.Interlocked.Exchange(ref _uploadWindowBytes, 0);
            double upInstant = seconds > 0 ? up / seconds : 0;
            _uploadRate = _uploadRate == 0 ? upInstant : 0.6 * upInstant + 0.4 * _uploadRate;
        }

        public void Send(PeerMessage message)
        {
            if (!_outbox.Writer.TryWrite(message)) message.Dispose();
        }

        /// <summary>Writes queued messages until the connection closes or the token is cancelled.</summary>
        public async Task RunSendLoopAsync(CancellationToken cancellationToken)
        {
            var reader = _outbox.Reader;
            var writer = Connection.Writer;
            try
            {
                while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (reader.TryRead(out var message))
                    {
                        if (message.Id == PeerMessageId.Piece && message.Payload.IsEmpty)
                        {
                            await ServeUploadAsync(message, writer, cancellationToken).ConfigureAwait(false);
                            continue;
                        }
                        try { await writer.WriteAsync(message, cancellationToken).ConfigureAwait(false); }
                        finally { message.Dispose(); }
                    }
                    await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                while (reader.TryRead(out var left)) left.Dispose();
            }
        }

        private async Task ServeUploadAsync(PeerMessage marker, PeerMessageWriter writer, CancellationToken cancellationToken)
        {
            _uploadMarkers.TryDequeue(out var details);
            System.Threading.Interlocked.Decrement(ref _pendingUploads);
            int length = details.Length;
            var block = new BlockRequest(marker.Index, marker.Begin, length);
            lock (_uploadLock)
            {
                if (details.Generation != _chokeGeneration) return;
                if (_cancelledUploads.Remove(block.Key)) return;
            }
            var data = ReadBlock?.Invoke(block);
            if (data is null) return;
            var piece = PeerMessage.WithPayload(PeerMessageId.Piece, data, block.Piece, block.Offset);
            try { await writer.WriteAsync(piece, cancellationToken).ConfigureAwait(false); }
            finally { piece.Dispose(); }
            System.Threading.Interlocked.Add(ref _bytesUploaded, length);
            System.Threading.Interlocked.Add(ref _uploadWindowBytes, length);
        }

        public void CompleteOutbox() => _outbox.Writer.TryComplete();

        public override string ToString() => $"{EndPoint} ({Client})";
    }
}
