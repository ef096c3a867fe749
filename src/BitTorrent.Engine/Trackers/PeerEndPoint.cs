using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Trackers
{
    /// <summary>The one text form of a peer address used everywhere: <c>1.2.3.4:6881</c> or <c>[::1]:6881</c>
    /// (no IPv6 scope id: trackers never send one), and the checks that decide whether an address can be a peer.</summary>
    public static class PeerEndPoint
    {
        public static string Format(IPAddress address, int port)
        {
            var ip = Normalize(address);
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                var withoutScope = new IPAddress(ip.GetAddressBytes());
                return "[" + withoutScope + "]:" + port.ToString(CultureInfo.InvariantCulture);
            }
            return ip + ":" + port.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) become plain IPv4, so one peer has one form.</summary>
        public static IPAddress Normalize(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

        /// <summary>False for addresses nobody can connect to: unspecified (0.0.0.0, ::), broadcast, multicast, and
        /// port 0. Loopback and private addresses are kept: a tracker on a LAN or on this machine lists them.</summary>
        public static bool IsUsable(IPAddress address, int port)
        {
            if (port <= 0 || port > 65535) return false;
            var ip = Normalize(address);
            if (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.Broadcast)) return false;
            if (ip.AddressFamily == AddressFamily.InterNetwork)
            {
                byte first = ip.GetAddressBytes()[0];
                return first < 224; // 224/4 multicast, 240/4 reserved
            }
            return !ip.IsIPv6Multicast;
        }
    }
}
