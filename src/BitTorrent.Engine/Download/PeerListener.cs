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
    /// over. Unknown info-hashes and slow handshakes are closed. The number of connections still handshaking is
    /// bounded, so a flood of idle sockets cannot pile up.</summary>
    public sealed class PeerListener : IDisposable
    {
        private const int MaxHandshaking = 64;
        private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);
        private readonly List<Socket> _sockets = new List<Socket>();
        private readonly ConcurrentDictionary<string, TorrentDownload> _torrents = new ConcurrentDictionary<string, TorrentDownload>(StringComparer.Ordinal);
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private int _handshaking;

        /// <param name="address">Where to listen: loopback keeps it local; IPv6Any takes IPv4 too (dual mode).</param>
        /// <param name="port">0 picks a free port.</param>
        public PeerListener(IPAddress address, int port)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
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

        public void Register(TorrentDownload download) => _torrents[download.Torrent.InfoHash] = download;

        public void Unregister(TorrentDownload download) => _torrents.TryRemove(download.Torrent.InfoHash, out _);

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

                if (Interlocked.Increment(ref _handshaking) > MaxHandshaking)
                {
                    Interlocked.Decrement(ref _handshaking);
                    client.Dispose();
                    continue;
                }
                _ = HandleAsync(client);
            }
        }

        private async Task HandleAsync(Socket client)
        {
            PeerConnection? connection = null;
            TorrentDownload? target = null;
            Handshake? theirs = null;
            try
            {
                connection = new PeerConnection(client);
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token))
                {
                    timeout.CancelAfter(HandshakeTimeout);
                    using (timeout.Token.Register(() => connection.Abort()))
                        theirs = await connection.Reader.ReadHandshakeAsync(ReadOnlyMemory<byte>.Empty, timeout.Token).ConfigureAwait(false);
                }
                _torrents.TryGetValue(Hex.ToLower(theirs.InfoHash), out target);
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is PeerProtocolException || ex is OperationCanceledException || ex is ObjectDisposedException || ex is EndOfStreamException)
            {
                target = null;
            }
            finally
            {
                Interlocked.Decrement(ref _handshaking);
            }
            if (target is null || connection is null || theirs is null)
            {
                connection?.Dispose();
                if (connection is null) client.Dispose();
                return;
            }
            try
            {
                connection.Reader.Limits = PeerMessageLimits.Default.WithPieceCount(target.Torrent.PieceCount);
                await target.AcceptAsync(connection, theirs).ConfigureAwait(false);
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
