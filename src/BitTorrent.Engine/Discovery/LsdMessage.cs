using System;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace BitTorrent.Discovery
{
    /// <summary>Why a BEP 14 datagram was not taken.</summary>
    public enum LsdRejectReason
    {
        None,

        /// <summary>Over <see cref="LsdMessage.MaxReceiveLength"/> bytes.</summary>
        TooLarge,

        /// <summary>Not a "BT-SEARCH * HTTP/1.x" request.</summary>
        NotBtSearch,

        /// <summary>No Port header, or one that is not 1–65535.</summary>
        InvalidPort,

        /// <summary>No Infohash header of 40 hex digits that are not all zero.</summary>
        NoValidInfoHash,

        /// <summary>Our own announcement, looped back (its cookie is ours).</summary>
        OwnAnnouncement,
    }

    /// <summary>A BEP 14 announcement: a peer on the local network at the datagram's source address, listening on
    /// <see cref="Port"/>, in the swarms of <see cref="InfoHashes"/>.</summary>
    public sealed class LsdAnnouncement
    {
        internal LsdAnnouncement(int port, IReadOnlyList<string> infoHashes, string? cookie, string? host, int ignoredInfoHashes)
        {
            Port = port;
            InfoHashes = infoHashes;
            Cookie = cookie;
            Host = host;
            IgnoredInfoHashes = ignoredInfoHashes;
        }

        public int Port { get; }

        /// <summary>40 lower-case hex digits each, without duplicates, in the datagram's order.</summary>
        public IReadOnlyList<string> InfoHashes { get; }

        public string? Cookie { get; }
        public string? Host { get; }

        /// <summary>Infohash headers that were not 40 hex digits, or were all zero (left out).</summary>
        public int IgnoredInfoHashes { get; }
    }

    /// <summary>Builds and reads BEP 14 local service discovery datagrams (an HTTP-like "BT-SEARCH" request sent to
    /// a multicast group). No sockets here: the caller sends and receives the bytes.</summary>
    public static class LsdMessage
    {
        public const string Ipv4Group = "239.192.152.143";
        public const string Ipv6Group = "ff15::efc0:988f";
        public const int GroupPort = 6771;

        /// <summary>BEP 14: keep a datagram within 1400 bytes.</summary>
        public const int MaxDatagramLength = 1400;

        /// <summary>Largest datagram read: one Ethernet frame's payload (senders are asked for 1400; a little more is
        /// harmless, much more is not a BEP 14 sender).</summary>
        public const int MaxReceiveLength = 1500;

        private const string RequestLine = "BT-SEARCH * HTTP/1.1";

        /// <summary>The datagrams announcing <paramref name="infoHashes"/> (20-byte hashes), as many per datagram as fit
        /// in <see cref="MaxDatagramLength"/>.</summary>
        public static IReadOnlyList<byte[]> Build(bool ipv6, int port, IEnumerable<byte[]> infoHashes, string cookie)
        {
            if (port < 1 || port > 65535) throw new ArgumentOutOfRangeException(nameof(port), port, "A port is 1 to 65535.");
            if (cookie is null || cookie.Length == 0 || cookie.Length > 64 || !IsToken(cookie))
                throw new ArgumentException("A cookie is 1 to 64 printable ASCII characters without spaces.", nameof(cookie));
            string head = $"{RequestLine}\r\nHost: {(ipv6 ? $"[{Ipv6Group}]" : Ipv4Group)}:{GroupPort}\r\nPort: {port.ToString(CultureInfo.InvariantCulture)}\r\n";
            string tail = $"cookie: {cookie}\r\n\r\n\r\n";
            var datagrams = new List<byte[]>();
            var body = new StringBuilder();
            foreach (var hash in infoHashes)
            {
                if (hash is null || hash.Length != 20) throw new ArgumentException("A v1 info-hash is 20 bytes.", nameof(infoHashes));
                string line = $"Infohash: {Hex.ToLower(hash)}\r\n";
                if (body.Length > 0 && head.Length + body.Length + line.Length + tail.Length > MaxDatagramLength)
                {
                    datagrams.Add(Encoding.ASCII.GetBytes(head + body + tail));
                    body.Clear();
                }
                body.Append(line);
            }
            if (body.Length > 0) datagrams.Add(Encoding.ASCII.GetBytes(head + body + tail));
            return datagrams;
        }

        /// <summary>A random cookie, as libtorrent makes them (31 bits in hex), to recognise our own datagrams.</summary>
        public static string NewCookie()
        {
            var bytes = new byte[4];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            return (BitConverter.ToUInt32(bytes, 0) & 0x7FFFFFFF).ToString("x", CultureInfo.InvariantCulture);
        }

        /// <summary>Reads a datagram. Unknown headers are ignored, Infohash headers that are not 40 hex digits (or are
        /// all zero) are left out; the whole datagram is refused without a valid Port, without any valid Infohash,
        /// or when its cookie is <paramref name="ownCookie"/>.</summary>
        public static bool TryParse(ReadOnlySpan<byte> datagram, string? ownCookie, out LsdAnnouncement announcement, out LsdRejectReason reason)
        {
            announcement = null!;
            if (datagram.Length > MaxReceiveLength)
            {
                reason = LsdRejectReason.TooLarge;
                return false;
            }
            // Latin-1: one char per byte, so nothing in a hostile datagram can fail to decode.
            var chars = new char[datagram.Length];
            for (int i = 0; i < datagram.Length; i++) chars[i] = (char)datagram[i];
            var lines = new string(chars).Split('\n');
            string first = lines[0].TrimEnd('\r');
            if (!first.StartsWith("BT-SEARCH * HTTP/1.", StringComparison.Ordinal))
            {
                reason = LsdRejectReason.NotBtSearch;
                return false;
            }
            int? port = null;
            bool portSeen = false;
            string? cookie = null, host = null;
            var hashes = new List<string>();
            int ignored = 0;
            for (int i = 1; i < lines.Length; i++)
            {
                string line = lines[i].TrimEnd('\r');
                if (line.Length == 0) break;
                int colon = line.IndexOf(':');
                if (colon <= 0) continue;
                string name = line.Substring(0, colon).Trim();
                string value = line.Substring(colon + 1).Trim();
                if (name.Equals("Port", StringComparison.OrdinalIgnoreCase))
                {
                    if (portSeen) continue;
                    portSeen = true;
                    if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p >= 1 && p <= 65535) port = p;
                }
                else if (name.Equals("Infohash", StringComparison.OrdinalIgnoreCase))
                {
                    if (value.Length == 40 && Hex.TryParse(value, out var bytes) && Array.Exists(bytes, b => b != 0))
                    {
                        string hex = Hex.ToLower(bytes);
                        if (!hashes.Contains(hex)) hashes.Add(hex);
                    }
                    else ignored++;
                }
                else if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase)) cookie ??= value;
                else if (name.Equals("Host", StringComparison.OrdinalIgnoreCase)) host ??= value;
            }
            if (ownCookie is not null && cookie is not null && string.Equals(cookie, ownCookie, StringComparison.Ordinal))
                reason = LsdRejectReason.OwnAnnouncement;
            else if (port is null) reason = LsdRejectReason.InvalidPort;
            else if (hashes.Count == 0) reason = LsdRejectReason.NoValidInfoHash;
            else
            {
                reason = LsdRejectReason.None;
                announcement = new LsdAnnouncement(port.Value, hashes, cookie, host, ignored);
                return true;
            }
            return false;
        }

        private static bool IsToken(string text)
        {
            foreach (char c in text)
                if (c <= ' ' || c >= 0x7F) return false;
            return true;
        }
    }
}
