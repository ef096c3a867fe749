using System;
using System.Collections.Generic;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>What we ask each peer for: the request pipeline per peer (sized from its rate, grown by slow start,
    /// topped up in batches), snubbing a peer that stops sending (its requests go to others), interest, and the
    /// endgame's duplicate requests with their cancels. The <see cref="PiecePicker"/> chooses the blocks; this class
    /// decides how many and from whom. Everything here runs under the torrent's lock.</summary>
    internal sealed class RequestScheduler
    {
        /// <summary>Requests sent at once when a queue is topped up.</summary>
        public const int RequestBatch = 16;

        private readonly TorrentContext _ctx;
        private readonly List<BlockRequest> _pickBuffer = new List<BlockRequest>(256);

        public RequestScheduler(TorrentContext context) => _ctx = context;

        private DownloadOptions Options => _ctx.Options;
        private PiecePicker Picker => _ctx.Picker;

        /// <summary>Keeps a peer's request queue full (when it has something we want and lets us ask).</summary>
        public void FillRequests(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            if (s.Closed || !s.AmInterested) return;
            bool choked = s.PeerChoking;
            if (choked && s.AllowedFast.Count == 0) return;
            int target = Math.Min(s.DesiredQueue, s.PeerRequestQueue);
            int outstanding = s.OutstandingCount;
            int want = target - outstanding;
            if (want <= 0) return;
            // Top the queue up in batches, not one request per block received: one send (and one wake-up of the send
            // loop) per batch instead of per 16 KiB. The queue never runs dry: half of it is still in flight.
            if (outstanding > 0 && want < Math.Min(RequestBatch, (target + 1) / 2)) return;
            _pickBuffer.Clear();
            var mine = s.Outstanding;
            Picker.Pick(s.PeerHas, want, _pickBuffer, b => mine.ContainsKey(b.Key), choked ? s.AllowedFast : null, s);
            foreach (var b in _pickBuffer) s.AddOutstanding(b);
        }

        public void FillAllRequests()
        {
            _ctx.Lock.AssertHeld();
            foreach (var s in _ctx.Sessions) FillRequests(s);
        }

        /// <summary>Its requests are given up (choke, snub, disconnect): the blocks may be asked of others.</summary>
        public void DropOutstanding(PeerSession s, bool sendCancel)
        {
            _ctx.Lock.AssertHeld();
            foreach (var b in s.TakeOutstanding(sendCancel)) Picker.RequestDropped(b);
        }

        public void UpdateInterest(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            bool want = Picker.IsInteresting(s.PeerHas);
            if (want != s.AmInterested) s.SetInterested(want);
        }

        /// <summary>Nothing is wanted any more: tell every peer.</summary>
        public void LoseInterestInAll()
        {
            _ctx.Lock.AssertHeld();
            foreach (var s in _ctx.Sessions) if (s.AmInterested) s.SetInterested(false);
        }

        /// <summary>The peer choked us: without the fast extension our requests are gone; with it, rejects follow.</summary>
        public void OnChoked(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            s.OnChoke();
            if (!s.SupportsFast) DropOutstanding(s, sendCancel: false);
        }

        public void OnRejected(PeerSession s, BlockRequest block)
        {
            _ctx.Lock.AssertHeld();
            if (s.RemoveOutstanding(block)) Picker.RequestDropped(block);
            FillAllRequests();
        }

        /// <summary>Once a second per peer: snub it when it sat on requests for the snub timeout, else size its
        /// queue from its rate (libtorrent's request_queue_time), within the minimum and the peer's reqq.</summary>
        public void Tick(PeerSession s, DateTime now)
        {
            _ctx.Lock.AssertHeld();
            int cap = Math.Max(1, Math.Min(Options.MaxRequestQueue, s.PeerRequestQueue));
            if (s.OutstandingCount > 0 && now - s.LastBlockAt > Options.SnubTimeout)
            {
                // Snubbed: give its requests to others, keep one outstanding to see if it recovers.
                bool first = s.Snub();
                DropOutstanding(s, sendCancel: true);
                Picker.ReleasePeer(s, discardItsBlocks: false);
                if (first)
                    _ctx.Publish(EngineEventKind.PeerSnubbed, EventSeverity.Verbose, $"Peer {s} sent nothing for {(int)Options.SnubTimeout.TotalSeconds} s: snubbed, its requests go to other peers.", s);
            }
            else if (!s.Snubbed)
            {
                int fromRate = (int)Math.Min(int.MaxValue, s.DownloadRate * Options.RequestQueueSeconds / BlockRequest.BlockSize);
                s.SetDesiredQueue(Math.Min(cap, Math.Max(Math.Max(Options.MinRequestQueue, fromRate), s.DesiredQueue)));
            }
            UpdateInterest(s);
        }

        /// <summary>A wanted block arrived from a peer that had asked for it: count it, grow the peer's queue, cancel
        /// the same block wherever else the endgame asked for it, and top the queue up.</summary>
        public void OnBlockStored(PeerSession s, BlockRequest block, DateTime now)
        {
            _ctx.Lock.AssertHeld();
            s.OnBlock(block.Length, now, Options.MinRequestQueue, Math.Min(Options.MaxRequestQueue, s.PeerRequestQueue));
            _ctx.LastPayloadAt = now;
            System.Threading.Interlocked.Add(ref _ctx.BytesDownloaded, block.Length);
            _ctx.RateWindow += block.Length;
            if (Picker.InEndgame) CancelDuplicates(s, block);
        }

        /// <summary>Endgame: someone else may have the same block outstanding: cancel it there.</summary>
        public void CancelDuplicates(PeerSession receivedFrom, BlockRequest block)
        {
            _ctx.Lock.AssertHeld();
            foreach (var other in _ctx.Sessions)
            {
                if (other == receivedFrom || !other.RemoveOutstanding(block)) continue;
                Picker.RequestDropped(block);
                other.Send(PeerMessage.Cancel(block.Piece, block.Offset, block.Length));
            }
        }
    }
}
