using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;

namespace BitTorrent.Dht
{
    /// <summary>What happened to a node offered to the table.</summary>
    public enum RoutingTableResult
    {
        /// <summary>Now in a bucket.</summary>
        Added,
        /// <summary>Was already in a bucket; its times were updated.</summary>
        Updated,
        /// <summary>Its bucket is full of good or questionable nodes: kept in the bucket's replacement cache.</summary>
        Replacement,
        /// <summary>Our own id, port 0, an unusable or filtered address, the other address family, an address another
        /// id already holds, or a known id at a new address.</summary>
        Rejected,
    }

    /// <summary>A bucket nothing touched for 15 minutes, and an id in its range to look up to refresh it.</summary>
    public readonly struct RefreshTarget
    {
        public RefreshTarget(int bucketIndex, NodeId target) { BucketIndex = bucketIndex; Target = target; }
        public int BucketIndex { get; }
        public NodeId Target { get; }
    }

    public sealed class RoutingTableOptions
    {
        /// <summary>Keep several ids per IP address (loopback test networks); off by default against Sybil floods.</summary>
        public bool AllowSameAddress { get; set; }

        /// <summary>An extra test every address must pass (null: none beyond <see cref="DhtAddressRules.IsUsable"/>).</summary>
        public Func<IPAddress, bool>? AddressFilter { get; set; }

        /// <summary>Replacement cache size per bucket.</summary>
        public int ReplacementCacheSize { get; set; } = 8;

        /// <summary>Source of refresh targets (tests pass a seeded one).</summary>
        public Random? Random { get; set; }
    }

    /// <summary>BEP 5's routing table for one address family (BEP 32: an IPv4 and an IPv6 table are two instances).
    /// Bucket i holds the nodes whose id shares exactly i leading bits with ours; the last bucket holds all nodes
    /// sharing at least that many, and only it splits, so the table is finest near our id. Bounded: at most 160
    /// buckets × <see cref="K"/> = 1,280 nodes plus 160 × <see cref="RoutingTableOptions.ReplacementCacheSize"/>
    /// (1,280 by default) replacements. It does no I/O: the caller pings <see cref="NodesToPing"/>, looks up
    /// <see cref="BucketsNeedingRefresh"/> and reports back through <see cref="Responded"/> and <see cref="Failed"/>.
    /// Not thread-safe: the DHT node's single loop owns it.</summary>
    public sealed class RoutingTable
    {
        public const int K = 8;
        public const int MaxBuckets = NodeId.Length * 8;
        public static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(15);

        private readonly TimeProvider _time;
        private readonly RoutingTableOptions _options;
        private readonly Random _random;
        private readonly List<Bucket> _buckets = new List<Bucket>();
        private readonly Dictionary<IPAddress, NodeId> _byAddress = new Dictionary<IPAddress, NodeId>();

        public RoutingTable(NodeId ownId, AddressFamily family, TimeProvider time, RoutingTableOptions? options = null)
        {
            if (family != AddressFamily.InterNetwork && family != AddressFamily.InterNetworkV6)
                throw new ArgumentOutOfRangeException(nameof(family));
            OwnId = ownId;
            Family = family;
            _time = time ?? throw new ArgumentNullException(nameof(time));
            _options = options ?? new RoutingTableOptions();
            if (_options.ReplacementCacheSize < 0) throw new ArgumentOutOfRangeException(nameof(options));
            _random = _options.Random ?? new Random();
            _buckets.Add(new Bucket(_time.GetUtcNow()));
        }

        public NodeId OwnId { get; }
        public AddressFamily Family { get; }
        public int BucketCount => _buckets.Count;

        /// <summary>Nodes in buckets (replacements not counted).</summary>
        public int Count { get { int n = 0; foreach (var b in _buckets) n += b.Nodes.Count; return n; } }

        public IReadOnlyList<DhtNode> BucketNodes(int index) => _buckets[index].Nodes;
        public IReadOnlyList<DhtNode> BucketReplacements(int index) => _buckets[index].Replacements;

        /// <summary>The index of the bucket <paramref name="id"/> belongs in.</summary>
        public int BucketIndexOf(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

        /// <summary>A node we learned of (a nodes list, a peer's PORT message) but have not heard from.</summary>
        public RoutingTableResult Add(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.None);

        /// <summary>The node answered one of our queries: good from now.</summary>
        public RoutingTableResult Responded(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.Response);

        /// <summary>The node sent us a query: good if it has answered us before, else as <see cref="Add"/>.</summary>
        public RoutingTableResult QueriedUs(NodeId id, IPEndPoint endPoint) => Offer(id, endPoint, Contact.Query);

        /// <summary>A query to the node timed out. After <see cref="DhtNode.MaxFailedQueries"/> in a row it is bad and
        /// the best replacement takes its place at once; a replacement that fails is forgotten.</summary>
        public void Failed(NodeId id)
        {
            if (_buckets.Count == 0) return;
            var bucket = _buckets[BucketIndexOf(id)];
            int at = IndexOf(bucket.Nodes, id);
            if (at >= 0)
            {
                var node = bucket.Nodes[at];
                node.FailedQueries++;
                if (node.StateAt(_time.GetUtcNow()) == DhtNodeState.Bad && bucket.Replacements.Count > 0)
                {
                    Forget(node);
                    bucket.Nodes.RemoveAt(at);
                    bucket.Nodes.Add(TakeBestReplacement(bucket));
                    bucket.LastChanged = _time.GetUtcNow();
                }
                return;
            }
            at = IndexOf(bucket.Replacements, id);
            if (at >= 0)
            {
                Forget(bucket.Replacements[at]);
                bucket.Replacements.RemoveAt(at);
            }
        }

        /// <summary>Questionable nodes in full buckets that have a replacement waiting, least recently seen first:
        /// BEP 5 pings them before a newcomer may take their place (an answer keeps them, failures replace them).</summary>
        public IReadOnlyList<DhtNode> NodesToPing()
        {
            var now = _time.GetUtcNow();
            var result = new List<DhtNode>();
            foreach (var bucket in _buckets)
            {
                if (bucket.Replacements.Count == 0 || bucket.Nodes.Count < K) continue;
                var questionable = bucket.Nodes.FindAll(n => n.StateAt(now) == DhtNodeState.Questionable);
                questionable.Sort((a, b) => Nullable.Compare(a.LastSeen, b.LastSeen));
                result.AddRange(questionable);
            }
            return result;
        }

        /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> by XOR distance, closest
        /// first. Bad nodes never; questionable ones only when <paramref name="includeQuestionable"/> (a lookup may
        /// start from them; a find_node or get_peers reply to others should hand out only good nodes).</summary>
        public IReadOnlyList<DhtNode> Closest(NodeId target, int count, bool includeQuestionable = false)
        {
            if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
            var now = _time.GetUtcNow();
            var candidates = new List<DhtNode>();
            foreach (var bucket in _buckets)
                foreach (var node in bucket.Nodes)
                {
                    var state = node.StateAt(now);
                    if (state == DhtNodeState.Good || (includeQuestionable && state == DhtNodeState.Questionable))
                        candidates.Add(node);
                }
            candidates.Sort((a, b) => target.CompareDistance(a.Id, b.Id));
            if (candidates.Count > count) candidates.RemoveRange(count, candidates.Count - count);
            return candidates;
        }

        /// <summary>Buckets unchanged for <see cref="RefreshInterval"/>, each with a random id in its range.</summary>
        public IReadOnlyList<RefreshTarget> BucketsNeedingRefresh()
        {
            var now = _time.GetUtcNow();
            var result = new List<RefreshTarget>();
            for (int i = 0; i < _buckets.Count; i++)
                if (now - _buckets[i].LastChanged >= RefreshInterval) result.Add(new RefreshTarget(i, RandomIdInBucket(i)));
            return result;
        }

        /// <summary>The caller started a refresh lookup for the bucket: not reported again for another interval.</summary>
        public void MarkRefreshed(int bucketIndex) => _buckets[bucketIndex].LastChanged = _time.GetUtcNow();

        /// <summary>An id sharing exactly <paramref name="bucketIndex"/> leading bits with ours (at least that many
        /// for the last bucket), random after that.</summary>
        public NodeId RandomIdInBucket(int bucketIndex)
        {
            if (bucketIndex < 0 || bucketIndex >= _buckets.Count) throw new ArgumentOutOfRangeException(nameof(bucketIndex));
            var bytes = new byte[NodeId.Length];
            _random.NextBytes(bytes);
            var own = OwnId.Bytes;
            for (int bit = 0; bit < bucketIndex; bit++) SetBit(bytes, bit, GetBit(own, bit));
            if (bucketIndex < _buckets.Count - 1) SetBit(bytes, bucketIndex, !GetBit(own, bucketIndex));
            return new NodeId(bytes);
        }

        private RoutingTableResult Offer(NodeId id, IPEndPoint endPoint, Contact contact)
        {
            if (endPoint == null) throw new ArgumentNullException(nameof(endPoint));
            if (endPoint.Address.IsIPv4MappedToIPv6) endPoint = new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port);
            if (id == OwnId || endPoint.Port == 0 || endPoint.AddressFamily != Family
                || !DhtAddressRules.IsUsable(endPoint.Address)
                || (_options.AddressFilter != null && !_options.AddressFilter(endPoint.Address)))
                return RoutingTableResult.Rejected;
            var now = _time.GetUtcNow();
            var bucket = _buckets[BucketIndexOf(id)];

            var known = Find(bucket.Nodes, id);
            if (known != null)
            {
                // An id claiming a new address is more likely a spoof than a move; the old entry goes bad if it moved.
                if (!known.EndPoint.Equals(endPoint)) return RoutingTableResult.Rejected;
                Touch(known, contact, now);
                if (contact == Contact.Response) bucket.LastChanged = now;
                return RoutingTableResult.Updated;
            }
            var waiting = Find(bucket.Replacements, id);
            if (waiting != null)
            {
                if (!waiting.EndPoint.Equals(endPoint)) return RoutingTableResult.Rejected;
                Touch(waiting, contact, now);
                return RoutingTableResult.Replacement;
            }
            if (!_options.AllowSameAddress && _byAddress.ContainsKey(endPoint.Address)) return RoutingTableResult.Rejected;

            var node = new DhtNode(id, endPoint, now);
            Touch(node, contact, now);
            while (true)
            {
                int index = BucketIndexOf(id);
                bucket = _buckets[index];
                if (bucket.Nodes.Count < K)
                {
                    Insert(bucket, node, now);
                    return RoutingTableResult.Added;
                }
                int bad = bucket.Nodes.FindIndex(n => n.StateAt(now) == DhtNodeState.Bad);
                if (bad >= 0)
                {
                    Forget(bucket.Nodes[bad]);
                    bucket.Nodes.RemoveAt(bad);
                    Insert(bucket, node, now);
                    return RoutingTableResult.Added;
                }
                if (index == _buckets.Count - 1 && _buckets.Count < MaxBuckets)
                {
                    Split();
                    continue;
                }
                if (_options.ReplacementCacheSize == 0) return RoutingTableResult.Rejected;
                if (bucket.Replacements.Count >= _options.ReplacementCacheSize)
                {
                    // Make room by dropping the oldest entry that never answered us, else the oldest entry.
                    int drop = bucket.Replacements.FindIndex(n => !n.LastResponse.HasValue);
                    if (drop < 0) drop = 0;
                    Forget(bucket.Replacements[drop]);
                    bucket.Replacements.RemoveAt(drop);
                }
                bucket.Replacements.Add(node);
                Remember(node);
                return RoutingTableResult.Replacement;
            }
        }

        private static void Touch(DhtNode node, Contact contact, DateTimeOffset now)
        {
            if (contact == Contact.Response) { node.LastResponse = now; node.FailedQueries = 0; }
            else if (contact == Contact.Query) node.LastQueryFromNode = now;
        }

        private void Insert(Bucket bucket, DhtNode node, DateTimeOffset now)
        {
            bucket.Nodes.Add(node);
            bucket.LastChanged = now;
            Remember(node);
        }

        // The bucket holding our own id becomes two: those sharing exactly its depth in bits with us stay, the rest
        // (sharing more) move to the new last bucket; its replacements are divided the same way.
        private void Split()
        {
            int depth = _buckets.Count - 1;
            var old = _buckets[depth];
            var next = new Bucket(old.LastChanged);
            _buckets.Add(next);
            MoveDeeper(old.Nodes, next.Nodes, depth);
            MoveDeeper(old.Replacements, next.Replacements, depth);
            // A bucket emptied by the split has room: promote replacements that now fit there.
            foreach (var bucket in new[] { old, next })
                while (bucket.Nodes.Count < K && bucket.Replacements.Count > 0) bucket.Nodes.Add(TakeBestReplacement(bucket));
        }

        private void MoveDeeper(List<DhtNode> from, List<DhtNode> to, int depth)
        {
            for (int i = from.Count - 1; i >= 0; i--)
                if (OwnId.CommonPrefixLength(from[i].Id) > depth) { to.Insert(0, from[i]); from.RemoveAt(i); }
        }

        // The most recently answering replacement (it is the likeliest alive), else the newest.
        private static DhtNode TakeBestReplacement(Bucket bucket)
        {
            int best = bucket.Replacements.Count - 1;
            for (int i = 0; i < bucket.Replacements.Count; i++)
            {
                var r = bucket.Replacements[i].LastResponse;
                var b = bucket.Replacements[best].LastResponse;
                if (r.HasValue && (!b.HasValue || r.Value > b.Value)) best = i;
            }
            var node = bucket.Replacements[best];
            bucket.Replacements.RemoveAt(best);
            return node;
        }

        private void Remember(DhtNode node)
        {
            if (!_options.AllowSameAddress) _byAddress[node.EndPoint.Address] = node.Id;
        }

        private void Forget(DhtNode node)
        {
            if (!_options.AllowSameAddress) _byAddress.Remove(node.EndPoint.Address);
        }

        private static DhtNode? Find(List<DhtNode> nodes, NodeId id)
        {
            int at = IndexOf(nodes, id);
            return at >= 0 ? nodes[at] : null;
        }

        private static int IndexOf(List<DhtNode> nodes, NodeId id)
        {
            for (int i = 0; i < nodes.Count; i++) if (nodes[i].Id == id) return i;
            return -1;
        }

        private static bool GetBit(ReadOnlySpan<byte> bytes, int bit) => (bytes[bit >> 3] & (0x80 >> (bit & 7))) != 0;

        private static void SetBit(byte[] bytes, int bit, bool value)
        {
            if (value) bytes[bit >> 3] |= (byte)(0x80 >> (bit & 7));
            else bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        private enum Contact { None, Query, Response }

        private sealed class Bucket
        {
            public Bucket(DateTimeOffset lastChanged) { LastChanged = lastChanged; }
            public readonly List<DhtNode> Nodes = new List<DhtNode>(K);
            public readonly List<DhtNode> Replacements = new List<DhtNode>();
            public DateTimeOffset LastChanged;
        }
    }
}
