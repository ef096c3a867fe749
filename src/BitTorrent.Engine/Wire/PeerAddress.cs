using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace BitTorrent.Wire
{
    /// <summary>Where a peer listens: "ip:port", "[ipv6]:port" or "host:port". A bare IPv6 address needs brackets,
    /// since its last group could be read as a port.</summary>
    public sealed class PeerAddress
    {
        private PeerAddress(string host, IPAddress? address, int port)
        {
            Host = host;
            Address = address;
            Port = port;
        }

        /// <summary>The host as given (an IP literal without brackets, or a name).</summary>
        public string Host { get; }

        /// <summary>The IP address, when <see cref="Host"/> is a literal.</summary>
        public IPAddress? Address { get; }

        public int Port { get; }

        public PeerAddress(IPEndPoint endPoint) : this(endPoint.Address.ToString(), endPoint.Address, endPoint.Port) { }

        public static bool TryParse(string? text, out PeerAddress address)
        {
            address = null!;
            if (string.IsNullOrWhiteSpace(text)) return false;
            text = text!.Trim();
            string host, portText;
            if (text.StartsWith("[", StringComparison.Ordinal))
            {
                int close = text.IndexOf(']');
                if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') return false;
                host = text.Substring(1, close - 1);
                portText = text.Substring(close + 2);
                if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return false;
            }
            else
            {
                int colon = text.LastIndexOf(':');
                if (colon <= 0 || text.IndexOf(':') != colon) return false;   // more than one ':' is an unbracketed IPv6
                host = text.Substring(0, colon);
                portText = text.Substring(colon + 1);
            }
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535) return false;
            if (IPAddress.TryParse(host, out var ip))
            {
                // IPAddress.TryParse accepts "1" or "1.2" as IPv4 shorthand: insist on the dotted quad.
                if (ip.AddressFamily == AddressFamily.InterNetwork && host.Split('.').Length != 4) return false;
                address = new PeerAddress(ip.ToString(), ip, port);
                return true;
            }
            if (Uri.CheckHostName(host) != UriHostNameType.Dns) return false;
            address = new PeerAddress(host, null, port);
            return true;
        }

        public static PeerAddress Parse(string text) =>
            TryParse(text, out var address) ? address : throw new FormatException($"'{text}' is not a peer address (ip:port, [ipv6]:port or host:port).");

        /// <summary>The endpoints to try: the literal, or what DNS returns for the name (IPv4 first).</summary>
        public async Task<IPEndPoint[]> ResolveAsync(CancellationToken cancellationToken)
        {
            if (Address is not null) return new[] { new IPEndPoint(Address, Port) };
            // Dns has no cancellable overload on netstandard2.0: race it against the token.
            var lookup = Dns.GetHostAddressesAsync(Host);
            var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
            if (await Task.WhenAny(lookup, cancelled).ConfigureAwait(false) == cancelled)
            {
                _ = lookup.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);   // observe a late failure
                cancellationToken.ThrowIfCancellationRequested();
            }
            var addresses = await lookup.ConfigureAwait(false);
            Array.Sort(addresses, (a, b) => (a.AddressFamily == AddressFamily.InterNetworkV6 ? 1 : 0) - (b.AddressFamily == AddressFamily.InterNetworkV6 ? 1 : 0));
            var endPoints = new IPEndPoint[addresses.Length];
            for (int i = 0; i < addresses.Length; i++) endPoints[i] = new IPEndPoint(addresses[i], Port);
            return endPoints;
        }

        public override string ToString() =>
            Address?.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
    }
}
