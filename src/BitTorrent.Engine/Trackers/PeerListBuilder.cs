using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Trackers
{
    /// <summary>Collects the peers of one tracker reply: compact IPv4 (BEP 23, 6 bytes each), compact IPv6 (BEP 7,
    /// 18 bytes each) and dictionary-model entries. Keeps at most <c>maxPeers</c> distinct usable peers, in the
    /// order given; everything else is counted in <see cref="Discarded"/>, so a hostile list costs bounded memory.</summary>
    public sealed class PeerListBuilder
    {
        public const int CompactIPv4Size = 6;
        public const int CompactIPv6Size = 18;

        private readonly int _maxPeers;
        private readonly List<TrackerPeer> _peers = new List<TrackerPeer>();
        private readonly HashSet<IPEndPoint> _seen = new HashSet<IPEndPoint>();

        public PeerListBuilder(int maxPeers)
        {
            if (maxPeers < 0) throw new ArgumentOutOfRangeException(nameof(maxPeers));
            _maxPeers = maxPeers;
        }

        public int Count => _peers.Count;
        public bool IsFull => _peers.Count >= _maxPeers;

        /// <summary>Entries not kept: duplicates, unusable addresses, a truncated trailing entry, past the cap.</summary>
        public int Discarded { get; private set; }

        /// <summary>Adds a compact list. A trailing partial entry is discarded, not an error: the whole entries
        /// before it are still good (libtorrent does the same).</summary>
        public void AddCompact(ReadOnlySpan<byte> data, bool ipv6)
        {
            int size = ipv6 ? CompactIPv6Size : CompactIPv4Size;
            int whole = data.Length / size;
            if (data.Length % size != 0) Discarded++;
            int addressLength = size - 2;
            for (int i = 0; i < whole; i++)
            {
                if (IsFull) { Discarded += whole - i; return; }
                var entry = data.Slice(i * size, size);
                var address = new IPAddress(entry.Slice(0, addressLength).ToArray());
                int port = (entry[addressLength] << 8) | entry[addressLength + 1];
                Add(address, port, null);
            }
        }

        /// <summary>Adds one peer; returns whether it was kept.</summary>
        public bool Add(IPAddress address, int port, byte[]? peerId)
        {
            if (address is null || IsFull || !PeerEndPoint.IsUsable(address, port)) { Discarded++; return false; }
            var endPoint = new IPEndPoint(PeerEndPoint.Normalize(address), port);
            if (!_seen.Add(endPoint)) { Discarded++; return false; }
            _peers.Add(new TrackerPeer(endPoint, peerId is { Length: 20 } ? peerId : null));
            return true;
        }

        /// <summary>Counts an entry that could not be read at all (e.g. a dictionary peer with a host name).</summary>
        public void Discard() => Discarded++;

        public IReadOnlyList<TrackerPeer> ToList() => _peers.ToArray();
    }
}
