using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Dht
{
    /// <summary>Which addresses a routing table may hold. The table itself refuses unusable addresses (unspecified,
    /// broadcast, multicast) and port 0; whether a reported address is believable depends on who reported it, which
    /// only the caller knows, so it asks <see cref="ShouldAcceptReported"/> before adding a node from a nodes list.</summary>
    public static class DhtAddressRules
    {
        /// <summary>False for addresses no node can be reached at.</summary>
        public static bool IsUsable(IPAddress address)
        {
            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.None)
                || address.Equals(IPAddress.Broadcast) || address.Equals(IPAddress.IPv6None)) return false;
            if (address.AddressFamily == AddressFamily.InterNetwork) return address.GetAddressBytes()[0] < 224;
            return !address.IsIPv6Multicast;
        }

        /// <summary>Loopback, RFC 1918, link-local, carrier-grade NAT, benchmark (198.18/15), IPv6 ULA and
        /// link-local: addresses that mean nothing outside the reporter's own network.</summary>
        public static bool IsPrivate(IPAddress address)
        {
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            if (IPAddress.IsLoopback(address)) return true;
            var b = address.GetAddressBytes();
            if (address.AddressFamily == AddressFamily.InterNetwork)
                return b[0] == 10 || b[0] == 0
                    || (b[0] == 172 && (b[1] & 0xF0) == 16)
                    || (b[0] == 192 && b[1] == 168)
                    || (b[0] == 169 && b[1] == 254)
                    || (b[0] == 100 && (b[1] & 0xC0) == 64)
                    || (b[0] == 198 && (b[1] & 0xFE) == 18);
            return (b[0] & 0xFE) == 0xFC || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal;
        }

        /// <summary>A node at <paramref name="reported"/>, learned from a node at <paramref name="reporter"/>, is
        /// believable unless a public node reports a private address (a poisoning trick, or a leak of its LAN).</summary>
        public static bool ShouldAcceptReported(IPAddress reported, IPAddress reporter)
            => !IsPrivate(reported) || IsPrivate(reporter);
    }
}
