using System;
using System.Collections.Generic;
using System.Net;

namespace BitTorrent.Dht
{
    /// <summary>The peers others announced to us (announce_peer), per info-hash, served back in get_peers replies.
    /// Bounded: at most <see cref="MaxPeersPerInfoHash"/> peers per info-hash (the oldest announce evicted) and
    /// <see cref="MaxInfoHashes"/> info-hashes (the one announced to least recently evicted), so at most
    /// 100 × 2000 = 200,000 entries with the defaults. Every announce expires <see cref="PeerLifetime"/> after it
    /// was made (a peer re-announces to stay). Not thread-safe: the DHT node's single loop owns it.</summary>
    public sealed class PeerStore
    {
        public static readonly TimeSpan PeerLifetime = TimeSpan.FromMinutes(30);

        /// <summary>A get_peers reply lists at most this many (6 bytes each over IPv4, 18 over IPv6, which keeps
        /// the reply well under a 1,400-byte UDP payload).</summary>
        public const int DefaultReplyPeers = 50;

        private readonly TimeProvider _time;
        private readonly Random _random;
        private readonly Dictionary<NodeId, Swarm> _swarms = new Dictionary<NodeId, Swarm>();

        public int MaxPeersPerInfoHash { get; }
        public int MaxInfoHashes { get; }

        public PeerStore(TimeProvider time, int maxPeersPerInfoHash = 100, int maxInfoHashes = 2000, Random? random = null)
        {
            if (maxPeersPerInfoHash < 1) throw new ArgumentOutOfRangeException(nameof(maxPeersPerInfoHash));
            if (maxInfoHashes < 1) throw new ArgumentOutOfRangeException(nameof(maxInfoHashes));
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _random = random ?? new Random();
            MaxPeersPerInfoHash = maxPeersPerInfoHash;
            MaxInfoHashes = maxInfoHashes;
        }

        /// <summary>How many info-hashes have at least one stored peer (expired ones may count until swept).</summary>
        public int InfoHashCount => _swarms.Count;

        /// <summary>Records (or refreshes) <paramref name="peer"/> for <paramref name="infoHash"/>; false (nothing
        /// stored) for port 0 or an address no peer can have. The caller has already checked the token.</summary>
        public bool Announce(NodeId infoHash, IPEndPoint peer, bool seed = false)
        {
            if (peer == null) throw new ArgumentNullException(nameof(peer));
            if (peer.Address.IsIPv4MappedToIPv6) peer = new IPEndPoint(peer.Address.MapToIPv4(), peer.Port);
            if (peer.Port == 0 || !DhtAddressRules.IsUsable(peer.Address)) return false;
            var now = _time.GetUtcNow();
            if (!_swarms.TryGetValue(infoHash, out var swarm))
            {
                // No sweep here: a stream of new info-hashes must not make every announce walk the whole store.
                // The stalest swarm is evicted, and a swarm whose peers all expired is the stalest of all.
                if (_swarms.Count >= MaxInfoHashes) EvictStalestSwarm();
                swarm = new Swarm();
                _swarms.Add(infoHash, swarm);
            }
            swarm.LastAnnounce = now;
            if (!swarm.Peers.ContainsKey(peer) && swarm.Peers.Count >= MaxPeersPerInfoHash)
            {
                swarm.RemoveExpired(now);
                if (swarm.Peers.Count >= MaxPeersPerInfoHash) swarm.RemoveOldest();
            }
            swarm.Peers[peer] = new StoredPeer(peer, now, seed);
            return true;
        }

        /// <summary>At most <paramref name="max"/> live peers for <paramref name="infoHash"/>: all of them when there
        /// are that few, else a uniform random sample (so every stored peer gets handed out over time).</summary>
        public IReadOnlyList<StoredPeer> GetPeers(NodeId infoHash, int max = DefaultReplyPeers)
        {
            if (max < 0) throw new ArgumentOutOfRangeException(nameof(max));
            if (!_swarms.TryGetValue(infoHash, out var swarm)) return Array.Empty<StoredPeer>();
            swarm.RemoveExpired(_time.GetUtcNow());
            if (swarm.Peers.Count == 0) { _swarms.Remove(infoHash); return Array.Empty<StoredPeer>(); }
            var all = new List<StoredPeer>(swarm.Peers.Values);
            if (all.Count <= max) return all;
            // Partial Fisher-Yates: the first max slots become the sample.
            for (int i = 0; i < max; i++)
            {
                int j = _random.Next(i, all.Count);
                var swap = all[i]; all[i] = all[j]; all[j] = swap;
            }
            return all.GetRange(0, max);
        }

        /// <summary>Drops every expired announce and every info-hash left empty (the node calls it now and then).</summary>
        public void Sweep()
        {
            var now = _time.GetUtcNow();
            var empty = new List<NodeId>();
            foreach (var pair in _swarms)
            {
                pair.Value.RemoveExpired(now);
                if (pair.Value.Peers.Count == 0) empty.Add(pair.Key);
            }
            foreach (var key in empty) _swarms.Remove(key);
        }

        private void EvictStalestSwarm()
        {
            NodeId? stalest = null;
            var oldest = DateTimeOffset.MaxValue;
            foreach (var pair in _swarms)
                if (pair.Value.LastAnnounce < oldest) { oldest = pair.Value.LastAnnounce; stalest = pair.Key; }
            if (stalest.HasValue) _swarms.Remove(stalest.Value);
        }

        private sealed class Swarm
        {
            public readonly Dictionary<IPEndPoint, StoredPeer> Peers = new Dictionary<IPEndPoint, StoredPeer>();
            public DateTimeOffset LastAnnounce;

            public void RemoveExpired(DateTimeOffset now)
            {
                List<IPEndPoint>? expired = null;
                foreach (var peer in Peers.Values)
                    if (now - peer.AnnouncedAt > PeerLifetime) (expired ??= new List<IPEndPoint>()).Add(peer.EndPoint);
                if (expired != null) foreach (var key in expired) Peers.Remove(key);
            }

            public void RemoveOldest()
            {
                StoredPeer? oldest = null;
                foreach (var peer in Peers.Values)
                    if (oldest == null || peer.AnnouncedAt < oldest.AnnouncedAt) oldest = peer;
                if (oldest != null) Peers.Remove(oldest.EndPoint);
            }
        }
    }

    /// <summary>One announce: who, when (for expiry) and whether it said it was a seed (BEP 33's flag, optional).</summary>
    public sealed class StoredPeer
    {
        public StoredPeer(IPEndPoint endPoint, DateTimeOffset announcedAt, bool seed)
        {
            EndPoint = endPoint;
            AnnouncedAt = announcedAt;
            Seed = seed;
        }

        public IPEndPoint EndPoint { get; }
        public DateTimeOffset AnnouncedAt { get; }
        public bool Seed { get; }
    }
}
