using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>The sending half of a peer session: an outbox drained by one send loop that batches messages and
    /// flushes when the outbox is empty, and the queue of blocks to upload. Thread-safe on its own (its own small
    /// lock and interlocked counters), so the torrent's lock is never held across a socket write.</summary>
    internal sealed partial class PeerSession
    {
        private readonly Channel<PeerMessage> _outbox = Channel.CreateUnbounded<PeerMessage>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        private readonly object _uploadLock = new object();
        private long _uploadWindowBytes;
        private double _uploadRate;

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

        /// <summary>Reads a block we have from storage into a pooled buffer; null if it cannot be read.</summary>
        public Func<BlockRequest, PooledBuffer?>? ReadBlock { get; set; }

        /// <summary>Shared upload cap (null: none); the send loop waits on it before each block.</summary>
        public RateLimiter? UploadLimiter { get; set; }

        /// <summary>Most control messages (haves, rejects, …) queued for a peer that does not read them; past it the
        /// connection is closed rather than let the queue grow.</summary>
        public int MaxQueuedMessages { get; set; } = 4096;

        private void TickUpload(double seconds)
        {
            long up = Interlocked.Exchange(ref _uploadWindowBytes, 0);
            double upInstant = seconds > 0 ? up / seconds : 0;
            _uploadRate = _uploadRate == 0 ? upInstant : 0.6 * upInstant + 0.4 * _uploadRate;
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

        public void Send(PeerMessage message)
        {
            if (Interlocked.Increment(ref _queuedMessages) > MaxQueuedMessages)
            {
                Interlocked.Decrement(ref _queuedMessages);
                message.Dispose();
                Close(PeerCloseReason.SendStalled, $"it does not read what we send ({MaxQueuedMessages} messages queued)");
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
            Interlocked.Exchange(ref _sendBlockedSince, _clock.GetUtcNow().UtcDateTime.Ticks);
            try { await flush.ConfigureAwait(false); }
            finally { Interlocked.Exchange(ref _sendBlockedSince, 0); }
        }

        /// <summary>Writes through the batching writer, noting when a socket write blocks (for the stall watchdog).</summary>
        private async ValueTask WriteAsync(PeerMessageWriter writer, PeerMessage message, CancellationToken cancellationToken)
        {
            var write = writer.WriteAsync(message, cancellationToken);
            if (write.IsCompleted) { await write.ConfigureAwait(false); return; }
            Interlocked.Exchange(ref _sendBlockedSince, _clock.GetUtcNow().UtcDateTime.Ticks);
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
                var until = _clock.GetUtcNow().UtcDateTime + wait;
                // What is already batched goes out before the wait, not after it.
                if (wait > TimeSpan.Zero) await FlushAsync(writer, cancellationToken).ConfigureAwait(false);
                for (var left = until - _clock.GetUtcNow().UtcDateTime; left > TimeSpan.Zero; left = until - _clock.GetUtcNow().UtcDateTime)
                {
                    await _clock.Delay(left < ControlWhileThrottled ? left : ControlWhileThrottled, cancellationToken).ConfigureAwait(false);
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
    }
}
