using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Download;
using BitTorrent.Wire;

namespace BitTorrent.Connections
{
    /// <summary>The one rule for how peers are dialled, shared by the session and Invoke-PeerHandshake.</summary>
    public static class PeerConnectors
    {
        /// <summary>Through the proxy (leaving from the bind address, if any), else from the bind address, else plain TCP.</summary>
        public static IPeerConnector For(ProxySettings? proxy, IPAddress? bindAddress, TimeProvider? time = null)
        {
            if (proxy is not null) return new ProxyPeerConnector(proxy, bindAddress, time);
            if (bindAddress is not null) return new BoundTcpPeerConnector(bindAddress);
            return TcpPeerConnector.Instance;
        }
    }

    /// <summary>Dials peers over TCP with the local end bound to one address (the interface of -BindAddress or
    /// -ListenAddress), so connections leave through that interface; a peer of the other address family is
    /// unreachable rather than dialled from another interface.</summary>
    public sealed class BoundTcpPeerConnector : IPeerConnector
    {
        public BoundTcpPeerConnector(IPAddress localAddress) => LocalAddress = localAddress ?? throw new ArgumentNullException(nameof(localAddress));

        public IPAddress LocalAddress { get; }

        public Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, PeerMessageLimits limits, CancellationToken cancellationToken) =>
            PeerConnection.ConnectAsync(endPoint, LocalAddress, limits, cancellationToken);
    }

    /// <summary>Dials peers through a proxy (SOCKS5 or HTTP CONNECT): connects to the proxy (from the bind address,
    /// if any), asks it for a tunnel to the peer, and hands back a <see cref="PeerConnection"/> over the tunnel. Never
    /// dials a peer directly. The proxy's handshake is bounded by <see cref="ProxySettings.HandshakeTimeout"/> on the
    /// given clock (and by the caller's token).
    /// <para>Failures of the proxy itself are <see cref="ProxyException"/>s (and remembered in
    /// <see cref="LastProxyFailure"/> until a tunnel opens, so a run that finds no peer can say the proxy is why);
    /// a peer the proxy could not reach is a <see cref="PeerConnectionException"/> like a direct one.</para></summary>
    public sealed class ProxyPeerConnector : IPeerConnector
    {
        private readonly TimeProvider _time;
        private ProxyException? _lastFailure;

        public ProxyPeerConnector(ProxySettings proxy, IPAddress? localAddress = null, TimeProvider? time = null)
        {
            Proxy = proxy ?? throw new ArgumentNullException(nameof(proxy));
            LocalAddress = localAddress;
            _time = time ?? TimeProvider.System;
        }

        public ProxySettings Proxy { get; }
        public IPAddress? LocalAddress { get; }

        /// <summary>The proxy's last failure, cleared when the proxy next does its job (null: none, or it recovered).</summary>
        public ProxyException? LastProxyFailure => Volatile.Read(ref _lastFailure);

        /// <summary>Tunnels opened (the proxy reached the peer).</summary>
        public long TunnelsOpened => Interlocked.Read(ref _tunnelsOpened);
        private long _tunnelsOpened;

        public async Task<PeerConnection> ConnectAsync(IPEndPoint endPoint, PeerMessageLimits limits, CancellationToken cancellationToken)
        {
            if (endPoint is null) throw new ArgumentNullException(nameof(endPoint));
            var target = endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
            try
            {
                var socket = await OpenTunnelAsync(target.Address.ToString(), target.Port, cancellationToken).ConfigureAwait(false);
                try
                {
                    var connection = new PeerConnection(socket, endPoint, limits);
                    Interlocked.Increment(ref _tunnelsOpened);
                    return connection;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            catch (SocketException se)
            {
                // The proxy answered: it works, but could not reach this peer.
                Volatile.Write(ref _lastFailure, null);
                throw PeerConnection.Failed(endPoint, se);
            }
            catch (ProxyException pe)
            {
                Volatile.Write(ref _lastFailure, pe);
                throw;
            }
        }

        /// <summary>Connects to the proxy and runs its handshake for host:port; returns the socket, positioned at the
        /// tunnel's first byte. Throws <see cref="ProxyException"/> for the proxy's failures,
        /// <see cref="SocketException"/> when the proxy could not reach the target, and
        /// <see cref="OperationCanceledException"/> when the caller cancelled.</summary>
        public async Task<Socket> OpenTunnelAsync(string host, int port, CancellationToken cancellationToken)
        {
            string proxy = Proxy.Text;
            using var timer = _time.CreateCancellationTokenSource(Proxy.HandshakeTimeout);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            var token = linked.Token;
            Socket socket;
            try
            {
                socket = await SocketDialer.ConnectAsync(Proxy.Host, Proxy.Port, LocalAddress, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"Connecting to the proxy {proxy} timed out after {Proxy.HandshakeTimeout.TotalSeconds:0.###} s.");
            }
            catch (SocketException se)
            {
                throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"Could not connect to the proxy {proxy}: {se.Message}", se);
            }
            try
            {
                socket.NoDelay = true;
                using var stream = new NetworkStream(socket, ownsSocket: false);
                // Some runtimes' socket reads ignore the token: closing the socket is what ends a read that waits.
                using (token.Register(() => socket.Dispose()))
                {
                    if (Proxy.Kind == ProxyKind.Socks5)
                        await ProxyHandshake.Socks5Async(stream, host, port, Proxy.Credential, proxy, token).ConfigureAwait(false);
                    else
                        await ProxyHandshake.HttpConnectAsync(stream, host, port, Proxy.Credential, proxy, token).ConfigureAwait(false);
                }
                token.ThrowIfCancellationRequested();
                return socket;
            }
            catch (Exception ex)
            {
                socket.Dispose();
                if (cancellationToken.IsCancellationRequested) throw new OperationCanceledException(cancellationToken);
                if (ex is ProxyException) throw;
                if (token.IsCancellationRequested)
                    throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The proxy {proxy} did not finish its handshake within {Proxy.HandshakeTimeout.TotalSeconds:0.###} s.");
                if (ex is SocketException) throw; // the proxy's word that the target is unreachable
                if (ex is IOException || ex is ObjectDisposedException)
                    throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The proxy {proxy} dropped the connection during its handshake: {ex.Message}", ex);
                throw;
            }
        }
    }
}
