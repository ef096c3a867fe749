using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Wire
{
    /// <summary>Connects to a peer, exchanges BEP 3 and BEP 10 handshakes, and listens briefly for what it has
    /// (bitfield, have all / have none, haves), then disconnects and reports. We advertise the extension protocol
    /// and the fast extension; as we hold no pieces we send 'have none' when both sides speak BEP 6.</summary>
    public static class PeerHandshaker
    {
        private const int MaxMessagesLogged = 64;

        /// <exception cref="PeerConnectionException">Refused, unreachable, timed out, rejected, wrong torrent, or a
        /// protocol violation.</exception>
        /// <exception cref="Connections.ProxyException">The proxy of <see cref="PeerHandshakeOptions.Connector"/> failed
        /// (down, refused us, or wants credentials).</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static async Task<PeerHandshakeResult> RunAsync(PeerAddress address, PeerHandshakeOptions options, CancellationToken cancellationToken)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            if (options is null) throw new ArgumentNullException(nameof(options));
            var clock = Stopwatch.StartNew();
            string shown = address.ToString();
            using var timeout = new CancellationTokenSource(options.Timeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var token = linked.Token;
            var limits = PeerMessageLimits.Default.WithPieceCount(options.PieceCount);
            var result = new PeerHandshakeResult { EndPoint = shown, InfoHash = Hex.ToLower(options.InfoHash), PieceCount = options.PieceCount };

            PeerConnection? connection = null;
            try
            {
                IPEndPoint[] endPoints;
                try
                {
                    endPoints = await address.ResolveAsync(token).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    throw new PeerConnectionException(PeerFailure.Unreachable, shown, $"Cannot resolve '{address.Host}': {ex.Message}", ex);
                }
                if (endPoints.Length == 0) throw new PeerConnectionException(PeerFailure.Unreachable, shown, $"'{address.Host}' has no addresses.");

                PeerConnectionException? lastFailure = null;
                foreach (var endPoint in endPoints)
                {
                    try
                    {
                        connection = options.Connector is null
                            ? await PeerConnection.ConnectAsync(endPoint, limits, token).ConfigureAwait(false)
                            : await options.Connector.ConnectAsync(endPoint, limits, token).ConfigureAwait(false);
                        break;
                    }
                    catch (PeerConnectionException ex) when (ex.Failure != PeerFailure.Timeout)
                    {
                        lastFailure = ex;
                    }
                }
                if (connection is null) throw lastFailure!;
                result.EndPoint = shown = connection.RemoteEndPointText;
                result.ConnectTime = clock.Elapsed;

                // From here on a timeout or a cancel closes the socket, which ends any pending read on every runtime.
                using (token.Register(connection.Abort))
                {
                    await ExchangeAsync(connection, options, result, clock, token, cancellationToken).ConfigureAwait(false);
                }
                result.Elapsed = clock.Elapsed;
                await connection.CloseAsync(options.CloseLinger, cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (Exception ex) when (!(ex is PeerConnectionException) && !cancellationToken.IsCancellationRequested && timeout.IsCancellationRequested)
            {
                throw new PeerConnectionException(PeerFailure.Timeout, shown,
                    $"{shown} did not {(connection is null ? "accept the connection" : "answer the handshake")} within {options.Timeout.TotalSeconds:0.###} s.", ex);
            }
            catch (Exception ex) when (!(ex is PeerConnectionException) && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The handshake was cancelled.", ex, cancellationToken);
            }
            finally
            {
                connection?.Dispose();
            }
        }

        private static async Task ExchangeAsync(PeerConnection connection, PeerHandshakeOptions options,
            PeerHandshakeResult result, Stopwatch clock, CancellationToken token, CancellationToken callerToken)
        {
            string shown = result.EndPoint;
            var ours = Handshake.Create(options.InfoHash, options.PeerId ?? ClientIdentity.NewPeerId(), extensionProtocol: true, fastExtension: true);
            var sent = clock.Elapsed;
            Handshake theirs;
            try
            {
                theirs = await connection.ExchangeHandshakesAsync(ours, token).ConfigureAwait(false);
            }
            catch (PeerProtocolException ex) when (ex.Error == PeerProtocolError.InfoHashMismatch)
            {
                throw new PeerConnectionException(PeerFailure.InfoHashMismatch, shown, $"{shown}: {ex.Message}", ex);
            }
            catch (PeerProtocolException ex)
            {
                throw new PeerConnectionException(PeerFailure.ProtocolViolation, shown, $"{shown} broke the handshake ({ex.Error}): {ex.Message}", ex);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && (ex is EndOfStreamException || ex is IOException || ex is SocketException))
            {
                throw new PeerConnectionException(PeerFailure.HandshakeRejected, shown,
                    $"{shown} closed the connection instead of answering our handshake: it does not serve info-hash {result.InfoHash}, or it refused us.", ex);
            }
            result.RoundTrip = clock.Elapsed - sent;
            Describe(theirs, result);

            // Our half of the post-handshake greeting, in one write.
            if (theirs.SupportsExtensionProtocol)
            {
                var extended = new ExtendedHandshake
                {
                    ClientName = ClientIdentity.ClientName,
                    RequestQueueLength = 250,
                    YourIp = connection.RemoteEndPoint.Address.IsIPv4MappedToIPv6 ? connection.RemoteEndPoint.Address.MapToIPv4() : connection.RemoteEndPoint.Address,
                };
                await connection.Writer.WriteAsync(PeerMessage.Extended(0, extended.Encode()), token).ConfigureAwait(false);
            }
            if (theirs.SupportsFastExtension) await connection.Writer.WriteAsync(PeerMessage.HaveNone, token).ConfigureAwait(false);
            try
            {
                await connection.Writer.FlushAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && (ex is IOException || ex is SocketException))
            {
                result.MessagesReceived = new[] { "(connection closed)" };
                return;   // it closed on us right after its handshake: report what the handshake said
            }

            await ListenAsync(connection, options, theirs, result, token, callerToken).ConfigureAwait(false);
        }

        private static async Task ListenAsync(PeerConnection connection, PeerHandshakeOptions options,
            Handshake theirs, PeerHandshakeResult result, CancellationToken token, CancellationToken callerToken)
        {
            string shown = result.EndPoint;
            var log = new List<string>();
            Bitfield? pieces = null;
            HashSet<int>? loneHaves = null;   // haves before any bitfield when the piece count is unknown
            bool availabilityKnown = false;
            bool extendedKnown = !theirs.SupportsExtensionProtocol;

            using var window = CancellationTokenSource.CreateLinkedTokenSource(token);
            window.CancelAfter(options.MessageWindow);
            using (window.Token.Register(connection.Abort))
            {
                try
                {
                    while (!(availabilityKnown && extendedKnown))
                    {
                        using var message = await connection.Reader.ReadAsync(window.Token).ConfigureAwait(false);
                        if (log.Count < MaxMessagesLogged) log.Add(message.ToString());
                        switch (message.Id)
                        {
                            case PeerMessageId.Bitfield:
                                if (options.PieceCount is int count) pieces = Bitfield.FromWire(message.Payload.Span, count);
                                else pieces = FromUnknownTorrent(message.Payload.Span);
                                if (loneHaves is not null) foreach (int i in loneHaves) if (i < pieces.Length) pieces.Set(i);
                                loneHaves = null;
                                availabilityKnown = true;
                                break;
                            case PeerMessageId.HaveAll:
                                result.HasAll = true;
                                if (options.PieceCount is int all) { pieces = new Bitfield(all); pieces.SetAll(); }
                                availabilityKnown = true;
                                break;
                            case PeerMessageId.HaveNone:
                                pieces = options.PieceCount is int none ? new Bitfield(none) : null;
                                result.HasAll = false;
                                loneHaves = null;
                                result.PiecesHave = 0;
                                availabilityKnown = true;
                                break;
                            case PeerMessageId.Have:
                                if (pieces is not null && message.Index < pieces.Length) pieces.Set(message.Index);
                                else if (!result.HasAll) (loneHaves ??= new HashSet<int>()).Add(message.Index);
                                break;
                            case PeerMessageId.Port:
                                result.DhtPort = message.Port;
                                break;
                            case PeerMessageId.Extended when message.ExtendedId == 0:
                                var extended = ExtendedHandshake.Decode(message.Payload.Span);
                                result.ExtendedHandshake = extended;
                                result.Extensions = extended.Extensions.Keys.ToArray();
                                result.ClientVersion = extended.ClientName;
                                result.ListenPort = extended.ListenPort;
                                result.RequestQueue = extended.RequestQueueLength;
                                result.YourIp = extended.YourIp?.ToString();
                                result.MetadataSize = extended.MetadataSize > 0 ? extended.MetadataSize : null;   // 0 or less: none to offer
                                result.UploadOnly = extended.UploadOnly;
                                extendedKnown = true;
                                break;
                        }
                    }
                }
                catch (PeerProtocolException ex)
                {
                    throw new PeerConnectionException(PeerFailure.ProtocolViolation, shown, $"{shown} broke the protocol after the handshake ({ex.Error}): {ex.Message}", ex);
                }
                catch (Exception ex) when (!callerToken.IsCancellationRequested && (ex is OperationCanceledException || ex is ObjectDisposedException
                    || ex is IOException || ex is SocketException))
                {
                    // The window (or the overall time) ran out, or the peer hung up: the handshake itself succeeded,
                    // so report what arrived until then.
                    if (!window.IsCancellationRequested) log.Add("(connection closed)");
                }
            }

            result.MessagesReceived = log.ToArray();
            if (pieces is not null)
            {
                result.PiecesHave = pieces.Count;
                if (options.PieceCount.HasValue)
                {
                    result.Bitfield = pieces;
                    result.PercentComplete = pieces.PercentComplete;
                }
            }
            else if (loneHaves is not null)
            {
                result.PiecesHave = loneHaves.Count;
                if (options.PieceCount is int count) result.PercentComplete = 100.0 * loneHaves.Count / count;
            }
            if (result.HasAll)
            {
                result.PercentComplete = 100;
                if (options.PieceCount is int count) result.PiecesHave = count;
            }
            else if (result.PiecesHave == 0)
            {
                result.PercentComplete = 0;
            }
        }

        // Without the torrent the bitfield's length is all we know of the piece count: keep its bits as they are.
        private static Bitfield FromUnknownTorrent(ReadOnlySpan<byte> bits)
        {
            var bitfield = new Bitfield(bits.Length * 8);
            for (int i = 0; i < bits.Length * 8; i++)
                if ((bits[i >> 3] & (0x80 >> (i & 7))) != 0) bitfield.Set(i);
            return bitfield;
        }

        private static void Describe(Handshake theirs, PeerHandshakeResult result)
        {
            var client = PeerIdDecoder.Decode(theirs.PeerId);
            result.PeerId = Hex.ToLower(theirs.PeerId);
            result.PeerIdText = PeerIdDecoder.ToPrintable(theirs.PeerId);
            result.ClientInfo = client;
            result.Client = client.ToString();
            result.Reserved = Hex.ToLower(theirs.Reserved);
            result.SupportsExtensionProtocol = theirs.SupportsExtensionProtocol;
            result.SupportsFastExtension = theirs.SupportsFastExtension;
            result.SupportsDht = theirs.SupportsDht;
        }
    }
}
