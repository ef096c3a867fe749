using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using BitTorrent.Bencoding;

namespace BitTorrent.Wire
{
    /// <summary>BEP 11 per-peer flags (<c>added.f</c>, <c>added6.f</c>). Untrusted hints: the seed bit in
    /// particular can be stale or a lie.</summary>
    [Flags]
    public enum PexFlags : byte
    {
        None = 0,
        PrefersEncryption = 0x01,
        /// <summary>Seed or upload-only (BEP 21).</summary>
        Seed = 0x02,
        Utp = 0x04,
        Holepunch = 0x08,
        /// <summary>We connected to it (so it accepts incoming connections).</summary>
        Reachable = 0x10,
    }

    /// <summary>A peer in a PEX message: where it listens and what it is said to be.</summary>
    public readonly struct PexPeer : IEquatable<PexPeer>
    {
        public PexPeer(IPEndPoint endPoint, PexFlags flags = PexFlags.None)
        {
            EndPoint = endPoint ?? throw new ArgumentNullException(nameof(endPoint));
            Flags = flags;
        }

        public IPEndPoint EndPoint { get; }
        public PexFlags Flags { get; }

        public bool Equals(PexPeer other) => Equals(EndPoint, other.EndPoint) && Flags == other.Flags;
        public override bool Equals(object? obj) => obj is PexPeer other && Equals(other);
        public override int GetHashCode() => (EndPoint?.GetHashCode() ?? 0) * 31 + (int)Flags;
        public override string ToString() => Flags == PexFlags.None ? $"{EndPoint}" : $"{EndPoint} ({Flags})";
    }

    /// <summary>A ut_pex (BEP 11) message: peers added (IPv4 <c>added</c> 6 bytes each with one flag byte each in
    /// <c>added.f</c>; IPv6 <c>added6</c> 18 bytes each, <c>added6.f</c>) and dropped (<c>dropped</c>: IPv4, 6 bytes
    /// each — BEP 11 mislabels it IPv6; <c>dropped6</c>: 18 bytes). What a peer sends is untrusted: decoding keeps
    /// at most <see cref="MaxPeersPerMessage"/> of each list and leaves out port 0, unspecified, multicast and
    /// broadcast addresses, duplicates, our own addresses and anything both added and dropped.</summary>
    public sealed class PexMessage
    {
        /// <summary>Largest message accepted (libtorrent disconnects above it too).</summary>
        public const int MaxMessageLength = 500 * 1024;

        /// <summary>Most peers kept from one message per list (libtorrent's max_pex_peers; BEP 11 lets a sender add
        /// and drop at most 50 a message).</summary>
        public const int MaxPeersPerMessage = 50;

        private static readonly BencodeLimits DecodeLimits = new BencodeLimits
        {
            MaxInputBytes = MaxMessageLength,
            MaxDepth = 8,
            MaxTokens = 1024,
            RejectTrailingData = false,
        };

        public PexMessage(IReadOnlyList<PexPeer>? added = null, IReadOnlyList<IPEndPoint>? dropped = null)
        {
            Added = added ?? Array.Empty<PexPeer>();
            Dropped = dropped ?? Array.Empty<IPEndPoint>();
        }

        public IReadOnlyList<PexPeer> Added { get; }
        public IReadOnlyList<IPEndPoint> Dropped { get; }

        /// <summary>Entries of a decoded message that were left out (over the limit, invalid, ours, duplicated).</summary>
        public int IgnoredCount { get; private set; }

        /// <summary>Reads a ut_pex payload (what follows the extended id). Throws <see cref="PeerProtocolException"/>
        /// for a message over 500 KiB or one that is not a bencoded dictionary; lists of the wrong type or with a
        /// partial entry at the end are read as far as they go. <paramref name="self"/>: our own listen endpoints,
        /// left out.</summary>
        public static PexMessage Decode(ReadOnlySpan<byte> payload, ICollection<IPEndPoint>? self = null)
        {
            if (payload.Length > MaxMessageLength)
                throw new PeerProtocolException(PeerProtocolError.MessageTooLarge, $"A ut_pex message of {payload.Length} bytes; the limit is {MaxMessageLength}.");
            BValue root;
            try
            {
                root = BencodeDecoder.DecodePrefix(payload, out _, DecodeLimits);
            }
            catch (BencodeException ex)
            {
                throw new PeerProtocolException(PeerProtocolError.InvalidPexMessage, "A ut_pex message is not valid bencode: " + ex.Message);
            }
            if (root is not BDictionary dict) throw new PeerProtocolException(PeerProtocolError.InvalidPexMessage, "A ut_pex message is not a dictionary.");

            int ignored = 0;
            var dropped = new List<IPEndPoint>();
            var droppedSet = new HashSet<IPEndPoint>();
            ReadEndPoints(dict["dropped"] as BString, 4, dropped, droppedSet, self, ref ignored);
            ReadEndPoints(dict["dropped6"] as BString, 16, dropped, droppedSet, self, ref ignored);

            var added = new List<PexPeer>();
            var addedSet = new HashSet<IPEndPoint>();
            var conflicts = new HashSet<IPEndPoint>();
            foreach (var (key, flagsKey, size) in new[] { ("added", "added.f", 4), ("added6", "added6.f", 16) })
            {
                if (dict[key] is not BString list) continue;
                var flags = dict[flagsKey] as BString;
                int entry = size + 2;
                int count = list.Length / entry;
                ignored += list.Length % entry == 0 ? 0 : 1;
                for (int i = 0; i < count; i++)
                {
                    var endPoint = ReadEndPoint(list.Span.Slice(i * entry, entry), size);
                    if (droppedSet.Contains(endPoint)) conflicts.Add(endPoint);
                    if (added.Count >= MaxPeersPerMessage || !IsUsable(endPoint, self) || droppedSet.Contains(endPoint) || !addedSet.Add(endPoint))
                    {
                        ignored++;
                        continue;
                    }
                    // Only the five BEP 11 bits: libtorrent once leaked an internal 0x80 into its messages.
                    var f = flags is not null && i < flags.Length ? (PexFlags)(flags.Span[i] & 0x1F) : PexFlags.None;
                    added.Add(new PexPeer(endPoint, f));
                }
            }
            // An address both added and dropped in one message is neither (BEP 11 forbids it).
            int before = dropped.Count;
            dropped.RemoveAll(conflicts.Contains);
            ignored += before - dropped.Count;
            return new PexMessage(added, dropped) { IgnoredCount = ignored };
        }

        /// <summary>The payload: all six keys, as libtorrent sends them (empty strings for empty lists).</summary>
        public byte[] Encode()
        {
            var dict = new BDictionary();
            var v4 = new List<PexPeer>();
            var v6 = new List<PexPeer>();
            foreach (var peer in Added) (Normalize(peer.EndPoint).AddressFamily == AddressFamily.InterNetwork ? v4 : v6).Add(peer);
            dict.Set("added", new BString(Compact(v4.ConvertAll(p => p.EndPoint), 4)));
            dict.Set("added.f", new BString(v4.ConvertAll(p => (byte)p.Flags).ToArray()));
            dict.Set("added6", new BString(Compact(v6.ConvertAll(p => p.EndPoint), 16)));
            dict.Set("added6.f", new BString(v6.ConvertAll(p => (byte)p.Flags).ToArray()));
            var d4 = new List<IPEndPoint>();
            var d6 = new List<IPEndPoint>();
            foreach (var endPoint in Dropped) (Normalize(endPoint).AddressFamily == AddressFamily.InterNetwork ? d4 : d6).Add(endPoint);
            dict.Set("dropped", new BString(Compact(d4, 4)));
            dict.Set("dropped6", new BString(Compact(d6, 16)));
            return BencodeEncoder.Encode(dict);
        }

        /// <summary>An address a peer could listen on and we could connect to.</summary>
        public static bool IsUsable(IPEndPoint endPoint, ICollection<IPEndPoint>? self = null)
        {
            if (endPoint.Port == 0) return false;
            var address = endPoint.Address;
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                var b = address.GetAddressBytes();
                if (b[0] == 0) return false;                          // 0.0.0.0/8: "this network"
                if (b[0] >= 224) return false;                        // multicast, reserved and 255.255.255.255
            }
            else
            {
                if (address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast) return false;
            }
            return self is null || !self.Contains(endPoint);
        }

        private static void ReadEndPoints(BString? list, int size, List<IPEndPoint> into, HashSet<IPEndPoint> seen,
            ICollection<IPEndPoint>? self, ref int ignored)
        {
            if (list is null) return;
            int entry = size + 2;
            ignored += list.Length % entry == 0 ? 0 : 1;
            for (int i = 0; i < list.Length / entry; i++)
            {
                var endPoint = ReadEndPoint(list.Span.Slice(i * entry, entry), size);
                if (into.Count >= MaxPeersPerMessage || !IsUsable(endPoint, self) || !seen.Add(endPoint)) ignored++;
                else into.Add(endPoint);
            }
        }

        private static IPEndPoint ReadEndPoint(ReadOnlySpan<byte> entry, int size)
        {
            var address = new IPAddress(entry.Slice(0, size).ToArray());
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            return new IPEndPoint(address, (entry[size] << 8) | entry[size + 1]);
        }

        private static IPEndPoint Normalize(IPEndPoint endPoint) =>
            endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

        private static byte[] Compact(List<IPEndPoint> endPoints, int size)
        {
            var bytes = new byte[endPoints.Count * (size + 2)];
            for (int i = 0; i < endPoints.Count; i++)
            {
                var endPoint = Normalize(endPoints[i]);
                endPoint.Address.GetAddressBytes().CopyTo(bytes, i * (size + 2));
                bytes[i * (size + 2) + size] = (byte)(endPoint.Port >> 8);
                bytes[i * (size + 2) + size + 1] = (byte)endPoint.Port;
            }
            return bytes;
        }

        public override string ToString() => $"ut_pex +{Added.Count} -{Dropped.Count}";
    }
}
