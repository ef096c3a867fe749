using System;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace BitTorrent.Dht
{
    /// <summary>BEP 42 (DHT security extension): a node id is tied to the node's external address, so one host
    /// cannot pick ids next to an info-hash it wants to control. The first 21 bits of the id come from the CRC-32C of
    /// the masked address and a random byte <c>r</c>, which is also the id's last byte.</summary>
    public static class NodeIdSecurity
    {
        private static readonly byte[] Ipv4Mask = { 0x03, 0x0f, 0x3f, 0xff };
        private static readonly byte[] Ipv6Mask = { 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff };

        /// <summary>A fresh id for <paramref name="externalAddress"/> with a random <c>r</c> and random remaining bits.</summary>
        public static NodeId Generate(IPAddress externalAddress)
        {
            var random = new byte[NodeId.Length];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(random);
            return Generate(externalAddress, random[NodeId.Length - 1], random);
        }

        /// <summary>The id for <paramref name="externalAddress"/> and <paramref name="r"/>, its free bits (the low 3 of
        /// byte 2 and bytes 3–18) taken from <paramref name="randomBytes"/> (20 bytes; deterministic for tests).</summary>
        public static NodeId Generate(IPAddress externalAddress, byte r, ReadOnlySpan<byte> randomBytes)
        {
            if (randomBytes.Length != NodeId.Length) throw new ArgumentException("20 random bytes are needed.", nameof(randomBytes));
            uint crc = Checksum(externalAddress, r);
            var id = randomBytes.ToArray();
            id[0] = (byte)(crc >> 24);
            id[1] = (byte)(crc >> 16);
            id[2] = (byte)(((crc >> 8) & 0xf8) | (uint)(randomBytes[2] & 0x7));
            id[NodeId.Length - 1] = r;
            return new NodeId(id);
        }

        /// <summary>True when <paramref name="id"/> is one <paramref name="address"/> may use: its first 21 bits match
        /// the address's checksum with <c>r</c> = the id's last byte. Local and private addresses are exempt (BEP 42:
        /// they have no meaningful external address), so any id is valid for them.</summary>
        public static bool IsValid(NodeId id, IPAddress address)
        {
            if (IsExempt(address)) return true;
            var bytes = id.Bytes;
            uint crc = Checksum(address, bytes[NodeId.Length - 1]);
            return bytes[0] == (byte)(crc >> 24)
                && bytes[1] == (byte)(crc >> 16)
                && (bytes[2] & 0xf8) == (byte)((crc >> 8) & 0xf8);
        }

        /// <summary>BEP 42's exempt ranges: 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8 for IPv4; loopback, link-local
        /// (fe80::/10) and unique-local (fc00::/7) for IPv6, and IPv4 ones mapped into IPv6.</summary>
        public static bool IsExempt(IPAddress address)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            var b = address.GetAddressBytes();
            if (b.Length == 4)
                return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16)
                    || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
            return IPAddress.IPv6Loopback.Equals(address) || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || (b[0] & 0xfe) == 0xfc;
        }

        /// <summary>CRC-32C of the masked address (IPv4: all 4 bytes; IPv6: the first 8) with r's low 3 bits in the top
        /// 3 bits of the first byte.</summary>
        private static uint Checksum(IPAddress address, byte r)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            var bytes = address.GetAddressBytes();
            var mask = bytes.Length == 4 ? Ipv4Mask : Ipv6Mask;
            Span<byte> masked = stackalloc byte[mask.Length];
            for (int i = 0; i < mask.Length; i++) masked[i] = (byte)(bytes[i] & mask[i]);
            masked[0] |= (byte)((r & 0x7) << 5);
            return Crc32C.Compute(masked);
        }
    }
}
