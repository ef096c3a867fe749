using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Connections
{
    /// <summary>Opens TCP connections, with the local end bound to a given address when one is set (so traffic
    /// leaves through that interface: a VPN's, say). Errors are the raw <see cref="SocketException"/>s; callers say
    /// what they mean.</summary>
    public static class SocketDialer
    {
        /// <summary>Connects to <paramref name="remote"/>; cancel the token to bound the attempt.</summary>
        /// <exception cref="SocketException">Refused, unreachable, or the bind address cannot reach that family
        /// (<see cref="SocketError.AddressFamilyNotSupported"/>: an IPv4 bind address never dials IPv6, or the
        /// traffic would leave through another interface).</exception>
        public static async Task<Socket> ConnectAsync(IPEndPoint remote, IPAddress? local, CancellationToken cancellationToken)
        {
            if (remote is null) throw new ArgumentNullException(nameof(remote));
            cancellationToken.ThrowIfCancellationRequested();
            if (local is not null && !CanReach(local, remote.Address))
                throw new SocketException((int)SocketError.AddressFamilyNotSupported);
            var family = remote.AddressFamily;
            var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                if (local is not null)
                {
                    socket.Bind(new IPEndPoint(local, 0));
                }
                // Socket.ConnectAsync has no token on netstandard2.0: closing the socket is what ends the attempt.
                using (cancellationToken.Register(() => socket.Dispose()))
                {
                    await socket.ConnectAsync(remote).ConfigureAwait(false);
                }
                cancellationToken.ThrowIfCancellationRequested();
                return socket;
            }
            catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new OperationCanceledException(cancellationToken);
            }
            catch (SocketException) when (cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new OperationCanceledException(cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        /// <summary>Connects to a host by name or address (the first address the bind address can reach, IPv4 first).</summary>
        public static async Task<Socket> ConnectAsync(string host, int port, IPAddress? local, CancellationToken cancellationToken)
        {
            if (IPAddress.TryParse(host, out var literal)) return await ConnectAsync(new IPEndPoint(literal, port), local, cancellationToken).ConfigureAwait(false);
            var lookup = Dns.GetHostAddressesAsync(host);
            var done = await Task.WhenAny(lookup, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
            if (done != lookup) throw new OperationCanceledException(cancellationToken);
            var addresses = await lookup.ConfigureAwait(false);
            var chosen = addresses.Where(a => local is null || CanReach(local, a))
                .OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault()
                ?? throw new SocketException((int)(addresses.Length == 0 ? SocketError.HostNotFound : SocketError.AddressFamilyNotSupported));
            return await ConnectAsync(new IPEndPoint(chosen, port), local, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Whether a socket bound to <paramref name="local"/> can dial <paramref name="remote"/> (same family).</summary>
        public static bool CanReach(IPAddress local, IPAddress remote) => local.AddressFamily == remote.AddressFamily;
    }
}
