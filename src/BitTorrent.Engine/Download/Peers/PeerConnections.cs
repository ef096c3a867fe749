using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>The torrent's connections: dialling known peers (through the <see cref="IPeerConnector"/>), taking
    /// the ones the listener accepted (evicting the idlest peer when full), greeting, each session's read loop, and
    /// removing a session when its connection ends, with the reason it ended.</summary>
    internal sealed class PeerConnections
    {
        /// <summary>Idle this long (no payload either way, or since it connected) before a peer may be dropped to make
        /// room: a newcomer gets that long to start trading.</summary>
        public static readonly TimeSpan EvictableAfter = TimeSpan.FromSeconds(5);

        /// <summary>Two minutes and a half without even a keep-alive ends the connection, as in BEP 3 practice.</summary>
        public static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(150);

        private readonly TorrentContext _ctx;
        private readonly MessageDispatcher _dispatcher;
        private readonly RequestScheduler _requests;
        private readonly UploadSlots _uploads;
        private readonly PieceCompletion _completion;
        private readonly List<Task> _background = new List<Task>();
        private int _connecting;

        public PeerConnections(TorrentContext context, MessageDispatcher dispatcher, RequestScheduler requests, UploadSlots uploads, PieceCompletion completion)
        {
            _ctx = context;
            _dispatcher = dispatcher;
            _requests = requests;
            _uploads = uploads;
            _completion = completion;
        }

        private DownloadOptions Options => _ctx.Options;

        /// <summary>Connection attempts in progress (lock).</summary>
        public int Connecting => _connecting;

        /// <summary>Dials known peers while there is room (lock held by the caller).</summary>
        public void ConnectMore(CancellationToken token)
        {
            _ctx.Lock.AssertHeld();
            int room = Math.Min(Options.MaxConnections - _ctx.Sessions.Count - _connecting, Options.MaxHalfOpen - _connecting);
            if (room > 0)
            {
                foreach (var c in _ctx.Candidates.TakeToDial(_ctx.Now, room, starving: _ctx.Sessions.Count == 0, seeding: _ctx.Picker.IsComplete))
                {
                    _connecting++;
                    _background.Add(ConnectAsync(c, token));
                }
            }
            _background.RemoveAll(t => t.IsCompleted);
        }

        /// <summary>Connections still being made or run (for a bounded wait at shutdown).</summary>
        public Task[] Background()
        {
            using (_ctx.Lock.Enter()) return _background.ToArray();
        }

        private Handshake OurHandshake() => Handshake.Create(_ctx.Torrent.InfoHashBytes, _ctx.Services.PeerId, extensionProtocol: true, fastExtension: true);

        private async Task ConnectAsync(PeerCandidate candidate, CancellationToken token)
        {
            PeerConnection? connection = null;
            PeerSession? session = null;
            try
            {
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
                using (var timer = _ctx.Clock.CreateTimer(_ => Cancel(timeout), null, Options.ConnectTimeout + Options.ConnectTimeout, Timeout.InfiniteTimeSpan))
                {
                    var limits = PeerMessageLimits.Default.WithPieceCount(_ctx.Torrent.PieceCount);
                    connection = await _ctx.Services.Connector.ConnectAsync(candidate.EndPoint, limits, timeout.Token).ConfigureAwait(false);
                    var theirs = await connection.ExchangeHandshakesAsync(OurHandshake(), timeout.Token).ConfigureAwait(false);
                    if (theirs.PeerId.SequenceEqual(_ctx.Services.PeerId))
                        throw new IOException("Connected to ourselves.");
                    session = NewSession(connection, candidate.EndPoint, theirs, incoming: false);
                }
                using (_ctx.Lock.Enter())
                {
                    _connecting--;
                    _ctx.Candidates.Connected(candidate);
                    Add(session);
                }
            }
            catch (Exception ex)
            {
                connection?.Dispose();
                using (_ctx.Lock.Enter())
                {
                    _connecting--;
                    _ctx.Candidates.ConnectFailed(candidate, _ctx.Now);
                }
                if (!(ex is OperationCanceledException) || !token.IsCancellationRequested)
                    _ctx.Publish(EngineEventKind.PeerConnectFailed, EventSeverity.Verbose, $"Could not connect to {candidate.Key}: {ex.Message}", peerKey: candidate.Key, exception: ex);
                return;
            }
            await RunSessionAsync(session, candidate, token).ConfigureAwait(false);
        }

        private static void Cancel(CancellationTokenSource cts)
        {
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
        }

        private PeerSession NewSession(PeerConnection connection, IPEndPoint endPoint, Handshake theirs, bool incoming) =>
            new PeerSession(connection, endPoint, theirs, _ctx.Torrent.PieceCount, _ctx.Lock, _ctx.Clock, Options.MinRequestQueue, incoming)
            {
                ReadBlock = _completion.ReadBlockForUpload,
                UploadLimiter = Options.UploadLimiter,
            };

        /// <summary>Takes a connection the listener accepted (the peer's handshake is read; ours is sent here) and
        /// runs it until it ends.</summary>
        public async Task AcceptAsync(PeerConnection connection, Handshake theirs, CancellationToken token)
        {
            var endPoint = connection.RemoteEndPoint;
            PeerCandidate candidate;
            using (_ctx.Lock.Enter())
            {
                if (_ctx.Candidates.IsBanned(PeerCandidates.KeyOf(endPoint)))
                {
                    connection.Dispose();
                    return;
                }
                // Full (in all, or for the caller's address): make room by dropping the peer idle longest (no payload
                // either way for a while) rather than turning the newcomer away — else peers that connect and sit
                // there (a handshake flood) keep every slot and lock honest peers out. One address gets at most
                // MaxConnectionsPerAddress incoming slots, so a crowd from one host cannot take them all.
                var address = Unmapped(endPoint.Address);
                Func<PeerSession, bool> sameAddress = x => x.Incoming && Unmapped(x.EndPoint.Address).Equals(address);
                bool addressFull = _ctx.Sessions.Count(x => !x.Evicted && sameAddress(x)) >= Options.MaxConnectionsPerAddress;
                if (addressFull || _ctx.Sessions.Count(x => !x.Evicted) >= Options.MaxConnections + 10)
                {
                    var victim = IdlestSession(_ctx.Now, addressFull ? sameAddress : null);
                    if (victim is null)
                    {
                        connection.Dispose();
                        return;
                    }
                    victim.Evict();
                }
                candidate = _ctx.Candidates.Incoming(endPoint);
            }
            PeerSession session;
            try
            {
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(token))
                using (var timer = _ctx.Clock.CreateTimer(_ => Cancel(timeout), null, Options.ConnectTimeout, Timeout.InfiniteTimeSpan))
                {
                    await connection.Writer.WriteHandshakeAsync(OurHandshake(), timeout.Token).ConfigureAwait(false);
                    await connection.Writer.FlushAsync(timeout.Token).ConfigureAwait(false);
                }
                session = NewSession(connection, endPoint, theirs, incoming: true);
            }
            catch (Exception)
            {
                connection.Dispose();
                using (_ctx.Lock.Enter()) _ctx.Candidates.ConnectFailed(candidate, _ctx.Now);
                return;
            }
            using (_ctx.Lock.Enter()) Add(session);
            await RunSessionAsync(session, candidate, token).ConfigureAwait(false);
        }

        private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

        private PeerSession? IdlestSession(DateTime now, Func<PeerSession, bool>? among)
        {
            PeerSession? idlest = null;
            foreach (var x in _ctx.Sessions)
            {
                if (x.Evicted || x.Closed || now - x.LastUsefulAt < EvictableAfter || (among is not null && !among(x))) continue;
                if (idlest is null || x.LastUsefulAt < idlest.LastUsefulAt) idlest = x;
            }
            return idlest;
        }

        private void Add(PeerSession session)
        {
            _ctx.Lock.AssertHeld();
            _ctx.Sessions.Add(session);
            SendGreeting(session);
            _ctx.Publish(EngineEventKind.PeerConnected, EventSeverity.Verbose, $"Connected to {session}{(session.Incoming ? " (it called us)" : "")}.", session);
        }

        private void SendGreeting(PeerSession session)
        {
            var have = _ctx.Have;
            if (session.SupportsExtensions) SendExtendedHandshake(session, uploadOnly: _ctx.IsDone);
            if (have.Count == 0)
            {
                if (session.SupportsFast) session.Send(PeerMessage.HaveNone);
            }
            else if (have.IsComplete && session.SupportsFast) session.Send(PeerMessage.HaveAll);
            else session.Send(PeerMessage.Bitfield(have.ToArray()));
            if (session.SupportsFast && have.Count > 0)
            {
                // BEP 6 allowed fast: a few pieces the peer may fetch while choked, to have something to trade.
                foreach (int piece in AllowedFastSet.Compute(session.EndPoint.Address, _ctx.Torrent.InfoHashBytes, _ctx.Torrent.PieceCount))
                    if (have[piece]) session.GrantAllowedFast(piece);
            }
        }

        /// <summary>BEP 10: ut_metadata and (not for a private torrent) ut_pex under our ids, our metadata's size, our
        /// listen port, the address we see the peer at, our upload queue, and BEP 21 upload_only once we have
        /// everything we want (a seed: a peer that also is one closes the connection rather than idle in it). Sent
        /// whole again when we finish: Transmission reads every handshake as the full list, so a delta naming only
        /// upload_only would turn our extensions off there.</summary>
        private void SendExtendedHandshake(PeerSession session, bool uploadOnly)
        {
            int port = Options.ListenPort > 0 ? Options.ListenPort : _ctx.Services.ListenPort;
            var ext = ExtendedHandshake.CreateLocal(ClientIdentity.ClientName, Options.MaxUploadQueue, port, session.EndPoint.Address,
                _ctx.Metadata.MetadataSize, uploadOnly, isPrivate: _ctx.Torrent.IsPrivate);
            if (uploadOnly) session.MarkToldUploadOnly();
            session.Send(PeerMessage.Extended(ExtensionIds.Handshake, ext.Encode()));
        }

        private async Task RunSessionAsync(PeerSession session, PeerCandidate candidate, CancellationToken token)
        {
            using var sessionCts = CancellationTokenSource.CreateLinkedTokenSource(token);
            var sendLoop = session.RunSendLoopAsync(sessionCts.Token);
            var reason = PeerCloseReason.None;
            string? detail = null;
            PeerProtocolError? protocolError = null;
            try
            {
                var reader = session.Connection.Reader;
                // Blocks this peer was asked for are read straight into their piece's buffer (no copy); the message's
                // dispose below, outside the lock, then feeds the piece's SHA-1 while the bytes are cache-hot.
                reader.BlockDestination = (index, begin, length) => _dispatcher.ClaimBlockDestination(session, index, begin, length);
                while (!sessionCts.IsCancellationRequested)
                {
                    // No timer per read (that cost a timer per 64 KiB and kept thousands alive): the 1 s tick closes
                    // a connection that has been silent too long (see Tick).
                    var message = await reader.ReadAsync(sessionCts.Token).ConfigureAwait(false);
                    session.MessageReceived();
                    int payload = message.Id == PeerMessageId.Piece ? message.Payload.Length : 0;
                    using (message)
                    {
                        if (!_dispatcher.Handle(session, message, out reason, out detail, out protocolError)) break;
                    }
                    // The download cap holds back reading: the peer's sends then wait on TCP flow control.
                    if (payload > 0 && Options.DownloadLimiter is RateLimiter limiter)
                        await limiter.WaitAsync(payload + 13, sessionCts.Token).ConfigureAwait(false);
                    if (sendLoop.IsCompleted)
                    {
                        reason = session.CloseReason != PeerCloseReason.None ? session.CloseReason : PeerCloseReason.ConnectionClosed;
                        detail = session.CloseDetail ?? "send failed";
                        break;
                    }
                }
            }
            catch (OperationCanceledException) { }
            catch (PeerProtocolException ex)
            {
                reason = PeerCloseReason.ProtocolViolation;
                protocolError = ex.Error;
                detail = "protocol violation: " + ex.Message;
            }
            catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is System.Net.Sockets.SocketException || ex is ObjectDisposedException)
            {
                // We closed it (ban, eviction, stall, silence …): that reason; else the peer or the network did.
                reason = session.CloseReason != PeerCloseReason.None ? session.CloseReason : PeerCloseReason.ConnectionClosed;
                detail = session.CloseDetail ?? "connection closed";
            }
            finally
            {
                sessionCts.Cancel();
                session.CompleteOutbox();
                session.Connection.Abort();
                try { await sendLoop.ConfigureAwait(false); } catch (Exception) { }
                session.Connection.Dispose();
                using (_ctx.Lock.Enter())
                {
                    Remove(session);
                    _ctx.Candidates.Disconnected(candidate, _ctx.Now, ban: session.HashFailures >= Options.BanAfterHashFailures, knownSeed: reason == PeerCloseReason.BothSeeds);
                }
                if (reason != PeerCloseReason.None && !token.IsCancellationRequested)
                    _ctx.Publish(EngineEventKind.PeerDisconnected, EventSeverity.Verbose, $"Disconnected from {session}: {detail ?? reason.ToString()}.", session, reason,
                        protocolError: reason == PeerCloseReason.ProtocolViolation ? protocolError : null);
            }
        }

        private void Remove(PeerSession session)
        {
            _ctx.Lock.AssertHeld();
            if (!session.MarkClosed()) return;
            _ctx.Sessions.Remove(session);
            _ctx.Metadata.OnSessionRemoved(session);
            _ctx.BytesUploadedClosed += session.BytesUploaded;
            if (session.BytesUploaded > 0) _ctx.PeersServedClosed++;
            // Its upload slot is free: give it to someone waiting.
            _uploads.OnSessionRemoved(session);
            _ctx.Picker.RemovePeer(session.PeerHas);
            _requests.DropOutstanding(session, sendCancel: false);
            _ctx.Picker.ReleasePeer(session, discardItsBlocks: session.HashFailures >= Options.BanAfterHashFailures);
            _requests.FillAllRequests();
        }

        /// <summary>Once a second, per peer (lock held): close the silent and the stalled, then the requests' tick.</summary>
        public void Tick(DateTime now, double seconds)
        {
            _ctx.Lock.AssertHeld();
            bool done = _ctx.IsDone;
            foreach (var s in _ctx.Sessions.ToArray())
            {
                s.Tick(seconds, now);
                if (now - s.LastMessageAt > SilenceLimit)
                {
                    s.Close(PeerCloseReason.Silent, $"silent for {(int)SilenceLimit.TotalSeconds} s");
                    continue;
                }
                if (done && s.SupportsExtensions && !s.ToldUploadOnly)
                {
                    // We just finished: tell the peer (BEP 21). A seed among them is let go at the next tick, once
                    // this has gone out.
                    SendExtendedHandshake(s, uploadOnly: true);
                }
                else if (MessageDispatcher.IsBothSeeds(_ctx, s))
                {
                    // We finished while connected to a seed (or an upload-only peer): nothing left to trade.
                    s.Close(PeerCloseReason.BothSeeds, "both sides are seeds");
                    continue;
                }
                if (s.SendStalled(now, Options.SendStallTimeout))
                {
                    // It stopped reading: the socket buffer is full and our writes wait. Free the slot.
                    s.Close(PeerCloseReason.SendStalled, $"it has not read what we sent for {(int)Options.SendStallTimeout.TotalSeconds} s");
                    continue;
                }
                _requests.Tick(s, now);
            }
        }

        /// <summary>Closes every connection (shutdown).</summary>
        public void AbortAll()
        {
            PeerSession[] sessions;
            using (_ctx.Lock.Enter()) sessions = _ctx.Sessions.ToArray();
            foreach (var s in sessions) s.Close(PeerCloseReason.Stopped, "stopped");
        }
    }
}
