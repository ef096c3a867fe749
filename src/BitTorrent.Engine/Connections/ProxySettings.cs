using System;
using System.Net;

namespace BitTorrent.Connections
{
    /// <summary>The kind of proxy outgoing connections go through.</summary>
    public enum ProxyKind
    {
        /// <summary>An HTTP proxy that tunnels with CONNECT (RFC 9110 §9.3.6); Basic authentication.</summary>
        HttpConnect,
        /// <summary>A SOCKS5 proxy (RFC 1928); username/password authentication (RFC 1929).</summary>
        Socks5,
    }

    /// <summary>A proxy for a session's outgoing connections: peers (tunnelled) and HTTP trackers. Made from a URI:
    /// <c>http://host:port</c> or <c>socks5://host:port</c> (also <c>socks5h://</c>, the same here: peers are dialled
    /// by address, trackers by name through the proxy).</summary>
    public sealed class ProxySettings
    {
        /// <summary>Longest wait for the proxy to accept our connection and finish its side of the handshake.</summary>
        public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(15);

        private ProxySettings(Uri address, ProxyKind kind, string host, int port, NetworkCredential? credential)
        {
            Address = address;
            Kind = kind;
            Host = host;
            Port = port;
            Credential = credential;
        }

        /// <summary>The proxy as given (scheme, host, port; no user information).</summary>
        public Uri Address { get; }
        public ProxyKind Kind { get; }
        /// <summary>The proxy's host: an IP address or a name resolved when dialling.</summary>
        public string Host { get; }
        public int Port { get; }
        /// <summary>User name and password for the proxy (null: none offered).</summary>
        public NetworkCredential? Credential { get; }
        public TimeSpan HandshakeTimeout { get; init; } = DefaultHandshakeTimeout;

        /// <summary>"host:port" for messages.</summary>
        public string Text => Address.Authority;

        /// <summary>Checks and takes a proxy URI. Throws <see cref="ArgumentException"/> for anything but
        /// http:// or socks5:// with a host and a port, for a path or query, and for credentials in the URI (they
        /// belong in <paramref name="credential"/>, not in a string that ends up in logs).</summary>
        public static ProxySettings Parse(Uri address, NetworkCredential? credential = null)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            if (!address.IsAbsoluteUri) throw new ArgumentException($"'{address}' is not an absolute URI (expected http://host:port or socks5://host:port).", nameof(address));
            ProxyKind kind = address.Scheme.ToLowerInvariant() switch
            {
                "http" => ProxyKind.HttpConnect,
                "socks5" => ProxyKind.Socks5,
                "socks5h" => ProxyKind.Socks5,
                _ => throw new ArgumentException($"The proxy scheme '{address.Scheme}' is not supported (use http:// or socks5://).", nameof(address)),
            };
            if (!string.IsNullOrEmpty(address.UserInfo))
                throw new ArgumentException("Give the proxy's user name and password as a credential, not in the URI.", nameof(address));
            if (string.IsNullOrEmpty(address.Host)) throw new ArgumentException($"'{address}' has no host.", nameof(address));
            if (address.AbsolutePath != "/" || !string.IsNullOrEmpty(address.Query) || !string.IsNullOrEmpty(address.Fragment))
                throw new ArgumentException($"'{address}' has a path, query or fragment; a proxy is scheme://host:port.", nameof(address));
            if (address.Port <= 0 || address.Port > 65535) throw new ArgumentException($"'{address}' has no valid port.", nameof(address));
            if (credential is not null && kind == ProxyKind.Socks5)
            {
                // RFC 1929: one length byte each.
                if (System.Text.Encoding.UTF8.GetByteCount(credential.UserName ?? string.Empty) is int u && (u == 0 || u > 255))
                    throw new ArgumentException("A SOCKS5 user name is 1 to 255 bytes (UTF-8).", nameof(credential));
                if (System.Text.Encoding.UTF8.GetByteCount(credential.Password ?? string.Empty) is int p && (p == 0 || p > 255))
                    throw new ArgumentException("A SOCKS5 password is 1 to 255 bytes (UTF-8).", nameof(credential));
            }
            string host = address.HostNameType == UriHostNameType.IPv6 ? address.Host.Trim('[', ']') : address.Host;
            var clean = new Uri($"{kind switch { ProxyKind.Socks5 => "socks5", _ => "http" }}://{address.Authority}");
            return new ProxySettings(clean, kind, host, address.Port, credential);
        }

        public override string ToString() => Address.ToString();
    }
}
