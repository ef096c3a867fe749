using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Connections
{
    /// <summary>The client side of the two tunnelling handshakes, over a stream already connected to the proxy.
    /// Every read is bounded in size (SOCKS5 replies have fixed lengths, at most 255 + 7 bytes; an HTTP reply's head
    /// is read up to <see cref="MaxHttpReplyHead"/> bytes) and the caller's token bounds it in time. Nothing past the
    /// proxy's reply is read, so the tunnel's first byte is the peer's.</summary>
    public static class ProxyHandshake
    {
        /// <summary>Most bytes of an HTTP CONNECT reply's status line and headers.</summary>
        public const int MaxHttpReplyHead = 8 * 1024;

        /// <summary>Asks a SOCKS5 proxy (RFC 1928) to connect to <paramref name="host"/>:<paramref name="port"/>
        /// (an IPv4 or IPv6 literal goes as an address, anything else as a domain name the proxy resolves).
        /// Offers no authentication, and username/password (RFC 1929) when <paramref name="credential"/> is set.</summary>
        /// <exception cref="ProxyException">The proxy failed, broke the protocol or refused our credentials.</exception>
        /// <exception cref="SocketException">The proxy could not reach the target (refused, unreachable).</exception>
        public static async Task Socks5Async(Stream stream, string host, int port, NetworkCredential? credential, string proxy, CancellationToken cancellationToken)
        {
            var greeting = credential is null ? new byte[] { 5, 1, 0 } : new byte[] { 5, 2, 0, 2 };
            await WriteAsync(stream, greeting, cancellationToken).ConfigureAwait(false);
            var choice = await ReadExactAsync(stream, 2, proxy, cancellationToken).ConfigureAwait(false);
            if (choice[0] != 5) throw Garbage(proxy, $"its greeting reply has version {choice[0]}, not 5");
            switch (choice[1])
            {
                case 0: break;
                case 2 when credential is not null:
                    await Socks5LoginAsync(stream, credential, proxy, cancellationToken).ConfigureAwait(false);
                    break;
                case 0xFF:
                    throw new ProxyException(ProxyError.ProxyAuthenticationFailed, proxy, credential is null
                        ? $"The SOCKS5 proxy {proxy} requires authentication (give -ProxyCredential)."
                        : $"The SOCKS5 proxy {proxy} accepts none of our authentication methods.");
                default:
                    throw Garbage(proxy, $"it chose authentication method {choice[1]}, which we did not offer");
            }

            byte[] request = ConnectRequest(host, port);
            await WriteAsync(stream, request, cancellationToken).ConfigureAwait(false);
            var head = await ReadExactAsync(stream, 4, proxy, cancellationToken).ConfigureAwait(false);
            if (head[0] != 5) throw Garbage(proxy, $"its reply has version {head[0]}, not 5");
            if (head[2] != 0) throw Garbage(proxy, "its reply's reserved byte is not 0");
            int addressLength = head[3] switch
            {
                1 => 4,
                4 => 16,
                3 => (await ReadExactAsync(stream, 1, proxy, cancellationToken).ConfigureAwait(false))[0],
                _ => throw Garbage(proxy, $"its reply has address type {head[3]}"),
            };
            // The bound address and port: read and dropped, so the stream is left at the tunnel's first byte.
            await ReadExactAsync(stream, addressLength + 2, proxy, cancellationToken).ConfigureAwait(false);
            byte reply = head[1];
            string target = TargetText(host, port);
            switch (reply)
            {
                case 0: return;
                case 3: throw new SocketException((int)SocketError.NetworkUnreachable);
                case 4: throw new SocketException((int)SocketError.HostUnreachable);
                case 5: throw new SocketException((int)SocketError.ConnectionRefused);
                case 6: throw new SocketException((int)SocketError.TimedOut);
                case 1: throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The SOCKS5 proxy {proxy} could not connect to {target} (general failure).");
                case 2: throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The SOCKS5 proxy {proxy} does not allow a connection to {target} (its rules).");
                case 7: throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The SOCKS5 proxy {proxy} does not support CONNECT.");
                case 8: throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The SOCKS5 proxy {proxy} does not support the address type of {target}.");
                default: throw Garbage(proxy, $"its reply code is {reply}");
            }
        }

        private static async Task Socks5LoginAsync(Stream stream, NetworkCredential credential, string proxy, CancellationToken cancellationToken)
        {
            byte[] user = Encoding.UTF8.GetBytes(credential.UserName ?? string.Empty);
            byte[] password = Encoding.UTF8.GetBytes(credential.Password ?? string.Empty);
            if (user.Length is 0 or > 255 || password.Length is 0 or > 255)
                throw new ProxyException(ProxyError.ProxyAuthenticationFailed, proxy, "A SOCKS5 user name and password are 1 to 255 bytes each.");
            var login = new byte[3 + user.Length + password.Length];
            login[0] = 1;
            login[1] = (byte)user.Length;
            user.CopyTo(login, 2);
            login[2 + user.Length] = (byte)password.Length;
            password.CopyTo(login, 3 + user.Length);
            await WriteAsync(stream, login, cancellationToken).ConfigureAwait(false);
            Array.Clear(login, 0, login.Length);
            var status = await ReadExactAsync(stream, 2, proxy, cancellationToken).ConfigureAwait(false);
            if (status[0] != 1) throw Garbage(proxy, $"its login reply has version {status[0]}, not 1");
            if (status[1] != 0) throw new ProxyException(ProxyError.ProxyAuthenticationFailed, proxy, $"The SOCKS5 proxy {proxy} refused the user name and password.");
        }

        private static byte[] ConnectRequest(string host, int port)
        {
            byte[] address;
            byte type;
            if (IPAddress.TryParse(host, out var ip))
            {
                if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
                address = ip.GetAddressBytes();
                type = ip.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)4 : (byte)1;
            }
            else
            {
                var name = Encoding.ASCII.GetBytes(host);
                if (name.Length is 0 or > 255) throw new ArgumentException("A host name sent to a SOCKS5 proxy is 1 to 255 bytes.", nameof(host));
                address = new byte[1 + name.Length];
                address[0] = (byte)name.Length;
                name.CopyTo(address, 1);
                type = 3;
            }
            var request = new byte[4 + address.Length + 2];
            request[0] = 5; request[1] = 1; request[2] = 0; request[3] = type;
            address.CopyTo(request, 4);
            request[request.Length - 2] = (byte)(port >> 8);
            request[request.Length - 1] = (byte)port;
            return request;
        }

        /// <summary>Asks an HTTP proxy to open a tunnel with CONNECT. A 2xx reply opens it; 407 (or 401, as tinyproxy sends) is an authentication
        /// failure; 502/503/504 mean the proxy could not reach the target; anything else is the proxy refusing.</summary>
        /// <exception cref="ProxyException">The proxy failed, broke the protocol, refused, or wants credentials.</exception>
        /// <exception cref="SocketException">The proxy could not reach the target.</exception>
        public static async Task HttpConnectAsync(Stream stream, string host, int port, NetworkCredential? credential, string proxy, CancellationToken cancellationToken)
        {
            string authority = TargetText(host, port);
            var request = new StringBuilder();
            request.Append("CONNECT ").Append(authority).Append(" HTTP/1.1\r\n");
            request.Append("Host: ").Append(authority).Append("\r\n");
            if (credential is not null)
            {
                string token = Convert.ToBase64String(Encoding.UTF8.GetBytes((credential.UserName ?? string.Empty) + ":" + (credential.Password ?? string.Empty)));
                request.Append("Proxy-Authorization: Basic ").Append(token).Append("\r\n");
            }
            request.Append("\r\n");
            await WriteAsync(stream, Encoding.ASCII.GetBytes(request.ToString()), cancellationToken).ConfigureAwait(false);

            string head = await ReadHttpHeadAsync(stream, proxy, cancellationToken).ConfigureAwait(false);
            int lineEnd = head.IndexOf("\r\n", StringComparison.Ordinal);
            string statusLine = lineEnd < 0 ? head : head.Substring(0, lineEnd);
            var parts = statusLine.Split(new[] { ' ' }, 3);
            if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || parts[1].Length != 3 || !int.TryParse(parts[1], out int status))
                throw Garbage(proxy, "its reply does not start with an HTTP/1.x status line", "HTTP");
            string reason = parts.Length > 2 ? Printable(parts[2], 100) : string.Empty;
            if (status >= 200 && status < 300) return;
            switch (status)
            {
                case 407:
                case 401: // what tinyproxy answers a CONNECT with bad or missing Basic credentials
                    throw new ProxyException(ProxyError.ProxyAuthenticationFailed, proxy, credential is null
                        ? $"The HTTP proxy {proxy} requires authentication (give -ProxyCredential)."
                        : $"The HTTP proxy {proxy} refused the user name and password.");
                case 502: case 503:
                    throw new SocketException((int)SocketError.ConnectionRefused);
                case 504:
                    throw new SocketException((int)SocketError.TimedOut);
                default:
                    throw new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The HTTP proxy {proxy} refused to connect to {authority}: {status} {reason}".TrimEnd());
            }
        }

        /// <summary>Reads up to the blank line ending the reply's head, one byte at a time so as not to read into the
        /// tunnel, at most <see cref="MaxHttpReplyHead"/> bytes.</summary>
        private static async Task<string> ReadHttpHeadAsync(Stream stream, string proxy, CancellationToken cancellationToken)
        {
            var head = new byte[MaxHttpReplyHead];
            int length = 0;
            while (true)
            {
                if (length == head.Length) throw Garbage(proxy, $"its reply's head is longer than {MaxHttpReplyHead} bytes", "HTTP");
                int read = await stream.ReadAsync(head, length, 1, cancellationToken).ConfigureAwait(false);
                if (read == 0) throw Closed(proxy);
                length++;
                if (length >= 4 && head[length - 1] == '\n' && head[length - 2] == '\r' && head[length - 3] == '\n' && head[length - 4] == '\r')
                    return Encoding.ASCII.GetString(head, 0, length);
                if (length >= 2 && head[length - 1] == '\n' && head[length - 2] == '\n') // bare LF line ends
                    return Encoding.ASCII.GetString(head, 0, length).Replace("\n", "\r\n");
            }
        }

        private static async Task WriteAsync(Stream stream, byte[] data, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(data, 0, data.Length, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private static async Task<byte[]> ReadExactAsync(Stream stream, int count, string proxy, CancellationToken cancellationToken)
        {
            var buffer = new byte[count];
            int filled = 0;
            while (filled < count)
            {
                int read = await stream.ReadAsync(buffer, filled, count - filled, cancellationToken).ConfigureAwait(false);
                if (read == 0) throw Closed(proxy);
                filled += read;
            }
            return buffer;
        }

        private static string TargetText(string host, int port) =>
            host.IndexOf(':') >= 0 ? $"[{host}]:{port}" : $"{host}:{port}";

        private static ProxyException Closed(string proxy) =>
            new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The proxy {proxy} closed the connection in the middle of its handshake.");

        private static ProxyException Garbage(string proxy, string what, string protocol = "SOCKS5") =>
            new ProxyException(ProxyError.ProxyConnectFailed, proxy, $"The {protocol} proxy {proxy} broke its protocol: {what}.");

        private static string Printable(string text, int max)
        {
            var sb = new StringBuilder();
            foreach (char c in text)
            {
                if (sb.Length >= max) break;
                sb.Append(c >= ' ' && c < 127 ? c : '?');
            }
            return sb.ToString();
        }
    }
}
