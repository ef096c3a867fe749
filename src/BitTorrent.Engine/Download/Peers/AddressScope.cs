using System;
using System.Collections.Generic;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace BitTorrent.Download
{
    /// <summary>Where an address can be reached from: loopback (this host only), local (a private network: RFC 1918,
    /// link-local, carrier-grade NAT, IPv6 unique-local and link-local) or public. Peer exchange uses it both ways:
    /// an address is only passed between peers that can both reach it, so a peer on the internet is never sent our
    /// LAN's layout, and one cannot make us dial into our own LAN or host.</summary>
    internal static class AddressScope
    {
        public static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

        public static bool IsLoopback(IPAddress address) => IPAddress.IsLoopback(Unmapped(address));

        /// <summary>A private-network address (not loopback).</summary>
        public static bool IsPrivate(IPAddress address)
        {
            address = Unmapped(address);
            var b = address.GetAddressBytes();
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                return b[0] == 10
                    || (b[0] == 172 && (b[1] & 0xF0) == 16)        // 172.16.0.0/12
                    || (b[0] == 192 && b[1] == 168)
                    || (b[0] == 169 && b[1] == 254)                 // link-local
                    || (b[0] == 100 && (b[1] & 0xC0) == 64);        // 100.64.0.0/10, carrier-grade NAT
            }
            return (b[0] & 0xFE) == 0xFC                            // fc00::/7, unique local
                || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal;
        }

        /// <summary>Loopback or private: not reachable from the internet.</summary>
        public static bool IsLocal(IPAddress address) => IsLoopback(address) || IsPrivate(address);

        /// <summary>Whether <paramref name="address"/> may pass (by PEX, either way) between us and a peer at
        /// <paramref name="peer"/>: a loopback address only with a loopback peer, a private one only with a local
        /// peer, a public one with anyone.</summary>
        public static bool MayExchange(IPAddress address, IPAddress peer)
        {
            if (IsLoopback(address)) return IsLoopback(peer);
            if (IsPrivate(address)) return IsLocal(peer);
            return true;
        }

        /// <summary>This host's unicast addresses (read once; empty if the system will not say).</summary>
        public static IReadOnlyCollection<IPAddress> HostAddresses => HostAddressesLazy.Value;

        private static readonly Lazy<HashSet<IPAddress>> HostAddressesLazy = new Lazy<HashSet<IPAddress>>(() =>
        {
            var set = new HashSet<IPAddress>();
            try
            {
                foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
                    foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                        set.Add(Unmapped(unicast.Address));
            }
            catch (Exception ex) when (ex is NetworkInformationException || ex is PlatformNotSupportedException || ex is InvalidOperationException)
            {
                // Without the list, loopback and the addresses peers tell us (yourip) still count as ours.
            }
            return set;
        });
    }
}
