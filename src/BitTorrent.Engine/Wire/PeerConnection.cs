using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Wire
{
    /// <summary>A TCP connection to a peer with its message reader and batching writer. Owns the socket; disposing
    /// it closes the connection (which also ends any read or write in progress).</summary>
    public sealed class PeerConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private int _disposed;

        /// <summary>Wraps a connected socket (an accepted one, or one we connected).</summary>
        public PeerConnection(Socket socket, PeerMessageLimits? limits = null) : this(socket, null, limits) { }

        /// <summary>Wraps a connected socket whose far end is not the peer: a tunnel through a proxy to
        /// <paramref name="remoteEndPoint"/> (null: the socket's own remote end).</summary>
        public PeerConnection(Socket socket, IPEndPoint? remoteEndPoint, PeerMessageLimits? limits = null)
        {
            _socket = socket ?? throw new ArgumentNullException(nameof(socket));
            if (!socket.Connected) throw new ArgumentException("The socket is not connected.", nameof(socket));
            _socket.NoDelay = true;
            RemoteEndPoint = remoteEndPoint ?? (IPEndPoint)socket.RemoteEndPoint!;
            _stream = new NetworkStream(socket, ownsSocket: false);
            Reader = new PeerMessageReader(_stream, limits);
            Writer = new PeerMessageWriter(_stream);
        }

        public IPEndPoint RemoteEndPoint { get; }

        /// <summary>"ip:port", or "[ipv6]:port".</summary>
        public string RemoteEndPointText => new PeerAddress(RemoteEndPoint).ToString();

        public PeerMessageReader Reader { get; }
        public PeerMessageWriter Writer { get; }

        /// <summary>Connects over TCP (IPv4 or IPv6). Cancel the token to bound the attempt.</summary>
        /// <exception cref="PeerConnectionException">Refused or unreachable.</exception>
        public static Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, PeerMessageLimits? limits, CancellationToken cancellationToken) =>
            ConnectAsync(endPoint, null, limits, cancellationToken);

        /// <summary>Connects over TCP with the local end bound to <paramref name="localAddress"/> (null: any). A peer
        /// of the other address family than the bind address is unreachable (never dialled unbound).</summary>
        /// <exception cref="PeerConnectionException">Refused or unreachable.</exception>
        public static async Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, IPAddress? localAddress, PeerMessageLimits? limits, CancellationToken cancellationToken)
        {
            if (endPoint is null) throw new ArgumentNullException(nameof(endPoint));
            Socket socket;
            try
            {
                socket = await Connections.SocketDialer.ConnectAsync(endPoint, localAddress, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException se)
            {
                throw Failed(endPoint, se, localAddress);
            }
            try
            {
                return new PeerConnection(socket, limits);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>What a socket error while reaching a peer means, as a <see cref="PeerConnectionException"/>.</summary>
        public static PeerConnectionException Failed(IPEndPoint endPoint, SocketException se, IPAddress? localAddress = null)
        {
            var text = new PeerAddress(endPoint).ToString();
            switch (se.SocketErrorCode)
            {
                case SocketError.ConnectionRefused:
                    return new PeerConnectionException(PeerFailure.ConnectionRefused, text, $"{text} refused the connection (nothing listens there).", se);
                case SocketError.TimedOut:
                    return new PeerConnectionException(PeerFailure.Timeout, text, $"Connecting to {text} timed out.", se);
                case SocketError.AddressFamilyNotSupported when localAddress is not null:
                    return new PeerConnectionException(PeerFailure.Unreachable, text, $"{text} cannot be reached from the bind address {localAddress} (another address family).", se);
                default:
                    return new PeerConnectionException(PeerFailure.Unreachable, text, $"{text} is unreachable: {se.Message}", se);
            }
        }

        /// <summary>Sends our handshake and reads the peer's (which must carry our info-hash).</summary>
        /// <exception cref="EndOfStreamException">The peer closed the connection without answering.</exception>
        /// <exception cref="PeerProtocolException">Wrong protocol string or info-hash, or a cut-off handshake.</exception>
        public async Task<Handshake> ExchangeHandshakesAsync(Handshake ours, CancellationToken cancellationToken)
        {
            await Writer.WriteHandshakeAsync(ours, cancellationToken).ConfigureAwait(false);
            await Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return await Reader.ReadHandshakeAsync(ours.InfoHash.ToArray(), cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Closes politely: sends FIN, then reads and discards until the peer closes too or
        /// <paramref name="linger"/> passes, then closes the socket. A peer that still has our previous connection on
        /// its books may turn the next one from the same address away (Transmission 3.00 does, for about half a
        /// second after an abrupt close), so a short wait here saves a failed handshake later. Never throws.</summary>
        public async Task CloseAsync(TimeSpan linger, CancellationToken cancellationToken)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException)
            {
                Abort();
                return;
            }
            byte[] sink = System.Buffers.ArrayPool<byte>.Shared.Rent(4096);
            try
            {
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                bound.CancelAfter(linger);
                using (bound.Token.Register(Abort))
                {
                    while (await _stream.ReadAsync(sink, 0, sink.Length, bound.Token).ConfigureAwait(false) > 0) { }
                }
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is ObjectDisposedException || ex is OperationCanceledException)
            {
                // The peer reset the connection, or the linger time ran out: either way we are done.
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(sink);
                Abort();
            }
        }

        /// <summary>Closes the socket; the reader's and writer's pooled buffers are returned. Call it once no read or
        /// write is in progress (to abort one, cancel its token or call <see cref="Abort"/> first).</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            Abort();
            _stream.Dispose();
            Reader.Dispose();
            Writer.Dispose();
        }

        /// <summary>Closes the socket without returning buffers: ends reads and writes in progress from any thread.</summary>
        public void Abort()
        {
            try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
            _socket.Dispose();
        }
    }
}
