using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace BitTorrent.Discovery
{
    /// <summary>One UDP socket of local discovery: an address family's multicast group joined on the chosen
    /// interfaces (or, for tests, a unicast end point), and where announcements are sent from it.</summary>
    internal sealed class LsdChannel : IDisposable
    {
        private readonly List<IPAddress> _ipv4Interfaces = new List<IPAddress>();
        private readonly List<int> _ipv6Interfaces = new List<int>();

        private LsdChannel(Socket socket, bool ipv6, IReadOnlyList<IPEndPoint> destinations)
        {
            Socket = socket;
            IsIpv6 = ipv6;
            Destinations = destinations;
        }

        public Socket Socket { get; }
        public bool IsIpv6 { get; }
        public IReadOnlyList<IPEndPoint> Destinations { get; }

        /// <summary>The family's BEP 14 group, joined on every interface that is up and does multicast (or the one
        /// holding <paramref name="interfaceAddress"/>); null when the host cannot (no such interface, no IPv6, the
        /// port refused).</summary>
        public static LsdChannel? OpenMulticast(bool ipv6, IPAddress? interfaceAddress)
        {
            var group = IPAddress.Parse(ipv6 ? LsdMessage.Ipv6Group : LsdMessage.Ipv4Group);
            if (ipv6 ? !Socket.OSSupportsIPv6 : !Socket.OSSupportsIPv4) return null;
            Socket? socket = null;
            try
            {
                socket = new Socket(ipv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                if (ipv6) socket.DualMode = false;
                // Several processes on one host each hear the group (libtorrent and qBittorrent do the same).
                socket.ExclusiveAddressUse = false;
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                socket.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, LsdMessage.GroupPort));
                var level = ipv6 ? SocketOptionLevel.IPv6 : SocketOptionLevel.IP;
                // The LAN only, and other processes on this host hear us (our own datagrams carry our cookie).
                socket.SetSocketOption(level, SocketOptionName.MulticastTimeToLive, 1);
                socket.SetSocketOption(level, SocketOptionName.MulticastLoopback, true);
                var channel = new LsdChannel(socket, ipv6, new[] { new IPEndPoint(group, LsdMessage.GroupPort) });
                if (!channel.JoinGroup(group, interfaceAddress))
                {
                    socket.Dispose();
                    return null;
                }
                return channel;
            }
            catch (Exception ex) when (ex is SocketException || ex is NotSupportedException || ex is PlatformNotSupportedException)
            {
                socket?.Dispose();
                return null;
            }
        }

        /// <summary>A plain UDP socket on <paramref name="listen"/> that sends to those of <paramref name="destinations"/>
        /// of its family (tests on loopback).</summary>
        public static LsdChannel OpenUnicast(IPEndPoint listen, IReadOnlyList<IPEndPoint> destinations)
        {
            var socket = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                socket.Bind(listen);
                bool ipv6 = listen.AddressFamily == AddressFamily.InterNetworkV6;
                return new LsdChannel(socket, ipv6, destinations);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        public IPEndPoint LocalEndPoint => (IPEndPoint)Socket.LocalEndPoint!;

        /// <summary>Joins the group on each chosen interface; true when at least one join took.</summary>
        private bool JoinGroup(IPAddress group, IPAddress? interfaceAddress)
        {
            foreach (var nic in MulticastInterfaces())
            {
                IPInterfaceProperties properties;
                try { properties = nic.GetIPProperties(); }
                catch (NetworkInformationException) { continue; }
                var addresses = properties.UnicastAddresses.Select(u => u.Address).ToList();
                if (interfaceAddress is not null && !addresses.Any(a => a.Equals(interfaceAddress))) continue;
                try
                {
                    if (IsIpv6)
                    {
                        if (!addresses.Any(a => a.AddressFamily == AddressFamily.InterNetworkV6)) continue;
                        int index = properties.GetIPv6Properties().Index;
                        Socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, new IPv6MulticastOption(group, index));
                        _ipv6Interfaces.Add(index);
                    }
                    else
                    {
                        var local = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
                        if (local is null) continue;
                        Socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group, local));
                        _ipv4Interfaces.Add(local);
                    }
                }
                catch (Exception ex) when (ex is SocketException || ex is NetworkInformationException || ex is PlatformNotSupportedException)
                {
                    // This interface cannot (IPv6 off on it, say); the others may.
                }
            }
            return _ipv4Interfaces.Count + _ipv6Interfaces.Count > 0;
        }

        private static IEnumerable<NetworkInterface> MulticastInterfaces()
        {
            NetworkInterface[] all;
            try { all = NetworkInterface.GetAllNetworkInterfaces(); }
            catch (NetworkInformationException) { yield break; }
            foreach (var nic in all)
            {
                bool up;
                try
                {
                    up = nic.OperationalStatus == OperationalStatus.Up || nic.OperationalStatus == OperationalStatus.Unknown;
                    if (!up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback || !nic.SupportsMulticast) continue;
                }
                catch (Exception ex) when (ex is NetworkInformationException || ex is PlatformNotSupportedException) { continue; }
                yield return nic;
            }
        }

        /// <summary>Sends the datagram out of every joined interface (unicast: to every destination); the number of
        /// sends that failed.</summary>
        public int Send(byte[] datagram)
        {
            int failed = 0;
            if (_ipv4Interfaces.Count == 0 && _ipv6Interfaces.Count == 0)
            {
                // Read at each send (a test may fill the list after opening): those of our family.
                foreach (var destination in Destinations.ToList())
                    if (destination.AddressFamily == Socket.AddressFamily) failed += TrySend(datagram, destination) ? 0 : 1;
                return failed;
            }
            foreach (var local in _ipv4Interfaces)
            {
                if (!TrySetOption(SocketOptionLevel.IP, local.GetAddressBytes())) { failed++; continue; }
                failed += TrySend(datagram, Destinations[0]) ? 0 : 1;
            }
            foreach (var index in _ipv6Interfaces)
            {
                if (!TrySetOption(SocketOptionLevel.IPv6, index)) { failed++; continue; }
                failed += TrySend(datagram, Destinations[0]) ? 0 : 1;
            }
            return failed;
        }

        private bool TrySetOption(SocketOptionLevel level, object value)
        {
            try
            {
                if (value is int index) Socket.SetSocketOption(level, SocketOptionName.MulticastInterface, index);
                else Socket.SetSocketOption(level, SocketOptionName.MulticastInterface, (byte[])value);
                return true;
            }
            catch (SocketException) { return false; }
        }

        private bool TrySend(byte[] datagram, IPEndPoint destination)
        {
            try
            {
                Socket.SendTo(datagram, destination);
                return true;
            }
            catch (SocketException) { return false; }
        }

        public void Dispose() => Socket.Dispose();
    }
}
