using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Events;
using BitTorrent.Wire;

namespace BitTorrent.Session
{
    internal sealed partial class MetadataFetcher
    {
        /// <summary>Our request queue as told in the handshake: we serve nothing while fetching, so it is small.</summary>
        private const int OurRequestQueue = 250;

        /// <summary>Dials one candidate, handshakes (BEP 3 with the extension bit, then BEP 10) and reads the
        /// connection until it ends or the fetch does; reports why it ended.</summary>
        private async Task RunPeerAsync(Candidate candidate)
        {
            var token = _token;
            PeerConnection? connection = null;
            MetadataFetchPeer? peer = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                using var timer = _clock.CreateTimer(_ => Cancel(timeout), null, ConnectTimeout, Timeout.InfiniteTimeSpan);
                connection = await _services.Connector.ConnectAsync(candidate.EndPoint, PeerMessageLimits.Default, timeout.Token).ConfigureAwait(false);
                using (timeout.Token.Register(connection.Abort))
                {
                    var ours = Handshake.Create(_infoHash, _services.PeerId, extensionProtocol: true, fastExtension: true);
                    var theirs = await connection.ExchangeHandshakesAsync(ours, timeout.Token).ConfigureAwait(false);
                    if (theirs.PeerId.SequenceEqual(_services.PeerId)) throw new IOException("Connected to ourselves.");
                    if (!theirs.SupportsExtensionProtocol)
                        throw new IOException("It does not speak the extension protocol (BEP 10), so it cannot send metadata.");
                    peer = new MetadataFetchPeer(connection, candidate.EndPoint, candidate.Key) { ConnectedAt = _clock.GetTimestamp() };
                    await peer.SendAsync(PeerMessage.Extended(ExtensionIds.Handshake, OurHandshake(candidate).Encode()), timeout.Token).ConfigureAwait(false);
                    if (theirs.SupportsFastExtension) await peer.SendAsync(PeerMessage.HaveNone, timeout.Token).ConfigureAwait(false);
                    timeout.Token.ThrowIfCancellationRequested();
                }
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                connection?.Dispose();
                lock (_sync)
                {
                    _connecting--;
                    _connectFailures++;
                    candidate.Busy = false;
                }
                if (!token.IsCancellationRequested)
                    Publish(EngineEventKind.PeerConnectFailed, EventSeverity.Verbose, $"Could not connect to {candidate.Key} for the metadata: {ex.Message}",
                        peer: candidate.Key, exception: ex);
                return;
            }

            lock (_sync)
            {
                _connecting--;
                _peers.Add(peer);
            }
            Publish(EngineEventKind.PeerConnected, EventSeverity.Verbose, $"Connected to {candidate.Key} to ask for the metadata.", peer: candidate.Key);
            string? detail = null;
            try
            {
                using (token.Register(connection.Abort))
                {
                    while (!token.IsCancellationRequested)
                    {
                        var message = await connection.Reader.ReadAsync(token).ConfigureAwait(false);
                        using (message)
                        {
                            if (message.Id != PeerMessageId.Extended) continue;   // bitfields, haves, chokes: nothing we need
                            if (message.ExtendedId == ExtensionIds.Handshake) OnHandshake(peer, message.Payload.Span);
                            else if (message.ExtendedId == ExtensionIds.UtMetadata) OnMetadataMessage(peer, message.Payload);
                        }
                    }
                }
            }
            catch (PeerProtocolException ex)
            {
                peer.Close(PeerCloseReason.ProtocolViolation, ex.Error);
                detail = ex.Message;
            }
            catch (Exception ex) when (ex is IOException || ex is EndOfStreamException || ex is System.Net.Sockets.SocketException
                || ex is ObjectDisposedException || ex is OperationCanceledException)
            {
                detail = ex.Message;
            }
            finally
            {
                connection.Dispose();
                lock (_sync)
                {
                    _peers.Remove(peer);
                    _download.RemovePeer(peer);
                    candidate.Busy = false;
                    // A peer that broke the rules or lied is not asked again; one that just went away may be.
                    if (peer.CloseReason is PeerCloseReason.ProtocolViolation or PeerCloseReason.Banned or PeerCloseReason.UnrequestedBlocks or PeerCloseReason.NoMetadata)
                        candidate.Banned = true;
                }
            }
            if (token.IsCancellationRequested) return;
            var reason = peer.CloseReason == PeerCloseReason.None ? PeerCloseReason.ConnectionClosed : peer.CloseReason;
            if (reason != PeerCloseReason.Banned)
                Publish(EngineEventKind.PeerDisconnected, EventSeverity.Verbose, $"Disconnected from {candidate.Key}: {detail ?? reason.ToString()}.",
                    peer: candidate.Key, reason: reason, protocolError: reason == PeerCloseReason.ProtocolViolation ? peer.ProtocolError : null);
            // What it was asked goes to the others now, and its slot to a new peer.
            Tick();
        }

        /// <summary>Ours: ut_metadata under our id, our client, port and request queue, and where we see the peer; no
        /// metadata_size (we have none) and no upload_only (we want everything).</summary>
        private ExtendedHandshake OurHandshake(Candidate candidate)
        {
            var handshake = new ExtendedHandshake
            {
                ClientName = ClientIdentity.ClientName,
                RequestQueueLength = OurRequestQueue,
                ListenPort = _services.ListenPort > 0 ? _services.ListenPort : null,
                YourIp = candidate.EndPoint.Address,
            };
            handshake.Extensions[ExtensionNames.UtMetadata] = ExtensionIds.UtMetadata;
            return handshake;
        }

        private void OnHandshake(MetadataFetchPeer peer, ReadOnlySpan<byte> payload)
        {
            var handshake = ExtendedHandshake.Decode(payload);   // a broken one is a protocol violation: we need its contents
            bool hasMetadata;
            lock (peer.Extensions)
            {
                peer.Extensions.Apply(handshake);
                hasMetadata = peer.Extensions.Supports(ExtensionNames.UtMetadata);
            }
            if (!hasMetadata)
            {
                peer.Close(PeerCloseReason.NoMetadata);
                return;
            }
            lock (_sync)
            {
                // A later handshake without metadata_size keeps the one given before (BEP 10 deltas).
                if (handshake.MetadataSize is null && peer.Ready) return;
                _download.AddPeer(peer, handshake.MetadataSize);   // negative or above 10 MB: throws, and the peer is dropped
                peer.Ready = handshake.MetadataSize > 0;
            }
            if (!peer.Ready) peer.Close(PeerCloseReason.NoMetadata);
            else Pump(peer);
        }

        private void OnMetadataMessage(MetadataFetchPeer peer, ReadOnlyMemory<byte> payload)
        {
            if (!UtMetadataMessage.TryDecode(payload, out var message)) return;   // an unknown msg_type: BEP 9 says ignore
            switch (message.Type)
            {
                case UtMetadataMessageType.Request:
                    // We have nothing to serve yet.
                    _ = peer.SendExtendedAsync(ExtensionNames.UtMetadata, UtMetadataMessage.EncodeReject(message.Piece), _token);
                    return;
                case UtMetadataMessageType.Reject:
                    bool asked;
                    lock (_sync)
                    {
                        asked = _download.OnReject(peer, message.Piece);
                        if (asked) Answered(peer);
                    }
                    if (asked) Tick();   // the block goes to someone else
                    return;
            }

            MetadataBlockOutcome outcome;
            IReadOnlyList<MetadataFetchPeer> banned = Array.Empty<MetadataFetchPeer>();
            byte[]? metadata = null;
            lock (_sync)
            {
                if (!peer.Ready) outcome = MetadataBlockOutcome.Unsolicited;   // data before any metadata_size
                else outcome = _download.OnData(peer, message, out banned);
                if (outcome != MetadataBlockOutcome.Unsolicited) Answered(peer);
                if (outcome == MetadataBlockOutcome.Accepted || outcome == MetadataBlockOutcome.Completed) _lastProgress = _clock.GetTimestamp();
                if (outcome == MetadataBlockOutcome.Completed) metadata = _download.Metadata;
                if (outcome == MetadataBlockOutcome.Unsolicited && ++peer.Unsolicited > MaxUnsolicited) peer.Close(PeerCloseReason.UnrequestedBlocks);
            }
            switch (outcome)
            {
                case MetadataBlockOutcome.Completed:
                    _done.TrySetResult(metadata!);
                    break;
                case MetadataBlockOutcome.HashMismatch:
                    OnHashMismatch(banned);
                    break;
                case MetadataBlockOutcome.Accepted:
                case MetadataBlockOutcome.Duplicate:
                    Pump(peer);
                    break;
            }
        }

        private void OnHashMismatch(IReadOnlyList<MetadataFetchPeer> banned)
        {
            lock (_sync)
            {
                // The download started over: whatever was asked before is forgotten, and late answers do not count.
                foreach (var peer in _peers)
                {
                    peer.RequestsAnswered = peer.RequestsSent;
                    peer.WaitingSince = null;
                }
            }
            Publish(EngineEventKind.MetadataHashFailed, EventSeverity.Warning,
                $"The metadata from {banned.Count} peer(s) does not hash to the info-hash; they are banned and it is fetched again.", count: banned.Count);
            foreach (var culprit in banned)
            {
                lock (_sync)
                    if (_candidates.TryGetValue(culprit.Key, out var candidate)) candidate.Banned = true;
                Publish(EngineEventKind.PeerBanned, EventSeverity.Warning, $"Banned {culprit.Key}: it sent metadata that does not hash to the info-hash.",
                    peer: culprit.Key, reason: PeerCloseReason.Banned);
                culprit.Close(PeerCloseReason.Banned);
            }
            Tick();
        }

        /// <summary>One of the peer's requests was answered (lock held): the wait, if any remain, starts again.</summary>
        private void Answered(MetadataFetchPeer peer)
        {
            peer.RequestsAnswered++;
            peer.WaitingSince = peer.RequestsAnswered < peer.RequestsSent ? _clock.GetTimestamp() : (long?)null;
        }

        /// <summary>Asks the peer for every block it may be asked for now (at most two outstanding).</summary>
        private void Pump(MetadataFetchPeer peer)
        {
            var pieces = new List<int>(MetadataDownload<MetadataFetchPeer>.MaxOutstandingPerPeer);
            lock (_sync)
            {
                if (!peer.Ready || peer.CloseReason != PeerCloseReason.None) return;
                while (_download.TryGetRequest(peer, out int piece)) pieces.Add(piece);
                peer.RequestsSent += pieces.Count;
                if (pieces.Count > 0 && peer.WaitingSince is null) peer.WaitingSince = _clock.GetTimestamp();
            }
            foreach (int piece in pieces)
                _ = peer.SendExtendedAsync(ExtensionNames.UtMetadata, UtMetadataMessage.EncodeRequest(piece), _token);
        }

        private static void Cancel(CancellationTokenSource cts)
        {
            try { cts.Cancel(); } catch (ObjectDisposedException) { }
        }
    }
}
