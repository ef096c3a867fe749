using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using BitTorrent.Wire;

namespace BitTorrent.Download
{
    /// <summary>Accepts incoming peer connections on one TCP port (IPv4 and IPv6) for every torrent registered with
    /// it: reads the peer's handshake (bounded in time), finds the torrent by info-hash, and hands the connection
    /// over. Unknown info-hashes and slow handshakes are closed.
    /// <para>Connections still handshaking are bounded (<see cref="MaxHandshaking"/> in all, <see cref="MaxHandshakingPerAddress"/>
    /// from one address), and when a bound is reached the OLDEST pending connection is closed, never the newcomer: an
    /// honest peer sends its handshake at once, while idle sockets only wait. (Refusing newcomers let 500 idle
    /// sockets, re-opened as they were closed, hold every slot and lock an honest leecher out for good.)</para>
    /// <para>A <see cref="Session.TorrentSession"/> owns one and registers each of its torrents; a torrent removed from
    /// the session is unregistered, so its info-hash is refused from then on.</para></summary>
    public sealed class PeerListener : IDisposable
    {
        public const int MaxHandshaking = 64;
        public const int MaxHandshakingPerAddress = 8;
        public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
        private readonly List<Socket> _sockets = new List<Socket>();
        private readonly ConcurrentDictionary<string, Route> _routes = new ConcurrentDictionary<string, Route>(StringComparer.Ordinal);
        private readonly TimeProvider _time;
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private readonly object _pendingLock = new object();
        private readonly LinkedList<Pending> _pending = new LinkedList<Pending>();

        /// <summary>A connection accepted and not yet handshaken.</summary>
        private sealed class Pending
        {
            public Pending(Socket socket, IPAddress address) { Socket = socket; Address = address; }
            public Socket Socket { get; }
            public IPAddress Address { get; }
            public LinkedListNode<Pending>? Node { get; set; }
            /// <summary>Closed to make room for a newer connection.</summary>
            public bool Evicted { get; set; }
        }

        /// <summary>Where connections for one info-hash go: the torrent's piece count (to bound its messages) and the
        /// code that takes the connection over (its handshake read, ours not yet sent).</summary>
        private sealed class Route
        {
            public Route(int pieceCount, Func<PeerConnection, Handshake, Task> accept) { PieceCount = pieceCount; Accept = accept; }
            public int PieceCount { get; }
            public Func<PeerConnection, Handshake, Task> Accept { get; }
        }

        /// <summary>Connections accepted and still handshaking (for tests and diagnostics).</summary>
        public int Handshaking { get { lock (_pendingLock) return _pending.Count; } }

        /// <summary>Connections closed to make room for newer ones.</summary>
        public long Evictions => Interlocked.Read(ref _evictions);
        private long _evictions;

        /// <param name="address">Where to listen: loopback keeps it local; IPv6Any takes IPv4 too (dual mode).</param>
        /// <param name="port">0 picks a free port.</param>
        /// <param name="time">The clock of the handshake timeout (null: the system clock; tests pass a fake one).</param>
        public PeerListener(IPAddress address, int port, TimeProvider? time = null)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            _time = time ?? TimeProvider.System;
            if (IPAddress.IsLoopback(address))
            {
                // Both loopbacks, on the same port: peers may reach us over 127.0.0.1 or ::1.
                var v4 = Bind(IPAddress.Loopback, port);
                Port = ((IPEndPoint)v4.LocalEndPoint!).Port;
                try { Bind(IPAddress.IPv6Loopback, Port); } catch (SocketException) { /* no IPv6 on this host */ }
            }
            else
            {
                var socket = Bind(address, port);
                Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
            }
            foreach (var s in _sockets) _ = AcceptLoopAsync(s);
        }

        public int Port { get; }

        /// <summary>Routes connections for this download's info-hash to it (replacing any earlier route for it).</summary>
        public void Register(TorrentDownload download)
        {
            if (download is null) throw new ArgumentNullException(nameof(download));
            Register(download.Torrent.InfoHash, download.Torrent.PieceCount, download.AcceptAsync);
        }

        /// <summary>Routes connections whose handshake names <paramref name="infoHash"/> (40 hex) to
        /// <paramref name="accept"/>, which owns the connection from then on (and disposes it when it refuses it).</summary>
        internal void Register(string infoHash, int pieceCount, Func<PeerConnection, Handshake, Task> accept)
        {
            if (infoHash is null) throw new ArgumentNullException(nameof(infoHash));
            if (accept is null) throw new ArgumentNullException(nameof(accept));
            _routes[infoHash.ToLowerInvariant()] = new Route(pieceCount, accept);
        }

        /// <summary>Refuses this download's info-hash from now on (connections already handed over are the torrent's).</summary>
        public void Unregister(TorrentDownload download)
        {
            if (download is null) throw new ArgumentNullException(nameof(download));
            Unregister(download.Torrent.InfoHash);
        }

        public void Unregister(string infoHash) => _routes.TryRemove((infoHash ?? string.Empty).ToLowerInvariant(), out _);

        /// <summary>Info-hashes routed now (for the session and tests).</summary>
        public bool IsRegistered(string infoHash) => _routes.ContainsKey((infoHash ?? string.Empty).ToLowerInvariant());

        private Socket Bind(IPAddress address, int port)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (address.Equals(IPAddress.IPv6Any)) socket.DualMode = true;
                socket.Bind(new IPEndPoint(address, port));
                socket.Listen(128);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            _sockets.Add(socket);
            return socket;
        }

        private async Task AcceptLoopAsync(Socket listener)
        {
            while (!_cancel.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await listener.AcceptAsync().ConfigureAwait(false);
                }
                catch (Exception) when (_cancel.IsCancellationRequested) { return; }
                catch (SocketException) { continue; }
                catch (ObjectDisposedException) { return; }

                Pending pending;
                try
                {
                    pending = Admit(client);
                }
                catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException)
                {
                    // Gone before we looked at it (reset at once): nothing to admit. The loop must never die of it.
                    client.Dispose();
                    continue;
                }
                _ = HandleAsync(pending);
            }
        }

        /// <summary>Registers a new connection, evicting the oldest pending one from the same address when that address
        /// is at its bound, else the oldest of all when the listener is.</summary>
        private Pending Admit(Socket client)
        {
            var address = client.RemoteEndPoint is IPEndPoint ep ? (ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address) : IPAddress.None;
            var pending = new Pending(client, address);
            Pending? victim = null;
            lock (_pendingLock)
            {
                int fromAddress = 0;
                Pending? oldestFromAddress = null;
                foreach (var p in _pending)
                {
                    if (!p.Address.Equals(address)) continue;
                    fromAddress++;
                    oldestFromAddress ??= p;
                }
                if (fromAddress >= MaxHandshakingPerAddress) victim = oldestFromAddress;
                else if (_pending.Count >= MaxHandshaking) victim = _pending.First!.Value;
                if (victim is not null)
                {
                    _pending.Remove(victim.Node!);
                    victim.Evicted = true;
                }
                pending.Node = _pending.AddLast(pending);
            }
            if (victim is not null)
            {
                Interlocked.Increment(ref _evictions);
                try { victim.Socket.Dispose(); } catch (Exception) { }
            }
            return pending;
        }

        private async Task HandleAsync(Pending pending)
        {
            var client = pending.Socket;
            PeerConnection? connection = null;
            Route? target = null;
            Handshake? theirs = null;
            try
            {
                connection = new PeerConnection(client);
                // The timeout runs on the listener's clock, so a test can step past it instead of waiting for it.
                using (var deadline = _time.CreateCancellationTokenSource(HandshakeTimeout))
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token, deadline.Token))
                using (timeout.Token.Register(() => connection.Abort()))
                    theirs = await connection.Reader.ReadHandshakeAsync(ReadOnlyMemory<byte>.Empty, timeout.Token).ConfigureAwait(false);
                _routes.TryGetValue(Hex.ToLower(theirs.InfoHash), out target);
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is PeerProtocolException || ex is OperationCanceledException || ex is ObjectDisposedException || ex is EndOfStreamException)
            {
                target = null;
            }
            finally
            {
                lock (_pendingLock)
                    if (!pending.Evicted) _pending.Remove(pending.Node!);
            }
            if (target is null || connection is null || theirs is null)
            {
                connection?.Dispose();
                if (connection is null) client.Dispose();
                return;
            }
            try
            {
                connection.Reader.Limits = PeerMessageLimits.Default.WithPieceCount(target.PieceCount);
                await target.Accept(connection, theirs).ConfigureAwait(false);
            }
            catch (Exception)
            {
                connection.Dispose();
            }
        }

        public void Dispose()
        {
            _cancel.Cancel();
            foreach (var s in _sockets) s.Dispose();
            _sockets.Clear();
        }
    }
}
