using System;
using System.Linq;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>The upload side of a download: runs the <see cref="Choker"/> every round and applies its answer, gives
    /// a free slot to a peer as soon as it becomes interested, and decides each request a peer sends
    /// (<see cref="UploadRequestPolicy"/>). Everything here runs under the torrent's lock.</summary>
    internal sealed class UploadSlots
    {
        /// <summary>Most requests we decline (pieces we lack, requests while choked) before closing the connection:
        /// an honest peer's requests that crossed our choke are far fewer.</summary>
        public const int MaxDeclinedRequests = 1000;

        private readonly TorrentContext _ctx;
        private readonly Random _random = new Random();
        private PeerSession? _optimistic;
        private DateTime _optimisticSince = DateTime.MinValue;
        private DateTime _lastRound = DateTime.MinValue;

        public UploadSlots(TorrentContext context) => _ctx = context;

        /// <summary>The peer holding the optimistic slot (for tests and diagnostics).</summary>
        public PeerSession? Optimistic => _optimistic;

        /// <summary>Called every tick: a choke round when one is due.</summary>
        public void Tick(DateTime now)
        {
            _ctx.Lock.AssertHeld();
            if (now - _lastRound < Choker.Interval) return;
            _lastRound = now;
            Rechoke(now);
        }

        public void Rechoke(DateTime now)
        {
            _ctx.Lock.AssertHeld();
            var sessions = _ctx.Sessions;
            var snapshot = sessions.Where(x => !x.Closed)
                .Select(x => new ChokeCandidate(x, x.PeerInterested, x.AmChoking, x.DownloadRate, x.UploadRate, x.UnchokedAt, x.ChokedAt))
                .ToList();
            var decision = Choker.Decide(snapshot, _ctx.Picker.IsComplete, now, _ctx.Options.UploadSlots, _optimistic, _optimisticSince, _random.Next);
            _optimistic = (PeerSession?)decision.Optimistic;
            _optimisticSince = decision.OptimisticSince;
            foreach (var x in sessions)
            {
                if (decision.Unchoked.Contains(x)) x.Unchoke(now);
                else x.Choke(now);
            }
        }

        public void OnInterested(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            s.OnInterested(true);
            UnchokeIfSlotFree(s);
        }

        public void OnNotInterested(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            s.OnInterested(false);
            if (s.AmChoking) return;
            s.Choke(_ctx.Now);
            GiveFreeSlot();
        }

        /// <summary>A session left: forget it as the optimistic peer, and give its slot to someone waiting.</summary>
        public void OnSessionRemoved(PeerSession s)
        {
            _ctx.Lock.AssertHeld();
            if (ReferenceEquals(_optimistic, s)) _optimistic = null;
            if (!s.AmChoking) GiveFreeSlot();
        }

        /// <summary>Checks a request and queues it, declines it (a 'reject request' for BEP 6 peers, silence for
        /// others) or returns false with a reason to close the connection.</summary>
        public bool OnRequest(PeerSession s, PeerMessage m, out PeerCloseReason closeReason, out string? detail, out PeerProtocolError? protocolError)
        {
            _ctx.Lock.AssertHeld();
            closeReason = PeerCloseReason.None;
            protocolError = null;
            var decision = UploadRequestPolicy.Decide(_ctx.Torrent.GetPieceLength(m.Index), m.Begin, m.Length, _ctx.Have[m.Index],
                s.AmChoking, s.OurAllowedFast.Contains(m.Index), s.PendingUploads >= _ctx.Options.MaxUploadQueue, out detail);
            switch (decision)
            {
                case UploadDecision.Serve:
                    s.QueueUpload(new BlockRequest(m.Index, m.Begin, m.Length));
                    return true;
                case UploadDecision.Disconnect:
                    // A block length or range no honest peer asks for: the request's fields are out of range.
                    closeReason = PeerCloseReason.ProtocolViolation;
                    protocolError = PeerProtocolError.MalformedMessage;
                    return false;
                default:
                    if (s.SupportsFast) s.Send(PeerMessage.RejectRequest(m.Index, m.Begin, m.Length));
                    // A peer that keeps asking for what we do not have, or while choked, is broken or hostile.
                    int declined = s.DeclineRequest();
                    if (declined > MaxDeclinedRequests)
                    {
                        closeReason = PeerCloseReason.TooManyDeclinedRequests;
                        detail = $"{declined} declined requests (last: {detail})";
                        return false;
                    }
                    detail = null;
                    return true;
            }
        }

        /// <summary>The peer cancelled a request (BEP 6: answered with the block if already on its way, else a reject).</summary>
        public void OnCancel(PeerSession s, PeerMessage m)
        {
            _ctx.Lock.AssertHeld();
            if (s.CancelUpload(new BlockRequest(m.Index, m.Begin, m.Length)) && s.SupportsFast)
                s.Send(PeerMessage.RejectRequest(m.Index, m.Begin, m.Length));
        }

        private void GiveFreeSlot()
        {
            foreach (var other in _ctx.Sessions)
                if (other.PeerInterested && other.AmChoking) { UnchokeIfSlotFree(other); break; }
        }

        /// <summary>A peer became interested: give it a slot now if one is free, rather than at the next round.</summary>
        private void UnchokeIfSlotFree(PeerSession s)
        {
            if (!s.AmChoking) return;
            int unchoked = _ctx.Sessions.Count(x => !x.AmChoking);
            if (unchoked < _ctx.Options.UploadSlots) s.Unchoke(_ctx.Now);
        }
    }
}
