using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace BitTorrent.Download
{
    /// <summary>The BEP 6 allowed-fast set: pieces a peer may request from us while we choke it, so a newcomer with
    /// nothing to trade gets a first piece quickly. The set depends only on the peer's network (IPv4 /24) and the
    /// info-hash, so reconnecting from a neighbouring address yields the same pieces, not new free ones.</summary>
    internal static class AllowedFastSet
    {
        /// <summary>BEP 6 suggests 10 pieces.</summary>
        public const int DefaultSize = 10;

        /// <summary>The canonical BEP 6 algorithm: x = masked address + info-hash; repeatedly x = SHA1(x) and take each
        /// of its five 32-bit words modulo the piece count until <paramref name="count"/> distinct pieces are chosen.
        /// IPv6 (which BEP 6 does not cover) uses the /48 the same way. Empty when the torrent has no more pieces than
        /// the set would hold (every piece would be free).</summary>
        public static IReadOnlyList<int> Compute(IPAddress address, ReadOnlySpan<byte> infoHash, int pieceCount, int count = DefaultSize)
        {
            if (address is null) throw new ArgumentNullException(nameof(address));
            var result = new List<int>(count);
            if (count <= 0 || pieceCount <= count) return result;
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            byte[] ip = address.GetAddressBytes();
            if (address.AddressFamily == AddressFamily.InterNetwork) ip[3] = 0;
            else for (int i = 6; i < ip.Length; i++) ip[i] = 0;

            var x = new byte[ip.Length + infoHash.Length];
            ip.CopyTo(x, 0);
            infoHash.CopyTo(x.AsSpan(ip.Length));
            using var sha = SHA1.Create();
            while (result.Count < count)
            {
                x = sha.ComputeHash(x);
                for (int i = 0; i < 5 && result.Count < count; i++)
                {
                    uint y = (uint)(x[4 * i] << 24 | x[4 * i + 1] << 16 | x[4 * i + 2] << 8 | x[4 * i + 3]);
                    int index = (int)(y % (uint)pieceCount);
                    if (!result.Contains(index)) result.Add(index);
                }
            }
            return result;
        }
    }
}
