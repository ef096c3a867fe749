using System;
using System.Buffers;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Hands each message a peer sent to the part it concerns (the session's own state, the
    /// <see cref="RequestScheduler"/>, the <see cref="UploadSlots"/>, the <see cref="PiecePicker"/> and
    /// <see cref="PieceCompletion"/>), under the torrent's lock, taken once per message.</summary>
    internal sealed class MessageDispatcher
    {
        /// <summary>Late blocks after a cancel or a snub are normal; past this many (plus one per block it did send
        /// us) a stream of blocks nobody asked for is not.</summary>
        public const int MaxUnrequestedBlocks = 1000;

        private readonly TorrentContext _ctx;
        private readonly RequestScheduler _requests;
        private readonly UploadSlots _uploads;
        private readonly PieceCompletion _completion;

        public MessageDispatcher(TorrentContext context, RequestScheduler requests, UploadSlots uploads, PieceCompletion completion)
        {
            _ctx = context;
            _requests = requests;
            _uploads = uploads;
            _completion = completion;
        }

        private PiecePicker Picker => _ctx.Picker;

        /// <summary>Handles one message. Returns false (with a reason) to close the connection; for a
        /// <see cref="PeerCloseReason.ProtocolViolation"/>, <paramref name="protocolError"/> says which rule was broken.
        /// Violations found while decoding (e.g. a bitfield with spare bits set) are thrown as
        /// <see cref="PeerProtocolException"/>, which carries its own.</summary>
        public bool Handle(PeerSession s, PeerMessage m, out PeerCloseReason reason, out string? detail, out PeerProtocolError? protocolError)
        {
            reason = PeerCloseReason.None;
            detail = null;
            protocolError = null;
            using (_ctx.Lock.Enter())
            {
                if (s.Closed) { reason = PeerCloseReason.Stopped; return false; }
                switch (m.Id)
                {
                    case PeerMessageId.KeepAlive:
                    case PeerMessageId.Port:
                    case PeerMessageId.Suggest:
                        break;
                    case PeerMessageId.Choke:
                        _requests.OnChoked(s);
                        break;
                    case PeerMessageId.Unchoke:
                        s.OnUnchoke();
                        _requests.FillRequests(s);
                        break;
                    case PeerMessageId.Interested:
                        _uploads.OnInterested(s);
                        break;
                    case PeerMessageId.NotInterested:
                        _uploads.OnNotInterested(s);
                        break;
                    case PeerMessageId.Cancel:
                        _uploads.OnCancel(s, m);
                        break;
                    case PeerMessageId.Have:
                        if (s.OnHave(m.Index))
                        {
                            Picker.AddHave(m.Index);
                            if (!s.AmInterested && Picker.IsWanted(m.Index)) s.SetInterested(true);
                            if (BothSeeds(s)) { reason = PeerCloseReason.BothSeeds; detail = BothSeedsDetail; return false; }
                            _requests.FillRequests(s);
                        }
                        break;
                    case PeerMessageId.Bitfield:
                    case PeerMessageId.HaveAll:
                    case PeerMessageId.HaveNone:
                        // BEP 3 wants one of these first and only once, but aria2 1.36 sends 'have none' first and a
                        // full bitfield later, once it has pieces. So they are accepted at any time and merged with
                        // what the peer announced before (a peer's pieces only ever grow).
                        if ((m.Id == PeerMessageId.HaveAll || m.Id == PeerMessageId.HaveNone) && !s.SupportsFast)
                        {
                            reason = PeerCloseReason.InvalidMessage;
                            detail = $"{m.Id} without the fast extension";
                            return false;
                        }
                        Picker.RemovePeer(s.PeerHas);
                        s.OnBitfield(m.Id == PeerMessageId.Bitfield ? Bitfield.FromWire(m.Payload.Span, _ctx.Torrent.PieceCount) : null, m.Id == PeerMessageId.HaveAll);
                        Picker.AddPeer(s.PeerHas);
                        if (BothSeeds(s)) { reason = PeerCloseReason.BothSeeds; detail = BothSeedsDetail; return false; }
                        _requests.UpdateInterest(s);
                        _requests.FillRequests(s);
                        break;
                    case PeerMessageId.Request:
                        if (!_uploads.OnRequest(s, m, out reason, out detail, out protocolError)) return false;
                        break;
                    case PeerMessageId.Piece:
                        OnBlock(s, m);
                        if (s.UnrequestedBlocks > MaxUnrequestedBlocks + s.BytesDownloaded / BlockRequest.BlockSize)
                        {
                            reason = PeerCloseReason.UnrequestedBlocks;
                            detail = "too many blocks we did not ask for";
                            return false;
                        }
                        break;
                    case PeerMessageId.RejectRequest:
                        _requests.OnRejected(s, new BlockRequest(m.Index, m.Begin, m.Length));
                        break;
                    case PeerMessageId.AllowedFast:
                        s.OnAllowedFast(m.Index, _ctx.Torrent.PieceCount);
                        if (s.PeerChoking) _requests.FillRequests(s);
                        break;
                    case PeerMessageId.Extended:
                        if (m.ExtendedId == ExtensionIds.Handshake)
                        {
                            OnExtendedHandshake(s, m.Payload.Span);
                            if (BothSeeds(s)) { reason = PeerCloseReason.BothSeeds; detail = BothSeedsDetail; return false; }
                        }
                        else if (m.ExtendedId == ExtensionIds.UtMetadata && !_ctx.Metadata.OnMessage(s, m.Payload))
                        {
                            reason = PeerCloseReason.UnrequestedBlocks;
                            detail = "too many metadata blocks we did not ask for";
                            return false;
                        }
                        break;
                }
                return true;
            }
        }

        /// <summary>A seed connected to a seed has nothing to give or take: close and free the connection slot.</summary>
        private const string BothSeedsDetail = "both sides are seeds";

        private bool BothSeeds(PeerSession s) => IsBothSeeds(_ctx, s);

        /// <summary>We have all we want and the peer has everything or says it only uploads (BEP 21 upload_only):
        /// neither side will ever ask the other for anything.</summary>
        public static bool IsBothSeeds(TorrentContext ctx, PeerSession s) => ctx.IsDone && (s.PeerHas.IsComplete || s.PeerUploadOnly);

        private void OnExtendedHandshake(PeerSession s, ReadOnlySpan<byte> payload)
        {
            try
            {
                s.OnExtendedHandshake(ExtendedHandshake.Decode(payload), _ctx.Options.MaxRequestQueue);
            }
            catch (PeerProtocolException)
            {
                // A broken extended handshake only costs us its information.
            }
        }

        /// <summary>The read loop's <see cref="PeerMessageReader.BlockDestination"/> (on the reader's thread, before
        /// any byte of the block is read): a block this peer was asked for, that no other peer is writing, is read
        /// straight into its piece's buffer (taken, or given back, in <see cref="OnBlock"/>); anything else goes the
        /// pooled way and is judged there.</summary>
        public IMemoryOwner<byte>? ClaimBlockDestination(PeerSession s, int index, int begin, int length)
        {
            var block = new BlockRequest(index, begin, length);
            using (_ctx.Lock.Enter())
            {
                if (s.Closed || s.Banned || Picker is null) return null;
                if (!s.Outstanding.TryGetValue(block.Key, out var asked) || !asked.Equals(block)) return null;
                return Picker.ClaimBlock(block, _ctx.Lock);
            }
        }

        private void OnBlock(PeerSession s, PeerMessage m)
        {
            _ctx.Lock.AssertHeld();
            // A banned peer's blocks were dropped from every piece; one still on its way must not come back in.
            if (s.Banned) return;
            var block = new BlockRequest(m.Index, m.Begin, m.Payload.Length);
            bool requested = s.RemoveOutstanding(block);
            if (!requested)
            {
                // Only blocks asked of this peer are taken: a peer pushing data nobody requested could otherwise mix
                // garbage into pieces honest peers are filling, and have them blamed for the hash failure.
                s.OnUnrequestedBlock();
                return;
            }
            // Read straight into the piece's buffer (see ClaimBlockDestination): taken without a copy; it is hashed
            // when the message is disposed, after the lock is released.
            var outcome = m.PayloadOwner is BlockClaim claim
                ? Picker.BlockReceived(claim, s, requested, out var partial)
                : Picker.BlockReceived(block, m.Payload.Span, s, requested, out partial);
            if (outcome == BlockOutcome.Unwanted) return;
            if (m.PayloadOwner is BlockClaim) _ctx.BlocksReceivedInPlace++;

            _requests.OnBlockStored(s, block, _ctx.Now);
            if (outcome == BlockOutcome.PieceComplete) _completion.OnPieceComplete(partial!);
            _requests.FillRequests(s);
        }
    }
}
